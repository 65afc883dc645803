package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/clerkauth"
	"github.com/scratchpad/scratchpad/internal/clerkauth/clerkfake"
)

// clerkInstance is an instance in Clerk mode talking to a fake Clerk
// Backend API that publishes key.
type clerkInstance struct {
	*apptest.Instance
	fake *clerkfake.Server
	key  clerkfake.SigningKey
}

// mustStartClerk starts an instance in Clerk mode whose fake Clerk knows
// users (Clerk user objects by id).
func mustStartClerk(t *testing.T, users map[string]json.RawMessage) *clerkInstance {
	t.Helper()
	key := clerkfake.MustSigningKey(t, "ins_test")
	fake := clerkfake.New(t, []clerkfake.SigningKey{key}, users)
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{
		"CLERK_SECRET_KEY":      clerkfake.SecretKey,
		"CLERK_PUBLISHABLE_KEY": clerkfake.PublishableKey,
		"CLERK_API_URL":         fake.URL,
	}})
	return &clerkInstance{Instance: inst, fake: fake, key: key}
}

// token returns a fresh session token for a Clerk user, as ClerkJS would
// put in the __session cookie.
func (ci *clerkInstance) token(t testing.TB, clerkUserID string) string {
	t.Helper()
	c := clerkfake.ValidClaims(time.Now())
	c.Subject, c.SessionID = clerkUserID, "sess_"+clerkUserID
	return clerkfake.MustSign(t, ci.key, c)
}

// browser returns a fresh browser whose __session cookie holds token (none
// when token is empty).
func (ci *clerkInstance) browser(t testing.TB, token string) *apptest.Browser {
	t.Helper()
	b := ci.NewBrowser(t)
	setSessionCookie(t, ci.Instance, b, token)
	return b
}

func setSessionCookie(t testing.TB, inst *apptest.Instance, b *apptest.Browser, token string) {
	t.Helper()
	if token == "" {
		return
	}
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: clerkauth.SessionCookie, Value: token, Path: "/"}})
}

// mustClerkUser returns our user linked to a Clerk user.
func mustClerkUser(t testing.TB, inst *apptest.Instance, clerkUserID string) accounts.User {
	t.Helper()
	u, err := inst.App.Accounts.FindUserByClerkID(context.Background(), clerkUserID)
	if err != nil {
		t.Fatalf("find Clerk user %s: %v", clerkUserID, err)
	}
	return u
}

// mustBeSignedIn asserts GET / shows the home page to email.
func mustBeSignedIn(t testing.TB, b *apptest.Browser, email string) *apptest.Response {
	t.Helper()
	r := b.Get("/")
	if r.Status != http.StatusOK {
		t.Fatalf("GET / = %d (Location %q), want 200 signed in as %s", r.Status, r.Header.Get("Location"), email)
	}
	if got := r.TestID("current-user").Text(); got != email {
		t.Fatalf("current user = %q, want %q", got, email)
	}
	return r
}

// mustBeSignedOut asserts GET / sends the browser to the sign-in page.
func mustBeSignedOut(t testing.TB, b *apptest.Browser) {
	t.Helper()
	r := b.Get("/")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("GET / = %d (Location %q), want a redirect to /signin", r.Status, r.Header.Get("Location"))
	}
}

