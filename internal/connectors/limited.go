package connectors

import (
	"context"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"
)

// Retry policy of Limited.
const (
	// maxAttempts bounds how often one call is tried.
	maxAttempts = 5
	// firstBackoff is the wait after the first retryable failure that did
	// not say how long to wait; it doubles each time, up to maxBackoff.
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
	// maxRetryAfter caps how long a service may make one call wait.
	maxRetryAfter = 2 * time.Minute
)

// Limited wraps c so that its calls keep to c.Limits' pace (a token bucket)
// and retry what the service asked to retry: a RateLimited error after its
// RetryAfter, an Unavailable one with exponential backoff. Writes are
// retried only when rate limited, since the service refused them unread;
// an Unavailable write may have happened, and trying it again could do it
// twice. sleep waits between attempts (nil: a timer honouring ctx).
func Limited(c Connector, sleep func(ctx context.Context, d time.Duration) error) Connector {
	l := c.Limits()
	lim := rate.NewLimiter(rate.Inf, 0)
	if l.RequestsPerSecond > 0 {
		lim = rate.NewLimiter(rate.Limit(l.RequestsPerSecond), max(l.Burst, 1))
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	return &limited{c: c, lim: lim, sleep: sleep}
}

type limited struct {
	c     Connector
	lim   *rate.Limiter
	sleep func(ctx context.Context, d time.Duration) error
}

// call runs f within the pace, retrying as Limited says.
func call[T any](ctx context.Context, l *limited, write bool, f func() (T, error)) (T, error) {
	var zero T
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		if err := l.lim.Wait(ctx); err != nil {
			return zero, err
		}
		v, err := f()
		if err == nil || attempt == maxAttempts {
			return v, err
		}
		e, ok := AsError(err)
		if !ok || e.Kind != RateLimited && (write || e.Kind != Unavailable) {
			return v, err
		}
		wait := e.RetryAfter
		if wait <= 0 {
			// Jitter keeps many waiting jobs from coming back at once.
			wait = time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
			backoff = min(2*backoff, maxBackoff)
		}
		if err := l.sleep(ctx, min(wait, maxRetryAfter)); err != nil {
			return zero, err
		}
	}
}

func (l *limited) Test(ctx context.Context) error {
	_, err := call(ctx, l, false, func() (struct{}, error) { return struct{}{}, l.c.Test(ctx) })
	return err
}

func (l *limited) ListTables(ctx context.Context, search string, limit int) ([]RemoteTable, error) {
	return call(ctx, l, false, func() ([]RemoteTable, error) { return l.c.ListTables(ctx, search, limit) })
}

func (l *limited) TableSpec(ctx context.Context, tableID string) (TableSpec, error) {
	return call(ctx, l, false, func() (TableSpec, error) { return l.c.TableSpec(ctx, tableID) })
}

func (l *limited) Pull(ctx context.Context, tableID, cursor string, limit int) (Page, error) {
	return call(ctx, l, false, func() (Page, error) { return l.c.Pull(ctx, tableID, cursor, limit) })
}

func (l *limited) Fetch(ctx context.Context, tableID string, ids []string) ([]Record, error) {
	return call(ctx, l, false, func() ([]Record, error) { return l.c.Fetch(ctx, tableID, ids) })
}

func (l *limited) FetchFields(ctx context.Context, tableID string, ids, fields []string) ([]Record, error) {
	return call(ctx, l, false, func() ([]Record, error) { return FetchFields(ctx, l.c, tableID, ids, fields) })
}

func (l *limited) Create(ctx context.Context, tableID string, recs []NewRecord) ([]WriteResult, error) {
	return call(ctx, l, true, func() ([]WriteResult, error) { return l.c.Create(ctx, tableID, recs) })
}

func (l *limited) Update(ctx context.Context, tableID string, changes []Change) ([]WriteResult, error) {
	return call(ctx, l, true, func() ([]WriteResult, error) { return l.c.Update(ctx, tableID, changes) })
}

func (l *limited) Delete(ctx context.Context, tableID string, ids []string) ([]WriteResult, error) {
	return call(ctx, l, true, func() ([]WriteResult, error) { return l.c.Delete(ctx, tableID, ids) })
}

func (l *limited) Limits() Limits { return l.c.Limits() }

func (l *limited) Close() error { return l.c.Close() }

// LookupCreated passes through to the wrapped connector when it can look
// created records up; Lookup tells whether it can.
func (l *limited) LookupCreated(ctx context.Context, tableID string, recs []NewRecord) ([]string, error) {
	lk, ok := l.c.(CreateLookup)
	if !ok {
		return nil, Errorf(Invalid, "This data source cannot look up the records it created.")
	}
	return call(ctx, l, false, func() ([]string, error) { return lk.LookupCreated(ctx, tableID, recs) })
}

// Lookup returns c's CreateLookup, seeing through Limited.
func Lookup(c Connector) (CreateLookup, bool) {
	if l, ok := c.(*limited); ok {
		c = l.c
		if _, ok := c.(CreateLookup); !ok {
			return nil, false
		}
		return l, true
	}
	lk, ok := c.(CreateLookup)
	return lk, ok
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
