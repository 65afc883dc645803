package connectors_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/connectors"
)

// scripted is a connector whose calls fail with the scripted errors, one per
// call, then succeed.
type scripted struct {
	connectors.Connector
	errs  []error
	calls int
}

func (s *scripted) next() error {
	s.calls++
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func (s *scripted) Limits() connectors.Limits { return connectors.Limits{} }

func (s *scripted) Pull(context.Context, string, string, int) (connectors.Page, error) {
	return connectors.Page{}, s.next()
}

func (s *scripted) Create(context.Context, string, []connectors.NewRecord) ([]connectors.WriteResult, error) {
	return nil, s.next()
}

func TestLimitedRetriesWhatTheServiceAskedToRetry(t *testing.T) {
	t.Parallel()
	rateLimited := &connectors.Error{Kind: connectors.RateLimited, Message: "slow down", RetryAfter: 7 * time.Second}
	unavailable := &connectors.Error{Kind: connectors.Unavailable, Message: "down"}
	auth := &connectors.Error{Kind: connectors.Auth, Message: "bad token"}

	tests := []struct {
		name      string
		write     bool
		errs      []error
		wantCalls int
		wantErr   error
		// wantWaits are the waits asked for; 0 stands for a backoff.
		wantWaits []time.Duration
	}{
		{"read: 429 waits its Retry-After", false, []error{rateLimited, rateLimited}, 3, nil, []time.Duration{7 * time.Second, 7 * time.Second}},
		{"read: unavailable backs off", false, []error{unavailable}, 2, nil, []time.Duration{0}},
		{"read: auth is not retried", false, []error{auth}, 1, auth, nil},
		{"write: 429 waits and retries", true, []error{rateLimited}, 2, nil, []time.Duration{7 * time.Second}},
		{"write: unavailable is not retried", true, []error{unavailable}, 1, unavailable, nil},
		{"gives up after five tries", false, []error{unavailable, unavailable, unavailable, unavailable, unavailable, unavailable}, 5, unavailable, []time.Duration{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &scripted{errs: tt.errs}
			var waits []time.Duration
			c := connectors.Limited(s, func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			})
			var err error
			if tt.write {
				_, err = c.Create(context.Background(), "t", nil)
			} else {
				_, err = c.Pull(context.Background(), "t", "", 10)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if s.calls != tt.wantCalls {
				t.Fatalf("%d calls, want %d", s.calls, tt.wantCalls)
			}
			if len(waits) != len(tt.wantWaits) {
				t.Fatalf("waits %v, want %v", waits, tt.wantWaits)
			}
			for i, w := range tt.wantWaits {
				if w != 0 && waits[i] != w || w == 0 && (waits[i] <= 0 || waits[i] > 30*time.Second) {
					t.Fatalf("wait %d is %s, want %s", i, waits[i], w)
				}
			}
		})
	}
}

func TestLimitedStopsWaitingWhenCancelled(t *testing.T) {
	t.Parallel()
	s := &scripted{errs: []error{&connectors.Error{Kind: connectors.RateLimited, RetryAfter: time.Hour}}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := connectors.Limited(s, nil).Pull(ctx, "t", "", 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's", err)
	}
}

func TestCredentialsNeverPrint(t *testing.T) {
	t.Parallel()
	c := connectors.Credentials{"token": "s3cr3t"}
	for _, s := range []string{c.String(), c.GoString()} {
		if s != "[credentials]" {
			t.Fatalf("credentials print as %q", s)
		}
	}
}
