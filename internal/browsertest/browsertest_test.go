package browsertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// cspServer serves pages under a CSP like the app's: scripts only from the
// same origin, so no inline script and no eval.
func cspServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	page := func(head, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!DOCTYPE html><html><head><title>t</title>" + head + "</head><body>" + body + "</body></html>"))
		}
	}
	script := func(src string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write([]byte(src))
		}
	}
	mux.HandleFunc("/ok", page(`<script src="/late.js" defer></script>`, `<p id="msg">waiting</p>`))
	mux.HandleFunc("/late.js", script(`setTimeout(function () { document.getElementById("msg").textContent = "ready now"; }, 300);`))
	mux.HandleFunc("/inline", page(``, `<script>document.title = "ran";</script>`))
	mux.HandleFunc("/throws", page(`<script src="/throw.js"></script>`, ``))
	mux.HandleFunc("/throw.js", script(`throw new Error("boom from throw.js");`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestWaitTextFollowsScripts(t *testing.T) {
	t.Parallel()
	srv := cspServer(t)
	tab := MustBrowser(t)
	MustDo(t, tab, chromedp.Navigate(srv.URL+"/ok"))
	if got := WaitText(t, tab, "#msg", "ready"); got != "ready now" {
		t.Fatalf("text %q", got)
	}
	short, cancel := context.WithTimeout(tab, 300*time.Millisecond)
	defer cancel()
	if _, err := waitText(short, "#missing", "x"); err == nil {
		t.Fatal("waiting for a missing element must time out")
	}
	if n := MustEval[int](t, tab, `1 + 2`); n != 3 {
		t.Fatalf("DevTools evaluation must work under the CSP, got %d", n)
	}
}

func TestWatcherReportsCSPViolationsAndExceptions(t *testing.T) {
	t.Parallel()
	srv := cspServer(t)
	tab := MustBrowser(t)
	other := MustIsolatedTab(t, tab)
	MustDo(t, tab, chromedp.Navigate(srv.URL+"/inline"))
	MustDo(t, other, chromedp.Navigate(srv.URL+"/throws"))

	// The faults are taken here, so only these assertions decide: left in
	// place they would fail the test at cleanup, as they should in others.
	if f := waitFault(watcherOf(tab), "CSP violation"); f == "" {
		t.Error("inline script: no CSP violation reported")
	}
	if f := waitFault(watcherOf(other), "boom from throw.js"); f == "" {
		t.Error("throwing script: no exception reported")
	}
	if title := MustRun(t, tab, chromedp.Title()); title == "ran" {
		t.Error("the inline script ran despite the CSP")
	}
}

// waitFault waits up to Timeout for a fault containing want, and takes all
// faults seen.
func waitFault(w *watcher, want string) string {
	deadline := time.Now().Add(Timeout)
	for time.Now().Before(deadline) {
		for _, f := range w.takeFaults() {
			if strings.Contains(f, want) {
				return f
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ""
}
