package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/browsertest"
)

// These tests run in headless Chromium (internal/browsertest): they prove
// that htmx, the SSE extension and our scripts work under the app's CSP. Any
// JavaScript exception or CSP violation on a page fails them.

// TestBrowserAdminChangesRoleLive is the admin story end to end: the first
// person to sign up is an admin, changes another person's role from the user
// list without a page load, and that person sees a toast arrive live.
func TestBrowserAdminChangesRoleLive(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	admin := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, admin, inst.URL, "admin@example.com", "correct horse battery")

	member := browsertest.MustIsolatedTab(t, admin)
	mustSignUpInBrowser(t, member, inst.URL, "member@example.com", "another good password")

	row := `tr[data-testid="user-row"][data-user-email="member@example.com"]`
	browsertest.MustDo(t, admin, chromedp.Navigate(inst.URL+"/admin/users"))
	browsertest.WaitText(t, admin, row+` [data-testid="role-badge"]`, "user")
	// Both people's pages hold an event stream: the member's from home,
	// the admin's from this page.
	mustWaitSubscribers(t, inst, 2)

	// A page load would reset this marker; an htmx swap keeps it.
	browsertest.MustEval[int](t, admin, `window.__marker = 1`)
	browsertest.MustDo(t, admin,
		chromedp.SetValue(chromedp.CSS(row+` select[data-testid="role-select"]`), "admin"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+row+` select[data-testid="role-select"]').dispatchEvent(new Event("change", {bubbles: true}))`),
	)
	browsertest.WaitText(t, admin, row+` [data-testid="role-badge"]`, "admin")
	if !browsertest.MustEval[bool](t, admin, `window.__marker === 1 && location.pathname === "/admin/users"`) {
		t.Fatal("changing the role reloaded or left the page; it must swap the row in place")
	}
	if u, err := inst.App.Accounts.FindUserByEmail(context.Background(), "member@example.com"); err != nil || u.Role != accounts.RoleAdmin {
		t.Fatalf("member after the change: role %q, err %v", u.Role, err)
	}

	// ChangeRole → NOTIFY → listener → broker → SSE → htmx swap.
	browsertest.WaitText(t, member, `#toasts [data-testid="toast"]`, "Your role is now admin")
}

// TestBrowserSignedInPageShowsLiveToasts checks the live channel alone: a
// role change made elsewhere (here the domain service, as a second instance
// or the API would) reaches an open page as a toast without a reload.
func TestBrowserSignedInPageShowsLiveToasts(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	// The first account becomes the admin, so it is made before the
	// browser's.
	admin, err := inst.App.Accounts.SignUp(ctx, accounts.SignUpInput{Email: "boss@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	tab := browsertest.MustBrowser(t)
	mustSignUpInBrowser(t, tab, inst.URL, "worker@example.com", "another good password")
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('#live[hx-ext="sse"][sse-connect="/events"] #toasts[sse-swap="toast"]').length`); n != 1 {
		t.Fatalf("signed-in page must subscribe #toasts to /events, found %d", n)
	}
	mustWaitSubscribers(t, inst, 1)

	worker, err := inst.App.Accounts.FindUserByEmail(ctx, "worker@example.com")
	if err != nil {
		t.Fatal(err)
	}
	browsertest.MustEval[int](t, tab, `window.__marker = 1`)
	if _, err := inst.App.Accounts.ChangeRole(ctx, admin.ID, worker.ID, accounts.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, tab, `#toasts [data-testid="toast"]`, "Your role is now admin")
	if !browsertest.MustEval[bool](t, tab, `window.__marker === 1`) {
		t.Fatal("the toast must arrive without a page load")
	}
}

// mustSignedInTab starts the app with opts, opens a 1440×900 tab that
// accepts the pages' confirmation dialogs, and signs email up in it.
func mustSignedInTab(t testing.TB, opts apptest.Options, email string) (*apptest.Instance, context.Context, accounts.User) {
	t.Helper()
	inst := apptest.MustStart(t, opts)
	tab := browsertest.MustBrowser(t)
	browsertest.MustDo(t, tab, chromedp.EmulateViewport(1440, 900))
	acceptDialogs(t, tab)
	mustSignUpInBrowser(t, tab, inst.URL, email, gridPassword)
	return inst, tab, mustFindUser(t, inst, email)
}

// mustSignUpInBrowser creates an account through the sign-up form and waits
// for the home page.
func mustSignUpInBrowser(t testing.TB, tab context.Context, base, email, password string) {
	t.Helper()
	browsertest.MustDo(t, tab,
		chromedp.Navigate(base+"/signup"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`[data-testid="signup-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="home-title"]`)),
	)
	if path := browsertest.MustEval[string](t, tab, `location.pathname`); path != "/" {
		t.Fatalf("after sign-up the browser is on %q, want /", path)
	}
}

// mustWaitSubscribers waits until inst has at least n open event streams, so
// that an event sent next reaches the pages.
func mustWaitSubscribers(t *testing.T, inst *apptest.Instance, n int) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for inst.App.Broker.Subscribers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d event streams open after %s, want %d", inst.App.Broker.Subscribers(), browsertest.Timeout, n)
		}
		<-tick.C
	}
}
