package handlers_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// The hostile values of the end-to-end test: each must stay text wherever it
// is shown, and come back out of the export byte for byte.
const (
	e2eScript = `<script>alert(1)</script>`
	e2eImg    = `"><img src=x onerror=alert(1)>`
)

// e2eRow is one record of the end-to-end table, in the file's column order.
type e2eRow struct{ Title, Price, Body, Note string }

// TestBrowserDoneWhenIssue3 follows issue 3's "Done when" literally, in
// headless Chromium against one instance: a person signs up, makes a
// workbook, uploads a CSV through the upload page (with hostile values) and
// opens the table; a second browser context of the same person sees a
// keyboard edit arrive live; suggestions proposed through the JSON API
// appear there as word diffs; the person accepts one cell, rejects a whole
// record and accepts the rest of the column; the database and the exported
// CSV hold exactly the accepted values. Throughout, the hostile values are
// text: no script or img element ever appears, and no dialog opens (an
// exception or a CSP violation would fail the test through the rig).
func TestBrowserDoneWhenIssue3(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	const email = "done-when@example.com"

	body := func(topic string) string {
		return "A long description of the " + topic + " that goes on for a while, " +
			"so that the column holds the kind of text people keep in a body field of a product table."
	}
	imported := []e2eRow{
		{"Alpha lamp", "10", body("lamp"), ""},
		{"Beta desk", "20", body("desk"), "second"},
		{e2eScript, "30", body("script"), "third"},
		{e2eImg, "40", "Line one with \"quotes\", a comma and <img src=x onerror=alert(1)>\nline two of the body", "fourth"},
		{"Epsilon chair", "50", body("chair"), "fifth"},
	}
	csvPath := mustWriteE2ECSV(t, imported)

	// 1. Tab A: sign up, create a workbook, upload the CSV, open the table.
	tabA := browsertest.MustBrowser(t)
	mustRecordDialogs(t, tabA, "tab A")
	mustSignUpInBrowser(t, tabA, inst.URL, email, gridPassword)
	browsertest.MustDo(t, tabA,
		chromedp.SendKeys(chromedp.ID("new-workbook-name"), "Done when"),
		chromedp.Click(chromedp.CSS(`[data-testid="create-workbook-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="workbook-empty"]`)),
		chromedp.Click(chromedp.CSS(`.page-header [data-testid="import-csv"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-form"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-file"]`), []string{csvPath}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-form"]`)),
	)
	browsertest.WaitText(t, tabA, `[data-testid="file-facts"]`, "commas")
	if n := browsertest.MustEval[int](t, tabA, `document.querySelectorAll('[data-testid="preview-row"]').length`); n != len(imported) {
		t.Fatalf("the preview shows %d rows, want %d", n, len(imported))
	}
	mustNoHostileElements(t, tabA, `[data-testid="preview-table"]`)
	browsertest.MustDo(t, tabA,
		chromedp.SetValue(chromedp.CSS(`[data-testid="table-name"]`), "Products"),
		// Confirm the guesses, except that the body is long text.
		chromedp.SetValue(chromedp.CSS(`select[name="col_type_2"]`), "text:markdown"),
		chromedp.Click(chromedp.CSS(`[data-testid="import-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-progress"]`)),
	)
	browsertest.MustEval[int](t, tabA, `window.__marker = 1`)
	browsertest.WaitText(t, tabA, `[data-testid="import-status"]`, fmt.Sprintf("Done: %d rows imported", len(imported)))
	if !browsertest.MustEval[bool](t, tabA, `window.__marker === 1`) {
		t.Fatal("the import page reloaded; its progress must arrive live")
	}
	browsertest.MustDo(t, tabA,
		chromedp.Click(chromedp.CSS(`[data-testid="open-table"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="grid-body"] tr[data-testid="record-row"]`)),
	)

	u := mustFindUser(t, inst, email)
	wbID := browsertest.MustEval[string](t, tabA, `document.querySelector('[data-testid="grid-page"]').dataset.workbookId`)
	tblID := browsertest.MustEval[string](t, tabA, `document.querySelector('[data-testid="grid-page"]').dataset.tableId`)
	tbl, err := inst.App.Workbooks.FindTable(ctx, u.ID, wbID, tblID)
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]workbooks.Column{}
	for _, c := range tbl.Columns {
		col[c.Name] = c
	}
	if got := []string{string(col["Title"].Type), string(col["Price"].Type), string(col["Body"].Type) + ":" + col["Body"].Format, string(col["Note"].Type)}; !slices.Equal(got, []string{"text", "number", "text:markdown", "text"}) {
		t.Fatalf("imported column types %q", got)
	}
	recID := mustE2ERecordIDs(t, inst, u.ID, tbl)
	if len(recID) != len(imported) {
		t.Fatalf("%d records imported, want %d", len(recID), len(imported))
	}
	cell := func(title, column string) string {
		return fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="%s"]`, recID[title], column)
	}
	gridURL := inst.URL + "/workbooks/" + wbID + "/tables/" + tblID

	// The hostile titles are text in the grid, exactly as imported.
	for _, v := range []string{e2eScript, e2eImg} {
		if got := mustTrimmedText(t, tabA, cell(v, "Title")+` [data-testid="cell-value"]`); got != v {
			t.Errorf("title cell shows %q, want %q", got, v)
		}
	}
	mustNoHostileElements(t, tabA, `[data-testid="grid"]`)

	// 2. Tab B: the same person signs in in a second browser context and
	// opens the table; an edit made by keyboard in tab A arrives there.
	tabB := browsertest.MustIsolatedTab(t, tabA)
	mustRecordDialogs(t, tabB, "tab B")
	browsertest.MustDo(t, tabB,
		chromedp.Navigate(inst.URL+"/signin"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), gridPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="home-title"]`)),
		chromedp.Navigate(gridURL),
		chromedp.WaitVisible(chromedp.CSS(cell("Epsilon chair", "Title"))),
	)
	// Each tab holds its own stream (/events) and the workbook's. The pages
	// left behind hold none, though Chromium keeps them in its back/forward
	// cache: exactly four, or a browser soon runs out of connections.
	mustWaitExactSubscribers(t, inst, 4)
	browsertest.MustEval[int](t, tabB, `window.__marker = 1`)

	browsertest.MustDo(t, tabA,
		chromedp.Click(chromedp.CSS(cell("Alpha lamp", "Note"))),
		chromedp.KeyEvent(kb.Enter),
	)
	mustWaitEval(t, tabA, `document.activeElement.classList.contains("cell-editor")`)
	browsertest.MustDo(t, tabA,
		chromedp.KeyEvent("Checked in A"),
		chromedp.KeyEvent(kb.Enter),
	)
	browsertest.WaitText(t, tabA, cell("Alpha lamp", "Note")+` [data-testid="cell-value"]`, "Checked in A")
	browsertest.WaitText(t, tabB, cell("Alpha lamp", "Note")+` [data-testid="cell-value"]`, "Checked in A")
	browsertest.WaitText(t, tabB, `[data-testid="counter-changes"]`, "1")

	// 3. Suggestions through the JSON API, with a token of the same person,
	// for several records and three columns; they appear in tab B as diffs.
	token := MustToken(t, inst, u, accounts.TokenInput{Name: "e2e", Scopes: []accounts.Scope{accounts.ScopeRead, accounts.ScopeWrite}})
	revisedDesk := body("desk") + " Revised."
	proposal := map[string]any{"updates": []map[string]any{
		{"record_id": recID["Alpha lamp"], "fields": map[string]any{"Title": "Alpha lamp XL", "Price": 11}},
		{"record_id": recID["Beta desk"], "fields": map[string]any{"Title": "Beta table", "Price": 21, "Body": revisedDesk}},
		{"record_id": recID[e2eScript], "fields": map[string]any{"Title": e2eScript + " safe", "Price": 31}},
		{"record_id": recID[e2eImg], "fields": map[string]any{"Price": 41, "Body": e2eImg + " new body"}},
		{"record_id": recID["Epsilon chair"], "fields": map[string]any{"Title": "Epsilon stool"}},
	}}
	payload, err := json.Marshal(proposal)
	if err != nil {
		t.Fatal(err)
	}
	r := newAPIClient(t, inst).Do(t, apiCall{
		method: http.MethodPost, path: "/api/v1/workbooks/" + wbID + "/tables/" + tblID + "/suggestions",
		token: token, body: string(payload),
	})
	var counts countsBody
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &counts) != nil || counts != (countsBody{Updates: 10, Total: 10}) {
		t.Fatalf("propose: status %d, body %s", r.Status, r.Body)
	}

	for _, d := range []struct{ title, column, del, ins string }{
		{"Alpha lamp", "Title", "", "XL"},
		{"Alpha lamp", "Price", "10", "11"},
		{"Beta desk", "Title", "desk", "table"},
		{"Beta desk", "Body", "", "Revised."},
		{e2eScript, "Title", "", "safe"},
		{e2eImg, "Body", "two of the", "new"},
		{"Epsilon chair", "Title", "chair", "stool"},
	} {
		sel := cell(d.title, d.column) + ` [data-testid="suggestion"]`
		mustWaitDiff(t, tabB, sel, "ins.diff-ins", d.ins)
		if d.del != "" {
			mustWaitDiff(t, tabB, sel, "del.diff-del", d.del)
		}
	}
	mustWaitExactText(t, tabB, `[data-testid="counter-suggestions"]`, "10")
	// The hostile values stay text inside the diffs too.
	if got := mustTrimmedText(t, tabB, cell(e2eScript, "Title")+` [data-testid="suggestion"]`); got != e2eScript+" safe" {
		t.Errorf("the script title's diff reads %q", got)
	}
	// The img body is rewritten whole, so its diff shows the old body above
	// the new one (issue 9), both as text.
	if got := mustTrimmedText(t, tabB, cell(e2eImg, "Body")+` [data-testid="suggestion"]`); !strings.HasPrefix(got, `Line one with "quotes", a comma and <img src=x onerror=alert(1)>`) || !strings.HasSuffix(got, e2eImg+" new body") {
		t.Errorf("the img body's diff reads %q", got)
	}
	mustNoHostileElements(t, tabB, `[data-testid="grid"]`)
	if !browsertest.MustEval[bool](t, tabB, `window.__marker === 1`) {
		t.Fatal("tab B reloaded; the edit and the suggestions must arrive live")
	}

	// 4. Review in tab B. Accept one cell with its ✓.
	browsertest.MustDo(t, tabB, chromedp.Click(chromedp.CSS(cell("Alpha lamp", "Title")+` [data-testid="accept-cell"]`)))
	browsertest.WaitText(t, tabB, cell("Alpha lamp", "Title")+` [data-testid="cell-value"]`, "Alpha lamp XL")
	browsertest.WaitText(t, tabB, cell("Alpha lamp", "Price")+` [data-testid="suggestion"]`, "11")
	mustWaitExactText(t, tabB, `[data-testid="counter-suggestions"]`, "9")

	// The record panel of the img record shows its values as text, and its
	// markdown body without HTML.
	browsertest.MustDo(t, tabB,
		chromedp.Click(chromedp.CSS(cell(e2eImg, "Title")+` [data-testid="cell-value"]`)),
		chromedp.KeyEvent(kb.Enter),
	)
	mustWaitExactText(t, tabB, `#record-panel [data-testid="panel-heading"]`, e2eImg)
	mustWaitDiff(t, tabB, `#record-panel [data-testid="panel-suggestion"][data-field="`+col["Body"].ID+`"] [data-testid="suggestion-after"]`, "ins.diff-ins", "new")
	if got := mustTrimmedText(t, tabB, `#record-panel [data-testid="panel-suggestion"][data-field="`+col["Body"].ID+`"] [data-testid="suggestion-before"]`); got != imported[3].Body {
		t.Errorf("the panel shows the img body as %q, want %q", got, imported[3].Body)
	}
	browsertest.WaitText(t, tabB, `#record-panel [data-testid="panel-markdown"]`, "line two of the body")
	mustNoHostileElements(t, tabB, `#record-panel`)
	mustWaitEval(t, tabB, `document.querySelectorAll('#record-panel').length === 1`)

	// Reject a whole record from its panel: Esc closes this one, Enter on
	// the desk's title opens the desk's.
	browsertest.MustDo(t, tabB, chromedp.KeyEvent(kb.Escape))
	mustWaitEval(t, tabB, `document.getElementById("record-panel").hidden`)
	browsertest.MustDo(t, tabB,
		chromedp.Click(chromedp.CSS(cell("Beta desk", "Title")+` [data-testid="suggestion"]`)),
		chromedp.KeyEvent(kb.Enter),
	)
	mustWaitExactText(t, tabB, `#record-panel [data-testid="panel-heading"]`, "Beta desk")
	// A person cannot click within the few milliseconds htmx takes to wire
	// up freshly swapped content; a test can, so it waits for the wiring.
	mustWaitEval(t, tabB, `!!(document.querySelector('#record-panel [data-testid="panel-reject-record"]') || {})['htmx-internal-data']`)
	browsertest.MustDo(t, tabB, chromedp.Click(chromedp.CSS(`#record-panel [data-testid="panel-reject-record"]`)))
	browsertest.WaitText(t, tabB, `#record-panel [data-testid="panel-notice"]`, "Rejected 3 suggestions.")
	browsertest.WaitText(t, tabB, cell("Beta desk", "Title")+` [data-testid="cell-value"]`, "Beta desk")
	mustWaitExactText(t, tabB, `[data-testid="counter-suggestions"]`, "6")

	// Close the panel with its ×, without leaving the page, and accept the
	// rest of the title column from the bulk toolbar, opened by Bulk actions.
	browsertest.MustDo(t, tabB, chromedp.Click(chromedp.CSS(`#record-panel [data-testid="panel-close"]`)))
	mustWaitEval(t, tabB, `document.getElementById("record-panel").hidden && window.__marker === 1`)
	browsertest.MustDo(t, tabB,
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-toggle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-field"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="bulk-field"]`), col["Title"].ID),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-accept-column"]`)),
	)
	browsertest.WaitText(t, tabB, `[data-testid="bulk-result-message"]`, "Accepted 2 suggestions.")
	browsertest.WaitText(t, tabB, cell("Epsilon chair", "Title")+` [data-testid="cell-value"]`, "Epsilon stool")
	mustWaitExactText(t, tabB, cell(e2eScript, "Title")+` [data-testid="cell-value"]`, e2eScript+" safe")
	mustWaitExactText(t, tabB, `[data-testid="counter-suggestions"]`, "4")

	want := []e2eRow{
		{"Alpha lamp XL", "10", body("lamp"), "Checked in A"},
		{"Beta desk", "20", body("desk"), "second"},
		{e2eScript + " safe", "30", body("script"), "third"},
		imported[3],
		{"Epsilon stool", "50", body("chair"), "fifth"},
	}
	// Tab A followed every decision live.
	for i, w := range want {
		mustWaitExactText(t, tabA, cell(imported[i].Title, "Title")+` [data-testid="cell-value"]`, w.Title)
	}
	mustWaitExactText(t, tabA, `[data-testid="counter-suggestions"]`, "4")
	for _, tab := range []context.Context{tabA, tabB} {
		mustNoHostileElements(t, tab, `[data-testid="grid"]`)
		mustNoHostileElements(t, tab, `#record-panel`)
	}

	// The database holds exactly the accepted values; what is left pending
	// is the prices of three records and the img record's body.
	recs, err := inst.App.Workbooks.FindRecords(ctx, u.ID, wbID, tblID, workbooks.RecordQuery{Limit: workbooks.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]workbooks.Record{}
	for _, rec := range recs.Records {
		byID[rec.ID] = rec
	}
	wantPending := map[string][]string{
		"Alpha lamp": {"Price"}, "Beta desk": nil, e2eScript: {"Price"}, e2eImg: {"Body", "Price"}, "Epsilon chair": nil,
	}
	for i, w := range want {
		rec, ok := byID[recID[imported[i].Title]]
		if !ok {
			t.Fatalf("record %q is gone", imported[i].Title)
		}
		if got := e2eRowOf(tbl, rec); got != w {
			t.Errorf("record %q in the database:\n got %q\nwant %q", imported[i].Title, got, w)
		}
		var pending []string
		for id := range rec.Suggestions {
			pending = append(pending, columnName(tbl, id))
		}
		slices.Sort(pending)
		if !slices.Equal(pending, wantPending[imported[i].Title]) {
			t.Errorf("record %q: pending suggestions for %q, want %q", imported[i].Title, pending, wantPending[imported[i].Title])
		}
	}

	// 5. Export with tab B's session: exactly the accepted values, the
	// hostile ones byte for byte.
	exported := browsertest.MustRun(t, tabB, chromedp.Evaluate[string](
		`fetch(document.querySelector('[data-testid="export-csv"]').href, {credentials: "same-origin"}).then(r => r.ok ? r.text() : "HTTP " + r.status)`,
		chromedp.EvalAwaitPromise))
	got, err := csv.NewReader(strings.NewReader(exported)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, exported)
	}
	wantCSV := [][]string{{"Title", "Price", "Body", "Note"}}
	for _, w := range want {
		wantCSV = append(wantCSV, []string{w.Title, w.Price, w.Body, w.Note})
	}
	if !slices.EqualFunc(got, wantCSV, slices.Equal) {
		t.Errorf("export:\n got %q\nwant %q", got, wantCSV)
	}
	for _, raw := range []string{e2eScript + " safe,", `"""><img src=x onerror=alert(1)>",`} {
		if !strings.Contains(exported, raw) {
			t.Errorf("the export lacks %q byte for byte:\n%s", raw, exported)
		}
	}
	for _, gone := range []string{"Beta table", "Revised.", "new body", "11", "21", "31", "41"} {
		if strings.Contains(exported, gone) {
			t.Errorf("the export holds %q, which was rejected or is still only a suggestion", gone)
		}
	}
}

