package imports

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestImportReportsOversizedCells checks that a cell larger than the record
// store's MaxCellBytes does not fail an import: it is left empty and
// reported as a problem naming its row and column, whether its column is
// plain text (imported without normalizing), a url or a json column; the
// rest of the file is imported.
func TestImportReportsOversizedCells(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	big := strings.Repeat("x", workbooks.MaxCellBytes+1)
	content := "title,body,link,meta\n" +
		"Short,fine,https://example.com/a,{}\n" +
		"Long," + big + ",https://example.com/" + big + ",\"\"\"" + big + "\"\"\"\n" +
		"Last,fine too,https://example.com/b,[]\n"
	up := f.MustUpload(t, "long.csv", content)
	u, table := f.MustStart(t, up.ID, ImportInput{TableName: "Long", Columns: []ColumnChoice{
		{Index: 0, Name: "title", Type: values.Text},
		{Index: 1, Name: "body", Type: values.Text, Format: values.FormatPlain},
		{Index: 2, Name: "link", Type: values.Text, Format: values.FormatURL},
		{Index: 3, Name: "meta", Type: values.JSON},
	}})
	u = f.MustRun(t, u)
	if u.Status != StatusDone || u.RowsImported != 3 || u.CellErrors != 3 {
		t.Fatalf("import %s: %d rows, %d cell errors; want done, 3 rows, 3 cell errors (%+v)", u.Status, u.RowsImported, u.CellErrors, u.Problems)
	}
	var got []string
	for _, p := range u.Problems {
		got = append(got, p.String())
	}
	want := []string{
		"row 3, column 2 (body): is larger than 256 KiB, the most a cell can hold",
		"row 3, column 3 (link): is larger than 256 KiB, the most a cell can hold",
		"row 3, column 4 (meta): is larger than 256 KiB, the most a cell can hold",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	recs := f.records(t, table.ID)
	body := colID(t, table, "body")
	if recs[1].Fields[colID(t, table, "title")] != "Long" || recs[1].Fields[body] != nil || recs[1].Problems[body] == "" {
		t.Errorf("record of row 3: fields without body, error on it; got errors %v", recs[1].Problems)
	}
	if recs[2].Fields[body] != "fine too" {
		t.Errorf("row 4 = %v", recs[2].Fields)
	}
}

// TestImportSuggestionsReportOversizedCells checks the same of an import as
// suggestions: the oversized cell is a problem, the others are proposed.
func TestImportSuggestionsReportOversizedCells(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	table := f.mustImport(t, "Catalog", "sku,title,body\nA1,Lamp,old\nA2,Desk,old\n")
	big := strings.Repeat("y", workbooks.MaxCellBytes+1)
	rep, err := f.svc.ImportSuggestions(context.Background(), f.owner, f.wbID, table.ID,
		strings.NewReader("sku,title,body\nA1,Lamp XL,"+big+"\nA2,Desk,new\n"), "sku", false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Matched != 2 || rep.Cells != 2 || len(rep.Problems) != 1 ||
		rep.Problems[0].String() != "row 2, column 3 (body): is larger than 256 KiB, the most a cell can hold" {
		t.Fatalf("report: matched %d, cells %d, problems %v", rep.Matched, rep.Cells, rep.Problems)
	}
}

// TestImportReportsCellsOfTheWrongForm checks that cells values.Parse
// refuses are problems, not failures: a url that is none, JSON nested too
// deep, a number with an exponent and a boolean that is neither; the rest
// of the file is kept.
func TestImportReportsCellsOfTheWrongForm(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	deep := strings.Repeat("[", 65) + strings.Repeat("]", 65)
	content := "link,meta,price,active\n" +
		"example.com," + deep + ",1e3,maybe\n" +
		"https://example.com,{},12.50,yes\n"
	up := f.MustUpload(t, "wrong.csv", content)
	u, table := f.MustStart(t, up.ID, ImportInput{TableName: "Wrong", Columns: []ColumnChoice{
		{Index: 0, Name: "link", Type: values.Text, Format: values.FormatURL},
		{Index: 1, Name: "meta", Type: values.JSON},
		{Index: 2, Name: "price", Type: values.Number},
		{Index: 3, Name: "active", Type: values.Boolean},
	}})
	u = f.MustRun(t, u)
	if u.Status != StatusDone || u.RowsImported != 2 || u.CellErrors != 4 {
		t.Fatalf("import %s: %d rows, %d cell errors; want done, 2 rows, 4 cell errors (%+v)", u.Status, u.RowsImported, u.CellErrors, u.Problems)
	}
	var got []string
	for _, p := range u.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`row 2, column 1 (link): not a web address (http:// or https://): "example.com"`,
		`row 2, column 2 (meta): nested more than 64 levels deep: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["…`,
		`row 2, column 3 (price): not a number: "1e3"`,
		`row 2, column 4 (active): not true or false: "maybe"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	recs := f.records(t, table.ID)
	if recs[1].Fields[colID(t, table, "active")] != true || fmt.Sprint(recs[1].Fields[colID(t, table, "price")]) != "12.50" {
		t.Errorf("row 3 = %v", recs[1].Fields)
	}
}
