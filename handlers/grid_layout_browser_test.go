package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// The grid's layout (resize, reorder, row height, kept per table), its
// search box and the filter input's column autocomplete (issue 9).

// mustLayout reads the table's layout from the store until ok accepts it.
func (f bigGrid) mustLayout(t *testing.T, what string, ok func(workbooks.Table) bool) workbooks.Table {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for {
		tbl, err := f.inst.App.Workbooks.FindTable(context.Background(), f.userID, f.wb.ID, f.tbl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok(tbl) {
			return tbl
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the store's layout is %+v", what, tbl.Layout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// headerWidth is a column header's width in the page.
func headerWidth(t *testing.T, tab context.Context, column string) float64 {
	t.Helper()
	return browsertest.MustEval[float64](t, tab, fmt.Sprintf(`document.querySelector('th[data-column=%q]').getBoundingClientRect().width`, column))
}

// headerOrder lists the grid's column headers in order.
func headerOrder(t *testing.T, tab context.Context) []string {
	t.Helper()
	return browsertest.MustEval[[]string](t, tab, `Array.from(document.querySelectorAll("thead th[data-column]")).map(th => th.dataset.column)`)
}

type point struct{ X, Y float64 }

// mustDrag drags with the mouse from one point to another in steps.
func mustDrag(t *testing.T, tab context.Context, from, to point) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent("mouseMoved", from.X, from.Y), chromedp.MouseEvent("mousePressed", from.X, from.Y, chromedp.ButtonLeft)}
	for i := 1; i <= 5; i++ {
		x := from.X + (to.X-from.X)*float64(i)/5
		y := from.Y + (to.Y-from.Y)*float64(i)/5
		steps = append(steps, chromedp.MouseEvent("mouseMoved", x, y, chromedp.ButtonLeft))
	}
	steps = append(steps, chromedp.MouseEvent("mouseReleased", to.X, to.Y, chromedp.ButtonLeft))
	browsertest.MustDo(t, tab, steps...)
}

// TestBrowserGridResizeColumnPersists drags the Title header's edge 150 px
// wider and widens Price from the keyboard; both widths are kept with the
// table and come back after a reload.
func TestBrowserGridResizeColumnPersists(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "resize@example.com", 5)
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`th[data-column="Title"] .col-resize`)))
	before := headerWidth(t, f.tab, "Title")
	h := browsertest.MustEval[point](t, f.tab, `(() => { const r = document.querySelector('th[data-column="Title"] .col-resize').getBoundingClientRect(); return {X: r.left + r.width / 2, Y: r.top + r.height / 2}; })()`)
	mustDrag(t, f.tab, h, point{h.X + 150, h.Y})
	want := int(before + 150 + 0.5)
	titleID := f.tbl.Columns[0].ID
	priceID := f.tbl.Columns[1].ID
	f.mustLayout(t, "after dragging", func(tbl workbooks.Table) bool { w := tbl.Layout.Widths[titleID]; return w >= want-3 && w <= want+3 })

	priceBefore := headerWidth(t, f.tab, "Price")
	browsertest.MustDo(t, f.tab,
		chromedp.Focus(chromedp.CSS(`th[data-column="Price"] .col-resize`)),
		chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight),
	)
	priceWant := int(priceBefore+0.5) + 32
	f.mustLayout(t, "after the keyboard", func(tbl workbooks.Table) bool {
		w := tbl.Layout.Widths[priceID]
		return w >= priceWant-2 && w <= priceWant+2
	})

	browsertest.MustDo(t, f.tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`th[data-column="Title"] .col-resize`)))
	if got := headerWidth(t, f.tab, "Title"); got < float64(want)-3 || got > float64(want)+3 {
		t.Errorf("after a reload Title is %.0f px wide, want %d (was %.0f)", got, want, before)
	}
	if got := headerWidth(t, f.tab, "Price"); got < float64(priceWant)-2 || got > float64(priceWant)+2 {
		t.Errorf("after a reload Price is %.0f px wide, want %d", got, priceWant)
	}
	// The cells follow their header.
	if got := browsertest.MustEval[float64](t, f.tab, `document.querySelector('#grid-body td[data-column="Title"]').getBoundingClientRect().width`); got < float64(want)-3 || got > float64(want)+3 {
		t.Errorf("a Title cell is %.0f px wide, want %d", got, want)
	}
}

