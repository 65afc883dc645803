// Package clerkfake is test support only; never imported by shipped code.
//
// It runs a local stand-in for the Clerk Backend API serving the two
// endpoints Scratchpad uses, GET /v1/jwks and GET /v1/users/{id}, in the
// shapes Clerk documents and behind the same bearer secret key check, and it
// signs Clerk-style session tokens with locally generated RSA keys, so tests
// of internal/clerkauth and of the web layer run with no network.
package clerkfake

import (
	"crypto/rand"
	"crypto/rsa"
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

// The fake instance's identity. The publishable key is built the way Clerk
// builds them: "pk_test_" + base64("<frontend api>$").
const (
	// FrontendAPI is the host of the fake instance's Frontend API.
	FrontendAPI = "clerk.example.accounts.dev"
	// Issuer is the iss claim of the fake instance's session tokens.
	Issuer = "https://" + FrontendAPI
	// SecretKey is the Backend API secret key the fake requires.
	SecretKey = "sk_test_0123456789abcdefghijklmnopqrstuvwxyz"
	// PublishableKey encodes FrontendAPI.
	PublishableKey = "pk_test_Y2xlcmsuZXhhbXBsZS5hY2NvdW50cy5kZXYk"
)

// SigningKey is an RSA key and the kid under which a Server publishes it.
type SigningKey struct {
	KID     string
	Private *rsa.PrivateKey
}

// MustSigningKey generates a fresh RS256 signing key with kid.
func MustSigningKey(tb testing.TB, kid string) SigningKey {
	tb.Helper()
	private, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("clerkfake: generate RSA key: %v", err)
	}
	return SigningKey{KID: kid, Private: private}
}

// Claims are the claims of a Clerk session token that tests vary. Zero
// values are left out of the token.
type Claims struct {
	Subject, SessionID, Issuer, AuthorizedParty string
	IssuedAt, NotBefore, Expiry                 time.Time
}

// ValidClaims returns the claims Clerk would put in a fresh session token
// for user "user_2abc" at now: issued a little earlier, valid for under a
// minute, issued by the fake instance.
func ValidClaims(now time.Time) Claims {
	return Claims{
		Subject:   "user_2abc",
		SessionID: "sess_2xyz",
		Issuer:    Issuer,
		IssuedAt:  now.Add(-10 * time.Second),
		NotBefore: now.Add(-20 * time.Second),
		Expiry:    now.Add(50 * time.Second),
	}
}

// MustSign returns c as a compact RS256 JWT signed with key, with key's kid
// in the header (no kid header when KID is empty).
func MustSign(tb testing.TB, key SigningKey, c Claims) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if key.KID != "" {
		opts = opts.WithHeader("kid", key.KID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key.Private}, opts)
	if err != nil {
		tb.Fatalf("clerkfake: new signer: %v", err)
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
		tb.Fatalf("clerkfake: sign token: %v", err)
	}
	return token
}

// User returns a Clerk user object in the Backend API's documented shape.
// An empty email gives a user without email addresses (one who signs in by
// phone, say); empty names are null, as Clerk sends them.
func User(id, email, first, last string) json.RawMessage {
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	emails := []map[string]any{}
	var primary any
	if email != "" {
		primary = "idn_" + id
		emails = append(emails, map[string]any{
			"id":            primary,
			"object":        "email_address",
			"email_address": email,
			"verification":  map[string]any{"status": "verified", "strategy": "email_code"},
			"linked_to":     []any{},
		})
	}
	b, err := json.Marshal(map[string]any{
		"object":                   "user",
		"id":                       id,
		"username":                 nil,
		"first_name":               nullable(first),
		"last_name":                nullable(last),
		"image_url":                "https://img.clerk.com/placeholder",
		"has_image":                false,
		"primary_email_address_id": primary,
		"primary_phone_number_id":  nil,
		"email_addresses":          emails,
		"phone_numbers":            []any{},
		"public_metadata":          map[string]any{},
		"created_at":               1700000000000,
		"updated_at":               1700000000000,
	})
	if err != nil {
		panic(err) // only plain values above
	}
	return b
}

// Server is a fake Clerk Backend API. It is safe for concurrent use.
type Server struct {
	// URL is the Backend API base, ending in /v1: what clerkauth.Config's
	// APIURL (and CLERK_API_URL) take.
	URL string

	jwksRequests atomic.Int64
	userRequests atomic.Int64

	mu       sync.Mutex
	keys     []SigningKey
	users    map[string]json.RawMessage
	jwksDown bool
}

// New starts a fake Backend API publishing keys and serving users (Clerk
// user objects keyed by id, for example built with User); it stops when the
// test ends. users is copied.
func New(tb testing.TB, keys []SigningKey, users map[string]json.RawMessage) *Server {
	tb.Helper()
	s := &Server{keys: keys, users: make(map[string]json.RawMessage, len(users))}
	for id, u := range users {
		s.users[id] = u
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jwks", s.serveJWKS)
	mux.HandleFunc("GET /v1/users/{id}", s.serveUser)
	srv := httptest.NewServer(s.requireSecretKey(mux))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL + "/v1"
	return s
}

// Publish replaces the published key set, as a key rotation would.
func (s *Server) Publish(keys ...SigningKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

// SetJWKSDown makes the JWKS endpoint fail with 500 (or recover).
func (s *Server) SetJWKSDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwksDown = down
}

// SetUser adds or replaces the user object served for id.
func (s *Server) SetUser(id string, user json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = user
}

// DeleteUser makes the users endpoint answer 404 for id, as Clerk does for
// a user deleted in its dashboard.
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}

// JWKSRequests counts authenticated requests to GET /v1/jwks so far.
func (s *Server) JWKSRequests() int64 { return s.jwksRequests.Load() }

// UserRequests counts authenticated requests to GET /v1/users/{id} so far,
// for any id.
func (s *Server) UserRequests() int64 { return s.userRequests.Load() }

func (s *Server) requireSecretKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+SecretKey {
			writeError(w, http.StatusUnauthorized, "authentication_invalid", "Invalid authentication")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	s.jwksRequests.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jwksDown {
		writeError(w, http.StatusInternalServerError, "internal_clerk_error", "Oops, an unexpected error occurred")
		return
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range s.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.KID, Algorithm: "RS256", Use: "sig"})
	}
	writeJSON(w, http.StatusOK, set)
}

func (s *Server) serveUser(w http.ResponseWriter, r *http.Request) {
	s.userRequests.Add(1)
	s.mu.Lock()
	user, ok := s.users[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "resource_not_found", "Resource not found")
		return
	}
	writeJSON(w, http.StatusOK, user)
}

// writeError writes an error in the Backend API's documented shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{
		"errors": []map[string]string{{"code": code, "message": message, "long_message": message}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
