package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/joblease"
)

// Long jobs hold leases (internal/joblease): their workers' Timeout is -1,
// so River never cancels them for running long, and River's own rescuer
// never looks at them; leaseMiddleware renews their lease while they run and
// Rescuer hands back those whose process died.

// leaseMiddleware runs the attempts of leased kinds under a lease: it
// renews the lease before the work starts and every heartbeat while it
// runs, puts the lease in the work's context (so the work's own commits can
// fence with joblease.Hold), and cancels the work with joblease.ErrLost if
// the attempt turns out to have lost its job.
type leaseMiddleware struct {
	river.MiddlewareDefaults
	pool   *pgxpool.Pool
	kinds  map[string]bool
	timing joblease.Timing
	logger *slog.Logger
}

// Work implements rivertype.WorkerMiddleware.
func (m *leaseMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if !m.kinds[job.Kind] {
		return doInner(ctx)
	}
	l := joblease.Lease{JobID: job.ID, Attempt: job.Attempt}
	if err := l.Renew(ctx, m.pool); err != nil {
		return err
	}
	work, cancel := context.WithCancelCause(joblease.NewContext(ctx, l))
	defer cancel(nil)
	var beating sync.WaitGroup
	beating.Go(func() { m.beat(work, l, cancel) })
	err := doInner(work)
	cancel(nil)
	beating.Wait()
	if lost := context.Cause(work); errors.Is(lost, joblease.ErrLost) && !errors.Is(err, joblease.ErrLost) {
		// The work may have ended on the cancellation without saying why.
		err = errors.Join(err, lost)
	}
	return err
}

// beat renews l every heartbeat until work ends. A renewal that finds the
// job lost cancels the work; one that fails (the database is briefly
// unreachable, say) is retried at the next beat: the lease is six beats
// long, and the work's own commits fail meanwhile anyway.
func (m *leaseMiddleware) beat(work context.Context, l joblease.Lease, cancel context.CancelCauseFunc) {
	ticker := time.NewTicker(m.timing.Heartbeat())
	defer ticker.Stop()
	for {
		select {
		case <-work.Done():
			return
		case <-ticker.C:
		}
		renewCtx, done := context.WithTimeout(context.WithoutCancel(work), m.timing.Heartbeat())
		err := l.Renew(renewCtx, m.pool)
		done()
		switch {
		case errors.Is(err, joblease.ErrLost):
			m.logger.Warn("jobs: lease lost; stopping the attempt", "job_id", l.JobID, "attempt", l.Attempt)
			cancel(err)
			return
		case err != nil && work.Err() == nil:
			m.logger.Warn("jobs: lease renewal failed", "job_id", l.JobID, "err", err)
		}
	}
}

// RescueHook records in the domain the end of a leased job that the rescuer
// cancelled or discarded, since no worker of it will run again to do so (an
// import's upload, say). Jobs made available again need no hook: their next
// attempt resumes them.
// The hook runs in the rescue's transaction, so the rescue and its record
// commit together or not at all.
type RescueHook func(ctx context.Context, tx pgx.Tx, job joblease.Rescued) error

// Rescuer hands back leased jobs whose process died. Every instance runs
// one (Run); a stale job is rescued by exactly one of them.
type Rescuer struct {
	pool   *pgxpool.Pool
	kinds  []string
	timing joblease.Timing
	hooks  map[string]RescueHook
	logger *slog.Logger
}

// Run rescues stale jobs every heartbeat until ctx is done.
func (r *Rescuer) Run(ctx context.Context) {
	ticker := time.NewTicker(r.timing.Heartbeat())
	defer ticker.Stop()
	for {
		if _, err := r.RescueStale(ctx); err != nil && ctx.Err() == nil {
			r.logger.Warn("jobs: rescuing abandoned jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// RescueStale hands back every leased job whose lease has run out and
// returns them.
func (r *Rescuer) RescueStale(ctx context.Context) ([]joblease.Rescued, error) {
	return r.rescue(ctx, joblease.RescueParams{Kinds: r.kinds, StaleAfter: r.timing.Lease})
}

// RescueSilent hands back job id at once if it is a leased job that has
// missed its last heartbeats, and reports whether it did. Cancelling a job
// calls it, so that a cancel ends a job whose worker is gone without waiting
// out the whole lease.
func (r *Rescuer) RescueSilent(ctx context.Context, id int64) (bool, error) {
	rescued, err := r.rescue(ctx, joblease.RescueParams{Kinds: r.kinds, StaleAfter: r.timing.Silent(), JobID: id})
	return len(rescued) > 0, err
}

func (r *Rescuer) rescue(ctx context.Context, p joblease.RescueParams) ([]joblease.Rescued, error) {
	var rescued []joblease.Rescued
	err := db.InTx(ctx, r.pool, func(tx pgx.Tx) error {
		var err error
		if rescued, err = joblease.Rescue(ctx, tx, p); err != nil {
			return err
		}
		for _, j := range rescued {
			if hook := r.hooks[j.Kind]; hook != nil && j.State != string(rivertype.JobStateAvailable) {
				if err := hook(ctx, tx, j); err != nil {
					return fmt.Errorf("jobs: record the end of rescued job %d: %w", j.JobID, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, j := range rescued {
		r.logger.Warn("jobs: rescued an abandoned job", "job_id", j.JobID, "kind", j.Kind, "state", j.State)
	}
	return rescued, nil
}
