package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// menuGrid is a signed-in tab on a small table with a column of each kind
// the column menu treats differently.
type menuGrid struct {
	inst    *apptest.Instance
	tab     context.Context
	userID  string
	wb      workbooks.Workbook
	tbl     workbooks.Table
	recs    map[string]workbooks.Record // by title
	gridURL string
}

func mustMenuGrid(t *testing.T, email string) menuGrid {
	t.Helper()
	inst, tab, u := mustSignedInTab(t, apptest.Options{}, email)
	ctx := context.Background()
	store := inst.App.Workbooks
	wb, err := store.CreateWorkbook(ctx, u.ID, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := store.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Fruit", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
		{Name: "Price", Type: values.Number},
		{Name: "Status", Type: values.Select, Options: []string{"Draft", "Published"}},
		{Name: "Tags", Type: values.MultiSelect, Options: []string{"news", "promo", "tech"}},
		{Name: "Weight", Type: values.Text},
		{Name: "Note", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := menuGrid{inst: inst, tab: tab, userID: u.ID, wb: wb, tbl: tbl, recs: map[string]workbooks.Record{},
		gridURL: fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID)}
	for _, r := range []map[string]any{
		{"Title": "Apple", "Price": 3, "Status": "Draft", "Tags": []string{"news"}, "Weight": "1.5", "Note": "n"},
		{"Title": "Banana", "Price": 1, "Status": "Published", "Weight": "heavy", "Note": "n"},
		{"Title": "Cherry", "Price": 2, "Status": "Draft", "Tags": []string{"tech"}, "Weight": "2", "Note": "n"},
		{"Title": "Date", "Price": 5, "Status": "Published", "Note": "n"},
	} {
		// Clean records, as pulled: a record created here would be gone,
		// not deleted, once its suggested delete is accepted.
		byID := map[string]any{}
		for k, v := range r {
			c, _ := tbl.Columns.Lookup(k)
			byID[c.ID] = v
		}
		var id string
		if err := inst.Pool.QueryRow(ctx, `INSERT INTO records (workbook_id, table_id, remote_id, fields) VALUES ($1, $2, $3, $4) RETURNING id`,
			wb.ID, tbl.ID, r["Title"], byID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		rec, err := store.FindRecord(ctx, u.ID, wb.ID, tbl.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		f.recs[r["Title"].(string)] = rec
	}
	return f
}

func (f menuGrid) table(t *testing.T) workbooks.Table {
	t.Helper()
	got, err := f.inst.App.Workbooks.FindTable(context.Background(), f.userID, f.wb.ID, f.tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f menuGrid) record(t *testing.T, title string) workbooks.Record {
	t.Helper()
	got, err := f.inst.App.Workbooks.FindRecord(context.Background(), f.userID, f.wb.ID, f.tbl.ID, f.recs[title].ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// menuRowTitles are the titles of the grid's rows, in order.
const menuRowTitles = `Array.from(document.querySelectorAll('#grid-body tr[data-record-id]')).map(tr => tr.querySelector('td[data-column="Title"]').innerText.trim()).join(",")`

func mustRowTitles(t *testing.T, tab context.Context, want string) {
	t.Helper()
	mustWaitEval(t, tab, menuRowTitles+` === `+jsString(want))
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// openColumnMenu clicks a column's ⋮ and waits for its menu.
func openColumnMenu(t *testing.T, tab context.Context, column string) {
	t.Helper()
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="column-menu-button"][data-column=`+jsString(column)+`]`)),
	)
	mustWaitEval(t, tab, `(() => { const m = document.getElementById("column-menu"); return !m.hidden && !!m.querySelector('[data-column=`+jsString(column)+`]'); })()`)
}

// TestBrowserColumnMenuSortFilterHide drives the column menu: sort
// descending, a second sort key (order checked from the rows), filter on a
// column (the filter box gets a correct expression), hide, and the keyboard
// (Enter opens, arrows move, Escape closes back to the button).
func TestBrowserColumnMenuSortFilterHide(t *testing.T) {
	t.Parallel()
	f := mustMenuGrid(t, "column-menu-sort@example.com")
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL))
	mustRowTitles(t, f.tab, "Apple,Banana,Cherry,Date")

	openColumnMenu(t, f.tab, "Price")
	mustScreenshots(t, f.tab, "column-menu-open")
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-sort-desc"]`)))
	mustRowTitles(t, f.tab, "Date,Apple,Cherry,Banana")
	mustWaitEval(t, f.tab, `document.querySelector('th[data-column="Price"]').getAttribute("aria-sort") === "descending"`)

	// Sort by Status ascending, then by Price descending.
	openColumnMenu(t, f.tab, "Status")
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-sort-asc"]`)))
	mustRowTitles(t, f.tab, "Apple,Cherry,Banana,Date")
	openColumnMenu(t, f.tab, "Price")
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-sort-then-desc"]`)))
	mustRowTitles(t, f.tab, "Apple,Cherry,Date,Banana")
	loc := browsertest.MustRun(t, f.tab, chromedp.Location())
	u, _ := url.Parse(loc)
	if got := u.Query().Get("sort"); got != "Status,-Price" {
		t.Fatalf("sort in the URL = %q", got)
	}
	mustWaitEval(t, f.tab, `document.querySelector('th[data-column="Price"] [data-testid="sort-order"]').textContent === "2"`)

	// Filter on Status: the filter box gets "Status" = 'Draft', with the
	// value selected to be typed over; Enter filters.
	openColumnMenu(t, f.tab, "Status")
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-filter"]`)))
	mustWaitEval(t, f.tab, `document.activeElement.id === "grid-filter"`)
	if got := browsertest.MustEval[string](t, f.tab, `(() => { const i = document.activeElement; return i.value + "|" + i.value.slice(i.selectionStart, i.selectionEnd); })()`); got != `"Status" = 'Draft'|Draft` {
		t.Fatalf("filter box = %s", got)
	}
	browsertest.MustDo(t, f.tab, chromedp.SendKeys(`#grid-filter`, kb.Enter))
	mustRowTitles(t, f.tab, "Apple,Cherry")

	// Hide Note from its menu.
	openColumnMenu(t, f.tab, "Note")
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-hide"]`)))
	mustWaitEval(t, f.tab, `!document.querySelector('th[data-column="Note"]') && !!document.querySelector('th[data-column="Price"]')`)
	if got := f.table(t).HiddenColumns; len(got) != 1 || got[0] != f.tbl.Columns[5].ID {
		t.Fatalf("hidden columns = %v", got)
	}
	mustRowTitles(t, f.tab, "Apple,Cherry") // the view stayed

	// The keyboard alone: Enter on the button opens the menu with its
	// first item focused, arrows move, Escape closes back to the button.
	browsertest.MustDo(t, f.tab, chromedp.Focus(`[data-testid="column-menu-button"][data-column="Title"]`))
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, f.tab, `!document.getElementById("column-menu").hidden && document.activeElement.dataset.testid === "menu-sort-asc"`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.ArrowDown))
	mustWaitEval(t, f.tab, `document.activeElement.dataset.testid === "menu-sort-desc"`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.Escape))
	mustWaitEval(t, f.tab, `document.getElementById("column-menu").hidden && document.activeElement.dataset.column === "Title" && document.activeElement.getAttribute("aria-expanded") === "false"`)

	// Alt+↓ on a cell opens its column's menu.
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#rec-`+f.recs["Apple"].ID+` td[data-column="Price"]`)))
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.ArrowDown, chromedp.KeyModifiers(chromedp.ModifierAlt)))
	mustWaitEval(t, f.tab, `!document.getElementById("column-menu").hidden && document.querySelector('#column-menu [data-column="Price"]') !== null`)
}

