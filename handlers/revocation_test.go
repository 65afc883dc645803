package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
)

// memberPassword is the password of every account these tests create.
const memberPassword = "correct horse battery"

// User agents of three real browsers, so sessions can be told apart.
const (
	firefoxOnLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chromeOnWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariOnIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// mustMember creates a user with memberPassword and signs them in on a new
// browser.
func mustMember(t *testing.T, inst *apptest.Instance, email string) (accounts.User, *apptest.Browser) {
	t.Helper()
	u, err := inst.App.Accounts.CreateUser(context.Background(), accounts.SignUpInput{Email: email, Password: memberPassword}, false)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u, mustSignedIn(t, inst, email)
}

// mustSignedIn signs email in on a new browser.
func mustSignedIn(t *testing.T, inst *apptest.Instance, email string) *apptest.Browser {
	t.Helper()
	b := inst.NewBrowser(t)
	b.MustSignIn(email, memberPassword)
	return b
}

// mustSignedOut asserts that b's session no longer lets it in.
func mustSignedOut(t *testing.T, b *apptest.Browser, who string) {
	t.Helper()
	if r := b.Get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("%s: GET / answered %d %s, want a redirect to sign in", who, r.Status, r.Header.Get("Location"))
	}
}

// mustStillSignedIn asserts that b's session still lets it in.
func mustStillSignedIn(t *testing.T, b *apptest.Browser, who string) {
	t.Helper()
	if r := b.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("%s: GET / answered %d %s, want the home page", who, r.Status, r.Header.Get("Location"))
	}
}

func sessionCookie(t *testing.T, inst *apptest.Instance, b *apptest.Browser) string {
	t.Helper()
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == "sp_session" {
			return c.Value
		}
	}
	return ""
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	_, here := mustMember(t, inst, "pw-change@example.com")
	elsewhere := mustSignedIn(t, inst, "pw-change@example.com")
	_, bystander := mustMember(t, inst, "bystander@example.com")

	here.Get("/settings")
	before := sessionCookie(t, inst, here)
	const newPassword = "a much better passphrase"
	r := here.Send(http.MethodPost, "/settings/password", url.Values{"current_password": {memberPassword}, "new_password": {newPassword}}, true)
	if r.Status != http.StatusOK || r.TestID("password-changed").Length() != 1 {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	mustSignedOut(t, elsewhere, "the other session")
	mustStillSignedIn(t, here, "the session that changed the password")
	if after := sessionCookie(t, inst, here); after == before || after == "" {
		t.Errorf("the session that changed the password kept its token")
	}
	mustStillSignedIn(t, bystander, "another user's session")
	elsewhere.MustSignIn("pw-change@example.com", newPassword)
	mustStillSignedIn(t, elsewhere, "a new sign-in with the new password")
}

// sessionRows returns the settings page's session rows by device.
func sessionRows(t *testing.T, r *apptest.Response) map[string]*goquery.Selection {
	t.Helper()
	rows := map[string]*goquery.Selection{}
	r.TestID("session-row").Each(func(_ int, row *goquery.Selection) {
		rows[strings.TrimSpace(byTestID(row, "session-device").Text())] = row
	})
	return rows
}

