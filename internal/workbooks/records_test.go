package workbooks_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

func TestCreateRecordValidates(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateRecord(ctx, f.owner, f.wb.ID, f.table.ID, map[string]any{
		"Price": "abc", "SKU": "X1", "Colour": "red",
	})
	wantKind(t, err, apperr.Invalid)
	got := map[string]string{}
	for _, fe := range apperr.FieldsOf(err) {
		got[fe.Field] = fe.Message
	}
	want := map[string]string{
		"Price": "must be a number such as 12 or 12.5", "SKU": "is read-only",
		"Colour": "is not a column of this table", "Title": "is required",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("field errors = %v, want %v", got, want)
	}

	rec := f.MustRecord(t, map[string]any{"title": "Mug", f.col(t, "Price"): "12.5", "In stock": "yes"})
	if rec.State != workbooks.StateCreated || rec.Version != 1 || MustOriginal(t, rec) != nil {
		t.Errorf("created record = %+v", rec)
	}
	if rec.Fields[f.col(t, "Price")] != json.Number("12.5") || rec.Fields[f.col(t, "In stock")] != true {
		t.Errorf("fields = %v", rec.Fields)
	}
	wantEdited := []string{f.col(t, "Title"), f.col(t, "Price"), f.col(t, "In stock")}
	slices.Sort(wantEdited)
	if !slices.Equal(rec.EditedFields, wantEdited) {
		t.Errorf("edited fields = %v, want %v", rec.EditedFields, wantEdited)
	}
}

