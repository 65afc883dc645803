// Package sessionstore keeps browser sessions for scs without writing each
// one back on every request.
//
// scs with an IdleTimeout commits every session it loads, so that the
// stored expiry follows the last request: a page, an htmx fragment or a
// poll that changed nothing in the session still cost a database write.
// Store wraps the real store (pgxstore) and skips such a write while the
// expiry to write is less than Slack past the one this process last wrote
// for the same data. The stored expiry then lags the idle timeout by under
// Slack, so an idle session can end up to Slack early; every change to a
// session's data is written, whichever process made the last one. Data is
// compared decoded: scs's gob codec writes a map's entries in Go's random
// iteration order, so the same session encodes to different bytes.
package sessionstore

import (
	"bytes"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// maxKnown bounds the sessions a Store remembers; past it, it forgets them
// all, which costs one write per session seen again and nothing else.
const maxKnown = 100_000

// Store is an scs.Store that writes a session only when its data changed or
// its expiry moved by Slack or more.
type Store struct {
	inner scs.Store
	codec scs.Codec
	slack time.Duration

	mu    sync.Mutex
	known map[string]known
}

// known is a session's data as last read from or written to the store,
// and the expiry this process last wrote with it (zero: unknown).
type known struct {
	data   []byte
	expiry time.Time
}

// SlackFor is the slack for an idle timeout: a tenth of it, at most five
// minutes.
func SlackFor(idle time.Duration) time.Duration { return min(5*time.Minute, idle/10) }

// New wraps inner, whose sessions codec encodes (the SessionManager's);
// slack is how far a stored expiry may lag.
func New(inner scs.Store, codec scs.Codec, slack time.Duration) *Store {
	return &Store{inner: inner, codec: codec, slack: slack, known: map[string]known{}}
}

// same reports whether a and b encode the same session.
func (s *Store) same(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	da, va, err := s.codec.Decode(a)
	if err != nil {
		return false
	}
	db, vb, err := s.codec.Decode(b)
	if err != nil {
		return false
	}
	return da.Equal(db) && reflect.DeepEqual(va, vb)
}

// Find reads a session and remembers its data. Data that differs from what
// this process last wrote came from elsewhere, with an expiry it does not
// know: the next commit writes.
func (s *Store) Find(token string) ([]byte, bool, error) {
	b, found, err := s.inner.Find(token)
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.known[token]; !found {
		delete(s.known, token)
	} else if !ok || !s.same(k.data, b) {
		s.remember(token, known{data: slices.Clone(b)})
	}
	return b, found, nil
}

// Commit writes a session unless only its expiry moved, by less than Slack
// past the expiry this process last wrote with the same data.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	k, ok := s.known[token]
	s.mu.Unlock()
	if ok && !k.expiry.IsZero() && s.same(k.data, b) &&
		!expiry.Before(k.expiry) && expiry.Sub(k.expiry) < s.slack {
		return nil
	}
	if err := s.inner.Commit(token, b, expiry); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remember(token, known{data: slices.Clone(b), expiry: expiry})
	return nil
}

// Delete removes a session.
func (s *Store) Delete(token string) error {
	s.mu.Lock()
	delete(s.known, token)
	s.mu.Unlock()
	return s.inner.Delete(token)
}

// remember records k for token; s.mu is held.
func (s *Store) remember(token string, k known) {
	if _, ok := s.known[token]; !ok && len(s.known) >= maxKnown {
		clear(s.known)
	}
	s.known[token] = k
}
