package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/jobs"
)

const adminPassword = "correct horse battery"

// mustAdminInstance starts an instance whose first account, signed in on
// the returned browser, is the admin.
func mustAdminInstance(t *testing.T) (*apptest.Instance, *apptest.Browser, accounts.User) {
	t.Helper()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("admin@example.com", adminPassword)
	return inst, b, mustFindUser(t, inst, "admin@example.com")
}

// mustCreateUser adds a plain account without a browser.
func mustCreateUser(t testing.TB, inst *apptest.Instance, email, name string) accounts.User {
	t.Helper()
	u, err := inst.App.Accounts.CreateUser(context.Background(), accounts.SignUpInput{Email: email, Name: name, Password: adminPassword}, false)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

func mustFindUser(t testing.TB, inst *apptest.Instance, email string) accounts.User {
	t.Helper()
	u, err := inst.App.Accounts.FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("find %s: %v", email, err)
	}
	return u
}

// rowFragment parses an htmx response that is a bare table row: outside a
// table an HTML parser would drop the <tr> and <td> elements.
func rowFragment(t testing.TB, r *apptest.Response) *goquery.Selection {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + r.Body + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc.Selection
}

func byTestID(s *goquery.Selection, id string) *goquery.Selection {
	return s.Find(`[data-testid="` + id + `"]`)
}

func rowEmails(r *apptest.Response) []string {
	var out []string
	r.TestID("user-row").Each(func(_ int, s *goquery.Selection) {
		email, _ := s.Attr("data-user-email")
		out = append(out, email)
	})
	return out
}

func TestAdminPagesAreForbiddenToUsers(t *testing.T) {
	t.Parallel()
	inst, _, admin := mustAdminInstance(t)
	user := inst.NewBrowser(t)
	user.MustSignUp("user@example.com", adminPassword)
	user.Get("/")

	cases := []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/admin/users", nil},
		{http.MethodGet, "/admin/users?q=admin", nil},
		{http.MethodGet, "/admin/users/" + admin.ID, nil},
		{http.MethodGet, "/admin/jobs", nil},
		{http.MethodGet, "/admin/usage", nil},
		{http.MethodPost, "/admin/users/" + admin.ID + "/role", url.Values{"role": {"user"}}},
		{http.MethodPost, "/admin/users/" + admin.ID + "/disabled", url.Values{"disabled": {"true"}}},
		{http.MethodPost, "/admin/jobs/1/cancel", nil},
	}
	for _, tc := range cases {
		for _, htmx := range []bool{false, true} {
			var r *apptest.Response
			if tc.method == http.MethodGet && !htmx {
				r = user.Get(tc.path)
			} else {
				r = user.Send(tc.method, tc.path, tc.form, htmx)
			}
			if r.Status != http.StatusForbidden {
				t.Errorf("%s %s (htmx %v): status %d, want 403", tc.method, tc.path, htmx, r.Status)
			}
		}
	}
	if u := mustFindUser(t, inst, admin.Email); u.Role != accounts.RoleAdmin || u.Disabled() {
		t.Fatalf("refused requests changed the admin: role %s, disabled %v", u.Role, u.Disabled())
	}
}

