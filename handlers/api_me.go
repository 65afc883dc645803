package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
)

// apiUser is a user as the API shows it to that user: no admin-only facts.
type apiUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func newAPIUser(u accounts.User) apiUser {
	return apiUser{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role)}
}

// apiMe answers who the bearer token belongs to. apiAuth has already loaded
// the user, fresh from the database, so there is nothing more to fetch.
func (s *Server) apiMe(c echo.Context) error {
	return apiJSON(c, http.StatusOK, newAPIUser(mustUser(c)))
}

// apiTime formats t the way every API timestamp is written: RFC 3339 in UTC.
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// apiTimeOrNull is apiTime for optional timestamps, which are null when unset.
func apiTimeOrNull(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := apiTime(*t)
	return &s
}
