package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apptest"
)

func TestSignUpSignInSignOut(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)

	if r := b.Get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("signed-out home: %d %s", r.Status, r.Header.Get("Location"))
	}
	b.MustSignUp("first@example.com", "correct horse battery")
	home := b.Get("/")
	if home.Status != http.StatusOK || home.TestID("current-user").Text() != "first@example.com" {
		t.Fatalf("home after sign-up: %d %q", home.Status, home.TestID("current-user").Text())
	}
	// The first account is an admin and sees the admin navigation.
	if home.Doc.Find(`a[href="/admin/users"]`).Length() != 1 {
		t.Fatal("first account should be an admin")
	}
	if r := b.PostForm("/signout", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.Status)
	}
	if r := b.Get("/"); r.Status != http.StatusSeeOther {
		t.Fatalf("after sign-out home must redirect, got %d", r.Status)
	}
	b.MustSignIn("FIRST@example.com", "correct horse battery")
	if r := b.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("after sign-in: %d", r.Status)
	}

	second := inst.NewBrowser(t)
	second.MustSignUp("second@example.com", "another good password")
	if second.Get("/").Doc.Find(`a[href="/admin/users"]`).Length() != 0 {
		t.Fatal("second account must not be an admin")
	}
	if r := second.Get("/admin/users"); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin on admin page: %d", r.Status)
	}
}

func TestSignUpValidation(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("taken@example.com", "correct horse battery")

	other := inst.NewBrowser(t)
	cases := []struct {
		name, email, password, field string
	}{
		{"bad email", "not-an-email", "correct horse battery", "email"},
		{"short password", "new@example.com", "short", "password"},
		{"taken email, any case", "TAKEN@example.com", "correct horse battery", "email"},
	}
	for _, tc := range cases {
		other.Get("/signup")
		r := other.PostForm("/signup", url.Values{"email": {tc.email}, "password": {tc.password}})
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", tc.name, r.Status)
		}
		if r.TestID("error-"+tc.field).Length() != 1 {
			t.Errorf("%s: no error shown for %s", tc.name, tc.field)
		}
	}
}

func TestSignInThrottlesFailures(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("victim@example.com", "correct horse battery")
	attacker := inst.NewBrowser(t)
	for i := range 5 {
		attacker.Get("/signin")
		r := attacker.PostForm("/signin", url.Values{"email": {"victim@example.com"}, "password": {"wrong password " + string(rune('a'+i))}})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	attacker.Get("/signin")
	r := attacker.PostForm("/signin", url.Values{"email": {"victim@example.com"}, "password": {"correct horse battery"}})
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.TestID("form-error").Text(), "Too many") {
		t.Fatalf("after 5 failures even the right password is refused for a while: %d %q", r.Status, r.TestID("form-error").Text())
	}
}

func TestCSRFRequiredOnStateChanges(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("csrf@example.com", "correct horse battery")

	// A form posted without the token is refused and changes nothing.
	req, _ := http.NewRequest(http.MethodPost, inst.URL+"/signout", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := b.Do(req); r.Status != http.StatusForbidden {
		t.Fatalf("no token: %d", r.Status)
	}
	// A cross-site browser request is refused even with the token.
	req, _ = http.NewRequest(http.MethodPost, inst.URL+"/signout", strings.NewReader(url.Values{"_csrf": {b.CSRF()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := b.Do(req); r.Status != http.StatusForbidden {
		t.Fatalf("cross-site: %d", r.Status)
	}
	if r := b.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("still signed in after refused sign-outs, got %d", r.Status)
	}
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("errors@example.com", "correct horse battery")

	r := b.Get("/no/such/page")
	if r.Status != http.StatusNotFound || r.TestID("error-page").Length() != 1 {
		t.Fatalf("404 page: %d", r.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, inst.URL+"/no/such/page", nil)
	req.Header.Set("HX-Request", "true")
	r = b.Do(req)
	if r.Status != http.StatusNotFound || r.TestID("toast").Length() != 1 || r.Header.Get("HX-Retarget") != "#toasts" {
		t.Fatalf("htmx 404 should be a toast fragment: %d %q", r.Status, r.Body)
	}
	if r.Doc.Find("header.app-header").Length() != 0 {
		t.Fatal("htmx error must not be a full page")
	}
}

func TestSecurityHeadersAndProbes(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"METRICS_TOKEN": testMetricsToken}})
	b := inst.NewBrowser(t)
	r := b.Get("/signin")
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP: %q", csp)
	}
	if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Request-Id") == "" {
		t.Fatalf("headers: %v", r.Header)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		if r := b.Get(path); r.Status != want {
			t.Errorf("%s: %d", path, r.Status)
		}
	}
	m := mustMetrics(t, inst)
	for _, name := range []string{"scratchpad_http_request_duration_seconds", "scratchpad_jobs", "scratchpad_sse_subscribers"} {
		if !strings.Contains(m, name) {
			t.Errorf("metrics lack %s", name)
		}
	}
}

