package handlers_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/llm/llmtest"
)

// hostileMarkdown is an asset body that tries every way into the page.
const hostileMarkdown = "# Style guide\n\nWrite **short** sentences. See [the site](https://example.com/guide).\n\n" +
	"<script>window.__pwned = 1</script>\n\n<img src=x onerror=\"window.__pwned = 2\">\n\n" +
	"[click me](javascript:window.__pwned=3)\n\n![pixel](data:image/png;base64,iVBORw0KGgo=)\n\n" +
	"<div onmouseover=\"window.__pwned=4\">hover</div>\n\n- one\n- two\n"

// TestBrowserPromptAssets writes a prompt asset in headless Chromium with a
// live preview that renders Markdown and neutralises hostile HTML, edits
// it, imports one from a page (and sees why another page cannot be
// imported), and deletes it after confirming.
func TestBrowserPromptAssets(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{AppOptions: app.Options{FetchLoopback: true}})
	pages := pageServer(t)
	tab := browsertest.MustBrowser(t)
	browsertest.MustDo(t, tab, chromedp.EmulateViewport(1440, 900))
	mustSignUpInBrowser(t, tab, inst.URL, "browser-assets@example.com", "correct horse battery")

	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`nav.app-nav a[href="/assets"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="no-assets"]`)),
	)
	mustScreenshots(t, tab, "assets-empty")

	// A new asset: the preview follows the typing, rendered and safe.
	body, _ := json.Marshal(hostileMarkdown)
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="new-asset"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="asset-body"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="asset-name-input"]`), "House style"),
		chromedp.Evaluate[chromedp.Void](`(() => { const el = document.querySelector('[data-testid="asset-body"]'); el.value = `+string(body)+`; el.dispatchEvent(new Event("input", {bubbles: true})); })()`),
	)
	browsertest.WaitText(t, tab, `[data-testid="asset-preview"] h1`, "Style guide")
	mustPreviewSafe(t, tab)
	mustScreenshots(t, tab, "asset-new-preview")

	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="asset-auto-include"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="asset-save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="delete-card"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="asset-title"]`, "House style")
	// The saved page renders the same preview, as safely.
	browsertest.WaitText(t, tab, `[data-testid="asset-preview"] strong`, "short")
	mustPreviewSafe(t, tab)

	// Edit: rename and change the text.
	browsertest.MustDo(t, tab,
		chromedp.SetValue(chromedp.CSS(`[data-testid="asset-name-input"]`), "House style v2"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="asset-body"]').value = "## Tone\n\nFriendly."`),
		chromedp.Click(chromedp.CSS(`[data-testid="asset-save"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="asset-title"]`, "House style v2")
	browsertest.WaitText(t, tab, `[data-testid="asset-preview"] h2`, "Tone")

	// An empty name is refused next to the field, keeping the text.
	browsertest.MustDo(t, tab,
		chromedp.Evaluate[chromedp.Void](`(() => { const el = document.querySelector('[data-testid="asset-name-input"]'); el.removeAttribute("required"); el.value = " "; })()`),
		chromedp.Click(chromedp.CSS(`[data-testid="asset-save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-name"]`)),
	)
	if v := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="asset-body"]').value`); v != "## Tone\n\nFriendly." {
		t.Fatalf("the refused form lost the text: %q", v)
	}

	// The list shows it as auto-included.
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`nav.app-nav a[href="/assets"]`)))
	browsertest.WaitText(t, tab, `[data-testid="asset-row"] [data-testid="asset-name"]`, "House style v2")
	browsertest.WaitText(t, tab, `[data-testid="asset-row"] [data-testid="asset-auto"]`, "auto-included")

	// A page that cannot be imported says why, keeping the address.
	browsertest.MustDo(t, tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="import-url"]`), pages.URL+"/report.pdf"),
		chromedp.Click(chromedp.CSS(`[data-testid="import-submit"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="import-error"]`, "Only HTML, Markdown and plain-text pages can be loaded")
	if v := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="import-url"]').value`); v != pages.URL+"/report.pdf" {
		t.Fatalf("the refused import lost the address: %q", v)
	}
	mustScreenshots(t, tab, "assets-import-error", `[data-testid="import-error"]`)
	browsertest.MustDo(t, tab,
		chromedp.SetValue(chromedp.CSS(`[data-testid="import-url"]`), pages.URL+"/metadata"),
		chromedp.Click(chromedp.CSS(`[data-testid="import-submit"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="import-error"]`, "private or special network addresses")

	// A page that can: its text becomes the asset, without its script or
	// navigation.
	browsertest.MustDo(t, tab,
		chromedp.SetValue(chromedp.CSS(`[data-testid="import-url"]`), pages.URL+"/guide"),
		chromedp.Click(chromedp.CSS(`[data-testid="import-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="asset-source"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="asset-title"]`, "House style")
	browsertest.WaitText(t, tab, `[data-testid="asset-preview"] li`, "No jargon")
	if v := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="asset-body"]').value`); strings.Contains(v, "steal") || strings.Contains(v, "Home") {
		t.Fatalf("the import kept script or navigation: %q", v)
	}
	mustScreenshots(t, tab, "asset-imported")

	// Delete, after confirming.
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="delete-open"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="delete-confirm"]`)),
	)
	mustScreenshots(t, tab, "asset-delete-confirm", `[data-testid="delete-confirm"]`)
	browsertest.MustDo(t, tab,
		chromedp.Click(chromedp.CSS(`[data-testid="delete-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="asset-list"]`)),
	)
	mustWaitEval(t, tab, `document.querySelectorAll('[data-testid="asset-row"]').length === 1`)
	browsertest.WaitText(t, tab, `[data-testid="asset-row"] [data-testid="asset-name"]`, "House style v2")
	mustScreenshots(t, tab, "assets-list")
}

