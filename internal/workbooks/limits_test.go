package workbooks_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestCellSizeCapOnEveryWritePath checks that a value over MaxCellBytes is
// refused, with a field error naming the column, by each way values enter
// the record store, and that nothing changes; a value of exactly
// MaxCellBytes is taken.
func TestCellSizeCapOnEveryWritePath(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	const title = "Mug, mug, mug, mug, mug"
	rec := f.MustRecord(t, map[string]any{"Title": title})
	over := strings.Repeat("x", workbooks.MaxCellBytes+1)
	wantField := func(t *testing.T, err error, field string) {
		t.Helper()
		wantKind(t, err, apperr.Invalid)
		for _, fe := range apperr.FieldsOf(err) {
			if fe.Field == field && strings.Contains(fe.Message, "larger than 256 KiB") {
				return
			}
		}
		t.Errorf("field errors %v, want %s: larger than 256 KiB", apperr.FieldsOf(err), field)
	}
	paths := []struct {
		name  string
		field string
		write func() error
	}{
		{"create", "Title", func() error {
			_, err := f.svc.CreateRecord(ctx, f.owner, f.wb.ID, f.table.ID, map[string]any{"Title": over})
			return err
		}},
		{"update", "Title", func() error {
			_, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": over}, rec.Version)
			return err
		}},
		{"batch create", "creates[0].Title", func() error {
			_, err := f.svc.BatchRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Batch{Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": over}}}})
			return err
		}},
		{"batch update", "updates[0].Title", func() error {
			_, err := f.svc.BatchRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Batch{Updates: []workbooks.BatchUpdate{{RecordID: rec.ID, Fields: map[string]any{"Title": over}, Version: rec.Version}}})
			return err
		}},
		{"fill", "value", func() error {
			_, err := f.svc.FillColumn(ctx, f.owner, f.wb.ID, f.table.ID, "Title", over, workbooks.Scope{RecordIDs: []string{rec.ID}})
			return err
		}},
		{"propose update", "Title", func() error {
			_, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent,
				Updates: []workbooks.RecordUpdate{{RecordID: rec.ID, Fields: map[string]any{"Title": over}}}})
			return err
		}},
		{"propose create", "Title", func() error {
			_, err := f.svc.ProposeSuggestions(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Proposal{Source: workbooks.SourceAgent,
				Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": over}}}})
			return err
		}},
		{"find & replace", "replace", func() error {
			// Five matches of 60,000 bytes each.
			_, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.FindReplace{Column: "Title", Find: "mug",
				Replace: strings.Repeat("x", 60000)})
			return err
		}},
		{"NormalizeValue", "Title", func() error {
			col, _ := f.table.Columns.Lookup("Title")
			_, err := workbooks.NormalizeValue(col, over)
			return err
		}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			wantField(t, p.write(), p.field)
		})
	}
	if got := f.MustFind(t, rec.ID); got.Version != rec.Version || got.Fields[f.col(t, "Title")] != title || len(got.Suggestions) != 0 {
		t.Errorf("record changed by refused writes: version %d, %d suggestions", got.Version, len(got.Suggestions))
	}
	c, err := f.svc.Counters(ctx, f.owner, f.wb.ID, f.table.ID)
	if err != nil || c.PendingSuggestions != 0 {
		t.Errorf("counters %+v, %v", c, err)
	}

	atCap := strings.Repeat("x", workbooks.MaxCellBytes)
	if _, err := f.svc.UpdateRecord(ctx, f.owner, f.wb.ID, f.table.ID, rec.ID, map[string]any{"Title": atCap}, rec.Version); err != nil {
		t.Errorf("a value of exactly MaxCellBytes: %v", err)
	}
}

