package clerkauth

import (
	"sync"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/clerkauth/clerkfake"
)

// fakeClock is a settable time source for clients built with newClient.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// MustClient returns a Client for the fake Clerk running on clock.
func MustClient(tb testing.TB, fake *clerkfake.Server, clock *fakeClock, mutate ...func(*Config)) *Client {
	tb.Helper()
	cfg := Config{SecretKey: clerkfake.SecretKey, PublishableKey: clerkfake.PublishableKey, APIURL: fake.URL}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := newClient(cfg, clock.Now)
	if err != nil {
		tb.Fatalf("newClient: %v", err)
	}
	return c
}
