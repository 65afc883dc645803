package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
)

// TestBrowserCSVImport uploads a CSV through the real page in headless
// Chromium: upload.js fills the upload's progress bar, the preview renames a
// column, the import page follows the job over SSE to done without a
// reload, and the new table opens.
func TestBrowserCSVImport(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "browser-csv@example.com", "correct horse battery")
	ctx := context.Background()
	u, err := inst.App.Accounts.FindUserByEmail(ctx, "browser-csv@example.com")
	if err != nil {
		t.Fatal(err)
	}
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Browser")
	if err != nil {
		t.Fatal(err)
	}

	// About 3 MB, so the upload reports progress more than once, and six
	// batches, so the import does too.
	const rows = 30000
	var b strings.Builder
	b.WriteString("Title;Count;Body\n")
	for i := range rows {
		fmt.Fprintf(&b, "Item %d;%d;\"%s\"\n", i, i, strings.Repeat("lorem ipsum ", 6))
	}
	b.WriteString("\"<script>alert(1)</script>\";1;x\n")
	path := filepath.Join(t.TempDir(), "items.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	browsertest.MustDo(t, tab, chromedp.Navigate(inst.URL+"/workbooks/"+wb.ID+"/imports/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="upload-form"]`)))
	// Record what upload.js did to the bar; sessionStorage outlives the
	// redirect to the preview.
	browsertest.MustEval[bool](t, tab, `document.addEventListener("htmx:xhr:progress", function () {
		sessionStorage.setItem("bar", document.getElementById("upload-progress").value);
		sessionStorage.setItem("events", String(Number(sessionStorage.getItem("events") || 0) + 1));
	}); true`)
	browsertest.MustDo(t, tab,
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-file"]`), []string{path}),
		chromedp.Click(chromedp.CSS(`[data-testid="upload-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-form"]`)),
	)
	if bar := browsertest.MustEval[string](t, tab, `sessionStorage.getItem("bar") || ""`); bar != "100" {
		t.Fatalf("upload progress bar ended at %q, want 100", bar)
	}
	browsertest.WaitText(t, tab, `[data-testid="file-facts"]`, "semicolons")

	browsertest.MustDo(t, tab,
		chromedp.SetValue(chromedp.CSS(`input[name="col_name_0"]`), "Name"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="table-name"]`), "Items"),
		chromedp.Click(chromedp.CSS(`[data-testid="import-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-progress"]`)),
	)
	browsertest.MustEval[int](t, tab, `window.__marker = 1`)
	browsertest.WaitText(t, tab, `[data-testid="import-status"]`, fmt.Sprintf("Done: %d rows imported", rows+1))
	if !browsertest.MustEval[bool](t, tab, `window.__marker === 1`) {
		t.Fatal("the import page reloaded; progress must arrive over SSE")
	}
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="open-table"]`)))
	mustWaitEval(t, tab, `location.pathname.indexOf("/workbooks/`+wb.ID+`/tables/") === 0`)
	browsertest.WaitText(t, tab, `body`, "Item 0")

	tables, err := inst.App.Workbooks.FindWorkbook(ctx, u.ID, wb.ID)
	if err != nil || len(tables.Tables) != 1 || tables.Tables[0].Name != "Items" || tables.Tables[0].Columns[0].Name != "Name" {
		t.Fatalf("workbook %+v, %v", tables, err)
	}
}