func TestClerkFirstSessionCreatesUser(t *testing.T) {
	t.Parallel()
	ci := mustStartClerk(t, map[string]json.RawMessage{
		"user_alice": clerkfake.User("user_alice", "alice@example.com", "Alice", "Liddell"),
		"user_bob":   clerkfake.User("user_bob", "bob@example.com", "Bob", ""),
	})

	alice := ci.browser(t, ci.token(t, "user_alice"))
	home := mustBeSignedIn(t, alice, "alice@example.com")
	if home.Doc.Find(`a[href="/admin/users"]`).Length() != 1 {
		t.Error("the first user, created through Clerk, should be an admin")
	}
	u := mustClerkUser(t, ci.Instance, "user_alice")
	if u.Email != "alice@example.com" || u.Name != "Alice Liddell" || u.Role != accounts.RoleAdmin || u.HasPassword {
		t.Errorf("created user = %+v, want alice@example.com, Alice Liddell, admin, no password", u)
	}
	if got := ci.fake.UserRequests(); got != 1 {
		t.Errorf("Clerk user lookups after the first request = %d, want 1", got)
	}

	// Later requests, even with a refreshed token, find the user locally.
	mustBeSignedIn(t, alice, "alice@example.com")
	setSessionCookie(t, ci.Instance, alice, ci.token(t, "user_alice"))
	mustBeSignedIn(t, alice, "alice@example.com")
	if got := ci.fake.UserRequests(); got != 1 {
		t.Errorf("Clerk user lookups after three requests = %d, want still 1", got)
	}
	if got := mustClerkUser(t, ci.Instance, "user_alice"); got.ID != u.ID {
		t.Errorf("user id changed from %s to %s", u.ID, got.ID)
	}

	// The JSON API takes bearer API tokens only: a Clerk cookie (ambient,
	// so CSRF-prone) or a Clerk JWT as bearer does not authenticate it.
	if r := alice.Get("/api/v1/me"); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me with a Clerk cookie = %d, want 401", r.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, ci.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+ci.token(t, "user_alice"))
	if r := ci.NewBrowser(t).Do(req); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me with a Clerk JWT as bearer = %d, want 401", r.Status)
	}

	// The second Clerk user is a plain user.
	bob := ci.browser(t, ci.token(t, "user_bob"))
	home = mustBeSignedIn(t, bob, "bob@example.com")
	if home.Doc.Find(`a[href="/admin/users"]`).Length() != 0 {
		t.Error("the second user must not be an admin")
	}
	if r := bob.Get("/admin/users"); r.Status != http.StatusForbidden {
		t.Errorf("second user on an admin page: %d, want 403", r.Status)
	}
	if got := mustClerkUser(t, ci.Instance, "user_bob"); got.Role != accounts.RoleUser || got.Name != "Bob" {
		t.Errorf("second user = %+v, want role user, name Bob", got)
	}
	if got := ci.fake.UserRequests(); got != 2 {
		t.Errorf("Clerk user lookups = %d, want 2", got)
	}
	// The JWKS was fetched once and cached for every later verification.
	if got := ci.fake.JWKSRequests(); got != 1 {
		t.Errorf("JWKS requests = %d, want 1", got)
	}
}

func TestClerkInvalidSessionIsSignedOut(t *testing.T) {
	t.Parallel()
	ci := mustStartClerk(t, map[string]json.RawMessage{
		"user_eve": clerkfake.User("user_eve", "eve@example.com", "Eve", ""),
	})
	now := time.Now()
	claims := func(mutate func(*clerkfake.Claims)) clerkfake.Claims {
		c := clerkfake.ValidClaims(now)
		c.Subject = "user_eve"
		mutate(&c)
		return c
	}
	valid := claims(func(*clerkfake.Claims) {})
	foreign := clerkfake.MustSigningKey(t, "ins_test") // our kid, someone else's key
	stranger := clerkfake.MustSigningKey(t, "ins_other")
	parts := strings.Split(clerkfake.MustSign(t, ci.key, valid), ".")

	tests := []struct {
		name, token string
	}{
		{"no cookie", ""},
		{"expired", clerkfake.MustSign(t, ci.key, claims(func(c *clerkfake.Claims) {
			c.IssuedAt, c.NotBefore, c.Expiry = now.Add(-3*time.Minute), now.Add(-3*time.Minute), now.Add(-2*time.Minute)
		}))},
		{"not yet valid", clerkfake.MustSign(t, ci.key, claims(func(c *clerkfake.Claims) { c.NotBefore = now.Add(2 * time.Minute) }))},
		{"another instance's issuer", clerkfake.MustSign(t, ci.key, claims(func(c *clerkfake.Claims) { c.Issuer = "https://clerk.other.accounts.dev" }))},
		{"garbage", "not-a-jwt"},
		{"three garbage segments", "a.b.c"},
		{"unsigned", parts[0] + "." + parts[1] + "."},
		{"signed by a foreign key under our kid", clerkfake.MustSign(t, foreign, valid)},
		{"signed by a key we do not publish", clerkfake.MustSign(t, stranger, valid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ci.browser(t, tt.token)
			mustBeSignedOut(t, b)
			// The sign-in page still renders, so ClerkJS can sign in again.
			if r := b.Get("/signin"); r.Status != http.StatusOK || r.TestID("clerk-signin").Length() != 1 {
				t.Errorf("GET /signin = %d, want the Clerk sign-in page", r.Status)
			}
		})
	}
	if got := ci.fake.UserRequests(); got != 0 {
		t.Errorf("Clerk user lookups = %d, want 0 for invalid tokens", got)
	}
	if _, err := ci.App.Accounts.FindUserByClerkID(context.Background(), "user_eve"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("FindUserByClerkID(user_eve) error = %v, want NotFound: no user from an invalid token", err)
	}
}

