package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/idempotency"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// These tests drive the middleware directly, without a whole instance; the
// API tests cover it end to end.

func wantKind(tb testing.TB, err error, kind apperr.Kind) {
	tb.Helper()
	if !apperr.Is(err, kind) {
		tb.Fatalf("error = %v, want kind %s", err, kind)
	}
}

// serve runs h behind the middleware for user, returning the recorder and
// the handler's error.
func serve(t testing.TB, mw echo.MiddlewareFunc, h echo.HandlerFunc, user, key, body string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	return serveAs(t, mw, h, user, key, echo.MIMEApplicationJSON, body)
}

func serveAs(t testing.TB, mw echo.MiddlewareFunc, h echo.HandlerFunc, user, key, contentType, body string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, contentType)
	if key != "" {
		req.Header.Set(idempotencyHeader, key)
	}
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	c.Set("user", user)
	return rec, mw(h)(c)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	u, err := accounts.NewService(pool).SignUp(context.Background(), accounts.SignUpInput{Email: "idem@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	user := u.ID
	mw := idempotencyMiddleware(idempotencyOptions{
		Store:  idempotency.NewStore(pool),
		UserID: func(c echo.Context) string { s, _ := c.Get("user").(string); return s },
	})
	var calls atomic.Int64
	create := func(c echo.Context) error {
		n := calls.Add(1)
		return c.JSON(http.StatusCreated, map[string]int64{"n": n})
	}

	first, err := serve(t, mw, create, user, "abc", `{"name":"x"}`)
	if err != nil || first.Code != http.StatusCreated {
		t.Fatalf("first: %d %v", first.Code, err)
	}
	again, err := serve(t, mw, create, user, "abc", `{"name":"x"}`)
	if err != nil || again.Code != http.StatusCreated || again.Body.String() != first.Body.String() {
		t.Fatalf("replay: %d %q %v; want %q", again.Code, again.Body.String(), err, first.Body.String())
	}
	if again.Header().Get(idempotencyReplayedHeader) != "true" || first.Header().Get(idempotencyReplayedHeader) != "" {
		t.Error("only the replay carries Idempotent-Replayed")
	}
	if calls.Load() != 1 {
		t.Errorf("handler ran %d times, want 1", calls.Load())
	}
	_, err = serve(t, mw, create, user, "abc", `{"name":"y"}`)
	wantKind(t, err, apperr.Invalid)

	// Without a key every request runs.
	serve(t, mw, create, user, "", `{}`) //nolint:errcheck // the count is the check
	serve(t, mw, create, user, "", `{}`) //nolint:errcheck
	if calls.Load() != 3 {
		t.Errorf("handler ran %d times, want 3", calls.Load())
	}

	// Uploads are not buffered, so they are not deduplicated.
	serveAs(t, mw, create, user, "upload", "multipart/form-data; boundary=x", "--x--") //nolint:errcheck
	serveAs(t, mw, create, user, "upload", "multipart/form-data; boundary=x", "--x--") //nolint:errcheck
	if calls.Load() != 5 {
		t.Errorf("handler ran %d times, want 5", calls.Load())
	}

	_, err = serve(t, mw, create, user, "has space", `{}`)
	wantKind(t, err, apperr.Invalid)

	// A failed request releases its key: the retry runs.
	failing := func(c echo.Context) error { return apperr.New(apperr.Invalid, "nope") }
	if _, err := serve(t, mw, failing, user, "retry", `{}`); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("failing handler: %v", err)
	}
	if rec, err := serve(t, mw, create, user, "retry", `{}`); err != nil || rec.Code != http.StatusCreated || rec.Header().Get(idempotencyReplayedHeader) != "" {
		t.Fatalf("retry after failure: %d %v", rec.Code, err)
	}
}