func TestUpdateRecord(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	title, price := f.col(t, "Title"), f.col(t, "Price")
	rec := f.MustPulled(t, "r1", map[string]any{"Title": "Mug", "Price": 10})
	if rec.State != workbooks.StateClean || rec.Version != 1 {
		t.Fatalf("pulled = %+v", rec)
	}

	rec, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "Big mug"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != workbooks.StateUpdated || rec.Version != 2 || !slices.Equal(rec.EditedFields, []string{title}) ||
		rec.Fields[title] != "Big mug" || MustOriginal(t, rec)[title] != "Mug" {
		t.Fatalf("after edit = %+v", rec)
	}

	t.Run("stale version is refused and changes nothing", func(t *testing.T) {
		_, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Price": 99}, 1)
		wantKind(t, err, apperr.StaleVersion)
		if msg := apperr.MessageOf(err); !strings.Contains(msg, "User ") || !strings.Contains(msg, "version 2") {
			t.Errorf("message %q does not name who changed it and the version", msg)
		}
		if got := f.MustFind(t, rec.ID); got.Version != 2 || got.Fields[price] != json.Number("10") {
			t.Errorf("record changed by a stale edit: %+v", got)
		}
	})

	t.Run("invalid values and required fields", func(t *testing.T) {
		_, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "", "SKU": "A"}, 2)
		wantKind(t, err, apperr.Invalid)
		if n := len(apperr.FieldsOf(err)); n != 2 {
			t.Errorf("field errors = %v", apperr.FieldsOf(err))
		}
	})

	// Editing back to the original value makes the record clean again.
	rec, err = f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "Mug", "Price": "11"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != workbooks.StateUpdated || !slices.Equal(rec.EditedFields, []string{price}) {
		t.Fatalf("after reverting title = %+v", rec)
	}
	rec, err = f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Price": 10.0}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != workbooks.StateClean || len(rec.EditedFields) != 0 || rec.Version != 4 {
		t.Fatalf("after reverting everything = %+v", rec)
	}

	// An edit that changes nothing writes nothing.
	same, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "Mug"}, 4)
	if err != nil || same.Version != 4 {
		t.Fatalf("no-op edit: %+v %v", same, err)
	}

	// A local create stays created whatever is edited.
	created := f.MustRecord(t, map[string]any{"Title": "Cup"})
	created, err = f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, created.ID, map[string]any{"Price": 3}, 1)
	if err != nil || created.State != workbooks.StateCreated || len(created.EditedFields) != 2 {
		t.Fatalf("edit created: %+v %v", created, err)
	}

	var changes int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM record_changes WHERE record_id = $1 AND action = 'edit'`, rec.ID).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	if changes != 4 {
		t.Errorf("audit entries = %d, want 4 (one per changed cell)", changes)
	}
}

// storedOriginal reads a record's original column as stored (nil: NULL).
func storedOriginal(tb testing.TB, f *fixture, id string) map[string]any {
	tb.Helper()
	var out map[string]any
	if err := f.pool.QueryRow(context.Background(), `SELECT original FROM records WHERE id = $1`, id).Scan(&out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// A record stores the values as pulled of the fields changed since the pull
// only (a sparse original): a field recorded once keeps its value as pulled,
// and a field the pull left empty is recorded as null.
func TestEditsRecordOnlyTheValuesTheyReplace(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	title, price, status := f.col(t, "Title"), f.col(t, "Price"), f.col(t, "Status")
	rec := f.MustPulled(t, "r1", map[string]any{"Title": "Mug", "Price": 10})
	edit := func(fields map[string]any) {
		t.Helper()
		var err error
		if rec, err = f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, fields, rec.Version); err != nil {
			t.Fatal(err)
		}
	}
	if got := storedOriginal(t, f, rec.ID); got != nil {
		t.Fatalf("pulled record stores original %v", got)
	}
	// A scratch column's value is never published: editing it records
	// nothing, and the original stays NULL.
	withNotes, err := f.svc.AddScratchColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Notes", values.Text)
	if err != nil {
		t.Fatal(err)
	}
	notesCol, _ := withNotes.Columns.Lookup("Notes")
	edit(map[string]any{"Notes": "check the photo"})
	if got := storedOriginal(t, f, rec.ID); got != nil || rec.State != workbooks.StateClean {
		t.Fatalf("after a scratch edit: stored original %v, state %s; want none, clean", got, rec.State)
	}

	edit(map[string]any{"Status": "Draft"})
	if got, want := storedOriginal(t, f, rec.ID), map[string]any{status: nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("after setting an empty field: stored %v, want %v", got, want)
	}
	edit(map[string]any{"Title": "Big mug"})
	edit(map[string]any{"Title": "Huge mug"})
	if got, want := storedOriginal(t, f, rec.ID), map[string]any{status: nil, title: "Mug"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after two title edits: stored %v, want %v", got, want)
	}
	// A scratch column has no value as pulled; Original reads its current
	// value, which publishing ignores with the column.
	orig := MustOriginal(t, rec)
	if want := map[string]any{title: "Mug", price: json.Number("10"), notesCol.ID: "check the photo"}; !reflect.DeepEqual(orig, want) {
		t.Errorf("Original() = %v, want %v", orig, want)
	}
	// OriginalValues reads the same values for the columns asked: the
	// pulled title, the status that was empty (absent), the price that
	// was never edited.
	some, err := rec.OriginalValues([]string{title, status, price})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{title: "Mug", price: json.Number("10")}; !reflect.DeepEqual(some, want) {
		t.Errorf("OriginalValues() = %v, want %v", some, want)
	}
	if !slices.Equal(rec.EditedFields, slices.Sorted(slices.Values([]string{title, status}))) || rec.State != workbooks.StateUpdated {
		t.Errorf("edited %v, state %s", rec.EditedFields, rec.State)
	}
	// Emptying the field the pull left empty, and restoring the title, is clean.
	edit(map[string]any{"Status": nil, "Title": "Mug"})
	if rec.State != workbooks.StateClean || len(rec.EditedFields) != 0 {
		t.Errorf("after editing back: edited %v, state %s", rec.EditedFields, rec.State)
	}
}

// The audit trail goes with its table, and outlives a deleted actor as
// an entry without one.
func TestRecordChangesFollowTheirTableAndActor(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	rec := f.MustPulled(t, "r1", map[string]any{"Title": "Mug"})
	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": "Big mug"}, 1); err != nil {
		t.Fatal(err)
	}
	other := MustUser(t, f.pool)
	if _, err := f.pool.Exec(ctx, `INSERT INTO record_changes (workbook_id, table_id, record_id, actor_id, action)
		VALUES ($1, $2, $3, $4, 'edit')`, f.wb.ID, f.table.ID, rec.ID, other); err != nil {
		t.Fatal(err)
	}
	count := func(where string, args ...any) int {
		t.Helper()
		var n int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM record_changes WHERE `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := f.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, other); err != nil {
		t.Fatal(err)
	}
	if n := count(`table_id = $1 AND actor_id IS NULL`, f.table.ID); n != 1 {
		t.Errorf("entries without an actor after deleting the actor: %d, want 1", n)
	}
	if n := count(`table_id = $1 AND actor_id = $2`, f.table.ID, f.owner); n != 1 {
		t.Errorf("the owner's entries: %d, want 1", n)
	}
	if err := f.svc.DeleteTable(ctx, f.owner, f.wb.ID, f.table.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(`table_id = $1`, f.table.ID); n != 0 {
		t.Errorf("entries of a deleted table: %d, want 0", n)
	}
}

