package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/syncs"
)

// TestDataSourcePages drives the data source pages as a browser without
// JavaScript: the add form refuses bad input next to the fields without
// echoing the secret, creates and tests, and every page and action on
// another user's data source is not found. Forms without a CSRF token are
// refused.
func TestDataSourcePages(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	const password = "pw-Pages5Secret"
	srcURL := mustSourceDatabase(t, password)

	b := inst.NewBrowser(t)
	b.MustSignUp("pages-ds@example.com", "correct horse battery")

	r := b.Get("/data-sources/new")
	if n := r.TestID("service-card").Length(); n < 2 {
		t.Fatalf("picker shows %d services", n)
	}
	r = b.Get("/data-sources/new?service=postgres")
	in := r.TestID("cred-connection_string")
	if typ, _ := in.Attr("type"); typ != "password" {
		t.Fatalf("connection string input type %q", typ)
	}
	if help := r.Doc.Find("#help-connection_string").Text(); !strings.Contains(help, "DATABASE_URL") {
		t.Fatalf("help line %q", help)
	}

	// A missing name: refused by field, the secret not sent back.
	r = b.PostForm("/data-sources", url.Values{"service": {"postgres"}, "name": {""}, "cred_connection_string": {srcURL}})
	if r.Status != http.StatusUnprocessableEntity || r.TestID("error-name").Length() != 1 {
		t.Fatalf("status %d, name error %q", r.Status, r.TestID("error-name").Text())
	}
	if strings.Contains(r.Body, password) {
		t.Fatal("the refused form echoes the connection string")
	}
	// A connection string of another kind: refused next to its field.
	r = b.PostForm("/data-sources", url.Values{"service": {"postgres"}, "name": {"Shop"}, "cred_connection_string": {"mysql://x@h/db"}})
	if r.Status != http.StatusUnprocessableEntity || r.TestID("error-credentials.connection_string").Length() != 1 {
		t.Fatalf("status %d, credential error %q: %s", r.Status, r.TestID("error-credentials.connection_string").Text(), r.TestID("form-error").Text())
	}

	r = b.PostForm("/data-sources", url.Values{"service": {"postgres"}, "name": {"Shop"}, "cred_connection_string": {srcURL}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/data-sources/") {
		t.Fatalf("create: status %d, location %q", r.Status, r.Header.Get("Location"))
	}
	page := r.Header.Get("Location")
	r = b.Get(page)
	if h, _ := r.TestID("health-card").Find(`[data-testid="health"]`).Attr("data-health"); h != "ok" {
		t.Fatalf("health after create %q", h)
	}
	if strings.Contains(r.Body, password) {
		t.Fatal("the page shows the connection string")
	}
	if v, ok := r.TestID("cred-connection_string").Attr("value"); ok && v != "" {
		t.Fatalf("the credentials form is filled with %q", v)
	}
	r = b.Get(page + "/tables?search=orders")
	if r.TestID("remote-table").Length() != 1 {
		t.Fatalf("tables matching orders: %s", r.Body)
	}
	r = b.Get("/data-sources")
	if r.TestID("data-source-row").Length() != 1 || !strings.Contains(r.TestID("data-source-service").Text(), "PostgreSQL") {
		t.Fatalf("list: %s", r.TestID("data-source-list").Text())
	}

	// Without the CSRF token, nothing changes.
	req, _ := http.NewRequest(http.MethodPost, inst.URL+page+"/rename", strings.NewReader("name=Gone"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := b.Do(req); r.Status != http.StatusForbidden {
		t.Fatalf("rename without CSRF: status %d", r.Status)
	}

	// Another user finds nothing there.
	other := inst.NewBrowser(t)
	other.MustSignUp("pages-other@example.com", "correct horse battery")
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, page, nil},
		{http.MethodGet, page + "/tables", nil},
		{http.MethodPost, page + "/rename", url.Values{"name": {"Mine"}}},
		{http.MethodPost, page + "/credentials", url.Values{"cred_connection_string": {"postgres://x@127.0.0.1/x"}}},
		{http.MethodPost, page + "/test", nil},
		{http.MethodPost, page + "/delete", nil},
	} {
		var r *apptest.Response
		if c.method == http.MethodGet {
			r = other.Get(c.path)
		} else {
			r = other.PostForm(c.path, c.form)
		}
		if r.Status != http.StatusNotFound {
			t.Fatalf("other user %s %s: status %d", c.method, c.path, r.Status)
		}
	}

	// The owner's test through htmx answers the health card alone.
	r = b.Send(http.MethodPost, page+"/test", nil, true)
	if r.Status != http.StatusOK || r.TestID("health-card").Length() != 1 || strings.Contains(r.Body, "<html") {
		t.Fatalf("htmx test: status %d: %s", r.Status, r.Body)
	}

	r = b.PostForm(page+"/delete", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/data-sources" {
		t.Fatalf("delete: status %d", r.Status)
	}
	if r := b.Get(page); r.Status != http.StatusNotFound {
		t.Fatalf("after delete: status %d", r.Status)
	}
}

// TestJobsPageRetriesAFailedPull shows a person's own pulls on the Jobs
// page, not another user's, and retries one that failed (its table was
// dropped at the source) as a new job; a job that did not fail cannot be
// retried.
func TestJobsPageRetriesAFailedPull(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	srcURL := mustSourceDatabase(t, "pw-jobs")
	ctx := context.Background()

	b := inst.NewBrowser(t)
	b.MustSignUp("jobs-page@example.com", "correct horse battery")
	u, err := inst.App.Accounts.FindUserByEmail(ctx, "jobs-page@example.com")
	if err != nil {
		t.Fatal(err)
	}
	r := b.PostForm("/data-sources", url.Values{"service": {"postgres"}, "name": {"Shop"}, "cred_connection_string": {srcURL}})
	dsID := strings.TrimPrefix(r.Header.Get("Location"), "/data-sources/")
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Catalogue")
	if err != nil {
		t.Fatal(err)
	}
	_, first, err := inst.App.Syncs.AddTable(ctx, u.ID, wb.ID, syncs.AddTableInput{DataSourceID: dsID, RemoteTableID: `"shop"."product_orders"`})
	if err != nil {
		t.Fatal(err)
	}
	first = mustFinishedSync(t, inst, u.ID, first)
	if first.Status != syncs.StatusDone {
		t.Fatalf("first pull %s: %s", first.Status, first.Error)
	}

	// The table goes away at the source: the next pull fails.
	conn, err := pgx.Connect(ctx, srcURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DROP TABLE shop.product_orders`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	failed, err := inst.App.Syncs.StartPull(ctx, u.ID, wb.ID, []string{first.Tables[0].TableID})
	if err != nil {
		t.Fatal(err)
	}
	failed = mustFinishedSync(t, inst, u.ID, failed)
	if failed.Status != syncs.StatusFailed {
		t.Fatalf("pull of a dropped table ended %s", failed.Status)
	}

	r = b.Get("/jobs")
	items := r.TestID("own-job")
	if items.Length() != 2 {
		t.Fatalf("jobs page lists %d jobs, want 2", items.Length())
	}
	newest := items.First()
	if st := newest.Find(`[data-testid="own-job-state"]`).Text(); st != "failed" {
		t.Fatalf("newest job state %q", st)
	}
	if msg := newest.Find(`[data-testid="own-job-error"]`).Text(); msg == "" {
		t.Fatal("the failed pull shows no error")
	}
	if newest.Find(`[data-testid="own-job-retry"]`).Length() != 1 || items.Last().Find(`[data-testid="own-job-retry"]`).Length() != 0 {
		t.Fatal("only the failed pull offers Retry")
	}
	failedJob, _ := newest.Attr("data-job-id")
	doneJob, _ := items.Last().Attr("data-job-id")

	if r := b.PostForm("/jobs/"+doneJob+"/retry", nil); r.Status != http.StatusConflict {
		t.Fatalf("retry of a finished pull: status %d", r.Status)
	}
	other := inst.NewBrowser(t)
	other.MustSignUp("jobs-other@example.com", "correct horse battery")
	if r := other.Get("/jobs"); r.TestID("own-job").Length() != 0 {
		t.Fatal("another user sees these jobs")
	}
	if r := other.PostForm("/jobs/"+failedJob+"/retry", nil); r.Status != http.StatusNotFound {
		t.Fatalf("another user's retry: status %d", r.Status)
	}

	r = b.PostForm("/jobs/"+failedJob+"/retry", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("retry: status %d", r.Status)
	}
	r = b.Get("/jobs")
	if n := r.TestID("own-job").Length(); n != 3 {
		t.Fatalf("after retry the page lists %d jobs, want 3", n)
	}
	if what := r.TestID("own-job").First().Find(`[data-testid="own-job-what"]`).Text(); what != "Pull" {
		t.Fatalf("the retry started a %q", what)
	}
}

// mustFinishedSync waits for a sync to end.
func mustFinishedSync(t *testing.T, inst *apptest.Instance, ownerID string, sy syncs.Sync) syncs.Sync {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !sy.Finished() {
		if time.Now().After(deadline) {
			t.Fatalf("sync still %s", sy.Status)
		}
		time.Sleep(50 * time.Millisecond)
		var err error
		if sy, err = inst.App.Syncs.FindSync(context.Background(), ownerID, sy.ID); err != nil {
			t.Fatal(err)
		}
	}
	return sy
}
