package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/scratchpad/scratchpad/internal/apptest"
)

const settingsPassword = "correct horse battery"

func TestSettingsPageShowsCards(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	admin := inst.NewBrowser(t)
	admin.MustSignUp("admin@example.com", settingsPassword)
	user := inst.NewBrowser(t)
	user.MustSignUp("user@example.com", settingsPassword)

	cases := []struct {
		name       string
		b          *apptest.Browser
		email      string
		adminScope bool
	}{
		{"admin", admin, "admin@example.com", true},
		{"non-admin", user, "user@example.com", false},
	}
	for _, tc := range cases {
		r := tc.b.Get("/settings")
		if r.Status != http.StatusOK {
			t.Fatalf("%s: GET /settings: %d", tc.name, r.Status)
		}
		if v, _ := r.TestID("profile-email").Attr("value"); v != tc.email {
			t.Errorf("%s: email shown %q", tc.name, v)
		}
		if r.TestID("password-card").Find(`input[name="current_password"]`).Length() != 1 {
			t.Errorf("%s: password form missing", tc.name)
		}
		if r.Doc.Find(`nav a[href="/settings"][aria-current="page"]`).Length() != 1 {
			t.Errorf("%s: settings nav item not active", tc.name)
		}
		for _, scope := range []string{"read", "write", "publish"} {
			if r.TestID("scope-"+scope).Length() != 1 {
				t.Errorf("%s: no %s checkbox", tc.name, scope)
			}
		}
		if got := r.TestID("scope-admin").Length() == 1; got != tc.adminScope {
			t.Errorf("%s: admin checkbox shown = %v, want %v", tc.name, got, tc.adminScope)
		}
		if r.TestID("token-empty").Length() != 1 || r.TestID("token-row").Length() != 0 {
			t.Errorf("%s: a new account should have no tokens", tc.name)
		}
	}
}

func TestSettingsUpdateProfile(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("profile@example.com", settingsPassword)
	b.Get("/settings")

	cases := []struct {
		name, value string
		htmx        bool
		status      int
		wantName    string // stored afterwards
		wantError   bool
	}{
		{"htmx", "Ada Lovelace", true, http.StatusOK, "Ada Lovelace", false},
		{"plain form", "  Grace Hopper  ", false, http.StatusSeeOther, "Grace Hopper", false},
		{"too long, htmx", strings.Repeat("x", 101), true, http.StatusUnprocessableEntity, "Grace Hopper", true},
		{"too long, plain form", strings.Repeat("x", 101), false, http.StatusUnprocessableEntity, "Grace Hopper", true},
	}
	for _, tc := range cases {
		r := b.Send(http.MethodPost, "/settings/profile", url.Values{"name": {tc.value}}, tc.htmx)
		if r.Status != tc.status {
			t.Fatalf("%s: status %d", tc.name, r.Status)
		}
		isPage := r.Doc.Find("header.app-header").Length() == 1
		switch {
		case tc.htmx && (isPage || r.TestID("profile-card").Length() != 1):
			t.Errorf("%s: htmx should get the profile card alone", tc.name)
		case tc.htmx && !tc.wantError && r.TestID("profile-saved").Length() != 1:
			t.Errorf("%s: no success note", tc.name)
		case !tc.htmx && !tc.wantError && r.Header.Get("Location") != "/settings":
			t.Errorf("%s: plain form should redirect to /settings, got %q", tc.name, r.Header.Get("Location"))
		case !tc.htmx && tc.wantError && !isPage:
			t.Errorf("%s: plain form error should be the whole page", tc.name)
		}
		if tc.wantError && r.TestID("error-name").Length() != 1 {
			t.Errorf("%s: no field error for name", tc.name)
		}
		page := b.Get("/settings")
		if v, _ := page.TestID("profile-name").Attr("value"); v != tc.wantName {
			t.Errorf("%s: stored name %q, want %q", tc.name, v, tc.wantName)
		}
		if !tc.htmx && !tc.wantError && !strings.Contains(page.TestID("flashes").Text(), "Profile saved") {
			t.Errorf("%s: no flash after redirect", tc.name)
		}
	}
}

