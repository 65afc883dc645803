package migrations_test

import (
	"context"
	"database/sql"
	neturl "net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scratchpad/scratchpad/migrations"
)

// TestUpDownUp proves the whole history applies to an empty database, rolls
// back completely, and applies again: the schema has one way in and out.
func TestUpDownUp(t *testing.T) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TEST_DATABASE_URL is not set: run the tests with `make test`")
		}
		t.Skip("TEST_DATABASE_URL is not set: run the tests with `make test`")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "migrations_updown_test"
	_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})

	db, err := sql.Open("pgx", replaceDB(t, url, name))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("up: %v", err)
	}
	pending, err := migrations.Pending(ctx, db)
	if err != nil || pending {
		t.Fatalf("after up: pending=%v err=%v", pending, err)
	}
	var riverVersions int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM river_migration`).Scan(&riverVersions); err != nil {
		t.Fatal(err)
	}
	if riverVersions == 0 {
		t.Fatal("river_migration records no versions")
	}
	p, err := migrations.NewProvider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("after down: %d tables remain", tables)
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

func replaceDB(t testing.TB, raw, name string) string {
	t.Helper()
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
