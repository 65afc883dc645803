package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// longArgs is a long job for the lease tests.
type longArgs struct{}

func (longArgs) Kind() string { return "test_long" }

// A long job renews its lease while it runs, carries it in its context, and
// is stopped with joblease.ErrLost once another attempt has its job.
func TestLongJobHoldsItsLeaseAndStopsWhenItLosesIt(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	started := make(chan joblease.Lease, 1)
	stopped := make(chan error, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[longArgs]) error {
		l, ok := joblease.FromContext(ctx)
		if !ok {
			return errors.New("no lease in the job's context")
		}
		started <- l
		<-ctx.Done()
		stopped <- context.Cause(ctx)
		return ctx.Err()
	}))
	opts := jobs.Options{
		Queues: map[string]int{river.QueueDefault: 1}, Workers: workers, LongKinds: []string{longArgs{}.Kind()},
		NoPeriodic: true, Logger: slog.New(slog.DiscardHandler), Lease: joblease.Timing{Lease: 600 * time.Millisecond},
	}
	client, err := jobs.NewClient(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(stop)
	})
	res, err := client.Insert(ctx, longArgs{}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	var l joblease.Lease
	select {
	case l = <-started:
	case <-time.After(15 * time.Second):
		t.Fatal("the job did not start")
	}
	if l.JobID != res.Job.ID || l.Attempt != 1 {
		t.Fatalf("lease %+v for job %d", l, res.Job.ID)
	}

	// Past several leases the job is still running: its heartbeats keep
	// the rescuer away.
	rescuer := jobs.NewRescuer(pool, opts)
	for range 4 {
		time.Sleep(300 * time.Millisecond)
		if rescued, err := rescuer.RescueStale(ctx); err != nil || len(rescued) != 0 {
			t.Fatalf("a live job was rescued: %v, %v", rescued, err)
		}
	}
	var beats int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE id = $1 AND state = 'running'
		AND (metadata ->> 'heartbeat_at')::timestamptz > now() - interval '1 second'`, l.JobID).Scan(&beats); err != nil || beats != 1 {
		t.Fatalf("no recent heartbeat on the running job: %d, %v", beats, err)
	}

	// Another attempt takes the job over (as after a rescue): the running
	// attempt is stopped at its next heartbeat.
	if _, err := pool.Exec(ctx, `UPDATE river_job SET attempt = attempt + 1 WHERE id = $1`, l.JobID); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-stopped:
		if !errors.Is(cause, joblease.ErrLost) {
			t.Fatalf("stopped by %v, want ErrLost", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the attempt that lost its job kept running")
	}
}
