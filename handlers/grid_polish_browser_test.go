package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/imports"
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

// TestBrowserImportedSelectHasChoices is issue 9's item 7: a CSV column the
// import infers as a select gets the choices found in the whole file (not
// only its sample), and the grid edits it with a dropdown of them.
func TestBrowserImportedSelectHasChoices(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "select@example.com", gridPassword)
	u := mustFindUser(t, inst, "select@example.com")
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Catalogue")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("Name,Status\n")
	statuses := []string{"Draft", "Published", "Archived"}
	for i := range 80 {
		status := statuses[i%3]
		if i == 75 { // past the preview's sample
			status = "Retired"
		}
		fmt.Fprintf(&b, "Item %d,%s\n", i, status)
	}
	up, tbl, err := inst.App.Imports.CreateTableFromCSV(ctx, u.ID, wb.ID, "catalogue.csv", strings.NewReader(b.String()), 0, imports.ImportInput{})
	if err != nil {
		t.Fatal(err)
	}
	mustWaitImport(t, inst, u.ID, wb.ID, up.ID)
	tbl, err = inst.App.Workbooks.FindTable(ctx, u.ID, wb.ID, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	status := tbl.Columns[1]
	if status.Type != values.Select || fmt.Sprint(status.Options) != "[Archived Draft Published Retired]" {
		t.Fatalf("the Status column is %s with options %q", status.Type, status.Options)
	}

	browsertest.MustDo(t, tab,
		chromedp.Navigate(fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID)),
		chromedp.WaitVisible(chromedp.CSS(`td[data-column="Status"]`)),
		chromedp.Click(chromedp.CSS(`#grid-body tr[data-record-id]:not([hidden]) td[data-column="Status"]`)),
		chromedp.KeyEvent(kb.Enter),
	)
	mustWaitEval(t, tab, `document.activeElement.matches("select.cell-editor")`)
	got := browsertest.MustEval[[]string](t, tab, `Array.from(document.activeElement.options, o => o.value)`)
	if fmt.Sprint(got) != "[ Archived Draft Published Retired]" {
		t.Fatalf("the editor offers %q", got)
	}
	browsertest.MustEval[bool](t, tab, `(() => { const s = document.activeElement; s.value = "Retired"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	browsertest.MustDo(t, tab, chromedp.KeyEvent(kb.Enter))
	browsertest.WaitText(t, tab, `#grid-body tr[data-record-id]:not([hidden]) td[data-column="Status"] [data-testid="cell-value"]`, "Retired")
}

// mustWaitImport waits until an import has finished, and fails unless it
// is done.
func mustWaitImport(t *testing.T, inst *apptest.Instance, ownerID, workbookID, uploadID string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for {
		up, err := inst.App.Imports.FindUpload(context.Background(), ownerID, workbookID, uploadID)
		if err != nil {
			t.Fatal(err)
		}
		if up.Status != imports.StatusImporting && up.Status != imports.StatusUploaded {
			if up.Status != imports.StatusDone {
				t.Fatalf("the import ended %s: %s", up.Status, up.Error)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import is still %s", up.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserImportCardCatchesUpOnConnect is issue 9's item 5: an import
// that ends before its page's event stream is connected sent its last event
// to nobody; the card must catch up as soon as the stream opens, not at its
// 5-second poll. The stream is held off by blocking it in the browser while
// the import runs (this instance works no imports queue, so the test runs
// the job itself).
func TestBrowserImportCardCatchesUpOnConnect(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"JOB_QUEUES": "default:2"}})
	ctx := context.Background()
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "import-card@example.com", gridPassword)
	u := mustFindUser(t, inst, "import-card@example.com")
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Quick")
	if err != nil {
		t.Fatal(err)
	}
	svc := inst.App.Imports
	up, err := svc.CreateUpload(ctx, u.ID, wb.ID, "quick.csv", strings.NewReader("Name\na\nb\nc\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Preview(ctx, u.ID, wb.ID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if up, _, err = svc.StartImport(ctx, u.ID, wb.ID, up.ID, imports.ImportInput{TableName: "Quick", Columns: imports.DefaultChoices(p)}); err != nil {
		t.Fatal(err)
	}

	block := func(patterns ...string) {
		t.Helper()
		var bp []*network.BlockPattern
		for _, p := range patterns {
			bp = append(bp, &network.BlockPattern{URLPattern: p, Block: true})
		}
		if _, err := chromedp.Call(tab, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: bp}); err != nil {
			t.Fatal(err)
		}
	}
	block(inst.URL + "/workbooks/*/events")
	browsertest.MustDo(t, tab, chromedp.Navigate(fmt.Sprintf("%s/workbooks/%s/imports/%s", inst.URL, wb.ID, up.ID)))
	browsertest.WaitText(t, tab, `[data-testid="import-status"]`, "Importing: 0 rows so far")
	browsertest.MustEval[bool](t, tab, `window.__fetches = []; document.body.addEventListener("htmx:beforeRequest", e => {
		const ev = e.detail.requestConfig && e.detail.requestConfig.triggeringEvent;
		window.__fetches.push(ev ? ev.type : "poll");
	}); true`)

	var args imports.ImportCSVArgs
	if err := inst.Pool.QueryRow(ctx, `SELECT args FROM river_job WHERE kind = 'import_csv'`).Scan(&args); err != nil {
		t.Fatal(err)
	}
	if err := svc.RunImport(ctx, args, false); err != nil {
		t.Fatal(err)
	}
	block()
	browsertest.WaitText(t, tab, `[data-testid="import-status"]`, "Done: 3 rows imported")
	if got := browsertest.MustEval[[]string](t, tab, `window.__fetches`); len(got) == 0 || got[0] == "poll" {
		t.Fatalf("the card caught up through %q, want the stream's opening, not the poll", got)
	}
}

