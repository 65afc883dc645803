package clerkauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/clerkauth/clerkfake"
)

func TestVerifySession(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	now := clock.Now()
	ours := clerkfake.MustSigningKey(t, "ins_ours")
	fake := clerkfake.New(t, []clerkfake.SigningKey{ours}, nil)
	client := MustClient(t, fake, clock)

	imposter := clerkfake.MustSigningKey(t, "ins_ours")   // same kid, different key
	stranger := clerkfake.MustSigningKey(t, "ins_theirs") // a kid we do not publish
	withClaims := func(mutate func(*clerkfake.Claims)) clerkfake.Claims {
		c := clerkfake.ValidClaims(now)
		mutate(&c)
		return c
	}
	valid := clerkfake.ValidClaims(now)
	parts := strings.Split(clerkfake.MustSign(t, ours, valid), ".")

	tests := []struct {
		name        string
		token       string
		want        Session
		wantInvalid bool
	}{
		{
			name:  "valid token",
			token: clerkfake.MustSign(t, ours, valid),
			want:  Session{UserID: "user_2abc", SessionID: "sess_2xyz", Expiry: valid.Expiry.Truncate(time.Second)},
		},
		{
			name:  "expired within leeway",
			token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.Expiry = now.Add(-3 * time.Second) })),
			want:  Session{UserID: "user_2abc", SessionID: "sess_2xyz", Expiry: now.Add(-3 * time.Second)},
		},
		{name: "expired", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.Expiry = now.Add(-time.Minute) })), wantInvalid: true},
		{name: "not yet valid", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.NotBefore = now.Add(time.Minute) })), wantInvalid: true},
		{name: "issued in the future", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.IssuedAt = now.Add(time.Minute) })), wantInvalid: true},
		{name: "no expiry", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.Expiry = time.Time{} })), wantInvalid: true},
		{name: "no subject", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.Subject = "" })), wantInvalid: true},
		{name: "no session id", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.SessionID = "" })), wantInvalid: true},
		{name: "another instance's issuer", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.Issuer = "https://clerk.other.accounts.dev" })), wantInvalid: true},
		{name: "non-Clerk issuer", token: clerkfake.MustSign(t, ours, withClaims(func(c *clerkfake.Claims) { c.Issuer = "https://evil.example" })), wantInvalid: true},
		{name: "signed by another key with our kid", token: clerkfake.MustSign(t, imposter, valid), wantInvalid: true},
		{name: "signed by another key with its own kid", token: clerkfake.MustSign(t, stranger, valid), wantInvalid: true},
		{name: "no kid", token: clerkfake.MustSign(t, clerkfake.SigningKey{Private: ours.Private}, valid), wantInvalid: true},
		{name: "tampered payload", token: parts[0] + "." + MustSignPayloadOnly(t, ours, withClaims(func(c *clerkfake.Claims) { c.Subject = "user_admin" })) + "." + parts[2], wantInvalid: true},
		{name: "unsigned", token: parts[0] + "." + parts[1] + ".", wantInvalid: true},
		{name: "garbage", token: "not-a-jwt", wantInvalid: true},
		{name: "three garbage segments", token: "a.b.c", wantInvalid: true},
		{name: "empty", token: "", wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := client.VerifySession(context.Background(), tt.token)
			if tt.wantInvalid {
				if !errors.Is(err, ErrInvalidSession) {
					t.Fatalf("VerifySession() = %+v, %v; want ErrInvalidSession", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerifySession() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("VerifySession() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// MustSignPayloadOnly returns the payload segment of a token for claims,
// for splicing into another token's header and signature.
func MustSignPayloadOnly(tb testing.TB, key clerkfake.SigningKey, c clerkfake.Claims) string {
	tb.Helper()
	return strings.Split(clerkfake.MustSign(tb, key, c), ".")[1]
}

func TestVerifySessionAuthorizedParties(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	key := clerkfake.MustSigningKey(t, "ins_1")
	fake := clerkfake.New(t, []clerkfake.SigningKey{key}, nil)
	client := MustClient(t, fake, clock, func(c *Config) {
		c.AuthorizedParties = []string{"https://scratchpad.example.com/"}
	})
	tests := []struct {
		name        string
		azp         string
		wantInvalid bool
	}{
		{name: "our origin", azp: "https://scratchpad.example.com"},
		{name: "no azp claim", azp: ""},
		{name: "another origin", azp: "https://evil.example", wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			claims := clerkfake.ValidClaims(clock.Now())
			claims.AuthorizedParty = tt.azp
			_, err := client.VerifySession(context.Background(), clerkfake.MustSign(t, key, claims))
			if got := errors.Is(err, ErrInvalidSession); got != tt.wantInvalid {
				t.Errorf("VerifySession() error = %v, want invalid = %v", err, tt.wantInvalid)
			}
		})
	}
}

func TestVerifySessionFetchesJWKSOnce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	key := clerkfake.MustSigningKey(t, "ins_1")
	fake := clerkfake.New(t, []clerkfake.SigningKey{key}, nil)
	client := MustClient(t, fake, clock)
	token := clerkfake.MustSign(t, key, clerkfake.ValidClaims(clock.Now()))

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if _, err := client.VerifySession(context.Background(), token); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("VerifySession() error = %v", err)
	}
	if got := fake.JWKSRequests(); got != 1 {
		t.Errorf("JWKS requests = %d, want 1", got)
	}
}

func TestVerifySessionKeyLifecycle(t *testing.T) {
	t.Parallel()
	type step struct {
		name        string
		advance     time.Duration
		publish     []string // kids to publish before the step; nil keeps the set
		jwksDown    bool
		signWith    string
		wantErr     string // "", "invalid" or "other"
		wantFetches int64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "rotation to a new kid refetches, at most once a minute",
			steps: []step{
				{name: "first use fetches", signWith: "old", wantFetches: 1},
				{name: "new kid not yet published", signWith: "new", wantErr: "invalid", wantFetches: 1},
				{name: "new kid published but refetch throttled", publish: []string{"old", "new"}, advance: 30 * time.Second, signWith: "new", wantErr: "invalid", wantFetches: 1},
				{name: "new kid after throttle", advance: 31 * time.Second, signWith: "new", wantFetches: 2},
				{name: "old kid still cached", signWith: "old", wantFetches: 2},
			},
		},
		{
			name: "keys expire after the TTL",
			steps: []step{
				{name: "first use fetches", signWith: "old", wantFetches: 1},
				{name: "within TTL", advance: 59 * time.Minute, signWith: "old", wantFetches: 1},
				{name: "after TTL", advance: 2 * time.Minute, signWith: "old", wantFetches: 2},
				{name: "retired kid refused", publish: []string{"new"}, advance: 2 * time.Hour, signWith: "old", wantErr: "invalid", wantFetches: 3},
			},
		},
		{
			name: "outage keeps cached keys and is not reported as an invalid session",
			steps: []step{
				{name: "JWKS down before any fetch", jwksDown: true, signWith: "old", wantErr: "other", wantFetches: 1},
				{name: "JWKS back", signWith: "old", wantFetches: 2},
				{name: "stale key used while JWKS down", jwksDown: true, advance: 2 * time.Hour, signWith: "old", wantFetches: 3},
				{name: "unknown kid while JWKS down", jwksDown: true, advance: 2 * time.Minute, signWith: "new", wantErr: "other", wantFetches: 4},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys := map[string]clerkfake.SigningKey{"old": clerkfake.MustSigningKey(t, "ins_old"), "new": clerkfake.MustSigningKey(t, "ins_new")}
			clock := newFakeClock()
			fake := clerkfake.New(t, []clerkfake.SigningKey{keys["old"]}, nil)
			client := MustClient(t, fake, clock)
			for _, s := range tt.steps {
				clock.Advance(s.advance)
				if s.publish != nil {
					var published []clerkfake.SigningKey
					for _, name := range s.publish {
						published = append(published, keys[name])
					}
					fake.Publish(published...)
				}
				fake.SetJWKSDown(s.jwksDown)

				_, err := client.VerifySession(context.Background(), clerkfake.MustSign(t, keys[s.signWith], clerkfake.ValidClaims(clock.Now())))
				switch {
				case s.wantErr == "" && err != nil:
					t.Errorf("%s: VerifySession() error = %v", s.name, err)
				case s.wantErr == "invalid" && !errors.Is(err, ErrInvalidSession):
					t.Errorf("%s: VerifySession() error = %v, want ErrInvalidSession", s.name, err)
				case s.wantErr == "other" && (err == nil || errors.Is(err, ErrInvalidSession)):
					t.Errorf("%s: VerifySession() error = %v, want an error other than ErrInvalidSession", s.name, err)
				}
				if got := fake.JWKSRequests(); got != s.wantFetches {
					t.Errorf("%s: JWKS requests = %d, want %d", s.name, got, s.wantFetches)
				}
			}
		})
	}
}

func TestVerifySessionWrongSecretKey(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	key := clerkfake.MustSigningKey(t, "ins_1")
	fake := clerkfake.New(t, []clerkfake.SigningKey{key}, nil)
	client := MustClient(t, fake, clock, func(c *Config) { c.SecretKey = "sk_test_wrong" })

	_, err := client.VerifySession(context.Background(), clerkfake.MustSign(t, key, clerkfake.ValidClaims(clock.Now())))
	if err == nil || errors.Is(err, ErrInvalidSession) {
		t.Fatalf("VerifySession() error = %v, want a JWKS fetch error that is not ErrInvalidSession", err)
	}
}

func TestSessionFromRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		cookie        string
		authorization string
		want          string
	}{
		{name: "cookie", cookie: "cookie.jwt.value", want: "cookie.jwt.value"},
		{name: "bearer header", authorization: "Bearer header.jwt.value", want: "header.jwt.value"},
		{name: "bearer scheme is case-insensitive", authorization: "bearer header.jwt.value", want: "header.jwt.value"},
		{name: "cookie wins over header", cookie: "cookie.jwt.value", authorization: "Bearer header.jwt.value", want: "cookie.jwt.value"},
		{name: "other scheme", authorization: "Basic dXNlcjpwYXNz", want: ""},
		{name: "bare bearer", authorization: "Bearer", want: ""},
		{name: "nothing", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: SessionCookie, Value: tt.cookie})
			}
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			if got := SessionFromRequest(r); got != tt.want {
				t.Errorf("SessionFromRequest() = %q, want %q", got, tt.want)
			}
		})
	}
}
