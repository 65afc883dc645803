package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestBrowserGridLiveEdits is the grid's live story with one person in two
// tabs: an edit made by keyboard in tab A appears in tab B without a reload,
// suggestions proposed elsewhere appear in tab B as diffs, and a change
// arriving for a row tab B is editing does not take B's edit away.
func TestBrowserGridLiveEdits(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	tabA := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tabA, inst.URL, "live-grid@example.com", gridPassword)
	tabB := browsertest.MustIsolatedTab(t, tabA)
	browsertest.MustDo(t, tabB,
		chromedp.Navigate(inst.URL+"/signin"),
		chromedp.SendKeys(chromedp.ID("email"), "live-grid@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), gridPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="home-title"]`)),
	)

	u := mustFindUser(t, inst, "live-grid@example.com")
	store := inst.App.Workbooks
	wb, err := store.CreateWorkbook(ctx, u.ID, "Live")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := store.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Posts", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
		{Name: "Price", Type: values.Number},
		{Name: "Note", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []workbooks.Record
	for i, title := range []string{"First post", "Second post", "Third post"} {
		rec, err := store.CreateRecord(ctx, u.ID, wb.ID, tbl.ID, map[string]any{"Title": title, "Price": i + 1})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	gridURL := fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID)
	cell := func(rec workbooks.Record, column string) string {
		return fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="%s"]`, rec.ID, column)
	}
	for _, tab := range []context.Context{tabA, tabB} {
		browsertest.MustDo(t, tab, chromedp.Navigate(gridURL), chromedp.WaitVisible(chromedp.CSS(cell(recs[2], "Title"))))
	}
	// Each tab holds two streams: its own (/events) and the workbook's.
	mustWaitSubscribers(t, inst, 4)
	browsertest.MustEval[int](t, tabB, `window.__marker = 1`)

	// Tab A edits by keyboard: click the cell, Enter, type, Enter.
	browsertest.MustDo(t, tabA,
		chromedp.Click(chromedp.CSS(cell(recs[0], "Note"))),
		chromedp.KeyEvent(kb.Enter),
	)
	mustWaitEval(t, tabA, `document.activeElement.classList.contains("cell-editor")`)
	browsertest.MustDo(t, tabA,
		chromedp.KeyEvent("Typed in A"),
		chromedp.KeyEvent(kb.Enter),
	)
	browsertest.WaitText(t, tabA, cell(recs[0], "Note")+` [data-testid="cell-value"]`, "Typed in A")
	// After saving, the edited cell stays active and focused for the keyboard.
	mustWaitEval(t, tabA, `!!document.activeElement && document.activeElement.matches('td.cell.active[data-column="Note"]')`)
	browsertest.WaitText(t, tabB, cell(recs[0], "Note"), "Typed in A")
	if !browsertest.MustEval[bool](t, tabB, `window.__marker === 1`) {
		t.Fatal("the edit must reach tab B without a page load")
	}

	// Suggestions proposed elsewhere show up in tab B as diffs.
	if _, err := store.ProposeSuggestions(ctx, u.ID, wb.ID, tbl.ID, workbooks.Proposal{
		Source:  workbooks.SourceAgent,
		Updates: []workbooks.RecordUpdate{{RecordID: recs[1].ID, Fields: map[string]any{"Title": "Second post rewritten"}}},
	}); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, tabB, cell(recs[1], "Title")+` [data-testid="suggestion"] ins.diff-ins`, "rewritten")
	browsertest.WaitText(t, tabB, `[data-testid="counter-suggestions"]`, "1")

	// A row swapped in live keeps receiving live updates.
	again, err := store.FindRecord(ctx, u.ID, wb.ID, tbl.ID, recs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.UpdateRecord(ctx, u.ID, wb.ID, tbl.ID, recs[0].ID, map[string]any{"Note": "Changed again"}, again.Version); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, tabB, cell(recs[0], "Note"), "Changed again")
	browsertest.WaitText(t, tabA, cell(recs[0], "Note"), "Changed again")

	// Tab B starts editing; a change to another cell of that row arrives.
	browsertest.MustDo(t, tabB,
		chromedp.Click(chromedp.CSS(cell(recs[2], "Note"))),
		chromedp.KeyEvent(kb.Enter),
	)
	mustWaitEval(t, tabB, `document.activeElement.classList.contains("cell-editor")`)
	browsertest.MustDo(t, tabB, chromedp.KeyEvent("Draft in B"))
	mustWaitEval(t, tabB, `document.activeElement.value === "Draft in B"`)
	current, err := store.FindRecord(ctx, u.ID, wb.ID, tbl.ID, recs[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.UpdateRecord(ctx, u.ID, wb.ID, tbl.ID, recs[2].ID, map[string]any{"Price": 33}, current.Version); err != nil {
		t.Fatal(err)
	}
	mustWaitEval(t, tabB, fmt.Sprintf(`document.querySelector('tr[data-record-id="%s"]').dataset.stale === "true"`, recs[2].ID))
	if got := browsertest.MustEval[string](t, tabB, `document.activeElement.value || ""`); got != "Draft in B" {
		t.Fatalf("the edit in progress is %q after a live change to its row", got)
	}
	browsertest.MustDo(t, tabB, chromedp.KeyEvent(kb.Enter))
	browsertest.WaitText(t, tabB, cell(recs[2], "Note")+` [data-testid="cell-value"]`, "Draft in B")
	browsertest.WaitText(t, tabB, cell(recs[2], "Price"), "33")
	saved, err := store.FindRecord(ctx, u.ID, wb.ID, tbl.ID, recs[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(saved.Fields[tbl.Columns[1].ID]) != "33" || saved.Fields[tbl.Columns[2].ID] != "Draft in B" {
		t.Fatalf("both changes must survive: %v", saved.Fields)
	}
	browsertest.WaitText(t, tabA, cell(recs[2], "Note"), "Draft in B")
}

// mustWaitEval waits until a JavaScript expression is true in tab.
func mustWaitEval(t testing.TB, tab context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for !browsertest.MustEval[bool](t, tab, expr) {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still false after %s", expr, browsertest.Timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