func TestSettingsChangePassword(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("pw@example.com", settingsPassword)
	b.Get("/settings")

	const newPassword = "a much better passphrase"
	failures := []struct {
		name, current, next, field string
	}{
		{"wrong current password", "not my password", newPassword, "current_password"},
		{"weak new password", settingsPassword, "short", "new_password"},
	}
	for _, tc := range failures {
		r := b.Send(http.MethodPost, "/settings/password", url.Values{"current_password": {tc.current}, "new_password": {tc.next}}, true)
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", tc.name, r.Status)
		}
		if r.TestID("error-"+tc.field).Length() != 1 || r.TestID("form-error").Length() != 1 {
			t.Errorf("%s: errors not shown: %q", tc.name, r.TestID("password-card").Text())
		}
		if r.TestID("password-changed").Length() != 0 {
			t.Errorf("%s: claims success", tc.name)
		}
	}
	if r := b.Send(http.MethodPost, "/settings/password", url.Values{"current_password": {"nope nope nope"}, "new_password": {newPassword}}, true); !strings.Contains(r.TestID("form-error").Text(), "current password is not correct") {
		t.Errorf("wrong current password message: %q", r.TestID("form-error").Text())
	}

	r := b.Send(http.MethodPost, "/settings/password", url.Values{"current_password": {settingsPassword}, "new_password": {newPassword}}, true)
	if r.Status != http.StatusOK || !strings.Contains(r.TestID("password-changed").Text(), "Password changed") {
		t.Fatalf("change password: %d %q", r.Status, r.Body)
	}
	if r := b.Get("/settings"); r.Status != http.StatusOK {
		t.Fatalf("still signed in after the change: %d", r.Status)
	}

	fresh := inst.NewBrowser(t)
	fresh.Get("/signin")
	if r := fresh.PostForm("/signin", url.Values{"email": {"pw@example.com"}, "password": {settingsPassword}}); r.Status != http.StatusUnauthorized {
		t.Errorf("old password still signs in: %d", r.Status)
	}
	fresh.MustSignIn("pw@example.com", newPassword)
}

