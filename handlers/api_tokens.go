package handlers

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
)

// maxTokenLifetimeHours caps expires_in_hours at ten years, far below the
// point where hours overflow a time.Duration.
const maxTokenLifetimeHours = 10 * 365 * 24

// createTokenRequest is the body of POST /api/v1/tokens.
type createTokenRequest struct {
	Name   string           `json:"name" required:"true"`
	Scopes []accounts.Scope `json:"scopes" required:"true"`
	// ExpiresInHours is the lifetime; absent or null means no expiry.
	ExpiresInHours *int `json:"expires_in_hours" nullable:"true"`
}

// apiNewToken is a freshly created token, the only response that ever
// carries the secret.
type apiNewToken struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Prefix    string           `json:"prefix"`
	Scopes    []accounts.Scope `json:"scopes"`
	ExpiresAt *string          `json:"expires_at"`
	CreatedAt string           `json:"created_at"`
	Token     string           `json:"token"`
}

// apiCreateToken creates a token for the calling token's own user.
func (s *Server) apiCreateToken(c echo.Context) error {
	var in createTokenRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	input := accounts.TokenInput{Name: in.Name, Scopes: in.Scopes}
	if h := in.ExpiresInHours; h != nil {
		if *h < 1 || *h > maxTokenLifetimeHours {
			return apperr.InvalidFields("Please correct the highlighted fields.",
				apperr.FieldError{Field: "expires_in_hours", Message: "must be between 1 and 87600"})
		}
		input.ExpiresIn = time.Duration(*h) * time.Hour
	}
	// A token may only hand out scopes it holds itself, so a leaked write
	// token cannot be turned into a publish or admin one. The accounts
	// service knows nothing of the calling token, so this check lives here.
	// Unknown scopes are left for CreateToken to report as invalid input.
	caller, _ := c.Get(tokenContextKey).(accounts.Token)
	for _, sc := range in.Scopes {
		if slices.Contains(accounts.AllScopes, sc) && !caller.Has(sc) {
			return apperr.New(apperr.Forbidden, "This token cannot grant the %q scope it does not hold.", sc)
		}
	}
	tok, secret, err := s.Accounts.CreateToken(c.Request().Context(), mustUser(c), input)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusCreated, apiNewToken{
		ID: tok.ID, Name: tok.Name, Prefix: tok.Prefix, Scopes: tok.Scopes,
		ExpiresAt: apiTimeOrNull(tok.ExpiresAt), CreatedAt: apiTime(tok.CreatedAt), Token: secret,
	})
}
