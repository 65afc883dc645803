package crashtest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// importState is an upload's row as the crash tests read it.
type importState struct {
	Status   string
	Imported int64
	Rejected int64
}

func mustImport(t testing.TB, pool *pgxpool.Pool, id string) importState {
	t.Helper()
	var s importState
	if err := pool.QueryRow(context.Background(), `SELECT status, rows_imported, rows_rejected FROM uploads WHERE id = $1`, id).
		Scan(&s.Status, &s.Imported, &s.Rejected); err != nil {
		t.Fatal(err)
	}
	return s
}

// tableCounts are a table's records: how many, and how many distinct keys.
func tableCounts(t testing.TB, pool *pgxpool.Pool, tableID string) (records, keys int) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT remote_id) FROM records WHERE table_id = $1`, tableID).
		Scan(&records, &keys); err != nil {
		t.Fatal(err)
	}
	return records, keys
}

// An import whose process is killed half-way is picked up by the surviving
// instance once its lease runs out, and ends with every row exactly once.
func TestImportKilledMidwayFinishesOnTheSurvivor(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	a := mustStartChild(t, dbURL, nil)
	b := mustStartChild(t, dbURL, nil)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	const rows = 300_000
	up := mustUploadCSV(t, a.URL, o.Token, wb.ID, "catalogue", catalogue(rows), "sku")

	worker := runningOn(t, pool, up.Job.ID, a, b)
	survivor := a
	if worker == a {
		survivor = b
	}
	waitFor(t, 30*time.Second, "the first batches", func() bool { return mustImport(t, pool, up.Import.ID).Imported > 0 })
	worker.kill()
	at := mustImport(t, pool, up.Import.ID)
	if at.Status != "importing" || at.Imported >= rows {
		t.Fatalf("the kill did not land mid-import: %+v", at)
	}

	waitFor(t, 60*time.Second, "the import to finish on the survivor", func() bool {
		return mustImport(t, pool, up.Import.ID).Status != "importing"
	})
	end := mustImport(t, pool, up.Import.ID)
	if end.Status != "done" || end.Imported != rows || end.Rejected != 0 {
		t.Fatalf("import ended %+v, want done with %d rows", end, rows)
	}
	if n, keys := tableCounts(t, pool, up.Table.ID); n != rows || keys != rows {
		t.Fatalf("table holds %d records with %d distinct keys, want %d", n, keys, rows)
	}
	// The import ends in the job's last commit; River completes the job
	// just after.
	j := mustFinishedJob(t, pool, up.Job.ID)
	if j.State != "completed" || j.Rescues != 1 || j.AttemptedBy[len(j.AttemptedBy)-1] != survivor.RiverID {
		t.Fatalf("job ended %+v, want completed on %s after one rescue", j, survivor.RiverID)
	}
	noStuckJobs(t, pool)
}

// Cancelling an import whose process is gone ends it at once, without
// waiting out the lease, and nothing resumes it.
func TestCancelEndsAJobWhoseWorkerIsGone(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	// A lease long enough that the rescuer cannot be what ends the job:
	// heartbeats every 2 s, silent after 6 s, rescued after 12 s.
	long := map[string]string{"JOB_LEASE": "12s"}
	a := mustStartChild(t, dbURL, long)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	up := mustUploadCSV(t, a.URL, o.Token, wb.ID, "catalogue", catalogue(300_000), "")
	waitFor(t, 30*time.Second, "the first batches", func() bool { return mustImport(t, pool, up.Import.ID).Imported > 0 })
	a.kill()
	killed := time.Now()
	left := mustImport(t, pool, up.Import.ID)

	b := mustStartChild(t, dbURL, long)
	time.Sleep(time.Until(killed.Add(6500 * time.Millisecond)))
	var job struct {
		State string `json:"state"`
	}
	api(t, b.URL, o.Token, http.MethodPost, "/jobs/"+up.Job.ID+"/cancel", nil, &job)
	if job.State != "cancelled" {
		t.Fatalf("cancel answered state %q, want cancelled", job.State)
	}
	if time.Since(killed) >= 12*time.Second {
		t.Fatal("the cancel took as long as the lease: the rescuer may have ended the job, not the cancel")
	}
	end := mustImport(t, pool, up.Import.ID)
	if end.Status != "cancelled" || end.Imported != left.Imported {
		t.Fatalf("import after cancel: %+v, want cancelled with the %d rows it had", end, left.Imported)
	}
	// Past the lease, still nothing has resumed it.
	time.Sleep(3 * time.Second)
	if j := mustJob(t, pool, up.Job.ID); j.State != "cancelled" {
		t.Fatalf("job is %s after the cancel", j.State)
	}
	if n, _ := tableCounts(t, pool, up.Table.ID); int64(n) != left.Imported {
		t.Fatalf("table holds %d records after the cancel, want %d", n, left.Imported)
	}
	noStuckJobs(t, pool)
}

// An index build killed while CREATE INDEX CONCURRENTLY waits is rescued and
// redone: the index ends valid and registered ready, built once.
func TestIndexBuildKilledMidwayIsRedone(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	small := map[string]string{indexThresholdEnv: "100"}
	a := mustStartChild(t, dbURL, small)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	up := mustUploadCSV(t, a.URL, o.Token, wb.ID, "catalogue", catalogue(2000), "")
	waitFor(t, 30*time.Second, "the import", func() bool { return mustImport(t, pool, up.Import.ID).Status == "done" })
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "ANALYZE records"); err != nil {
		t.Fatal(err)
	}

	// An open snapshot makes CREATE INDEX CONCURRENTLY wait half-way.
	snap, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Rollback(ctx) //nolint:errcheck
	if _, err := snap.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	if _, err := snap.Exec(ctx, "SELECT count(*) FROM records"); err != nil {
		t.Fatal(err)
	}
	// The import built the sort indexes before it said done
	// (PrepareTableForReads); a text search still asks for its trigram
	// index on demand.
	if st := api(t, a.URL, o.Token, http.MethodGet, "/workbooks/"+wb.ID+"/tables/"+up.Table.ID+"/records?filter="+url.QueryEscape("contains(title, 'Product 1')")+"&limit=5", nil, nil); st != http.StatusOK {
		t.Fatalf("searched page: %d", st)
	}
	var jobID string
	waitFor(t, 30*time.Second, "the index build to wait on the snapshot", func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'`).Scan(&n)
		return n > 0
	})
	if err := pool.QueryRow(ctx, `SELECT id::text FROM river_job WHERE kind = $1 AND state = 'running'`, recordindex.BuildArgs{}.Kind()).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	b := mustStartChild(t, dbURL, small)
	a.kill()
	// The rescued build retries on b; it needs the orphaned build's lock,
	// which goes once the snapshot does.
	waitFor(t, 30*time.Second, "the rescue", func() bool { return mustJob(t, pool, jobID).Rescues == 1 })
	if err := snap.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the build to finish", func() bool { return mustJob(t, pool, jobID).State == "completed" })

	var status string
	var valid bool
	if err := pool.QueryRow(ctx, `SELECT ri.status, i.indisvalid FROM record_indexes ri
		JOIN pg_class c ON c.relname = ri.name JOIN pg_index i ON i.indexrelid = c.oid
		WHERE ri.table_id = $1 AND ri.kind = 'trgm'`, up.Table.ID).Scan(&status, &valid); err != nil {
		t.Fatalf("the index: %v", err)
	}
	if status != "ready" || !valid {
		t.Fatalf("index is %s (valid %v), want ready and valid", status, valid)
	}
	_ = b
	noStuckJobs(t, pool)
}

