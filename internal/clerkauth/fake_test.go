package clerkauth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	josejwt "github.com/go-jose/go-jose/v3/jwt"
)

// Values shared by the tests. The publishable key is built the way Clerk
// builds them: pk_test_ + base64("<frontend api>$").
const (
	testFrontendAPI = "clerk.example.accounts.dev"
	testIssuer      = "https://" + testFrontendAPI
	testSecretKey   = "sk_test_0123456789abcdefghijklmnopqrstuvwxyz"
)

var testPublishableKey = "pk_test_" + base64.StdEncoding.EncodeToString([]byte(testFrontendAPI+"$"))

// signingKey is an RSA key with the kid under which the fake publishes it.
type signingKey struct {
	kid     string
	private *rsa.PrivateKey
}

// MustSigningKey generates a fresh RS256 signing key.
func MustSigningKey(tb testing.TB, kid string) signingKey {
	tb.Helper()
	private, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("generate RSA key: %v", err)
	}
	return signingKey{kid: kid, private: private}
}

// tokenClaims are the claims of a Clerk session token that the tests vary.
type tokenClaims struct {
	Subject, SessionID, Issuer, AuthorizedParty string
	IssuedAt, NotBefore, Expiry                 time.Time
}

// validClaims returns the claims Clerk would put in a fresh session token at
// now: issued a little earlier, valid for a minute.
func validClaims(now time.Time) tokenClaims {
	return tokenClaims{
		Subject:   "user_2abc",
		SessionID: "sess_2xyz",
		Issuer:    testIssuer,
		IssuedAt:  now.Add(-10 * time.Second),
		NotBefore: now.Add(-20 * time.Second),
		Expiry:    now.Add(50 * time.Second),
	}
}

// MustSign returns claims as a compact RS256 JWT signed with key, with key's
// kid in the header. Zero-valued claims are left out.
func MustSign(tb testing.TB, key signingKey, c tokenClaims) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if key.kid != "" {
		opts = opts.WithHeader("kid", key.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key.private}, opts)
	if err != nil {
		tb.Fatalf("new signer: %v", err)
	}
	claims := map[string]any{}
	setString := func(name, v string) {
		if v != "" {
			claims[name] = v
		}
	}
	setTime := func(name string, v time.Time) {
		if !v.IsZero() {
			claims[name] = v.Unix()
		}
	}
	setString("sub", c.Subject)
	setString("sid", c.SessionID)
	setString("iss", c.Issuer)
	setString("azp", c.AuthorizedParty)
	setTime("iat", c.IssuedAt)
	setTime("nbf", c.NotBefore)
	setTime("exp", c.Expiry)
	token, err := josejwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		tb.Fatalf("sign token: %v", err)
	}
	return token
}

// fakeClerk is a Clerk Backend API serving the two endpoints this package
// uses, GET /v1/jwks and GET /v1/users/{id}, in the shapes Clerk documents,
// behind the same bearer secret key check.
type fakeClerk struct {
	URL          string // Backend API base, ending in /v1
	jwksRequests atomic.Int64

	mu       sync.Mutex
	keys     []signingKey
	users    map[string]json.RawMessage
	jwksDown bool
}

// MustFakeClerk starts a fake Backend API publishing keys and serving users
// (Clerk user objects keyed by id); it stops when the test ends.
func MustFakeClerk(tb testing.TB, keys []signingKey, users map[string]json.RawMessage) *fakeClerk {
	tb.Helper()
	f := &fakeClerk{keys: keys, users: users}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jwks", f.serveJWKS)
	mux.HandleFunc("GET /v1/users/{id}", f.serveUser)
	srv := httptest.NewServer(f.requireSecretKey(mux))
	tb.Cleanup(srv.Close)
	f.URL = srv.URL + "/v1"
	return f
}

// publish replaces the published key set, as a key rotation would.
func (f *fakeClerk) publish(keys ...signingKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = keys
}

// setJWKSDown makes the JWKS endpoint fail with 500 (or recover).
func (f *fakeClerk) setJWKSDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jwksDown = down
}

func (f *fakeClerk) requireSecretKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testSecretKey {
			writeClerkError(w, http.StatusUnauthorized, "authentication_invalid", "Invalid authentication")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeClerk) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	f.jwksRequests.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.jwksDown {
		writeClerkError(w, http.StatusInternalServerError, "internal_clerk_error", "Oops, an unexpected error occurred")
		return
	}
	set := jose.JSONWebKeySet{}
	for _, k := range f.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.private.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"})
	}
	writeJSON(w, http.StatusOK, set)
}

func (f *fakeClerk) serveUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	user, ok := f.users[r.PathValue("id")]
	f.mu.Unlock()
	if !ok {
		writeClerkError(w, http.StatusNotFound, "resource_not_found", "Resource not found")
		return
	}
	writeJSON(w, http.StatusOK, user)
}

// writeClerkError writes an error in the Backend API's documented shape.
func writeClerkError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{
		"errors": []map[string]string{{"code": code, "message": message, "long_message": message}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fakeClock is a settable time source for clients built with newClient.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// MustClient returns a Client for the fake Clerk running on clock.
func MustClient(tb testing.TB, fake *fakeClerk, clock *fakeClock, mutate ...func(*Config)) *Client {
	tb.Helper()
	cfg := Config{SecretKey: testSecretKey, PublishableKey: testPublishableKey, APIURL: fake.URL}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := newClient(cfg, clock.Now)
	if err != nil {
		tb.Fatalf("newClient: %v", err)
	}
	return c
}
