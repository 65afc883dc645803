package handlers_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apptest"
)

// mustAttemptSignIn posts the sign-in form from b and fails the test on any
// server error, which no input may cause.
func mustAttemptSignIn(t testing.TB, b *apptest.Browser, email, password string) *apptest.Response {
	t.Helper()
	b.Get("/signin")
	r := b.PostForm("/signin", url.Values{"email": {email}, "password": {password}})
	if r.Status >= 500 {
		t.Fatalf("sign in as %.40q: status %d", email, r.Status)
	}
	return r
}

// randomText returns n random letters and digits.
func randomText(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(rand.Text())
	}
	return sb.String()[:n]
}

// mustBeThrottledAfterFive makes attempts wrong sign-ins for email from b
// and checks that the first five are answered as wrong and the rest are
// refused unchecked.
func mustBeThrottledAfterFive(t testing.TB, b *apptest.Browser, email string, attempts int) {
	t.Helper()
	for i := range attempts {
		r := mustAttemptSignIn(t, b, email, fmt.Sprintf("wrong password %d", i))
		want := http.StatusUnauthorized
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if r.Status != want {
			t.Fatalf("attempt %d: status %d, want %d (%s)", i+1, r.Status, want, r.TestID("form-error").Text())
		}
	}
}

// Issue 7: an oversized email or X-Forwarded-For made recording the failure
// fail, so every attempt answered 500, nothing was recorded and the throttle
// never engaged.
func TestSignInThrottleHoldsForOversizedInput(t *testing.T) {
	t.Parallel()
	long := randomText(3000) // incompressible: PostgreSQL compresses repetitive index entries
	cases := []struct {
		name   string
		email  string
		header http.Header
		env    map[string]string
	}{
		{name: "3 KB email", email: long + "@example.com"},
		{name: "3 KB X-Forwarded-For", email: "victim@example.com", header: http.Header{"X-Forwarded-For": {long}}},
		{
			name: "3 KB X-Forwarded-For through a trusted proxy", email: "victim@example.com",
			header: http.Header{"X-Forwarded-For": {long}}, env: map[string]string{"TRUSTED_PROXIES": "127.0.0.1"},
		},
		{
			name: "3 KB chain of addresses through a trusted proxy", email: "victim@example.com",
			header: http.Header{"X-Forwarded-For": {strings.Repeat("198.51.100.7, ", 215) + "198.51.100.7"}},
			env:    map[string]string{"TRUSTED_PROXIES": "127.0.0.1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inst := apptest.MustStart(t, apptest.Options{Env: tc.env})
			inst.NewBrowser(t).MustSignUp("victim@example.com", "correct horse battery")
			attacker := inst.NewBrowser(t)
			attacker.Header = tc.header
			mustBeThrottledAfterFive(t, attacker, tc.email, 25)
			r := mustAttemptSignIn(t, attacker, "victim@example.com", "correct horse battery")
			if tc.email == "victim@example.com" && r.Status != http.StatusTooManyRequests {
				t.Fatalf("right password while throttled: status %d, want 429", r.Status)
			}
		})
	}
}

// Without TRUSTED_PROXIES the client's address is the TCP peer: rotating
// X-Forwarded-For does not escape the per-address limit across emails.
func TestSignInIgnoresForwardedForWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	attacker := inst.NewBrowser(t)
	for i := range 31 {
		attacker.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i+1)}}
		r := mustAttemptSignIn(t, attacker, fmt.Sprintf("user%d@example.com", i), "wrong password")
		want := http.StatusUnauthorized
		if i == 30 {
			want = http.StatusTooManyRequests
		}
		if r.Status != want {
			t.Fatalf("attempt %d: status %d, want %d", i+1, r.Status, want)
		}
	}
}

// Behind a trusted proxy the client's address is the last untrusted one in
// X-Forwarded-For, and an attacker failing many times for alice does not
// stop alice signing in from her own address.
func TestSignInThrottlesPerClientBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32, ::1"}})
	alice := inst.NewBrowser(t)
	alice.Header = http.Header{"X-Forwarded-For": {"198.51.100.20"}}
	alice.MustSignUp("alice@example.com", "correct horse battery")
	alice.PostForm("/signout", nil)

	attacker := inst.NewBrowser(t)
	attacker.Header = http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	mustBeThrottledAfterFive(t, attacker, "alice@example.com", 12)
	// A spoofed address to the left of the proxy's entry changes nothing.
	for i := range 5 {
		attacker.Header = http.Header{"X-Forwarded-For": {fmt.Sprintf("192.0.2.%d, 203.0.113.9", i+1)}}
		if r := mustAttemptSignIn(t, attacker, "alice@example.com", "correct horse battery"); r.Status != http.StatusTooManyRequests {
			t.Fatalf("spoofed leftmost address %d: status %d, want 429", i+1, r.Status)
		}
	}
	r := mustAttemptSignIn(t, attacker, "alice@example.com", "correct horse battery")
	if msg := r.TestID("form-error").Text(); !strings.Contains(msg, "Try again in 1 minute") {
		t.Errorf("throttled message should say how long to wait: %q", msg)
	}

	alice.MustSignIn("alice@example.com", "correct horse battery")
	if r := alice.Get("/"); r.Status != http.StatusOK || r.TestID("current-user").Text() != "alice@example.com" {
		t.Fatalf("alice from her own address: %d", r.Status)
	}
}
