package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// ownedFixture is a database with the services a user's jobs go through.
// Its River client is not started unless a test starts it, so imports stay
// queued.
type ownedFixture struct {
	pool    *pgxpool.Pool
	acc     *accounts.Service
	wbs     *workbooks.Service
	imp     *imports.Service
	client  *jobs.Client
	svc     *jobs.Service
	counter int
}

// MustOwnedFixture builds the fixture; workers, when set, replaces the
// workers the client would run for imports.
func MustOwnedFixture(t testing.TB, workers *river.Workers) *ownedFixture {
	t.Helper()
	pool := testdb.New(t)
	f := &ownedFixture{pool: pool, acc: accounts.NewService(pool), wbs: workbooks.NewService(pool)}
	var err error
	if f.imp, err = imports.NewService(pool, f.wbs, imports.Options{}); err != nil {
		t.Fatal(err)
	}
	opts := jobs.Options{
		Queues: map[string]int{river.QueueDefault: 1, imports.QueueImports: 1}, Imports: f.imp, NoPeriodic: true,
		Logger: slog.New(slog.DiscardHandler),
	}
	if workers != nil {
		opts.Workers, opts.Imports = workers, nil
	}
	if f.client, err = jobs.NewClient(pool, opts); err != nil {
		t.Fatal(err)
	}
	f.svc = jobs.NewService(f.client, pool, f.imp, jobs.NewRescuer(pool, opts))
	return f
}

// MustStartClient starts the fixture's River client until the test ends.
func (f *ownedFixture) MustStartClient(t testing.TB) {
	t.Helper()
	if err := f.client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.client.Stop(ctx)
	})
}