func TestClerkSignInPage(t *testing.T) {
	t.Parallel()
	ci := mustStartClerk(t, map[string]json.RawMessage{
		"user_sam": clerkfake.User("user_sam", "sam@example.com", "", ""),
	})
	b := ci.browser(t, "")

	r := b.Get("/signin")
	if r.Status != http.StatusOK || r.TestID("clerk-signin").Length() != 1 {
		t.Fatalf("GET /signin = %d, want the Clerk sign-in page", r.Status)
	}
	script := r.Doc.Find("script[data-clerk-publishable-key]")
	if script.Length() != 1 {
		t.Fatalf("ClerkJS script tags = %d, want 1", script.Length())
	}
	if pk, _ := script.Attr("data-clerk-publishable-key"); pk != clerkfake.PublishableKey {
		t.Errorf("data-clerk-publishable-key = %q, want %q", pk, clerkfake.PublishableKey)
	}
	src, _ := script.Attr("src")
	u, err := url.Parse(src)
	if err != nil || u.Scheme != "https" || u.Host != clerkfake.FrontendAPI || !strings.HasSuffix(u.Path, "/clerk.browser.js") {
		t.Errorf("ClerkJS src = %q, want https://%s/…/clerk.browser.js", src, clerkfake.FrontendAPI)
	}
	if r.Doc.Find(`input[name="password"]`).Length() != 0 {
		t.Error("the Clerk sign-in page must not show the built-in password form")
	}
	if strings.Contains(r.Body, clerkfake.SecretKey) {
		t.Error("the sign-in page leaks the Clerk secret key")
	}
	csp := r.Header.Get("Content-Security-Policy")
	var scriptSrc string
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == "script-src" {
			scriptSrc = strings.Join(f[1:], " ")
		}
	}
	if !strings.Contains(" "+scriptSrc+" ", " https://"+clerkfake.FrontendAPI+" ") || strings.Contains(scriptSrc, "unsafe-inline") {
		t.Errorf("CSP script-src = %q, want 'self' and https://%s without unsafe-inline", scriptSrc, clerkfake.FrontendAPI)
	}

	if r := b.Get("/signup"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/signin" {
		t.Errorf("GET /signup = %d (Location %q), want a redirect to /signin", r.Status, r.Header.Get("Location"))
	}
	// The built-in forms are refused. The Clerk sign-in page has no form
	// with a CSRF token, so the posts pass CSRF the way a current browser's
	// same-origin form post does, with Sec-Fetch-Site.
	for _, path := range []string{"/signin", "/signup"} {
		form := url.Values{"email": {"sam@example.com"}, "name": {"Sam"}, "password": {"correct horse battery"}}
		req, _ := http.NewRequest(http.MethodPost, ci.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		r := b.Do(req)
		if r.Status != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", path, r.Status)
		}
	}
	mustBeSignedOut(t, b)
	if _, err := ci.App.Accounts.FindUserByEmail(context.Background(), "sam@example.com"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("POST /signup created an account: %v", err)
	}

	// Once signed in through Clerk, the sign-in page sends the user on.
	setSessionCookie(t, ci.Instance, b, ci.token(t, "user_sam"))
	if r := b.Get("/signin?next=/settings"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/settings" {
		t.Errorf("signed-in GET /signin = %d (Location %q), want a redirect to /settings", r.Status, r.Header.Get("Location"))
	}
}

