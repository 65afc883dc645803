package workbooks_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// suggestionFixture has three pulled records with value suggestions on
// Title and Price, a proposed create and a proposed delete.
type suggestionFixture struct {
	*fixture
	a, b, c workbooks.Record
	draftID string
}

func MustSuggestions(tb testing.TB) *suggestionFixture {
	tb.Helper()
	f := &suggestionFixture{fixture: MustFixture(tb)}
	f.a = f.MustPulled(tb, "a", map[string]any{"Title": "A", "Price": 1})
	f.b = f.MustPulled(tb, "b", map[string]any{"Title": "B", "Price": 2})
	f.c = f.MustPulled(tb, "c", map[string]any{"Title": "C", "Price": 3})
	counts, err := f.svc.ProposeSuggestions(context.Background(), f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{
		Source: workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{
			{RecordID: f.a.ID, Fields: map[string]any{"Title": "A!", "Price": "10"}},
			{RecordID: f.b.ID, Fields: map[string]any{"Title": "B!", "Price": 2}}, // Price unchanged: not stored
		},
		Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "New"}}},
		Deletes: []string{f.c.ID},
	})
	if err != nil {
		tb.Fatalf("propose: %v", err)
	}
	if counts != (workbooks.SuggestionCounts{Updates: 3, Creates: 1, Deletes: 1}) {
		tb.Fatalf("proposed counts = %+v", counts)
	}
	page, err := f.svc.FindRecords(context.Background(), f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Filter: "Title = 'New'"})
	if err != nil || len(page.Records) != 1 {
		tb.Fatalf("find draft: %v %v", page.Records, err)
	}
	f.draftID = page.Records[0].ID
	if page.Records[0].SuggestedAction != "create" || page.Records[0].State != workbooks.StateCreated {
		tb.Fatalf("draft = %+v", page.Records[0])
	}
	return f
}

func (f *suggestionFixture) counters(tb testing.TB) workbooks.TableCounters {
	tb.Helper()
	c, err := f.svc.Counters(context.Background(), f.owner, f.wb.ID, f.table.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestProposeLeavesValuesAndReplacesOlderSuggestions(t *testing.T) {
	t.Parallel()
	f := MustSuggestions(t)
	ctx := context.Background()
	title := f.col(t, "Title")
	a := f.MustFind(t, f.a.ID)
	if a.Fields[title] != "A" || a.Version != 1 || a.State != workbooks.StateClean || a.Suggestions[title] != "A!" {
		t.Fatalf("a = %+v", a)
	}
	if c := f.counters(t); c != (workbooks.TableCounters{UnpublishedChanges: 0, PendingSuggestions: 5}) {
		t.Errorf("counters = %+v", c)
	}
	// A newer suggestion replaces the older one; one equal to the current
	// value drops it.
	counts, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceCSVImport,
		Updates: []workbooks.RecordUpdate{{RecordID: f.a.ID, Fields: map[string]any{"Title": "A?", "Price": 1}}}})
	if err != nil || counts.Updates != 1 {
		t.Fatalf("re-propose: %+v %v", counts, err)
	}
	a = f.MustFind(t, f.a.ID)
	if a.Suggestions[title] != "A?" || len(a.Suggestions) != 1 {
		t.Errorf("suggestions = %v", a.Suggestions)
	}
	_, err = f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAPI,
		Updates: []workbooks.RecordUpdate{{RecordID: f.a.ID, Fields: map[string]any{"Price": "cheap"}}}})
	wantKind(t, err, apperr.Invalid)
	_, err = f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: "gossip"})
	wantKind(t, err, apperr.Invalid)
}

