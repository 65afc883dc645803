package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// TestPurgeRunsAndJobsAreListed runs the purge job through a real River
// client and checks the admin listing and cancelling around it.
func TestPurgeRunsAndJobsAreListed(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ('old', '\x00', now() - interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	client, err := jobs.NewClient(pool, jobs.Options{
		Queues: map[string]int{"default": 1}, Accounts: accounts.NewService(pool), NoPeriodic: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	})

	if _, err := client.Insert(ctx, jobs.PurgeExpiredArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-done:
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("purge job: %s %v", ev.Kind, ev.Job.Errors)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("purge job did not run")
	}
	var sessions int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&sessions); err != nil || sessions != 0 {
		t.Fatalf("expired session left: %d %v", sessions, err)
	}

	svc := jobs.NewService(client, pool, nil, nil)
	later, err := client.Insert(ctx, jobs.PurgeExpiredArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour), UniqueOpts: river.UniqueOpts{}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := svc.FindJobs(ctx, jobs.JobFilter{State: "scheduled"})
	if err != nil || len(list) != 1 || list[0].ID != later.Job.ID || !list[0].Cancellable() {
		t.Fatalf("scheduled jobs: %v %+v", err, list)
	}
	if _, err := svc.FindJobs(ctx, jobs.JobFilter{State: "bogus"}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("unknown state: %v", err)
	}
	cancelled, err := svc.CancelJob(ctx, later.Job.ID)
	if err != nil || cancelled.State != "cancelled" {
		t.Fatalf("cancel: %v %+v", err, cancelled)
	}
	if _, err := svc.CancelJob(ctx, 987654321); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("cancel unknown job: %v", err)
	}
	counts, err := svc.CountByState(ctx)
	if err != nil || counts["completed"] != 1 || counts["cancelled"] != 1 {
		t.Fatalf("counts: %v %v", err, counts)
	}
}
