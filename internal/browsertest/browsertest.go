// Package browsertest drives a real headless Chromium (through chromedp)
// against a test instance of Scratchpad. It exists to prove what an HTTP
// client cannot: that htmx swaps, the SSE extension and our own scripts work
// in a browser under the app's Content Security Policy.
//
// Every tab it opens is watched: an uncaught JavaScript exception or a CSP
// violation fails the test when it ends, and other console errors and failed
// requests are logged. When a test fails, each open tab leaves a screenshot
// and its HTML behind.
//
// Without a browser the tests skip, except in CI (CI is set), where a skipped
// browser test would hide a broken build and therefore fails.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Timeout bounds each step a helper runs in the browser, and each wait.
const Timeout = 10 * time.Second

// startTimeout bounds starting Chromium; a cold start takes about a second.
const startTimeout = 30 * time.Second

// ArtifactsEnv names the directory failure screenshots go to. t.TempDir is
// used when it is unset, which is removed when the test ends: set it (CI
// does) to keep them.
const ArtifactsEnv = "BROWSERTEST_ARTIFACTS"

// tabs numbers the isolated tabs, so that logs and screenshots say which
// tab they are about (the first tab of a browser is tab1).
var tabs atomic.Int64

// ExecPath returns the browser to run: $CHROMIUM_PATH, /usr/bin/chromium, or
// the first of chromium, chromium-browser and google-chrome on PATH.
func ExecPath() (string, bool) {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p, true
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// MustBrowser starts a headless Chromium for this test and returns the
// context of its first tab; pass it to chromedp actions or to the helpers
// here. The browser stops when the test ends. Without a browser, or with
// -short, the test is skipped, or fails when CI is set.
func MustBrowser(t testing.TB) context.Context {
	t.Helper()
	path, found := ExecPath()
	switch {
	case !found && os.Getenv("CI") != "":
		t.Fatal("browsertest: no Chromium found and CI is set: a skipped browser test is a failure in CI (set CHROMIUM_PATH or apt-get install chromium)")
	case !found:
		t.Skip("browsertest: no Chromium found; apt-get install chromium, or set CHROMIUM_PATH")
	case testing.Short() && os.Getenv("CI") != "":
		t.Fatal("browsertest: -short skips browser tests, and CI is set: a skipped browser test is a failure in CI")
	case testing.Short():
		t.Skip("browsertest: skipped with -short")
	}

	// Exactly the flags of NOTES.md; chromedp adds only the debugging pipe
	// and the first page (about:blank). Its defaults are not used so that
	// what runs here is what the notes describe.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)

	// The first Run starts the browser and must not carry a timeout (it
	// would stop the browser later), so a watchdog bounds the start.
	watchdog := time.AfterFunc(startTimeout, cancel)
	err := chromedp.Do(ctx)
	if !watchdog.Stop() {
		err = errors.Join(err, fmt.Errorf("no answer within %s", startTimeout))
	}
	if err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	// Registered before the tab's own cleanup, so it runs after it: the
	// tab is checked and closed first, then the browser stops.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return mustWatch(t, ctx, "tab1")
}

// MustIsolatedTab opens a tab in a new browser context of browser's
// Chromium: it shares no cookies or storage with other tabs, so a second
// person can sign in. It is watched and closed like the first tab.
func MustIsolatedTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("browsertest: open tab: %v", err)
	}
	t.Cleanup(cancel)
	return mustWatch(t, ctx, fmt.Sprintf("tab%d", tabs.Add(1)+1))
}

// MustDo runs steps in tab, each within Timeout, and fails the test with a
// screenshot at the first error.
func MustDo(t testing.TB, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, step := range steps {
		ctx, cancel := context.WithTimeout(tab, Timeout)
		_, err := chromedp.Run(ctx, step)
		cancel()
		if err != nil {
			fail(t, tab, fmt.Sprintf("step %d of %d", i+1, len(steps)), err)
		}
	}
}

// MustRun runs an action that returns a value, within Timeout, and fails
// the test with a screenshot if it errs.
func MustRun[T any](t testing.TB, tab context.Context, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		fail(t, tab, "run", err)
	}
	return v
}

// MustEval evaluates a JavaScript expression in tab's page and returns its
// value. DevTools evaluation is not subject to the page's CSP, so tests can
// inspect pages that forbid eval.
func MustEval[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	return MustRun(t, tab, chromedp.Evaluate[T](expr))
}

// WaitText waits until an element matching the CSS selector sel has text
// containing want, for up to Timeout, and fails the test with a screenshot
// otherwise. It re-queries the page on every try, so it follows elements
// that htmx or SSE swap in and out.
//
// It polls from Go instead of using chromedp.Poll, which builds its predicate
// with new Function and would be refused by our CSP (and counted as a
// violation).
func WaitText(t testing.TB, tab context.Context, sel, want string) string {
	t.Helper()
	got, err := waitText(tab, sel, want)
	if err != nil {
		fail(t, tab, fmt.Sprintf("wait for %q in %s", want, sel), err)
	}
	return got
}

// waitText is WaitText returning an error; it gives the last text seen.
func waitText(tab context.Context, sel, want string) (string, error) {
	quoted, err := json.Marshal(sel)
	if err != nil {
		return "", err
	}
	expr := fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el ? el.textContent : null; })()`, quoted)
	ctx, cancel := context.WithTimeout(tab, Timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := "(no element)"
	for {
		text, err := chromedp.Run(ctx, chromedp.Evaluate[*string](expr))
		switch {
		case err == nil && text != nil:
			last = strings.Join(strings.Fields(*text), " ")
			if strings.Contains(last, want) {
				return last, nil
			}
		case err == nil:
			last = "(no element)"
		case ctx.Err() == nil:
			// A navigation can destroy the execution context mid-call;
			// the next try uses the new one.
			last = "(error: " + err.Error() + ")"
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("text is %q after %s", last, Timeout)
		case <-tick.C:
		}
	}
}

// Screenshot saves a PNG of tab's viewport and the page's HTML next to it,
// and returns the PNG's path. See ArtifactsEnv for where they go.
func Screenshot(t testing.TB, tab context.Context, name string) (string, error) {
	t.Helper()
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return "", fmt.Errorf("screenshot: %w", err)
	}
	base := filepath.Join(dir, fileName(t.Name()+"-"+name))
	if err := os.WriteFile(base+".png", png, 0o644); err != nil {
		return "", err
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		_ = os.WriteFile(base+".html", []byte(html), 0o644)
	}
	return base + ".png", nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(s string) string { return unsafeFileChars.ReplaceAllString(s, "_") }

// fail logs a screenshot of tab and ends the test.
func fail(t testing.TB, tab context.Context, what string, err error) {
	t.Helper()
	logScreenshot(t, tab, "failure")
	t.Fatalf("browsertest: %s: %v", what, err)
}

func logScreenshot(t testing.TB, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	cancel()
	if path, err := Screenshot(t, tab, name); err != nil {
		t.Logf("browsertest: no screenshot of %s: %v", loc, err)
	} else {
		t.Logf("browsertest: screenshot of %s: %s (and .html)", loc, path)
	}
}
