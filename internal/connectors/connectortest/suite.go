package connectortest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/connectors"
)

// Harness connects the suite to one service.
type Harness struct {
	// Open returns a connector to the data source that holds the fixture
	// tables; the suite closes it.
	Open func(t testing.TB) connectors.Connector
	// OpenWithBadCredentials returns a connector whose credentials the
	// service refuses.
	OpenWithBadCredentials func(t testing.TB) connectors.Connector
	// NewTable creates a fresh fixture table holding FixtureRow(1..rows)
	// and returns its remote id and its name, which is unique to it (tests
	// run in parallel, each on tables of its own).
	NewTable func(t testing.TB, rows int) (id, name string)
	// NewReadOnlyTable, when the service has tables it cannot write (a SQL
	// table without a primary key), creates one with FixtureRow(1..rows)
	// and returns its remote id.
	NewReadOnlyTable func(t testing.TB, rows int) string
}

// Run runs the conformance suite against h.
func Run(t *testing.T, h Harness) {
	t.Run("Test", func(t *testing.T) { t.Parallel(); testConnects(t, h) })
	t.Run("ListTables", func(t *testing.T) { t.Parallel(); testListTables(t, h) })
	t.Run("TableSpec", func(t *testing.T) { t.Parallel(); testTableSpec(t, h) })
	t.Run("PullPages", func(t *testing.T) { t.Parallel(); testPullPages(t, h) })
	t.Run("PullResumes", func(t *testing.T) { t.Parallel(); testPullResumes(t, h) })
	t.Run("Fetch", func(t *testing.T) { t.Parallel(); testFetch(t, h) })
	t.Run("CreateUpdateDelete", func(t *testing.T) { t.Parallel(); testWrites(t, h) })
	t.Run("RecordErrors", func(t *testing.T) { t.Parallel(); testRecordErrors(t, h) })
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); testRoundTrip(t, h) })
	t.Run("FullBatches", func(t *testing.T) { t.Parallel(); testFullBatches(t, h) })
	t.Run("LookupCreated", func(t *testing.T) { t.Parallel(); testLookupCreated(t, h) })
	t.Run("ReadOnlyTable", func(t *testing.T) { t.Parallel(); testReadOnlyTable(t, h) })
}

