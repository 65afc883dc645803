package localpg_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/localpg"
)

// MustStart starts a cluster for the test and stops it when the test ends. It
// skips the test on machines without PostgreSQL's server binaries, unless CI
// is set, where their absence is a broken setup.
func MustStart(t testing.TB, opts localpg.Options) *localpg.Cluster {
	t.Helper()
	c, err := localpg.Start(t.Context(), opts)
	if errors.Is(err, localpg.ErrBinariesNotFound) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

// MustConnect opens a connection to connURL that closes when the test ends.
func MustConnect(t testing.TB, connURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), connURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", connURL, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// MustQueryString runs a query that returns one text value.
func MustQueryString(t testing.TB, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(t.Context(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestStartKeepsDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	first, err := localpg.Start(t.Context(), localpg.Options{Dir: dir, Database: "notes"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	u, err := url.Parse(first.URL())
	if err != nil {
		t.Fatalf("URL %q: %v", first.URL(), err)
	}
	if u.Scheme != "postgres" || u.Hostname() != "127.0.0.1" || u.Path != "/notes" ||
		u.Query().Get("sslmode") != "disable" || u.User.Username() != "postgres" {
		t.Errorf("URL() = %q, want postgres://postgres@127.0.0.1:PORT/notes?sslmode=disable", first.URL())
	}
	conn, err := pgx.Connect(t.Context(), first.URL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if got := MustQueryString(t, conn, "SHOW fsync"); got != "off" {
		t.Errorf("fsync with Fsync false = %q, want off", got)
	}
	if _, err := conn.Exec(t.Context(), "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')"); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = conn.Close(t.Context())
	if err := first.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	second := MustStart(t, localpg.Options{Dir: dir, Database: "notes", Fsync: true})
	conn = MustConnect(t, second.URL())
	if got := MustQueryString(t, conn, "SELECT body FROM notes"); got != "kept" {
		t.Errorf("after restart, notes.body = %q, want kept", got)
	}
	if got := MustQueryString(t, conn, "SHOW fsync"); got != "on" {
		t.Errorf("fsync with Fsync true = %q, want on", got)
	}
}

func TestStartUsesTheRequestedPort(t *testing.T) {
	t.Parallel()
	port := mustFreePort(t)
	c := MustStart(t, localpg.Options{Dir: filepath.Join(t.TempDir(), "data"), Port: port})
	u, _ := url.Parse(c.URL())
	if u.Port() != strconv.Itoa(port) {
		t.Fatalf("URL() = %q, want port %d", c.URL(), port)
	}
	conn := MustConnect(t, c.URL())
	if got := MustQueryString(t, conn, "SELECT current_database()"); got != localpg.DefaultDatabase {
		t.Errorf("current_database() = %q, want %q", got, localpg.DefaultDatabase)
	}
}

func TestStartReusesAServerAlreadyRunning(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	owner := MustStart(t, localpg.Options{Dir: dir})

	guest, err := localpg.Start(t.Context(), localpg.Options{Dir: dir})
	if err != nil {
		t.Fatalf("second Start on a running cluster: %v", err)
	}
	if guest.URL() != owner.URL() {
		t.Errorf("second Start URL = %q, want the running server's %q", guest.URL(), owner.URL())
	}
	if err := guest.Stop(t.Context()); err != nil {
		t.Fatalf("Stop of the reusing cluster: %v", err)
	}
	// The server belongs to the first Start, so it must still answer.
	conn := MustConnect(t, owner.URL())
	MustQueryString(t, conn, "SELECT 'still running'")
}

func TestStartRecoversFromAStalePostmasterPID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pid  int
	}{
		// Our own pid is alive but is not a postmaster on that directory, as
		// when a reboot hands the old pid to another program.
		{name: "pid reused by another process", pid: os.Getpid()},
		{name: "pid of no process", pid: 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			first := MustStart(t, localpg.Options{Dir: dir})
			if err := first.Stop(t.Context()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			stale := strconv.Itoa(tt.pid) + "\n" + dir + "\n1700000000\n5432\n\n127.0.0.1\n0 0\nready   \n"
			if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(stale), 0o600); err != nil {
				t.Fatal(err)
			}

			c := MustStart(t, localpg.Options{Dir: dir})
			conn := MustConnect(t, c.URL())
			MustQueryString(t, conn, "SELECT 'started over a stale pid file'")
		})
	}
}

func TestStartWithAPathTooLongForASocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("long-directory-name-", 5), "data")
	c := MustStart(t, localpg.Options{Dir: dir})
	conn := MustConnect(t, c.URL())
	socketDir := MustQueryString(t, conn, "SHOW unix_socket_directories")
	if socketDir == dir {
		t.Fatalf("socket directory is the data directory %q, whose socket path exceeds the limit", dir)
	}
	_ = conn.Close(t.Context())
	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(socketDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary socket directory %q left behind after Stop (err %v)", socketDir, err)
	}
}

func TestStartNeedsADirectory(t *testing.T) {
	t.Parallel()
	if _, err := localpg.Start(t.Context(), localpg.Options{}); err == nil {
		t.Fatal("Start without Dir succeeded, want an error")
	}
}

// mustFreePort returns a port nobody listens on right now.
func mustFreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