func TestAdminUserSearch(t *testing.T) {
	t.Parallel()
	inst, b, _ := mustAdminInstance(t)
	mustCreateUser(t, inst, "alice@example.org", "Alice Smith")
	mustCreateUser(t, inst, "bob@example.org", "Bob Jones")
	mustCreateUser(t, inst, "carol@example.net", "Carol Smith")

	cases := []struct {
		name, query string
		want        []string
	}{
		{"email substring", "alice", []string{"alice@example.org"}},
		{"domain, any case", "EXAMPLE.ORG", []string{"alice@example.org", "bob@example.org"}},
		{"name", "smith", []string{"alice@example.org", "carol@example.net"}},
		{"no match", "nobody-here", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/admin/users?q=" + url.QueryEscape(tc.query)
			full := b.Get(path)
			if full.Status != http.StatusOK || full.Doc.Find("header.app-header").Length() != 1 {
				t.Fatalf("full page: %d", full.Status)
			}
			if got := rowEmails(full); !sameSet(got, tc.want) {
				t.Errorf("rows %v, want %v", got, tc.want)
			}
			if got := full.TestID("user-total").Text(); got != strconv.Itoa(len(tc.want))+" users" && !(len(tc.want) == 1 && got == "1 user") {
				t.Errorf("total %q for %d matches", got, len(tc.want))
			}
			// The search box asks htmx for the results only.
			frag := b.Send(http.MethodGet, path, nil, true)
			if frag.Status != http.StatusOK || frag.Doc.Find("header.app-header").Length() != 0 || frag.Doc.Find("#user-results").Length() != 1 {
				t.Fatalf("htmx search should return the #user-results fragment: %d", frag.Status)
			}
			if got := rowEmails(frag); !sameSet(got, tc.want) {
				t.Errorf("fragment rows %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAdminUserPaging(t *testing.T) {
	t.Parallel()
	inst, b, _ := mustAdminInstance(t)
	for i := range 5 {
		mustCreateUser(t, inst, "paged"+strconv.Itoa(i)+"@example.com", "")
	}

	seen := map[string]bool{}
	path := "/admin/users?limit=2"
	var pages int
	for path != "" {
		pages++
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := b.Get(path)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		if got := r.TestID("user-total").Text(); got != "6 users" {
			t.Errorf("%s: total %q", path, got)
		}
		if pages > 1 && r.TestID("first-page").Length() != 1 {
			t.Errorf("%s: no first-page link", path)
		}
		emails := rowEmails(r)
		if len(emails) == 0 || len(emails) > 2 {
			t.Fatalf("%s: %d rows with limit 2", path, len(emails))
		}
		for _, e := range emails {
			if seen[e] {
				t.Errorf("%s shown twice", e)
			}
			seen[e] = true
		}
		path, _ = r.TestID("next-page").Attr("href")
	}
	if pages != 3 || len(seen) != 6 {
		t.Fatalf("saw %d users over %d pages, want 6 over 3", len(seen), pages)
	}
	// The limit is capped, not an invitation to dump the table.
	if r := b.Get("/admin/users?limit=100000"); r.Status != http.StatusOK || len(rowEmails(r)) != 6 {
		t.Fatalf("huge limit: %d", r.Status)
	}
}

func TestAdminChangeRoleIsAudited(t *testing.T) {
	t.Parallel()
	inst, b, admin := mustAdminInstance(t)
	bob := mustCreateUser(t, inst, "bob@example.com", "Bob")
	b.Get("/admin/users")

	r := b.Send(http.MethodPost, "/admin/users/"+bob.ID+"/role", url.Values{"role": {"admin"}}, true)
	if r.Status != http.StatusOK {
		t.Fatalf("change role: %d %s", r.Status, r.Body)
	}
	row := byTestID(rowFragment(t, r), "user-row")
	if row.Length() != 1 || row.AttrOr("id", "") != "user-"+bob.ID {
		t.Fatalf("response should be bob's row, got %q", r.Body)
	}
	if got := row.Find(`[data-testid="role-badge"]`).Text(); got != "admin" {
		t.Errorf("role badge %q", got)
	}
	if got := row.Find(`[data-testid="role-select"] option[selected]`).AttrOr("value", ""); got != "admin" {
		t.Errorf("selected role %q", got)
	}
	if u := mustFindUser(t, inst, bob.Email); u.Role != accounts.RoleAdmin {
		t.Fatalf("role in database: %s", u.Role)
	}

	detail := b.Get("/admin/users/" + bob.ID)
	if detail.Status != http.StatusOK || detail.TestID("user-email").Text() != bob.Email {
		t.Fatalf("detail: %d", detail.Status)
	}
	entry := detail.Doc.Find(`[data-testid="audit-entry"][data-action="user.role_changed"]`)
	if entry.Length() != 1 {
		t.Fatalf("audit entries: %d", entry.Length())
	}
	if got := entry.Find(`[data-testid="audit-actor"]`).Text(); got != admin.Email {
		t.Errorf("audit actor %q", got)
	}
	change := entry.Find(`[data-testid="audit-change"]`)
	if before, after := change.Find(".before").Text(), change.Find(".after").Text(); before != "role: user" || after != "role: admin" {
		t.Errorf("audit change %q → %q", before, after)
	}
}

func TestAdminRefusedChanges(t *testing.T) {
	t.Parallel()
	inst, b, admin := mustAdminInstance(t)
	b.Get("/admin/users")

	cases := []struct {
		name    string
		path    string
		form    url.Values
		message string
	}{
		{"demote the last admin", "/role", url.Values{"role": {"user"}}, "last active admin"},
		{"disable yourself", "/disabled", url.Values{"disabled": {"true"}}, "cannot disable your own account"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/admin/users/" + admin.ID + tc.path
			r := b.Send(http.MethodPost, path, tc.form, true)
			if r.Status != http.StatusConflict {
				t.Fatalf("htmx: status %d", r.Status)
			}
			row := byTestID(rowFragment(t, r), "user-row")
			if row.Length() != 1 {
				t.Fatalf("htmx refusal should re-render the row: %q", r.Body)
			}
			if got := byTestID(row, "row-error").Text(); !strings.Contains(got, tc.message) {
				t.Errorf("row error %q, want %q", got, tc.message)
			}
			// The row shows the state that is true, not the one asked for.
			if got := byTestID(row, "role-badge").Text(); got != "admin" {
				t.Errorf("role badge %q", got)
			}
			if got := byTestID(row, "role-select").Find("option[selected]").AttrOr("value", ""); got != "admin" {
				t.Errorf("selected role %q", got)
			}
			if got := byTestID(row, "status-badge").Text(); got != "active" {
				t.Errorf("status badge %q", got)
			}
			if u := mustFindUser(t, inst, admin.Email); u.Role != accounts.RoleAdmin || u.Disabled() {
				t.Fatalf("database changed: role %s, disabled %v", u.Role, u.Disabled())
			}

			// Without JavaScript the form returns to its page with the reason.
			form := url.Values{"next": {"/admin/users"}}
			for k, v := range tc.form {
				form[k] = v
			}
			r = b.PostForm(path, form)
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users" {
				t.Fatalf("plain form: %d %s", r.Status, r.Header.Get("Location"))
			}
			if got := b.Get("/admin/users").TestID("flashes").Text(); !strings.Contains(got, tc.message) {
				t.Errorf("flash %q", got)
			}
		})
	}
}

func TestAdminDisableEndsSessionsAtOnce(t *testing.T) {
	t.Parallel()
	inst, admin, _ := mustAdminInstance(t)
	carol := inst.NewBrowser(t)
	carol.MustSignUp("carol@example.com", adminPassword)
	if r := carol.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("carol signed in: %d", r.Status)
	}
	id := mustFindUser(t, inst, "carol@example.com").ID
	admin.Get("/admin/users")

	r := admin.Send(http.MethodPost, "/admin/users/"+id+"/disabled", url.Values{"disabled": {"true"}}, true)
	row := rowFragment(t, r)
	if r.Status != http.StatusOK || byTestID(row, "status-badge").Text() != "disabled" {
		t.Fatalf("disable: %d %q", r.Status, r.Body)
	}
	if got := strings.TrimSpace(byTestID(row, "toggle-disabled").Text()); got != "Enable" {
		t.Errorf("toggle after disabling says %q", got)
	}
	if r := carol.Get("/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("disabled session: %d %s", r.Status, r.Header.Get("Location"))
	}
	carol.Get("/signin")
	if r := carol.PostForm("/signin", url.Values{"email": {"carol@example.com"}, "password": {adminPassword}}); r.Status != http.StatusForbidden {
		t.Fatalf("disabled sign-in: %d", r.Status)
	}

	// Re-enabling through the plain form on the detail page.
	admin.Get("/admin/users/" + id)
	r = admin.PostForm("/admin/users/"+id+"/disabled", url.Values{"disabled": {"false"}, "next": {"/admin/users/" + id}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users/"+id {
		t.Fatalf("enable: %d %s", r.Status, r.Header.Get("Location"))
	}
	detail := admin.Get("/admin/users/" + id)
	if got := detail.TestID("status-badge").First().Text(); got != "active" {
		t.Errorf("status after enabling %q", got)
	}
	if got := detail.Doc.Find(`[data-testid="audit-entry"][data-action^="user.dis"], [data-testid="audit-entry"][data-action="user.enabled"]`).Length(); got != 2 {
		t.Errorf("%d disable/enable audit entries, want 2", got)
	}
	if got := detail.TestID("flashes").Text(); !strings.Contains(got, "can sign in again") {
		t.Errorf("flash after enabling %q", got)
	}
	carol.MustSignIn("carol@example.com", adminPassword)
	if r := carol.Get("/"); r.Status != http.StatusOK {
		t.Fatalf("re-enabled: %d", r.Status)
	}
}

func TestAdminUserDetailNotFound(t *testing.T) {
	t.Parallel()
	_, b, _ := mustAdminInstance(t)
	for _, id := range []string{"not-a-uuid", "00000000-0000-4000-8000-000000000000"} {
		r := b.Get("/admin/users/" + id)
		if r.Status != http.StatusNotFound || r.TestID("error-page").Length() != 1 {
			t.Errorf("%s: %d", id, r.Status)
		}
	}
}

func TestAdminJobs(t *testing.T) {
	t.Parallel()
	inst, b, _ := mustAdminInstance(t)
	res, err := inst.App.River.Insert(context.Background(), jobs.PurgeExpiredArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(res.Job.ID, 10)
	jobRow := func(s *goquery.Selection) *goquery.Selection {
		return s.Find(`tr[data-testid="job-row"][data-job-id="` + id + `"]`)
	}

	list := b.Get("/admin/jobs")
	row := jobRow(list.Doc.Selection)
	if list.Status != http.StatusOK || row.Length() != 1 {
		t.Fatalf("jobs page: %d, rows for job %s: %d", list.Status, id, row.Length())
	}
	if got := row.Find(`[data-testid="job-state"]`).Text(); got != "scheduled" {
		t.Errorf("state %q", got)
	}
	if row.Find(`[data-testid="cancel-job"]`).Length() != 1 {
		t.Error("a scheduled job should be cancellable")
	}

	filters := []struct {
		state string
		want  int
	}{{"scheduled", 1}, {"completed", 0}}
	for _, f := range filters {
		if got := jobRow(b.Get("/admin/jobs?state=" + f.state).Doc.Selection).Length(); got != f.want {
			t.Errorf("state=%s: %d rows, want %d", f.state, got, f.want)
		}
	}
	if r := b.Get("/admin/jobs?state=bogus"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown state: %d", r.Status)
	}

	r := b.Send(http.MethodPost, "/admin/jobs/"+id+"/cancel", nil, true)
	if r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	row = jobRow(rowFragment(t, r))
	if row.Find(`[data-testid="job-state"]`).Text() != "cancelled" || row.Find(`[data-testid="cancel-job"]`).Length() != 0 {
		t.Fatalf("cancelled row: %q", r.Body)
	}
	cancelled, err := inst.App.Jobs.FindJobs(context.Background(), jobs.JobFilter{State: "cancelled"})
	if err != nil || len(cancelled) != 1 || cancelled[0].ID != res.Job.ID {
		t.Fatalf("cancelled jobs in the database: %v %v", cancelled, err)
	}

	for _, bad := range []string{"abc", "99999999", "1.5"} {
		if r := b.Send(http.MethodPost, "/admin/jobs/"+bad+"/cancel", nil, false); r.Status != http.StatusNotFound {
			t.Errorf("cancel %s: %d", bad, r.Status)
		}
	}
}

func sameSet(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	m := map[string]bool{}
	for _, g := range got {
		m[g] = true
	}
	for _, w := range want {
		if !m[w] {
			return false
		}
	}
	return true
}
