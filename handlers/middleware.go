package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/clerkauth"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/reqlog"
	"github.com/scratchpad/scratchpad/internal/sessionstore"
)

const (
	csrfContextKey      = "csrf"
	requestIDContextKey = "request_id"
	sessionRoleKey      = "role"
)

// SessionUserKey is the session key that holds the signed-in user's id. The
// session store reads it too, to know whose each session is
// (internal/sessionstore).
const SessionUserKey = "user_id"

// requestID gives every request an id, echoed in X-Request-Id and attached to
// every log line written with the request's context.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(requestIDContextKey, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.SetRequest(c.Request().WithContext(reqlog.With(c.Request().Context(), "request_id", id)))
		return next(c)
	}
}

// accessLog writes one structured line per request and records its duration
// by route for /metrics.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		s.metrics.observe(c.Request().Method, route, status, took)
		if route == "/healthz" || route == "/metrics" {
			return nil
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.Logger.Log(c.Request().Context(), level, "http",
			"method", c.Request().Method, "path", c.Request().URL.Path, "route", route,
			"status", status, "bytes", c.Response().Size, "ms", took.Milliseconds())
		return nil
	}
}

// recoverPanics turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.Logger.ErrorContext(c.Request().Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// securityHeaders sets the CSP (no inline script, no inline style) and the
// other headers every response carries.
func (s *Server) securityHeaders() echo.MiddlewareFunc {
	scriptSrc, connectSrc, imgSrc, frameSrc := "'self'", "'self'", "'self' data:", "'none'"
	if s.Clerk != nil {
		origin := "https://" + s.Clerk.FrontendAPI()
		scriptSrc += " " + origin
		connectSrc += " " + origin
		imgSrc += " https://img.clerk.com"
		frameSrc = origin
	}
	csp := strings.Join([]string{
		"default-src 'self'",
		"script-src " + scriptSrc,
		"style-src 'self'",
		"img-src " + imgSrc,
		"connect-src " + connectSrc,
		"frame-src " + frameSrc,
		"worker-src 'self' blob:",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if s.Config.SecureCookies() {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// csrf protects every state-changing browser request: Sec-Fetch-Site where
// the browser sends it, a double-submit token otherwise. Requests that
// authenticate with a bearer token carry no ambient credentials and skip it.
// Upload routes take the token from the header only (htmx sends it): looking
// in the form would make Echo parse the multipart body, spilling the file to
// temporary files before anyone is signed in.
func (s *Server) csrf() echo.MiddlewareFunc {
	cookie := s.csrfCookie("")
	config := func(lookup string, skip func(echo.Context) bool) middleware.CSRFConfig {
		return middleware.CSRFConfig{
			TokenLookup:    lookup,
			ContextKey:     csrfContextKey,
			CookieName:     cookie.Name,
			CookiePath:     cookie.Path,
			CookieMaxAge:   cookie.MaxAge,
			CookieHTTPOnly: cookie.HttpOnly,
			CookieSecure:   cookie.Secure,
			CookieSameSite: cookie.SameSite,
			Skipper:        skip,
			ErrorHandler: func(err error, c echo.Context) error {
				return apperr.Wrap(apperr.Forbidden, err, "This form expired or came from another site. Reload the page and try again.")
			},
		}
	}
	forms := middleware.CSRFWithConfig(config("header:X-CSRF-Token,form:_csrf", func(c echo.Context) bool {
		return hasBearer(c.Request()) || uploadRoutes[c.Path()]
	}))
	uploads := middleware.CSRFWithConfig(config("header:X-CSRF-Token", func(c echo.Context) bool {
		return hasBearer(c.Request()) || !uploadRoutes[c.Path()]
	}))
	return func(next echo.HandlerFunc) echo.HandlerFunc { return forms(uploads(next)) }
}

// csrfCookie is the double-submit CSRF cookie carrying token, with the
// attributes the csrf middleware gives it.
func (s *Server) csrfCookie(token string) *http.Cookie {
	return &http.Cookie{
		Name:     "sp_csrf",
		Value:    token,
		Path:     "/",
		MaxAge:   int((24 * time.Hour).Seconds()),
		HttpOnly: true,
		Secure:   s.Config.SecureCookies(),
		SameSite: http.SameSiteStrictMode,
	}
}

// rotateCSRFToken gives this browser a new CSRF token when a session starts,
// so a token planted in its cookie, or read from a page, before sign-in is
// worthless afterwards. The cookie the csrf middleware set on this response
// is replaced, not followed by a second one.
func (s *Server) rotateCSRFToken(c echo.Context) {
	cookie := s.csrfCookie(rand.Text())
	h := c.Response().Header()
	earlier := h.Values("Set-Cookie")
	h.Del("Set-Cookie")
	for _, v := range earlier {
		if !strings.HasPrefix(v, cookie.Name+"=") {
			h.Add("Set-Cookie", v)
		}
	}
	c.SetCookie(cookie)
	c.Set(csrfContextKey, cookie.Value)
}

// limitBody caps request bodies: MAX_BODY_BYTES for ordinary requests,
// MAX_UPLOAD_BYTES (plus room for the form around the file) for uploads. A
// body that declares more is refused before it is read; one that streams
// more fails its read.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := s.Config.MaxBodyBytes
		if uploadRoutes[c.Path()] {
			limit = s.Config.MaxUploadBytes + multipartOverhead
		}
		req := c.Request()
		if req.ContentLength > limit {
			return apperr.New(apperr.TooLarge, "The request body is too large (at most %s).", imports.ByteSize(limit))
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		return next(c)
	}
}

// refuseUnstorableQuery refuses query parameters with NUL characters or
// invalid UTF-8 before any handler sees them: PostgreSQL can neither store
// nor compare such text, so a search or filter holding it would fail as an
// internal error rather than as the client's mistake.
func refuseUnstorableQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		params := c.QueryParams()
		names := make([]string, 0, len(params))
		for name := range params {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			bad := !storableText(name)
			for _, v := range params[name] {
				bad = bad || !storableText(v)
			}
			if bad {
				field := strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "")
				return apperr.InvalidFields("The query parameter "+strconv.Quote(field)+" holds characters that are not text.",
					apperr.FieldError{Field: field, Message: "must be UTF-8 text without NUL characters"})
			}
		}
		return next(c)
	}
}

