package clerkauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
)

// ErrUserNotFound reports that the Clerk instance has no user with the
// requested id, for example because it was deleted in the Clerk dashboard
// after its session token was issued. It is always wrapped, so test for it
// with errors.Is.
var ErrUserNotFound = errors.New("clerkauth: Clerk user not found")

// Profile is what Scratchpad keeps from a Clerk user.
type Profile struct {
	// ClerkUserID is the Clerk user id ("user_…").
	ClerkUserID string
	// Email is the user's primary email address, or "" when the user has
	// none (Clerk instances can sign users in by phone or username only).
	Email string
	// Name is the first and last name joined by a space, or "" when neither
	// is set.
	Name string
}

// FetchUser loads a user's profile from the Clerk Backend API. It returns an
// error wrapping ErrUserNotFound when Clerk answers 404, and another error
// when the id is malformed or the call fails (including a 401 for a wrong
// secret key).
func (c *Client) FetchUser(ctx context.Context, userID string) (Profile, error) {
	// The SDK joins the id into the request path unescaped; Clerk ids are
	// plain tokens, so anything else is refused before it can change the
	// path.
	if !validID(userID) {
		return Profile{}, fmt.Errorf("clerkauth: fetch user: malformed user id %q", userID)
	}
	u, err := c.users.Get(ctx, userID)
	if err != nil {
		var apiErr *clerk.APIErrorResponse
		if errors.As(err, &apiErr) && apiErr.HTTPStatusCode == http.StatusNotFound {
			return Profile{}, fmt.Errorf("%w: %s: %v", ErrUserNotFound, userID, err)
		}
		return Profile{}, fmt.Errorf("clerkauth: fetch user %s: %w", userID, err)
	}
	return Profile{
		ClerkUserID: u.ID,
		Email:       primaryEmail(u),
		Name:        fullName(u),
	}, nil
}

func primaryEmail(u *clerk.User) string {
	if u.PrimaryEmailAddressID == nil {
		return ""
	}
	for _, e := range u.EmailAddresses {
		if e != nil && e.ID == *u.PrimaryEmailAddressID {
			return e.EmailAddress
		}
	}
	return ""
}

func fullName(u *clerk.User) string {
	var parts []string
	for _, p := range []*string{u.FirstName, u.LastName} {
		if p != nil && strings.TrimSpace(*p) != "" {
			parts = append(parts, strings.TrimSpace(*p))
		}
	}
	return strings.Join(parts, " ")
}

func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