func TestClerkLinksExistingAccountByEmail(t *testing.T) {
	t.Parallel()
	ci := mustStartClerk(t, map[string]json.RawMessage{
		// Clerk may keep the address in another case than the account.
		"user_carol": clerkfake.User("user_carol", "Carol@Example.com", "Carol", "Ann"),
	})
	ctx := context.Background()
	existing, err := ci.App.Accounts.SignUp(ctx, accounts.SignUpInput{Email: "carol@example.com", Name: "Carol", Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("SignUp: %v", err)
	}

	b := ci.browser(t, ci.token(t, "user_carol"))
	home := b.Get("/")
	if home.Status != http.StatusOK || !strings.EqualFold(home.TestID("current-user").Text(), "carol@example.com") {
		t.Fatalf("GET / = %d as %q, want 200 as carol@example.com", home.Status, home.TestID("current-user").Text())
	}
	linked := mustClerkUser(t, ci.Instance, "user_carol")
	if linked.ID != existing.ID {
		t.Fatalf("Clerk session mapped to user %s, want the existing account %s", linked.ID, existing.ID)
	}
	if linked.Role != accounts.RoleAdmin || !linked.HasPassword {
		t.Errorf("linked user = %+v, want the existing admin with its password kept", linked)
	}
	page, err := ci.App.Accounts.FindUsers(ctx, accounts.UserFilter{Query: "carol"})
	if err != nil || page.Total != 1 {
		t.Errorf("users matching carol = %d (%v), want 1: linking must not create a second account", page.Total, err)
	}
}

func TestClerkDisabledUserIsSignedOut(t *testing.T) {
	t.Parallel()
	ci := mustStartClerk(t, map[string]json.RawMessage{
		"user_dave": clerkfake.User("user_dave", "dave@example.com", "Dave", ""),
		"user_erin": clerkfake.User("user_erin", "erin@example.com", "Erin", ""),
	})
	ctx := context.Background()
	admin, err := ci.App.Accounts.SignUp(ctx, accounts.SignUpInput{Email: "admin@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("SignUp: %v", err)
	}

	// Disabled after the first Clerk sign-in.
	dave := ci.browser(t, ci.token(t, "user_dave"))
	mustBeSignedIn(t, dave, "dave@example.com")
	daveUser := mustClerkUser(t, ci.Instance, "user_dave")
	if _, err := ci.App.Accounts.SetDisabled(ctx, admin.ID, daveUser.ID, true); err != nil {
		t.Fatalf("SetDisabled: %v", err)
	}
	mustBeSignedOut(t, dave)
	setSessionCookie(t, ci.Instance, dave, ci.token(t, "user_dave"))
	mustBeSignedOut(t, dave)
	if r := dave.Get("/signin"); r.Status != http.StatusOK || r.TestID("clerk-signin").Length() != 1 {
		t.Errorf("disabled user's GET /signin = %d, want the Clerk sign-in page", r.Status)
	}

	// Re-enabled, the same Clerk session works again.
	if _, err := ci.App.Accounts.SetDisabled(ctx, admin.ID, daveUser.ID, false); err != nil {
		t.Fatalf("SetDisabled(false): %v", err)
	}
	mustBeSignedIn(t, dave, "dave@example.com")

	// Disabled while linked to a built-in account before the first Clerk
	// sign-in: linking does not bring the account back.
	erinUser, err := ci.App.Accounts.SignUp(ctx, accounts.SignUpInput{Email: "erin@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("SignUp erin: %v", err)
	}
	if _, err := ci.App.Accounts.SetDisabled(ctx, admin.ID, erinUser.ID, true); err != nil {
		t.Fatalf("SetDisabled erin: %v", err)
	}
	erin := ci.browser(t, ci.token(t, "user_erin"))
	mustBeSignedOut(t, erin)
	if r := erin.Get("/signin"); r.Status != http.StatusOK {
		t.Errorf("disabled user's GET /signin = %d, want 200", r.Status)
	}
}

func TestClerkUserDeletedAtClerkIsSignedOut(t *testing.T) {
	t.Parallel()
	// A valid token for a user Clerk no longer knows (deleted in the Clerk
	// dashboard within the token's minute of life).
	ci := mustStartClerk(t, nil)
	b := ci.browser(t, ci.token(t, "user_gone"))
	mustBeSignedOut(t, b)
	if r := b.Get("/signin"); r.Status != http.StatusOK || r.TestID("clerk-signin").Length() != 1 {
		t.Errorf("GET /signin = %d, want the Clerk sign-in page", r.Status)
	}
	if _, err := ci.App.Accounts.FindUserByClerkID(context.Background(), "user_gone"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("FindUserByClerkID(user_gone) error = %v, want NotFound", err)
	}
}

func TestClerkJWKSOutage(t *testing.T) {
	t.Parallel()
	ci := mustStartClerk(t, map[string]json.RawMessage{
		"user_fay": clerkfake.User("user_fay", "fay@example.com", "Fay", ""),
	})
	ci.fake.SetJWKSDown(true)
	b := ci.browser(t, ci.token(t, "user_fay"))
	// Without keys the token cannot be checked: nobody is signed in and no
	// user is created (whether this shows as signed out or as an error).
	if r := b.Get("/"); r.Status == http.StatusOK {
		t.Fatalf("GET / during a JWKS outage = 200, want no signed-in page")
	}
	if _, err := ci.App.Accounts.FindUserByClerkID(context.Background(), "user_fay"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("FindUserByClerkID(user_fay) error = %v, want NotFound", err)
	}
	// Once Clerk answers again (after the one-minute refetch throttle at
	// most), the same session works; the throttle is not waited for here,
	// so a failed first fetch must not block the next one.
	ci.fake.SetJWKSDown(false)
	mustBeSignedIn(t, b, "fay@example.com")
}
