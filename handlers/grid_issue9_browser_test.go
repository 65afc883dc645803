package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

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
	inst, tab, u := mustSignedInTab(t, apptest.Options{}, email)
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

// gridLayout is where the grid page's parts sit, measured in the browser.
type gridLayout struct {
	TitleLeft      float64 `json:"titleLeft"`
	WrapTop        float64 `json:"wrapTop"`
	WrapBottom     float64 `json:"wrapBottom"`
	RowsVisible    int     `json:"rowsVisible"`
	PageScrolls    bool    `json:"pageScrolls"`
	GridScrolls    bool    `json:"gridScrolls"`
	TabsScrollbar  bool    `json:"tabsScrollbar"`
	TotalAbove     bool    `json:"totalAbove"`
	InnerHeight    float64 `json:"innerHeight"`
	HeaderBottom   float64 `json:"headerBottom"`
	TheadTopScroll float64 `json:"theadTopScroll"`
}

// measureGridLayout measures the page at the top, then scrolls the grid by
// 2,000 px to see where its header sticks, and scrolls back.
const measureGridLayout = `(() => {
	const wrap = document.getElementById("grid-wrap");
	const r = wrap.getBoundingClientRect();
	const rows = Array.from(document.querySelectorAll("#grid-body tr[data-record-id]"));
	const visible = rows.filter(tr => { const b = tr.getBoundingClientRect(); return b.top >= r.top && b.bottom <= Math.min(r.bottom, innerHeight); }).length;
	const tabs = document.querySelector('[data-testid="table-tabs"]');
	const total = document.querySelector('[data-testid="record-total"]');
	const header = document.querySelector(".app-header").getBoundingClientRect();
	const se = document.scrollingElement;
	const out = {
		titleLeft: document.querySelector('[data-testid="workbook-name"]').getBoundingClientRect().left,
		wrapTop: r.top, wrapBottom: r.bottom, rowsVisible: visible,
		pageScrolls: se.scrollHeight > se.clientHeight + 1,
		gridScrolls: wrap.scrollHeight > wrap.clientHeight + 1,
		tabsScrollbar: tabs.offsetHeight - tabs.clientHeight > 1 || tabs.offsetWidth - tabs.clientWidth > 1,
		totalAbove: !!total && total.getBoundingClientRect().bottom <= r.top + 1,
		innerHeight: innerHeight,
		headerBottom: Math.max(0, header.bottom),
	};
	wrap.scrollTop = 2000;
	out.theadTopScroll = document.querySelector("#grid-wrap thead th").getBoundingClientRect().top;
	wrap.scrollTop = 0;
	return out;
})()`

