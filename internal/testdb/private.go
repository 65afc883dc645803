package testdb

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/localpg"
	"github.com/scratchpad/scratchpad/migrations"
)

// privateTimeout bounds starting, migrating and stopping a private server.
const privateTimeout = 2 * time.Minute

// PrivateServer is a PostgreSQL server that one test owns, holding one
// migrated database, for tests that stop and start the database under a
// running app: the shared server of TEST_DATABASE_URL must never be
// stopped. It runs on a fixed port, so its URL stays the same across Stop
// and Start, as a restarted production server's does.
type PrivateServer struct {
	t       testing.TB
	dir     string
	port    int
	cluster *localpg.Cluster
	// URL is the migrated database, the same across Stop and Start.
	URL string
}

// NewPrivateServer starts a private server (about two seconds) and migrates
// its database; it is stopped when the test ends, after the cleanups
// registered later, such as the app's. The test is skipped under -short and
// where PostgreSQL's server binaries are not installed, except on CI, where
// that fails it.
func NewPrivateServer(t testing.TB) *PrivateServer {
	t.Helper()
	if testing.Short() {
		t.Skip("a private PostgreSQL server takes seconds to start: skipped with -short")
	}
	s := &PrivateServer{t: t, dir: filepath.Join(t.TempDir(), "postgres")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testdb: pick a port: %v", err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.Start()
	t.Cleanup(s.Stop)
	s.URL = s.cluster.URL()

	ctx, cancel := context.WithTimeout(context.Background(), privateTimeout)
	defer cancel()
	db, err := sql.Open("pgx", s.URL)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer db.Close()
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("testdb: migrate the private server: %v", err)
	}
	return s
}

// Start starts the server again after Stop; connections made before Stop
// are gone, new ones reach the same database.
func (s *PrivateServer) Start() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), privateTimeout)
	defer cancel()
	c, err := localpg.Start(ctx, localpg.Options{Dir: s.dir, Port: s.port, Database: "scratchpad"})
	if errors.Is(err, localpg.ErrBinariesNotFound) && os.Getenv("CI") == "" {
		s.t.Skipf("testdb: %v", err)
	}
	if err != nil {
		s.t.Fatalf("testdb: start a private server: %v", err)
	}
	if u, _ := url.Parse(c.URL()); u == nil || u.Port() != strconv.Itoa(s.port) {
		_ = c.Stop(ctx)
		s.t.Fatalf("testdb: private server came up at %s, want port %d", c.URL(), s.port)
	}
	s.cluster = c
}

// Stop shuts the server down in fast mode, which ends every session with
// SQLSTATE 57P01 as a restart does; later connections are refused until
// Start. Stopping a stopped server does nothing.
func (s *PrivateServer) Stop() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), privateTimeout)
	defer cancel()
	if err := s.cluster.Stop(ctx); err != nil {
		s.t.Errorf("testdb: stop the private server: %v", err)
	}
}
