package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/browsertest"
)

// keysGrid is bigGrid with its records standing for pulled ones (clean,
// their values as pulled), so edits can be reverted.
func mustKeysGrid(t *testing.T, email string, n int) bigGrid {
	t.Helper()
	f := mustBigGrid(t, email, n)
	if _, err := f.inst.Pool.Exec(context.Background(), `UPDATE records SET state = 'clean', original = NULL, edited_fields = '{}'
		WHERE workbook_id = $1`, f.wb.ID); err != nil {
		t.Fatal(err)
	}
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`#grid-body tr[data-record-id]`)))
	// The copy hook: what the grid puts on the clipboard.
	browsertest.MustEval[bool](t, f.tab, `document.addEventListener("copy", e => { window.__copied = e.clipboardData.getData("text/plain"); }); true`)
	return f
}

// field returns the value of the record titled title (as pulled) in column.
func (f bigGrid) field(t *testing.T, item int, column string) string {
	t.Helper()
	var v any
	err := f.inst.Pool.QueryRow(context.Background(), `SELECT fields -> $3 FROM records
		WHERE workbook_id = $1 AND table_id = $2 AND coalesce(original ->> $4, fields ->> $4) = $5`,
		f.wb.ID, f.tbl.ID, f.col(column), f.col("Title"), fmt.Sprintf("Item %04d", item)).Scan(&v)
	if err != nil {
		t.Fatalf("item %d: %v", item, err)
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (f bigGrid) col(name string) string {
	c, _ := f.tbl.Columns.Lookup(name)
	return c.ID
}

// activeCell is where the keyboard is: "Item 0003/Price".
const activeCell = `(() => { const a = document.activeElement; if (!a || !a.matches("#grid-body td.cell")) return "none: " + (a && a.tagName);
	const tr = a.closest("tr"); const t = tr.querySelector('td[data-column="Title"] .cell-value');
	return (t ? t.textContent.trim() : "?") + "/" + a.dataset.column; })()`

func key(k string, mods ...chromedp.Modifier) chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(k, chromedp.KeyModifiers(mods...))
}

func mustActive(t *testing.T, f bigGrid, want string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for {
		got := browsertest.MustEval[string](t, f.tab, activeCell)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the active cell is %s, want %s", got, want)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// mustField waits until the database holds want.
func mustField(t *testing.T, f bigGrid, item int, column, want string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for {
		got := f.field(t, item, column)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("item %d %s is %q, want %q", item, column, got, want)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func mustToast(t *testing.T, f bigGrid, want string) {
	t.Helper()
	mustWaitEval(t, f.tab, `[...document.querySelectorAll("#toasts .toast")].some(x => x.textContent.includes(`+"`"+want+"`"+`))`)
}

// pasteEvent dispatches a paste as the browser does for a paste from
// another application: a paste event carrying the text.
func pasteEvent(text string) string {
	return fmt.Sprintf(`(() => { const dt = new DataTransfer(); dt.setData("text/plain", %q);
		document.activeElement.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true })); return true; })()`, text)
}

// TestBrowserGridKeyboard drives the grid with the keyboard alone (issue 9):
// Tab into the grid, move, jump, type to edit, save, cancel, select a range
// with Shift+arrows, copy it, paste it, undo and redo the paste and an edit,
// revert an edited cell to its pulled value, and open the list of
// shortcuts. Every change is checked in the database.
func TestBrowserGridKeyboard(t *testing.T) {
	t.Parallel()
	f := mustKeysGrid(t, "grid-keys@example.com", 40)
	ctrl, shift, alt := chromedp.ModifierCtrl, chromedp.ModifierShift, chromedp.ModifierAlt

	// Tab from the filter box reaches the grid's first cell.
	browsertest.MustDo(t, f.tab, chromedp.Focus(chromedp.ID("grid-filter")))
	for i := 0; i < 40 && browsertest.MustEval[string](t, f.tab, activeCell) != "Item 0001/Title"; i++ {
		browsertest.MustDo(t, f.tab, key(kb.Tab))
	}
	mustActive(t, f, "Item 0001/Title")

	// Moving and jumping.
	browsertest.MustDo(t, f.tab, key(kb.ArrowDown), key(kb.ArrowDown), key(kb.ArrowRight))
	mustActive(t, f, "Item 0003/Price")
	browsertest.MustDo(t, f.tab, key(kb.End))
	mustActive(t, f, "Item 0003/Note")
	browsertest.MustDo(t, f.tab, key(kb.Home))
	mustActive(t, f, "Item 0003/Title")
	browsertest.MustDo(t, f.tab, key(kb.End, ctrl))
	mustActive(t, f, "Item 0040/Note")
	browsertest.MustDo(t, f.tab, key(kb.Home, ctrl))
	mustActive(t, f, "Item 0001/Title")
	browsertest.MustDo(t, f.tab, key(kb.ArrowDown, ctrl))
	mustActive(t, f, "Item 0040/Title")
	browsertest.MustDo(t, f.tab, key(kb.ArrowUp, ctrl), key(kb.PageDown))
	if got := browsertest.MustEval[string](t, f.tab, activeCell); got == "Item 0001/Title" || got == "Item 0002/Title" {
		t.Errorf("PageDown moved to %s, want a screen down", got)
	}
	browsertest.MustDo(t, f.tab, key(kb.PageUp))
	mustActive(t, f, "Item 0001/Title")

	// Typing on a cell edits it with what is typed; Enter saves.
	browsertest.MustDo(t, f.tab, key(kb.ArrowDown), key(kb.ArrowDown), key(kb.ArrowRight), chromedp.KeyEvent("5"))
	mustWaitEval(t, f.tab, `document.activeElement.matches(".cell-editor") && document.activeElement.value === "5"`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("0"), key(kb.Enter))
	mustField(t, f, 3, "Price", "50")
	mustActive(t, f, "Item 0003/Price")

	// Escape cancels an edit.
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("7"))
	mustWaitEval(t, f.tab, `document.activeElement.matches(".cell-editor") && document.activeElement.value === "7"`)
	browsertest.MustDo(t, f.tab, key(kb.Escape))
	mustActive(t, f, "Item 0003/Price")
	if got := f.field(t, 3, "Price"); got != "50" {
		t.Fatalf("Escape saved the edit: Price is %s", got)
	}

	// A range with Shift+arrows, copied as TSV.
	browsertest.MustDo(t, f.tab, key(kb.Home, ctrl), key(kb.ArrowDown, shift), key(kb.ArrowDown, shift), key(kb.ArrowRight, shift))
	mustWaitEval(t, f.tab, `document.querySelectorAll("#grid-body td.in-range").length === 6`)
	mustScreenshots(t, f.tab, "grid-keys-range")
	mustActive(t, f, "Item 0003/Price")
	browsertest.MustDo(t, f.tab, key("c", ctrl))
	mustWaitEval(t, f.tab, `window.__copied !== undefined`)
	if got, want := browsertest.MustEval[string](t, f.tab, `window.__copied`), "Item 0001\t1\nItem 0002\t2\nItem 0003\t50"; got != want {
		t.Fatalf("copied %q, want %q", got, want)
	}

	// Pasted from Item 0010's title: one request, one undo step.
	browsertest.MustDo(t, f.tab, key(kb.Home, ctrl))
	for i := 0; i < 9; i++ {
		browsertest.MustDo(t, f.tab, key(kb.ArrowDown))
	}
	mustActive(t, f, "Item 0010/Title")
	browsertest.MustEval[bool](t, f.tab, pasteEvent(browsertest.MustEval[string](t, f.tab, `window.__copied`)))
	mustToast(t, f, "Pasted 6 cells.")
	for _, c := range []struct {
		item        int
		title, want string
	}{{10, "Item 0001", "1"}, {11, "Item 0002", "2"}, {12, "Item 0003", "50"}} {
		mustField(t, f, c.item, "Title", c.title)
		mustField(t, f, c.item, "Price", c.want)
	}
	mustWaitEval(t, f.tab, `document.querySelectorAll("#grid-body td.in-range").length === 6`)

	// Undo takes the whole paste back; redo does it again.
	browsertest.MustDo(t, f.tab, key("z", ctrl))
	mustToast(t, f, "Undid the paste of 6 cells.")
	mustField(t, f, 12, "Title", "Item 0012")
	mustField(t, f, 10, "Price", "10")
	browsertest.MustDo(t, f.tab, key("z", ctrl, shift))
	mustToast(t, f, "Redid the paste of 6 cells.")
	mustField(t, f, 12, "Title", "Item 0003")
	mustField(t, f, 11, "Price", "2")
	// Undo twice: the paste, then the edit of the price made in the editor.
	browsertest.MustDo(t, f.tab, key("z", ctrl))
	mustField(t, f, 10, "Title", "Item 0010")
	browsertest.MustDo(t, f.tab, key("z", ctrl))
	mustToast(t, f, "Undid the edit of Price.")
	mustField(t, f, 3, "Price", "3")
	browsertest.MustDo(t, f.tab, key("y", ctrl))
	mustField(t, f, 3, "Price", "50")

	// Revert to the pulled value: Alt+Backspace on an edited cell…
	mustWaitEval(t, f.tab, `document.querySelector("#rec-"+CSS.escape(document.activeElement.closest("tr").dataset.recordId)+" td[data-column=Price]").classList.contains("edited")`)
	mustActive(t, f, "Item 0003/Price")
	browsertest.MustDo(t, f.tab, key(kb.Backspace, alt))
	mustToast(t, f, "Reverted 1 cell to the pulled value.")
	mustField(t, f, 3, "Price", "3")
	var state string
	if err := f.inst.Pool.QueryRow(context.Background(), `SELECT state FROM records WHERE table_id = $1 AND fields ->> $2 = 'Item 0003'`, f.tbl.ID, f.col("Title")).Scan(&state); err != nil || state != "clean" {
		t.Errorf("the reverted record is %q (%v), want clean", state, err)
	}
	// …and the editor's Revert button.
	// (Chromium's DevTools send a key's keydown and its character as two
	// messages, which an editor arriving in between can split: the test
	// waits for the editor before typing on, as a person's keys cannot be.)
	browsertest.MustDo(t, f.tab, key(kb.ArrowLeft), chromedp.KeyEvent("R"))
	mustWaitEval(t, f.tab, `document.activeElement.matches(".cell-editor") && document.activeElement.value === "R"`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("enamed"), key(kb.Enter))
	mustField(t, f, 3, "Title", "Renamed")
	// The saved row is back, with the cell active. (Keys pressed before it
	// is back wait for it: TestBrowserGridKeysTypedWhileASaveIsOnItsWay.)
	mustActive(t, f, "Renamed/Title")
	// (Enter on the first column opens the record; F2 edits it.)
	browsertest.MustDo(t, f.tab, key(kb.F2))
	mustWaitEval(t, f.tab, `document.activeElement.matches(".cell-editor") && !!document.querySelector('[data-testid="revert-cell"]')`)
	mustScreenshots(t, f.tab, "grid-keys-revert")
	// (Tab in an editor saves and moves on, so this control is for the
	// pointer; the keyboard has Alt+Backspace.)
	browsertest.MustEval[bool](t, f.tab, `document.querySelector('[data-testid="revert-cell"]').click() || true`)
	mustToast(t, f, "Reverted Title to the pulled value.")
	mustField(t, f, 3, "Title", "Item 0003")
	mustActive(t, f, "Item 0003/Title")

	// `?` lists the shortcuts in a modal dialog that Escape closes,
	// giving the keyboard back to the cell.
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("?"))
	mustWaitEval(t, f.tab, `document.getElementById("grid-keys-help").open && document.activeElement.closest("dialog") !== null`)
	text := browsertest.MustEval[string](t, f.tab, `document.getElementById("grid-keys-help").textContent`)
	for _, want := range []string{"Keyboard shortcuts", "Shift+↑ ↓ ← →", "Undo", "Redo", "Paste", "pulled value", "PageDown"} {
		if !strings.Contains(text, want) {
			t.Errorf("the shortcut list does not mention %q", want)
		}
	}
	mustScreenshots(t, f.tab, "grid-keys-help")
	browsertest.MustDo(t, f.tab, key(kb.Escape))
	mustWaitEval(t, f.tab, `!document.getElementById("grid-keys-help").open`)
	mustActive(t, f, "Item 0003/Title")

	// Every edit was undone or reverted: all records are as pulled.
	var edited int
	if err := f.inst.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records WHERE table_id = $1 AND state <> 'clean'`, f.tbl.ID).Scan(&edited); err != nil || edited != 0 {
		t.Errorf("%d records are not clean (%v), want none", edited, err)
	}
}

// TestBrowserGridPasteTSV pastes a block of 4 rows by 3 columns copied from
// a spreadsheet (CRLF line ends, quoted cells holding a tab, a line break
// and quotes) and finds its twelve values saved, in one request.
func TestBrowserGridPasteTSV(t *testing.T) {
	t.Parallel()
	f := mustKeysGrid(t, "grid-paste@example.com", 10)
	block := "\"Lamp, \"\"big\"\"\"\t10.5\t\"two\nlines\"\r\n" +
		"Desk\t20\tplain\r\n" +
		"Chair\t30\t\"tab\there\"\r\n" +
		"Stool\t40\tlast\r\n"
	// Its first cell is the second record's title.
	browsertest.MustEval[bool](t, f.tab, `document.querySelectorAll("#grid-body tr[data-record-id]")[1].querySelector('td[data-column="Title"]').focus() || true`)
	mustActive(t, f, "Item 0002/Title")
	browsertest.MustEval[bool](t, f.tab, pasteEvent(block))
	mustToast(t, f, "Pasted 12 cells.")
	want := [][3]string{
		{`Lamp, "big"`, "10.5", "two\nlines"},
		{"Desk", "20", "plain"},
		{"Chair", "30", "tab\there"},
		{"Stool", "40", "last"},
	}
	for i, w := range want {
		item := i + 2
		mustField(t, f, item, "Title", w[0])
		mustField(t, f, item, "Price", w[1])
		mustField(t, f, item, "Note", w[2])
	}
	if n := browsertest.MustEval[int](t, f.tab, `performance.getEntriesByType("resource").filter(e => e.name.endsWith("/cells")).length`); n != 1 {
		t.Errorf("the paste took %d requests, want 1", n)
	}
	mustWaitEval(t, f.tab, `document.querySelectorAll("#grid-body td.in-range").length === 12`)
	if got := browsertest.MustEval[string](t, f.tab, `document.querySelector('#grid-body td.in-range[data-column="Title"] .cell-value').textContent.trim()`); got != `Lamp, "big"` {
		t.Errorf("the grid shows %q after the paste", got)
	}
	// Copied back, the range comes whole: the note the grid shows cut
	// short ("two …") is fetched in full, and quoted as spreadsheets do.
	// (The clipboard is written asynchronously then, which headless
	// Chromium does not allow without a permission: the test catches it.)
	browsertest.MustEval[bool](t, f.tab, `navigator.clipboard.writeText = text => { window.__written = text; return Promise.resolve(); }; true`)
	browsertest.MustDo(t, f.tab, key("c", chromedp.ModifierCtrl))
	mustToast(t, f, "Copied 12 cells.")
	wantTSV := "\"Lamp, \"\"big\"\"\"\t10.5\t\"two\nlines\"\nDesk\t20\tplain\nChair\t30\t\"tab\there\"\nStool\t40\tlast"
	if got := browsertest.MustEval[string](t, f.tab, `window.__written || ""`); got != wantTSV {
		t.Errorf("the clipboard holds %q, want %q", got, wantTSV)
	}
	if got := browsertest.MustEval[string](t, f.tab, `window.__copied`); !strings.Contains(got, "two …") {
		t.Errorf("the first, synchronous copy holds %q, want the values as shown", got)
	}

	// Shift+click extends a range from the active cell.
	center := func(item int, column string) (float64, float64) {
		xy := browsertest.MustEval[[]float64](t, f.tab, fmt.Sprintf(`(() => { const tr = [...document.querySelectorAll("#grid-body tr[data-record-id]")][%d];
			const r = tr.querySelector('td[data-column=%q]').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`, item-1, column))
		return xy[0], xy[1]
	}
	x, y := center(1, "Price")
	browsertest.MustDo(t, f.tab, chromedp.MouseClickXY(x, y))
	mustActive(t, f, "Item 0001/Price")
	x, y = center(3, "Note")
	browsertest.MustDo(t, f.tab, chromedp.MouseClickXY(x, y, chromedp.ButtonModifiers(chromedp.ModifierShift)))
	mustWaitEval(t, f.tab, `document.querySelectorAll("#grid-body td.in-range").length === 6`)
	mustActive(t, f, "Desk/Note")

	// The records around the block were not touched.
	mustField(t, f, 1, "Title", "Item 0001")
	mustField(t, f, 6, "Title", "Item 0006")

	// A paste over a record someone else changed meanwhile saves nothing
	// and says why.
	var id string
	if err := f.inst.Pool.QueryRow(context.Background(), `SELECT id FROM records WHERE table_id = $1 AND fields ->> $2 = 'Item 0007'`, f.tbl.ID, f.col("Title")).Scan(&id); err != nil {
		t.Fatal(err)
	}
	browsertest.MustDo(t, f.tab, chromedp.Focus(chromedp.CSS(`#rec-`+id+` td[data-column="Note"]`)))
	if _, err := f.inst.Pool.Exec(context.Background(), `UPDATE records SET version = version + 1 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	browsertest.MustEval[bool](t, f.tab, pasteEvent("mine"))
	mustToast(t, f, "This record was changed")
	mustField(t, f, 7, "Note", "note")
}

// TestBrowserGridKeysTypedWhileASaveIsOnItsWay: keys pressed after Enter
// saves a cell, before its row comes back, are not lost in the editor
// going away: they act on the saved row's cell once it is back, as in a
// spreadsheet ("42, Enter, Down, 7, Enter" fills two rows). The save is
// held in the browser (DevTools' Fetch domain) while the keys are pressed,
// so the keys surely come before the row.
func TestBrowserGridKeysTypedWhileASaveIsOnItsWay(t *testing.T) {
	t.Parallel()
	f := mustKeysGrid(t, "keys-in-flight@example.com", 3)
	// Hold the first save (a PUT of a cell) until released; let everything
	// else through.
	paused := make(chan *fetch.EventRequestPaused, 16)
	if err := chromedp.Listen(f.tab, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- e
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(f.tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/cells/*", RequestStage: fetch.RequestStageRequest}}}); err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	go func() {
		first := true
		for {
			var e *fetch.EventRequestPaused
			select {
			case e = <-paused:
			case <-f.tab.Done():
				return
			}
			if first && e.Request != nil && e.Request.Method == "PUT" {
				first = false
				close(held)
				select {
				case <-release:
				case <-f.tab.Done():
					return
				}
			}
			if _, err := chromedp.Call(f.tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID}); err != nil && f.tab.Err() == nil {
				t.Errorf("continue request: %v", err)
			}
		}
	}()

	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#grid-body tr[data-record-id] td[data-column="Price"]`)))
	mustActive(t, f, "Item 0001/Price")
	// Typing on the cell opens its editor (its GET passes: only the first
	// save is held).
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("4"))
	mustWaitEval(t, f.tab, `document.activeElement.matches(".cell-editor")`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("2"))
	mustWaitEval(t, f.tab, `document.activeElement.value === "42"`)
	browsertest.MustDo(t, f.tab, key(kb.Enter))
	select {
	case <-held:
	case <-time.After(browsertest.Timeout):
		t.Fatal("the save was not sent")
	}
	// While the save is held: Down, then 7 and Enter for the next row.
	browsertest.MustDo(t, f.tab, key(kb.ArrowDown), chromedp.KeyEvent("7"), key(kb.Enter))
	close(release)
	mustField(t, f, 1, "Price", "42")
	mustField(t, f, 2, "Price", "7")
	mustActive(t, f, "Item 0002/Price")
}