func TestDeleteAndRestoreRecord(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	pulled := f.MustPulled(t, "r1", map[string]any{"Title": "Mug"})
	created := f.MustRecord(t, map[string]any{"Title": "Cup"})

	if err := f.svc.DeleteRecord(ctx, f.owner, f.wb.ID, f.table.ID, created.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FindRecord(ctx, f.owner, f.wb.ID, f.table.ID, created.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a deleted local create should be gone: %v", err)
	}
	if err := f.svc.DeleteRecord(ctx, f.owner, f.wb.ID, f.table.ID, pulled.ID); err != nil {
		t.Fatal(err)
	}
	got := f.MustFind(t, pulled.ID)
	if got.State != workbooks.StateDeleted || got.Version != 2 {
		t.Fatalf("deleted pulled record = %+v", got)
	}
	_, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, pulled.ID, map[string]any{"Title": "x"}, 2)
	wantKind(t, err, apperr.Conflict)
	restored, err := f.svc.RestoreRecord(ctx, f.owner, f.wb.ID, f.table.ID, pulled.ID)
	if err != nil || restored.State != workbooks.StateClean || restored.Version != 3 {
		t.Fatalf("restored = %+v %v", restored, err)
	}
}

// MustAllPages fetches every page of q and returns the records' titles in order,
// failing on a record seen twice.
func (f *fixture) MustAllPages(tb testing.TB, q workbooks.RecordQuery) ([]string, []workbooks.RecordPage) {
	tb.Helper()
	var titles []string
	var pages []workbooks.RecordPage
	seen := map[string]bool{}
	for i := 0; ; i++ {
		page, err := f.svc.FindRecords(context.Background(), f.owner, f.wb.ID, f.table.ID, q)
		if err != nil {
			tb.Fatalf("page %d: %v", i, err)
		}
		pages = append(pages, page)
		for _, r := range page.Records {
			if seen[r.ID] {
				tb.Fatalf("record %v returned twice", r.Fields)
			}
			seen[r.ID] = true
			t, _ := r.Fields[f.col(tb, "Title")].(string)
			titles = append(titles, t)
		}
		if page.NextCursor == "" {
			return titles, pages
		}
		if i > 100 {
			tb.Fatal("too many pages")
		}
		q.Cursor = page.NextCursor
	}
}

