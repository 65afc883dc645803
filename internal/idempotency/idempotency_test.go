package idempotency_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/idempotency"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

var userCounter atomic.Int64

// MustUser signs up a fresh user and returns their id.
func MustUser(tb testing.TB, pool *pgxpool.Pool) string {
	tb.Helper()
	n := userCounter.Add(1)
	u, err := accounts.NewService(pool).SignUp(context.Background(), accounts.SignUpInput{
		Email: fmt.Sprintf("idem%d@example.com", n), Password: "correct horse battery staple",
	})
	if err != nil {
		tb.Fatalf("sign up: %v", err)
	}
	return u.ID
}

func wantKind(tb testing.TB, err error, kind apperr.Kind) {
	tb.Helper()
	if !apperr.Is(err, kind) {
		tb.Fatalf("error = %v, want kind %s", err, kind)
	}
}

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := idempotency.NewStore(pool)
	ctx := context.Background()
	req := idempotency.Request{UserID: MustUser(t, pool), Key: "k1", Hash: idempotency.RequestHash("POST", "/a", []byte(`{"x":1}`))}

	if out, _, err := store.Begin(ctx, req); err != nil || out != idempotency.Proceed {
		t.Fatalf("first Begin = %v, %v; want Proceed", out, err)
	}
	_, _, err := store.Begin(ctx, req)
	wantKind(t, err, apperr.Conflict)

	other := req
	other.Hash = idempotency.RequestHash("POST", "/a", []byte(`{"x":2}`))
	_, _, err = store.Begin(ctx, other)
	wantKind(t, err, apperr.Invalid)

	want := idempotency.Response{Status: 201, ContentType: "application/json", Body: []byte(`{"id":"1"}`)}
	if err := store.Complete(ctx, req, want); err != nil {
		t.Fatal(err)
	}
	out, got, err := store.Begin(ctx, req)
	if err != nil || out != idempotency.Replay {
		t.Fatalf("Begin after Complete = %v, %v; want Replay", out, err)
	}
	if got.Status != want.Status || got.ContentType != want.ContentType || string(got.Body) != string(want.Body) {
		t.Errorf("replayed %+v, want %+v", got, want)
	}
	_, _, err = store.Begin(ctx, other)
	wantKind(t, err, apperr.Invalid)

	// Another user's identical key is theirs alone.
	theirs := req
	theirs.UserID = MustUser(t, pool)
	if out, _, err := store.Begin(ctx, theirs); err != nil || out != idempotency.Proceed {
		t.Fatalf("other user's Begin = %v, %v; want Proceed", out, err)
	}
}

func TestStoreReleaseLetsARetryRun(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := idempotency.NewStore(pool)
	ctx := context.Background()
	req := idempotency.Request{UserID: MustUser(t, pool), Key: "k", Hash: idempotency.RequestHash("POST", "/a", nil)}
	if _, _, err := store.Begin(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := store.Release(ctx, req); err != nil {
		t.Fatal(err)
	}
	if out, _, err := store.Begin(ctx, req); err != nil || out != idempotency.Proceed {
		t.Fatalf("Begin after Release = %v, %v; want Proceed", out, err)
	}
}

func TestStoreConcurrentDuplicatesRunOnce(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := idempotency.NewStore(pool)
	req := idempotency.Request{UserID: MustUser(t, pool), Key: "race", Hash: idempotency.RequestHash("POST", "/a", []byte("{}"))}
	const n = 8
	var proceeded, conflicts atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			out, _, err := store.Begin(context.Background(), req)
			switch {
			case err == nil && out == idempotency.Proceed:
				proceeded.Add(1)
			case apperr.Is(err, apperr.Conflict):
				conflicts.Add(1)
			default:
				t.Errorf("Begin = %v, %v", out, err)
			}
		})
	}
	wg.Wait()
	if proceeded.Load() != 1 || conflicts.Load() != n-1 {
		t.Errorf("proceeded %d, conflicts %d; want 1 and %d", proceeded.Load(), conflicts.Load(), n-1)
	}
}

func TestStoreExpiry(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := idempotency.NewStore(pool)
	ctx := context.Background()
	user := MustUser(t, pool)
	old := idempotency.Request{UserID: user, Key: "old", Hash: idempotency.RequestHash("POST", "/a", nil)}
	fresh := idempotency.Request{UserID: user, Key: "fresh", Hash: old.Hash}
	for _, r := range []idempotency.Request{old, fresh} {
		if _, _, err := store.Begin(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := store.Complete(ctx, r, idempotency.Response{Status: 201, ContentType: "application/json", Body: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`); err != nil {
		t.Fatal(err)
	}
	// An expired key runs again, even before the purge.
	if out, _, err := store.Begin(ctx, old); err != nil || out != idempotency.Proceed {
		t.Fatalf("Begin of an expired key = %v, %v; want Proceed", out, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`); err != nil {
		t.Fatal(err)
	}
	n, err := store.Purge(ctx, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if out, _, err := store.Begin(ctx, fresh); err != nil || out != idempotency.Replay {
		t.Fatalf("fresh key after purge = %v, %v; want Replay", out, err)
	}
}