func open(t testing.TB, h Harness) connectors.Connector {
	t.Helper()
	c := h.Open(t)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testConnects(t *testing.T, h Harness) {
	ctx := context.Background()
	if err := open(t, h).Test(ctx); err != nil {
		t.Fatalf("Test: %v", err)
	}
	bad := h.OpenWithBadCredentials(t)
	defer bad.Close()
	err := bad.Test(ctx)
	if connectors.KindOf(err) != connectors.Auth {
		t.Fatalf("Test with bad credentials: %v, want an Auth error", err)
	}
	if msg := connectors.Message(err); msg == "" || strings.Contains(strings.ToLower(msg), "password=") {
		t.Fatalf("bad credentials message %q: want words for a person, without credentials", msg)
	}
	if l := open(t, h).Limits(); l.PageSize <= 0 || l.FetchBatch <= 0 || l.CreateBatch <= 0 || l.UpdateBatch <= 0 || l.DeleteBatch <= 0 {
		t.Fatalf("limits %+v: every batch size must be positive", l)
	}
}

func testListTables(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	id, name := h.NewTable(t, 1)
	got, err := c.ListTables(ctx, strings.ToUpper(name), 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != id || got[0].Name == "" {
		t.Fatalf("ListTables(%q) = %+v, want just %s", name, got, id)
	}
	if got, err := c.ListTables(ctx, "no such table 7f3a", 50); err != nil || len(got) != 0 {
		t.Fatalf("ListTables of nothing = %+v, %v", got, err)
	}
	h.NewTable(t, 1)
	h.NewTable(t, 1)
	if got, err := c.ListTables(ctx, "", 2); err != nil || len(got) != 2 {
		t.Fatalf("ListTables with limit 2 = %d tables, %v", len(got), err)
	}
}

func testTableSpec(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	id, _ := h.NewTable(t, 1)
	spec, err := c.TableSpec(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if spec.ID != id || spec.Name == "" || spec.ReadOnly != "" {
		t.Fatalf("spec %s %q read-only %q", spec.ID, spec.Name, spec.ReadOnly)
	}
	byKey := map[string]connectors.ColumnSpec{}
	for _, col := range spec.Columns {
		byKey[col.Key] = col
		if col.Name == "" || col.RemoteType == "" || !col.Type.Valid() {
			t.Errorf("column %+v: name, remote type and a valid type are required", col)
		}
	}
	for key, typ := range ExpectedTypes {
		col, ok := byKey[key]
		if !ok {
			t.Errorf("no column %s", key)
			continue
		}
		if col.Type != typ {
			t.Errorf("column %s has type %s, want %s", key, col.Type, typ)
		}
	}
	if !byKey[KeyID].ReadOnly || !byKey[KeyTitleLength].ReadOnly {
		t.Errorf("the id and the computed column must be read-only: %+v %+v", byKey[KeyID], byKey[KeyTitleLength])
	}
	if byKey[KeyTitle].ReadOnly || !byKey[KeyTitle].Required || byKey[KeyBody].Required {
		t.Errorf("title must be writable and required, body optional: %+v %+v", byKey[KeyTitle], byKey[KeyBody])
	}
	if got := byKey[KeyCategory].Options; !slices.Equal(sorted(got), FixtureCategories) {
		t.Errorf("category options %v, want %v", got, FixtureCategories)
	}
	if _, err := c.TableSpec(ctx, id+"_missing"); connectors.KindOf(err) != connectors.NotFound {
		t.Errorf("TableSpec of a missing table: %v, want NotFound", err)
	}
}

// pullAll reads every page of table id with limit, from cursor, and
// returns the records and the number of pages.
func pullAll(t testing.TB, c connectors.Connector, id, cursor string, limit int) ([]connectors.Record, int) {
	t.Helper()
	var recs []connectors.Record
	pages := 0
	for {
		p, err := c.Pull(context.Background(), id, cursor, limit)
		if err != nil {
			t.Fatalf("Pull after %q: %v", cursor, err)
		}
		pages++
		if len(p.Records) > limit {
			t.Fatalf("a page of %d records, limit %d", len(p.Records), limit)
		}
		recs = append(recs, p.Records...)
		if p.Next == "" {
			return recs, pages
		}
		if p.Next == cursor {
			t.Fatalf("the cursor did not move from %q", cursor)
		}
		if pages > 1000 {
			t.Fatal("pull does not end")
		}
		cursor = p.Next
	}
}

// byTitle indexes records by their title's number.
func byTitle(t testing.TB, recs []connectors.Record) map[int]connectors.Record {
	t.Helper()
	out := map[int]connectors.Record{}
	for _, r := range recs {
		var i int
		if _, err := fmt.Sscanf(fmt.Sprint(r.Fields[KeyTitle]), "Item %d", &i); err != nil {
			t.Fatalf("record %s has title %v", r.ID, r.Fields[KeyTitle])
		}
		if _, dup := out[i]; dup {
			t.Fatalf("item %d pulled twice", i)
		}
		out[i] = r
	}
	return out
}

func testPullPages(t *testing.T, h Harness) {
	const rows = 25
	c := open(t, h)
	id, _ := h.NewTable(t, rows)
	recs, pages := pullAll(t, c, id, "", 7)
	if len(recs) != rows || pages < 4 {
		t.Fatalf("pulled %d records in %d pages, want %d in at least 4", len(recs), pages, rows)
	}
	ids := map[string]bool{}
	for i, r := range byTitle(t, recs) {
		if r.ID == "" || ids[r.ID] {
			t.Fatalf("item %d has id %q, empty or seen before", i, r.ID)
		}
		ids[r.ID] = true
		MustEqualFields(t, fmt.Sprintf("item %d", i), FixtureRow(i), r.Fields)
		if fmt.Sprint(r.Fields[KeyID]) != r.ID {
			t.Errorf("item %d: id field %v, record id %s", i, r.Fields[KeyID], r.ID)
		}
	}
	if p, err := c.Pull(context.Background(), id+"_missing", "", 7); connectors.KindOf(err) != connectors.NotFound {
		t.Fatalf("Pull of a missing table: %+v %v, want NotFound", p, err)
	}
}

func testPullResumes(t *testing.T, h Harness) {
	const rows = 12
	id, _ := h.NewTable(t, rows)
	first, err := open(t, h).Pull(context.Background(), id, "", 5)
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %d records, next %q, %v", len(first.Records), first.Next, err)
	}
	// Another connector, as after a restart, carries on from the cursor.
	rest, _ := pullAll(t, open(t, h), id, first.Next, 5)
	all := byTitle(t, append(first.Records, rest...))
	if len(all) != rows {
		t.Fatalf("resumed pull read %d distinct records, want %d", len(all), rows)
	}
}

func testFetch(t *testing.T, h Harness) {
	c := open(t, h)
	id, _ := h.NewTable(t, 6)
	recs, _ := pullAll(t, c, id, "", 100)
	items := byTitle(t, recs)
	want := []string{items[2].ID, items[5].ID}
	missing := missingID(items[1].ID)
	got, err := c.Fetch(context.Background(), id, []string{want[0], missing, want[1]})
	if err != nil {
		t.Fatal(err)
	}
	fetched := byTitle(t, got)
	if len(got) != 2 || fetched[2].ID != want[0] || fetched[5].ID != want[1] {
		t.Fatalf("Fetch returned %+v, want items 2 and 5", got)
	}
	MustEqualFields(t, "fetched item 5", FixtureRow(5), fetched[5].Fields)

	// A connector that reads only some fields reads those exactly, and
	// every field when asked for none in particular.
	f, ok := c.(connectors.FieldFetcher)
	if !ok {
		return
	}
	got, err = f.FetchFields(context.Background(), id, []string{want[1]}, []string{KeyPrice, KeyTitle})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != want[1] || len(got[0].Fields) != 2 {
		t.Fatalf("FetchFields of the price and title returned %+v", got)
	}
	row := FixtureRow(5)
	MustEqualFields(t, "price and title of item 5", map[string]any{KeyPrice: row[KeyPrice], KeyTitle: row[KeyTitle]}, got[0].Fields)
	if got, err = f.FetchFields(context.Background(), id, []string{want[1]}, nil); err != nil || len(got) != 1 {
		t.Fatalf("FetchFields of every field: %+v, %v", got, err)
	}
	MustEqualFields(t, "every field of item 5", row, got[0].Fields)
}

// missingID returns an id of the same shape as like that no record has.
func missingID(like string) string {
	if _, ok := new(big.Int).SetString(like, 10); ok {
		return "987654321"
	}
	return like + "x"
}

func testWrites(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	id, _ := h.NewTable(t, 3)
	news := []connectors.NewRecord{{Fields: Writable(FixtureRow(101))}, {Fields: Writable(FixtureRow(102))}}
	res, err := c.Create(ctx, id, news)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Err != nil || res[1].Err != nil || res[0].ID == "" || res[0].ID == res[1].ID {
		t.Fatalf("Create = %+v", res)
	}
	got, err := c.Fetch(ctx, id, []string{res[0].ID, res[1].ID})
	if err != nil || len(got) != 2 {
		t.Fatalf("fetch created: %d, %v", len(got), err)
	}
	created := byTitle(t, got)
	MustEqualFields(t, "created item 101", FixtureRow(101), created[101].Fields)
	if created[101].ID != res[0].ID {
		t.Fatalf("create results out of order: %+v", res)
	}

	// An update writes the fields it names and leaves the others alone.
	res, err = c.Update(ctx, id, []connectors.Change{
		{ID: created[101].ID, Fields: map[string]any{KeyTitle: "Item 101", KeyPrice: json.Number("9.99"), KeyTags: []string{}}},
		{ID: created[102].ID, Fields: map[string]any{KeyBody: nil}},
	})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("Update = %+v, %v", res, err)
	}
	got, _ = c.Fetch(ctx, id, []string{created[101].ID, created[102].ID})
	updated := byTitle(t, got)
	want101 := FixtureRow(101)
	want101[KeyPrice], want101[KeyTags] = json.Number("9.99"), []string{}
	MustEqualFields(t, "updated item 101", want101, updated[101].Fields)
	want102 := FixtureRow(102)
	want102[KeyBody] = nil
	MustEqualFields(t, "updated item 102", want102, updated[102].Fields)

	// Deleting succeeds, also for a record that is already gone.
	gone := missingID(created[102].ID)
	res, err = c.Delete(ctx, id, []string{created[101].ID, gone})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("Delete = %+v, %v", res, err)
	}
	got, _ = c.Fetch(ctx, id, []string{created[101].ID, created[102].ID})
	if len(got) != 1 || got[0].ID != created[102].ID {
		t.Fatalf("after delete, fetch = %+v", got)
	}
	if recs, _ := pullAll(t, c, id, "", 100); len(recs) != 4 {
		t.Fatalf("table holds %d records, want 4", len(recs))
	}
}

