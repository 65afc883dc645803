package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/handlers"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestSyncPagesWithoutSources: a person without data sources is sent to
// add one, and a workbook without a table from one has nothing to publish.
func TestSyncPagesWithoutSources(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("nosource@example.com", gridPassword)
	u := mustFindUser(t, inst, "nosource@example.com")
	wb, err := inst.App.Workbooks.CreateWorkbook(context.Background(), u.ID, "Empty")
	if err != nil {
		t.Fatal(err)
	}
	r := b.Get("/workbooks/" + wb.ID + "/add-from-source")
	if r.Status != http.StatusOK || r.TestID("no-data-sources").Length() != 1 {
		t.Fatalf("add page: status %d, no-data-sources %d", r.Status, r.TestID("no-data-sources").Length())
	}
	if href, _ := r.TestID("add-data-source").Attr("href"); href != "/data-sources/new" {
		t.Errorf("the add link goes to %q, want /data-sources/new", href)
	}
	r = b.Get("/workbooks/" + wb.ID + "/publish")
	if r.Status != http.StatusOK || r.TestID("no-sourced-tables").Length() != 1 || r.TestID("publish-submit").Length() != 0 {
		t.Fatalf("publish page: status %d, body %s", r.Status, r.TestID("publish-preview").Text())
	}
	// Publishing anyway is refused with a reason, not an error page.
	r = b.PostForm("/workbooks/"+wb.ID+"/publish", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/workbooks/"+wb.ID+"/publish" {
		t.Fatalf("publish with nothing to publish: status %d, location %q", r.Status, r.Header.Get("Location"))
	}
	if msg := b.Get("/workbooks/" + wb.ID + "/publish").TestID("flashes").Text(); !strings.Contains(msg, "no table from a data source") {
		t.Errorf("flash after a refused publish is %q", msg)
	}
}

