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
	ctx := context.Background()
	db := newDB(t, "migrations_updown_test")

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

// newDB creates an empty database called name for one test and opens it.
func newDB(t *testing.T, name string) *sql.DB {
	t.Helper()
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
	_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", replaceDB(t, url, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if admin, err := sql.Open("pgx", url); err == nil {
			_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			admin.Close()
		}
	})
	return db
}

// TestSparseOriginalMigration upgrades records stored under 00008's
// convention (a full copy of the values as pulled) to sparse originals
// (only the fields that differ) and back, losing no value as pulled.
func TestSparseOriginalMigration(t *testing.T) {
	ctx := context.Background()
	db := newDB(t, "migrations_sparse_original_test")
	p, err := migrations.NewProvider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO users (id, email) VALUES ('00000000-0000-4000-8000-000000000001', 'a@example.com');
		INSERT INTO workbooks (id, owner_id, name) VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'W');
		INSERT INTO workbook_tables (workbook_id, id, name, position) VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', 'T', 0);
		INSERT INTO records (workbook_id, table_id, id, fields, original, state, edited_fields) VALUES
		  -- as pulled: a full copy
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-00000000000a',
		   '{"t": "Mug", "p": 5}', '{"t": "Mug", "p": 5}', 'clean', '{}'),
		  -- edited: t changed, n set where the pull had none, p emptied
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-00000000000b',
		   '{"t": "Big lamp", "n": "new"}', '{"t": "Lamp", "p": 9, "n": null}', 'updated', '{n,p,t}'),
		  -- lazy (00008): no original
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-00000000000c',
		   '{"t": "Desk"}', NULL, 'clean', '{}'),
		  -- created here
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-00000000000d',
		   '{"t": "Chair"}', NULL, 'created', '{t}')`); err != nil {
		t.Fatal(err)
	}
	originals := func() map[string]*string {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT right(id::text, 1), original::text, sp_original(state, fields, original)::text FROM records ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]*string{}
		for rows.Next() {
			var id string
			var stored, full *string
			if err := rows.Scan(&id, &stored, &full); err != nil {
				t.Fatal(err)
			}
			out[id], out[id+" pulled"] = stored, full
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	str := func(s string) *string { return &s }
	check := func(got map[string]*string, want map[string]*string) {
		t.Helper()
		for k, w := range want {
			g := got[k]
			if (g == nil) != (w == nil) || (g != nil && *g != *w) {
				t.Errorf("%s: got %v, want %v", k, deref(g), deref(w))
			}
		}
	}

	if _, err := p.UpTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	check(originals(), map[string]*string{
		"a": nil, "a pulled": str(`{"p": 5, "t": "Mug"}`),
		"b": str(`{"n": null, "p": 9, "t": "Lamp"}`), "b pulled": str(`{"n": null, "p": 9, "t": "Lamp"}`),
		"c": nil, "c pulled": str(`{"t": "Desk"}`),
		"d": nil, "d pulled": nil,
	})

	if _, err := p.DownTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	var full string
	if err := db.QueryRowContext(ctx, `SELECT original::text FROM records WHERE id = '00000000-0000-4000-8000-00000000000b'`).Scan(&full); err != nil {
		t.Fatal(err)
	}
	if want := `{"n": null, "p": 9, "t": "Lamp"}`; full != want {
		t.Errorf("after down: original %s, want %s", full, want)
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
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

// TestTrigramIndexesOnLowerMigration drops the trigram indexes built on the
// bare value, which no compiled filter uses any more, with their rows.
func TestTrigramIndexesOnLowerMigration(t *testing.T) {
	ctx := context.Background()
	db := newDB(t, "migrations_trigram_lower_test")
	p, err := migrations.NewProvider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
		CREATE INDEX ri_00000000000000000000000a ON records USING gin ((fields->>'c') gin_trgm_ops);
		CREATE INDEX ri_00000000000000000000000b ON records ((fields->>'c'), seq);
		INSERT INTO record_indexes (workbook_id, table_id, column_id, kind, column_type, name, status) VALUES
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', 'c', 'trgm', 'text', 'ri_00000000000000000000000a', 'ready'),
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', 'c', 'asc', 'text', 'ri_00000000000000000000000b', 'ready')`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	var indexes, rows string
	if err := db.QueryRowContext(ctx, `SELECT coalesce(string_agg(indexname, ',' ORDER BY indexname), '') FROM pg_indexes WHERE left(indexname, 3) = 'ri_'`).Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(string_agg(kind, ',' ORDER BY kind), '') FROM record_indexes`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if indexes != "ri_00000000000000000000000b" || rows != "asc" {
		t.Errorf("after the migration: indexes %q, rows %q; want only the ascending one", indexes, rows)
	}
}

// TestRecordsByTableMigration moves records that hold data into the
// partitioned layout of 00021 and back: every record keeps its values and
// place (seq), suggestions keep their records, new records continue the
// order, and the sizes kept per table are the counted ones.
func TestRecordsByTableMigration(t *testing.T) {
	ctx := context.Background()
	db := newDB(t, "migrations_records_by_table_test")
	p, err := migrations.NewProvider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 18); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO users (id, email) VALUES ('00000000-0000-4000-8000-000000000001', 'a@example.com');
		INSERT INTO workbooks (id, owner_id, name) VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'W');
		INSERT INTO workbook_tables (workbook_id, id, name, position) VALUES
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', 'T', 0),
		  ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000004', 'U', 1);
		INSERT INTO records (workbook_id, table_id, remote_id, fields, state, edited_fields, conflicts)
		SELECT '00000000-0000-4000-8000-000000000002', CASE WHEN g % 3 = 0 THEN '00000000-0000-4000-8000-000000000004'::uuid
		       ELSE '00000000-0000-4000-8000-000000000003'::uuid END,
		       'r' || g, jsonb_build_object('t', 'v' || g), CASE WHEN g % 5 = 0 THEN 'updated' ELSE 'clean' END,
		       CASE WHEN g % 5 = 0 THEN '{t}'::text[] ELSE '{}' END, CASE WHEN g = 7 THEN '{"t": "x"}'::jsonb END
		FROM generate_series(1, 300) g;
		INSERT INTO suggestions (workbook_id, table_id, record_id, action, field, value, source)
		SELECT workbook_id, table_id, id, 'update', 't', '"s"', 'api' FROM records WHERE seq % 10 = 0`); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		t.Helper()
		var s string
		if err := db.QueryRowContext(ctx, `SELECT md5(string_agg(concat_ws('|', r.workbook_id, r.table_id, r.id, r.seq, r.remote_id,
			r.fields, r.state, r.edited_fields, r.conflicts, r.version, r.created_at,
			(SELECT count(*) FROM suggestions s WHERE s.record_id = r.id)), ',' ORDER BY r.seq)) FROM records r`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// nextSeq adds a record and returns its seq, then removes it.
	nextSeq := func() int64 {
		t.Helper()
		var seq int64
		if err := db.QueryRowContext(ctx, `INSERT INTO records (workbook_id, table_id, fields)
			VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '{}') RETURNING seq`).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM records WHERE seq = $1`, seq); err != nil {
			t.Fatal(err)
		}
		return seq
	}
	before := snapshot()

	if _, err := p.UpTo(ctx, 21); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(); got != before {
		t.Fatal("the records changed on the way into partitions")
	}
	var parts int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'records'::regclass`).Scan(&parts); err != nil || parts != 64 {
		t.Fatalf("records has %d partitions (%v), want 64", parts, err)
	}
	sizes := func() string {
		t.Helper()
		var s string
		if err := db.QueryRowContext(ctx, `SELECT string_agg(right(table_id::text, 1) || '=' || records, ' ' ORDER BY table_id) FROM table_sizes`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := sizes(); got != "3=200 4=100" {
		t.Errorf("table sizes after the migration: %s", got)
	}
	if seq := nextSeq(); seq != 301 {
		t.Errorf("a new record got seq %d, want 301", seq)
	}
	if got := sizes(); got != "3=200 4=100" {
		t.Errorf("table sizes after a record came and went: %s", got)
	}
	// The suggestions still follow their records out.
	if _, err := db.ExecContext(ctx, `DELETE FROM records WHERE seq = 10`); err != nil {
		t.Fatal(err)
	}
	var orphans int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM suggestions s WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = s.record_id)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("%d suggestions lost their record (%v)", orphans, err)
	}
	before = snapshot()

	if _, err := p.DownTo(ctx, 18); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(); got != before {
		t.Fatal("the records changed on the way out of partitions")
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'records'::regclass`).Scan(&parts); err != nil || parts != 0 {
		t.Fatalf("records still has %d partitions (%v)", parts, err)
	}
	if seq := nextSeq(); seq != 302 {
		t.Errorf("a new record got seq %d, want 302", seq)
	}
}