func TestSettingsPasswordPlainForm(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("plainpw@example.com", settingsPassword)
	b.Get("/settings")

	r := b.PostForm("/settings/password", url.Values{"current_password": {"wrong wrong wrong"}, "new_password": {"another fine passphrase"}})
	if r.Status != http.StatusUnprocessableEntity || r.TestID("settings").Length() != 1 || r.TestID("error-current_password").Length() != 1 {
		t.Fatalf("plain wrong password: %d", r.Status)
	}
	r = b.PostForm("/settings/password", url.Values{"current_password": {settingsPassword}, "new_password": {"another fine passphrase"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/settings" {
		t.Fatalf("plain change: %d %q", r.Status, r.Header.Get("Location"))
	}
	if !strings.Contains(b.Get("/settings").TestID("flashes").Text(), "Password changed") {
		t.Error("no flash after the change")
	}
}

func TestSettingsCreateAndRevokeToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("tokens@example.com", settingsPassword)
	b.Get("/settings")

	const hostile = `<script>alert("x")</script> nightly`
	r := b.Send(http.MethodPost, "/settings/tokens", url.Values{
		"name": {hostile}, "scopes": {"read", "write"}, "expires_in": {"30d"},
	}, true)
	if r.Status != http.StatusOK {
		t.Fatalf("create token: %d %s", r.Status, r.Body)
	}
	secret := strings.TrimSpace(r.TestID("token-secret").Text())
	if !strings.HasPrefix(secret, "sp_") || r.Doc.Find(".token-reveal .copy-btn[data-copy-target]").Length() != 1 {
		t.Fatalf("secret not revealed with a copy button: %q", secret)
	}
	if !strings.Contains(r.TestID("token-created").Text(), "not be shown again") {
		t.Error("no warning that the secret is shown once")
	}
	row := mustOneTokenRow(t, r)
	if got := row.Find(`[data-testid="token-name"]`).Text(); got != hostile {
		t.Errorf("name %q", got)
	}
	if r.Doc.Find("script").Length() != 0 {
		t.Error("a token name became markup")
	}
	if got, want := row.Find(`[data-testid="token-prefix"]`).Text(), secret[:9]+"…"; got != want {
		t.Errorf("prefix %q, want %q", got, want)
	}
	if got := row.Find(`[data-testid="token-scope"]`).Map(func(_ int, s *goquery.Selection) string { return s.Text() }); strings.Join(got, ",") != "read,write" {
		t.Errorf("scopes %v", got)
	}
	if strings.TrimSpace(row.Find(`[data-testid="token-last-used"]`).Text()) != "never" {
		t.Errorf("last used: %q", row.Find(`[data-testid="token-last-used"]`).Text())
	}
	expires, _ := row.Find(`[data-testid="token-expires"] time`).Attr("datetime")
	if at, err := time.Parse(time.RFC3339, expires); err != nil || at.Sub(time.Now()) < 29*24*time.Hour || at.Sub(time.Now()) > 31*24*time.Hour {
		t.Errorf("expires datetime %q (%v)", expires, err)
	}

	// The secret is shown once: a reload lists the token but not the secret.
	page := b.Get("/settings")
	if strings.Contains(page.Body, secret) || page.TestID("token-secret").Length() != 0 {
		t.Fatal("the secret is shown again after a reload")
	}
	mustOneTokenRow(t, page)

	// The token authenticates, and its use is then listed.
	u, tok, err := inst.App.Accounts.AuthenticateToken(ctx, secret)
	if err != nil || u.Email != "tokens@example.com" || !tok.Has("write") {
		t.Fatalf("authenticate token: %v %v", err, tok)
	}
	if mustOneTokenRow(t, b.Get("/settings")).Find(`[data-testid="token-last-used"] time`).Length() != 1 {
		t.Error("last use not shown")
	}

	id, _ := row.Attr("data-token-id")
	r = b.Send(http.MethodDelete, "/settings/tokens/"+id, nil, true)
	if r.Status != http.StatusOK || r.TestID("token-list").Length() != 1 || r.TestID("token-row").Length() != 0 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if _, _, err := inst.App.Accounts.AuthenticateToken(ctx, secret); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
	if b.Get("/settings").TestID("token-row").Length() != 0 {
		t.Error("revoked token still listed")
	}
	if r := b.Send(http.MethodDelete, "/settings/tokens/"+id, nil, true); r.Status != http.StatusNotFound {
		t.Errorf("revoking twice: %d", r.Status)
	}
}

func TestSettingsCreateTokenPlainForm(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("plaintoken@example.com", settingsPassword)
	b.Get("/settings")

	r := b.PostForm("/settings/tokens", url.Values{"name": {"cli"}, "scopes": {"read"}, "expires_in": {"never"}})
	if r.Status != http.StatusOK || r.TestID("settings").Length() != 1 {
		t.Fatalf("plain create: %d", r.Status)
	}
	secret := r.TestID("token-secret").Text()
	if _, _, err := inst.App.Accounts.AuthenticateToken(context.Background(), secret); err != nil {
		t.Fatalf("plain-form token does not authenticate: %v", err)
	}
	row := mustOneTokenRow(t, r)
	if strings.TrimSpace(row.Find(`[data-testid="token-expires"]`).Text()) != "never" {
		t.Errorf("expiry: %q", row.Find(`[data-testid="token-expires"]`).Text())
	}
}

func TestSettingsCreateTokenValidation(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	admin := inst.NewBrowser(t)
	admin.MustSignUp("admin@example.com", settingsPassword)
	user := inst.NewBrowser(t)
	user.MustSignUp("user@example.com", settingsPassword)
	user.Get("/settings")
	admin.Get("/settings")

	cases := []struct {
		name   string
		b      *apptest.Browser
		form   url.Values
		status int
		field  string // the field error shown, or "" for a form error only
	}{
		{"no name", user, url.Values{"name": {"  "}, "scopes": {"read"}}, http.StatusUnprocessableEntity, "name"},
		{"no scope", user, url.Values{"name": {"x"}}, http.StatusUnprocessableEntity, "scopes"},
		{"unknown scope", user, url.Values{"name": {"x"}, "scopes": {"root"}}, http.StatusUnprocessableEntity, "scopes"},
		{"unknown expiry", user, url.Values{"name": {"x"}, "scopes": {"read"}, "expires_in": {"forever"}}, http.StatusUnprocessableEntity, "expires_in"},
		{"admin scope by a non-admin", user, url.Values{"name": {"x"}, "scopes": {"read", "admin"}}, http.StatusForbidden, ""},
	}
	for _, tc := range cases {
		r := tc.b.Send(http.MethodPost, "/settings/tokens", tc.form, true)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.Status, tc.status)
		}
		if r.TestID("tokens-card").Length() != 1 || r.TestID("form-error").Length() != 1 {
			t.Errorf("%s: error not shown in the token card: %s", tc.name, r.Body)
		}
		if tc.field != "" && r.TestID("error-"+tc.field).Length() != 1 {
			t.Errorf("%s: no field error for %s", tc.name, tc.field)
		}
		if r.TestID("token-secret").Length() != 0 {
			t.Errorf("%s: a token was created", tc.name)
		}
	}
	if got := user.Get("/settings").TestID("token-row").Length(); got != 0 {
		t.Errorf("failed creates left %d tokens", got)
	}

	// An admin may grant the admin scope.
	r := admin.Send(http.MethodPost, "/settings/tokens", url.Values{"name": {"ops"}, "scopes": {"admin"}}, true)
	if r.Status != http.StatusOK || r.TestID("token-secret").Length() != 1 {
		t.Fatalf("admin token: %d", r.Status)
	}
}

func TestSettingsRevokeOtherUsersToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := apptest.MustStart(t, apptest.Options{})
	owner := inst.NewBrowser(t)
	owner.MustSignUp("owner@example.com", settingsPassword)
	owner.Get("/settings")
	r := owner.Send(http.MethodPost, "/settings/tokens", url.Values{"name": {"mine"}, "scopes": {"read"}}, true)
	secret := r.TestID("token-secret").Text()
	id, _ := mustOneTokenRow(t, r).Attr("data-token-id")

	other := inst.NewBrowser(t)
	other.MustSignUp("other@example.com", settingsPassword)
	other.Get("/settings")
	for _, path := range []string{"/settings/tokens/" + id, "/settings/tokens/not-a-uuid"} {
		if r := other.Send(http.MethodDelete, path, nil, true); r.Status != http.StatusNotFound {
			t.Errorf("DELETE %s by another user: %d", path, r.Status)
		}
	}
	if _, _, err := inst.App.Accounts.AuthenticateToken(ctx, secret); err != nil {
		t.Fatalf("the owner's token stopped working: %v", err)
	}
}

func TestSettingsShowsExpiredTokens(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("expired@example.com", settingsPassword)
	b.Get("/settings")
	r := b.Send(http.MethodPost, "/settings/tokens", url.Values{"name": {"old"}, "scopes": {"read"}, "expires_in": {"7d"}}, true)
	id, _ := mustOneTokenRow(t, r).Attr("data-token-id")
	if r.TestID("token-expired").Length() != 0 {
		t.Fatal("a fresh token is marked expired")
	}

	// Only time can expire a token; move its expiry into the past.
	if _, err := inst.Pool.Exec(context.Background(), `UPDATE api_tokens SET expires_at = now() - interval '1 hour' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if mustOneTokenRow(t, b.Get("/settings")).Find(`[data-testid="token-expired"]`).Length() != 1 {
		t.Error("no expired badge")
	}
}

// mustOneTokenRow returns the only token row in r.
func mustOneTokenRow(t testing.TB, r *apptest.Response) *goquery.Selection {
	t.Helper()
	rows := r.TestID("token-list").Find(`tr[data-testid="token-row"]`)
	if rows.Length() != 1 {
		t.Fatalf("want one token row, got %d", rows.Length())
	}
	return rows
}
