package crashtest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// productsTable is the source table the sync crash tests pull and publish:
// its key comes from a sequence, so records created here get one there.
const productsTable = `"public"."products"`

// mustSourceProducts makes a PostgreSQL source database holding a products
// table of n rows, and returns its URL and a pool on it. Call it before
// starting children: they are killed before it is dropped.
func mustSourceProducts(t testing.TB, n int) (string, *pgxpool.Pool) {
	t.Helper()
	url := testdb.NewURL(t)
	src := mustPool(t, url)
	ctx := context.Background()
	if _, err := src.Exec(ctx, `CREATE TABLE products (
		id bigserial PRIMARY KEY, title text NOT NULL, body text, price numeric(10, 2))`); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Exec(ctx, `INSERT INTO products (title, body, price)
		SELECT 'Product ' || i, 'A sturdy thing of many uses and some weight, number ' || i, (i % 500) + 0.5
		FROM generate_series(1, $1::int) i`, n); err != nil {
		t.Fatal(err)
	}
	return url, src
}

// dataSources is the data sources domain over the children's key, so that
// what the test seals they open.
func dataSources(t testing.TB, pool *pgxpool.Pool) *datasources.Service {
	t.Helper()
	key, err := secrets.ParseKey(crashKey)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return datasources.NewService(pool, keys, app.Connectors(), datasources.Options{})
}

// mustDataSource connects the owner to the database at url, through the
// data sources service (the JSON API has no route for it yet).
func mustDataSource(t testing.TB, pool *pgxpool.Pool, ownerID, service, url string) string {
	t.Helper()
	ds, err := dataSources(t, pool).Create(context.Background(), ownerID, datasources.CreateInput{
		Service: service, Name: "Shop database", Credentials: connectors.Credentials{"connection_string": url}})
	if err != nil {
		t.Fatal(err)
	}
	return ds.ID
}

// syncStarted is the 202 answer that adds a table from a data source, or
// starts a pull or a publish.
type syncStarted struct {
	Table struct {
		ID string `json:"id"`
	} `json:"table"`
	Job struct {
		ID string `json:"id"`
	} `json:"job"`
	Sync struct {
		ID string `json:"id"`
	} `json:"sync"`
}

// syncState is a one-table sync's row and its table's progress.
type syncState struct {
	Status, Phase                                string
	Done                                         int64
	Created, Updated, Deleted, Conflicts, Failed int
}

func mustSync(t testing.TB, pool *pgxpool.Pool, id string) syncState {
	t.Helper()
	var s syncState
	if err := pool.QueryRow(context.Background(), `SELECT s.status, st.phase, st.done, st.created, st.updated, st.deleted,
			st.conflicts, st.failed
		FROM syncs s JOIN sync_tables st ON st.sync_id = s.id WHERE s.id = $1`, id).
		Scan(&s.Status, &s.Phase, &s.Done, &s.Created, &s.Updated, &s.Deleted, &s.Conflicts, &s.Failed); err != nil {
		t.Fatalf("sync %s: %v", id, err)
	}
	return s
}

// syncEnded reports whether a sync has ended one way or another.
func syncEnded(s syncState) bool { return s.Status != "queued" && s.Status != "running" }