func TestFindRecordsPagesThroughTiesAndNulls(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	// Prices with ties and missing values, inserted out of order.
	prices := []any{3, nil, 1, 3, 2, nil, 3, 1, nil, 2, 3, 5}
	for i, p := range prices {
		fields := map[string]any{"Title": fmt.Sprintf("t%02d", i)}
		if p != nil {
			fields["Price"] = p
		}
		if i%2 == 0 {
			fields["Status"] = "Draft"
		}
		f.MustRecord(t, fields)
	}

	for _, limit := range []int{1, 2, 5, 50} {
		for _, sort := range []string{"", "Price", "-Price", "Title", "-status"} {
			t.Run(fmt.Sprintf("limit %d sort %q", limit, sort), func(t *testing.T) {
				titles, pages := f.MustAllPages(t, workbooks.RecordQuery{Sort: sort, Limit: limit})
				if len(titles) != len(prices) {
					t.Fatalf("got %d records, want %d: %v", len(titles), len(prices), titles)
				}
				if pages[0].EstimatedTotal != int64(len(prices)) || pages[0].TotalIsEstimate {
					t.Errorf("total = %d (estimate %v)", pages[0].EstimatedTotal, pages[0].TotalIsEstimate)
				}
				if sort == "Price" {
					want := []string{"t02", "t07", "t04", "t09", "t00", "t03", "t06", "t10", "t11", "t01", "t05", "t08"}
					if !slices.Equal(titles, want) {
						t.Errorf("order = %v, want %v", titles, want)
					}
				}
				if sort == "-Price" {
					want := []string{"t11", "t00", "t03", "t06", "t10", "t04", "t09", "t02", "t07", "t01", "t05", "t08"}
					if !slices.Equal(titles, want) {
						t.Errorf("order = %v, want %v", titles, want)
					}
				}
			})
		}
	}

	t.Run("filter", func(t *testing.T) {
		titles, pages := f.MustAllPages(t, workbooks.RecordQuery{Filter: "Price >= 2 AND status = 'Draft'", Sort: "-Price", Limit: 2})
		want := []string{"t00", "t06", "t10", "t04"}
		if !slices.Equal(titles, want) || pages[0].EstimatedTotal != 4 {
			t.Errorf("filtered = %v (total %d), want %v", titles, pages[0].EstimatedTotal, want)
		}
		titles, _ = f.MustAllPages(t, workbooks.RecordQuery{Filter: "Price IS NULL", Sort: "Price", Limit: 1})
		if !slices.Equal(titles, []string{"t01", "t05", "t08"}) {
			t.Errorf("nulls = %v", titles)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Filter: "Prise > 1"})
		wantKind(t, err, apperr.Invalid)
		if !strings.Contains(apperr.MessageOf(err), `"Prise"`) {
			t.Errorf("filter error message = %q", apperr.MessageOf(err))
		}
		_, err = f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Nope"})
		wantKind(t, err, apperr.Invalid)
		_, err = f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Has: "weird"})
		wantKind(t, err, apperr.Invalid)
		_, err = f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Cursor: "!!"})
		wantKind(t, err, apperr.Invalid)
		page, _ := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Price", Limit: 1})
		_, err = f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: "Title", Cursor: page.NextCursor})
		wantKind(t, err, apperr.Invalid)
	})
}

func TestFindRecordsQuickFiltersAndSuggestions(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	a := f.MustPulled(t, "a", map[string]any{"Title": "A"})
	b := f.MustPulled(t, "b", map[string]any{"Title": "B"})
	f.MustPulled(t, "c", map[string]any{"Title": "C"})
	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, a.ID, map[string]any{"Title": "A2"}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{{RecordID: b.ID, Fields: map[string]any{"Price": 4}}}, Deletes: []string{b.ID}}); err != nil {
		t.Fatal(err)
	}
	titles, _ := f.MustAllPages(t, workbooks.RecordQuery{Has: workbooks.HasEdits})
	if !slices.Equal(titles, []string{"A2"}) {
		t.Errorf("has edits = %v", titles)
	}
	page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Has: workbooks.HasSuggestions})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 || page.Records[0].ID != b.ID {
		t.Fatalf("has suggestions = %+v", page.Records)
	}
	r := page.Records[0]
	if r.Suggestions[f.col(t, "Price")] != json.Number("4") || r.SuggestedAction != "delete" {
		t.Errorf("suggestions = %v, action %q", r.Suggestions, r.SuggestedAction)
	}
}