// storableText reports whether PostgreSQL can store s as text.
func storableText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func hasBearer(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer ")
}

// sessionClient tells the session store which browser is behind the
// request, for the list of a user's sessions in settings. It runs before
// scs's LoadAndSave, which passes the request's context to the store.
func sessionClient(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		client := sessionstore.Client{UserAgent: r.UserAgent(), IP: c.RealIP()}
		c.SetRequest(r.WithContext(sessionstore.WithClient(r.Context(), client)))
		return next(c)
	}
}

// loadUser resolves the browser's session (or Clerk session token) to a
// user on every request, so a disabled account or a changed role takes
// effect at once. The session token is renewed when the role changed.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if hasBearer(c.Request()) {
			return next(c)
		}
		ctx := c.Request().Context()
		u, ok, err := s.sessionUser(c)
		if err != nil {
			return err
		}
		if !ok && s.Clerk != nil {
			u, ok, err = s.clerkUser(ctx, c.Request())
			if err != nil {
				return err
			}
		}
		if ok {
			c.Set(userContextKey, u)
		}
		return next(c)
	}
}

func (s *Server) sessionUser(c echo.Context) (accounts.User, bool, error) {
	ctx := c.Request().Context()
	id := s.Sessions.GetString(ctx, SessionUserKey)
	if id == "" {
		return accounts.User{}, false, nil
	}
	u, err := s.Accounts.FindUserByID(ctx, id)
	if apperr.Is(err, apperr.NotFound) || err == nil && u.Disabled() {
		// The account is gone or disabled: this session ends now.
		return accounts.User{}, false, s.Sessions.Destroy(ctx)
	}
	if err != nil {
		return accounts.User{}, false, err
	}
	if s.Sessions.GetString(ctx, sessionRoleKey) != string(u.Role) {
		// A privilege change gets a fresh session token.
		if err := s.Sessions.RenewToken(ctx); err != nil {
			return accounts.User{}, false, err
		}
		s.Sessions.Put(ctx, sessionRoleKey, string(u.Role))
	}
	return u, true, nil
}