// TestBrowserGridLayout checks the grid page's layout at 1440×900 and on a
// 390×844 phone (issue 9, item 9): the title keeps off the window's edge,
// the first rows are on the first screen, only the grid scrolls and its
// header sticks below the top bar, the record count shows above the grid,
// the tab bar has no stray scrollbar, and opening Columns does not push
// the grid down. Screenshots of both sizes are saved.
func TestBrowserGridLayout(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "grid-layout@example.com", 300)
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	for _, size := range []struct {
		w, h    int64
		name    string
		minRows int
	}{{1440, 900, "desktop", 15}, {390, 844, "phone", 5}} {
		browsertest.MustDo(t, f.tab, chromedp.EmulateViewport(size.w, size.h))
		time.Sleep(150 * time.Millisecond) // layout settles
		path, err := browsertest.Screenshot(t, f.tab, "grid-"+size.name)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", size.name, path)
		l := browsertest.MustEval[gridLayout](t, f.tab, measureGridLayout)
		t.Logf("%s: %+v", size.name, l)
		if l.TitleLeft < 8 {
			t.Errorf("%s: the title starts %.0f px from the window's edge", size.name, l.TitleLeft)
		}
		if l.RowsVisible < size.minRows {
			t.Errorf("%s: %d rows on the first screen (the grid starts at %.0f px), want at least %d", size.name, l.RowsVisible, l.WrapTop, size.minRows)
		}
		if l.PageScrolls {
			t.Errorf("%s: the page scrolls as well as the grid", size.name)
		}
		if !l.GridScrolls {
			t.Errorf("%s: the grid does not scroll its 300 rows", size.name)
		}
		if l.WrapBottom > l.InnerHeight+1 {
			t.Errorf("%s: the grid's box ends at %.0f px, below the window (%.0f px)", size.name, l.WrapBottom, l.InnerHeight)
		}
		if l.TheadTopScroll < l.HeaderBottom-1 {
			t.Errorf("%s: scrolled, the grid's header is at %.0f px, under the top bar (ends at %.0f px)", size.name, l.TheadTopScroll, l.HeaderBottom)
		}
		if l.TabsScrollbar {
			t.Errorf("%s: the tab bar shows a scrollbar", size.name)
		}
		if !l.TotalAbove {
			t.Errorf("%s: the record count is not above the grid", size.name)
		}
	}

	// Opening Columns lays its menu over the page rather than pushing the
	// grid down.
	browsertest.MustDo(t, f.tab, chromedp.EmulateViewport(1440, 900))
	time.Sleep(100 * time.Millisecond)
	before := browsertest.MustEval[float64](t, f.tab, `document.getElementById("grid-wrap").getBoundingClientRect().top`)
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="columns-menu"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="save-hidden-columns"]`)),
	)
	if after := browsertest.MustEval[float64](t, f.tab, `document.getElementById("grid-wrap").getBoundingClientRect().top`); after != before {
		t.Errorf("opening Columns moved the grid from %.0f px to %.0f px", before, after)
	}
	if _, err := browsertest.Screenshot(t, f.tab, "grid-columns-open"); err != nil {
		t.Fatal(err)
	}

	// Bulk actions opens the bulk toolbar between the filter bar and the
	// grid, and closes it again.
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-toggle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-field"]`)),
	)
	if browsertest.MustEval[bool](t, f.tab, `document.querySelector("details.columns-menu").open`) {
		t.Error("a click elsewhere must close the columns menu")
	}
	if _, err := browsertest.Screenshot(t, f.tab, "grid-bulk-open"); err != nil {
		t.Fatal(err)
	}
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-toggle"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="bulk-field"]`)),
	)
}

