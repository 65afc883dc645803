// Package testdb gives each test its own PostgreSQL database, cloned from a
// template that has all of Scratchpad's migrations applied, so tests run in
// parallel against the real schema without seeing each other's rows.
//
// The server comes from TEST_DATABASE_URL, which `make test` sets (starting a
// private cluster when none is configured). The template is built once per
// migration hash and reused across test runs; cloning it takes milliseconds.
// Tests that stop and start the database take a server of their own from
// NewPrivateServer instead.
package testdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	// Registers the "pgx" database/sql driver that pgtestdb and goose use.
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/peterldowns/pgtestdb"

	"github.com/scratchpad/scratchpad/migrations"
)

// EnvURL names the variable holding the URL of a PostgreSQL server on which
// the user may CREATE DATABASE; it is the only way tests find a server, so no
// test ever touches a developer's real database by accident.
const EnvURL = "TEST_DATABASE_URL"

// missingServerHint tells a developer how to get a server for the tests.
const missingServerHint = EnvURL + " is not set: run the tests with `make test`"

// New returns a pool connected to a fresh, fully migrated database that only
// this test uses. The pool is closed and the database dropped when the test
// ends (a failed test keeps its database for inspection).
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	connURL := NewURL(t)
	pool, err := pgxpool.New(t.Context(), connURL)
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", connURL, err)
	}
	// Registered after NewURL's cleanup, so it runs first: the pool is gone
	// before the database is dropped.
	t.Cleanup(pool.Close)
	return pool
}

// NewURL returns the URL of a fresh, fully migrated database that only this
// test uses, for tests that start whole application instances with their own
// pools. Those instances must be shut down in a t.Cleanup registered after
// this call, so they close their connections before the database is dropped.
func NewURL(t testing.TB) string {
	t.Helper()
	conf := serverConfig(t)
	return pgtestdb.Custom(t, conf, migrator{}).URL()
}

// serverConfig reads TEST_DATABASE_URL, skipping the test when it is unset on
// a developer's machine and failing it in CI, where a missing server is a
// broken pipeline rather than a choice.
func serverConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	raw, ok, fatal := serverURL(os.Getenv)
	if !ok {
		if fatal {
			t.Fatal(missingServerHint)
		}
		t.Skip(missingServerHint)
	}
	conf, err := parseConfig(raw)
	if err != nil {
		t.Fatalf("testdb: %s: %v", EnvURL, err)
	}
	return conf
}

// serverURL returns TEST_DATABASE_URL; when it is unset, fatal says whether
// the run is in CI.
func serverURL(getenv func(string) string) (raw string, ok, fatal bool) {
	raw = getenv(EnvURL)
	if raw != "" {
		return raw, true, false
	}
	return "", false, getenv("CI") != ""
}

// parseConfig turns a postgres:// URL into pgtestdb's configuration.
func parseConfig(raw string) (pgtestdb.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return pgtestdb.Config{}, err
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return pgtestdb.Config{}, fmt.Errorf("want a postgres:// URL, got scheme %q", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		host = "127.0.0.1"
	}
	if strings.Contains(host, ":") {
		// pgtestdb joins host and port itself, so an IPv6 literal needs
		// its brackets back.
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	password, _ := u.User.Password()
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       host,
		Port:       port,
		User:       u.User.Username(),
		Password:   password,
		Database:   cmp.Or(strings.TrimPrefix(u.Path, "/"), "postgres"),
		Options:    u.RawQuery,
		// Application instances started on a test database run background
		// workers whose connections can outlive a test by a moment; end them
		// so the database can always be dropped.
		ForceTerminateConnections: true,
	}, nil
}

// migrator builds the template database with the project's own migration
// history, so tests run against exactly the schema production gets.
type migrator struct{}

// Hash names the template: a new migration yields a new template, and an
// unchanged history reuses the one built by an earlier run.
func (migrator) Hash() (string, error) {
	return migrations.Hash(), nil
}

// Migrate applies every migration to the empty template database.
func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return migrations.Up(ctx, db)
}

// Compile-time proof that migrator is what pgtestdb expects.
var _ pgtestdb.Migrator = migrator{}

// WaitForLockWaiter waits, up to ten seconds, until a session of pool's
// database waits for a lock: how a test knows that the statement it started
// in another goroutine has reached the row or table the test holds.
func WaitForLockWaiter(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no session came to wait for a lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