// testMetricsToken is the METRICS_TOKEN of instances whose tests read
// /metrics.
const testMetricsToken = "test-metrics-token-0123456789"

// mustMetrics reads inst's /metrics with testMetricsToken.
func mustMetrics(t testing.TB, inst *apptest.Instance) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, inst.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with the token: %s: %s", resp.Status, body)
	}
	return string(body)
}

// Metrics are not public: by default the main port does not serve them, and
// with METRICS_TOKEN it serves them to that token only.
func TestMetricsAreNotPublic(t *testing.T) {
	t.Parallel()
	get := func(inst *apptest.Instance, authorization string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, inst.URL+"/metrics", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "scratchpad_") {
			t.Errorf("%s with %q shows metrics", resp.Status, authorization)
		}
		return resp
	}

	byDefault := apptest.MustStart(t, apptest.Options{})
	if resp := get(byDefault, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics by default: %s, want 404", resp.Status)
	}

	withToken := apptest.MustStart(t, apptest.Options{Env: map[string]string{"METRICS_TOKEN": testMetricsToken}})
	for _, authorization := range []string{"", "Bearer wrong-token-0123456789", "Basic " + testMetricsToken, "Bearer " + testMetricsToken + "x"} {
		resp := get(withToken, authorization)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("/metrics with %q: %s, WWW-Authenticate %q; want 401 asking for a bearer token",
				authorization, resp.Status, resp.Header.Get("WWW-Authenticate"))
		}
	}
	mustMetrics(t, withToken)
}

// A signed-in browser's requests do not rewrite its session just to move
// its idle expiry: that happens at most once per slack (five minutes with
// an idle timeout of an hour; internal/sessionstore).
func TestSessionIsNotRewrittenOnEveryRequest(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"SESSION_IDLE_TIMEOUT": "1h"}})
	b := inst.NewBrowser(t)
	b.MustSignUp("steady@example.com", "correct horse battery")
	snapshot := func() string {
		t.Helper()
		var s string
		if err := inst.Pool.QueryRow(context.Background(),
			`SELECT string_agg(token || md5(data) || expiry::text, ',' ORDER BY token) FROM sessions`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	b.Get("/") // takes the sign-up's flash message, if any
	before := snapshot()
	for range 3 {
		if r := b.Get("/"); r.Status != http.StatusOK {
			t.Fatalf("home: %d", r.Status)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("sessions rewritten by reads:\n before %s\n after  %s", before, after)
	}
}

// A session unused for longer than SESSION_IDLE_TIMEOUT ends; one in use
// goes on.
func TestIdleSessionsEnd(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"SESSION_IDLE_TIMEOUT": "3s"}})
	b := inst.NewBrowser(t)
	b.MustSignUp("idle@example.com", "correct horse battery")
	for range 3 {
		if r := b.Get("/"); r.Status != http.StatusOK {
			t.Fatalf("home while in use: %d", r.Status)
		}
		time.Sleep(time.Second) // well within the timeout since the last request
	}
	if r := b.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("home while in use: %d", r.Status)
	}
	time.Sleep(3500 * time.Millisecond)
	if r := b.Get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("home after idling: %d %s, want a redirect to sign in", r.Status, r.Header.Get("Location"))
	}
}
