package events

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TypeAuthChanged is the type of the event that says a credential of the
// user named by its topic (UserTopic) ended: an API token was revoked, a
// browser session signed out, the password changed, the account disabled.
// Write it with Notify in the transaction that ends the credential. Every
// instance's Broker then re-checks the credentials of each of that user's
// streams at once (RecheckUser) rather than at their next periodic check. It
// is a signal for Brokers and is never sent to a stream.
const TypeAuthChanged = "auth.changed"

// DefaultRecheckInterval is how often a stream's credentials are checked
// again when nothing asks sooner; it bounds how long a stream can outlive
// credentials that ended without a TypeAuthChanged event (one that expired,
// say, or an event lost while a Listener reconnected).
const DefaultRecheckInterval = time.Minute

// checkTimeout bounds one run of Credentials.Check.
const checkTimeout = 10 * time.Second

// errExpired is why a stream ends at Credentials.ExpiresAt.
var errExpired = errors.New("events: credentials expired")

// Credentials are what a stream was authorized with, so that the Broker can
// end the stream when they end: a stream is one long request, and without
// this it would go on delivering after its API token was revoked, its
// browser signed out or its user was disabled.
type Credentials struct {
	// UserID is whose credentials these are: RecheckUser(UserID), and so a
	// TypeAuthChanged event on UserTopic(UserID), checks them at once.
	UserID string
	// Check reports whether the credentials still hold. It is required.
	// Any error ends the stream, including one that only says the check
	// could not tell (the database is unreachable): the client reconnects
	// and is authorized afresh. The Broker runs it on the stream's own
	// goroutine, never twice at once for one stream, with a context that
	// ends with the stream or after ten seconds.
	Check func(ctx context.Context) error
	// ExpiresAt, when set, ends the stream at that instant, as a credential
	// with an expiry must.
	ExpiresAt time.Time
}

// RecheckUser makes every stream of userID in this process check its
// credentials now, each on its own goroutine; it does not wait for them.
func (b *Broker) RecheckUser(userID string) {
	if userID == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.streams {
		if s.creds.UserID != userID {
			continue
		}
		select {
		case s.recheck <- struct{}{}:
		default: // a check is already due
		}
	}
}

// startWatch runs the watch of s until ctx ends; the function it returns
// stops the watch and waits for it.
func (b *Broker) startWatch(ctx context.Context, s *subscriber) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.watch(ctx, s)
	}()
	return func() {
		cancel()
		<-done
	}
}

// watch checks the credentials of s at every recheck interval and whenever
// RecheckUser asks, and ends s when they fail or expire.
func (b *Broker) watch(ctx context.Context, s *subscriber) {
	var tick, expiry <-chan time.Time
	if b.recheck > 0 {
		ticker := time.NewTicker(b.recheck)
		defer ticker.Stop()
		tick = ticker.C
	}
	if !s.creds.ExpiresAt.IsZero() {
		timer := time.NewTimer(time.Until(s.creds.ExpiresAt))
		defer timer.Stop()
		expiry = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-expiry:
			b.endStream(s, errExpired)
			return
		case <-tick:
		case <-s.recheck:
		}
		if err := check(ctx, s.creds.Check); err != nil {
			if ctx.Err() == nil {
				b.endStream(s, err)
			}
			return
		}
	}
}

// check runs fn with checkTimeout, turning a panic into an error.
func check(ctx context.Context, fn func(context.Context) error) (err error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("events: credentials check panicked: %v", p)
		}
	}()
	return fn(ctx)
}

// endStream ends a stream whose credentials ended: it gets no more events
// and its request ends, so the client sees the stream end (an EventSource
// reconnects and is authorized afresh). A write blocked on a client that
// stopped reading is interrupted after closeGrace.
func (b *Broker) endStream(s *subscriber, err error) {
	if b.detach(s) {
		b.logger.Info("events: ending stream, its credentials ended", "topic", s.topic, "user", s.creds.UserID, "reason", err)
	}
	s.cancel()
	time.AfterFunc(closeGrace, s.interrupt)
}
