package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
)

const tokenContextKey = "api_token"

// apiAuth resolves the bearer token to its user and token.
func (s *Server) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "bearer") || secret == "" {
			return apperr.New(apperr.Unauthorized, "Send an API token: Authorization: Bearer <token>.")
		}
		u, tok, err := s.Accounts.AuthenticateToken(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			return err
		}
		c.Set(userContextKey, u)
		c.Set(tokenContextKey, tok)
		return next(c)
	}
}

// scope refuses tokens that lack the named scope. The admin scope also
// requires the token's user to be an admin now, not only when it was made.
func (s *Server) scope(name accounts.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, _ := c.Get(tokenContextKey).(accounts.Token)
			if !tok.Has(name) {
				return apperr.New(apperr.Forbidden, "This token lacks the %q scope.", name)
			}
			if name == accounts.ScopeAdmin && !mustUser(c).IsAdmin() {
				return apperr.New(apperr.Forbidden, "Only admins can use the admin API.")
			}
			return next(c)
		}
	}
}

// apiRateLimit spends one request from the token's bucket and reports the
// bucket in RateLimit-* headers.
func (s *Server) apiRateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, _ := c.Get(tokenContextKey).(accounts.Token)
		r := s.limiter.Allow(tok.ID)
		h := c.Response().Header()
		h.Set("RateLimit-Limit", strconv.Itoa(r.Limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(r.Remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(int(r.Reset.Seconds()+0.999)))
		if !r.Allowed {
			h.Set("Retry-After", strconv.Itoa(int(r.RetryAfter.Seconds()+0.999)))
			return apperr.New(apperr.RateLimited, "Rate limit exceeded. Retry after %d seconds.", int(r.RetryAfter.Seconds()+0.999))
		}
		return next(c)
	}
}

// writeJSONBody encodes v without HTML escaping surprises and with a newline.
func writeJSONBody(c echo.Context, v any) error {
	enc := json.NewEncoder(c.Response())
	return enc.Encode(v)
}

// bindJSON decodes the request body strictly: unknown fields and trailing
// data are errors, so typos in a client do not silently do nothing, and so
// are null where the field cannot be null and NUL characters
// (checkJSONInput). The body is read whole, within the body limit.
func bindJSON(c echo.Context, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return apperr.New(apperr.Invalid, "Send a JSON body with Content-Type: application/json.")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyReadError(err)
	}
	// First as plain JSON values, to see the nulls and NULs that decoding
	// into v would hide.
	var plain any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&plain); err != nil {
		return invalidJSON(err)
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "The JSON body has trailing data.")
	}
	if e := checkJSONInput(plain, reflect.TypeOf(v).Elem(), "", false); e != nil {
		return e
	}
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidJSON(err)
	}
	return nil
}

// bodyReadError classifies a failure to read a request body: past the body
// limit it is TooLarge; otherwise the client went away mid-request.
func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.Wrap(apperr.TooLarge, err, "The request body is too large.")
	}
	return apperr.Wrap(apperr.Invalid, err, "The request body could not be read; please try again.")
}

// invalidJSON describes a body that does not decode, naming the field at
// fault when there is one.
func invalidJSON(err error) error {
	e := apperr.Wrap(apperr.Invalid, err, "The JSON body is not valid: %s.", jsonErrorText(err))
	if field, msg := jsonFieldError(err); field != "" {
		e.Fields = []apperr.FieldError{{Field: field, Message: msg}}
	}
	return e
}

// jsonErrorText describes a decoding error without echoing the body.
func jsonErrorText(err error) string {
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return "field " + typeErr.Field + " has the wrong type"
	case errors.As(err, &synErr):
		return "syntax error at byte " + strconv.FormatInt(synErr.Offset, 10)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "it could not be read"
}

// jsonFieldError names the field a decoding error is about, when there is
// one, so clients get the same errors list as for any other invalid input.
func jsonFieldError(err error) (field, message string) {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return typeErr.Field, "has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field"
	}
	return "", ""
}

func apiJSON(c echo.Context, status int, v any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(status)
	return writeJSONBody(c, v)
}

// idempotent makes h honour the Idempotency-Key header (API.md): a retry
// with the same key and body within 24 hours gets the first response back
// and does nothing again. Routes call it around their handler.
func (s *Server) idempotent(h echo.HandlerFunc) echo.HandlerFunc {
	return idempotencyMiddleware(idempotencyOptions{
		Store: s.Idempotency,
		UserID: func(c echo.Context) string {
			u, _ := currentUser(c)
			return u.ID
		},
		Logger: s.Logger,
	})(h)
}