func TestSettingsListsSessionsAndEndsThem(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	const email = "devices@example.com"
	if _, err := inst.App.Accounts.CreateUser(context.Background(), accounts.SignUpInput{Email: email, Password: memberPassword}, false); err != nil {
		t.Fatal(err)
	}
	browsers := map[string]*apptest.Browser{}
	for device, ua := range map[string]string{
		"Firefox 128 on Linux": firefoxOnLinux, "Chrome 131 on Windows": chromeOnWindows, "Safari 17 on iOS": safariOnIPhone,
	} {
		b := inst.NewBrowser(t)
		b.UserAgent = ua
		b.MustSignIn(email, memberPassword)
		browsers[device] = b
	}
	here := browsers["Firefox 128 on Linux"]
	_, stranger := mustMember(t, inst, "stranger@example.com")

	page := here.Get("/settings")
	rows := sessionRows(t, page)
	if len(rows) != 3 {
		t.Fatalf("%d session rows %v, want 3: %s", len(rows), slices.Sorted(mapKeys(rows)), page.TestID("sessions-card").Text())
	}
	for device, row := range rows {
		current := byTestID(row, "session-current").Length() == 1
		if current != (device == "Firefox 128 on Linux") {
			t.Errorf("%s: marked as this device = %v", device, current)
		}
		if ip := strings.TrimSpace(byTestID(row, "session-ip").Text()); ip != "127.0.0.1" {
			t.Errorf("%s: IP %q", device, ip)
		}
		for _, field := range []string{"session-started", "session-last-seen"} {
			if _, ok := byTestID(row, field).Find("time").Attr("datetime"); !ok {
				t.Errorf("%s: no %s time", device, field)
			}
		}
		if got := byTestID(row, "session-end").Length() == 1; got == current {
			t.Errorf("%s: sign-out button shown = %v", device, got)
		}
	}

	// One session signed out from the list.
	id, _ := rows["Safari 17 on iOS"].Attr("data-session-id")
	r := here.Send(http.MethodDelete, "/settings/sessions/"+id, nil, true)
	if r.Status != http.StatusOK || r.TestID("session-row").Length() != 2 {
		t.Fatalf("sign out one session: %d, %d rows left", r.Status, r.TestID("session-row").Length())
	}
	mustSignedOut(t, browsers["Safari 17 on iOS"], "the session signed out from the list")
	mustStillSignedIn(t, browsers["Chrome 131 on Windows"], "a session not signed out")

	// Someone else's session is not found, and goes on.
	strangerID, _ := stranger.Get("/settings").TestID("session-row").Attr("data-session-id")
	if r := here.Send(http.MethodDelete, "/settings/sessions/"+strangerID, nil, true); r.Status != http.StatusNotFound {
		t.Errorf("ending another user's session: %d, want 404", r.Status)
	}
	if r := here.Send(http.MethodDelete, "/settings/sessions/not-an-id", nil, true); r.Status != http.StatusNotFound {
		t.Errorf("ending a malformed session id: %d, want 404", r.Status)
	}
	mustStillSignedIn(t, stranger, "another user's session")

	// Everywhere else, through the plain form.
	here.Get("/settings")
	r = here.PostForm("/settings/sessions/sign-out-others", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/settings" {
		t.Fatalf("sign out everywhere else: %d %s", r.Status, r.Header.Get("Location"))
	}
	page = here.Get("/settings")
	if rows := sessionRows(t, page); len(rows) != 1 || rows["Firefox 128 on Linux"] == nil {
		t.Errorf("sessions left %v, want only this device", slices.Sorted(mapKeys(rows)))
	}
	if got := page.TestID("flashes").Text(); !strings.Contains(got, "Signed out 1 other session.") {
		t.Errorf("flash after signing out elsewhere: %q", got)
	}
	mustSignedOut(t, browsers["Chrome 131 on Windows"], "a session signed out everywhere else")
	mustStillSignedIn(t, here, "the session that signed out the others")
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestDisablingRevokesAPITokensForGood(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	admin := inst.NewBrowser(t)
	admin.MustSignUp("admin@example.com", memberPassword)
	api := newAPIClient(t, inst)
	u, secret := MustUserWithToken(t, inst, "tokens@example.com", false, accounts.ScopeRead)
	me := func(token string) int {
		return api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/me", token: token}).Status
	}
	if got := me(secret); got != http.StatusOK {
		t.Fatalf("before disabling: %d", got)
	}
	setDisabled := func(disabled string) {
		t.Helper()
		admin.Get("/admin/users")
		if r := admin.Send(http.MethodPost, "/admin/users/"+u.ID+"/disabled", url.Values{"disabled": {disabled}}, true); r.Status != http.StatusOK {
			t.Fatalf("disabled=%s: %d", disabled, r.Status)
		}
	}
	setDisabled("true")
	if got := me(secret); got != http.StatusUnauthorized {
		t.Fatalf("while disabled: %d", got)
	}
	setDisabled("false")
	if got := me(secret); got != http.StatusUnauthorized {
		t.Fatalf("after re-enabling: the old token answered %d, want 401", got)
	}
	if tokens, err := inst.App.Accounts.ListTokens(context.Background(), u.ID); err != nil || len(tokens) != 0 {
		t.Errorf("tokens listed after re-enabling: %v %v", tokens, err)
	}
	if got := me(MustToken(t, inst, u, accounts.TokenInput{Name: "new", Scopes: []accounts.Scope{accounts.ScopeRead}})); got != http.StatusOK {
		t.Errorf("a token made after re-enabling: %d", got)
	}
	log, err := inst.App.Accounts.AuditLog(context.Background(), u.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(log, func(e accounts.AuditEntry) bool { return e.Action == "user.credentials_revoked" })
	if i < 0 || log[i].After["api_tokens"] != float64(1) || log[i].ActorEmail != "admin@example.com" {
		t.Errorf("no audit entry for the revoked token: %+v", log)
	}
}
