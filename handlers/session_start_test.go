package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apptest"
)

// Issue 7: next= must never send the browser off the site, on the signed-in
// GET and on the sign-in POST alike.
func TestSignInRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("next@example.com", "correct horse battery")

	cases := []struct{ next, want string }{
		{"/\t/127.0.0.1:39304/x", "/"},
		{"/%09/127.0.0.1:39304/x", "/"},
		{"/\n/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/\\evil.example", "/"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/settings?tab=tokens", "/settings?tab=tokens"},
	}
	for _, tc := range cases {
		b := inst.NewBrowser(t)
		b.Get("/signin")
		r := b.PostForm("/signin", url.Values{"email": {"next@example.com"}, "password": {"correct horse battery"}, "next": {tc.next}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != tc.want {
			t.Errorf("POST next=%q: %d Location %q, want %q", tc.next, r.Status, r.Header.Get("Location"), tc.want)
		}
		r = b.Get("/signin?next=" + url.QueryEscape(tc.next))
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != tc.want {
			t.Errorf("GET next=%q: %d Location %q, want %q", tc.next, r.Status, r.Header.Get("Location"), tc.want)
		}
	}
	// The literal query string from the report, not re-encoded by the test.
	if r := b.Get("/signin?next=/%09/127.0.0.1:39304/x"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Errorf("reported URL: %d Location %q, want /", r.Status, r.Header.Get("Location"))
	}
	// The sign-in form carries only a safe target.
	b = inst.NewBrowser(t)
	if v, _ := b.Get("/signin?next=" + url.QueryEscape("//evil.example")).Doc.Find(`input[name="next"]`).Attr("value"); v != "/" {
		t.Errorf("sign-in form next = %q, want /", v)
	}
}

// Issue 7: starting a session rotates the CSRF token, so one planted or read
// before sign-in is worthless afterwards, and the next page carries a new one
// that works.
func TestSessionStartRotatesCSRFToken(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	form := url.Values{"email": {"rotate@example.com"}, "password": {"correct horse battery"}}
	for _, path := range []string{"/signup", "/signin"} {
		b := inst.NewBrowser(t)
		b.Get(path)
		before := b.CSRF()
		r := b.PostForm(path, form)
		var csrfCookies int
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == "sp_csrf" {
				csrfCookies++
			}
		}
		if r.Status != http.StatusSeeOther || csrfCookies != 1 {
			t.Fatalf("%s: status %d with %d CSRF cookies, want 303 with one", path, r.Status, csrfCookies)
		}
		signOut := func(token string) int {
			req, _ := http.NewRequest(http.MethodPost, inst.URL+"/signout", strings.NewReader(url.Values{"_csrf": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return b.Do(req).Status
		}
		if status := signOut(before); status != http.StatusForbidden {
			t.Fatalf("%s: the token from before still validates: sign-out answered %d", path, status)
		}
		home := b.Get("/")
		after := b.CSRF()
		if home.Status != http.StatusOK || after == before || after == "" {
			t.Fatalf("%s: page after starting the session: %d, token changed: %v", path, home.Status, after != before)
		}
		if status := signOut(after); status != http.StatusSeeOther {
			t.Fatalf("%s: the new token does not work: sign-out answered %d", path, status)
		}
	}
}
