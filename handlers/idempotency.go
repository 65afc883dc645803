package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/idempotency"
)

// idempotencyHeader is the request header carrying the key.
const idempotencyHeader = "Idempotency-Key"

// idempotencyReplayedHeader is set to "true" on a response that is a replay.
const idempotencyReplayedHeader = "Idempotent-Replayed"

// maxIdempotencyKeyLength bounds a key; UUIDs and similar fit with room to spare.
const maxIdempotencyKeyLength = 255

// idempotencyOptions configure idempotencyMiddleware.
type idempotencyOptions struct {
	Store *idempotency.Store
	// UserID returns the authenticated user's id; the middleware runs after
	// authentication, and requests without a user pass through untouched.
	UserID func(c echo.Context) string
	// Logger receives failures to store a response, which the client does
	// not see (its request did succeed).
	Logger *slog.Logger
}

// idempotencyMiddleware makes a handler idempotent for JSON requests that carry an
// Idempotency-Key header; requests without one, and uploads (multipart and
// other non-JSON bodies, which are never buffered), pass through. Errors: Invalid
// (a malformed key, or a key reused with a different request), Conflict (a
// request with the key is still running).
func idempotencyMiddleware(opts idempotencyOptions) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get(idempotencyHeader)
			if key == "" || !idempotencyBufferable(c.Request()) {
				return next(c)
			}
			if msg := validateIdempotencyKey(key); msg != "" {
				return apperr.InvalidFields("The Idempotency-Key header is not valid.", apperr.FieldError{Field: idempotencyHeader, Message: msg})
			}
			userID := opts.UserID(c)
			if userID == "" {
				return next(c)
			}
			body, err := io.ReadAll(c.Request().Body)
			if err != nil {
				return bodyReadError(err) // the body limit's 413, or a broken connection
			}
			c.Request().Body = io.NopCloser(bytes.NewReader(body))
			req := idempotency.Request{UserID: userID, Key: key, Hash: idempotency.RequestHash(c.Request().Method, c.Request().URL.RequestURI(), body)}

			ctx := c.Request().Context()
			outcome, stored, err := opts.Store.Begin(ctx, req)
			if err != nil {
				return err
			}
			if outcome == idempotency.Replay {
				c.Response().Header().Set(idempotencyReplayedHeader, "true")
				return c.Blob(stored.Status, stored.ContentType, stored.Body)
			}
			return runIdempotent(c, next, opts, req)
		}
	}
}

// run runs the request whose key was claimed and keeps its response, or
// releases the key when it failed.
func runIdempotent(c echo.Context, next echo.HandlerFunc, opts idempotencyOptions, req idempotency.Request) error {
	// The key must be completed or released even when the client has gone.
	ctx := context.WithoutCancel(c.Request().Context())
	res := c.Response()
	rec := &bodyRecorder{ResponseWriter: res.Writer}
	res.Writer = rec
	err := next(c)
	res.Writer = rec.ResponseWriter

	if err != nil || res.Status < 200 || res.Status > 299 {
		if rerr := opts.Store.Release(ctx, req); rerr != nil {
			logIdempotencyError(opts.Logger, ctx, "release idempotency key", rerr)
		}
		return err
	}
	resp := idempotency.Response{Status: res.Status, ContentType: res.Header().Get(echo.HeaderContentType), Body: rec.body.Bytes()}
	if cerr := opts.Store.Complete(ctx, req, resp); cerr != nil {
		// The change is done and answered; a retry will find the key in
		// progress (409) until it is abandoned, rather than repeat the change.
		logIdempotencyError(opts.Logger, ctx, "store idempotent response", cerr)
	}
	return nil
}

func logIdempotencyError(l *slog.Logger, ctx context.Context, msg string, err error) {
	if l != nil {
		l.ErrorContext(ctx, msg, "err", err)
	}
}

// idempotencyBufferable reports whether the request's body may be read into memory to
// be fingerprinted: JSON bodies (bounded by the API's body limit) and empty
// ones. Uploads stream past that limit and are left alone.
func idempotencyBufferable(r *http.Request) bool {
	ct := r.Header.Get(echo.HeaderContentType)
	return r.ContentLength == 0 || strings.HasPrefix(ct, echo.MIMEApplicationJSON)
}

// validateIdempotencyKey returns why key cannot be an idempotency key, or "".
func validateIdempotencyKey(key string) string {
	if len(key) > maxIdempotencyKeyLength {
		return "must be at most 255 characters"
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}

// bodyRecorder passes a response through and keeps a copy of its body.
type bodyRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *bodyRecorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *bodyRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
