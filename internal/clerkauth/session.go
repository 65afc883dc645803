package clerkauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwt"
)

// SessionCookie is the name of the cookie in which ClerkJS keeps the
// session token for same-site requests.
const SessionCookie = "__session"

// Leeway is the clock skew tolerated between Clerk and this server when
// checking a token's exp, nbf and iat claims. Clerk's own backend SDKs
// default to the same five seconds; session tokens live for a minute.
const Leeway = 5 * time.Second

// ErrInvalidSession reports that a session token is missing, malformed,
// expired, signed by a key the instance does not publish, or otherwise not
// acceptable. Callers treat it as "signed out". It is always wrapped, so
// test for it with errors.Is.
var ErrInvalidSession = errors.New("clerkauth: invalid session token")

// Session is the verified content of a Clerk session token.
type Session struct {
	// UserID is the Clerk user id (the sub claim, "user_…"), the key on
	// which the web layer upserts its own user.
	UserID string
	// SessionID is the Clerk session id (the sid claim, "sess_…").
	SessionID string
	// Expiry is when the token stops being valid, before leeway. ClerkJS
	// refreshes the cookie well before then.
	Expiry time.Time
}

// VerifySession verifies a Clerk session token and returns its session.
//
// The signing key comes from the instance's JWKS, fetched from the Backend
// API and cached by kid for an hour (refetched early, at most once a minute,
// when a token names an unknown kid), so most calls make no network request.
// The token must be RS256-signed by that key, issued by this instance's
// Frontend API, carry sub, sid and exp, and be within its nbf/exp window
// give or take Leeway. It
// returns an error wrapping ErrInvalidSession for any token that is not
// acceptable. Any other error means the token could not be checked, most
// likely because the JWKS could not be fetched; callers should answer that
// with a server error rather than signing the user out.
func (c *Client) VerifySession(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, fmt.Errorf("%w: empty token", ErrInvalidSession)
	}
	// The kid is read before the signature is checked; it only selects
	// which of our own keys to check the signature with.
	unverified, err := jwt.Decode(ctx, &jwt.DecodeParams{Token: token})
	if err != nil {
		return Session{}, fmt.Errorf("%w: %v", ErrInvalidSession, err)
	}
	key, err := c.keys.get(ctx, unverified.KeyID)
	if err != nil {
		return Session{}, err
	}
	claims, err := jwt.Verify(ctx, &jwt.VerifyParams{
		Token:  token,
		JWK:    key,
		Clock:  clockFunc(c.now),
		Leeway: Leeway,
	})
	if err != nil {
		return Session{}, fmt.Errorf("%w: %v", ErrInvalidSession, err)
	}
	if err := c.checkClaims(claims); err != nil {
		return Session{}, fmt.Errorf("%w: %v", ErrInvalidSession, err)
	}
	return Session{
		UserID:    claims.Subject,
		SessionID: claims.SessionID,
		Expiry:    time.Unix(*claims.Expiry, 0).UTC(),
	}, nil
}

// checkClaims adds the checks jwt.Verify leaves out: it accepts tokens
// without exp, sub or sid, and it accepts any issuer that looks like a Clerk
// Frontend API rather than ours.
func (c *Client) checkClaims(claims *clerk.SessionClaims) error {
	switch {
	case claims.Expiry == nil:
		return errors.New("missing exp claim")
	case claims.Subject == "":
		return errors.New("missing sub claim")
	case claims.SessionID == "":
		return errors.New("missing sid claim")
	case claims.Issuer != c.issuer():
		return fmt.Errorf("issuer %q is not %q", claims.Issuer, c.issuer())
	}
	if len(c.authorizedParties) > 0 && claims.AuthorizedParty != "" && !c.authorizedParties[claims.AuthorizedParty] {
		return fmt.Errorf("authorized party %q is not allowed", claims.AuthorizedParty)
	}
	return nil
}

// SessionFromRequest returns the Clerk session token a request carries: the
// __session cookie when present, otherwise the credentials of an
// "Authorization: Bearer" header, otherwise "". It does not verify anything.
func SessionFromRequest(r *http.Request) string {
	if cookie, err := r.Cookie(SessionCookie); err == nil && cookie.Value != "" {
		return cookie.Value
	}
	scheme, credentials, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(credentials)
}

// clockFunc adapts a time source to clerk.Clock.
type clockFunc func() time.Time

// Now returns the current time in UTC.
func (f clockFunc) Now() time.Time {
	return f().UTC()
}
