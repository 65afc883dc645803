package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// TestBrowserSyncLoop drives the whole loop with a PostgreSQL source in
// headless Chromium: a table is added from a data source on the workbook
// page and its pull is followed live on the grid; an edit that the source
// changes too comes back from the next pull as a conflict, settled by
// taking theirs; a record edited here and deleted there is dropped from its
// row banner; another edit shows on the publish page, is published (the
// source row changes), and is reverted through suggestions and a second
// publish (the source row goes back).
func TestBrowserSyncLoop(t *testing.T) {
	t.Parallel()
	inst, tab, u := mustSignedInTab(t, apptest.Options{}, "browser-sync@example.com")
	ctx := context.Background()

	srcURL := testdb.NewURL(t)
	src, err := pgxpool.New(ctx, srcURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	mustSQL := func(sql string, args ...any) {
		t.Helper()
		if _, err := src.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	sourceTitle := func(id int) string {
		t.Helper()
		var title string
		if err := src.QueryRow(ctx, `SELECT title FROM products WHERE id = $1`, id).Scan(&title); err != nil {
			t.Fatalf("read product %d: %v", id, err)
		}
		return title
	}
	mustSQL(`CREATE TABLE products (id int PRIMARY KEY, title text NOT NULL, price numeric(10, 2), in_stock boolean)`)
	mustSQL(`INSERT INTO products SELECT i, 'Product ' || i, i + 0.5, i % 2 = 0 FROM generate_series(1, 50) i`)

	// The data source pages are another part's; the service makes it here.
	if _, err := inst.App.DataSources.Create(ctx, u.ID, datasources.CreateInput{Service: "postgres", Name: "Shop database",
		Credentials: connectors.Credentials{"connection_string": srcURL}}); err != nil {
		t.Fatal(err)
	}
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Shop")
	if err != nil {
		t.Fatal(err)
	}

	// 1. Add the table from the workbook page: the search narrows the
	// source's tables as the person types.
	browsertest.MustDo(t, tab,
		chromedp.Navigate(inst.URL+"/workbooks/"+wb.ID),
		chromedp.Click(chromedp.CSS(`[data-testid="empty-add-from-source"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="table-search"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="table-search"]`), "produ"),
	)
	mustWaitEval(t, tab, `document.querySelectorAll('[data-testid="remote-table"]').length === 1 &&
		document.querySelector('[data-testid="remote-table"]').textContent.includes("products")`)
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="add-remote-table"]`)))
	mustWaitEval(t, tab, `location.pathname.indexOf("/workbooks/`+wb.ID+`/tables/") === 0`)
	browsertest.MustDo(t, tab, chromedp.WaitVisible(chromedp.CSS(`[data-testid="sync-bar"]`)))
	shoot(t, tab, "grid-pull-started")
	browsertest.WaitText(t, tab, `[data-testid="sync-outcome"]`, "Pull finished: 50 records read, 50 new")
	mustWaitEval(t, tab, `document.querySelectorAll('#grid-body tr[data-testid="record-row"]').length === 50`)
	browsertest.WaitText(t, tab, `[data-testid="source-badge"]`, "Shop database")
	browsertest.WaitText(t, tab, `[data-testid="record-total"]`, "50 records")
	browsertest.WaitText(t, tab, `[data-testid="last-pulled"]`, "Last pulled")
	shoot(t, tab, "grid-pulled")

	// 2. Edit titles 1 and 3 here; the source changes 1 and deletes 3.
	mustEditTitle(t, tab, "Product 1", "Mine 1")
	mustEditTitle(t, tab, "Product 3", "Mine 3")
	mustSQL(`UPDATE products SET title = 'Theirs 1' WHERE id = 1`)
	mustSQL(`DELETE FROM products WHERE id = 3`)

	// 3. Pull again: the conflict and the deleted record wait on the person.
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="pull"]`)))
	browsertest.WaitText(t, tab, `[data-testid="sync-outcome"]`, "Pull finished: 49 records read")
	browsertest.WaitText(t, tab, `[data-testid="conflict-theirs"]`, "Theirs 1")
	browsertest.WaitText(t, tab, `[data-testid="conflict-mine"]`, "Mine 1")
	browsertest.WaitText(t, tab, `[data-testid="attention-conflicts"]`, "1 record is in conflict")
	browsertest.WaitText(t, tab, `[data-testid="source-deleted"]`, "Deleted at the source")
	shoot(t, tab, "grid-conflict")

	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="take-theirs"]`)))
	mustWaitEval(t, tab, `!document.querySelector('[data-testid="conflict-cell"]')`)
	if id := rowOf(t, tab, "Theirs 1"); id == "" {
		t.Fatal("after taking theirs no row shows Theirs 1")
	}
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="drop-record"]`)))
	mustWaitEval(t, tab, `!document.querySelector('[data-testid="source-deleted"]')`)
	mustWaitEval(t, tab, `!document.querySelector('[data-testid="attention-conflicts"]')`)

	// 4. Another edit, previewed and published.
	mustEditTitle(t, tab, "Product 2", "Edited 2")
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="publish"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="publish-preview"]`)))
	browsertest.WaitText(t, tab, `[data-testid="preview-updates"]`, "1")
	browsertest.WaitText(t, tab, `[data-testid="preview-update"]`, "Edited 2 (#2)")
	if del, ins := mustTrimmedText(t, tab, `[data-testid="preview-update"] del`), mustTrimmedText(t, tab, `[data-testid="preview-update"] ins`); del != "Product" || ins != "Edited" {
		t.Errorf("the preview's diff strikes %q and adds %q, want Product → Edited", del, ins)
	}
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('[data-testid="preview-update"]').length`); n != 1 {
		t.Errorf("the preview lists %d changed fields, want 1 (theirs taken and the dropped record are not changes)", n)
	}
	shoot(t, tab, "publish-preview")
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="publish-submit"]`)))
	browsertest.WaitText(t, tab, `[data-testid="publish-running"] [data-testid="run-outcome"]`, "1 updated")
	if got := sourceTitle(2); got != "Edited 2" {
		t.Fatalf("after the publish the source's product 2 is %q, want Edited 2", got)
	}
	if got := sourceTitle(1); got != "Theirs 1" {
		t.Errorf("after the publish the source's product 1 is %q, want Theirs 1 (theirs was taken)", got)
	}
	shoot(t, tab, "publish-done")

	// 5. Revert: the overwritten value comes back as a suggestion; accepted
	// and published, the source goes back.
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="publish-row"] [data-testid="revert"]`)))
	browsertest.WaitText(t, tab, `[data-testid="flashes"]`, "Proposed 1 suggestion")
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="preview-table"] h3 a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="accept-cell"]`)))
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="accept-cell"]`)))
	mustWaitEval(t, tab, `!document.querySelector('[data-testid="accept-cell"]')`)
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="publish"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="publish-preview"]`)))
	browsertest.WaitText(t, tab, `[data-testid="preview-update"] ins`, "Product")
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="publish-submit"]`)))
	browsertest.WaitText(t, tab, `[data-testid="publish-running"] [data-testid="run-outcome"]`, "1 updated")
	if got := sourceTitle(2); got != "Product 2" {
		t.Fatalf("after the revert's publish the source's product 2 is %q, want Product 2", got)
	}
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('[data-testid="publish-row"]').length`); n != 2 {
		t.Errorf("the history lists %d publishes, want 2", n)
	}
}

// acceptDialogs answers yes to every confirmation the tab asks (hx-confirm).
func acceptDialogs(t testing.TB, tab context.Context) {
	t.Helper()
	if err := chromedp.Listen(tab, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() {
				_, _ = chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// rowOf is the id of the grid's record whose title is title, or "".
func rowOf(t *testing.T, tab context.Context, title string) string {
	t.Helper()
	return browsertest.MustEval[string](t, tab, fmt.Sprintf(`(function () {
		var rows = document.querySelectorAll('#grid-body tr[data-testid="record-row"]');
		for (var i = 0; i < rows.length; i++) {
			var v = rows[i].querySelector('td[data-column="title"] [data-testid="cell-value"]');
			if (v && v.textContent.trim() === %q) { return rows[i].dataset.recordId; }
		}
		return "";
	})()`, title))
}

// mustEditTitle edits the title cell showing from in the grid to to.
func mustEditTitle(t *testing.T, tab context.Context, from, to string) {
	t.Helper()
	var id string
	deadline := time.Now().Add(browsertest.Timeout)
	for id = rowOf(t, tab, from); id == ""; id = rowOf(t, tab, from) {
		if time.Now().After(deadline) {
			t.Fatalf("no row shows the title %q", from)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cell := `tr[data-record-id="` + id + `"] td[data-column="title"]`
	// A click event sent to the cell itself, not to where it was a moment
	// ago: bars above the grid come and go as live events arrive, and a
	// mouse click at coordinates could land on the next row.
	browsertest.MustEval[bool](t, tab, fmt.Sprintf(`document.querySelector(%q).click(); true`, cell))
	browsertest.MustDo(t, tab, chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, tab, `document.activeElement.classList.contains("cell-editor")`)
	browsertest.MustEval[bool](t, tab, fmt.Sprintf(`document.activeElement.value = %q; true`, to))
	browsertest.MustDo(t, tab, chromedp.KeyEvent(kb.Enter))
	browsertest.WaitText(t, tab, cell+` [data-testid="cell-value"]`, to)
}

// shoot saves the page at a desktop and a phone size, and puts the tab
// back at the desktop size.
func shoot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	for _, size := range []struct {
		w, h int64
		name string
	}{{390, 844, "phone"}, {1440, 900, "desktop"}} {
		browsertest.MustDo(t, tab, chromedp.EmulateViewport(size.w, size.h))
		browsertest.MustEval[bool](t, tab, `window.scrollTo(0, 0); var g = document.getElementById("grid-wrap"); if (g) { g.scrollTo(0, 0); } true`)
		time.Sleep(100 * time.Millisecond) // layout settles
		if _, err := browsertest.Screenshot(t, tab, name+"-"+size.name); err != nil {
			t.Error(err)
		}
	}
}
