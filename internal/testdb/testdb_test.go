package testdb_test

import (
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/testdb"
)

func TestNewGivesEachTestItsOwnMigratedDatabase(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		names = map[string]bool{}
	)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				pool := testdb.New(t)
				ctx := t.Context()

				var db string
				var usersTable *string
				err := pool.QueryRow(ctx, "SELECT current_database(), to_regclass('public.users')::text").Scan(&db, &usersTable)
				if err != nil {
					t.Fatalf("query: %v", err)
				}
				if usersTable == nil {
					t.Errorf("table users missing in %s: migrations did not run", db)
				}
				// Creating the same table in both tests succeeds only if
				// each has a database of its own.
				if _, err := pool.Exec(ctx, "CREATE TABLE isolation_probe (id int)"); err != nil {
					t.Errorf("CREATE TABLE isolation_probe in %s: %v (is the database shared?)", db, err)
				}
				mu.Lock()
				names[db] = true
				mu.Unlock()
			})
		}
	})
	switch {
	case t.Failed():
		// The subtests said what went wrong.
	case len(names) == 0:
		t.Skip("both subtests skipped: no test server")
	case len(names) != 2:
		t.Errorf("two tests got databases %v, want two distinct ones", names)
	}
}

func TestNewURLPointsAtAMigratedDatabase(t *testing.T) {
	t.Parallel()
	connURL := testdb.NewURL(t)
	conn, err := pgx.Connect(t.Context(), connURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", connURL, err)
	}
	defer conn.Close(t.Context())

	var riverVersions int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM river_migration").Scan(&riverVersions); err != nil {
		t.Fatalf("River's schema missing: %v", err)
	}
	if riverVersions == 0 {
		t.Error("river_migration is empty: River's migrations did not run")
	}
}
