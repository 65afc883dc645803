package workbooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

func TestNeighboursFollowTheListingOrder(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	// Prices with ties and empty values, so both tiebreaks are exercised.
	prices := []any{30, 10, nil, 20, 10, nil, 40}
	for i, p := range prices {
		fields := map[string]any{"Title": fmt.Sprintf("R%d", i)}
		if p != nil {
			fields["Price"] = p
		}
		f.MustPulled(t, fmt.Sprintf("r%d", i), fields)
	}
	queries := []workbooks.RecordQuery{
		{},
		{Sort: "Price"},
		{Sort: "-Price"},
		{Sort: "Title", Filter: "Price >= 20 OR Price IS NULL"},
		{Sort: "-Title", Filter: "Price <> 30"},
	}
	for _, q := range queries {
		t.Run(q.Sort+"|"+q.Filter, func(t *testing.T) {
			t.Parallel()
			q.Limit = workbooks.MaxPageSize
			page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			// A big table's queries name the table as its partial indexes do;
			// the neighbours must not change with that.
			big := workbooks.NewService(f.pool)
			big.SetIndexThreshold(1)
			for name, svc := range map[string]*workbooks.Service{"small": f.svc, "big": big} {
				for i, r := range page.Records {
					prev, next, err := svc.Neighbours(ctx, f.owner, f.wb.ID, f.table.ID, r.ID, q)
					if err != nil {
						t.Fatal(err)
					}
					wantPrev, wantNext := "", ""
					if i > 0 {
						wantPrev = page.Records[i-1].ID
					}
					if i < len(page.Records)-1 {
						wantNext = page.Records[i+1].ID
					}
					if prev != wantPrev || next != wantNext {
						t.Errorf("%s table, record %d: neighbours (%s, %s), want (%s, %s)", name, i, prev, next, wantPrev, wantNext)
					}
				}
			}
		})
	}

	other := MustUser(t, f.pool)
	_, _, err := f.svc.Neighbours(ctx, other, f.wb.ID, f.table.ID, f.MustRecord(t, map[string]any{"Title": "x"}).ID, workbooks.RecordQuery{})
	wantKind(t, err, apperr.NotFound)
	_, _, err = f.svc.Neighbours(ctx, f.owner, f.wb.ID, f.table.ID, "00000000-0000-0000-0000-000000000000", workbooks.RecordQuery{})
	wantKind(t, err, apperr.NotFound)
}

// mustTitles creates one pulled record per title and returns them.
func (f *fixture) mustTitles(tb testing.TB, titles ...string) []workbooks.Record {
	tb.Helper()
	out := make([]workbooks.Record, len(titles))
	for i, title := range titles {
		out[i] = f.MustPulled(tb, fmt.Sprintf("t%d", i), map[string]any{"Title": title, "Price": i})
	}
	return out
}

func TestFindReplaceProposesSuggestions(t *testing.T) {
	t.Parallel()
	titles := []string{"Red mug", "red MUG", "Blue mug", "Red plate", "Mugshot"}
	cases := []struct {
		name string
		fr   workbooks.FindReplace
		want map[int]string // index → suggested title
	}{
		{"literal ignoring case", workbooks.FindReplace{Find: "mug", Replace: "cup"},
			map[int]string{0: "Red cup", 1: "red cup", 2: "Blue cup", 4: "cupshot"}},
		{"literal case-sensitive", workbooks.FindReplace{Find: "mug", Replace: "cup", CaseSensitive: true},
			map[int]string{0: "Red cup", 2: "Blue cup"}},
		{"literal treats regex characters as text", workbooks.FindReplace{Find: "R.d", Replace: "x"}, map[int]string{}},
		{"regex with groups", workbooks.FindReplace{Find: `^(red|blue) (\w+)$`, Replace: "$2 ($1)", Regex: true},
			map[int]string{0: "mug (Red)", 1: "MUG (red)", 2: "mug (Blue)", 3: "plate (Red)"}},
		{"regex case-sensitive", workbooks.FindReplace{Find: `^R\w+`, Replace: "Crimson", Regex: true, CaseSensitive: true},
			map[int]string{0: "Crimson mug", 3: "Crimson plate"}},
		{"scoped by the filter", workbooks.FindReplace{Find: "mug", Replace: "cup", Query: workbooks.RecordQuery{Filter: "Price >= 2"}},
			map[int]string{2: "Blue cup", 4: "cupshot"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := MustFixture(t)
			ctx := context.Background()
			recs := f.mustTitles(t, titles...)
			tc.fr.Column = "Title"
			preview := tc.fr
			preview.Preview = true
			n, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, preview)
			if err != nil || n != len(tc.want) {
				t.Fatalf("preview = %d, %v; want %d", n, err, len(tc.want))
			}
			if c, _ := f.svc.Counters(ctx, f.owner, f.wb.ID, f.table.ID); c.PendingSuggestions != 0 {
				t.Fatalf("preview proposed %d suggestions", c.PendingSuggestions)
			}
			applied, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, tc.fr)
			if err != nil || applied != n {
				t.Fatalf("apply = %d, %v; want the preview's %d", applied, err, n)
			}
			title := f.col(t, "Title")
			for i, r := range recs {
				got := f.MustFind(t, r.ID)
				if got.Fields[title] != titles[i] || got.Version != 1 {
					t.Errorf("record %d was edited: %v (version %d)", i, got.Fields[title], got.Version)
				}
				want, ok := tc.want[i]
				sug, has := got.Suggestions[title]
				if has != ok || (ok && sug != want) {
					t.Errorf("record %d suggestion = %v (%v), want %q (%v)", i, sug, has, want, ok)
				}
			}
		})
	}
}

