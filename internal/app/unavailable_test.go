package app_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// TestRequestsWhileTheDatabaseIsDownAnswer503: with PostgreSQL stopped, the
// API, pages and htmx requests, whether they fail loading the session or in
// their handler, answer 503 with Retry-After and the code unavailable, never
// 500; once it is back, requests succeed again.
func TestRequestsWhileTheDatabaseIsDownAnswer503(t *testing.T) {
	t.Parallel()
	server := testdb.NewPrivateServer(t)
	inst := apptest.MustStart(t, apptest.Options{DatabaseURL: server.URL})
	o := mustOwner(t, inst, "down@example.com")
	signedIn := inst.NewBrowser(t)
	signedIn.MustSignIn("down@example.com", "correct horse battery")
	signedOut := inst.NewBrowser(t)
	signedOut.CSRF() // the sign-in page needs no database

	api := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, inst.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+o.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	tablePath := "/workbooks/" + o.wb.ID + "/tables/" + o.table.ID
	htmx := func(b *apptest.Browser, method, path string, form url.Values) *apptest.Response {
		return b.Send(method, path, form, true)
	}

	server.Stop()

	resp := api()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var problem struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(body, &problem); err != nil {
		t.Fatalf("API answer %q: %v", body, err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || problem.Code != "unavailable" || problem.Status != 503 {
		t.Errorf("API: %s, Retry-After %q, %s %s", resp.Status, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), body)
	}

	pages := []struct {
		name string
		get  func() *apptest.Response
	}{
		// The session cannot be loaded: the session middleware answers.
		{"page, signed in", func() *apptest.Response { return signedIn.Get(tablePath) }},
		// The handler's query fails.
		{"form, signed out", func() *apptest.Response {
			return signedOut.PostForm("/signin", url.Values{"email": {"down@example.com"}, "password": {"correct horse battery"}})
		}},
	}
	for _, p := range pages {
		r := p.get()
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "5" ||
			r.TestID("error-page").Length() != 1 || r.TestID("error-retry").Length() != 1 {
			t.Errorf("%s: %d, Retry-After %q: %s", p.name, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
	}

	fragments := []struct {
		name string
		get  func() *apptest.Response
	}{
		{"htmx, signed in", func() *apptest.Response { return htmx(signedIn, http.MethodGet, tablePath+"/counters", nil) }},
		{"htmx, signed out", func() *apptest.Response {
			return htmx(signedOut, http.MethodPost, "/signin", url.Values{"email": {"down@example.com"}, "password": {"correct horse battery"}})
		}},
	}
	for _, f := range fragments {
		r := f.get()
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "5" ||
			r.Header.Get("HX-Retarget") != "#toasts" || r.TestID("toast").Length() != 1 {
			t.Errorf("%s: %d, Retry-After %q, HX-Retarget %q: %s", f.name, r.Status, r.Header.Get("Retry-After"), r.Header.Get("HX-Retarget"), r.Body)
		}
	}

	// Once it is back, requests succeed again; until the connections the
	// restart ended are replaced they may still answer 503, never 500.
	server.Start()
	mustEventually(t, "the API answers again", func() error {
		resp := api()
		resp.Body.Close()
		return statusError(t, resp.StatusCode)
	})
	mustEventually(t, "the page answers again", func() error {
		return statusError(t, signedIn.Get(tablePath).Status)
	})
}

// statusError is nil for 200, an error to retry for 503 and fails the test
// for anything else.
func statusError(t testing.TB, status int) error {
	t.Helper()
	switch status {
	case http.StatusOK:
		return nil
	case http.StatusServiceUnavailable:
		return errors.New("503")
	}
	t.Fatalf("status %d", status)
	return nil
}
