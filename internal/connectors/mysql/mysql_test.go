package mysql_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/connectors/connectortest"
	"github.com/scratchpad/scratchpad/internal/connectors/mysql"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/values"
)

// source is a database holding fixture tables, as a user's would.
type source struct {
	url      string
	database string
	db       *sql.DB
	n        atomic.Int64
}

func newSource(t *testing.T) *source {
	t.Helper()
	u, db := testdb.NewMySQL(t)
	parsed, _ := url.Parse(u)
	return &source{url: u, database: strings.TrimPrefix(parsed.Path, "/"), db: db}
}

// fixtureDDL is the fixture table in MySQL's words; the %s are its name and
// its key: AUTO_INCREMENT needs an index, which is the primary key or, for
// a table without one, a plain index.
const fixtureDDL = "CREATE TABLE %s (" +
	"id bigint AUTO_INCREMENT, " +
	"title varchar(200) NOT NULL, " +
	"body text, " +
	"price decimal(10, 2), " +
	"in_stock boolean, " +
	"published_on date, " +
	"updated_at datetime, " +
	"tags set('blue', 'green', 'red'), " +
	"category enum('guide', 'news', 'review'), " +
	"meta json, " +
	"slug varchar(200) UNIQUE, " +
	"title_length int AS (char_length(title)) STORED, " +
	"%s)"

// quote quotes a MySQL identifier.
func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// tableName makes a name unique to this source and test, within MySQL's 64
// characters.
func (s *source) tableName(t testing.TB) string {
	name := fmt.Sprintf("fixture_%d_%s", s.n.Add(1), strings.ToLower(strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())))
	return name[:min(len(name), 64)]
}

