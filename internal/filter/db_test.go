package filter

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// migrationPath is the migration that defines sp_num and sp_bool; the tests
// create the functions from its text so there is one definition.
const migrationPath = "../../migrations/00003_record_functions.sql"

// MustRecordFunctionsSQL returns the function definitions of the migration's
// Up section, one statement per StatementBegin/StatementEnd block.
func MustRecordFunctionsSQL(tb testing.TB) []string {
	tb.Helper()
	b, err := os.ReadFile(migrationPath)
	if err != nil {
		tb.Fatal(err)
	}
	up, _, ok := strings.Cut(string(b), "-- +goose Down")
	if !ok {
		tb.Fatal("migration has no Down section")
	}
	blocks := regexp.MustCompile(`(?s)-- \+goose StatementBegin\n(.*?)-- \+goose StatementEnd`).FindAllStringSubmatch(up, -1)
	var stmts []string
	for _, m := range blocks {
		stmts = append(stmts, m[1])
	}
	if len(stmts) != 2 {
		tb.Fatalf("found %d function definitions in %s, want 2", len(stmts), migrationPath)
	}
	return stmts
}

// MustRecordsTx returns a transaction, rolled back when the test ends, in
// which a private schema holds sp_num, sp_bool and a table r(id, fields)
// with the given records. The schema keeps the functions away from any that
// other tests on the same server create.
func MustRecordsTx(tb testing.TB, records map[int]string) pgx.Tx {
	tb.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("TEST_DATABASE_URL is not set")
		}
		tb.Skip("TEST_DATABASE_URL is not set")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tx.Rollback(ctx) }) //nolint:errcheck // the connection closes anyway
	setup := []string{
		"CREATE SCHEMA filter_test",
		"SET LOCAL search_path = filter_test, public",
	}
	setup = append(setup, MustRecordFunctionsSQL(tb)...)
	setup = append(setup, "CREATE TEMP TABLE r (id int PRIMARY KEY, fields jsonb NOT NULL) ON COMMIT DROP")
	for _, s := range setup {
		if _, err := tx.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	for id, fields := range records {
		if _, err := tx.Exec(ctx, "INSERT INTO r VALUES ($1, $2)", id, fields); err != nil {
			tb.Fatalf("insert %d: %v", id, err)
		}
	}
	return tx
}

// testRecords cover every column type with values, JSON nulls, missing keys
// and stray values of the wrong JSON type.
var testRecords = map[int]string{
	1: `{"title": "Hello World", "status": "Published", "price": 10, "pub": true, "due": "2024-05-01",
	     "at": "2024-05-01T13:45:00Z", "tags": ["a", "b"], "meta": {"k": 1}, "size_1": 5}`,
	2: `{"title": "hello_50%", "status": "Draft", "price": 20.5, "pub": false, "due": "2024-06-15",
	     "at": "2024-05-01T11:00:00Z", "tags": ["b"], "meta": "x"}`,
	3: `{"title": "", "price": "12", "pub": "yes", "tags": [], "meta": null}`,
	4: `{}`,
	5: `{"title": null, "price": -3, "pub": true, "due": "2023-12-31", "at": "2025-01-01T00:00:00Z",
	     "tags": null, "meta": []}`,
	6: `{"title": "O'Brien \\ 100", "status": "Published", "price": 1000, "tags": ["c"], "meta": 3}`,
}