func TestFindReplaceRefinesPendingSuggestionsAndPagesThroughEverything(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	title := f.col(t, "Title")
	// More records than one scan batch, to prove every match is found.
	const n = 1203
	_, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, remote_id, fields, original)
		SELECT $1, $2, 'r' || i, jsonb_build_object($3::text, 'Item ' || i || ' colour'), jsonb_build_object($3::text, 'Item ' || i || ' colour')
		FROM generate_series(1, $4::int) i`, f.wb.ID, f.table.ID, title, n)
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{Filter: "Title = 'Item 7 colour'"})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("find: %v %v", page.Records, err)
	}
	seven := page.Records[0]
	if _, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{{RecordID: seven.ID, Fields: map[string]any{"Title": "Lucky colour 7"}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.FindReplace{Column: title, Find: "colour", Replace: "color", CaseSensitive: true})
	if err != nil || got != n {
		t.Fatalf("apply = %d, %v; want %d", got, err, n)
	}
	if c, _ := f.svc.Counters(ctx, f.owner, f.wb.ID, f.table.ID); c.PendingSuggestions != n {
		t.Errorf("pending = %d, want %d", c.PendingSuggestions, n)
	}
	if s := f.MustFind(t, seven.ID).Suggestions[title]; s != "Lucky color 7" {
		t.Errorf("pending suggestion refined to %v, want %q", s, "Lucky color 7")
	}
}

func TestFindReplaceRefusals(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	f.mustTitles(t, "Mug")
	cases := []struct {
		name  string
		fr    workbooks.FindReplace
		field string
	}{
		{"bad regex", workbooks.FindReplace{Column: "Title", Find: "(unclosed", Regex: true}, "find"},
		{"empty find", workbooks.FindReplace{Column: "Title"}, "find"},
		{"number column", workbooks.FindReplace{Column: "Price", Find: "1"}, "column"},
		{"read-only column", workbooks.FindReplace{Column: "SKU", Find: "1"}, "column"},
		{"unknown column", workbooks.FindReplace{Column: "Nope", Find: "1"}, "column"},
		{"bad filter", workbooks.FindReplace{Column: "Title", Find: "M", Query: workbooks.RecordQuery{Filter: "Title ="}}, "filter"},
		{"required value emptied", workbooks.FindReplace{Column: "Title", Find: "Mug"}, "Title"},
	}
	for _, tc := range cases {
		_, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, tc.fr)
		wantKind(t, err, apperr.Invalid)
		if fe := apperr.FieldsOf(err); len(fe) == 0 || fe[0].Field != tc.field {
			t.Errorf("%s: field errors %v, want one on %q", tc.name, fe, tc.field)
		}
	}
	if c, _ := f.svc.Counters(ctx, f.owner, f.wb.ID, f.table.ID); c.PendingSuggestions != 0 {
		t.Errorf("refusals proposed %d suggestions", c.PendingSuggestions)
	}
	other := MustUser(t, f.pool)
	_, err := f.svc.FindReplace(ctx, other, f.wb.ID, f.table.ID, workbooks.FindReplace{Column: "Title", Find: "M"})
	wantKind(t, err, apperr.NotFound)
}

func TestFillColumn(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	recs := f.mustTitles(t, "A", "B", "C", "D") // prices 0..3
	price, status := f.col(t, "Price"), f.col(t, "Status")

	// The selection: two records, as edits with an audit entry each.
	n, err := f.svc.FillColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Status", "published",
		workbooks.Scope{RecordIDs: []string{recs[0].ID, recs[2].ID}})
	if err != nil || n != 2 {
		t.Fatalf("fill selection = %d, %v", n, err)
	}
	for i, r := range recs {
		got := f.MustFind(t, r.ID)
		filled := i == 0 || i == 2
		if filled != (got.Fields[status] == "Published") || filled != (got.State == workbooks.StateUpdated) || filled != (got.Version == 2) {
			t.Errorf("record %d after fill: %v state %s version %d", i, got.Fields[status], got.State, got.Version)
		}
		if filled && !slices.Equal(got.EditedFields, []string{status}) {
			t.Errorf("record %d edited fields = %v", i, got.EditedFields)
		}
	}
	var audits int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM record_changes WHERE table_id = $1 AND action = 'fill' AND field = $2 AND after = '"Published"'`,
		f.table.ID, status).Scan(&audits); err != nil || audits != 2 {
		t.Errorf("fill audit entries = %d, %v", audits, err)
	}

	// The filtered records; cells that already hold the value do not change.
	n, err = f.svc.FillColumn(ctx, f.owner, f.wb.ID, f.table.ID, price, "9.5", workbooks.Scope{Query: workbooks.RecordQuery{Filter: "Price >= 2"}})
	if err != nil || n != 2 {
		t.Fatalf("fill filtered = %d, %v", n, err)
	}
	n, err = f.svc.FillColumn(ctx, f.owner, f.wb.ID, f.table.ID, price, "9.5", workbooks.Scope{Query: workbooks.RecordQuery{Filter: "Title IN ('C', 'D')"}})
	if err != nil || n != 0 {
		t.Fatalf("refill = %d, %v; want 0", n, err)
	}
	for i, r := range recs {
		want := json.Number(fmt.Sprint(i))
		if i >= 2 {
			want = "9.5"
		}
		if got := f.MustFind(t, r.ID).Fields[price]; got != want {
			t.Errorf("record %d price = %v, want %v", i, got, want)
		}
	}

	// An empty value empties the cells; filling back the pulled value makes
	// the record clean again.
	if n, err = f.svc.FillColumn(ctx, f.owner, f.wb.ID, f.table.ID, status, "", workbooks.Scope{RecordIDs: []string{recs[0].ID}}); err != nil || n != 1 {
		t.Fatalf("empty fill = %d, %v", n, err)
	}
	if got := f.MustFind(t, recs[0].ID); got.State != workbooks.StateClean || got.Fields[status] != nil {
		t.Errorf("emptied record = %+v", got)
	}

	refusals := []struct {
		column, value string
		scope         workbooks.Scope
		kind          apperr.Kind
	}{
		{"Price", "twelve", workbooks.Scope{}, apperr.Invalid},
		{"Status", "Archived", workbooks.Scope{}, apperr.Invalid},
		{"Title", "", workbooks.Scope{}, apperr.Invalid},
		{"SKU", "X", workbooks.Scope{}, apperr.Invalid},
		{"Price", "1", workbooks.Scope{Query: workbooks.RecordQuery{Filter: "Nope = 1"}}, apperr.Invalid},
		{"Price", "1", workbooks.Scope{RecordIDs: []string{"00000000-0000-0000-0000-000000000000"}}, apperr.NotFound},
	}
	for _, r := range refusals {
		_, err := f.svc.FillColumn(ctx, f.owner, f.wb.ID, f.table.ID, r.column, r.value, r.scope)
		wantKind(t, err, r.kind)
	}
	other := MustUser(t, f.pool)
	_, err = f.svc.FillColumn(ctx, other, f.wb.ID, f.table.ID, "Price", "1", workbooks.Scope{})
	wantKind(t, err, apperr.NotFound)
}

// TestFindReplaceKeepsCase is issue 9's item 10: with KeepCase the
// replacement follows the case of each match.
func TestFindReplaceKeepsCase(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	title := f.col(t, "Title")
	want := map[string]string{
		"LAMP for the DESK": "LIGHT for the DESK",
		"Lamp, small":       "Light, small",
		"a lamp":            "a light",
		"lAmP":              "light", // mixed: as written
	}
	ids := map[string]string{}
	for before := range want {
		ids[before] = f.MustRecord(t, map[string]any{"Title": before}).ID
	}
	if _, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.FindReplace{Column: title, Find: "lamp", Replace: "light", KeepCase: true}); err != nil {
		t.Fatal(err)
	}
	for before, after := range want {
		if got := f.MustFind(t, ids[before]).Suggestions[title]; got != after {
			t.Errorf("%q became %q, want %q", before, got, after)
		}
	}
}