// TestBrowserGridScrollsToTheEnd scrolls a 1,000-record table to its last
// record and back (issue 9, item 2): pages keep loading inside the grid's
// box, rows far above are unloaded so the page never holds much more than
// 300 rows, and they come back when the grid scrolls up again.
func TestBrowserGridScrollsToTheEnd(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "grid-scroll@example.com", 1000)
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	const rowCount = `document.querySelectorAll("#grid-body tr[data-record-id]").length`
	most := 0
	scroll := func(expr, want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			found := browsertest.MustEval[bool](t, f.tab, `(() => { const w = document.getElementById("grid-wrap"); `+expr+`; return [...document.querySelectorAll("#grid-body td[data-column='Title']")].some(td => td.textContent.includes(`+"`"+want+"`"+`)); })()`)
			most = max(most, browsertest.MustEval[int](t, f.tab, rowCount))
			if found {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not in the grid after scrolling for 30 s; %d rows there", want, browsertest.MustEval[int](t, f.tab, rowCount))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// How long each page takes from the server's answer to the next frame
	// after its rows are in the grid.
	browsertest.MustEval[bool](t, f.tab, `window.__swaps = []; let t0 = 0;
		document.addEventListener("htmx:beforeOnLoad", e => { if ((e.detail.pathInfo.requestPath || "").includes("/rows")) { t0 = performance.now(); } });
		document.addEventListener("htmx:afterSwap", () => { if (t0) { const s = t0; t0 = 0; requestAnimationFrame(() => window.__swaps.push(Math.round(performance.now() - s))); } });
		true`)
	start := time.Now()
	scroll(`w.scrollTop = w.scrollHeight`, "Item 1000")
	t.Logf("scrolled through 1,000 records in %s", time.Since(start).Round(time.Millisecond))
	t.Logf("ms from each page's answer to the frame showing its rows: %s; server answers: %s",
		browsertest.MustEval[string](t, f.tab, `JSON.stringify(window.__swaps)`),
		browsertest.MustEval[string](t, f.tab, `JSON.stringify(performance.getEntriesByType("resource").filter(e => e.name.includes("/rows")).map(e => Math.round(e.duration)))`))
	if most > 320 {
		t.Errorf("the page held %d rows on the way down, want at most about 300", most)
	}
	// The last record can be brought into view.
	mustWaitEval(t, f.tab, `(() => { const w = document.getElementById("grid-wrap"); w.scrollTop = w.scrollHeight; const td = [...document.querySelectorAll("#grid-body td[data-column='Title']")].find(td => td.textContent.includes("Item 1000")); const r = td.getBoundingClientRect(), b = w.getBoundingClientRect(); return r.top >= b.top && r.bottom <= b.bottom; })()`)
	if _, err := browsertest.Screenshot(t, f.tab, "grid-end"); err != nil {
		t.Fatal(err)
	}
	// A page loaded again above the visible rows takes the room its rows
	// left, as measured when they went: the visible rows do not move.
	moved := browsertest.MustRun(t, f.tab, chromedp.Evaluate[string](scrollUpKeepsRows, chromedp.EvalAwaitPromise))
	if moved != "moved 0 px" {
		t.Errorf("loading a page above the visible rows: %s, want them to stay (moved 0 px)", moved)
	}
	most = 0
	scroll(`w.scrollTop = Math.max(0, w.scrollTop - 1500)`, "Item 0001")
	if most > 320 {
		t.Errorf("the page held %d rows on the way up, want at most about 300", most)
	}
	// Back at the top, the records are in order with none missing.
	titles := browsertest.MustEval[[]string](t, f.tab, `[...document.querySelectorAll("#grid-body td[data-column='Title']")].slice(0, 150).map(td => td.textContent.trim())`)
	for i, got := range titles {
		if want := fmt.Sprintf("Item %04d", i+1); got != want {
			t.Fatalf("row %d is %q, want %q (rows: %v)", i, got, want, titles)
		}
	}
	// And down again: pages unloaded at the bottom load again.
	most = 0
	scroll(`w.scrollTop = w.scrollHeight`, "Item 1000")
	if most > 320 {
		t.Errorf("the page held %d rows on the second way down, want at most about 300", most)
	}
}

// TestBrowserGridColumnsKeepTheirWidthsAsPagesArrive: once the first rows
// are laid out the grid's columns keep their widths (the fixed table
// layout, which lays later pages out without measuring every row held
// again), so a long value further down neither widens its column nor
// moves the others; it ends in an ellipsis.
func TestBrowserGridColumnsKeepTheirWidthsAsPagesArrive(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "grid-widths@example.com", 400)
	ctx := context.Background()
	page, err := f.inst.App.Workbooks.FindRecords(ctx, f.userID, f.wb.ID, f.tbl.ID, workbooks.RecordQuery{Filter: "Title = 'Item 0300'"})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("find Item 0300: %v, %d records", err, len(page.Records))
	}
	rec := page.Records[0]
	long := strings.Repeat("a long note that no column is wide enough for ", 12)
	if _, err := f.inst.App.Workbooks.UpdateRecord(ctx, f.userID, f.wb.ID, f.tbl.ID, rec.ID, map[string]any{"Note": long}, rec.Version); err != nil {
		t.Fatal(err)
	}
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	mustWaitEval(t, f.tab, `document.querySelector("table.grid").classList.contains("frozen")`)
	if got := browsertest.MustEval[string](t, f.tab, `getComputedStyle(document.querySelector("table.grid")).tableLayout`); got != "fixed" {
		t.Fatalf("the frozen grid's table layout is %q, want fixed", got)
	}
	const widths = `JSON.stringify([...document.querySelectorAll("table.grid thead th")].map(th => Math.round(th.getBoundingClientRect().width)))`
	before := browsertest.MustEval[string](t, f.tab, widths)
	mustWaitEval(t, f.tab, `(() => { const w = document.getElementById("grid-wrap"); w.scrollTop = w.scrollHeight; return [...document.querySelectorAll("#grid-body td[data-column='Title']")].some(td => td.textContent.includes("Item 0300")); })()`)
	browsertest.MustDo(t, f.tab, chromedp.Sleep(100*time.Millisecond)) // a frame to lay the page out
	if after := browsertest.MustEval[string](t, f.tab, widths); after != before {
		t.Errorf("column widths moved as pages arrived: %s, then %s", before, after)
	}
	clipped := browsertest.MustEval[bool](t, f.tab, `(() => { const td = [...document.querySelectorAll("#grid-body td[data-column='Title']")].find(td => td.textContent.includes("Item 0300")).closest("tr").querySelector("td[data-column='Note']"); return td.scrollWidth > td.clientWidth && getComputedStyle(td).textOverflow === "ellipsis"; })()`)
	if !clipped {
		t.Error("the long note is not cut with an ellipsis in its column")
	}
	if _, err := browsertest.Screenshot(t, f.tab, "grid-frozen-widths"); err != nil {
		t.Fatal(err)
	}
	// A window resized to a phone's (its larger fonts) fits the columns
	// again: no header is cut.
	browsertest.MustDo(t, f.tab, chromedp.EmulateViewport(390, 844))
	mustWaitEval(t, f.tab, `document.querySelector("table.grid").classList.contains("frozen") &&
		[...document.querySelectorAll("table.grid thead th[data-column-id]")].every(th => th.scrollWidth <= th.clientWidth + 1)`)
	if _, err := browsertest.Screenshot(t, f.tab, "grid-frozen-widths-phone"); err != nil {
		t.Fatal(err)
	}
}