// mustTitles fills the fixture's table with n records titled r1 to rN, as
// pulled (clean), and analyzes them.
func mustTitles(t *testing.T, f *fixture, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, fields, original)
		SELECT $1, $2, jsonb_build_object($3::text, 'r' || g), jsonb_build_object($3::text, 'r' || g)
		FROM generate_series(1, $4::int) g`, f.wb.ID, f.table.ID, f.col(t, "Title"), n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
}

func TestFindRecordsCountsBigTables(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	mustTitles(t, f, 12000)
	page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Filter: "Title LIKE 'r1%'", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// r1, r10–r19, r100–r199, r1000–r1999 and r10000–r12000: counted, as
	// under 10,000 match and counting them is quick, not estimated.
	if page.TotalIsEstimate || page.TotalIsAtLeast || page.EstimatedTotal != 3112 || len(page.Records) != 10 || page.NextCursor == "" {
		t.Errorf("page: %d records, total %d estimate %v at least %v, want 3112 counted", len(page.Records), page.EstimatedTotal, page.TotalIsEstimate, page.TotalIsAtLeast)
	}
	// Unfiltered, the total is the table's exact size (migration 00021).
	all, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if all.TotalIsEstimate || all.EstimatedTotal != 12000 || len(all.Records) != 10 {
		t.Errorf("unfiltered page: %d records, total %d estimate %v", len(all.Records), all.EstimatedTotal, all.TotalIsEstimate)
	}
}

// TestFindRecordsEstimatesACountOverItsBudget: in a table past the exact
// count's cap, a filtered count that takes longer than its budget gives
// way to the planner's estimate, labelled as one, and the page still
// comes. (The budget is cut to 1 ms here: counting some 25,000 records to
// find 10,001 matches takes longer on any machine.)
func TestFindRecordsEstimatesACountOverItsBudget(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	mustTitles(t, f, 60000)
	f.svc.SetCountBudget(time.Millisecond)
	page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Filter: "Title LIKE '%9%'", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 10 || !page.TotalIsEstimate || page.TotalIsAtLeast || page.EstimatedTotal <= 0 {
		t.Errorf("page: %d records, total %d estimate %v at least %v, want 10 records and an estimated total",
			len(page.Records), page.EstimatedTotal, page.TotalIsEstimate, page.TotalIsAtLeast)
	}
}

// TestFindRecordsRefusesForgedCursors checks that a cursor the store could
// not have issued is invalid input: one without a position, and one whose
// sort value its column's type cannot hold, which used to fail the page's
// query as an internal error.
func TestFindRecordsRefusesForgedCursors(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	f.MustPulled(t, "a", map[string]any{"Title": "A", "Price": 1})
	col := func(name string) string {
		c, ok := f.table.Columns.Lookup(name)
		if !ok {
			t.Fatalf("no column %s", name)
		}
		return c.ID
	}
	forge := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct {
		name, sort, cursor string
	}{
		{"empty object", "", forge(map[string]any{})},
		{"null", "", forge(nil)},
		{"no record", "", forge(map[string]any{"s": "", "q": 0})},
		{"a number that is not one", "Price", forge(map[string]any{"s": col("Price"), "v": "abc", "q": 1})},
		{"a boolean that is not one", "In stock", forge(map[string]any{"s": col("In stock"), "v": "maybe", "q": 1})},
		{"text with a NUL", "Title", forge(map[string]any{"s": col("Title"), "v": "A\x00", "q": 1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Sort: tt.sort, Cursor: tt.cursor})
			wantKind(t, err, apperr.Invalid)
		})
	}
}
