package sessionstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/sessionstore"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// userKey is the session key the tests keep the user's id under.
const userKey = "user_id"

func mustUserID(tb testing.TB, pool *pgxpool.Pool, email string) string {
	tb.Helper()
	var id string
	if err := pool.QueryRow(context.Background(), `INSERT INTO users (email) VALUES ($1) RETURNING id`, email).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

func mustEncode(tb testing.TB, values map[string]any) []byte {
	tb.Helper()
	b, err := scs.GobCodec{}.Encode(time.Now().Add(24*time.Hour).UTC(), values)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sessionRow is what the sessions table says about one session.
type sessionRow struct {
	userID          *string
	userAgent, ip   string
	ended, findable bool
}

func mustRow(tb testing.TB, pool *pgxpool.Pool, store *sessionstore.Postgres, token string) sessionRow {
	tb.Helper()
	var r sessionRow
	if err := pool.QueryRow(context.Background(),
		`SELECT user_id, user_agent, ip, ended_at IS NOT NULL FROM sessions WHERE token = $1`, token,
	).Scan(&r.userID, &r.userAgent, &r.ip, &r.ended); err != nil {
		tb.Fatalf("session %s: %v", token, err)
	}
	_, found, err := store.Find(token)
	if err != nil {
		tb.Fatal(err)
	}
	r.findable = found
	return r
}

func TestPostgresRecordsWhoseEachSessionIsAndTheBrowser(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := sessionstore.NewPostgres(pool, scs.GobCodec{}, userKey)
	skipping := sessionstore.New(store, scs.GobCodec{}, time.Minute)
	ada := mustUserID(t, pool, "ada@example.com")
	// A hostile browser: invalid UTF-8, a NUL, and far too long.
	ctx := sessionstore.WithClient(context.Background(), sessionstore.Client{
		UserAgent: "Firefox\xff\x00" + strings.Repeat("é", 600), IP: "192.0.2.1",
	})
	expiry := time.Now().Add(time.Hour)

	if err := skipping.CommitCtx(ctx, "signed-in", mustEncode(t, map[string]any{userKey: ada, "role": "user"}), expiry); err != nil {
		t.Fatal(err)
	}
	if err := store.CommitCtx(ctx, "anonymous", mustEncode(t, map[string]any{"flash": "hello"}), expiry); err != nil {
		t.Fatal(err)
	}
	if err := store.CommitCtx(ctx, "not-a-user", mustEncode(t, map[string]any{userKey: "ada"}), expiry); err != nil {
		t.Fatal(err)
	}

	r := mustRow(t, pool, store, "signed-in")
	if r.userID == nil || *r.userID != ada || !r.findable || r.ip != "192.0.2.1" {
		t.Errorf("signed-in session: %+v", r)
	}
	if !strings.HasPrefix(r.userAgent, "Firefox\uFFFDé") || len(r.userAgent) > 512 || !utf8.ValidString(r.userAgent) {
		t.Errorf("user agent stored as %q (%d bytes)", r.userAgent, len(r.userAgent))
	}
	for _, token := range []string{"anonymous", "not-a-user"} {
		if r := mustRow(t, pool, store, token); r.userID != nil || !r.findable {
			t.Errorf("%s: %+v, want no user", token, r)
		}
	}

	// A write without a browser (no request) keeps the one recorded; a
	// session whose data no longer names the user no longer is theirs.
	if err := store.Commit("signed-in", mustEncode(t, map[string]any{"role": "user"}), expiry); err != nil {
		t.Fatal(err)
	}
	if r := mustRow(t, pool, store, "signed-in"); r.userID != nil || r.ip != "192.0.2.1" || r.userAgent == "" {
		t.Errorf("after signing out without a browser: %+v", r)
	}
}

func TestEndedSessionTellsItsUserAndIsNeverWrittenBack(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := sessionstore.NewPostgres(pool, scs.GobCodec{}, userKey)
	ada := mustUserID(t, pool, "ada@example.com")
	ctx := context.Background()
	data := mustEncode(t, map[string]any{userKey: ada})
	expiry := time.Now().Add(time.Hour)
	for _, token := range []string{"ada", "anonymous"} {
		if err := store.Commit(token, data, expiry); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Commit("anonymous", mustEncode(t, map[string]any{}), expiry); err != nil {
		t.Fatal(err)
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+events.Channel); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete("anonymous"); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete("ada"); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := conn.Conn().WaitForNotification(waitCtx)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.Event
	if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil || ev.Topic != events.UserTopic(ada) || ev.Type != events.TypeAuthChanged {
		t.Errorf("first notification %s (%v), want auth.changed for ada only", n.Payload, err)
	}

	// A request that loaded the session just before it ended commits it
	// afterwards: it stays ended.
	if err := store.Commit("ada", data, expiry.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if r := mustRow(t, pool, store, "ada"); !r.ended || r.findable {
		t.Errorf("an ended session after a late commit: %+v", r)
	}
	// Deleting what is already ended tells no one again.
	if err := store.Delete("ada"); err != nil {
		t.Fatal(err)
	}
	quiet, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if n, err := conn.Conn().WaitForNotification(quiet); err == nil {
		t.Errorf("unexpected notification %s", n.Payload)
	}
}