// scrollUpKeepsRows scrolls the grid to just below its room of unloaded
// rows, so that their last page loads again, and says how many px the row
// at the top of the visible part moved meanwhile ("moved 0 px"), or why it
// cannot tell.
const scrollUpKeepsRows = `(async () => {
	const w = document.getElementById("grid-wrap");
	const sleep = ms => new Promise(r => setTimeout(r, ms));
	const frame = () => new Promise(r => requestAnimationFrame(() => r()));
	const spacer = () => document.querySelector("#grid-body > tr.grid-spacer");
	const room = () => spacer() ? spacer().getBoundingClientRect().height : 0;
	if (!spacer()) return "no room of unloaded rows";
	w.scrollTop = spacer().getBoundingClientRect().bottom - w.getBoundingClientRect().top + w.scrollTop + 400;
	await frame();
	const r = w.getBoundingClientRect();
	const anchor = document.elementFromPoint(r.left + 40, r.top + 100)?.closest("tr[data-record-id]");
	if (!anchor) return "no row at the top";
	const before = anchor.getBoundingClientRect().top, h0 = room();
	for (let i = 0; i < 200 && room() === h0; i++) await sleep(25);
	if (room() === h0) return "no page loaded";
	await frame(); await frame(); await sleep(100);
	return anchor.isConnected ? "moved " + Math.round(anchor.getBoundingClientRect().top - before) + " px" : "the row is gone";
})()`