// MustUserWithWorkbook signs a user up and gives them a workbook.
func (f *ownedFixture) MustUserWithWorkbook(t testing.TB, name string) (accounts.User, workbooks.Workbook) {
	t.Helper()
	ctx := context.Background()
	u, err := f.acc.SignUp(ctx, accounts.SignUpInput{Email: name + "@example.com", Name: name, Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	wb, err := f.wbs.CreateWorkbook(ctx, u.ID, "Imports")
	if err != nil {
		t.Fatal(err)
	}
	return u, wb
}

// MustImport starts the import of a small CSV into a new table of wb and
// returns its upload, which names the job.
func (f *ownedFixture) MustImport(t testing.TB, u accounts.User, wb workbooks.Workbook) imports.Upload {
	t.Helper()
	f.counter++
	up, _, err := f.imp.CreateTableFromCSV(context.Background(), u.ID, wb.ID, fmt.Sprintf("people-%d.csv", f.counter),
		strings.NewReader("name,age\nAda,36\nBob,41\n"), 0, imports.ImportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if up.JobID == 0 {
		t.Fatalf("import has no job: %+v", up)
	}
	return up
}

func jobID(id int64) string { return fmt.Sprint(id) }

func ownedIDs(list []jobs.OwnedJob) []int64 {
	out := []int64{}
	for _, j := range list {
		out = append(out, j.ID)
	}
	return out
}

func TestOwnedJobsAreOnlyTheOwnersImports(t *testing.T) {
	t.Parallel()
	f := MustOwnedFixture(t, nil)
	ctx := context.Background()
	ada, adaWB := f.MustUserWithWorkbook(t, "ada")
	bob, bobWB := f.MustUserWithWorkbook(t, "bob")
	adaUp := f.MustImport(t, ada, adaWB)
	bobUp := f.MustImport(t, bob, bobWB)
	system, err := f.client.Insert(ctx, jobs.PurgeExpiredArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// An import enqueued before jobs carried their owner.
	ownerless, err := f.client.Insert(ctx, imports.ImportCSVArgs{UploadID: adaUp.ID, WorkbookID: adaWB.ID, TableID: adaUp.TableID}, nil)
	if err != nil {
		t.Fatal(err)
	}

	page, err := f.svc.FindOwnedJobs(ctx, ada.ID, jobs.OwnedJobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ownedIDs(page.Jobs); len(got) != 1 || got[0] != adaUp.JobID || page.NextCursor != "" {
		t.Fatalf("ada's jobs %v (cursor %q), want only %d", got, page.NextCursor, adaUp.JobID)
	}
	j := page.Jobs[0]
	if j.Kind != "import_csv" || j.State != "available" || j.Import == nil || len(j.Errors) != 0 {
		t.Fatalf("ada's job %+v", j)
	}
	want, err := f.imp.FindUpload(ctx, ada.ID, adaWB.ID, adaUp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*j.Import, want) || j.Import.Finished() || want.Status != imports.StatusImporting ||
		want.TableID != adaUp.TableID || want.SizeBytes != adaUp.SizeBytes || want.BytesDone != 0 {
		t.Fatalf("ada's import %+v, want %+v (importing, nothing read yet)", *j.Import, want)
	}
	if p, ok := j.Progress(); !ok || p != (jobs.Progress{Done: 0, Total: adaUp.SizeBytes, Unit: "bytes"}) {
		t.Fatalf("progress %+v %v", p, ok)
	}

	if got, err := f.svc.FindOwnedJob(ctx, bob.ID, jobID(bobUp.JobID)); err != nil || got.ID != bobUp.JobID || got.Import == nil || got.Import.ID != bobUp.ID {
		t.Fatalf("bob's own job: %+v %v", got, err)
	}
	notFound := []struct{ name, id string }{
		{"another user's job", jobID(bobUp.JobID)},
		{"a system job", jobID(system.Job.ID)},
		{"a job without an owner", jobID(ownerless.Job.ID)},
		{"an unknown id", "987654321"},
		{"a malformed id", "abc"},
		{"zero", "0"},
		{"a negative id", "-" + jobID(adaUp.JobID)},
		{"a padded id", "0" + jobID(adaUp.JobID)},
		{"an empty id", ""},
	}
	for _, tc := range notFound {
		if _, err := f.svc.FindOwnedJob(ctx, ada.ID, tc.id); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("find %s: %v, want not found", tc.name, err)
		}
		if _, err := f.svc.CancelOwnedJob(ctx, ada.ID, tc.id); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("cancel %s: %v, want not found", tc.name, err)
		}
	}
	// The refused cancels cancelled nothing.
	for _, id := range []int64{bobUp.JobID, system.Job.ID, ownerless.Job.ID} {
		if row, err := f.client.JobGet(ctx, id); err != nil || row.State != "available" {
			t.Errorf("job %d after refused cancels: %v %v", id, row.State, err)
		}
	}
}

func TestOwnedJobsPageNewestFirst(t *testing.T) {
	t.Parallel()
	f := MustOwnedFixture(t, nil)
	ctx := context.Background()
	ada, wb := f.MustUserWithWorkbook(t, "pager")
	var started []int64
	for range 5 {
		started = append(started, f.MustImport(t, ada, wb).JobID)
	}
	// Another user's and system jobs in between do not take page slots.
	bob, bobWB := f.MustUserWithWorkbook(t, "other")
	f.MustImport(t, bob, bobWB)
	if _, err := f.client.Insert(ctx, jobs.PurgeExpiredArgs{}, nil); err != nil {
		t.Fatal(err)
	}

	var seen []int64
	var pages []int
	filter := jobs.OwnedJobFilter{Limit: 2}
	for {
		page, err := f.svc.FindOwnedJobs(ctx, ada.ID, filter)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ownedIDs(page.Jobs)...)
		pages = append(pages, len(page.Jobs))
		if page.NextCursor == "" {
			break
		}
		filter.Cursor = page.NextCursor
	}
	want := []int64{started[4], started[3], started[2], started[1], started[0]}
	if fmt.Sprint(seen) != fmt.Sprint(want) || fmt.Sprint(pages) != "[2 2 1]" {
		t.Fatalf("pages %v of %v, want [2 2 1] of %v", pages, seen, want)
	}

	for _, cursor := range []string{"not a cursor", "ajA", "MTI", "j"} {
		if _, err := f.svc.FindOwnedJobs(ctx, ada.ID, jobs.OwnedJobFilter{Cursor: cursor}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("cursor %q: %v, want invalid", cursor, err)
		}
	}
	for _, limit := range []int{-1, jobs.MaxOwnedPageSize + 1} {
		if _, err := f.svc.FindOwnedJobs(ctx, ada.ID, jobs.OwnedJobFilter{Limit: limit}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("limit %d: %v, want invalid", limit, err)
		}
	}
}

func TestCancelOwnedQueuedImport(t *testing.T) {
	t.Parallel()
	f := MustOwnedFixture(t, nil)
	ctx := context.Background()
	ada, wb := f.MustUserWithWorkbook(t, "canceller")
	up := f.MustImport(t, ada, wb)

	j, err := f.svc.CancelOwnedJob(ctx, ada.ID, jobID(up.JobID))
	if err != nil {
		t.Fatal(err)
	}
	if j.State != "cancelled" || j.FinalizedAt == nil || j.Import == nil || j.Import.Status != imports.StatusCancelled || !j.Finished() {
		t.Fatalf("cancelled job %+v, import %+v", j, j.Import)
	}
	stored, err := f.imp.FindUpload(ctx, ada.ID, wb.ID, up.ID)
	if err != nil || stored.Status != imports.StatusCancelled || stored.FinishedAt == nil {
		t.Fatalf("upload after cancel: %+v %v", stored, err)
	}
	if _, err := f.svc.CancelOwnedJob(ctx, ada.ID, jobID(up.JobID)); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second cancel: %v, want conflict", err)
	}
}

// TestCancelOwnedRunningImport holds the import's table so that its first
// batch waits on the lock, running, and cancels it there.
func TestCancelOwnedRunningImport(t *testing.T) {
	t.Parallel()
	f := MustOwnedFixture(t, nil)
	ctx := context.Background()
	ada, wb := f.MustUserWithWorkbook(t, "runner")
	up := f.MustImport(t, ada, wb)
	hold, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck // releases the lock
	if _, err := hold.Exec(ctx, "SELECT 1 FROM workbook_tables WHERE id = $1 FOR UPDATE", up.TableID); err != nil {
		t.Fatal(err)
	}
	f.MustStartClient(t)
	testdb.WaitForLockWaiter(t, f.pool) // the import's first batch waits on the table

	j, err := f.svc.CancelOwnedJob(ctx, ada.ID, jobID(up.JobID))
	if err != nil {
		t.Fatal(err)
	}
	// A running job is only told to stop: right after the cancel it may
	// still be running, its import already recorded as cancelled or not.
	if j.State != "running" && j.State != "cancelled" || j.Import == nil ||
		j.Import.Status != imports.StatusImporting && j.Import.Status != imports.StatusCancelled {
		t.Fatalf("job right after cancel %+v, import %+v", j, j.Import)
	}
	mustEventually(t, "the import stops", func() bool {
		j, err = f.svc.FindOwnedJob(ctx, ada.ID, jobID(up.JobID))
		return err == nil && j.Finished()
	})
	if j.State != "cancelled" || j.Import.Status != imports.StatusCancelled || j.Import.RowsImported != 0 {
		t.Fatalf("job after it stopped: %s, import %+v", j.State, j.Import)
	}
	if len(j.Errors) != 1 || !strings.HasPrefix(j.Errors[0], "Attempt 1 was cancelled at ") {
		t.Fatalf("errors %q", j.Errors)
	}
	if _, err := f.svc.CancelOwnedJob(ctx, ada.ID, jobID(up.JobID)); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("cancel of a cancelled job: %v, want conflict", err)
	}
}