// TestBrowserColumnMenuRenameTypeInsertOptions renames a column, changes
// its type after a preview that lists the value that would not convert,
// inserts a scratch column left of another, and renames a select option
// (which renames it in the cells).
func TestBrowserColumnMenuRenameTypeInsertOptions(t *testing.T) {
	t.Parallel()
	f := mustMenuGrid(t, "column-menu-edit@example.com")
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL))
	mustRowTitles(t, f.tab, "Apple,Banana,Cherry,Date")

	// Rename Weight to Mass.
	openColumnMenu(t, f.tab, "Weight")
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-rename-section"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#menu-rename`)),
		chromedp.SetValue(`#menu-rename`, "Mass"),
		chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-rename-save"]`)),
	)
	mustWaitEval(t, f.tab, `!!document.querySelector('th[data-column="Mass"]') && !document.querySelector('th[data-column="Weight"]')`)
	if c, _ := f.table(t).Columns.ByID(f.tbl.Columns[4].ID); c.Name != "Mass" {
		t.Fatalf("renamed column = %+v", c)
	}

	// Change Mass to number: the preview names Banana's "heavy".
	openColumnMenu(t, f.tab, "Mass")
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-type-section"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#menu-type`)),
	)
	browsertest.MustEval[bool](t, f.tab, `(() => { const s = document.getElementById("menu-type"); s.value = "number"; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)
	mustWaitEval(t, f.tab, `document.querySelector('[data-testid="type-preview-result"]')?.dataset.failing === "1"`)
	failure := browsertest.MustEval[string](t, f.tab, `document.querySelector('[data-testid="type-failure"]').innerText`)
	if !strings.Contains(failure, "Banana") || !strings.Contains(failure, "heavy") || !strings.Contains(failure, "number") {
		t.Fatalf("failing value row = %q", failure)
	}
	mustScreenshots(t, f.tab, "type-change-preview")
	// Not confirmed without agreeing to empty the failing value.
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`[data-testid="type-confirm"]`)))
	if c, _ := f.table(t).Columns.ByID(f.tbl.Columns[4].ID); c.Type != values.Text {
		t.Fatalf("type changed without the box ticked: %s", c.Type)
	}
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`[data-testid="type-clear"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="type-confirm"]`)),
	)
	mustWaitEval(t, f.tab, `document.querySelector('th[data-column="Mass"] .col-type')?.textContent.trim() === "number"`)
	if v := f.record(t, "Apple").Fields[f.tbl.Columns[4].ID]; fmt.Sprint(v) != "1.5" {
		t.Fatalf("Apple's mass = %#v", v)
	}
	if v, ok := f.record(t, "Banana").Fields[f.tbl.Columns[4].ID]; ok && v != nil {
		t.Fatalf("Banana's mass = %#v, want emptied", v)
	}

	// Insert a scratch column left of Price.
	openColumnMenu(t, f.tab, "Price")
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-insert-section"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#menu-insert-name`)),
		chromedp.SetValue(`#menu-insert-name`, "Shelf"),
		chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-insert-left"]`)),
	)
	mustWaitEval(t, f.tab, `Array.from(document.querySelectorAll('thead th[data-column]')).map(th => th.dataset.column).join(",") === "Title,Shelf,Price,Status,Tags,Mass,Note"`)

	// Rename the option Draft to Drafting: the cells follow.
	openColumnMenu(t, f.tab, "Status")
	browsertest.MustDo(t, f.tab,
		chromedp.Click(chromedp.CSS(`#column-menu [data-testid="menu-options-section"] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="menu-option-input"]`)),
		chromedp.SetValue(`[data-testid="menu-option-input"]`, "Drafting"),
		chromedp.Click(chromedp.CSS(`[data-testid="menu-options-save"]`)),
	)
	browsertest.WaitText(t, f.tab, `#rec-`+f.recs["Apple"].ID+` td[data-column="Status"]`, "Drafting")
	if c, _ := f.table(t).Columns.Lookup("Status"); fmt.Sprint(c.Options) != "[Drafting Published]" {
		t.Fatalf("options = %v", c.Options)
	}
	if r := f.record(t, "Cherry"); r.Fields[f.tbl.Columns[2].ID] != "Drafting" {
		t.Fatalf("Cherry's status = %v", r.Fields[f.tbl.Columns[2].ID])
	}
}