// mustFitsItsText fails unless the select sel is wide enough for its
// longest option, measured in its own font.
func mustFitsItsText(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	got := browsertest.MustEval[[]float64](t, tab, fmt.Sprintf(`(() => {
		const s = document.querySelector(%q);
		const cs = getComputedStyle(s);
		const ctx = document.createElement("canvas").getContext("2d");
		ctx.font = cs.font;
		const text = Math.max(...Array.from(s.options, o => ctx.measureText(o.text).width));
		const room = s.getBoundingClientRect().width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - parseFloat(cs.borderLeftWidth) - parseFloat(cs.borderRightWidth);
		return [room, text];
	})()`, sel))
	if got[0]+0.5 < got[1] {
		t.Errorf("%s has %.1f px for its text, its longest option needs %.1f", sel, got[0], got[1])
	}
}

// TestBrowserSmallOnes is issue 9's item 10 in one person's afternoon: the
// upload page shows no empty bar, the preview's sentence has no stray space
// and its type pickers show whole words, a filter with text in double
// quotes gets a hint and a link to the filter syntax, adding a column and
// changing a role are confirmed by toasts, a refused bulk action says why
// once, and the admin jobs list names its jobs and says what they did.
func TestBrowserSmallOnes(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "admin-small@example.com", gridPassword) // the first account: an admin
	u := mustFindUser(t, inst, "admin-small@example.com")
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Catalogue")
	if err != nil {
		t.Fatal(err)
	}

	// The upload page: no bar before an upload.
	browsertest.MustDo(t, tab, chromedp.Navigate(inst.URL+"/workbooks/"+wb.ID+"/imports/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-form"]`)))
	if browsertest.MustEval[bool](t, tab, `document.getElementById("upload-progress").getBoundingClientRect().height > 0`) {
		t.Error("the upload page shows a progress bar before any upload")
	}

	// The preview: one sentence without a stray space, whole type names.
	// Many columns, so each column of the preview is narrow.
	extra := strings.Repeat(",N", 12)
	up, err := inst.App.Imports.CreateUpload(ctx, u.ID, wb.ID, "products.csv", strings.NewReader("Name,Price"+strings.ReplaceAll(extra, "N", "Count")+"\nProduct 1,9.5"+strings.ReplaceAll(extra, "N", "1")+"\nProduct 2,10"+strings.ReplaceAll(extra, "N", "2")+"\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.MustDo(t, tab, chromedp.Navigate(fmt.Sprintf("%s/workbooks/%s/imports/%s", inst.URL, wb.ID, up.ID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="file-facts"]`)))
	if facts := mustTrimmedText(t, tab, `[data-testid="file-facts"]`); strings.Contains(facts, " .") || !strings.Contains(facts, "separated by commas. Types were guessed") {
		t.Errorf("the file facts read %q", facts)
	}
	mustFitsItsText(t, tab, `[data-testid="preview-column"]:nth-child(2) [data-testid="preview-type"]`)
	browsertest.Screenshot(t, tab, "preview")
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="import-submit"]`)))
	browsertest.WaitText(t, tab, `[data-testid="import-status"]`, "Done: 2 rows imported")
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="open-table"]`)))
	browsertest.WaitText(t, tab, `body`, "Product 2")
	gridURL := browsertest.MustEval[string](t, tab, `location.href`)

	// A filter with text in double quotes.
	browsertest.MustDo(t, tab, chromedp.Navigate(gridURL+`?filter=`+url.QueryEscape(`Name = "Product 1"`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="filter-error"]`)))
	browsertest.WaitText(t, tab, `[data-testid="filter-hint"]`, `write it in single quotes: 'Product 1'.`)
	href := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="filter-syntax-link"]').href`)
	browsertest.MustDo(t, tab, chromedp.Navigate(href))
	browsertest.WaitText(t, tab, `[data-testid="filter-help"]`, "single quotes")

	// Adding a column is confirmed by a toast; its type picker shows "Number" whole.
	browsertest.MustDo(t, tab, chromedp.Navigate(gridURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="grid"]`)))
	browsertest.MustEval[bool](t, tab, `(() => { const d = document.querySelector('[data-testid="new-column-type"]').closest("details"); d.open = true; return true })()`)
	mustFitsItsText(t, tab, `[data-testid="new-column-type"]`)
	browsertest.MustDo(t, tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="new-column-name"]`), "Score"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="new-column-type"]`), "number"),
		chromedp.Click(chromedp.CSS(`[data-testid="add-column"]`)),
	)
	browsertest.WaitText(t, tab, `#toasts [data-testid="toast"]`, "Added the column Score.")
	browsertest.Screenshot(t, tab, "column-added")

	// A bulk action refused for a missing column says so once.
	tbls, err := inst.App.Workbooks.FindWorkbook(ctx, u.ID, wb.ID)
	if err != nil {
		t.Fatal(err)
	}
	br := inst.NewBrowser(t)
	br.MustSignIn("admin-small@example.com", gridPassword)
	br.Get(strings.TrimPrefix(gridURL, inst.URL))
	r := br.Send(http.MethodPost, fmt.Sprintf("/workbooks/%s/tables/%s/suggestions/accept", wb.ID, tbls.Tables[0].ID), url.Values{"scope": {"column"}}, true)
	if !strings.Contains(r.Body, "Choose a column first.") || strings.Contains(r.Body, "is required") {
		t.Errorf("a bulk accept without a column answers %d: %s", r.Status, r.Body)
	}

	// Changing a role is confirmed by a toast.
	if _, err := inst.App.Accounts.SignUp(ctx, accounts.SignUpInput{Email: "member-small@example.com", Password: "another good password"}); err != nil {
		t.Fatal(err)
	}
	row := `tr[data-testid="user-row"][data-user-email="member-small@example.com"]`
	browsertest.MustDo(t, tab, chromedp.Navigate(inst.URL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(row)))
	browsertest.MustEval[bool](t, tab, `(() => { const s = document.querySelector('`+row+` select[data-testid="role-select"]'); s.value = "admin"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	browsertest.WaitText(t, tab, `#toasts [data-testid="toast"]`, "member-small@example.com is now admin.")

	// The jobs list names the import and says what it did.
	browsertest.MustDo(t, tab, chromedp.Navigate(inst.URL+"/admin/jobs"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-row"]`)))
	browsertest.WaitText(t, tab, `[data-testid="job-name"]`, "CSV import")
	browsertest.WaitText(t, tab, `[data-testid="job-detail"]`, "products.csv")
	browsertest.WaitText(t, tab, `[data-testid="job-detail"]`, "2 rows imported")
	browsertest.WaitText(t, tab, `[data-testid="job-attempts"]`, "1 of up to")
	browsertest.Screenshot(t, tab, "admin-jobs")
}
