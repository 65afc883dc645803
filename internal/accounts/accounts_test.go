package accounts_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

func MustService(t testing.TB) *accounts.Service {
	t.Helper()
	return accounts.NewService(testdb.New(t))
}

func MustUser(t testing.TB, s *accounts.Service, email string) accounts.User {
	t.Helper()
	u, err := s.SignUp(context.Background(), accounts.SignUpInput{Email: email, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("sign up %s: %v", email, err)
	}
	return u
}

func TestFirstAccountIsTheOnlyAdminEvenUnderRace(t *testing.T) {
	t.Parallel()
	s := MustService(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	users := make([]accounts.User, 8)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.SignUp(ctx, accounts.SignUpInput{Email: fmt.Sprintf("u%d@example.com", i), Password: "correct horse battery"})
			if err != nil {
				t.Errorf("sign up %d: %v", i, err)
			}
			users[i] = u
		}()
	}
	wg.Wait()
	admins := 0
	for _, u := range users {
		if u.IsAdmin() {
			admins++
		}
	}
	if admins != 1 {
		t.Fatalf("want exactly one admin among simultaneous first sign-ups, got %d", admins)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s := MustService(t)
	ctx := context.Background()
	MustUser(t, s, "ada@example.com")
	cases := []struct {
		name, email, password string
		want                  apperr.Kind
	}{
		{"right password, other case", "ADA@example.com", "correct horse battery", ""},
		{"wrong password", "ada@example.com", "wrong horse battery", apperr.Unauthorized},
		{"unknown email", "nobody@example.com", "correct horse battery", apperr.Unauthorized},
	}
	for _, tc := range cases {
		_, err := s.Authenticate(ctx, tc.email, tc.password, "192.0.2.1")
		if tc.want == "" && err != nil || tc.want != "" && !apperr.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want kind %q", tc.name, err, tc.want)
		}
	}
}

func TestLastActiveAdminIsProtected(t *testing.T) {
	t.Parallel()
	s := MustService(t)
	ctx := context.Background()
	admin := MustUser(t, s, "admin@example.com")
	other := MustUser(t, s, "other@example.com")

	if _, err := s.ChangeRole(ctx, admin.ID, admin.ID, accounts.RoleUser); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if _, err := s.SetDisabled(ctx, admin.ID, admin.ID, true); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("disabling oneself, the last admin: %v", err)
	}
	if _, err := s.ChangeRole(ctx, other.ID, other.ID, accounts.RoleAdmin); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a non-admin promoting themselves: %v", err)
	}
	if _, err := s.ChangeRole(ctx, admin.ID, other.ID, accounts.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	// Two admins demoting each other at once: exactly one may succeed; the
	// other is refused, either as no longer an admin or as the last one.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pair := range [][2]string{{admin.ID, other.ID}, {other.ID, admin.ID}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ChangeRole(ctx, pair[0], pair[1], accounts.RoleUser)
		}()
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Forbidden) {
			failed++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if failed != 1 {
		t.Fatalf("want one demotion refused, got errors %v", errs)
	}
	log, err := s.AuditLog(ctx, other.ID, 10)
	if err != nil || len(log) == 0 || log[0].Action == "" {
		t.Fatalf("audit log: %v %+v", err, log)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	s := MustService(t)
	ctx := context.Background()
	admin := MustUser(t, s, "admin@example.com")
	user := MustUser(t, s, "user@example.com")

	if _, _, err := s.CreateToken(ctx, user, accounts.TokenInput{Name: "x", Scopes: []accounts.Scope{accounts.ScopeAdmin}}); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("admin scope for a non-admin: %v", err)
	}
	if _, _, err := s.CreateToken(ctx, user, accounts.TokenInput{Name: "", Scopes: nil}); !apperr.Is(err, apperr.Invalid) || len(apperr.FieldsOf(err)) != 2 {
		t.Fatalf("no name and no scope: %v", err)
	}
	tok, secret, err := s.CreateToken(ctx, user, accounts.TokenInput{Name: "ci", Scopes: []accounts.Scope{accounts.ScopeWrite, accounts.ScopeRead, accounts.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Scopes) != 2 || secret[:3] != "sp_" || tok.Prefix != secret[:9] {
		t.Fatalf("token: %+v %q", tok, secret)
	}
	got, gotTok, err := s.AuthenticateToken(ctx, secret)
	if err != nil || got.ID != user.ID || !gotTok.Has(accounts.ScopeWrite) {
		t.Fatalf("authenticate: %v %+v", err, got)
	}
	if _, _, err := s.AuthenticateToken(ctx, secret+"x"); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("tampered token: %v", err)
	}

	if err := s.RevokeToken(ctx, admin.ID, tok.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("revoking someone else's token: %v", err)
	}
	if err := s.RevokeToken(ctx, user.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, secret); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := s.CheckToken(ctx, tok.ID); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("check of a revoked token: %v", err)
	}

	// Disabling the user revokes their tokens for good: enabling the
	// account again brings none back.
	kept, keptSecret, err := s.CreateToken(ctx, user, accounts.TokenInput{Name: "kept", Scopes: []accounts.Scope{accounts.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckToken(ctx, kept.ID); err != nil {
		t.Fatalf("check of a working token: %v", err)
	}
	if _, err := s.SetDisabled(ctx, admin.ID, user.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, keptSecret); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("token of a disabled user: %v", err)
	}
	if _, err := s.SetDisabled(ctx, admin.ID, user.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AuthenticateToken(ctx, keptSecret); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("token of a re-enabled user: %v, want it revoked", err)
	}
	if err := s.RevokeToken(ctx, user.ID, kept.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("revoking a token that disabling revoked: %v", err)
	}

	_, short, err := s.CreateToken(ctx, user, accounts.TokenInput{Name: "short", Scopes: []accounts.Scope{accounts.ScopeRead}, ExpiresIn: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, _, err := s.AuthenticateToken(ctx, short); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestPurgeExpired(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	s := accounts.NewService(pool)
	ctx := context.Background()
	u := MustUser(t, s, "purge@example.com")
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry, ended_at) VALUES
		('old', '\x00', now() - interval '1 hour', NULL),
		('live', '\x00', now() + interval '1 hour', NULL),
		('ended long ago', '', now() + interval '1 hour', now() - interval '2 hours'),
		('just ended', '', now() + interval '1 hour', now())`); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.CreateToken(ctx, u, accounts.TokenInput{Name: "gone", Scopes: []accounts.Scope{accounts.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() - interval '60 days' WHERE id = $1`, tok.ID); err != nil {
		t.Fatal(err)
	}
	r, err := s.PurgeExpired(ctx, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sessions != 2 || r.Tokens != 1 {
		t.Fatalf("purged %+v, want two sessions and one token", r)
	}
	// A session that just ended stays a while, so that a request still in
	// flight on it cannot write it back.
	var left string
	if err := pool.QueryRow(ctx, `SELECT string_agg(token, ',' ORDER BY token) FROM sessions`).Scan(&left); err != nil || left != "just ended,live" {
		t.Fatalf("sessions left %q %v, want the live one and the one that just ended", left, err)
	}
}