// TestBrowserChipEditorAndRowSuggestedDelete adds a chip to a multi select
// with the keyboard and saves it, and decides suggested deletes from their
// rows: one accepted, one rejected.
func TestBrowserChipEditorAndRowSuggestedDelete(t *testing.T) {
	t.Parallel()
	f := mustMenuGrid(t, "chip-editor@example.com")
	ctx := context.Background()
	if _, err := f.inst.App.Workbooks.ProposeSuggestions(ctx, f.userID, f.wb.ID, f.tbl.ID, workbooks.Proposal{
		Source: workbooks.SourceAgent, Deletes: []string{f.recs["Banana"].ID, f.recs["Date"].ID},
		Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "Elderberry"}}},
	}); err != nil {
		t.Fatal(err)
	}
	browsertest.MustDo(t, f.tab, chromedp.Navigate(f.gridURL))
	mustRowTitles(t, f.tab, "Apple,Banana,Cherry,Date,Elderberry")

	// Apple's tags: news → news, promo; Backspace first removes news,
	// which is typed back.
	tags := `#rec-` + f.recs["Apple"].ID + ` td[data-column="Tags"]`
	browsertest.MustDo(t, f.tab, chromedp.DoubleClick(chromedp.CSS(tags)))
	mustWaitEval(t, f.tab, `document.activeElement?.classList.contains("chip-input")`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.Backspace))
	mustWaitEval(t, f.tab, `document.querySelectorAll('[data-testid="chip"]').length === 0`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("PROMO"), chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, f.tab, `Array.from(document.querySelectorAll('[data-testid="chip"]')).map(c => c.dataset.value).join() === "promo"`)
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent("news"), chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, f.tab, `Array.from(document.querySelectorAll('[data-testid="chip"]')).map(c => c.dataset.value).join() === "promo,news"`)
	if path, err := browsertest.Screenshot(t, f.tab, "chip-editor"); err == nil {
		t.Logf("screenshot: %s", path)
	}
	browsertest.MustDo(t, f.tab, chromedp.KeyEvent(kb.Enter)) // nothing typed: saves
	mustWaitEval(t, f.tab, `!document.querySelector(".chip-editor") && document.querySelector(`+jsString(tags)+`).querySelectorAll(".badge").length === 2`)
	if got := fmt.Sprint(f.record(t, "Apple").Fields[f.tbl.Columns[3].ID]); got != "[promo news]" {
		t.Fatalf("Apple's tags = %s", got)
	}

	// Accept Banana's suggested delete on its row; reject Date's.
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#rec-`+f.recs["Banana"].ID+` [data-testid="accept-row"]`)))
	browsertest.WaitText(t, f.tab, `#rec-`+f.recs["Banana"].ID+` [data-testid="row-label"]`, "deleted")
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#rec-`+f.recs["Date"].ID+` [data-testid="reject-row"]`)))
	mustWaitEval(t, f.tab, `!document.querySelector('#rec-`+f.recs["Date"].ID+` [data-testid="row-label"]') && !!document.querySelector('#rec-`+f.recs["Date"].ID+`')`)
	// A suggested new record rejected on its row is gone.
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`#grid-body tr[data-record-id]:last-of-type [data-testid="reject-row"]`)))
	mustRowTitles(t, f.tab, "Apple,Banana,Cherry,Date")
	if r := f.record(t, "Banana"); r.State != workbooks.StateDeleted || r.SuggestedAction != "" {
		t.Fatalf("Banana = %s, suggested %q", r.State, r.SuggestedAction)
	}
	if r := f.record(t, "Date"); r.State == workbooks.StateDeleted || r.SuggestedAction != "" {
		t.Fatalf("Date = %s, suggested %q", r.State, r.SuggestedAction)
	}
}
