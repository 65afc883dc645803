package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/views"
)

// statusOf maps each domain error kind to its HTTP status, in one place.
func statusOf(kind apperr.Kind) int {
	switch kind {
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Invalid:
		return http.StatusUnprocessableEntity
	case apperr.Conflict, apperr.StaleVersion, apperr.NoModelKey:
		return http.StatusConflict
	case apperr.Locked:
		return http.StatusLocked
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// kindOfStatus classifies errors raised by Echo itself (unknown routes,
// oversized bodies, CSRF failures) in the same vocabulary.
func kindOfStatus(status int) apperr.Kind {
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return apperr.NotFound
	case http.StatusUnauthorized:
		return apperr.Unauthorized
	case http.StatusForbidden:
		return apperr.Forbidden
	case http.StatusTooManyRequests:
		return apperr.RateLimited
	case http.StatusRequestEntityTooLarge:
		return apperr.TooLarge
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return apperr.Invalid
	case http.StatusConflict:
		return apperr.Conflict
	case http.StatusServiceUnavailable:
		return apperr.Unavailable
	}
	return apperr.Internal
}

var titles = map[apperr.Kind]string{
	apperr.NotFound:     "Not found",
	apperr.Invalid:      "Invalid input",
	apperr.Conflict:     "Conflict",
	apperr.StaleVersion: "Changed meanwhile",
	apperr.Locked:       "Locked",
	apperr.Unauthorized: "Sign-in required",
	apperr.Forbidden:    "Forbidden",
	apperr.RateLimited:  "Too many requests",
	apperr.TooLarge:     "Too large",
	apperr.NoModelKey:   "No model key",
	apperr.Unavailable:  "Temporarily unavailable",
	apperr.Internal:     "Something went wrong",
}

// normalize turns any error into a domain error with a user-safe message.
func normalize(err error) *apperr.Error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		kind := kindOfStatus(he.Code)
		msg := defaultMessage(kind)
		if he.Code == http.StatusMethodNotAllowed {
			msg = "That page does not exist."
		}
		if kind == apperr.Forbidden && strings.Contains(fmt.Sprint(he.Message), "csrf") || he.Code == http.StatusBadRequest && strings.Contains(fmt.Sprint(he.Message), "csrf") {
			kind, msg = apperr.Forbidden, "This form expired or came from another site. Reload the page and try again."
		}
		return &apperr.Error{Kind: kind, Message: msg, Cause: err}
	}
	return &apperr.Error{Kind: apperr.Internal, Message: apperr.MessageOf(err), Cause: err}
}

func defaultMessage(kind apperr.Kind) string {
	switch kind {
	case apperr.NotFound:
		return "That page does not exist, or you do not have access to it."
	case apperr.Unauthorized:
		return "Please sign in."
	case apperr.Forbidden:
		return "You do not have permission to do that."
	case apperr.TooLarge:
		return "The request is too large."
	case apperr.RateLimited:
		return "Too many requests. Please slow down."
	case apperr.Invalid:
		return "The request is not valid."
	case apperr.Unavailable:
		return "Scratchpad cannot reach its database right now. Please try again in a few seconds."
	}
	return apperr.MessageOf(nil)
}

// retryAfterUnavailable is the Retry-After, in seconds, of a 503: about as
// long as a database restart or failover takes.
const retryAfterUnavailable = "5"

// handleError is Echo's error handler: the one place errors become a full
// error page, an htmx toast, or problem+json, each without internal detail.
// Errors that mean the database cannot be reached (Deps.DatabaseUnavailable)
// answer 503 with Retry-After instead of 500.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := normalize(err)
	if e.Kind == apperr.Internal && s.DatabaseUnavailable != nil && s.DatabaseUnavailable(err) {
		e = apperr.Wrap(apperr.Unavailable, err, "%s", defaultMessage(apperr.Unavailable))
	}
	status := statusOf(e.Kind)
	if e.Kind == apperr.Unavailable {
		c.Response().Header().Set("Retry-After", retryAfterUnavailable)
	}
	if status >= 500 {
		s.Logger.ErrorContext(c.Request().Context(), "request failed", "err", err, "path", c.Request().URL.Path)
	}
	var werr error
	switch {
	case isAPI(c):
		werr = writeProblem(c, status, e)
	case isHTMX(c):
		// A failed htmx request shows a toast wherever it was aimed.
		c.Response().Header().Set("HX-Retarget", "#toasts")
		c.Response().Header().Set("HX-Reswap", "beforeend")
		werr = render(c, status, views.Toast("error", e.Message))
	case status == http.StatusUnauthorized:
		werr = c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(safeNext(c.Request().URL.RequestURI())))
	default:
		werr = render(c, status, views.ErrorPage(s.page(c, titles[e.Kind], ""), status, titles[e.Kind], e.Message))
	}
	if werr != nil {
		s.Logger.ErrorContext(c.Request().Context(), "writing error response", "err", werr)
	}
}

// problem is an RFC 9457 problem document with our stable code.
type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Code   string              `json:"code"`
	Errors []apperr.FieldError `json:"errors,omitempty"`
}

func writeProblem(c echo.Context, status int, e *apperr.Error) error {
	p := problem{
		Type:   "https://scratchpad.dev/problems/" + string(e.Kind),
		Title:  titles[e.Kind],
		Status: status,
		Detail: e.Message,
		Code:   string(e.Kind),
		Errors: e.Fields,
	}
	if e.Kind == apperr.Unauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="scratchpad"`)
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(status)
	return writeJSONBody(c, p)
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/") }

// maxNextLen bounds a post-sign-in target; no page of ours needs a longer
// address.
const maxNextLen = 4096

// safeNext keeps post-sign-in redirects on this site: it returns next when
// it is a path on this host and "/" otherwise. Browsers drop tabs and
// newlines from a Location and read a backslash as a slash, so
// "/\t/evil.example" or "/\\evil.example" would leave the site; control
// characters and backslashes are refused whether raw or percent-encoded,
// and so is anything that parses with a scheme or a host.
func safeNext(next string) string {
	if len(next) > maxNextLen || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	decoded, err := url.PathUnescape(next)
	if err != nil || hasControlOrBackslash(next) || hasControlOrBackslash(decoded) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return u.String()
}

func hasControlOrBackslash(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || unicode.IsControl(r) })
}

func itoa(n int) string { return strconv.Itoa(n) }
