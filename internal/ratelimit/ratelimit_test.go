package ratelimit

import (
	"testing"
	"time"
)

func TestAllowSpendsAndRefills(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := New(60, 3) // one a second, bursts of three
	l.now = func() time.Time { return now }

	for i := range 3 {
		r := l.Allow("tok")
		if !r.Allowed || r.Remaining != 2-i || r.Limit != 3 {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
	r := l.Allow("tok")
	if r.Allowed || r.Remaining != 0 || r.RetryAfter != time.Second {
		t.Fatalf("over the limit: %+v", r)
	}
	if other := l.Allow("other"); !other.Allowed {
		t.Fatal("keys must not share a bucket")
	}
	now = now.Add(time.Second)
	if r := l.Allow("tok"); !r.Allowed {
		t.Fatalf("after a second a request is allowed again: %+v", r)
	}
	if r := l.Allow("tok"); r.Reset <= 0 {
		t.Fatalf("reset must say when the bucket is full: %+v", r)
	}
}

func TestIdleBucketsAreForgotten(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := New(60, 3)
	l.now = func() time.Time { return now }
	l.Allow("a")
	now = now.Add(10 * time.Minute)
	l.Allow("b")
	if _, ok := l.buckets["a"]; ok {
		t.Fatal("idle bucket kept")
	}
}
