// Package joblease keeps Scratchpad's long background jobs rescuable when the
// process running them dies.
//
// River rescues a job stuck in the running state only once its worker's
// timeout has passed, and never when the timeout is negative. Long jobs
// (imports, pulls, publishes, index builds, agent runs) cannot have a short
// timeout: they run for as long as their data takes. So a long job holds a
// lease instead. While an attempt runs, it renews the lease every few
// seconds by stamping heartbeat_at into its river_job row's metadata (Hold);
// a rescuer on every instance (Rescue, run by internal/jobs) finds running
// long jobs whose last heartbeat is older than the lease and hands them back
// to River as available again (or cancelled, when a cancel was asked for, or
// discarded, when no attempt is left), so any instance picks them up.
//
// A lease is also a fence. Hold inside the transaction that commits a piece of
// a job's work locks the job's row until that transaction ends and confirms
// that this attempt still runs the job, so a rescue never interleaves with a
// commit: either the work commits first and the rescued attempt resumes
// after it, or the rescue wins and the old attempt's commit fails with
// ErrLost. An attempt that was rescued while merely stalled therefore never
// writes again.
//
// river_job is River's table, outside sqlc's schema; this package holds the
// only statements the app writes against it, in the state vocabulary of
// River's own rescuer (river's JobRescueMany).
package joblease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Lease is one attempt's claim on a running job.
type Lease struct {
	JobID   int64
	Attempt int
}

type contextKey struct{}

// NewContext returns ctx carrying l, for the code that runs the attempt.
func NewContext(ctx context.Context, l Lease) context.Context {
	return context.WithValue(ctx, contextKey{}, l)
}

// FromContext returns the lease ctx carries, if it runs inside a leased job.
func FromContext(ctx context.Context) (Lease, bool) {
	l, ok := ctx.Value(contextKey{}).(Lease)
	return l, ok
}

// ErrLost means the attempt no longer holds its job: the job was rescued
// (its process looked dead), cancelled and finalized, or finished by another
// attempt. The attempt must stop without writing anything more.
var ErrLost = errors.New("joblease: this attempt no longer holds its job")

// Execer runs a statement: a pgx.Tx, a connection or a pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// renewSQL stamps the heartbeat and, by matching the attempt and the running
// state, checks that the attempt still holds the job. The UPDATE keeps the
// row locked until the caller's transaction ends.
const renewSQL = `UPDATE river_job
SET metadata = metadata || jsonb_build_object('heartbeat_at', clock_timestamp())
WHERE id = $1 AND attempt = $2 AND state = 'running'`

// Hold renews the lease of the job that ctx runs in and confirms that this
// attempt still holds it. Called inside a transaction, it is the fence
// described in the package documentation: call it last, right before the
// commit, so that the job's row stays locked for the commit only (a
// transaction that waits on some other lock while holding it would make
// River's own updates of the job, a cancel say, wait too). Outside a leased job (ctx has no lease: tools, tests calling a
// service directly) it does nothing. Errors: ErrLost, or the database's.
func Hold(ctx context.Context, db Execer) error {
	l, ok := FromContext(ctx)
	if !ok {
		return nil
	}
	return l.Renew(ctx, db)
}

// Renew stamps l's heartbeat and reports ErrLost when the attempt no longer
// holds the job.
func (l Lease) Renew(ctx context.Context, db Execer) error {
	tag, err := db.Exec(ctx, renewSQL, l.JobID, l.Attempt)
	if err != nil {
		return fmt.Errorf("joblease: renew job %d: %w", l.JobID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("job %d attempt %d: %w", l.JobID, l.Attempt, ErrLost)
	}
	return nil
}

// RescueParams selects the stale jobs Rescue hands back.
type RescueParams struct {
	// Kinds are the leased job kinds; other running jobs are River's own
	// rescuer's business and are never touched.
	Kinds []string
	// StaleAfter is how long a running job may go without a heartbeat (or,
	// before its first one, since its attempt started) before it counts as
	// abandoned.
	StaleAfter time.Duration
	// JobID, when not zero, limits the rescue to that one job.
	JobID int64
}

// Rescued is a job Rescue handed back, in its new state.
type Rescued struct {
	JobID int64
	Kind  string
	// State is River's state after the rescue: "available" (it will run
	// again), "cancelled" (a cancel was asked for while it ran) or
	// "discarded" (no attempt left).
	State string
	// Args are the job's arguments, for hooks that must record the end of
	// a cancelled or discarded job in the domain (an import's upload).
	Args []byte
}

// rescueMessage is the attempt error River shows for a rescued attempt.
const rescueMessage = "The process running this job stopped (no heartbeat within its lease); the job was handed back to run again."

// rescueSQL mirrors River's rescuer: a cancel asked for while the job ran
// ends it as cancelled; an attempt left makes it available again at once
// (any instance's producer takes it); otherwise it is discarded. The errors
// array records the rescue as River records its own.
const rescueSQL = `UPDATE river_job SET
    state = CASE
        WHEN metadata ? 'cancel_attempted_at' THEN 'cancelled'
        WHEN attempt >= max_attempts THEN 'discarded'
        ELSE 'available' END::river_job_state,
    finalized_at = CASE
        WHEN metadata ? 'cancel_attempted_at' OR attempt >= max_attempts THEN now() END,
    scheduled_at = now(),
    errors = array_append(errors, jsonb_build_object(
        'at', now(), 'attempt', attempt, 'error', $4::text, 'trace', '')),
    metadata = metadata || jsonb_build_object('lease_rescues',
        coalesce((metadata ->> 'lease_rescues')::int, 0) + 1)
WHERE state = 'running'
    AND kind = ANY($1::text[])
    AND ($3::bigint = 0 OR id = $3)
    AND greatest(attempted_at, (metadata ->> 'heartbeat_at')::timestamptz) < now() - $2::interval
RETURNING id, kind, state::text, args`

// Querier runs a query: a pgx.Tx, a connection or a pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Rescue hands back the running jobs of p.Kinds whose lease has run out, and
// returns them. It is safe to run on every instance at once: each stale job
// is rescued by exactly one of them.
func Rescue(ctx context.Context, db Querier, p RescueParams) ([]Rescued, error) {
	if len(p.Kinds) == 0 || p.StaleAfter <= 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, rescueSQL, p.Kinds, p.StaleAfter, p.JobID, rescueMessage)
	if err != nil {
		return nil, fmt.Errorf("joblease: rescue: %w", err)
	}
	defer rows.Close()
	var out []Rescued
	for rows.Next() {
		var r Rescued
		if err := rows.Scan(&r.JobID, &r.Kind, &r.State, &r.Args); err != nil {
			return nil, fmt.Errorf("joblease: rescue: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("joblease: rescue: %w", err)
	}
	return out, nil
}

// DefaultLease is how long a long job may go without a heartbeat before it
// counts as abandoned (JOB_LEASE).
const DefaultLease = 30 * time.Second

// Timing derives a lease's rhythm from its length.
type Timing struct {
	// Lease is how long a running job may go without a heartbeat.
	Lease time.Duration
}

// Heartbeat is how often a running attempt renews its lease: six times per
// lease, so a few slow renewals never let it lapse.
func (t Timing) Heartbeat() time.Duration { return max(t.Lease/6, 10*time.Millisecond) }

// Silent is how long a job must have gone without a heartbeat for a cancel to
// end it at once rather than wait for the rescuer: three missed heartbeats
// mean its process is gone.
func (t Timing) Silent() time.Duration { return 3 * t.Heartbeat() }
