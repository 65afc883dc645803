// Package sessionstore keeps browser sessions for scs in PostgreSQL, knowing
// whose each one is, without writing each one back on every request.
//
// Postgres is the store: the sessions table (migrations 00001 and 00016),
// through sqlc queries in queries/sessions.sql.
//
// Whose a session is: Postgres reads the signed-in user's id from the
// session's own data (under the key the app gives it, decoded with the
// SessionManager's codec) every time it writes a session, and keeps it in
// the row's user_id, so a user's sessions can be listed and ended without
// decoding every session. The other design, handlers telling the store
// "this token is now Ada's", would keep a second record of one fact that
// every path that changes a session (sign-in, RenewToken, Destroy, sign-out)
// must keep in step, for tokens that scs has not even written yet; read from
// the data at every write, the column cannot disagree with what the session
// says. The browser's user agent and address come with the context scs
// passes to the store (WithClient).
//
// Ending: Delete, which scs's Destroy and RenewToken call, ends a session
// and tells its user's open event streams (events.TypeAuthChanged) in the
// same transaction, so a stream opened with a session ends when the session
// does. internal/accounts ends a user's sessions the same way when the
// password changes, the person signs out everywhere else or an admin
// disables the account. An ended session keeps its row, emptied, until the
// purge job removes it, and is never written again: a request that loaded
// it just before it ended cannot bring it back when it commits.
//
// Write skipping: scs with an IdleTimeout commits every session it loads, so
// that the stored expiry follows the last request: a page, an htmx fragment
// or a poll that changed nothing in the session still cost a database write.
// Store wraps the real store (Postgres) and skips such a write while the
// expiry to write is less than Slack past the one this process last wrote
// for the same data. The stored expiry then lags the idle timeout by under
// Slack, so an idle session can end up to Slack early (and the time a
// session was last seen is known to within Slack); every change to a
// session's data is written, whichever process made the last one. Data is
// compared decoded: scs's gob codec writes a map's entries in Go's random
// iteration order, so the same session encodes to different bytes.
package sessionstore

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// maxKnown bounds the sessions a Store remembers; past it, it forgets them
// all, which costs one write per session seen again and nothing else.
const maxKnown = 100_000

// Store is an scs.CtxStore that writes a session only when its data changed
// or its expiry moved by Slack or more. It passes the request's context on
// to the store it wraps when that store takes one.
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

// Find is FindCtx without a context.
func (s *Store) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context.
func (s *Store) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// FindCtx reads a session and remembers its data. Data that differs from
// what this process last wrote came from elsewhere, with an expiry it does
// not know: the next commit writes.
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	var found bool
	var err error
	if inner, ok := s.inner.(scs.CtxStore); ok {
		b, found, err = inner.FindCtx(ctx, token)
	} else {
		b, found, err = s.inner.Find(token)
	}
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

// CommitCtx writes a session unless only its expiry moved, by less than
// Slack past the expiry this process last wrote with the same data.
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	k, ok := s.known[token]
	s.mu.Unlock()
	if ok && !k.expiry.IsZero() && s.same(k.data, b) &&
		!expiry.Before(k.expiry) && expiry.Sub(k.expiry) < s.slack {
		return nil
	}
	var err error
	if inner, ok := s.inner.(scs.CtxStore); ok {
		err = inner.CommitCtx(ctx, token, b, expiry)
	} else {
		err = s.inner.Commit(token, b, expiry)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remember(token, known{data: slices.Clone(b), expiry: expiry})
	return nil
}

// DeleteCtx removes (with Postgres: ends) a session.
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	s.mu.Lock()
	delete(s.known, token)
	s.mu.Unlock()
	if inner, ok := s.inner.(scs.CtxStore); ok {
		return inner.DeleteCtx(ctx, token)
	}
	return s.inner.Delete(token)
}

// remember records k for token; s.mu is held.
func (s *Store) remember(token string, k known) {
	if _, ok := s.known[token]; !ok && len(s.known) >= maxKnown {
		clear(s.known)
	}
	s.known[token] = k
}

// Both stores take the request's context, which carries the browser
// (WithClient).
var (
	_ scs.CtxStore = (*Store)(nil)
	_ scs.CtxStore = (*Postgres)(nil)
)
