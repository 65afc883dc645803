package idempotency

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// Defaults of the Store.
const (
	// TTL is how long a key and its response are kept (API.md: 24 hours).
	TTL = 24 * time.Hour
	// AbandonAfter is how long a request may stay in progress before its key
	// is taken over by a retry: long past any request timeout, so only a
	// request whose process died is ever taken over.
	AbandonAfter = 10 * time.Minute
)

// Store keeps idempotency keys and their responses in PostgreSQL.
type Store struct {
	q            *db.Queries
	ttl          time.Duration
	abandonAfter time.Duration
}

// NewStore returns a store over pool with the default TTL.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{q: db.New(pool), ttl: TTL, abandonAfter: AbandonAfter}
}

// Request identifies one request made with a key.
type Request struct {
	UserID string
	Key    string
	// Hash is RequestHash of the request's method, path and body.
	Hash []byte
}

// RequestHash fingerprints a request: the same method, path and body give
// the same hash.
func RequestHash(method, path string, body []byte) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return h.Sum(nil)
}

// Response is a stored first response.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Outcome is what Begin decided.
type Outcome int

// The outcomes of Begin.
const (
	// Proceed means the key is new (or expired): run the request, then
	// Complete or Release.
	Proceed Outcome = iota + 1
	// Replay means the key was used for this request before: answer with the
	// stored response and do nothing else.
	Replay
)

var (
	errReused = apperr.InvalidFields("Idempotency-Key reused with a different body.",
		apperr.FieldError{Field: "Idempotency-Key", Message: "was already used with a different request body or path"})
	errInProgress = apperr.New(apperr.Conflict,
		"A request with this Idempotency-Key is still in progress. Retry when it has finished.")
)

// Begin claims the key for req. It returns Proceed when the request should
// run, or Replay with the first response. Errors: Invalid (the key was used
// for a different request), Conflict (a request with the key is running).
func (s *Store) Begin(ctx context.Context, req Request) (Outcome, Response, error) {
	// Two rounds cover the race where the row we collided with is released
	// between our insert and our read.
	for range 2 {
		n, err := s.q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{
			UserID: req.UserID, Key: req.Key, RequestHash: req.Hash,
			TtlSeconds: s.ttl.Seconds(), AbandonAfterSeconds: s.abandonAfter.Seconds(),
		})
		if err != nil {
			return 0, Response{}, fmt.Errorf("idempotency: claim key: %w", err)
		}
		if n == 1 {
			return Proceed, Response{}, nil
		}
		row, err := s.q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{UserID: req.UserID, Key: req.Key})
		if db.IsNoRows(err) {
			continue
		}
		if err != nil {
			return 0, Response{}, fmt.Errorf("idempotency: read key: %w", err)
		}
		if string(row.RequestHash) != string(req.Hash) {
			return 0, Response{}, errReused
		}
		if row.Status == nil {
			return 0, Response{}, errInProgress
		}
		resp := Response{Status: int(*row.Status), Body: row.Response}
		if row.ContentType != nil {
			resp.ContentType = *row.ContentType
		}
		return Replay, resp, nil
	}
	return 0, Response{}, errInProgress
}

// Complete stores the response of a request that Begin let proceed.
func (s *Store) Complete(ctx context.Context, req Request, resp Response) error {
	_, err := s.q.CompleteIdempotencyKey(ctx, db.CompleteIdempotencyKeyParams{
		UserID: req.UserID, Key: req.Key, RequestHash: req.Hash,
		Status: int32(resp.Status), ContentType: resp.ContentType, Response: resp.Body,
	})
	if err != nil {
		return fmt.Errorf("idempotency: complete key: %w", err)
	}
	return nil
}

// Release forgets the key of a request that failed, so a retry runs again.
func (s *Store) Release(ctx context.Context, req Request) error {
	if err := s.q.ReleaseIdempotencyKey(ctx, db.ReleaseIdempotencyKeyParams{UserID: req.UserID, Key: req.Key, RequestHash: req.Hash}); err != nil {
		return fmt.Errorf("idempotency: release key: %w", err)
	}
	return nil
}

// Purge deletes the keys older than the TTL and returns how many there
// were. The periodic purge job is meant to call it; Begin does not depend on
// it, since it takes over expired keys itself.
func (s *Store) Purge(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.q.PurgeIdempotencyKeys(ctx, now.Add(-s.ttl))
	if err != nil {
		return 0, fmt.Errorf("idempotency: purge keys: %w", err)
	}
	return n, nil
}
