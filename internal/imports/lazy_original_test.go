package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// Imported records store no original: for a record that is not a draft, the
// original holds the values as pulled of the fields changed since (NULL:
// none changed), and every statement that changes fields records the values
// it replaces first (see sp_original). These tests edit imported records
// through each such statement and check that the values as imported are
// never lost, and that only the replaced values are stored.

// lazyFixture is a fixture with an imported table of three products.
type lazyFixture struct {
	*fixture
	table               workbooks.Table
	title, price, notes string
	mug, lamp, desk     workbooks.Record // as imported
}

func MustLazy(tb testing.TB) *lazyFixture {
	tb.Helper()
	f := &lazyFixture{fixture: MustFixture(tb, Options{})}
	up := f.MustUpload(tb, "products.csv", "Title,Price,Notes\nMug,5,blue\nLamp,9,\nDesk,9,oak\n")
	p, err := f.svc.Preview(context.Background(), f.owner, f.wbID, up.ID)
	if err != nil {
		tb.Fatal(err)
	}
	choices := DefaultChoices(p)
	choices[1].Type = values.Number
	u, table := f.MustStart(tb, up.ID, ImportInput{TableName: "Products", Columns: choices})
	if u = f.MustRun(tb, u); u.Status != StatusDone || u.RowsImported != 3 {
		tb.Fatalf("import: %+v", u)
	}
	f.table = table
	f.title, f.price, f.notes = colID(tb, table, "Title"), colID(tb, table, "Price"), colID(tb, table, "Notes")
	recs := f.records(tb, table.ID)
	f.mug, f.lamp, f.desk = recs[0], recs[1], recs[2]
	return f
}

