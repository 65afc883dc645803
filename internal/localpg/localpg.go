// Package localpg starts and stops a private PostgreSQL cluster with the
// server binaries installed on the machine, so `make run` and the tests work on
// a laptop or a CI box without a database server to set up first.
//
// The cluster listens on 127.0.0.1 only, trusts local connections for the
// user postgres, and keeps its data directory across restarts. When the
// process runs as root, initdb and pg_ctl run as the postgres system user,
// because PostgreSQL refuses to run as root.
package localpg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultDatabase is the database Start creates when Options.Database is
// empty, named after the application so a developer recognizes it in psql.
const DefaultDatabase = "scratchpad"

const (
	// startTimeout bounds how long pg_ctl waits for the server; a cold start
	// takes about 1.5 s, crash recovery after a kill can take longer.
	startTimeout = 60 * time.Second
	// maxSocketPath is the longest unix socket path the kernel accepts
	// (sun_path holds 108 bytes including the terminating NUL).
	maxSocketPath = 107
	// adminDatabase always exists and is where we connect to create others.
	adminDatabase = "postgres"
)

// Options configures Start. Only Dir is required; the zero values of the rest
// suit tests.
type Options struct {
	// Dir is the data directory. A directory that already holds a cluster is
	// reused, so data survives restarts; a missing or empty one is
	// initialized.
	Dir string
	// Port is the TCP port on 127.0.0.1; zero picks a free one, which lets
	// several clusters (tests, a dev server) run side by side.
	Port int
	// Database is created when missing so the application can connect right
	// away; empty means DefaultDatabase.
	Database string
	// Fsync keeps PostgreSQL's durability guarantees. False turns fsync and
	// synchronous commit off, which makes tests faster and is only safe for
	// data that may be lost in a crash.
	Fsync bool
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running private PostgreSQL server. It remembers whether this
// process started the server, so Stop never shuts down a server that someone
// else started on the same data directory.
type Cluster struct {
	run      runner
	dir      string
	port     int
	database string
	logger   *slog.Logger

	// started is true when this process started the server and so owns it.
	started bool
	// socketDir is where the server puts its unix socket; removeSocketDir is
	// true when it is a temporary directory we made because the data
	// directory's path is too long for a socket path.
	socketDir       string
	removeSocketDir bool

	stopOnce sync.Once
	stopErr  error
}

// Start initializes opts.Dir when it holds no cluster yet, starts a server on
// it (or reuses one already running there) and creates opts.Database when
// missing. It returns ErrBinariesNotFound, wrapped, when PostgreSQL is not
// installed.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("localpg: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	binDir, err := findBinDir()
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	r, err := newRunner(binDir)
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	c := &Cluster{
		run:      r,
		dir:      dir,
		database: cmp.Or(opts.Database, DefaultDatabase),
		logger:   opts.Logger,
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if err := r.prepareDir(dir); err != nil {
		return nil, fmt.Errorf("localpg: prepare data directory %s: %w", dir, err)
	}
	if err := c.initialize(ctx); err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	reused, err := c.reuseRunning(ctx, opts.Port)
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	if !reused {
		if err := c.start(ctx, opts); err != nil {
			return nil, fmt.Errorf("localpg: %w", err)
		}
	}
	if err := c.ensureDatabase(ctx); err != nil {
		_ = c.Stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("localpg: %w", err)
	}
	return c, nil
}

// URL returns the connection URL of the cluster's database, over TCP on
// 127.0.0.1 as user postgres, which the cluster trusts without a password.
func (c *Cluster) URL() string {
	return c.urlFor(c.database)
}

// Stop shuts the server down in fast mode (disconnecting clients and rolling
// back their transactions) when this process started it, and leaves a server
// it merely reused running for its owner. Calling Stop again returns the first
// call's result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	if !c.started {
		c.logger.Info("leaving PostgreSQL running: this process did not start it", "dir", c.dir)
		return nil
	}
	err := c.run.run(ctx, c.dir, "pg_ctl", "stop", "-D", c.dir, "-m", "fast", "-w",
		"-t", strconv.Itoa(int(startTimeout.Seconds())))
	if err != nil && !c.running() {
		// Someone stopped it before us; what we wanted has happened.
		err = nil
	}
	if c.removeSocketDir {
		_ = os.RemoveAll(c.socketDir)
	}
	if err != nil {
		return fmt.Errorf("localpg: stop: %w", err)
	}
	c.logger.Info("stopped PostgreSQL", "dir", c.dir)
	return nil
}