// countSyncs counts the syncs of one kind in the database, by status.
func countSyncs(t testing.TB, pool *pgxpool.Pool, kind string) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT status, count(*) FROM syncs WHERE kind = $1 GROUP BY status`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			t.Fatal(err)
		}
		out[st] = n
	}
	return out
}

// strings1 reads a one-column query of text.
func strings1(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// count1 runs a query of one count.
func count1(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// survivorOf returns the child of the two that is not c.
func survivorOf(c, a, b *child) *child {
	if c == a {
		return b
	}
	return a
}

// waitRescued waits until job id runs again (or has finished) on the
// survivor, and returns how long that took since killed.
func waitRescued(t testing.TB, pool *pgxpool.Pool, id string, survivor *child, killed time.Time) time.Duration {
	t.Helper()
	waitFor(t, 60*time.Second, "the survivor to take the job", func() bool {
		j := mustJob(t, pool, id)
		return j.Rescues >= 1 && len(j.AttemptedBy) > 1 && j.AttemptedBy[len(j.AttemptedBy)-1] == survivor.RiverID
	})
	return time.Since(killed)
}

// mustFinishedJob waits for River to finalize job id, which follows the end
// of its sync by a moment, and returns it.
func mustFinishedJob(t testing.TB, pool *pgxpool.Pool, id string) jobRow {
	t.Helper()
	waitFor(t, 30*time.Second, "River to finalize the job", func() bool {
		s := mustJob(t, pool, id).State
		return s != "running" && s != "available" && s != "retryable" && s != "scheduled"
	})
	return mustJob(t, pool, id)
}

// A pull whose process is killed half-way is resumed by the surviving
// instance from the last page it committed: the table ends with each of the
// source's rows exactly once, and the pull is done once.
func TestPullKilledMidwayFinishesOnTheSurvivor(t *testing.T) {
	t.Parallel()
	const rows = 60_000
	srcURL, src := mustSourceProducts(t, rows)
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	dsID := mustDataSource(t, pool, o.ID, "postgres", srcURL)
	a := mustStartChild(t, dbURL, nil)
	b := mustStartChild(t, dbURL, nil)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	var added syncStarted
	started := time.Now()
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/tables",
		map[string]string{"data_source_id": dsID, "remote_table_id": productsTable}, &added)

	worker := runningOn(t, pool, added.Job.ID, a, b)
	survivor := survivorOf(worker, a, b)
	waitFor(t, 60*time.Second, "the first pages", func() bool { return mustSync(t, pool, added.Sync.ID).Done > 0 })
	worker.kill()
	killed := time.Now()
	at := mustSync(t, pool, added.Sync.ID)
	if at.Status != "running" || at.Done >= rows {
		t.Fatalf("the kill did not land mid-pull: %+v", at)
	}
	rescue := waitRescued(t, pool, added.Job.ID, survivor, killed)

	waitFor(t, 120*time.Second, "the pull to finish on the survivor", func() bool { return syncEnded(mustSync(t, pool, added.Sync.ID)) })
	took := time.Since(started)
	end := mustSync(t, pool, added.Sync.ID)
	if end.Status != "done" || end.Phase != "done" || end.Done != rows || end.Created != rows {
		t.Fatalf("pull ended %+v, want done with %d records pulled and created", end, rows)
	}
	if n, keys := tableCounts(t, pool, added.Table.ID); n != rows || keys != rows {
		t.Fatalf("table holds %d records with %d distinct remote ids, want %d", n, keys, rows)
	}
	want := strings1(t, src, `SELECT id::text FROM products ORDER BY 1`)
	got := strings1(t, pool, `SELECT remote_id FROM records WHERE table_id = $1 ORDER BY 1`, added.Table.ID)
	if !slices.Equal(got, want) {
		t.Fatalf("the table's remote ids are not the source's ids (%d against %d)", len(got), len(want))
	}
	// Each record holds its own row's values, not a neighbour's.
	if n := count1(t, pool, `WITH col AS (
			SELECT c ->> 'id' AS id FROM workbook_tables wt, jsonb_array_elements(wt.columns) c
			WHERE wt.id = $1 AND c ->> 'name' = 'title')
		SELECT count(*) FROM records r, col WHERE r.table_id = $1 AND r.fields ->> col.id = 'Product ' || r.remote_id`, added.Table.ID); n != rows {
		t.Fatalf("%d records hold their row's title, want %d", n, rows)
	}
	j := mustFinishedJob(t, pool, added.Job.ID)
	if j.State != "completed" || j.Rescues != 1 || j.AttemptedBy[len(j.AttemptedBy)-1] != survivor.RiverID {
		t.Fatalf("job ended %+v, want completed on %s after one rescue", j, survivor.RiverID)
	}
	if c := countSyncs(t, pool, "pull"); c["done"] != 1 || len(c) != 1 {
		t.Fatalf("pulls by status: %v, want one done", c)
	}
	if n := count1(t, pool, `SELECT count(*) FROM workbook_tables WHERE id = $1 AND sync_id IS NOT NULL`, added.Table.ID); n != 0 {
		t.Fatal("the table is still held by a sync")
	}

	// A re-pull at once, while the planner's statistics still know nothing
	// of these records, finishes and changes nothing. (Its speed is
	// measured by the syncs benchmarks; the bound here only catches a pull
	// that stalls, as one did when stale statistics made each page a scan
	// of the table: it is generous for a loaded CI machine under -race.)
	var again syncStarted
	start := time.Now()
	api(t, survivor.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/pull", map[string]any{}, &again)
	waitFor(t, 3*time.Minute, "the re-pull", func() bool { return syncEnded(mustSync(t, pool, again.Sync.ID)) })
	repull := time.Since(start)
	if s := mustSync(t, pool, again.Sync.ID); s.Status != "done" || s.Done != rows || s.Created+s.Updated+s.Deleted+s.Conflicts != 0 {
		t.Fatalf("re-pull ended %+v, want done with %d records met and none changed", s, rows)
	}
	if n := count1(t, pool, `SELECT count(*) FROM records WHERE table_id = $1 AND version <> 1`, added.Table.ID); n != 0 {
		t.Fatalf("the re-pull of an unchanged source moved %d records' versions", n)
	}
	t.Logf("pulled %d rows; killed after %d; rescued on the survivor %s after the kill; pull took %s in all; re-pull %s",
		rows, at.Done, rescue.Round(time.Millisecond), took.Round(time.Millisecond), repull.Round(time.Millisecond))
	// The sync ends in the job's last commit; River completes the job
	// just after.
	if j := mustFinishedJob(t, pool, again.Job.ID); j.State != "completed" {
		t.Fatalf("the re-pull's job ended %s", j.State)
	}
	noStuckJobs(t, pool)
}

// A publish killed after the source created a batch of records but before
// their remote ids were committed is finished by the survivor without
// creating them again: each create, update and delete happens once, every
// record has its remote id, and the publish is done once.
func TestPublishKilledMidwayCreatesEachRecordOnce(t *testing.T) {
	t.Parallel()
	const rows, creates, updates, deletes = 2000, 2500, 1000, 600
	srcURL, src := mustSourceProducts(t, rows)
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	dsID := mustDataSource(t, pool, o.ID, "postgres", srcURL)
	a := mustStartChild(t, dbURL, nil)
	b := mustStartChild(t, dbURL, nil)
	ctx := context.Background()

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	var added syncStarted
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/tables",
		map[string]string{"data_source_id": dsID, "remote_table_id": productsTable}, &added)
	waitFor(t, 60*time.Second, "the pull", func() bool { return syncEnded(mustSync(t, pool, added.Sync.ID)) })
	if s := mustSync(t, pool, added.Sync.ID); s.Status != "done" {
		t.Fatalf("pull ended %+v", s)
	}

	// The changes: new products, renamed ones, deleted ones.
	store := workbooks.NewService(pool)
	var edits []workbooks.Batch
	for i := range creates {
		if i%1000 == 0 {
			edits = append(edits, workbooks.Batch{})
		}
		edits[len(edits)-1].Creates = append(edits[len(edits)-1].Creates, workbooks.RecordFields{Fields: map[string]any{
			"title": fmt.Sprintf("New %d", i), "body": "Made here", "price": 1.25}})
	}
	recs, err := pool.Query(ctx, `SELECT id::text, remote_id, version FROM records WHERE table_id = $1 ORDER BY seq`, added.Table.ID)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	n := 0
	for recs.Next() {
		var id, remote string
		var version int
		if err := recs.Scan(&id, &remote, &version); err != nil {
			t.Fatal(err)
		}
		switch {
		case n < updates:
			if n%1000 == 0 {
				edits = append(edits, workbooks.Batch{})
			}
			edits[len(edits)-1].Updates = append(edits[len(edits)-1].Updates, workbooks.BatchUpdate{
				RecordID: id, Version: version, Fields: map[string]any{"title": "Updated " + remote}})
		case n < updates+deletes:
			if (n-updates)%1000 == 0 {
				edits = append(edits, workbooks.Batch{})
			}
			edits[len(edits)-1].Deletes = append(edits[len(edits)-1].Deletes, id)
			deleted = append(deleted, remote)
		}
		n++
	}
	recs.Close()
	for _, e := range edits {
		if _, err := store.BatchRecords(ctx, o.ID, wb.ID, added.Table.ID, e); err != nil {
			t.Fatal(err)
		}
	}

	var pub syncStarted
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/publish", map[string]any{}, &pub)
	worker := runningOn(t, pool, pub.Job.ID, a, b)
	survivor := survivorOf(worker, a, b)
	waitFor(t, 60*time.Second, "the first creates", func() bool { return mustSync(t, pool, pub.Sync.ID).Done > 0 })

	// Hold publish_changes, which only the commit of a batch's outcome
	// writes: the worker stops there with the source's creates committed
	// and their remote ids not.
	hold, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck
	if _, err := hold.Exec(ctx, `LOCK TABLE publish_changes IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	// Wait for the worker's outcome commit itself to wait on the table
	// (other sessions may wait on other locks meanwhile).
	waitFor(t, 30*time.Second, "the worker to wait on publish_changes", func() bool {
		return count1(t, pool, `SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE NOT l.granted AND c.relname = 'publish_changes'
			  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`) > 0
	})
	at := mustSync(t, pool, pub.Sync.ID)
	inflight := strings1(t, pool, `WITH col AS (
			SELECT c ->> 'id' AS id FROM workbook_tables wt, jsonb_array_elements(wt.columns) c
			WHERE wt.id = $1 AND c ->> 'name' = 'title')
		SELECT r.fields ->> col.id FROM records r, col WHERE r.table_id = $1 AND r.inflight_sync_id IS NOT NULL`, added.Table.ID)
	if at.Phase != "creating" || len(inflight) == 0 {
		t.Fatalf("the worker did not stop with creates in flight: %+v, %d in flight", at, len(inflight))
	}
	if made := count1(t, src, `SELECT count(*) FROM products WHERE title = ANY($1)`, inflight); made != len(inflight) {
		t.Fatalf("the source holds %d of the %d records in flight, want all: the worker did not stop after creating them", made, len(inflight))
	}
	worker.kill()
	killed := time.Now()
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	rescue := waitRescued(t, pool, pub.Job.ID, survivor, killed)
	waitFor(t, 120*time.Second, "the publish to finish on the survivor", func() bool { return syncEnded(mustSync(t, pool, pub.Sync.ID)) })

	end := mustSync(t, pool, pub.Sync.ID)
	if end.Status != "done" || end.Created != creates || end.Updated != updates || end.Deleted != deletes ||
		end.Conflicts != 0 || end.Failed != 0 {
		t.Fatalf("publish ended %+v, want done with %d created, %d updated, %d deleted", end, creates, updates, deletes)
	}
	// The source: no duplicates, the creates, the updates, no deleted row.
	if total, titles := count1(t, src, `SELECT count(*) FROM products`), count1(t, src, `SELECT count(DISTINCT title) FROM products`); total != rows+creates-deletes || titles != total {
		t.Fatalf("the source holds %d rows with %d distinct titles, want %d", total, titles, rows+creates-deletes)
	}
	if made := count1(t, src, `SELECT count(*) FROM products WHERE title LIKE 'New %' AND body = 'Made here' AND price = 1.25`); made != creates {
		t.Fatalf("the source holds %d of the %d created records", made, creates)
	}
	if upd := count1(t, src, `SELECT count(*) FROM products WHERE title = 'Updated ' || id`); upd != updates {
		t.Fatalf("the source holds %d of the %d updates", upd, updates)
	}
	if left := count1(t, src, `SELECT count(*) FROM products WHERE id::text = ANY($1)`, deleted); left != 0 {
		t.Fatalf("the source still holds %d of the %d deleted records", left, deletes)
	}
	// Here: every record has its own row's remote id, nothing is in flight.
	local := count1(t, pool, `SELECT count(*) FROM records WHERE table_id = $1`, added.Table.ID)
	keyed := count1(t, pool, `SELECT count(DISTINCT remote_id) FROM records WHERE table_id = $1`, added.Table.ID)
	flying := count1(t, pool, `SELECT count(*) FROM records WHERE table_id = $1 AND (inflight_sync_id IS NOT NULL OR state <> 'clean')`, added.Table.ID)
	if local != rows+creates-deletes || keyed != local || flying != 0 {
		t.Fatalf("the table holds %d records, %d distinct remote ids, %d not clean; want %d, all keyed and clean",
			local, keyed, flying, rows+creates-deletes)
	}
	byRemote := map[string]string{}
	for _, s := range strings1(t, src, `SELECT id || '=' || title FROM products`) {
		id, title, _ := strings.Cut(s, "=")
		byRemote[id] = title
	}
	for _, s := range strings1(t, pool, `WITH col AS (
			SELECT c ->> 'id' AS id FROM workbook_tables wt, jsonb_array_elements(wt.columns) c
			WHERE wt.id = $1 AND c ->> 'name' = 'title')
		SELECT r.remote_id || '=' || (r.fields ->> col.id) FROM records r, col WHERE r.table_id = $1`, added.Table.ID) {
		id, title, _ := strings.Cut(s, "=")
		if byRemote[id] != title {
			t.Fatalf("record %s holds %q, the source %q", id, title, byRemote[id])
		}
	}
	changes := count1(t, pool, `SELECT count(*) FROM publish_changes WHERE sync_id = $1`, pub.Sync.ID)
	if changes != creates+updates+deletes {
		t.Fatalf("the publish recorded %d changes for its revert, want %d", changes, creates+updates+deletes)
	}
	j := mustFinishedJob(t, pool, pub.Job.ID)
	if j.State != "completed" || j.Rescues != 1 || j.AttemptedBy[len(j.AttemptedBy)-1] != survivor.RiverID {
		t.Fatalf("job ended %+v, want completed on %s after one rescue", j, survivor.RiverID)
	}
	if c := countSyncs(t, pool, "publish"); c["done"] != 1 || len(c) != 1 {
		t.Fatalf("publishes by status: %v, want one done", c)
	}
	t.Logf("published %d creates, %d updates, %d deletes; killed with %d creates in flight after %d done; rescued after %s",
		creates, updates, deletes, len(inflight), at.Done, rescue.Round(time.Millisecond))
	noStuckJobs(t, pool)
}

