package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// bigGrid is a signed-in tab and a table of n records ("Item 0001"…)
// with a title, a price and a note.
type bigGrid struct {
	inst    *apptest.Instance
	tab     context.Context
	userID  string
	wb      workbooks.Workbook
	tbl     workbooks.Table
	gridURL string
}

func mustBigGrid(t *testing.T, email string, n int) bigGrid {
	t.Helper()
	inst := apptest.MustStart(t, apptest.Options{})
	tab := browsertest.MustBrowser(t)
	browsertest.MustDo(t, tab, chromedp.EmulateViewport(1440, 900))
	acceptDialogs(t, tab)
	mustSignUpInBrowser(t, tab, inst.URL, email, gridPassword)
	u := mustFindUser(t, inst, email)
	ctx := context.Background()
	store := inst.App.Workbooks
	wb, err := store.CreateWorkbook(ctx, u.ID, "Catalogue")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := store.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Products", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
		{Name: "Price", Type: values.Number},
		{Name: "Note", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += 500 {
		var b workbooks.Batch
		for i := start; i < min(n, start+500); i++ {
			b.Creates = append(b.Creates, workbooks.RecordFields{Fields: map[string]any{
				"Title": fmt.Sprintf("Item %04d", i+1), "Price": i + 1, "Note": "note",
			}})
		}
		if _, err := store.BatchRecords(ctx, u.ID, wb.ID, tbl.ID, b); err != nil {
			t.Fatal(err)
		}
	}
	return bigGrid{
		inst: inst, tab: tab, userID: u.ID, wb: wb, tbl: tbl,
		gridURL: fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID),
	}
}

// TestBrowserGridHideColumn: Columns → untick a column → Save hides it (the
// hide form used to be nested in the filter form, so the browser dropped it).
func TestBrowserGridHideColumn(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "hide-column@example.com", 3)
	browsertest.MustDo(t, f.tab,
		chromedp.Navigate(f.gridURL),
		chromedp.WaitVisible(chromedp.CSS(`th[data-column="Note"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="columns-menu"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="column-visible"][data-column="Note"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="column-visible"][data-column="Note"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="save-hidden-columns"]`)),
	)
	mustWaitEval(t, f.tab, `!document.querySelector('th[data-column="Note"]') && !!document.querySelector('th[data-column="Price"]')`)
	got, err := f.inst.App.Workbooks.FindTable(context.Background(), f.userID, f.wb.ID, f.tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.HiddenColumns) != 1 || got.HiddenColumns[0] != f.tbl.Columns[2].ID {
		t.Fatalf("hidden columns are %v, want only Note (%s)", got.HiddenColumns, f.tbl.Columns[2].ID)
	}
}