// TestBrowserGridRecordPanelFollowsEdits (issue 9, item 4): Enter on the
// first column opens the panel with the record's values; an edit made in
// the grid reaches the open panel, and the panel's Save then keeps it
// instead of failing against the person's own edit; a real conflict names
// who changed the record and shows both values.
func TestBrowserGridRecordPanelFollowsEdits(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "grid-panel@example.com", 3)
	ctx := context.Background()
	store := f.inst.App.Workbooks
	title, note := f.tbl.Columns[0].ID, f.tbl.Columns[2].ID
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	id := browsertest.MustEval[string](t, f.tab, `document.querySelector("#grid-body tr[data-record-id]").dataset.recordId`)
	row := fmt.Sprintf(`#grid-body tr[data-record-id="%s"]`, id)
	field := func(col string) string {
		return fmt.Sprintf(`#record-panel [data-testid="panel-field"][data-field="%s"] [name="f.%s"]`, col, col)
	}
	panelValue := func(col string) string {
		return browsertest.MustEval[string](t, f.tab, fmt.Sprintf(`(document.querySelector(%q) || {}).value || ""`, field(col)))
	}

	// Enter on the first column opens the panel with this record's values.
	browsertest.MustEval[bool](t, f.tab, fmt.Sprintf(`document.querySelector('%s td[data-column="Title"]').focus(); true`, row))
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, f.tab, fmt.Sprintf(`!document.getElementById("record-panel").hidden && !!document.querySelector(%q)`, field(title)))
	if got := panelValue(title); got != "Item 0001" {
		t.Fatalf("the panel opened by Enter shows Title %q, want %q", got, "Item 0001")
	}

	// An edit in the grid reaches the open panel.
	browsertest.MustEval[bool](t, f.tab, fmt.Sprintf(`document.querySelector('%s td[data-column="Note"]').focus(); true`, row))
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, f.tab, `document.activeElement.classList.contains("cell-editor")`)
	browsertest.MustEval[bool](t, f.tab, `document.activeElement.value = ""; true`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("From the grid"), chromedp.KeyEvent(kb.Enter))
	browsertest.WaitText(t, f.tab, row+` td[data-column="Note"] [data-testid="cell-value"]`, "From the grid")
	mustWaitEval(t, f.tab, fmt.Sprintf(`(document.querySelector(%q) || {}).value === "From the grid"`, field(note)))

	// Saving the panel keeps the grid's edit and does not 409.
	browsertest.MustDo(t, f.tab,
		chromedp.SetValue(chromedp.CSS(field(title)), "Renamed in the panel"),
		chromedp.Click(chromedp.CSS(`#record-panel [data-testid="panel-save"]`)),
	)
	browsertest.WaitText(t, f.tab, `#record-panel [data-testid="panel-notice"]`, "Saved.")
	rec, err := store.FindRecord(ctx, f.userID, f.wb.ID, f.tbl.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Fields[title] != "Renamed in the panel" || rec.Fields[note] != "From the grid" {
		t.Fatalf("after the panel's save the record holds %v", rec.Fields)
	}

	// The panel keeps following the grid after a save; an edit typed in the
	// panel while the grid changes another field is merged on save.
	typeInPanel := func(col, value string) {
		t.Helper()
		browsertest.MustDo(t, f.tab, chromedp.SetValue(chromedp.CSS(field(col)), value))
		browsertest.MustEval[bool](t, f.tab, fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("input", {bubbles: true})); true`, field(col)))
	}
	save := func() {
		t.Helper()
		browsertest.MustEval[bool](t, f.tab, `document.querySelectorAll('#record-panel [data-testid="panel-notice"]').forEach(e => e.remove()); true`)
		browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#record-panel [data-testid="panel-save"]`)))
	}
	typeInPanel(title, "Renamed in the panel again")
	if _, err := store.UpdateRecord(ctx, f.userID, f.wb.ID, f.tbl.ID, id, map[string]any{"Note": "Elsewhere"}, rec.Version); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, f.tab, row+` td[data-column="Note"]`, "Elsewhere")
	save()
	browsertest.WaitText(t, f.tab, `#record-panel [data-testid="panel-notice"]`, "Saved.")
	rec, err = store.FindRecord(ctx, f.userID, f.wb.ID, f.tbl.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Fields[title] != "Renamed in the panel again" || rec.Fields[note] != "Elsewhere" {
		t.Fatalf("after the merged save the record holds %v", rec.Fields)
	}

	// A real conflict: the same field changed elsewhere meanwhile.
	typeInPanel(title, "Mine")
	if _, err := store.UpdateRecord(ctx, f.userID, f.wb.ID, f.tbl.ID, id, map[string]any{"Title": "Theirs"}, rec.Version); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, f.tab, row+` td[data-column="Title"]`, "Theirs")
	save()
	msg := browsertest.WaitText(t, f.tab, `#record-panel [data-testid="panel-conflict"]`, "grid-panel@example.com")
	for _, want := range []string{"Title", "Theirs", "Mine"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the conflict says %q, without %q", msg, want)
		}
	}
}