// Cancelling a pull whose process is gone ends it at once, without waiting
// out the lease: the sync is cancelled, its table freed with the pages it
// had, and nothing resumes it.
func TestCancelEndsAPullWhoseWorkerIsGone(t *testing.T) {
	t.Parallel()
	const rows = 60_000
	srcURL, _ := mustSourceProducts(t, rows)
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	dsID := mustDataSource(t, pool, o.ID, "postgres", srcURL)
	// A lease long enough that the rescuer cannot be what ends the job:
	// heartbeats every 2 s, silent after 6 s, rescued after 12 s.
	long := map[string]string{"JOB_LEASE": "12s"}
	a := mustStartChild(t, dbURL, long)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	var added syncStarted
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/tables",
		map[string]string{"data_source_id": dsID, "remote_table_id": productsTable}, &added)
	waitFor(t, 60*time.Second, "the first pages", func() bool { return mustSync(t, pool, added.Sync.ID).Done > 0 })
	a.kill()
	killed := time.Now()
	left := mustSync(t, pool, added.Sync.ID)
	if left.Status != "running" || left.Done >= rows {
		t.Fatalf("the kill did not land mid-pull: %+v", left)
	}

	b := mustStartChild(t, dbURL, long)
	time.Sleep(time.Until(killed.Add(6500 * time.Millisecond)))
	var job struct {
		State string `json:"state"`
	}
	asked := time.Now()
	api(t, b.URL, o.Token, http.MethodPost, "/jobs/"+added.Job.ID+"/cancel", nil, &job)
	answered, sinceKill := time.Since(asked), time.Since(killed)
	if job.State != "cancelled" {
		t.Fatalf("cancel answered state %q, want cancelled", job.State)
	}
	if sinceKill >= 12*time.Second {
		t.Fatal("the cancel took as long as the lease: the rescuer may have ended the job, not the cancel")
	}
	end := mustSync(t, pool, added.Sync.ID)
	if end.Status != "cancelled" || end.Phase != "cancelled" || end.Done != left.Done {
		t.Fatalf("pull after cancel: %+v, want cancelled with the %d records it had", end, left.Done)
	}
	if n := count1(t, pool, `SELECT count(*) FROM workbook_tables WHERE id = $1 AND sync_id IS NOT NULL`, added.Table.ID); n != 0 {
		t.Fatal("the cancelled pull still holds its table")
	}
	// Past the lease, still nothing has resumed it.
	time.Sleep(3 * time.Second)
	if j := mustJob(t, pool, added.Job.ID); j.State != "cancelled" {
		t.Fatalf("job is %s after the cancel", j.State)
	}
	if n, _ := tableCounts(t, pool, added.Table.ID); int64(n) != left.Done {
		t.Fatalf("table holds %d records after the cancel, want %d", n, left.Done)
	}
	if s := mustSync(t, pool, added.Sync.ID); s.Status != "cancelled" {
		t.Fatalf("pull is %s after the lease", s.Status)
	}
	// The table is free: a new pull of it starts and finishes.
	var again syncStarted
	api(t, b.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/pull", map[string]any{}, &again)
	waitFor(t, 120*time.Second, "the new pull", func() bool { return syncEnded(mustSync(t, pool, again.Sync.ID)) })
	if s := mustSync(t, pool, again.Sync.ID); s.Status != "done" {
		t.Fatalf("the pull after the cancel ended %+v", s)
	}
	if n, keys := tableCounts(t, pool, added.Table.ID); n != rows || keys != rows {
		t.Fatalf("after the new pull the table holds %d records with %d distinct remote ids, want %d", n, keys, rows)
	}
	t.Logf("killed after %d of %d rows; the cancel answered in %s, %s after the kill",
		left.Done, rows, answered.Round(time.Millisecond), sinceKill.Round(time.Millisecond))
	if j := mustFinishedJob(t, pool, again.Job.ID); j.State != "completed" {
		t.Fatalf("the new pull's job ended %s", j.State)
	}
	noStuckJobs(t, pool)
}