func TestAcceptSuggestions(t *testing.T) {
	t.Parallel()
	title, price := "Title", "Price"
	tests := []struct {
		name   string
		sel    func(f *suggestionFixture) workbooks.Selector
		want   workbooks.SuggestionCounts
		check  func(t *testing.T, f *suggestionFixture)
		remain int64
	}{
		{
			name: "all",
			sel:  func(*suggestionFixture) workbooks.Selector { return workbooks.Selector{All: true} },
			want: workbooks.SuggestionCounts{Updates: 3, Creates: 1, Deletes: 1},
			check: func(t *testing.T, f *suggestionFixture) {
				a := f.MustFind(t, f.a.ID)
				wantEdited := []string{f.col(t, title), f.col(t, price)}
				slices.Sort(wantEdited)
				if a.Fields[f.col(t, title)] != "A!" || a.Fields[f.col(t, price)] != json.Number("10") ||
					a.State != workbooks.StateUpdated || a.Version != 2 || !slices.Equal(a.EditedFields, wantEdited) {
					t.Errorf("a = %+v", a)
				}
				if c := f.MustFind(t, f.c.ID); c.State != workbooks.StateDeleted {
					t.Errorf("c = %+v", c)
				}
				if d := f.MustFind(t, f.draftID); d.SuggestedAction != "" || d.State != workbooks.StateCreated {
					t.Errorf("draft = %+v", d)
				}
				// a, b updated; c deleted; the accepted create.
				if n := f.counters(t).UnpublishedChanges; n != 4 {
					t.Errorf("unpublished = %d, want 4", n)
				}
			},
		},
		{
			name: "record",
			sel: func(f *suggestionFixture) workbooks.Selector {
				return workbooks.Selector{RecordIDs: []string{f.a.ID, f.c.ID}}
			},
			want: workbooks.SuggestionCounts{Updates: 2, Deletes: 1},
			check: func(t *testing.T, f *suggestionFixture) {
				if b := f.MustFind(t, f.b.ID); b.State != workbooks.StateClean || len(b.Suggestions) != 1 {
					t.Errorf("b = %+v", b)
				}
			},
			remain: 2,
		},
		{
			name: "cell",
			sel: func(f *suggestionFixture) workbooks.Selector {
				return workbooks.Selector{Cells: []workbooks.Cell{{RecordID: f.a.ID, Field: price}, {RecordID: f.b.ID, Field: price}}}
			},
			want: workbooks.SuggestionCounts{Updates: 1},
			check: func(t *testing.T, f *suggestionFixture) {
				a := f.MustFind(t, f.a.ID)
				if a.Fields[f.col(t, title)] != "A" || a.Fields[f.col(t, price)] != json.Number("10") ||
					!slices.Equal(a.EditedFields, []string{f.col(t, price)}) {
					t.Errorf("a = %+v", a)
				}
			},
			remain: 4,
		},
		{
			name: "field",
			sel:  func(*suggestionFixture) workbooks.Selector { return workbooks.Selector{Field: "title"} },
			want: workbooks.SuggestionCounts{Updates: 2},
			check: func(t *testing.T, f *suggestionFixture) {
				if b := f.MustFind(t, f.b.ID); b.Fields[f.col(t, title)] != "B!" || b.State != workbooks.StateUpdated {
					t.Errorf("b = %+v", b)
				}
			},
			remain: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := MustSuggestions(t)
			got, err := f.svc.AcceptSuggestions(context.Background(), f.owner, f.wb.ID, f.table.ID, tt.sel(f))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("counts = %+v, want %+v", got, tt.want)
			}
			tt.check(t, f)
			if n := f.counters(t).PendingSuggestions; n != tt.remain {
				t.Errorf("pending = %d, want %d", n, tt.remain)
			}
			var audits int
			if err := f.pool.QueryRow(context.Background(),
				`SELECT count(*) FROM record_changes WHERE action LIKE 'accept%'`).Scan(&audits); err != nil {
				t.Fatal(err)
			}
			if audits != got.Total() {
				t.Errorf("audit entries = %d, want %d", audits, got.Total())
			}
		})
	}
}

func TestAcceptedValueEqualToOriginalLeavesRecordClean(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	r := f.MustPulled(t, "r", map[string]any{"Title": "A"})
	r, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, r.ID, map[string]any{"Title": "B"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{{RecordID: r.ID, Fields: map[string]any{"Title": "A"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Selector{All: true}); err != nil {
		t.Fatal(err)
	}
	if got := f.MustFind(t, r.ID); got.State != workbooks.StateClean || len(got.EditedFields) != 0 || got.Version != 3 {
		t.Errorf("record = %+v", got)
	}
}

func TestRejectSuggestions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sel    func(f *suggestionFixture) workbooks.Selector
		want   workbooks.SuggestionCounts
		remain int64
	}{
		{"all", func(*suggestionFixture) workbooks.Selector { return workbooks.Selector{All: true} },
			workbooks.SuggestionCounts{Updates: 3, Creates: 1, Deletes: 1}, 0},
		{"records", func(f *suggestionFixture) workbooks.Selector {
			return workbooks.Selector{RecordIDs: []string{f.draftID, f.b.ID}}
		}, workbooks.SuggestionCounts{Updates: 1, Creates: 1}, 3},
		{"cell", func(f *suggestionFixture) workbooks.Selector {
			return workbooks.Selector{Cells: []workbooks.Cell{{RecordID: f.a.ID, Field: "Title"}}}
		}, workbooks.SuggestionCounts{Updates: 1}, 4},
		{"field", func(*suggestionFixture) workbooks.Selector { return workbooks.Selector{Field: "Price"} },
			workbooks.SuggestionCounts{Updates: 1}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := MustSuggestions(t)
			got, err := f.svc.RejectSuggestions(context.Background(), f.owner, f.wb.ID, f.table.ID, tt.sel(f))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("counts = %+v, want %+v", got, tt.want)
			}
			if n := f.counters(t).PendingSuggestions; n != tt.remain {
				t.Errorf("pending = %d, want %d", n, tt.remain)
			}
			// Values never change on reject.
			for _, r := range []workbooks.Record{f.a, f.b, f.c} {
				if got := f.MustFind(t, r.ID); got.Version != 1 || got.State != workbooks.StateClean {
					t.Errorf("record %v changed: %+v", r.Fields, got)
				}
			}
			_, err = f.svc.FindRecord(context.Background(), f.owner, f.wb.ID, f.table.ID, f.draftID)
			if removed := apperr.Is(err, apperr.NotFound); removed != (tt.want.Creates == 1) {
				t.Errorf("draft removed = %v (err %v), want %v", removed, err, tt.want.Creates == 1)
			}
		})
	}
	t.Run("empty selector", func(t *testing.T) {
		t.Parallel()
		f := MustFixture(t)
		_, err := f.svc.RejectSuggestions(context.Background(), f.owner, f.wb.ID, f.table.ID, workbooks.Selector{})
		wantKind(t, err, apperr.Invalid)
	})
}