func testRecordErrors(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	id, _ := h.NewTable(t, 2)
	// The middle record takes a slug the table already has: it fails
	// alone, and the records around it are written.
	dup := Writable(FixtureRow(202))
	dup[KeySlug] = "item-1"
	res, err := c.Create(ctx, id, []connectors.NewRecord{{Fields: Writable(FixtureRow(201))}, {Fields: dup}, {Fields: Writable(FixtureRow(203))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Err != nil || res[2].Err != nil || res[1].Err == nil {
		t.Fatalf("Create with one bad record = %+v", res)
	}
	if k := connectors.KindOf(res[1].Err); k != connectors.Conflict && k != connectors.Invalid {
		t.Fatalf("the duplicate's error %v, want Conflict or Invalid", res[1].Err)
	}
	if msg := connectors.Message(res[1].Err); msg == "" {
		t.Fatal("the duplicate's error has no message")
	}
	recs, _ := pullAll(t, c, id, "", 100)
	if len(recs) != 4 {
		t.Fatalf("table holds %d records, want 4", len(recs))
	}
	items := byTitle(t, recs)

	// Updates fail per record too: a taken slug, a record that is gone.
	res, err = c.Update(ctx, id, []connectors.Change{
		{ID: items[201].ID, Fields: map[string]any{KeySlug: "item-2"}},
		{ID: items[203].ID, Fields: map[string]any{KeyTitle: "Item 203"}},
		{ID: missingID(items[1].ID), Fields: map[string]any{KeyTitle: "Item 999"}},
	})
	if err != nil || len(res) != 3 {
		t.Fatalf("Update = %+v, %v", res, err)
	}
	if res[0].Err == nil || res[1].Err != nil || connectors.KindOf(res[2].Err) != connectors.NotFound {
		t.Fatalf("Update results %+v: want a conflict, a success, a NotFound", res)
	}
	// Creating a record without its required title fails alone.
	noTitle := Writable(FixtureRow(204))
	delete(noTitle, KeyTitle)
	res, err = c.Create(ctx, id, []connectors.NewRecord{{Fields: noTitle}})
	if err != nil || len(res) != 1 || res[0].Err == nil {
		t.Fatalf("Create without a required value = %+v, %v", res, err)
	}
}

func testRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	id, _ := h.NewTable(t, 0)
	tricky := Writable(FixtureRow(301))
	tricky[KeyBody] = "Line one\r\nline two\ttabbed; 'single' \"double\" \\ backslash, emoji 🎉, NUL-free, <b>html</b> & 日本語"
	tricky[KeyMeta] = json.RawMessage(`{"list": [1, 2.5, "three", null, {"deep": [true]}], "empty": {}}`)
	tricky[KeyTags] = []string{}
	tricky[KeyPrice] = json.Number("-12345.67")
	sparse := map[string]any{KeyTitle: "Item 302", KeySlug: "item-302"}
	res, err := c.Create(ctx, id, []connectors.NewRecord{{Fields: tricky}, {Fields: sparse}})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("Create = %+v, %v", res, err)
	}
	got, err := c.Fetch(ctx, id, []string{res[0].ID, res[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	items := byTitle(t, got)
	MustEqualFields(t, "tricky values", tricky, Writable(items[301].Fields))
	for _, k := range []string{KeyBody, KeyPrice, KeyInStock, KeyPublishedOn, KeyUpdatedAt, KeyMeta, KeyCategory} {
		if v := items[302].Fields[k]; v != nil {
			t.Errorf("unset %s reads back as %#v, want nil", k, v)
		}
	}
}

func testFullBatches(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	id, _ := h.NewTable(t, 0)
	l := c.Limits()
	n := min(l.CreateBatch, 500)
	news := make([]connectors.NewRecord, n)
	for i := range news {
		news[i] = connectors.NewRecord{Fields: Writable(FixtureRow(1000 + i))}
	}
	res, err := c.Create(ctx, id, news)
	if err != nil || len(res) != n {
		t.Fatalf("Create of a full batch of %d: %d results, %v", n, len(res), err)
	}
	changes := make([]connectors.Change, 0, min(l.UpdateBatch, n))
	for i := range cap(changes) {
		if res[i].Err != nil {
			t.Fatalf("record %d: %v", i, res[i].Err)
		}
		changes = append(changes, connectors.Change{ID: res[i].ID, Fields: map[string]any{KeyInStock: true}})
	}
	ures, err := c.Update(ctx, id, changes)
	if err != nil || len(ures) != len(changes) {
		t.Fatalf("Update of a full batch: %d results, %v", len(ures), err)
	}
	ids := make([]string, 0, min(l.FetchBatch, n))
	for i := range cap(ids) {
		ids = append(ids, res[i].ID)
	}
	got, err := c.Fetch(ctx, id, ids)
	if err != nil || len(got) != len(ids) {
		t.Fatalf("Fetch of a full batch: %d records, %v", len(got), err)
	}
}

func testLookupCreated(t *testing.T, h Harness) {
	ctx := context.Background()
	c := open(t, h)
	lk, ok := connectors.Lookup(c)
	if !ok {
		t.Skip("the connector cannot look up created records")
	}
	id, _ := h.NewTable(t, 2)
	made := connectors.NewRecord{Fields: Writable(FixtureRow(401))}
	res, err := c.Create(ctx, id, []connectors.NewRecord{made})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Create = %+v, %v", res, err)
	}
	never := connectors.NewRecord{Fields: Writable(FixtureRow(402))}
	got, err := lk.LookupCreated(ctx, id, []connectors.NewRecord{made, never})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != res[0].ID || got[1] != "" {
		t.Fatalf("LookupCreated = %q, want [%q \"\"]", got, res[0].ID)
	}
}

func testReadOnlyTable(t *testing.T, h Harness) {
	if h.NewReadOnlyTable == nil {
		t.Skip("the service has no read-only tables")
	}
	ctx := context.Background()
	c := open(t, h)
	id := h.NewReadOnlyTable(t, 3)
	spec, err := c.TableSpec(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if spec.ReadOnly == "" {
		t.Fatal("a table the service cannot write says nothing about it")
	}
	recs, _ := pullAll(t, c, id, "", 2)
	if len(byTitle(t, recs)) != 3 {
		t.Fatalf("pulled %d records of a read-only table, want 3", len(recs))
	}
	res, err := c.Create(ctx, id, []connectors.NewRecord{{Fields: Writable(FixtureRow(501))}})
	if err == nil && (len(res) != 1 || res[0].Err == nil) {
		t.Fatalf("a create in a read-only table succeeded: %+v", res)
	}
}

// MustEqualFields checks that got holds want's values, compared by meaning:
// numbers by value, JSON by structure, option lists in any order.
func MustEqualFields(t testing.TB, what string, want, got map[string]any) {
	t.Helper()
	for k, w := range want {
		if !EqualValues(w, got[k]) {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got[k], w)
		}
	}
}

// EqualValues compares two canonical values by meaning.
func EqualValues(a, b any) bool {
	switch av := a.(type) {
	case nil:
		if s, ok := b.([]string); ok {
			return len(s) == 0
		}
		return b == nil
	case json.Number:
		bv, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, ok1 := new(big.Float).SetString(av.String())
		y, ok2 := new(big.Float).SetString(bv.String())
		return ok1 && ok2 && x.Cmp(y) == 0
	case json.RawMessage:
		bv, ok := b.(json.RawMessage)
		if !ok {
			return false
		}
		var x, y any
		return json.Unmarshal(av, &x) == nil && json.Unmarshal(bv, &y) == nil && reflect.DeepEqual(x, y)
	case []string:
		if b == nil {
			return len(av) == 0
		}
		bv, ok := b.([]string)
		return ok && slices.Equal(sorted(av), sorted(bv))
	}
	return reflect.DeepEqual(a, b)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
