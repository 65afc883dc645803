package browsertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// watcher collects what went wrong in one tab, from the DevTools events.
type watcher struct {
	mu sync.Mutex
	// urls maps requests to their URLs: a failure event carries only the
	// request id.
	urls map[network.RequestID]string
	// faults fail the test: uncaught exceptions and CSP violations.
	faults []string
	// notes are only logged: other console errors and failed requests.
	notes []string
}

// mustWatch starts watching tab and, when the test ends, reports what the
// watcher saw (failing on faults), leaves a screenshot if the test failed,
// and closes nothing itself: the caller's cleanup, registered earlier, runs
// after this one and closes the tab.
func mustWatch(t testing.TB, tab context.Context, name string) context.Context {
	t.Helper()
	w := &watcher{urls: make(map[network.RequestID]string)}
	if err := chromedp.Listen(tab, w.observe); err != nil {
		t.Fatalf("browsertest: watch %s: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logScreenshot(t, tab, name+"-at-end")
		}
		faults, notes := w.report()
		for _, n := range notes {
			t.Logf("browsertest: %s: %s", name, n)
		}
		for _, f := range faults {
			t.Errorf("browsertest: %s: %s", name, f)
		}
	})
	return context.WithValue(tab, watcherKey{}, w)
}

// watcherKey holds a tab's watcher in its context.
type watcherKey struct{}

// watcherOf returns the watcher of a tab made here, or nil.
func watcherOf(tab context.Context) *watcher {
	w, _ := tab.Value(watcherKey{}).(*watcher)
	return w
}

// takeFaults returns the faults seen so far and forgets them, so that they
// no longer fail the test; for tests of the watcher itself.
func (w *watcher) takeFaults() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	faults := w.faults
	w.faults = nil
	return faults
}

// report returns the faults and notes seen so far.
func (w *watcher) report() (faults, notes []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.faults...), append([]string(nil), w.notes...)
}

// observe is called on chromedp's reader goroutine for every event of the
// tab, so it only records.
func (w *watcher) observe(ev any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Request != nil {
			w.urls[e.RequestID] = e.Request.URL
		}
	case *network.EventLoadingFailed:
		w.loadingFailed(e)
	case *runtime.EventExceptionThrown:
		w.faults = append(w.faults, "uncaught exception: "+exceptionText(e.ExceptionDetails))
	case *log.EventEntryAdded:
		w.logEntry(e.Entry)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			w.notes = append(w.notes, "console.error: "+argsText(e.Args))
		}
	}
}

func (w *watcher) loadingFailed(e *network.EventLoadingFailed) {
	url := w.urls[e.RequestID]
	switch {
	case e.BlockedReason == network.BlockedReasonCsp:
		w.faults = append(w.faults, "CSP blocked request: "+url)
	case e.Canceled:
		// Navigations and closed tabs cancel what is in flight, such as
		// the SSE stream; that is not a failure.
	default:
		reason := e.ErrorText
		if e.BlockedReason != "" {
			reason += " (blocked: " + string(e.BlockedReason) + ")"
		}
		w.notes = append(w.notes, fmt.Sprintf("request failed: %s: %s", url, reason))
	}
}

func (w *watcher) logEntry(e *log.Entry) {
	if e == nil {
		return
	}
	text := e.Text
	if e.URL != "" {
		text += " (" + e.URL + ")"
	}
	if isCSPViolation(e.Text) {
		w.faults = append(w.faults, "CSP violation: "+text)
		return
	}
	if e.Level == log.EntryLevelError {
		w.notes = append(w.notes, fmt.Sprintf("console error [%s]: %s", e.Source, text))
	}
}

// isCSPViolation recognises Chromium's report of a violation ("Refused to
// execute inline script because it violates the following Content Security
// Policy directive: ...").
func isCSPViolation(text string) bool {
	return strings.Contains(text, "Content Security Policy")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		text += " " + d.Exception.Description
	}
	if d.URL != "" {
		text += fmt.Sprintf(" at %s:%d:%d", d.URL, d.LineNumber+1, d.ColumnNumber+1)
	}
	return text
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		default:
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}
