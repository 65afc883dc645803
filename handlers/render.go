package handlers

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/views"
)

// render writes a templ component with status. It renders into a buffer
// first, so a failing template produces a clean 500 instead of half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX reports whether the request came from htmx and wants a fragment.
func isHTMX(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Boosted") != "true"
}

// page builds the layout's view model for the current request.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, CSRFToken: csrfToken(c), Flashes: s.popFlashes(c), Toasts: s.popToasts(c)}
	if u, ok := currentUser(c); ok {
		p.User = &views.CurrentUser{ID: u.ID, Email: u.Email, Name: u.Name, IsAdmin: u.IsAdmin()}
	}
	if s.Clerk != nil {
		p.Clerk = &views.ClerkConfig{PublishableKey: s.Config.ClerkPublishableKey, ScriptURL: s.Clerk.ScriptURL()}
	}
	return p
}

func csrfToken(c echo.Context) string {
	if v, ok := c.Get(csrfContextKey).(string); ok {
		return v
	}
	return ""
}

// The session keys of the one-time messages the next full page shows:
// flashes in the page, toasts floating over it.
const (
	flashKey = "flashes"
	toastKey = "toasts"
)

// flash queues a one-time message for the next full page this browser loads.
func (s *Server) flash(c echo.Context, kind, message string) {
	s.queueMessage(c, flashKey, kind, message)
}

// toast shows message as a toast on the next page: a confirmation that
// should catch the eye wherever the page is scrolled.
func (s *Server) toast(c echo.Context, kind, message string) {
	s.queueMessage(c, toastKey, kind, message)
}

func (s *Server) popToasts(c echo.Context) []views.Flash { return s.popMessages(c, toastKey) }

func (s *Server) popFlashes(c echo.Context) []views.Flash { return s.popMessages(c, flashKey) }

func (s *Server) queueMessage(c echo.Context, key, kind, message string) {
	ctx := c.Request().Context()
	list, _ := s.Sessions.Get(ctx, key).([]views.Flash)
	s.Sessions.Put(ctx, key, append(list, views.Flash{Kind: kind, Message: message}))
}

func (s *Server) popMessages(c echo.Context, key string) []views.Flash {
	if c.Get(sessionLoadedKey) == nil {
		return nil // an error raised before the session loaded
	}
	list, _ := s.Sessions.Pop(c.Request().Context(), key).([]views.Flash)
	return list
}

// redirect sends the browser to url: an HX-Redirect for htmx requests, a 303
// otherwise, so a POST is never repeated by a reload.
func redirect(c echo.Context, url string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

const userContextKey = "user"

func currentUser(c echo.Context) (accounts.User, bool) {
	u, ok := c.Get(userContextKey).(accounts.User)
	return u, ok
}

// mustUser returns the signed-in user; routes that call it sit behind
// requireUser, so its absence is a programming error.
func mustUser(c echo.Context) accounts.User {
	u, ok := currentUser(c)
	if !ok {
		panic("handlers: mustUser on a route without requireUser")
	}
	return u
}

func fieldMap(errs []apperr.FieldError) map[string]string {
	m := map[string]string{}
	for _, e := range errs {
		if _, dup := m[e.Field]; !dup {
			m[e.Field] = e.Message
		}
	}
	return m
}