func (s *source) newTable(t testing.TB, rows int, primaryKey bool) (string, string) {
	t.Helper()
	name := s.tableName(t)
	key := "PRIMARY KEY (id)"
	if !primaryKey {
		key = "KEY (id)"
	}
	ident := quote(s.database) + "." + quote(name)
	MustExec(t, s.db, fmt.Sprintf(fixtureDDL, ident, key))
	for i := 1; i <= rows; i++ {
		r := connectortest.FixtureRow(i)
		at, _ := time.Parse(values.DatetimeLayout, r[connectortest.KeyUpdatedAt].(string))
		MustExec(t, s.db, "INSERT INTO "+ident+` (title, body, price, in_stock, published_on, updated_at, tags, category, meta, slug)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r["title"], r["body"], r["price"].(json.Number).String(), r["in_stock"], r["published_on"],
			at.Format(time.DateTime), strings.Join(r["tags"].([]string), ","), r["category"],
			string(r["meta"].(json.RawMessage)), r["slug"])
	}
	return ident, s.database + "." + name
}

// MustExec runs a statement on the fixture database.
func MustExec(t testing.TB, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (s *source) harness(open func(ctx context.Context, url string) (*mysql.Connector, error)) connectortest.Harness {
	ctx := context.Background()
	return connectortest.Harness{
		Open: func(t testing.TB) connectors.Connector {
			c, err := open(ctx, s.url)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		OpenWithBadCredentials: func(t testing.TB) connectors.Connector {
			u, _ := url.Parse(s.url)
			u.User = url.UserPassword("no_such_user_scratchpad", "wrong")
			c, err := open(ctx, u.String())
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		NewTable: func(t testing.TB, rows int) (string, string) { return s.newTable(t, rows, true) },
		NewReadOnlyTable: func(t testing.TB, rows int) string {
			id, _ := s.newTable(t, rows, false)
			return id
		},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	connectortest.Run(t, s.harness(mysql.Open))
}

// TestConformanceWithoutReturning runs the suite on the path of MySQL
// servers, which have no INSERT ... RETURNING.
func TestConformanceWithoutReturning(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	connectortest.Run(t, s.harness(mysql.OpenWithoutReturning))
}

// MustOpen opens a connector to the source, closed when the test ends.
func (s *source) MustOpen(t testing.TB) *mysql.Connector {
	t.Helper()
	c, err := mysql.Open(context.Background(), s.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// MustCreate creates recs and fails the test on any error.
func MustCreate(t testing.TB, c connectors.Connector, id string, recs ...map[string]any) []string {
	t.Helper()
	news := make([]connectors.NewRecord, len(recs))
	for i, r := range recs {
		news[i] = connectors.NewRecord{Fields: r}
	}
	res, err := c.Create(context.Background(), id, news)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("create record %d: %v", i, r.Err)
		}
		ids[i] = r.ID
	}
	return ids
}

// MustPullAll reads every page of table id, limit records a page.
func MustPullAll(t testing.TB, c connectors.Connector, id string, limit int) []connectors.Record {
	t.Helper()
	var out []connectors.Record
	cursor := ""
	for range 1000 {
		p, err := c.Pull(context.Background(), id, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Records...)
		if p.Next == "" {
			return out
		}
		cursor = p.Next
	}
	t.Fatal("pull does not end")
	return nil
}

func recordIDs(recs []connectors.Record) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

func TestRecordErrorsNameTheirColumn(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	id, _ := s.newTable(t, 1, true)
	good := connectortest.Writable(connectortest.FixtureRow(2))
	bad := func(key string, v any) map[string]any {
		r := connectortest.Writable(connectortest.FixtureRow(3))
		if v == nil {
			delete(r, key)
		} else {
			r[key] = v
		}
		return r
	}
	tests := []struct {
		fields map[string]any
		kind   connectors.ErrorKind
		field  string
	}{
		{bad(connectortest.KeySlug, "item-1"), connectors.Conflict, connectortest.KeySlug},
		{bad(connectortest.KeyTitle, nil), connectors.Invalid, connectortest.KeyTitle},
		{bad(connectortest.KeyMeta, json.RawMessage(`{"unclosed": `)), connectors.Invalid, connectortest.KeyMeta},
		{bad(connectortest.KeyPrice, json.Number("12345678901")), connectors.Invalid, connectortest.KeyPrice},
		{bad(connectortest.KeyTags, []string{"blue", "pink"}), connectors.Invalid, connectortest.KeyTags},
		{bad(connectortest.KeyCategory, "opinion"), connectors.Invalid, connectortest.KeyCategory},
		{bad(connectortest.KeyPublishedOn, "2024-02-30"), connectors.Invalid, connectortest.KeyPublishedOn},
		{bad(connectortest.KeyTitle, strings.Repeat("x", 201)), connectors.Invalid, connectortest.KeyTitle},
		{bad(connectortest.KeyTitleLength, json.Number("3")), connectors.Invalid, connectortest.KeyTitleLength},
	}
	recs := []connectors.NewRecord{{Fields: good}}
	for _, tt := range tests {
		recs = append(recs, connectors.NewRecord{Fields: tt.fields})
	}
	res, err := c.Create(context.Background(), id, recs)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].ID == "" {
		t.Fatalf("the good record: %+v", res[0])
	}
	for i, tt := range tests {
		e, ok := connectors.AsError(res[i+1].Err)
		if !ok || e.Kind != tt.kind || e.Field != tt.field || e.Message == "" {
			t.Errorf("record with a bad %s: %#v, want %s on %s", tt.field, res[i+1].Err, tt.kind, tt.field)
		}
	}
	if recs := MustPullAll(t, c, id, 100); len(recs) != 2 {
		t.Fatalf("the table holds %d records, want 2", len(recs))
	}
}

func TestConnectionErrors(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	ctx := context.Background()
	u, _ := url.Parse(s.url)
	missingDB := *u
	missingDB.Path = "/no_such_database_scratchpad"
	refused := *u
	refused.Host = "127.0.0.1:1"
	for _, tt := range []struct {
		url  string
		kind connectors.ErrorKind
	}{
		{missingDB.String(), connectors.Auth},
		{refused.String(), connectors.Unavailable},
	} {
		c, err := mysql.Open(ctx, tt.url)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Test(ctx)
		c.Close()
		if connectors.KindOf(err) != tt.kind || connectors.Message(err) == "" {
			t.Errorf("Test at %s: %v, want %s", tt.url, err, tt.kind)
		}
	}
}

// Text keys are ordered by their collation, case-blind here: the keyset
// comparison must use the same one, or pages skip and repeat keys.
func TestPullsCompositeAndCaseBlindTextKeys(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	ident := quote(s.database) + "." + quote(s.tableName(t))
	MustExec(t, s.db, "CREATE TABLE "+ident+" (shop int, code varchar(20) COLLATE utf8mb4_general_ci, title varchar(50) NOT NULL, PRIMARY KEY (shop, code))")
	var want []string
	for _, shop := range []int{2, 10} {
		for _, code := range []string{"b", "A", "c", "D", "f", "e"} {
			MustExec(t, s.db, "INSERT INTO "+ident+" VALUES (?, ?, ?)", shop, code, fmt.Sprint(shop, code))
		}
	}
	for _, shop := range []string{"2", "10"} {
		for _, code := range []string{"A", "b", "c", "D", "e", "f"} {
			b, _ := json.Marshal([]string{shop, code})
			want = append(want, string(b))
		}
	}
	recs := MustPullAll(t, c, ident, 2)
	if got := recordIDs(recs); !slicesEqualSet(got, want) || len(got) != len(want) {
		t.Fatalf("pulled %q, want %q", got, want)
	}
	ctx := context.Background()
	got, err := c.Fetch(ctx, ident, []string{`["10","d"]`, `["2","A"]`, `["3","A"]`, `not json`})
	if err != nil || len(got) != 2 {
		t.Fatalf("Fetch = %+v, %v", got, err)
	}
	res, err := c.Update(ctx, ident, []connectors.Change{
		{ID: `["10","D"]`, Fields: map[string]any{"title": "changed"}},
		{ID: `["3","A"]`, Fields: map[string]any{"title": "nowhere"}},
	})
	if err != nil || res[0].Err != nil || connectors.KindOf(res[1].Err) != connectors.NotFound {
		t.Fatalf("Update = %+v, %v", res, err)
	}
	res, err = c.Delete(ctx, ident, []string{`["2","b"]`, `["3","A"]`})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("Delete = %+v, %v", res, err)
	}
	if n := len(MustPullAll(t, c, ident, 5)); n != len(want)-1 {
		t.Fatalf("%d records after the delete, want %d", n, len(want)-1)
	}
}

func slicesEqualSet(a, b []string) bool {
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// A UUID kept in BINARY(16) travels as hex, which MySQL turns back into the
// key.
func TestBinaryKeysTravelAsHex(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	ctx := context.Background()
	ident := quote(s.database) + "." + quote(s.tableName(t))
	MustExec(t, s.db, "CREATE TABLE "+ident+" (id binary(16) PRIMARY KEY DEFAULT (UNHEX(REPLACE(UUID(), '-', ''))), title varchar(50) NOT NULL)")
	MustExec(t, s.db, "INSERT INTO "+ident+" (id, title) VALUES (UNHEX('00112233445566778899AABBCCDDEEFF'), 'fixed')")
	ids := MustCreate(t, c, ident, map[string]any{"title": "made"})
	if len(ids[0]) != 32 {
		t.Fatalf("created id %q, want 32 hex digits", ids[0])
	}
	recs := MustPullAll(t, c, ident, 1)
	if got := recordIDs(recs); len(got) != 2 || !slicesEqualSet(got, []string{"00112233445566778899AABBCCDDEEFF", ids[0]}) {
		t.Fatalf("pulled ids %q", got)
	}
	res, err := c.Update(ctx, ident, []connectors.Change{{ID: "00112233445566778899aabbccddeeff", Fields: map[string]any{"title": "renamed"}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Update = %+v, %v", res, err)
	}
	got, err := c.Fetch(ctx, ident, []string{"00112233445566778899AABBCCDDEEFF", "zz"})
	if err != nil || len(got) != 1 || got[0].Fields["title"] != "renamed" {
		t.Fatalf("Fetch = %+v, %v", got, err)
	}
	spec, err := c.TableSpec(ctx, ident)
	if err != nil || !spec.Columns[0].ReadOnly || spec.Columns[0].Required {
		t.Fatalf("a binary key column must be read-only and not required: %+v, %v", spec.Columns, err)
	}
}

// A view is listed and pulled but read-only; identical rows, which nothing
// tells apart, still get distinct ids, across pages.
func TestViewsAndDuplicateRows(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	ctx := context.Background()
	base := s.tableName(t)
	table := quote(s.database) + "." + quote(base)
	view := quote(s.database) + "." + quote(base+"_v")
	MustExec(t, s.db, "CREATE TABLE "+table+" (n int, label varchar(20))")
	MustExec(t, s.db, "INSERT INTO "+table+" VALUES (1, 'one'), (2, 'two'), (2, 'two'), (2, 'two'), (NULL, NULL), (3, 'three')")
	MustExec(t, s.db, "CREATE VIEW "+view+" AS SELECT n, label FROM "+table)
	listed, err := c.ListTables(ctx, base+"_v", 10)
	if err != nil || len(listed) != 1 || listed[0].ID != view || listed[0].Description != "view" {
		t.Fatalf("ListTables = %+v, %v", listed, err)
	}
	spec, err := c.TableSpec(ctx, view)
	if err != nil || spec.ReadOnly == "" || spec.EstimatedRecords != -1 {
		t.Fatalf("view spec: %+v, %v", spec, err)
	}
	for _, id := range []string{view, table} {
		for _, limit := range []int{1, 2, 100} {
			recs := MustPullAll(t, c, id, limit)
			ids := map[string]bool{}
			twos := 0
			for _, r := range recs {
				ids[r.ID] = true
				if r.Fields["label"] == "two" {
					twos++
				}
			}
			if len(recs) != 6 || len(ids) != 6 || twos != 3 {
				t.Fatalf("%s in pages of %d: %d records, %d ids, %d twos", id, limit, len(recs), len(ids), twos)
			}
			got, err := c.Fetch(ctx, id, recordIDs(recs))
			if err != nil || !slicesEqualSet(recordIDs(got), recordIDs(recs)) {
				t.Fatalf("Fetch of every id = %q, %v", recordIDs(got), err)
			}
		}
	}
	if _, err := c.Update(ctx, view, []connectors.Change{{ID: "x", Fields: map[string]any{"n": json.Number("1")}}}); connectors.KindOf(err) != connectors.Invalid {
		t.Fatalf("an update of a view: %v, want Invalid", err)
	}
}

// A statement that fails on a table of a non-transactional engine keeps the
// rows it wrote before failing, so batches there go one record at a time:
// the good records are written once.
func TestNonTransactionalTableWritesEachRecordOnce(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	ident := quote(s.database) + "." + quote(s.tableName(t))
	MustExec(t, s.db, "CREATE TABLE "+ident+" (id int AUTO_INCREMENT PRIMARY KEY, slug varchar(20) UNIQUE) ENGINE=MyISAM")
	res, err := c.Create(context.Background(), ident, []connectors.NewRecord{
		{Fields: map[string]any{"slug": "a"}}, {Fields: map[string]any{"slug": "a"}}, {Fields: map[string]any{"slug": "b"}},
	})
	if err != nil || res[0].Err != nil || connectors.KindOf(res[1].Err) != connectors.Conflict || res[2].Err != nil {
		t.Fatalf("Create = %+v, %v", res, err)
	}
	if n := len(MustPullAll(t, c, ident, 10)); n != 2 {
		t.Fatalf("the table holds %d rows, want 2", n)
	}
}

// TIMESTAMP values are stored in UTC and shown in the session's time zone:
// the connector's session is UTC whatever the server's is.
func TestTimestampsReadAndWriteInUTC(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	ctx := context.Background()
	ident := quote(s.database) + "." + quote(s.tableName(t))
	MustExec(t, s.db, "CREATE TABLE "+ident+" (id int PRIMARY KEY, at timestamp NULL, d datetime(3))")
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET time_zone = '+05:00'"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO "+ident+" VALUES (1, '2024-03-01 10:00:00', '2024-03-01 10:00:00.250')"); err != nil {
		t.Fatal(err)
	}
	MustCreate(t, c, ident, map[string]any{"id": json.Number("2"), "at": "2024-03-01T07:30:00+02:00", "d": "2024-03-01T05:30:00Z"})
	got, err := c.Fetch(ctx, ident, []string{"1", "2"})
	if err != nil || len(got) != 2 {
		t.Fatalf("Fetch = %+v, %v", got, err)
	}
	want := map[string][2]string{"1": {"2024-03-01T05:00:00Z", "2024-03-01T10:00:00Z"}, "2": {"2024-03-01T05:30:00Z", "2024-03-01T05:30:00Z"}}
	for _, r := range got {
		if r.Fields["at"] != want[r.ID][0] || r.Fields["d"] != want[r.ID][1] {
			t.Errorf("record %s: at %v, d %v, want %v", r.ID, r.Fields["at"], r.Fields["d"], want[r.ID])
		}
	}
}

// Every type reads in its canonical form, and the ones that cannot be
// written back say so.
func TestTypes(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	ctx := context.Background()
	ident := quote(s.database) + "." + quote(s.tableName(t))
	MustExec(t, s.db, "CREATE TABLE "+ident+` (
		id bigint unsigned PRIMARY KEY,
		small smallint, f float, d double, y year, b bit(4), flag tinyint(1), t time,
		c char(3), e enum('it''s', 'a\\b', 'x,y'), bin varbinary(8), txtbin blob, g point, j longtext CHECK (json_valid(j)))`)
	MustExec(t, s.db, "INSERT INTO "+ident+` VALUES
		(18446744073709551615, -5, 1.5, 0.1, 2024, b'1010', 7, '12:34:56', 'ab', 'a\\b', x'00ff', 'plain text', POINT(1, 2), '[1, {"a": null}]')`)
	spec, err := c.TableSpec(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]connectors.ColumnSpec{}
	for _, col := range spec.Columns {
		types[col.Key] = col
	}
	wantTypes := map[string]values.Type{"id": values.Number, "small": values.Number, "f": values.Number, "d": values.Number, "y": values.Number,
		"b": values.Number, "flag": values.Boolean, "t": values.Text, "c": values.Text, "e": values.Select, "bin": values.Text,
		"txtbin": values.Text, "g": values.Text, "j": values.JSON}
	for k, typ := range wantTypes {
		if types[k].Type != typ {
			t.Errorf("%s: type %s, want %s", k, types[k].Type, typ)
		}
	}
	for _, k := range []string{"bin", "txtbin", "g"} {
		if !types[k].ReadOnly {
			t.Errorf("%s must be read-only", k)
		}
	}
	if got := types["e"].Options; !slicesEqualSet(got, []string{"it's", `a\b`, "x,y"}) {
		t.Errorf("enum options %q", got)
	}
	got, err := c.Fetch(ctx, ident, []string{"18446744073709551615"})
	if err != nil || len(got) != 1 {
		t.Fatalf("Fetch = %+v, %v", got, err)
	}
	want := map[string]any{
		"id": json.Number("18446744073709551615"), "small": json.Number("-5"), "f": json.Number("1.5"), "d": json.Number("0.1"),
		"y": json.Number("2024"), "b": json.Number("10"), "flag": true, "t": "12:34:56", "c": "ab", "e": `a\b`,
		"bin": "0x00FF", "txtbin": "plain text", "g": "POINT(1 2)", "j": json.RawMessage(`[1, {"a": null}]`),
	}
	connectortest.MustEqualFields(t, "types", want, got[0].Fields)
	res, err := c.Update(ctx, ident, []connectors.Change{{ID: "18446744073709551615", Fields: map[string]any{
		"b": json.Number("5"), "flag": false, "t": "01:02:03", "e": "x,y", "j": json.RawMessage(`{"b": [true]}`), "f": json.Number("-2.25"),
	}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Update = %+v, %v", res, err)
	}
	got, _ = c.Fetch(ctx, ident, []string{"18446744073709551615"})
	want["b"], want["flag"], want["t"], want["e"], want["j"], want["f"] = json.Number("5"), false, "01:02:03", "x,y", json.RawMessage(`{"b": [true]}`), json.Number("-2.25")
	connectortest.MustEqualFields(t, "updated types", want, got[0].Fields)
}

// Records too long to share one statement are written in several, and
// keep their order.
func TestLongRecordsSplitStatements(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	id, _ := s.newTable(t, 0, true)
	var recs []map[string]any
	for i := range 20 {
		r := connectortest.Writable(connectortest.FixtureRow(600 + i))
		r[connectortest.KeyBody] = strings.Repeat(string(rune('a'+i)), 60_000)
		recs = append(recs, r)
	}
	ids := MustCreate(t, c, id, recs...)
	got, err := c.Fetch(context.Background(), id, ids)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("Fetch = %d, %v", len(got), err)
	}
	for _, r := range got {
		i := slicesIndex(ids, r.ID)
		if body, _ := r.Fields[connectortest.KeyBody].(string); len(body) != 60_000 || body[0] != byte('a'+i) {
			t.Errorf("record %s (created %d) has the body of another", r.ID, i)
		}
	}
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// The tables of the user's other databases are listed by database and
// name; the connection's own come first.
func TestListsOtherDatabases(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	other := newSource(t)
	id, name := other.newTable(t, 1, true)
	own, _ := s.newTable(t, 1, true)
	c := s.MustOpen(t)
	got, err := c.ListTables(context.Background(), name, 10)
	if err != nil || len(got) != 1 || got[0].ID != id || got[0].Name != name {
		t.Fatalf("ListTables(%q) = %+v, %v", name, got, err)
	}
	all, err := c.ListTables(context.Background(), "", 1)
	if err != nil || len(all) != 1 || all[0].ID != own {
		t.Fatalf("the first table listed is %+v, %v; want the connection's own %s", all, err, own)
	}
	if recs := MustPullAll(t, c, id, 10); len(recs) != 1 {
		t.Fatalf("pulled %d records from the other database", len(recs))
	}
}

func TestLookupCreatedComparesExactly(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	c := s.MustOpen(t)
	id, _ := s.newTable(t, 0, true)
	made := connectortest.Writable(connectortest.FixtureRow(700))
	made[connectortest.KeyTags] = []string{"red", "blue"}
	delete(made, connectortest.KeySlug) // unique: the two records share every other value
	ids := MustCreate(t, c, id, made, made)
	upper := connectortest.Writable(made)
	upper[connectortest.KeyTitle] = "ITEM 700"
	reordered := connectortest.Writable(made)
	reordered[connectortest.KeyMeta] = json.RawMessage(`{"nested": {"ok": true}, "n": 700}`)
	reordered[connectortest.KeyTags] = []string{"blue", "red"}
	fewerTags := connectortest.Writable(made)
	fewerTags[connectortest.KeyTags] = []string{"red"}
	got, err := c.LookupCreated(context.Background(), id, []connectors.NewRecord{{Fields: made}, {Fields: upper}, {Fields: reordered}, {Fields: fewerTags}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ids[1], "", ids[1], ""}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("LookupCreated = %q, want %q (the newest match, exact text, JSON by structure, sets by members)", got, want)
	}
}