func TestCompileMatchesRecords(t *testing.T) {
	t.Parallel()
	tx := MustRecordsTx(t, testRecords)
	tests := []struct {
		src  string
		want []int
	}{
		{"", []int{1, 2, 3, 4, 5, 6}},
		{"title = 'Hello World'", []int{1}},
		{"lower(title) = 'hello world'", []int{1}},
		{"trim(upper(title)) = 'HELLO WORLD'", []int{1}},
		{"TITLE ilike 'hello%'", []int{1, 2}},
		{"title LIKE 'hello%'", []int{2}},
		{`title LIKE 'hello\_%'`, []int{2}},
		{"title NOT LIKE 'hello%'", []int{1, 3, 6}},
		{"contains(title, '50%')", []int{2}},
		{"contains(title, 'O')", []int{1, 2, 6}},
		{`contains(title, '\')`, []int{6}},
		{"contains(title, '_')", []int{2}},
		{"starts_with(title, 'HELLO')", []int{1, 2}},
		{"starts_with(title, 'hello_')", []int{2}},
		{`title = 'O''Brien \ 100'`, []int{6}},
		{"title IS NULL", []int{4, 5}},
		{"title IS NOT NULL", []int{1, 2, 3, 6}},
		{"is_empty(title)", []int{3, 4, 5}},
		{"length(title) = 0", []int{3}},
		{"Status IN ('Published', 'Draft')", []int{1, 2, 6}},
		{"NOT (status = 'Published')", []int{2}},
		{"status = 'Published' AND price > 100", []int{6}},
		{"price > 10", []int{2, 6}},
		{"price >= 10", []int{1, 2, 6}},
		{"price > '10'", []int{2, 6}},
		{"10 < price", []int{2, 6}},
		{"price < 0", []int{5}},
		{"price = 1000.0", []int{6}},
		{"price = 1e3", []int{6}},
		{"price BETWEEN 10 AND 20.5", []int{1, 2}},
		{"price NOT BETWEEN 10 AND 20.5", []int{5, 6}},
		{"price IS NULL", []int{3, 4}},
		{"price IN (10, 1e3)", []int{1, 6}},
		{"price NOT IN (10)", []int{2, 5, 6}},
		{"price > length(title)", []int{2, 6}},
		{"größe = 5", []int{1}},
		{"published", []int{1, 5}},
		{"NOT published", []int{2}},
		{"published = false", []int{2}},
		{"published = 'TRUE'", []int{1, 5}},
		{"published <> true", []int{2}},
		{"published IS NULL", []int{3, 4, 6}},
		{`"Due date" < '2024-05-02'`, []int{1, 5}},
		{`"due DATE" BETWEEN '2024-01-01' AND '2024-12-31'`, []int{1, 2}},
		{`"Due date" >= ' 2024-06-15 '`, []int{2}},
		{"updated > '2024-05-01T13:00'", []int{1, 5}},
		{"updated = '2024-05-01T15:45:00+02:00'", []int{1}},
		{"updated = '2024-05-01 13:45'", []int{1}},
		{"updated >= '2024-05-01'", []int{1, 2, 5}},
		{"updated < '2025-01-01'", []int{1, 2}},
		{"updated BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-01T12:00:00-02:00'", []int{1, 2}},
		{"tags = 'b'", []int{1, 2}},
		{"tags <> 'b'", []int{3, 6}},
		{"contains(tags, 'a') OR contains(tags, 'c')", []int{1, 6}},
		{"tags IN ('a', 'c')", []int{1, 6}},
		{"tags NOT IN ('a', 'c')", []int{2, 3}},
		{"tags IS NULL", []int{4, 5}},
		{"tags IS NOT NULL", []int{1, 2, 3, 6}},
		{"is_empty(tags)", []int{3, 4, 5}},
		{"length(tags) >= 2", []int{1}},
		{"meta = 'x'", []int{2}},
		{"meta = 3", []int{6}},
		{"meta IN (3, 'x')", []int{2, 6}},
		{"meta <> 3", []int{1, 2, 5}},
		{"meta NOT IN (3, 'x')", []int{1, 5}},
		{"meta IS NULL", []int{3, 4}},
		{"is_empty(meta)", []int{3, 4, 5}},
		{"(price > 100 OR published) AND NOT is_empty(tags)", []int{1, 6}},
	}
	ctx := context.Background()
	// The subtests share one transaction, and so one connection: they run
	// one after another.
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			const offset = 1
			c, err := Compile(tt.src, testColumns, "r.fields", offset)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.src, err)
			}
			// $1 belongs to the surrounding query, as argOffset promises.
			q := "SELECT id FROM r WHERE id > $1 AND " + c.SQL + " ORDER BY id"
			rows, err := tx.Query(ctx, q, append([]any{0}, c.Args...)...)
			if err != nil {
				t.Fatalf("%s %v: %v", q, c.Args, err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[int])
			if err != nil {
				t.Fatalf("%s %v: %v", q, c.Args, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("%q matched %v, want %v\nSQL: %s %v", tt.src, got, tt.want, c.SQL, c.Args)
			}
		})
	}
}
