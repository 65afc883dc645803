// Package migrations holds Scratchpad's one schema history: goose SQL files
// for our tables plus a Go migration that installs River's job tables, so the
// whole database is created and upgraded one way, by goose.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed *.sql
var files embed.FS

// riverVersion is the River schema version our history installs. Raising it
// means adding a new goose migration that applies the versions in between;
// existing migrations never change.
const riverVersion = 8

// riverMigrationVersion is the goose version of the Go migration that
// installs River's schema.
const riverMigrationVersion = 2

// NewProvider returns a goose provider over db with every migration, SQL and
// Go, registered.
func NewProvider(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(files, ".")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithGoMigrations(goose.NewGoMigration(riverMigrationVersion,
			&goose.GoFunc{RunDB: installRiver(1, riverVersion)},
			&goose.GoFunc{RunTx: removeRiver},
		)),
	)
}

// Up applies every pending migration.
func Up(ctx context.Context, db *sql.DB) error {
	p, err := NewProvider(db)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: apply: %w", err)
	}
	return nil
}

// Pending reports whether db lacks any migration this binary knows, which
// makes the instance not ready to serve.
func Pending(ctx context.Context, db *sql.DB) (bool, error) {
	p, err := NewProvider(db)
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

var hashOnce = sync.OnceValue(func() string {
	h := sha256.New()
	names, _ := fs.Glob(files, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := files.ReadFile(n)
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "river:%d", riverVersion)
	return hex.EncodeToString(h.Sum(nil))
})

// Hash identifies this exact set of migrations, so test harnesses can reuse a
// migrated template database until the schema changes.
func Hash() string { return hashOnce() }

// riverMigrations returns River's own migration steps in order. River renders
// a schema prefix into its SQL; we install into the search path, as River's
// migrator does when no schema is configured.
func riverMigrations() ([]rivermigrate.Migration, error) {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return nil, err
	}
	all := m.AllVersions()
	sort.Slice(all, func(i, j int) bool { return all[i].Version < all[j].Version })
	return all, nil
}

func riverSQL(s string) string { return strings.ReplaceAll(s, "/* TEMPLATE: schema */", "") }

// installRiver applies River's steps from..to, each in its own transaction:
// some steps add enum values that later steps use, which PostgreSQL allows
// only after the adding transaction commits. Each step records itself in
// river_migration the way River's migrator does, so River's own tooling sees
// the schema as current and a failure resumes at the failed step.
func installRiver(from, to int) func(context.Context, *sql.DB) error {
	return func(ctx context.Context, db *sql.DB) error {
		all, err := riverMigrations()
		if err != nil {
			return err
		}
		for _, m := range all {
			if m.Version < from || m.Version > to {
				continue
			}
			if err := applyRiverStep(ctx, db, m); err != nil {
				return fmt.Errorf("river migration %d: %w", m.Version, err)
			}
		}
		return nil
	}
}

func applyRiverStep(ctx context.Context, db *sql.DB, m rivermigrate.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if m.Version > 1 {
		var done bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM river_migration WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, riverSQL(m.SQLUp)); err != nil {
		return err
	}
	// River's migration table gained its "line" column in version 5.
	record := `INSERT INTO river_migration (line, version) VALUES ('main', $1)`
	if m.Version < 5 {
		record = `INSERT INTO river_migration (version) VALUES ($1)`
	}
	if _, err := tx.ExecContext(ctx, record, m.Version); err != nil {
		return err
	}
	return tx.Commit()
}

func removeRiver(ctx context.Context, tx *sql.Tx) error {
	all, err := riverMigrations()
	if err != nil {
		return err
	}
	for i := len(all) - 1; i >= 0; i-- {
		m := all[i]
		if m.Version > riverVersion {
			continue
		}
		if _, err := tx.ExecContext(ctx, riverSQL(m.SQLDown)); err != nil {
			return fmt.Errorf("river down %d: %w", m.Version, err)
		}
	}
	return nil
}
