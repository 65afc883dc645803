package sessionstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// Bounds of the stored client details: settings shows the user agent
// shortened, and a client may send kilobytes of either (the address can come
// from X-Forwarded-For).
const (
	maxUserAgent = 512
	maxIP        = 64
)

// Client is the browser behind a request, as the list of a user's sessions
// shows it.
type Client struct {
	UserAgent string
	IP        string
}

type clientKey struct{}

// WithClient returns ctx carrying c. scs passes the request's context to the
// store when it writes the session, so a middleware that runs before scs's
// LoadAndSave and calls WithClient gets the browser recorded with it.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// Postgres is an scs.CtxStore over the sessions table that records whose
// each session is (see the package documentation).
type Postgres struct {
	pool    *pgxpool.Pool
	codec   scs.Codec
	userKey string
}

// NewPostgres returns the store over pool. codec is the SessionManager's,
// and userKey the session key under which the app keeps the signed-in
// user's id.
func NewPostgres(pool *pgxpool.Pool, codec scs.Codec, userKey string) *Postgres {
	return &Postgres{pool: pool, codec: codec, userKey: userKey}
}

// FindCtx returns a session's data unless it is unknown, expired or ended.
func (p *Postgres) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	b, err := db.New(p.pool).FindSession(ctx, token)
	if db.IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sessionstore: find: %w", err)
	}
	return b, true, nil
}

// CommitCtx writes a session with its user, read from its data, and the
// browser that ctx carries (WithClient). An ended session stays ended.
func (p *Postgres) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, values, err := p.codec.Decode(b)
	if err != nil {
		// Written without its user, the session could not be ended on the
		// user's behalf: better not written at all.
		return fmt.Errorf("sessionstore: decode session: %w", err)
	}
	params := db.SaveSessionParams{Token: token, Data: b, Expiry: expiry}
	if id, _ := values[p.userKey].(string); ids.ValidUUID(id) {
		params.UserID = &id
	}
	if c, ok := ctx.Value(clientKey{}).(Client); ok {
		params.UserAgent, params.Ip = clean(c.UserAgent, maxUserAgent), clean(c.IP, maxIP)
	}
	if err := db.New(p.pool).SaveSession(ctx, params); err != nil {
		return fmt.Errorf("sessionstore: save: %w", err)
	}
	return nil
}

// DeleteCtx ends a session (scs's Destroy and RenewToken call it) and, when
// it was someone's, tells that user's open event streams in the same
// transaction, so the streams opened with it end.
func (p *Postgres) DeleteCtx(ctx context.Context, token string) error {
	err := db.InTx(ctx, p.pool, func(tx pgx.Tx) error {
		userID, err := db.New(tx).EndSessionByToken(ctx, token)
		if db.IsNoRows(err) || err == nil && userID == nil {
			return nil
		}
		if err != nil {
			return err
		}
		return events.Notify(ctx, tx, events.Event{
			Topic: events.UserTopic(*userID), Type: events.TypeAuthChanged, Data: json.RawMessage(`{"reason":"session_ended"}`),
		})
	})
	if err != nil {
		return fmt.Errorf("sessionstore: end session: %w", err)
	}
	return nil
}

// Find is FindCtx without a context.
func (p *Postgres) Find(token string) ([]byte, bool, error) {
	return p.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context, and so without a browser.
func (p *Postgres) Commit(token string, b []byte, expiry time.Time) error {
	return p.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context.
func (p *Postgres) Delete(token string) error {
	return p.DeleteCtx(context.Background(), token)
}

// clean makes client-sent text storable: valid UTF-8 without NUL (which
// PostgreSQL's text refuses, failing the whole write) and at most n bytes,
// cut between characters.
func clean(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
