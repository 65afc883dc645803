// Package ratelimit keeps one token bucket per key (an API token id) in
// memory. Each instance limits on its own; behind a load balancer of N
// instances a client can reach N times the rate, which is acceptable for a
// limit meant to stop runaway scripts, not to meter billing.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Result is the outcome of one request against its bucket, in the terms of
// the RateLimit-* response headers.
type Result struct {
	Allowed bool
	// Limit is the bucket size: requests allowed in a burst.
	Limit int
	// Remaining is the whole requests left in the bucket now.
	Remaining int
	// Reset is how long until the bucket is full again.
	Reset time.Duration
	// RetryAfter is how long to wait before the next request can succeed;
	// zero when Allowed.
	RetryAfter time.Duration
}

// Limiter holds the buckets. The zero value is not usable; call New.
type Limiter struct {
	perSecond rate.Limit
	burst     int
	now       func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter allowing perMinute requests a minute per key with
// bursts of up to burst.
func New(perMinute, burst int) *Limiter {
	return &Limiter{
		perSecond: rate.Limit(float64(perMinute) / 60),
		burst:     burst,
		now:       time.Now,
		buckets:   map[string]*bucket{},
	}
}

// Allow spends one request from key's bucket.
func (l *Limiter) Allow(key string) Result {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepIdle(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.perSecond, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	allowed := b.lim.AllowN(now, 1)
	tokens := b.lim.TokensAt(now)
	res := Result{
		Allowed:   allowed,
		Limit:     l.burst,
		Remaining: max(0, int(math.Floor(tokens))),
		Reset:     l.durationFor(float64(l.burst) - tokens),
	}
	if !allowed {
		res.RetryAfter = max(time.Second, l.durationFor(1-tokens))
	}
	return res
}

func (l *Limiter) durationFor(tokens float64) time.Duration {
	if tokens <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(tokens / float64(l.perSecond) * float64(time.Second)))
}

// sweepIdle forgets buckets that have been full for a while, at most once a
// minute, so memory does not grow with every token ever seen.
func (l *Limiter) sweepIdle(now time.Time) {
	if now.Sub(l.sweep) < time.Minute {
		return
	}
	l.sweep = now
	idle := l.durationFor(float64(l.burst)) + time.Minute
	for k, b := range l.buckets {
		if now.Sub(b.seen) > idle {
			delete(l.buckets, k)
		}
	}
}