// A malformed record id in a selector names no record: accepting or
// rejecting with it is NotFound, as every other method answers such an id,
// and nothing is decided, not even the selector's well-formed part.
func TestSelectorsWithMalformedRecordIDsAreNotFound(t *testing.T) {
	t.Parallel()
	f := MustSuggestions(t)
	ctx := context.Background()
	selectors := map[string]workbooks.Selector{
		"record":        {RecordIDs: []string{f.a.ID, "not-a-uuid"}},
		"cell":          {Cells: []workbooks.Cell{{RecordID: f.a.ID, Field: "Title"}, {RecordID: "1; DROP TABLE records", Field: "Title"}}},
		"record of all": {All: true, RecordIDs: []string{"' OR '1'='1"}},
	}
	for name, sel := range selectors {
		_, err := f.svc.AcceptSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, sel)
		wantKind(t, err, apperr.NotFound)
		_, err = f.svc.RejectSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, sel)
		wantKind(t, err, apperr.NotFound)
		if n := f.counters(t).PendingSuggestions; n != 5 {
			t.Errorf("%s: pending = %d after refused decisions, want 5", name, n)
		}
	}
	// A well-formed id of no record chooses nothing.
	counts, err := f.svc.AcceptSuggestions(ctx, f.owner, f.wb.ID, f.table.ID,
		workbooks.Selector{RecordIDs: []string{"00000000-0000-0000-0000-000000000000"}})
	if err != nil || counts.Total() != 0 {
		t.Errorf("accept for an unknown record = %+v, %v; want nothing, no error", counts, err)
	}
}

// An edit committed while an accept-all waits for its record's row lock is
// kept: the accept's UPDATE recomputes the record from the edited version
// (PostgreSQL's re-check of a concurrently updated row), so both changes
// land, the values as pulled of both fields are recorded, and both fields
// count as edited.
func TestAcceptAllKeepsAnEditCommittedMeanwhile(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	title, price := f.col(t, "Title"), f.col(t, "Price")
	rec := f.MustPulled(t, "r1", map[string]any{"Title": "Mug", "Price": 10})
	if _, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{
		Source: workbooks.SourceAgent, Updates: []workbooks.RecordUpdate{{RecordID: rec.ID, Fields: map[string]any{"Title": "Big mug"}}},
	}); err != nil {
		t.Fatal(err)
	}

	// The edit, as UpdateRecordFields writes it, holds the row uncommitted.
	edit, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer edit.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := edit.Exec(ctx, `UPDATE records SET
			original = sp_touch_original(state, fields, original, ARRAY[$2]),
			fields = fields || jsonb_build_object($2, 12),
			edited_fields = ARRAY[$2], state = 'updated', version = version + 1
		WHERE id = $1`, rec.ID, price); err != nil {
		t.Fatal(err)
	}
	accepted := make(chan error, 1)
	go func() {
		_, err := f.svc.AcceptSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Selector{All: true})
		accepted <- err
	}()
	testdb.WaitForLockWaiter(t, f.pool)
	if err := edit.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}

	got := f.MustFind(t, rec.ID)
	if got.Fields[title] != "Big mug" || got.Fields[price] != json.Number("12") {
		t.Errorf("fields %v, want the accepted title and the edited price", got.Fields)
	}
	if got.Version != 3 || got.State != workbooks.StateUpdated || !slices.Equal(got.EditedFields, slices.Sorted(slices.Values([]string{title, price}))) {
		t.Errorf("version %d, state %s, edited %v", got.Version, got.State, got.EditedFields)
	}
	if orig := MustOriginal(t, got); orig[title] != "Mug" || orig[price] != json.Number("10") {
		t.Errorf("values as pulled %v, want Mug and 10", orig)
	}
}

// TestProposeAnUpdateOfNoFields checks that an update naming no fields
// proposes nothing (its record must still exist): it used to send the
// store a JSON null for its list of cells, which failed as an internal error.
func TestProposeAnUpdateOfNoFields(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	rec := f.MustPulled(t, "a", map[string]any{"Title": "A"})
	for _, fields := range []map[string]any{nil, {}} {
		counts, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{
			Source: workbooks.SourceAPI, Updates: []workbooks.RecordUpdate{{RecordID: rec.ID, Fields: fields}}})
		if err != nil || counts.Total() != 0 {
			t.Errorf("fields %v: counts %+v, err %v", fields, counts, err)
		}
	}
	_, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{
		Source: workbooks.SourceAPI, Updates: []workbooks.RecordUpdate{{RecordID: "00000000-0000-4000-8000-000000000000"}}})
	wantKind(t, err, apperr.NotFound)
}
