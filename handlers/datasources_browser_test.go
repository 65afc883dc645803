package handlers_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/syncs"
)

// screenshotSizes are the viewports the data source pages are looked at
// in: a laptop and a phone.
var screenshotSizes = []struct {
	name          string
	width, height int64
}{
	{"desktop", 1440, 900},
	{"mobile", 390, 844},
}

// mustScreenshots saves the page at each of screenshotSizes, logging where,
// and leaves the viewport at the desktop size. With show, the element it
// selects is scrolled into view first.
func mustScreenshots(t *testing.T, tab context.Context, name string, show ...string) {
	t.Helper()
	for _, s := range screenshotSizes {
		browsertest.MustDo(t, tab, chromedp.EmulateViewport(s.width, s.height))
		for _, sel := range show {
			browsertest.MustDo(t, tab, chromedp.ScrollIntoView(chromedp.CSS(sel)))
		}
		path, err := browsertest.Screenshot(t, tab, name+"-"+s.name)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if os.Getenv(browsertest.ArtifactsEnv) != "" {
			t.Logf("screenshot: %s", path)
		}
	}
	browsertest.MustDo(t, tab, chromedp.EmulateViewport(1440, 900))
}

// TestBrowserDataSources adds a PostgreSQL data source through the pages in
// headless Chromium: the add form tests it at once (ok), its tables are
// searched as one types, it is renamed, bad credentials make it fail with
// the reason shown, the Test connection button swaps the health in place,
// and it is deleted. The Jobs page opens from the navigation.
func TestBrowserDataSources(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	srcURL := mustSourceDatabase(t, "pw-browser-secret")
	tab := browsertest.MustBrowser(t)
	browsertest.MustDo(t, tab, chromedp.EmulateViewport(1440, 900))
	mustSignUpInBrowser(t, tab, inst.URL, "browser-ds@example.com", "correct horse battery")

	// The list is empty, then the service picker, then PostgreSQL's form.
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`nav.app-nav a[href="/data-sources"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="no-data-sources"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="add-data-source"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="service-picker"]`)),
	)
	mustScreenshots(t, tab, "picker")
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="service-card"][data-service="postgres"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="data-source-form"]`)),
	)
	if typ := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="cred-connection_string"]').type`); typ != "password" {
		t.Fatalf("the connection string is typed into a %q input, want password", typ)
	}
	browsertest.WaitText(t, tab, `[data-testid="data-source-form"] .hint#help-connection_string`, "DATABASE_URL")

	// A missing name is refused next to the field, keeping nothing secret.
	browsertest.MustDo(t, tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="cred-connection_string"]`), srcURL),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="ds-name"]').removeAttribute("required"); document.querySelector('[data-testid="ds-name"]').value = "  "`),
		chromedp.Click(chromedp.CSS(`[data-testid="ds-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-name"]`)),
	)
	if v := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="cred-connection_string"]').value`); v != "" {
		t.Fatalf("the refused form was filled again with the connection string %q", v)
	}
	mustScreenshots(t, tab, "add-form-error")

	browsertest.MustDo(t, tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ds-name"]`), "Shop"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="cred-connection_string"]`), srcURL),
		chromedp.Click(chromedp.CSS(`[data-testid="ds-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="data-source-title"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="data-source-title"]`, "Shop")
	browsertest.WaitText(t, tab, `[data-testid="health-card"] [data-testid="health"]`, "ok")

	// The tables load, then narrow as one types.
	browsertest.WaitText(t, tab, `[data-testid="remote-tables"]`, "shop.products")
	browsertest.MustDo(t, tab, chromedp.SendKeys(chromedp.CSS(`[data-testid="table-search"]`), "product_ord"))
	mustWaitEval(t, tab, `document.querySelectorAll('[data-testid="remote-table"]').length === 1`)
	browsertest.WaitText(t, tab, `[data-testid="remote-tables"]`, "shop.product_orders")
	mustScreenshots(t, tab, "detail")
	browsertest.MustDo(t, tab, chromedp.SendKeys(chromedp.CSS(`[data-testid="table-search"]`), "zzz"))
	browsertest.WaitText(t, tab, `[data-testid="no-tables"]`, "No table matches")

	browsertest.MustDo(t, tab,
		chromedp.SetValue(chromedp.CSS(`[data-testid="rename-input"]`), "Shop DB"),
		chromedp.Click(chromedp.CSS(`[data-testid="rename-submit"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="data-source-title"]`, "Shop DB")

	// A workbook pulls one of its tables, so the delete has something to
	// warn about and the Jobs page a pull to show.
	ctx := context.Background()
	u, err := inst.App.Accounts.FindUserByEmail(ctx, "browser-ds@example.com")
	if err != nil {
		t.Fatal(err)
	}
	dsID := browsertest.MustEval[string](t, tab, `location.pathname.split("/").pop()`)
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Catalogue")
	if err != nil {
		t.Fatal(err)
	}
	_, sy, err := inst.App.Syncs.AddTable(ctx, u.ID, wb.ID, syncs.AddTableInput{DataSourceID: dsID, RemoteTableID: `"shop"."products"`})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(browsertest.Timeout)
	for !sy.Finished() {
		if time.Now().After(deadline) {
			t.Fatalf("pull still %s", sy.Status)
		}
		time.Sleep(50 * time.Millisecond)
		if sy, err = inst.App.Syncs.FindSync(ctx, u.ID, sy.ID); err != nil {
			t.Fatal(err)
		}
	}

	// Credentials that reach no server: the check runs at once and fails.
	browsertest.MustDo(t, tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="credentials-form"] [data-testid="cred-connection_string"]`), "postgres://postgres:nope@127.0.0.1:1/nowhere?connect_timeout=5"),
		chromedp.Click(chromedp.CSS(`[data-testid="credentials-submit"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="health-card"] [data-testid="health"]`, "failing")
	browsertest.WaitText(t, tab, `[data-testid="health-card"] [data-testid="health-error"]`, "could not be reached")
	browsertest.WaitText(t, tab, `[data-testid="tables-error"]`, "could not be reached")
	mustScreenshots(t, tab, "detail-failing")

	// Test connection swaps the health card without a reload.
	browsertest.MustEval[int](t, tab, `window.__marker = 1`)
	browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="health-card"]').dataset.old = "1"`)
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`[data-testid="test-connection"]`)))
	mustWaitEval(t, tab, `(function () { var c = document.querySelector('[data-testid="health-card"]'); return !!c && c.dataset.old !== "1"; })()`)
	browsertest.WaitText(t, tab, `[data-testid="health-card"] [data-testid="health"]`, "failing")
	if !browsertest.MustEval[bool](t, tab, `window.__marker === 1`) {
		t.Fatal("Test connection reloaded the page; it must swap the health card")
	}

	// The list shows it failing, with the reason.
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`nav.app-nav a[href="/data-sources"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="data-source-list"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="data-source-row"] [data-testid="health"]`, "failing")
	browsertest.WaitText(t, tab, `[data-testid="data-source-row"] [data-testid="data-source-service"]`, "PostgreSQL")
	mustScreenshots(t, tab, "list")

	// Delete, through the confirmation.
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="data-source-name"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="delete-open"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="delete-open"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="delete-confirm"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="used-by"]`, "Catalogue")
	mustScreenshots(t, tab, "delete-confirm", `[data-testid="delete-confirm"]`)
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="delete-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="no-data-sources"]`)),
	)

	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`nav.app-nav a[href="/jobs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="jobs-title"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="own-job"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="own-job-what"]`, "Pull")
	browsertest.WaitText(t, tab, `[data-testid="own-job-state"]`, "done")
	mustScreenshots(t, tab, "jobs")
}