// TestBrowserGridFillShowsNewValues (issue 9, item 3): Fill over 140
// filtered records shows the new values in the grid without a reload, and
// the live stream carrying them is not dropped on the way.
func TestBrowserGridFillShowsNewValues(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "grid-fill@example.com", 300)
	browsertest.MustDo(t, f.tab,
		chromedp.Navigate(f.gridURL+"?filter="+url.QueryEscape("Price <= 140")),
		chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)),
	)
	// Each tab holds two streams: its own (/events) and the workbook's.
	mustWaitSubscribers(t, f.inst, 2)
	browsertest.MustEval[bool](t, f.tab, `window.__marker = 1; true`)
	droppedBefore := f.inst.App.Broker.Dropped()
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-toggle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-field"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="bulk-field"]`), f.tbl.Columns[2].ID),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="bulk-value"]`), "Filled"),
		chromedp.Click(chromedp.CSS(`input[name="fill_scope"][value="filter"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-fill"]`)),
	)
	browsertest.WaitText(t, f.tab, `[data-testid="bulk-result-message"]`, "140")
	// Every row the grid holds shows the new value, without a page load.
	mustWaitEval(t, f.tab, `(() => { const cells = [...document.querySelectorAll('#grid-body td[data-column="Note"]')]; return cells.length >= 100 && cells.every(td => td.textContent.includes("Filled")); })()`)
	if !browsertest.MustEval[bool](t, f.tab, `window.__marker === 1`) {
		t.Fatal("the page was reloaded")
	}
	if n := f.inst.App.Broker.Dropped() - droppedBefore; n != 0 {
		t.Errorf("the server dropped %d live streams during the fill", n)
	}
}

// TestBrowserGridBulkChangeKeepsScrollDepth: a change to more records than
// an event names (here a fill of 400) reloads the pages the grid holds in
// place, so a person scrolled to row 250 sees its new value there instead
// of being sent back to the first page.
func TestBrowserGridBulkChangeKeepsScrollDepth(t *testing.T) {
	t.Parallel()
	f := mustBigGrid(t, "grid-bulk-depth@example.com", 400)
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	mustWaitSubscribers(t, f.inst, 2)
	const row250 = `[...document.querySelectorAll("#grid-body tr[data-record-id]")].find(tr => tr.querySelector('td[data-column="Title"]').textContent.includes("Item 0250"))`
	mustWaitEval(t, f.tab, `(() => { const w = document.getElementById("grid-wrap"); const tr = `+row250+`; if (!tr) { w.scrollTop = w.scrollHeight; return false; } tr.scrollIntoView({block: "center"}); return true; })()`)
	time.Sleep(300 * time.Millisecond) // pages near the new position settle
	browsertest.MustEval[bool](t, f.tab, `window.__marker = 1; true`)
	before := browsertest.MustEval[float64](t, f.tab, `(`+row250+`).getBoundingClientRect().top`)
	if _, err := f.inst.App.Workbooks.FillColumn(context.Background(), f.userID, f.wb.ID, f.tbl.ID, "Note", "Bulk filled", workbooks.Scope{Query: workbooks.RecordQuery{}}); err != nil {
		t.Fatal(err)
	}
	mustWaitEval(t, f.tab, `(() => { const tr = `+row250+`; return !!tr && tr.querySelector('td[data-column="Note"]').textContent.includes("Bulk filled"); })()`)
	if !browsertest.MustEval[bool](t, f.tab, `window.__marker === 1`) {
		t.Fatal("the page was reloaded")
	}
	after := browsertest.MustEval[float64](t, f.tab, `(`+row250+`).getBoundingClientRect().top`)
	if after < before-50 || after > before+50 {
		t.Errorf("row 250 moved from %.0f px to %.0f px", before, after)
	}
	if n := browsertest.MustEval[int](t, f.tab, `document.querySelectorAll("#grid-body tr[data-record-id]").length`); n > 320 {
		t.Errorf("%d rows after the refresh", n)
	}
	mustWaitEval(t, f.tab, `[...document.querySelectorAll('#grid-body td[data-column="Note"]')].every(td => td.textContent.includes("Bulk filled"))`)
}
