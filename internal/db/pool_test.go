package db_test

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/db"
)

// The app's sessions run without JIT unless the URL asks for it.
func TestConnectTurnsJITOff(t *testing.T) {
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_DATABASE_URL is not set: run the tests with `make test`")
		}
		t.Skip("TEST_DATABASE_URL is not set: run the tests with `make test`")
	}
	jit := func(u string) string {
		t.Helper()
		pool, err := db.Connect(context.Background(), u, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var v string
		if err := pool.QueryRow(context.Background(), "SHOW jit").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := jit(raw); got != "off" {
		t.Errorf("jit = %s by default, want off", got)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("jit", "on")
	u.RawQuery = q.Encode()
	if got := jit(u.String()); got != "on" {
		t.Errorf("jit = %s with jit=on in the URL, want on", got)
	}
}

// Connection attempts give up after a few seconds unless the URL says
// otherwise, so a database host that does not answer makes requests fail
// as unavailable instead of hanging.
func TestConnectBoundsConnectionAttempts(t *testing.T) {
	t.Parallel()
	server := mustTestDatabaseURL(t)
	timeout := func(u string) time.Duration {
		t.Helper()
		pool, err := db.Connect(context.Background(), u, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		return pool.Config().ConnConfig.ConnectTimeout
	}
	if got := timeout(server.String()); got != db.DefaultConnectTimeout {
		t.Errorf("connect timeout %s by default, want %s", got, db.DefaultConnectTimeout)
	}
	q := server.Query()
	q.Set("connect_timeout", "2")
	server.RawQuery = q.Encode()
	if got := timeout(server.String()); got != 2*time.Second {
		t.Errorf("connect timeout %s with connect_timeout=2 in the URL, want 2s", got)
	}
}