// mustWriteE2ECSV writes rows under a header as a CSV file and returns its
// path.
func mustWriteE2ECSV(t *testing.T, rows []e2eRow) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "products.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"Title", "Price", "Body", "Note"})
	for _, r := range rows {
		_ = w.Write([]string{r.Title, r.Price, r.Body, r.Note})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustE2ERecordIDs maps the imported titles to their records' ids.
func mustE2ERecordIDs(t *testing.T, inst *apptest.Instance, ownerID string, tbl workbooks.Table) map[string]string {
	t.Helper()
	page, err := inst.App.Workbooks.FindRecords(context.Background(), ownerID, tbl.WorkbookID, tbl.ID, workbooks.RecordQuery{Limit: workbooks.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, rec := range page.Records {
		ids[e2eRowOf(tbl, rec).Title] = rec.ID
	}
	return ids
}

// e2eRowOf is a record's current values as the text the export writes.
func e2eRowOf(tbl workbooks.Table, rec workbooks.Record) e2eRow {
	text := func(name string) string {
		for _, c := range tbl.Columns {
			if c.Name == name {
				if v := rec.Fields[c.ID]; v != nil {
					return fmt.Sprint(v)
				}
			}
		}
		return ""
	}
	return e2eRow{Title: text("Title"), Price: text("Price"), Body: text("Body"), Note: text("Note")}
}

func columnName(tbl workbooks.Table, id string) string {
	for _, c := range tbl.Columns {
		if c.ID == id {
			return c.Name
		}
	}
	return id
}

// mustNoHostileElements fails the test when the hostile values became
// markup inside the elements matching scope: a script or an img element.
func mustNoHostileElements(t *testing.T, tab context.Context, scope string) {
	t.Helper()
	q, _ := json.Marshal(scope + " script, " + scope + " img")
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll(`+string(q)+`).length`); n != 0 {
		t.Fatalf("%d script or img elements inside %s: a hostile value became markup", n, scope)
	}
}

// mustTrimmedText returns the text of the first element matching sel,
// without the whitespace around it.
func mustTrimmedText(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	q, _ := json.Marshal(sel)
	return browsertest.MustEval[string](t, tab, `(() => { const el = document.querySelector(`+string(q)+`); return el ? el.textContent.trim() : "(no element)"; })()`)
}

// mustWaitExactText waits until the first element matching sel has exactly
// the text want (trimmed): WaitText's "contains" cannot tell 4 from 14.
func mustWaitExactText(t *testing.T, tab context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for {
		got := mustTrimmedText(t, tab, sel)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			browsertest.Screenshot(t, tab, "exact-text")
			t.Fatalf("%s reads %q after %s, want %q", sel, got, browsertest.Timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustWaitDiff waits until the diff inside sel has want in the text of
// its parts matching part (ins.diff-ins or del.diff-del), read together.
func mustWaitDiff(t *testing.T, tab context.Context, sel, part, want string) {
	t.Helper()
	q, _ := json.Marshal(sel + " " + part)
	w, _ := json.Marshal(want)
	mustWaitEval(t, tab, `Array.from(document.querySelectorAll(`+string(q)+`), el => el.textContent).join("").includes(`+string(w)+`)`)
}

// mustWaitExactSubscribers waits until inst has exactly n open event
// streams: the pages' own, and none left over from pages already closed.
func mustWaitExactSubscribers(t *testing.T, inst *apptest.Instance, n int) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for inst.App.Broker.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d event streams open after %s, want %d", inst.App.Broker.Subscribers(), browsertest.Timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustRecordDialogs fails the test if tab opens a JavaScript dialog (an
// alert run by a hostile value would). The rig already fails on the CSP
// violation such a value causes; this checks the outcome itself.
func mustRecordDialogs(t *testing.T, tab context.Context, name string) {
	t.Helper()
	var mu sync.Mutex
	var dialogs []string
	if err := chromedp.Listen(tab, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			dialogs = append(dialogs, string(d.Type)+": "+d.Message)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range dialogs {
			t.Errorf("%s opened a dialog: %s", name, d)
		}
	})
}