// TestCellSizeCapCountsEveryType checks the cap on JSON (insignificant
// space aside) and multi-select values too.
func TestCellSizeCapCountsEveryType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		col  workbooks.Column
		raw  any
		ok   bool
	}{
		{"json at the cap", workbooks.Column{Name: "Meta", Type: values.JSON}, json.RawMessage(`"` + strings.Repeat("j", workbooks.MaxCellBytes-2) + `"`), true},
		{"json over the cap", workbooks.Column{Name: "Meta", Type: values.JSON}, json.RawMessage(`"` + strings.Repeat("j", workbooks.MaxCellBytes) + `"`), false},
		{"indented json under the cap", workbooks.Column{Name: "Meta", Type: values.JSON},
			json.RawMessage("[\n" + strings.Repeat("        1,\n", workbooks.MaxCellBytes/11) + "        1\n]"), true},
		{"json text over the cap", workbooks.Column{Name: "Meta", Type: values.JSON}, strings.Repeat("j", workbooks.MaxCellBytes), false},
		{"multi select over the cap", workbooks.Column{Name: "Tags", Type: values.MultiSelect},
			[]string{strings.Repeat("a", workbooks.MaxCellBytes/2), strings.Repeat("b", workbooks.MaxCellBytes/2)}, false},
		{"url over the cap", workbooks.Column{Name: "Link", Type: values.Text, Format: values.FormatURL},
			"https://example.com/" + strings.Repeat("p", workbooks.MaxCellBytes), false},
	}
	for _, tc := range cases {
		_, err := workbooks.NormalizeValue(tc.col, tc.raw)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// mustTitledRecords inserts n records titled "Item <i> colour" as an import
// would, quickly.
func (f *fixture) mustTitledRecords(tb testing.TB, n int) {
	tb.Helper()
	title := f.col(tb, "Title")
	_, err := f.pool.Exec(context.Background(), `INSERT INTO records (workbook_id, table_id, remote_id, fields)
		SELECT $1, $2, 'r' || i, jsonb_build_object($3::text, 'Item ' || i || ' colour')
		FROM generate_series(1, $4::int) i`, f.wb.ID, f.table.ID, title, n)
	if err != nil {
		tb.Fatal(err)
	}
}

// TestFindReplaceWorkIsBounded replays the reports of issue 7: a preview
// with a 900,000-character replacement over 5,000 rows (which took the
// process from 75 MB to 1.7 GB) and a replacement of $1 × 100,000 (19 s of
// CPU). Both, and their variants within the replacement cap, are refused
// quickly with a field error, and nothing is proposed.
func TestFindReplaceWorkIsBounded(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	f.mustTitledRecords(t, 5000)
	cases := []struct {
		name   string
		fr     workbooks.FindReplace
		kind   apperr.Kind
		field  string
		within time.Duration
	}{
		{"900,000-character replacement", workbooks.FindReplace{Find: "colour", Replace: strings.Repeat("x", 900000), Preview: true},
			apperr.Invalid, "replace", time.Second},
		{"$1 × 100,000", workbooks.FindReplace{Find: "(.+)", Replace: strings.Repeat("$1", 100000), Regex: true, Preview: true},
			apperr.Invalid, "replace", time.Second},
		{"$1 × 30,000, within the replacement cap", workbooks.FindReplace{Find: "(.+)", Replace: strings.Repeat("$1", 30000), Regex: true},
			apperr.Invalid, "replace", time.Second},
		{"60 KB on every row, previewed: 300 MB in all", workbooks.FindReplace{Find: "colour", Replace: strings.Repeat("x", 60000), Preview: true},
			apperr.TooLarge, "filter", 5 * time.Second},
		// Applying writes up to the bound before it is passed, then
		// rolls back: bounded work, not instant.
		{"the same, applied", workbooks.FindReplace{Find: "colour", Replace: strings.Repeat("x", 60000)},
			apperr.TooLarge, "filter", 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.fr.Column = "Title"
			start := time.Now()
			_, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, tc.fr)
			elapsed := time.Since(start)
			wantKind(t, err, tc.kind)
			if fe := apperr.FieldsOf(err); len(fe) != 1 || fe[0].Field != tc.field {
				t.Errorf("field errors %v, want one on %s", fe, tc.field)
			}
			if elapsed > tc.within {
				t.Errorf("refusing took %v, want at most %v", elapsed, tc.within)
			}
			t.Logf("%s: refused in %v: %s", tc.name, elapsed, apperr.MessageOf(err))
		})
	}
	if c, err := f.svc.Counters(ctx, f.owner, f.wb.ID, f.table.ID); err != nil || c.PendingSuggestions != 0 {
		t.Errorf("counters %+v, %v; want nothing proposed", c, err)
	}
	// A replacement that fits is made on every row, across scan batches.
	n, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.FindReplace{Column: "Title", Find: "colour", Replace: strings.Repeat("x", 2000)})
	if err != nil || n != 5000 {
		t.Fatalf("a 10 MB replacement = %d, %v; want 5000", n, err)
	}
}

// TestFindReplaceReadsLongCellsInSmallBatches checks that the scan pages
// through cells larger than a batch's byte budget without losing any.
func TestFindReplaceReadsLongCellsInSmallBatches(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	title := f.col(t, "Title")
	// 100 bodies of 200 KB: 20 MB, a few batches' worth.
	_, err := f.pool.Exec(ctx, `INSERT INTO records (workbook_id, table_id, remote_id, fields)
		SELECT $1, $2, 'r' || i, jsonb_build_object($3::text, 'Body ' || i || ' ' || repeat('lorem ipsum ', 17000))
		FROM generate_series(1, 100) i`, f.wb.ID, f.table.ID, title)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.FindReplace(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.FindReplace{Column: "Title", Find: `^Body (\d+) `, Replace: "Article $1: ", Regex: true, Preview: true})
	if err != nil || n != 100 {
		t.Fatalf("preview = %d, %v; want 100", n, err)
	}
}
