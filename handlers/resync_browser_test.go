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

// TestBrowserGridReloadsWhenLiveEventsMayBeLost: the grid reloads its rows
// and counters, without a page load, when the server says events may have
// been lost (resync) and when its stream had to reconnect.
func TestBrowserGridReloadsWhenLiveEventsMayBeLost(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "resync-grid@example.com", gridPassword)
	u := mustFindUser(t, inst, "resync-grid@example.com")
	store := inst.App.Workbooks
	wb, err := store.CreateWorkbook(ctx, u.ID, "Resync")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := store.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Posts", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := store.CreateRecord(ctx, u.ID, wb.ID, tbl.ID, map[string]any{"Title": "Kept"})
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(`tr[data-record-id="%s"]`, rec.ID)
	browsertest.MustDo(t, tab,
		chromedp.Navigate(fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID)),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	// The page's own stream (/events) and the workbook's.
	mustWaitSubscribers(t, inst, 2)

	// Marks on what the page shows now: a reload of the rows and of the
	// counters replaces the marked elements; a page load clears the window.
	mark := fmt.Sprintf(`(() => {
		window.__marker = 1;
		document.querySelector('%s').dataset.mark = "old";
		document.querySelector('[data-testid="counter-changes"]').dataset.mark = "old";
		return true;
	})()`, row)
	reloaded := fmt.Sprintf(`!!document.querySelector('%s') && !document.querySelector('%s[data-mark]') &&
		!!document.querySelector('[data-testid="counter-changes"]') &&
		!document.querySelector('[data-testid="counter-changes"][data-mark]')`, row, row)

	browsertest.MustEval[bool](t, tab, mark)
	inst.App.Broker.Resync()
	mustWaitEval(t, tab, reloaded)
	if !browsertest.MustEval[bool](t, tab, `window.__marker === 1`) {
		t.Fatal("a resync must reload the grid in place, not the page")
	}

	// A stream cut off reconnects and reloads the same way.
	browsertest.MustEval[bool](t, tab, mark)
	inst.Server.CloseClientConnections()
	mustWaitEval(t, tab, reloaded)
	if !browsertest.MustEval[bool](t, tab, `window.__marker === 1`) {
		t.Fatal("a reconnected stream must reload the grid in place, not the page")
	}
}
