package db_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

func TestIsUnavailableTellsOutagesFromFailedStatements(t *testing.T) {
	t.Parallel()
	state := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"plain error", errors.New("boom"), false},
		{"no rows", pgx.ErrNoRows, false},
		{"unique violation", state("23505"), false},
		{"statement timeout", state("57014"), false},
		{"protocol violation", state("08P01"), false},
		{"shutting down", state("57P01"), true},
		{"crash of another backend", state("57P02"), true},
		{"starting up", state("57P03"), true},
		{"too many connections", state("53300"), true},
		{"connection failure", state("08006"), true},
		{"wrapped by the domain", fmt.Errorf("accounts: find user: %w", state("57P03")), true},
		{"inside a domain error", apperr.Wrap(apperr.Internal, state("57P01"), "Something went wrong."), true},
		// Outside pgconn these say nothing about the database: an upload
		// cut short, a refused call to another service, a client gone.
		{"bare unexpected EOF", io.ErrUnexpectedEOF, false},
		{"bare connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false},
		{"request cancelled", context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := db.IsUnavailable(tt.err); got != tt.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestIsUnavailableRecognizesARefusedConnection(t *testing.T) {
	t.Parallel()
	closed := "postgres://postgres@" + mustClosedAddr(t) + "/postgres?sslmode=disable"
	_, err := db.Connect(context.Background(), closed, 4)
	if !db.IsUnavailable(err) {
		t.Errorf("Connect to a closed port: IsUnavailable(%v) = false", err)
	}
	pool, err := pgxpool.New(context.Background(), closed) // connects lazily
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	_, err = pool.Exec(context.Background(), "select 1")
	if !db.IsUnavailable(err) {
		t.Errorf("a pool that cannot connect: IsUnavailable(%v) = false", err)
	}
}

func TestIsUnavailableRecognizesAConnectionLostUnderAStatement(t *testing.T) {
	t.Parallel()
	server := mustTestDatabaseURL(t)
	proxy := mustProxy(t, server.Host)
	viaProxy := *server
	viaProxy.Host = proxy.addr
	conn, err := pgx.Connect(context.Background(), viaProxy.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "select 1"); err != nil {
		t.Fatal(err)
	}

	// Cut while a statement runs, as a crash or a broken network would.
	time.AfterFunc(200*time.Millisecond, proxy.cut)
	_, err = conn.Exec(context.Background(), "select pg_sleep(5)")
	if err == nil {
		t.Fatal("a statement on a cut connection succeeded")
	}
	if !db.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false for a connection cut under a statement", err)
	}
	_, err = conn.Exec(context.Background(), "select 1")
	if !db.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false for the connection pgx closed after the cut", err)
	}
}

func TestIsUnavailableRecognizesATerminatedSession(t *testing.T) {
	t.Parallel()
	server := mustTestDatabaseURL(t)
	conn, err := pgx.Connect(context.Background(), server.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// What every session sees when the server shuts down in fast mode.
	_, err = conn.Exec(context.Background(), "select pg_terminate_backend(pg_backend_pid())")
	if !db.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false for a terminated session", err)
	}
}

// mustTestDatabaseURL returns TEST_DATABASE_URL parsed, skipping the test
// when it is unset (failing it on CI).
func mustTestDatabaseURL(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_DATABASE_URL is not set: run the tests with `make test`")
		}
		t.Skip("TEST_DATABASE_URL is not set: run the tests with `make test`")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// mustClosedAddr returns a local address nobody listens on.
func mustClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// proxy forwards TCP connections to a server until cut.
type proxy struct {
	addr  string
	mu    sync.Mutex
	conns []net.Conn
}

// mustProxy starts a proxy to target that stops when the test ends.
func mustProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String()}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(server, client) }()
			go func() { _, _ = io.Copy(client, server) }()
		}
	}()
	return p
}

// cut closes every forwarded connection, as a crashed server or a broken
// network would.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