// TestSyncPagesConflictFlow adds a table through the form, resolves a
// conflict cell by cell, checks the publish page's preview, and keeps
// another person out of every page and action.
func TestSyncPagesConflictFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := apptest.MustStart(t, apptest.Options{})
	b := inst.NewBrowser(t)
	b.MustSignUp("syncpages@example.com", gridPassword)
	u := mustFindUser(t, inst, "syncpages@example.com")
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	srcURL := testdb.NewURL(t)
	src, err := pgxpool.New(ctx, srcURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	if _, err := src.Exec(ctx, `CREATE TABLE products (id int PRIMARY KEY, title text NOT NULL);
		INSERT INTO products SELECT i, 'Product ' || i FROM generate_series(1, 5) i`); err != nil {
		t.Fatal(err)
	}
	ds, err := inst.App.DataSources.Create(ctx, u.ID, datasources.CreateInput{Service: "postgres", Name: "Shop <db>",
		Credentials: connectors.Credentials{"connection_string": srcURL}})
	if err != nil {
		t.Fatal(err)
	}

	// The picker lists the source's tables, narrowed by the search.
	base := "/workbooks/" + wb.ID
	r := b.Get(base + "/add-from-source/tables?data_source_id=" + ds.ID + "&search=produ")
	if n := r.TestID("remote-table").Length(); n != 1 {
		t.Fatalf("search lists %d tables, want 1: %s", n, r.Body)
	}
	r = b.PostForm(base+"/add-from-source", url.Values{"data_source_id": {ds.ID}, "remote_table_id": {`"public"."products"`}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), base+"/tables/") {
		t.Fatalf("add: status %d, location %q", r.Status, r.Header.Get("Location"))
	}
	gridURL := r.Header.Get("Location")
	tbl := mustWaitPulled(t, inst, u.ID, wb.ID, strings.TrimPrefix(gridURL, base+"/tables/"), nil)
	page := b.Get(gridURL)
	if got := page.TestID("source-badge").Text(); !strings.Contains(got, "Shop <db>") {
		t.Errorf("source badge reads %q", got)
	}
	if page.TestID("sync-outcome").Length() != 1 || page.TestID("last-pulled").Text() == "" {
		t.Errorf("the grid shows no pull outcome or last pull: %s", page.TestID("sync-bar").Text())
	}

	// Mine and theirs of product 1's title.
	title, _ := tbl.Columns.Lookup("title")
	rec := mustRecordByRemoteID(t, inst, u.ID, tbl, "1")
	if _, err := inst.App.Workbooks.UpdateRecord(ctx, u.ID, wb.ID, tbl.ID, rec.ID, map[string]any{title.ID: "Mine"}, rec.Version); err != nil {
		t.Fatal(err)
	}
	rec2 := mustRecordByRemoteID(t, inst, u.ID, tbl, "2")
	if _, err := inst.App.Workbooks.UpdateRecord(ctx, u.ID, wb.ID, tbl.ID, rec2.ID, map[string]any{title.ID: "Mine 2"}, rec2.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Exec(ctx, `UPDATE products SET title = 'Theirs' WHERE id = 1; UPDATE products SET title = 'Theirs 2' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	pulled := tbl.LastPulledAt
	r = b.Send(http.MethodPost, gridURL+"/pull", nil, true)
	if r.Status != http.StatusAccepted || r.TestID("sync-state").Length() != 1 {
		t.Fatalf("pull: status %d: %s", r.Status, r.Body)
	}
	mustWaitPulled(t, inst, u.ID, wb.ID, tbl.ID, pulled)
	page = b.Get(gridURL)
	cell := page.Doc.Find(`tr[data-record-id="` + rec.ID + `"] [data-testid="conflict-cell"]`)
	if mine, theirs := cell.Find(`[data-testid="conflict-mine"]`).Text(), cell.Find(`[data-testid="conflict-theirs"]`).Text(); mine != "Mine" || theirs != "Theirs" {
		t.Fatalf("conflict cell shows mine %q, theirs %q", mine, theirs)
	}
	if !strings.Contains(page.TestID("attention-conflicts").Text(), "2 records are in conflict") {
		t.Errorf("attention bar reads %q", page.TestID("attention-conflicts").Text())
	}
	if r := b.Get(base + "/publish"); !strings.Contains(r.TestID("preview-conflicts").Text(), "2 records have conflicts") {
		t.Errorf("publish page's conflicts read %q", r.TestID("preview-conflicts").Text())
	}

	// Someone else sees none of it and changes nothing.
	other := inst.NewBrowser(t)
	other.MustSignUp("other-sync@example.com", gridPassword)
	cellURL := gridURL + "/records/" + rec.ID + "/cells/" + title.ID + "/resolve"
	for _, path := range []string{base + "/publish", base + "/add-from-source", gridURL + "/attention"} {
		if r := other.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("another person's GET %s: status %d, want 404", path, r.Status)
		}
	}
	for path, form := range map[string]url.Values{
		cellURL:                        {"keep": {"theirs"}},
		gridURL + "/conflicts/resolve": {"keep": {"theirs"}, "all": {"true"}},
		gridURL + "/pull":              nil,
		base + "/publish":              nil,
		base + "/add-from-source":      {"data_source_id": {ds.ID}, "remote_table_id": {`"public"."products"`}},
		gridURL + "/records/" + rec.ID + "/source-deleted": {"action": {"drop"}},
	} {
		if r := other.Send(http.MethodPost, path, form, true); r.Status != http.StatusNotFound {
			t.Errorf("another person's POST %s: status %d, want 404", path, r.Status)
		}
	}

	// Keep mine: the cell shows mine, without a conflict, and it is what a
	// publish would write.
	r = b.Send(http.MethodPost, cellURL, url.Values{"keep": {"mine"}}, true)
	if r.Status != http.StatusOK || r.TestID("conflict-cell").Length() != 0 {
		t.Fatalf("keep mine: status %d: %s", r.Status, r.Body)
	}
	if got := strings.TrimSpace(rowFragment(t, r).Find(`td[data-column="title"] [data-testid="cell-value"]`).Text()); got != "Mine" {
		t.Errorf("after keeping mine the cell shows %q", got)
	}
	// Take theirs for all the rest: product 2 takes the source's title.
	r = b.Send(http.MethodPost, gridURL+"/conflicts/resolve", url.Values{"keep": {"theirs"}, "all": {"true"}}, true)
	if r.Status != http.StatusNoContent || r.Header.Get("HX-Redirect") != gridURL {
		t.Fatalf("take all theirs: status %d, redirect %q", r.Status, r.Header.Get("HX-Redirect"))
	}
	page = b.Get(gridURL)
	if msg := page.TestID("flashes").Text(); !strings.Contains(msg, "Settled 1 conflict") {
		t.Errorf("flash after taking all theirs: %q", msg)
	}
	if got := strings.TrimSpace(page.Doc.Find(`tr[data-record-id="` + rec2.ID + `"] td[data-column="title"] [data-testid="cell-value"]`).Text()); got != "Theirs 2" {
		t.Errorf("after taking all theirs product 2 shows %q", got)
	}
	r = b.Get(base + "/publish")
	if got := r.TestID("preview-updates").Text(); got != "1" {
		t.Errorf("publish page counts %q updates, want 1", got)
	}
	if del, ins := r.Doc.Find(`[data-testid="preview-update"] del`).Text(), r.Doc.Find(`[data-testid="preview-update"] ins`).Text(); del != "Theirs" || ins != "Mine" {
		t.Errorf("publish page diff strikes %q and adds %q, want Theirs → Mine", del, ins)
	}
	if b.Get(gridURL+"/attention").TestID("attention-conflicts").Length() != 0 {
		t.Error("the attention bar still shows a conflict")
	}
	// A bad choice is refused.
	if r := b.Send(http.MethodPost, gridURL+"/conflicts/resolve", url.Values{"keep": {"both"}, "all": {"true"}}, false); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("keep=both: status %d, want 422", r.Status)
	}
}

// TestRenderSyncEvent: a progress event on a workbook's topic becomes each
// table's status and the whole sync; the owner's copy is left to others.
func TestRenderSyncEvent(t *testing.T) {
	p := syncs.Progress{SyncID: "s1", WorkbookID: "w1", Kind: syncs.KindPull, Status: syncs.StatusRunning,
		Tables: []syncs.TableProgress{{TableID: "t1", Phase: "pulling", Done: 20, Total: 80}}}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs, ok := handlers.RenderSyncEvent(context.Background(), events.Event{Topic: events.WorkbookTopic("w1"), Type: syncs.EventProgress, Data: data})
	if !ok || len(msgs) != 2 || msgs[0].Name != "sync-table-t1" || msgs[1].Name != "sync-s1" {
		t.Fatalf("messages %+v, handled %v", msgs, ok)
	}
	if s := string(msgs[0].Data); !strings.Contains(s, `value="25"`) || !strings.Contains(s, "Pulling: 20 of 80 records read") {
		t.Errorf("table status %s", s)
	}
	if _, ok := handlers.RenderSyncEvent(context.Background(), events.Event{Topic: events.UserTopic("u1"), Type: syncs.EventProgress, Data: data}); ok {
		t.Error("the owner's copy of the event was taken")
	}
	// An ended one asks for its counts rather than showing none.
	p.Status, p.Tables[0].Phase = syncs.StatusDone, "done"
	data, _ = json.Marshal(p)
	msgs, _ = handlers.RenderSyncEvent(context.Background(), events.Event{Topic: events.WorkbookTopic("w1"), Type: syncs.EventProgress, Data: data})
	if s := string(msgs[0].Data); !strings.Contains(s, `hx-get="/workbooks/w1/syncs/s1?table=t1"`) || !strings.Contains(s, "Pull finished.") {
		t.Errorf("ended table status %s", s)
	}
}

// mustWaitPulled waits until the table's pull after since, the workbook's
// latest sync, has ended.
func mustWaitPulled(t *testing.T, inst *apptest.Instance, ownerID, wbID, tableID string, since *time.Time) workbooks.Table {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tbl, err := inst.App.Workbooks.FindTable(context.Background(), ownerID, wbID, tableID)
		if err != nil {
			t.Fatal(err)
		}
		list, err := inst.App.Syncs.FindSyncs(context.Background(), ownerID, wbID, "", 1)
		if err != nil {
			t.Fatal(err)
		}
		ended := len(list) == 1 && list[0].Finished()
		if ended && tbl.SyncID == "" && tbl.LastPulledAt != nil && (since == nil || tbl.LastPulledAt.After(*since)) {
			return tbl
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s was not pulled in time", tableID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustRecordByRemoteID(t *testing.T, inst *apptest.Instance, ownerID string, tbl workbooks.Table, remoteID string) workbooks.Record {
	t.Helper()
	page, err := inst.App.Workbooks.FindRecordsIn(context.Background(), ownerID, tbl, workbooks.RecordQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Records {
		if r.RemoteID == remoteID {
			return r
		}
	}
	t.Fatalf("no record with remote id %s", remoteID)
	return workbooks.Record{}
}
