package joblease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

const kind = "long_job"

// runningJob is a job as River leaves it while an attempt runs.
type runningJob struct {
	kind        string
	attempt     int
	maxAttempts int
	// startedAgo is how long ago the attempt started; heartbeatAgo, when
	// not nil, how long ago it last renewed its lease.
	startedAgo   time.Duration
	heartbeatAgo *time.Duration
	cancelAsked  bool
}

// mustInsertRunning inserts j into river_job and returns its id.
func mustInsertRunning(t testing.TB, pool *pgxpool.Pool, j runningJob) int64 {
	t.Helper()
	if j.kind == "" {
		j.kind = kind
	}
	if j.attempt == 0 {
		j.attempt = 1
	}
	if j.maxAttempts == 0 {
		j.maxAttempts = 5
	}
	var id int64
	err := pool.QueryRow(context.Background(), `
		INSERT INTO river_job (kind, args, state, attempt, max_attempts, attempted_at, metadata, queue, priority, scheduled_at)
		VALUES ($1, '{"upload_id":"u1"}', 'running', $2, $3, now() - $4::interval,
			CASE WHEN $5::interval IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('heartbeat_at', now() - $5::interval) END
			|| CASE WHEN $6 THEN jsonb_build_object('cancel_attempted_at', now()) ELSE '{}'::jsonb END,
			'default', 1, now() - $4::interval)
		RETURNING id`,
		j.kind, j.attempt, j.maxAttempts, j.startedAgo, j.heartbeatAgo, j.cancelAsked).Scan(&id)
	if err != nil {
		t.Fatalf("insert job: %v", err)
	}
	return id
}

func ago(d time.Duration) *time.Duration { return &d }

func mustState(t testing.TB, pool *pgxpool.Pool, id int64) (state string, attempt int) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `SELECT state::text, attempt FROM river_job WHERE id = $1`, id).Scan(&state, &attempt); err != nil {
		t.Fatalf("job state: %v", err)
	}
	return state, attempt
}

func TestRescueHandsBackOnlyStaleLeasedJobs(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	const lease = 30 * time.Second

	tests := []struct {
		name string
		job  runningJob
		// want is the state after a rescue pass ("running": untouched).
		want string
	}{
		{"heartbeat within the lease", runningJob{startedAgo: time.Hour, heartbeatAgo: ago(5 * time.Second)}, "running"},
		{"started within the lease, no heartbeat yet", runningJob{startedAgo: 5 * time.Second}, "running"},
		{"heartbeat older than the lease", runningJob{startedAgo: time.Hour, heartbeatAgo: ago(time.Minute)}, "available"},
		{"no heartbeat since a start older than the lease", runningJob{startedAgo: time.Minute}, "available"},
		{"a stale heartbeat of an earlier attempt, a fresh start", runningJob{attempt: 2, startedAgo: time.Second, heartbeatAgo: ago(time.Hour)}, "running"},
		{"cancel asked while its process was dead", runningJob{startedAgo: time.Hour, heartbeatAgo: ago(time.Minute), cancelAsked: true}, "cancelled"},
		{"last attempt died", runningJob{attempt: 5, maxAttempts: 5, startedAgo: time.Hour, heartbeatAgo: ago(time.Minute)}, "discarded"},
		{"a kind that is not leased", runningJob{kind: "short_job", startedAgo: time.Hour}, "running"},
	}
	ids := make([]int64, len(tests))
	for i, tt := range tests {
		ids[i] = mustInsertRunning(t, pool, tt.job)
	}
	rescued, err := joblease.Rescue(ctx, pool, joblease.RescueParams{Kinds: []string{kind}, StaleAfter: lease})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]joblease.Rescued{}
	for _, r := range rescued {
		byID[r.JobID] = r
	}
	for i, tt := range tests {
		state, _ := mustState(t, pool, ids[i])
		if state != tt.want {
			t.Errorf("%s: state %s, want %s", tt.name, state, tt.want)
		}
		r, ok := byID[ids[i]]
		if ok != (tt.want != "running") {
			t.Errorf("%s: reported rescued = %v", tt.name, ok)
		}
		if ok && (r.State != tt.want || r.Kind != kind || string(r.Args) != `{"upload_id": "u1"}`) {
			t.Errorf("%s: reported %+v (args %s)", tt.name, r, r.Args)
		}
	}

	// A second pass finds nothing more: each stale job is rescued once.
	again, err := joblease.Rescue(ctx, pool, joblease.RescueParams{Kinds: []string{kind}, StaleAfter: lease})
	if err != nil || len(again) != 0 {
		t.Fatalf("second pass rescued %v, %v", again, err)
	}

	// The attempt error says what happened, as River's rescuer does.
	var msg string
	if err := pool.QueryRow(ctx, `SELECT errors[array_length(errors, 1)] ->> 'error' FROM river_job WHERE id = $1`, ids[2]).Scan(&msg); err != nil || msg == "" {
		t.Fatalf("rescued job's error: %q, %v", msg, err)
	}
}