// initialize runs initdb when the data directory holds no cluster yet.
func (c *Cluster) initialize(ctx context.Context) error {
	done, err := isInitialized(c.dir)
	if err != nil || done {
		return err
	}
	began := time.Now()
	err = c.run.run(ctx, c.dir, "initdb",
		"-D", c.dir,
		"-U", "postgres",
		"--auth=trust",
		"--encoding=UTF8",
		"--locale="+defaultLocale(),
	)
	if err != nil {
		return err
	}
	c.logger.Info("initialized PostgreSQL cluster", "dir", c.dir, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// defaultLocale picks a UTF-8 locale every machine of that kind has, so
// initdb does not depend on the developer's LANG.
func defaultLocale() string {
	if runtime.GOOS == "darwin" {
		return "en_US.UTF-8"
	}
	return "C.UTF-8"
}

// reuseRunning adopts a server that already runs on the data directory, for
// instance one left behind by a process that was killed, and removes a
// postmaster.pid that no live server stands behind so a fresh start succeeds.
func (c *Cluster) reuseRunning(ctx context.Context, wantPort int) (bool, error) {
	pid, ok, err := readPostmasterPID(c.dir)
	if err != nil || !ok {
		return false, err
	}
	if !serverAlive(pid, c.dir) {
		c.logger.Info("removing stale postmaster.pid", "dir", c.dir, "pid", pid.pid)
		if err := os.Remove(filepath.Join(c.dir, "postmaster.pid")); err != nil {
			return false, fmt.Errorf("remove stale postmaster.pid: %w", err)
		}
		return false, nil
	}
	port, err := c.waitReady(ctx)
	if err != nil || port == 0 {
		return false, err
	}
	if wantPort != 0 && wantPort != port {
		c.logger.Warn("reusing running PostgreSQL on another port than asked", "port", port, "asked", wantPort)
	}
	c.port = port
	c.logger.Info("reusing running PostgreSQL", "dir", c.dir, "pid", pid.pid, "port", port)
	return true, nil
}

// waitReady waits until the server running on the data directory accepts
// connections and returns its port, or zero when the server went away.
func (c *Cluster) waitReady(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		pid, ok, err := readPostmasterPID(c.dir)
		if err != nil {
			return 0, err
		}
		if !ok || !serverAlive(pid, c.dir) {
			return 0, nil
		}
		if pid.port != 0 && ping(ctx, c.urlAt(pid.port, adminDatabase)) == nil {
			return pid.port, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("PostgreSQL (pid %d) runs on %s but does not accept connections on 127.0.0.1:%d: %w",
				pid.pid, c.dir, pid.port, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func ping(ctx context.Context, connURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// running reports whether a live server runs on the data directory.
func (c *Cluster) running() bool {
	pid, ok, err := readPostmasterPID(c.dir)
	return err == nil && ok && serverAlive(pid, c.dir)
}

// start starts a server with pg_ctl, which waits until it accepts
// connections. With an automatic port it retries with another port, since a
// free port can be taken by someone else between our check and the start.
func (c *Cluster) start(ctx context.Context, opts Options) error {
	if err := c.chooseSocketDir(); err != nil {
		return err
	}
	attempts := 1
	if opts.Port == 0 {
		attempts = 3
	}
	var err error
	for range attempts {
		c.port = opts.Port
		if c.port == 0 {
			if c.port, err = freePort(); err != nil {
				return err
			}
		}
		began := time.Now()
		if err = c.pgCtlStart(ctx, opts.Fsync); err == nil {
			c.started = true
			c.logger.Info("started PostgreSQL", "dir", c.dir, "port", c.port, "took", time.Since(began).Round(time.Millisecond))
			return nil
		}
		// Two processes may have raced to start the same cluster: use the
		// winner's server.
		if reused, rerr := c.reuseRunning(ctx, opts.Port); rerr == nil && reused {
			c.cleanSocketDir()
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	c.cleanSocketDir()
	return err
}

func (c *Cluster) pgCtlStart(ctx context.Context, fsync bool) error {
	logFile := filepath.Join(c.dir, "server.log")
	settings := []string{
		"listen_addresses=127.0.0.1",
		"port=" + strconv.Itoa(c.port),
		"unix_socket_directories=" + c.socketDir,
	}
	if !fsync {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	}
	// pg_ctl hands -o to a shell, so every value is quoted for it.
	var o strings.Builder
	for _, s := range settings {
		fmt.Fprintf(&o, " -c %s", shellQuote(s))
	}
	err := c.run.run(ctx, c.dir, "pg_ctl", "start",
		"-D", c.dir,
		"-w", "-t", strconv.Itoa(int(startTimeout.Seconds())),
		"-l", logFile,
		"-o", strings.TrimSpace(o.String()),
	)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, tail(logFile, 20))
	}
	return nil
}

// chooseSocketDir puts the unix socket in the data directory when its path is
// short enough for a socket, and in a fresh temporary directory otherwise.
func (c *Cluster) chooseSocketDir() error {
	if len(filepath.Join(c.dir, ".s.PGSQL.65535")) <= maxSocketPath {
		c.socketDir = c.dir
		return nil
	}
	base := os.TempDir()
	if len(base) > maxSocketPath-40 {
		base = "/tmp"
	}
	d, err := os.MkdirTemp(base, "localpg-")
	if err != nil {
		return fmt.Errorf("socket directory: %w", err)
	}
	if err := c.run.prepareDir(d); err != nil {
		_ = os.RemoveAll(d)
		return fmt.Errorf("socket directory: %w", err)
	}
	c.socketDir, c.removeSocketDir = d, true
	return nil
}

func (c *Cluster) cleanSocketDir() {
	if c.removeSocketDir {
		_ = os.RemoveAll(c.socketDir)
		c.socketDir, c.removeSocketDir = "", false
	}
}

// ensureDatabase creates the cluster's database when it does not exist yet.
func (c *Cluster) ensureDatabase(ctx context.Context) error {
	if c.database == adminDatabase {
		return nil
	}
	conn, err := pgx.Connect(ctx, c.urlFor(adminDatabase))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.database).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up database %q: %w", c.database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
		// duplicate_database: another process created it in the meantime.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", c.database, err)
	}
	c.logger.Info("created database", "database", c.database)
	return nil
}

func (c *Cluster) urlFor(database string) string {
	return c.urlAt(c.port, database)
}

func (c *Cluster) urlAt(port int, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// freePort asks the kernel for a port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tail returns the last n lines of a file, for error messages that point at
// the server's own explanation.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "server log " + path + ":\n" + strings.Join(lines, "\n")
}