// TestBrowserGridReorderColumnsPersists drags the Note header before Title,
// then moves it back one place from the Columns menu (the keyboard way);
// each order is kept with the table and shown after a reload.
func TestBrowserGridReorderColumnsPersists(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "reorder@example.com", 5)
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`th[data-column="Note"]`)))
	from := browsertest.MustEval[point](t, f.tab, `(() => { const r = document.querySelector('th[data-column="Note"] .col-type').getBoundingClientRect(); return {X: r.left + 2, Y: r.top + r.height / 2}; })()`)
	to := browsertest.MustEval[point](t, f.tab, `(() => { const r = document.querySelector('th[data-column="Title"]').getBoundingClientRect(); return {X: r.left + 10, Y: r.top + r.height / 2}; })()`)
	mustDrag(t, f.tab, from, to)
	mustWaitEval(t, f.tab, `document.querySelector("thead th[data-column]")?.dataset.column === "Note" && document.readyState === "complete"`)
	if got := headerOrder(t, f.tab); !slices.Equal(got, []string{"Note", "Title", "Price"}) {
		t.Fatalf("after dragging Note before Title the headers are %v", got)
	}
	if !browsertest.MustEval[bool](t, f.tab, `document.querySelector('#grid-body tr[data-record-id] td').dataset.column === "Note"`) {
		t.Error("the rows' first cells are not Note's")
	}
	// The sort link under the drag was not followed.
	if u, _ := url.Parse(browsertest.MustEval[string](t, f.tab, `location.href`)); u.Query().Get("sort") != "" {
		t.Errorf("the drag sorted the grid: %s", u)
	}

	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="columns-menu"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="move-column-down"][data-column="Note"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="move-column-down"][data-column="Note"]`)),
		chromedp.KeyEvent(kb.Enter),
	)
	mustWaitEval(t, f.tab, `Array.from(document.querySelectorAll("thead th[data-column]")).map(th => th.dataset.column).join() === "Title,Note,Price" && document.readyState === "complete"`)
	browsertest.MustDo(t, f.tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`th[data-column="Note"]`)))
	if got := headerOrder(t, f.tab); !slices.Equal(got, []string{"Title", "Note", "Price"}) {
		t.Errorf("after a reload the headers are %v, want Title, Note, Price", got)
	}
	tbl := f.mustLayout(t, "order", func(workbooks.Table) bool { return true })
	if got := tbl.Layout.OrderedColumns(tbl.Columns); got[1].Name != "Note" {
		t.Errorf("the store's order is %v", tbl.Layout.Order)
	}
}

// TestBrowserGridRowHeightPersists chooses tall rows in the Columns menu:
// the rows grow at once, and stay tall after a reload.
func TestBrowserGridRowHeightPersists(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "row-height@example.com", 5)
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	rowHeight := `document.querySelector('#grid-body tr[data-record-id]').getBoundingClientRect().height`
	short := browsertest.MustEval[float64](t, f.tab, rowHeight)
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="columns-menu"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="row-height-tall"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="row-height-tall"]`)),
	)
	mustWaitEval(t, f.tab, `document.querySelector("table.grid").classList.contains("rows-tall")`)
	f.mustLayout(t, "row height", func(tbl workbooks.Table) bool { return tbl.Layout.RowHeight == workbooks.RowTall })
	browsertest.MustDo(t, f.tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	if !browsertest.MustEval[bool](t, f.tab, `document.querySelector("table.grid").classList.contains("rows-tall")`) {
		t.Fatal("after a reload the rows are not tall")
	}
	if tall := browsertest.MustEval[float64](t, f.tab, rowHeight); tall < short*2 {
		t.Errorf("a tall row is %.0f px, a short one %.0f px", tall, short)
	}
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="columns-menu"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="row-height-tall"]`)),
	)
	if !browsertest.MustEval[bool](t, f.tab, `document.querySelector('[data-testid="row-height-tall"]').checked`) {
		t.Error("the menu does not show tall as chosen")
	}
	for _, size := range []struct {
		w, h int64
		name string
	}{{1440, 900, "desktop"}, {390, 844, "phone"}} {
		browsertest.MustDo(t, f.tab, chromedp.EmulateViewport(size.w, size.h), chromedp.Sleep(150*time.Millisecond))
		if _, err := browsertest.Screenshot(t, f.tab, "grid-columns-layout-"+size.name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserGridSearchBox searches for a word of a text column: the grid
// shows the records with it, in any text column, and a filter narrows the
// search further (they compose).
func TestBrowserGridSearchBox(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "search@example.com", 20)
	ctx := context.Background()
	if _, err := f.inst.App.Workbooks.BatchRecords(ctx, f.userID, f.wb.ID, f.tbl.ID, workbooks.Batch{Creates: []workbooks.RecordFields{
		{Fields: map[string]any{"Title": "Blue kettle", "Price": 3, "Note": "enamel"}},
		{Fields: map[string]any{"Title": "Teapot", "Price": 30, "Note": "a BLUE glaze"}},
		{Fields: map[string]any{"Title": "Red kettle", "Price": 40, "Note": "100% steel"}},
	}}); err != nil {
		t.Fatal(err)
	}
	titles := `Array.from(document.querySelectorAll('#grid-body td[data-column="Title"] .cell-value')).map(e => e.textContent).sort().join("|")`
	browsertest.MustDo(t, f.tab,
		chromedp.Navigate(f.gridURL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="search-input"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="search-input"]`), "blue"+kb.Enter),
	)
	mustWaitEval(t, f.tab, titles+` === "Blue kettle|Teapot"`)
	browsertest.MustDo(t, f.tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="filter-input"]`), "Price > 10"+kb.Enter),
	)
	mustWaitEval(t, f.tab, titles+` === "Teapot"`)
	if got := browsertest.MustEval[string](t, f.tab, `document.querySelector('[data-testid="search-input"]').value + "/" + document.querySelector('[data-testid="filter-input"]').value`); got != "blue/Price > 10" {
		t.Errorf("search and filter show %q", got)
	}
	// Text is matched literally: % is not a wildcard.
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL+"?q="+url.QueryEscape("0% s")))
	mustWaitEval(t, f.tab, titles+` === "Red kettle"`)

	// Screenshots: the search box with resized columns and tall rows.
	if _, err := f.inst.App.Workbooks.SetTableLayout(ctx, f.userID, f.wb.ID, f.tbl.ID, workbooks.LayoutChange{
		Widths: map[string]int{"Title": 260, "Note": 140}, RowHeight: workbooks.RowTall,
	}); err != nil {
		t.Fatal(err)
	}
	for _, size := range []struct {
		w, h int64
		name string
	}{{1440, 900, "desktop"}, {390, 844, "phone"}} {
		browsertest.MustDo(t, f.tab, chromedp.EmulateViewport(size.w, size.h), chromedp.Navigate(f.gridURL+"?q=kettle"))
		mustWaitEval(t, f.tab, titles+` === "Blue kettle|Red kettle"`)
		if _, err := browsertest.Screenshot(t, f.tab, "grid-search-"+size.name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserGridFilterAutocomplete types the start of a column name in
// the filter input: a list offers it, the keyboard picks it, and the filter
// syntax page is one click away.
func TestBrowserGridFilterAutocomplete(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "autocomplete@example.com", 5)
	browsertest.MustDo(t, f.tab,
		chromedp.Navigate(f.gridURL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="filter-input"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="filter-input"]`), "pr"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="filter-suggestion"]`)),
	)
	if got := browsertest.MustEval[[]string](t, f.tab, `Array.from(document.querySelectorAll('[data-testid="filter-suggestion"]')).map(e => e.textContent)`); !slices.Equal(got, []string{"Price"}) {
		t.Fatalf("suggestions for pr: %v", got)
	}
	if got := browsertest.MustEval[string](t, f.tab, `document.getElementById("grid-filter").getAttribute("aria-expanded")`); got != "true" {
		t.Errorf("aria-expanded = %q", got)
	}
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.Enter), chromedp.SendKeys(chromedp.CSS(`[data-testid="filter-input"]`), "> 3"+kb.Enter))
	mustWaitEval(t, f.tab, `new URL(location.href).searchParams.get("filter") === "Price > 3"`)
	mustWaitEval(t, f.tab, `document.querySelectorAll("#grid-body tr[data-record-id]").length === 2`)
	if href := browsertest.MustEval[string](t, f.tab, `document.querySelector('[data-testid="filter-syntax-help"]').getAttribute("href")`); href != "/help/filters" {
		t.Errorf("syntax link = %q", href)
	}
}
