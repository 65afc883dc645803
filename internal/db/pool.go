package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultConnectTimeout bounds each connection attempt unless the URL sets
// connect_timeout: without it, a request arriving while the database host
// does not answer at all would wait for the operating system to give up
// (minutes) instead of failing fast as unavailable.
const DefaultConnectTimeout = 5 * time.Second

// Connect opens a pool to url and checks that the server answers. Its
// sessions run without JIT compilation unless url sets jit itself: the
// app's queries are short, and PostgreSQL compiles any query whose
// estimated cost passes jit_above_cost, which a grid page's LIMIT over an
// index scan with a selective-looking filter can, for 20-90 ms of
// compiling a query that then runs in 5 ms. Connection attempts time out
// after DefaultConnectTimeout unless url sets connect_timeout. The session
// settings are SessionDefaults'.
func Connect(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse DATABASE_URL: %w", err)
	}
	SessionDefaults(cfg.ConnConfig.RuntimeParams)
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: ping: %w", err)
	}
	return pool, nil
}

// SessionDefaults adds to params the app's session settings that the URL
// does not set itself: no JIT (see Connect), and custom plans only
// (plan_cache_mode). records is partitioned (migration 00021), and pgx
// prepares every statement: from its sixth run PostgreSQL would plan a
// statement generically, for all 64 partitions and every index on them
// (tens of milliseconds once the partitions hold hundreds of on-demand
// indexes), and a generic plan, pruned only when it runs, locks every
// partition and index at each run (1–7 ms measured at 256 partitions,
// against 0.15 ms for a custom plan, which is pruned while planned).
func SessionDefaults(params map[string]string) {
	for k, v := range map[string]string{"jit": "off", "plan_cache_mode": "force_custom_plan"} {
		if _, set := params[k]; !set {
			params[k] = v
		}
	}
}

// InTx runs fn inside a transaction, committing when fn returns nil and
// rolling back otherwise. Domain services use it so a change, its audit entry,
// its event and any job it enqueues commit together.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// IsNoRows reports whether err means a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == "23505"
}