// storedOriginal reads a record's original column as stored: nil when lazy.
func (f *lazyFixture) storedOriginal(tb testing.TB, id string) map[string]any {
	tb.Helper()
	var raw []byte
	if err := f.pool.QueryRow(context.Background(), `SELECT original FROM records WHERE id = $1`, id).Scan(&raw); err != nil {
		tb.Fatal(err)
	}
	if raw == nil {
		return nil
	}
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func (f *lazyFixture) find(tb testing.TB, id string) workbooks.Record {
	tb.Helper()
	r, err := f.wb.FindRecord(context.Background(), f.owner, f.wbID, f.table.ID, id)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// mustOriginal returns a record's original values.
func mustOriginal(tb testing.TB, r workbooks.Record) map[string]any {
	tb.Helper()
	orig, err := r.Original()
	if err != nil {
		tb.Fatal(err)
	}
	return orig
}

// wantRecord checks a record's state, edited fields and original (which
// must always read as the values imported).
func (f *lazyFixture) wantRecord(tb testing.TB, id string, imported workbooks.Record, state workbooks.RecordState, edited []string) workbooks.Record {
	tb.Helper()
	r := f.find(tb, id)
	edited = slices.Sorted(slices.Values(edited)) // edited fields are sorted by id
	if r.State != state || !slices.Equal(r.EditedFields, edited) {
		tb.Errorf("record %v: state %s edited %v, want %s %v", r.Fields, r.State, r.EditedFields, state, edited)
	}
	if orig := mustOriginal(tb, r); !reflect.DeepEqual(orig, imported.Fields) {
		tb.Errorf("record original %v, want the imported %v", orig, imported.Fields)
	}
	return r
}

func TestImportedRecordsReadTheirFieldsAsOriginal(t *testing.T) {
	t.Parallel()
	f := MustLazy(t)
	for _, r := range []workbooks.Record{f.mug, f.lamp, f.desk} {
		if got := f.storedOriginal(t, r.ID); got != nil {
			t.Errorf("record %v stores original %v, want none", r.Fields, got)
		}
		if r.State != workbooks.StateClean || len(r.EditedFields) != 0 || !reflect.DeepEqual(mustOriginal(t, r), r.Fields) {
			t.Errorf("imported record %+v", r)
		}
	}
	// The original read is a copy: changing it leaves the fields alone.
	mustOriginal(t, f.mug)[f.title] = "changed"
	if f.mug.Fields[f.title] != "Mug" {
		t.Errorf("fields changed with the original: %v", f.mug.Fields)
	}
	// Deleting and restoring leave fields alone, and the record lazy.
	ctx := context.Background()
	if err := f.wb.DeleteRecord(ctx, f.owner, f.wbID, f.table.ID, f.lamp.ID); err != nil {
		t.Fatal(err)
	}
	f.wantRecord(t, f.lamp.ID, f.lamp, workbooks.StateDeleted, []string{})
	if _, err := f.wb.RestoreRecord(ctx, f.owner, f.wbID, f.table.ID, f.lamp.ID); err != nil {
		t.Fatal(err)
	}
	f.wantRecord(t, f.lamp.ID, f.lamp, workbooks.StateClean, []string{})
	if got := f.storedOriginal(t, f.lamp.ID); got != nil {
		t.Errorf("restored record stores original %v", got)
	}
}

func TestImportedRecordEditedBackIsClean(t *testing.T) {
	t.Parallel()
	f := MustLazy(t)
	ctx := context.Background()
	edit := func(fields map[string]any, version int) {
		t.Helper()
		if _, err := f.wb.UpdateRecord(ctx, f.owner, f.wbID, f.table.ID, f.mug.ID, fields, version); err != nil {
			t.Fatal(err)
		}
	}

	edit(map[string]any{"Title": "Big mug"}, 1)
	f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateUpdated, []string{f.title})
	if got, want := f.storedOriginal(t, f.mug.ID), map[string]any{f.title: "Mug"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stored original after the first edit %v, want %v", got, want)
	}
	// A second edit compares with the original, not with the first edit.
	edit(map[string]any{"Price": "6"}, 2)
	f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateUpdated, []string{f.price, f.title})

	edit(map[string]any{"Title": "Mug", "Price": "5"}, 3)
	r := f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateClean, []string{})
	if !reflect.DeepEqual(r.Fields, f.mug.Fields) {
		t.Errorf("fields %v, want %v", r.Fields, f.mug.Fields)
	}
	// Emptying a cell and filling it again is clean too.
	edit(map[string]any{"Notes": nil}, 4)
	f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateUpdated, []string{f.notes})
	edit(map[string]any{"Notes": "blue"}, 5)
	f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateClean, []string{})

	// The batch API edits through the same statement.
	batch := func(notes string, version int) {
		t.Helper()
		if _, err := f.wb.BatchRecords(ctx, f.owner, f.wbID, f.table.ID, workbooks.Batch{
			Updates: []workbooks.BatchUpdate{{RecordID: f.desk.ID, Fields: map[string]any{"Notes": notes}, Version: version}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	batch("pine", 1)
	f.wantRecord(t, f.desk.ID, f.desk, workbooks.StateUpdated, []string{f.notes})
	batch("oak", 2)
	f.wantRecord(t, f.desk.ID, f.desk, workbooks.StateClean, []string{})
	// The untouched record is still lazy.
	f.wantRecord(t, f.lamp.ID, f.lamp, workbooks.StateClean, []string{})
	if got := f.storedOriginal(t, f.lamp.ID); got != nil {
		t.Errorf("untouched record stores original %v", got)
	}
}

func TestAcceptingSuggestionOnImportedRecord(t *testing.T) {
	t.Parallel()
	f := MustLazy(t)
	ctx := context.Background()
	if _, err := f.wb.ProposeSuggestions(ctx, f.owner, f.wbID, f.table.ID, workbooks.Proposal{
		Source: workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{
			{RecordID: f.mug.ID, Fields: map[string]any{"Title": "Mug XL"}},
			{RecordID: f.lamp.ID, Fields: map[string]any{"Notes": "bright"}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.wb.AcceptSuggestions(ctx, f.owner, f.wbID, f.table.ID, workbooks.Selector{Cells: []workbooks.Cell{{RecordID: f.mug.ID, Field: "Title"}}}); err != nil {
		t.Fatal(err)
	}
	r := f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateUpdated, []string{f.title})
	if r.Fields[f.title] != "Mug XL" || r.Fields[f.price] != json.Number("5") {
		t.Errorf("fields %v", r.Fields)
	}
	if got, want := f.storedOriginal(t, f.mug.ID), map[string]any{f.title: "Mug"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stored original %v, want the imported title only: %v", got, want)
	}
	// The other suggestion waits, and its record stays lazy.
	f.wantRecord(t, f.lamp.ID, f.lamp, workbooks.StateClean, []string{})
	if got := f.storedOriginal(t, f.lamp.ID); got != nil {
		t.Errorf("record with a pending suggestion stores original %v", got)
	}

	// Accepting the imported value back makes the record clean.
	if _, err := f.wb.ProposeSuggestions(ctx, f.owner, f.wbID, f.table.ID, workbooks.Proposal{
		Source:  workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{{RecordID: f.mug.ID, Fields: map[string]any{"Title": "Mug"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.wb.AcceptSuggestions(ctx, f.owner, f.wbID, f.table.ID, workbooks.Selector{Field: "Title"}); err != nil {
		t.Fatal(err)
	}
	f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateClean, []string{})
}

func TestFillColumnOnImportedRecords(t *testing.T) {
	t.Parallel()
	f := MustLazy(t)
	ctx := context.Background()
	all := workbooks.Scope{Query: workbooks.RecordQuery{}}

	// Mug costs 5, the others 9: filling 9 changes the mug only.
	n, err := f.wb.FillColumn(ctx, f.owner, f.wbID, f.table.ID, "Price", "9", all)
	if err != nil || n != 1 {
		t.Fatalf("fill 9: %d records, %v", n, err)
	}
	f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateUpdated, []string{f.price})
	if got, want := f.storedOriginal(t, f.mug.ID), map[string]any{f.price: json.Number("5")}; !reflect.DeepEqual(got, want) {
		t.Errorf("stored original %v, want the imported price only: %v", got, want)
	}
	for _, r := range []workbooks.Record{f.lamp, f.desk} {
		f.wantRecord(t, r.ID, r, workbooks.StateClean, []string{})
		if got := f.storedOriginal(t, r.ID); got != nil {
			t.Errorf("unchanged record %v stores original %v", r.Fields, got)
		}
	}

	// Filling 5 brings the mug back to its imported price and moves the others.
	n, err = f.wb.FillColumn(ctx, f.owner, f.wbID, f.table.ID, "Price", "5", all)
	if err != nil || n != 3 {
		t.Fatalf("fill 5: %d records, %v", n, err)
	}
	f.wantRecord(t, f.mug.ID, f.mug, workbooks.StateClean, []string{})
	for _, r := range []workbooks.Record{f.lamp, f.desk} {
		got := f.wantRecord(t, r.ID, r, workbooks.StateUpdated, []string{f.price})
		if got.Fields[f.price] != json.Number("5") {
			t.Errorf("record %v: price %v", r.Fields, got.Fields[f.price])
		}
	}

	// Emptying the column of the lamp only.
	n, err = f.wb.FillColumn(ctx, f.owner, f.wbID, f.table.ID, "Notes", "", workbooks.Scope{RecordIDs: []string{f.desk.ID}})
	if err != nil || n != 1 {
		t.Fatalf("empty notes: %d records, %v", n, err)
	}
	f.wantRecord(t, f.desk.ID, f.desk, workbooks.StateUpdated, []string{f.notes, f.price})
}