// mustPreviewSafe checks that the preview has no element that runs or
// loads anything and no link with another scheme, and that nothing ran.
func mustPreviewSafe(t *testing.T, tab context.Context) {
	t.Helper()
	n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('[data-testid="asset-preview"] :is(script, img, iframe, div, [onerror], [onmouseover], [onclick])').length`)
	if n != 0 {
		t.Fatalf("%d unsafe elements in the preview: %s", n, browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="asset-preview"]').innerHTML`))
	}
	hrefs := browsertest.MustEval[[]string](t, tab, `[...document.querySelectorAll('[data-testid="asset-preview"] a')].map(a => a.getAttribute("href") + " " + a.rel + " " + a.target)`)
	if len(hrefs) == 0 {
		t.Fatal("the safe link is missing from the preview")
	}
	for _, h := range hrefs {
		if !strings.HasPrefix(h, "https://") || !strings.Contains(h, "nofollow") || !strings.Contains(h, "noopener") || !strings.HasSuffix(h, "_blank") {
			t.Errorf("preview link %q", h)
		}
	}
	if pwned := browsertest.MustEval[bool](t, tab, `window.__pwned !== undefined`); pwned {
		t.Fatal("hostile Markdown ran script")
	}
}

// TestBrowserModelKeys adds a model key in settings (shown only as its
// hint from then on, and never in the page), refuses a malformed one,
// deletes it; and, with keys provisioned through a fake provisioning API,
// an admin sets a user's monthly credit limit on the user's page.
func TestBrowserModelKeys(t *testing.T) {
	t.Parallel()
	fake := llmtest.NewProvisioning(t)
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{
		"LLM_BASE_URL": fake.URL(), "LLM_PROVISIONING_KEY": llmtest.ManagementKey,
	}})
	tab := browsertest.MustBrowser(t)
	browsertest.MustDo(t, tab, chromedp.EmulateViewport(1440, 900))
	// The first user is an admin.
	mustSignUpInBrowser(t, tab, inst.URL, "browser-keys@example.com", "correct horse battery")

	const key = "sk-or-v1-browsertestsecret0123abcd"
	browsertest.MustDo(t, tab,
		chromedp.Navigate(inst.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="llm-key-card"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="llm-key-card"]`, "provisioned for you")
	browsertest.MustDo(t, tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="llm-key-input"]`), "sk with spaces"),
		chromedp.Click(chromedp.CSS(`[data-testid="llm-key-submit"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="llm-key-card"] [data-testid="form-error"]`, "no spaces")
	browsertest.MustDo(t, tab,
		chromedp.SetValue(chromedp.CSS(`[data-testid="llm-key-input"]`), key),
		chromedp.Click(chromedp.CSS(`[data-testid="llm-key-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="llm-key-saved"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="llm-key-hint"]`, "sk-or-v1-…abcd")
	mustScreenshots(t, tab, "settings-llm-key", `[data-testid="llm-key-card"]`)
	// Reloaded, the page still shows only the hint.
	browsertest.MustDo(t, tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="llm-key-hint"]`)))
	if html := browsertest.MustEval[string](t, tab, `document.documentElement.outerHTML`); strings.Contains(html, "browsertestsecret") {
		t.Fatal("the key is in the page")
	}
	if v := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="llm-key-input"]').value`); v != "" {
		t.Fatalf("the key input is filled with %q", v)
	}
	browsertest.MustDo(t, tab,
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`[data-testid="llm-key-delete"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="llm-key-deleted"]`)),
	)
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('[data-testid="llm-key-hint"]').length`); n != 0 {
		t.Fatal("the hint is still shown after the delete")
	}

	// The admin page of the user: no key provisioned yet, then a limit
	// provisions one with it.
	u, err := inst.App.Accounts.FindUserByEmail(context.Background(), "browser-keys@example.com")
	if err != nil {
		t.Fatal(err)
	}
	browsertest.MustDo(t, tab,
		chromedp.Navigate(inst.URL+"/admin/users/"+u.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="llm-not-provisioned"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="llm-limit-input"]`), "12.5"),
		chromedp.Click(chromedp.CSS(`[data-testid="llm-limit-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="llm-limit-saved"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="llm-limit"]`, "$12.50")
	browsertest.WaitText(t, tab, `[data-testid="llm-usage"]`, "$0.00")
	if fake.Len() != 1 {
		t.Fatalf("%d keys at the provider, want 1", fake.Len())
	}
	browsertest.MustDo(t, tab,
		chromedp.SetValue(chromedp.CSS(`[data-testid="llm-limit-input"]`), "-3"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="llm-limit-input"]').removeAttribute("min")`),
		chromedp.Click(chromedp.CSS(`[data-testid="llm-limit-submit"]`)),
	)
	browsertest.WaitText(t, tab, `[data-testid="llm-limit-card"] [data-testid="form-error"]`, "between $0")
	browsertest.WaitText(t, tab, `[data-testid="llm-limit"]`, "$12.50")
	mustScreenshots(t, tab, "admin-llm-limit", `[data-testid="llm-limit-card"]`)
}
