package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestBrowserDiffsReadable is issue 9's item 8: a number is shown old then
// new, whole, and a rewrite of most of a long text as two blocks, in the
// grid cell and in the record panel alike.
func TestBrowserDiffsReadable(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "diffs@example.com", gridPassword)
	u := mustFindUser(t, inst, "diffs@example.com")
	store := inst.App.Workbooks
	wb, err := store.CreateWorkbook(ctx, u.ID, "Diffs")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := store.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Items", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
		{Name: "Price", Type: values.Number},
		{Name: "Body", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	oldBody := "A sturdy oak desk with two drawers, delivered flat and easy to assemble at home."
	newBody := "Handmade walnut table for six people; ships fully built from our workshop in Leeds."
	rec, err := store.CreateRecord(ctx, u.ID, wb.ID, tbl.ID, map[string]any{"Title": "Desk", "Price": 9.09, "Body": oldBody})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.ProposeSuggestions(ctx, u.ID, wb.ID, tbl.ID, workbooks.Proposal{
		Source:  workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{{RecordID: rec.ID, Fields: map[string]any{"Price": 10.5, "Body": newBody}}},
	}); err != nil {
		t.Fatal(err)
	}
	cell := func(column string) string {
		return fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="%s"] [data-testid="suggestion"]`, rec.ID, column)
	}
	browsertest.MustDo(t, tab,
		chromedp.Navigate(fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID)),
		chromedp.WaitVisible(chromedp.CSS(cell("Price"))),
	)
	mustDiffParts(t, tab, cell("Price"), "", "9.09", "10.5")
	mustDiffParts(t, tab, cell("Body"), "blocks", oldBody, newBody)
	browsertest.Screenshot(t, tab, "diffs-grid")

	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="Title"] [data-testid="cell-value"]`, rec.ID))),
		chromedp.KeyEvent(kb.Enter),
	)
	panel := func(col workbooks.Column) string {
		return `#record-panel [data-testid="panel-suggestion"][data-field="` + col.ID + `"] [data-testid="suggestion-after"]`
	}
	mustWaitEval(t, tab, `!!document.querySelector('#record-panel [data-testid="panel-suggestion"]')`)
	mustDiffParts(t, tab, panel(tbl.Columns[1]), "", "9.09", "10.5")
	mustDiffParts(t, tab, panel(tbl.Columns[2]), "blocks", oldBody, newBody)
	browsertest.Screenshot(t, tab, "diffs-panel")
}

// mustDiffParts checks the diff inside sel: its layout ("" or "blocks"), and
// that its removed and its inserted parts read exactly del and ins.
func mustDiffParts(t *testing.T, tab context.Context, sel, layout, del, ins string) {
	t.Helper()
	got := browsertest.MustEval[[]string](t, tab, fmt.Sprintf(`(() => {
		const d = document.querySelector(%q);
		const text = q => Array.from(d.querySelectorAll(q), e => e.textContent).join("|");
		return [d.dataset.layout || "", text("del.diff-del"), text("ins.diff-ins")];
	})()`, sel+` [data-testid="diff"]`))
	if want := []string{layout, del, ins}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: diff is %q, want %q", sel, got, want)
	}
}