// mustEventually waits up to 15 seconds for cond.
func mustEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 15 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOwnedJobErrorsHideInternalText(t *testing.T) {
	t.Parallel()
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[imports.ImportCSVArgs]) error {
		return fmt.Errorf("imports: commit batch: ERROR: relation \"secret_table\" does not exist (SQLSTATE 42P01)")
	}))
	f := MustOwnedFixture(t, workers)
	ctx := context.Background()
	ada, wb := f.MustUserWithWorkbook(t, "failer")
	up := f.MustImport(t, ada, wb)
	sub, cancel := f.client.Subscribe(river.EventKindJobFailed)
	defer cancel()
	f.MustStartClient(t)
	select {
	case <-sub:
	case <-time.After(15 * time.Second):
		t.Fatal("the import job did not fail")
	}

	// The job may be retried meanwhile; every attempt's line is safe.
	j, err := f.svc.FindOwnedJob(ctx, ada.ID, jobID(up.JobID))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Errors) == 0 {
		t.Fatalf("job %s without errors", j.State)
	}
	for i, e := range j.Errors {
		if want := fmt.Sprintf("Attempt %d failed at ", i+1); !strings.HasPrefix(e, want) || strings.Contains(e, "secret_table") {
			t.Errorf("error %d: %q, want %q… without the internal text", i, e, want)
		}
	}
	// Admins still see what happened.
	all, err := f.svc.FindJobs(ctx, jobs.JobFilter{})
	if err != nil || len(all) != 1 || len(all[0].Errors) == 0 || !strings.Contains(all[0].Errors[0], "secret_table") {
		t.Fatalf("admin view %+v %v", all, err)
	}
}

