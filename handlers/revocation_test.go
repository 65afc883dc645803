package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
)

// streamEndTimeout bounds how long a stream may outlive its credentials in
// these tests. It is far below the broker's periodic re-check (a minute), so
// only a prompt end passes.
const streamEndTimeout = 5 * time.Second

// memberPassword is the password of every account these tests create.
const memberPassword = "correct horse battery"

// User agents of three real browsers, so sessions can be told apart.
const (
	firefoxOnLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chromeOnWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	safariOnIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// mustOpenStream opens the event stream at path, authenticated by br's
// cookies or, when br is nil, by the API token bearer, and reads it in the
// background until it ends or the test does.
func mustOpenStream(t *testing.T, base string, br *apptest.Browser, bearer, path string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	client := &http.Client{}
	if br != nil {
		client.Jar = br.Client.Jar
	} else {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	s := &eventStream{header: resp.Header, events: make(chan sseEvent, 16), done: make(chan error, 1)}
	go s.read(ctx, resp.Body)
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-s.done
	})
	return s
}

// mustEnd waits until the server ends the stream.
func (s *eventStream) mustEnd(t *testing.T, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case <-s.events: // what arrived before the end does not matter here
		case err := <-s.done:
			s.done <- err // for the cleanup
			return
		case <-timeout:
			t.Fatalf("the stream was still open %s after its credentials ended", within)
		}
	}
}

// mustBeOpen fails if the stream has ended.
func (s *eventStream) mustBeOpen(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		t.Fatalf("a stream whose credentials are still good ended: %v", err)
	default:
	}
}

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
		b.Header = http.Header{"User-Agent": {ua}}
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

// Every kind of event stream ends, promptly, when what it was opened with
// ends: its API token, its browser session, its user's account.
func TestStreamsEndWithTheirCredentials(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	admin := inst.NewBrowser(t)
	admin.MustSignUp("admin@example.com", memberPassword) // the first account: an admin
	ctx := context.Background()

	// workbookOf gives u a workbook to stream.
	workbookOf := func(t *testing.T, u accounts.User) string {
		t.Helper()
		wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Live")
		if err != nil {
			t.Fatal(err)
		}
		return wb.ID
	}
	tokenOf := func(t *testing.T, u accounts.User, expiresIn time.Duration) (accounts.Token, string) {
		t.Helper()
		tok, secret, err := inst.App.Accounts.CreateToken(ctx, u, accounts.TokenInput{Name: "stream", Scopes: []accounts.Scope{accounts.ScopeRead}, ExpiresIn: expiresIn})
		if err != nil {
			t.Fatal(err)
		}
		return tok, secret
	}
	apiStream := func(wbID string) string { return "/api/v1/workbooks/" + wbID + "/events" }

	t.Run("API token revoked", func(t *testing.T) {
		t.Parallel()
		u, b := mustMember(t, inst, "revoked@example.com")
		tok, secret := tokenOf(t, u, 0)
		_, other := tokenOf(t, u, 0)
		wb := workbookOf(t, u)
		stream := mustOpenStream(t, inst.URL, nil, secret, apiStream(wb))
		otherStream := mustOpenStream(t, inst.URL, nil, other, apiStream(wb))
		b.Get("/settings")
		if r := b.Send(http.MethodDelete, "/settings/tokens/"+tok.ID, nil, true); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d", r.Status)
		}
		stream.mustEnd(t, streamEndTimeout)
		otherStream.mustBeOpen(t)
	})

	t.Run("API token expired", func(t *testing.T) {
		t.Parallel()
		u, _ := mustMember(t, inst, "expiring@example.com")
		const lifetime = 2 * time.Second
		_, secret := tokenOf(t, u, lifetime)
		stream := mustOpenStream(t, inst.URL, nil, secret, apiStream(workbookOf(t, u)))
		stream.mustEnd(t, lifetime+streamEndTimeout)
	})

	t.Run("signed out", func(t *testing.T) {
		t.Parallel()
		u, here := mustMember(t, inst, "signout@example.com")
		elsewhere := mustSignedIn(t, inst, "signout@example.com")
		wb := workbookOf(t, u)
		stream := mustOpenStream(t, inst.URL, here, "", "/events")
		grid := mustOpenStream(t, inst.URL, here, "", "/workbooks/"+wb+"/events")
		otherStream := mustOpenStream(t, inst.URL, elsewhere, "", "/events")
		here.Get("/")
		if r := here.PostForm("/signout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", r.Status)
		}
		stream.mustEnd(t, streamEndTimeout)
		grid.mustEnd(t, streamEndTimeout)
		otherStream.mustBeOpen(t)
	})

	t.Run("password changed elsewhere", func(t *testing.T) {
		t.Parallel()
		_, here := mustMember(t, inst, "password@example.com")
		elsewhere := mustSignedIn(t, inst, "password@example.com")
		stream := mustOpenStream(t, inst.URL, elsewhere, "", "/events")
		here.Get("/settings")
		r := here.Send(http.MethodPost, "/settings/password", url.Values{"current_password": {memberPassword}, "new_password": {"a much better passphrase"}}, true)
		if r.Status != http.StatusOK {
			t.Fatalf("change password: %d", r.Status)
		}
		stream.mustEnd(t, streamEndTimeout)
	})

	t.Run("signed out everywhere else", func(t *testing.T) {
		t.Parallel()
		_, here := mustMember(t, inst, "everywhere@example.com")
		elsewhere := mustSignedIn(t, inst, "everywhere@example.com")
		stream := mustOpenStream(t, inst.URL, elsewhere, "", "/events")
		ownStream := mustOpenStream(t, inst.URL, here, "", "/events")
		here.Get("/settings")
		if r := here.Send(http.MethodPost, "/settings/sessions/sign-out-others", nil, true); r.Status != http.StatusOK {
			t.Fatalf("sign out everywhere else: %d", r.Status)
		}
		stream.mustEnd(t, streamEndTimeout)
		ownStream.mustBeOpen(t)
	})

	t.Run("user disabled", func(t *testing.T) {
		t.Parallel()
		u, b := mustMember(t, inst, "disabled@example.com")
		_, secret := tokenOf(t, u, 0)
		wb := workbookOf(t, u)
		browserStream := mustOpenStream(t, inst.URL, b, "", "/workbooks/"+wb+"/events")
		apiStream := mustOpenStream(t, inst.URL, nil, secret, apiStream(wb))
		admin.Get("/admin/users")
		if r := admin.Send(http.MethodPost, "/admin/users/"+u.ID+"/disabled", url.Values{"disabled": {"true"}}, true); r.Status != http.StatusOK {
			t.Fatalf("disable: %d", r.Status)
		}
		browserStream.mustEnd(t, streamEndTimeout)
		apiStream.mustEnd(t, streamEndTimeout)
	})
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