func TestRescueOneJob(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	target := mustInsertRunning(t, pool, runningJob{startedAgo: time.Hour, heartbeatAgo: ago(time.Minute)})
	other := mustInsertRunning(t, pool, runningJob{startedAgo: time.Hour, heartbeatAgo: ago(time.Minute)})
	rescued, err := joblease.Rescue(ctx, pool, joblease.RescueParams{Kinds: []string{kind}, StaleAfter: time.Second, JobID: target})
	if err != nil || len(rescued) != 1 || rescued[0].JobID != target {
		t.Fatalf("rescued %v, %v", rescued, err)
	}
	if state, _ := mustState(t, pool, other); state != "running" {
		t.Fatalf("the other job is %s", state)
	}
}

func TestHoldRenewsAndFences(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	id := mustInsertRunning(t, pool, runningJob{startedAgo: time.Hour, heartbeatAgo: ago(time.Minute)})
	leased := joblease.NewContext(ctx, joblease.Lease{JobID: id, Attempt: 1})

	// Outside a job, Hold does nothing.
	if err := joblease.Hold(ctx, pool); err != nil {
		t.Fatal(err)
	}

	// A renewed lease is not stale any more.
	if err := joblease.Hold(leased, pool); err != nil {
		t.Fatal(err)
	}
	rescued, err := joblease.Rescue(ctx, pool, joblease.RescueParams{Kinds: []string{kind}, StaleAfter: 30 * time.Second})
	if err != nil || len(rescued) != 0 {
		t.Fatalf("a renewed job was rescued: %v, %v", rescued, err)
	}

	// While a transaction that holds the lease is open, a rescue waits for
	// it, and then finds the lease renewed.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if err := joblease.Hold(leased, tx); err != nil {
		t.Fatal(err)
	}
	done := make(chan []joblease.Rescued, 1)
	go func() {
		r, err := joblease.Rescue(ctx, pool, joblease.RescueParams{Kinds: []string{kind}, StaleAfter: time.Nanosecond, JobID: id})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	testdb.WaitForLockWaiter(t, pool)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-done; len(r) != 1 {
		// With a one-nanosecond lease the job is stale again at once: the
		// rescue ran after the commit, never during the transaction.
		t.Fatalf("rescue after the commit: %v", r)
	}

	// The rescued attempt has lost its job: its next commit is refused.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return joblease.Hold(leased, tx) })
	if !errors.Is(err, joblease.ErrLost) {
		t.Fatalf("hold after rescue: %v, want ErrLost", err)
	}
	// So is an attempt number that is not the job's.
	err = joblease.Hold(joblease.NewContext(ctx, joblease.Lease{JobID: id, Attempt: 7}), pool)
	if !errors.Is(err, joblease.ErrLost) {
		t.Fatalf("hold by another attempt: %v, want ErrLost", err)
	}
}