// TestCancelOwnedJobOfAnotherKind cancels an owned job that is not an
// import through River alone: it has no progress, result or upload.
func TestCancelOwnedJobOfAnotherKind(t *testing.T) {
	t.Parallel()
	f := MustOwnedFixture(t, nil)
	ctx := context.Background()
	ada, _ := f.MustUserWithWorkbook(t, "other-kind")
	res, err := f.client.Insert(ctx, jobs.PurgeExpiredArgs{}, &river.InsertOpts{
		Metadata: []byte(`{"owner_id": "` + ada.ID + `"}`), ScheduledAt: time.Now().Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := f.svc.FindOwnedJob(ctx, ada.ID, jobID(res.Job.ID))
	if err != nil || j.State != "scheduled" || j.Import != nil {
		t.Fatalf("owned job: %+v %v", j, err)
	}
	if p, ok := j.Progress(); ok {
		t.Fatalf("progress %+v of a kind without progress", p)
	}
	if j, err = f.svc.CancelOwnedJob(ctx, ada.ID, jobID(res.Job.ID)); err != nil || j.State != "cancelled" || !j.Finished() {
		t.Fatalf("cancel: %+v %v", j, err)
	}
	if _, err := f.svc.CancelOwnedJob(ctx, ada.ID, jobID(res.Job.ID)); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second cancel: %v, want conflict", err)
	}
}

// An admin cancelling a queued import (the admin jobs page) ends its upload
// as cancelled too: no worker will run to record it.
func TestAdminCancelOfQueuedImportEndsItsUpload(t *testing.T) {
	t.Parallel()
	f := MustOwnedFixture(t, nil)
	ctx := context.Background()
	ada, wb := f.MustUserWithWorkbook(t, "queued")
	up := f.MustImport(t, ada, wb)

	j, err := f.svc.CancelJob(ctx, up.JobID)
	if err != nil || j.State != "cancelled" {
		t.Fatalf("admin cancel: %+v %v", j, err)
	}
	stored, err := f.imp.FindUpload(ctx, ada.ID, wb.ID, up.ID)
	if err != nil || stored.Status != imports.StatusCancelled {
		t.Fatalf("upload after the admin's cancel: %+v %v", stored, err)
	}
	// Cancelling it again answers with the job as it is.
	if j, err := f.svc.CancelJob(ctx, up.JobID); err != nil || j.State != "cancelled" {
		t.Fatalf("second admin cancel: %+v %v", j, err)
	}
}