// clerkUser verifies Clerk's __session token and maps it to our user,
// creating the user on first sight from Clerk's profile.
func (s *Server) clerkUser(ctx context.Context, r *http.Request) (accounts.User, bool, error) {
	token := clerkauth.SessionFromRequest(r)
	if token == "" {
		return accounts.User{}, false, nil
	}
	sess, err := s.Clerk.VerifySession(ctx, token)
	if err != nil {
		if !errors.Is(err, clerkauth.ErrInvalidSession) {
			s.Logger.WarnContext(ctx, "clerk verification unavailable", "err", err)
		}
		return accounts.User{}, false, nil
	}
	u, err := s.Accounts.FindUserByClerkID(ctx, sess.UserID)
	if apperr.Is(err, apperr.NotFound) {
		profile, ferr := s.Clerk.FetchUser(ctx, sess.UserID)
		if errors.Is(ferr, clerkauth.ErrUserNotFound) {
			// Deleted at Clerk after the token was issued: signed out.
			return accounts.User{}, false, nil
		}
		if ferr != nil {
			return accounts.User{}, false, fmt.Errorf("fetch clerk user: %w", ferr)
		}
		u, err = s.Accounts.UpsertClerkUser(ctx, accounts.ClerkProfile{ClerkUserID: profile.ClerkUserID, Email: profile.Email, Name: profile.Name})
	}
	if apperr.Is(err, apperr.Forbidden) || err == nil && u.Disabled() {
		return accounts.User{}, false, nil
	}
	if err != nil {
		return accounts.User{}, false, err
	}
	return u, true, nil
}

const sessionLoadedKey = "session_loaded"

// inSession notes that the session middleware ran, so error pages know they
// may read flash messages, and renders errors while the session is still
// open, so popping a flash for an error page is saved too.
func inSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(sessionLoadedKey, true)
		if err := next(c); err != nil {
			c.Error(err)
		}
		return nil
	}
}

// requireUser sends signed-out browsers to the sign-in page.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := currentUser(c); !ok {
			return apperr.New(apperr.Unauthorized, "Please sign in.")
		}
		return next(c)
	}
}

// requireAdmin answers 403 to everyone but admins.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, ok := currentUser(c)
		if !ok {
			return apperr.New(apperr.Unauthorized, "Please sign in.")
		}
		if !u.IsAdmin() {
			return apperr.New(apperr.Forbidden, "Only admins can open this page.")
		}
		return next(c)
	}
}

// noStore keeps pages with personal data out of shared caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// compressMinLength is the smallest response compress gzips: below it the
// bytes saved do not pay for the header and the work.
const compressMinLength = 1024

// compress gzips responses for clients that accept it, except event
// streams (gzip would hold events back until its buffer fills), files that
// are compressed already, and /metrics, whose handler compresses itself.
func compress() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{
		MinLength: compressMinLength,
		Skipper: func(c echo.Context) bool {
			r := c.Request()
			if strings.Contains(r.Header.Get(echo.HeaderAccept), "text/event-stream") || strings.HasSuffix(r.URL.Path, "/events") || r.URL.Path == "/metrics" {
				return true
			}
			switch strings.ToLower(path.Ext(r.URL.Path)) {
			case ".gz", ".zip", ".png", ".jpg", ".jpeg", ".webp", ".woff2":
				return true
			}
			return false
		},
	})
}