// An accept-all cut off by a kill leaves every suggestion or none applied,
// never some; accepting again on another instance applies each exactly once.
func TestAcceptAllKilledMidwayIsAllOrNothing(t *testing.T) {
	t.Parallel()
	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	a := mustStartChild(t, dbURL, nil)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	const rows = 5000
	up := mustUploadCSV(t, a.URL, o.Token, wb.ID, "catalogue", catalogue(rows), "")
	waitFor(t, 30*time.Second, "the import", func() bool { return mustImport(t, pool, up.Import.ID).Status == "done" })

	ctx := context.Background()
	store := workbooks.NewService(pool)
	recs, err := pool.Query(ctx, `SELECT id::text FROM records WHERE table_id = $1 ORDER BY seq`, up.Table.ID)
	if err != nil {
		t.Fatal(err)
	}
	var p workbooks.Proposal
	var lastID string
	for recs.Next() {
		var id string
		if err := recs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		p.Updates = append(p.Updates, workbooks.RecordUpdate{RecordID: id, Fields: map[string]any{"title": "Renamed " + id}})
		lastID = id
	}
	recs.Close()
	p.Source = workbooks.SourceAPI
	if _, err := store.ProposeSuggestions(ctx, o.ID, wb.ID, up.Table.ID, p); err != nil {
		t.Fatal(err)
	}

	// Hold the last record, so the accept waits half-way through its rows.
	hold, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck
	if _, err := hold.Exec(ctx, `SELECT 1 FROM records WHERE id = $1 FOR UPDATE`, lastID); err != nil {
		t.Fatal(err)
	}
	answered := make(chan string, 1)
	go func() {
		// The answer should never come: the process dies first.
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/v1/workbooks/"+wb.ID+"/tables/"+up.Table.ID+"/suggestions/accept",
			strings.NewReader(`{"all": true}`))
		req.Header.Set("Authorization", "Bearer "+o.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- err.Error()
			return
		}
		resp.Body.Close()
		answered <- resp.Status
	}()
	waitFor(t, 60*time.Second, "the accept to wait on the held record", func() bool {
		select {
		case a := <-answered:
			t.Fatalf("the accept answered %s before it was killed", a)
		default:
		}
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%suggestions%'`).Scan(&n)
		return n > 0
	})
	a.kill()
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The orphaned statement ends, one way or the other, once its lock is
	// free and it finds its client gone.
	waitFor(t, 30*time.Second, "the orphaned accept to end", func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`).Scan(&n)
		return n == 0
	})

	applied, pending := acceptState(t, pool, up.Table.ID)
	if !(applied == 0 && pending == rows) && !(applied == rows && pending == 0) {
		t.Fatalf("after the kill %d values are applied and %d suggestions pending: neither all nor nothing", applied, pending)
	}

	b := mustStartChild(t, dbURL, nil)
	var counts struct {
		Updates int `json:"updates"`
	}
	api(t, b.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/tables/"+up.Table.ID+"/suggestions/accept", map[string]bool{"all": true}, &counts)
	if counts.Updates != pending {
		t.Fatalf("accepting again applied %d, want the %d still pending", counts.Updates, pending)
	}
	applied, pending = acceptState(t, pool, up.Table.ID)
	var bumped int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE table_id = $1 AND version = 2`, up.Table.ID).Scan(&bumped); err != nil {
		t.Fatal(err)
	}
	if applied != rows || pending != 0 || bumped != rows {
		t.Fatalf("after accepting again: %d applied, %d pending, %d records at version 2; want %d, 0, %d", applied, pending, bumped, rows, rows)
	}
	noStuckJobs(t, pool)
}

// acceptState counts a table's records whose title is the suggested one, and
// the suggestions still pending.
func acceptState(t testing.TB, pool *pgxpool.Pool, tableID string) (applied, pending int) {
	t.Helper()
	ctx := context.Background()
	if err := pool.QueryRow(ctx, `WITH col AS (
			SELECT c ->> 'id' AS id FROM workbook_tables wt, jsonb_array_elements(wt.columns) c
			WHERE wt.id = $1 AND c ->> 'name' = 'title')
		SELECT count(*) FROM records r, col WHERE r.table_id = $1 AND r.fields ->> col.id = 'Renamed ' || r.id::text`, tableID).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM suggestions WHERE table_id = $1`, tableID).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	return applied, pending
}
