package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// Scope is one permission an API token carries.
type Scope string

// The scopes. Admin is granted only to admins' tokens.
const (
	ScopeRead    Scope = "read"
	ScopeWrite   Scope = "write"
	ScopePublish Scope = "publish"
	ScopeAdmin   Scope = "admin"
)

// AllScopes lists every scope in display order.
var AllScopes = []Scope{ScopeRead, ScopeWrite, ScopePublish, ScopeAdmin}

// tokenPrefix marks Scratchpad tokens so secret scanners and people can
// recognise them.
const tokenPrefix = "sp_"

// Token is an API token as listed in settings; the secret itself is never
// stored and is returned only once, by CreateToken.
type Token struct {
	ID         string
	Name       string
	Prefix     string
	Scopes     []Scope
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	CreatedAt  time.Time
}

// Has reports whether the token carries scope.
func (t Token) Has(scope Scope) bool { return slices.Contains(t.Scopes, scope) }

// Expired reports whether the token's expiry has passed at now.
func (t Token) Expired(now time.Time) bool { return t.ExpiresAt != nil && !t.ExpiresAt.After(now) }

func tokenFromRow(r db.ApiToken) Token {
	t := Token{ID: r.ID, Name: r.Name, Prefix: r.Prefix, ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, CreatedAt: r.CreatedAt}
	for _, s := range r.Scopes {
		t.Scopes = append(t.Scopes, Scope(s))
	}
	return t
}

// TokenInput describes a token to create.
type TokenInput struct {
	Name   string
	Scopes []Scope
	// ExpiresIn is the lifetime; zero means the token never expires.
	ExpiresIn time.Duration
}

// ParseScopes turns "read,write" into scopes. Errors: Invalid.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !slices.Contains(AllScopes, Scope(part)) {
			return nil, apperr.InvalidFields("Unknown scope "+part+".", apperr.FieldError{Field: "scopes", Message: "must be read, write, publish or admin"})
		}
		out = append(out, Scope(part))
	}
	return out, nil
}

// CreateToken creates an API token for user and returns it with its secret,
// which is shown once and stored only as a hash. Errors: Invalid (no name,
// no scope, unknown scope), Forbidden (admin scope for a non-admin).
func (s *Service) CreateToken(ctx context.Context, user User, in TokenInput) (Token, string, error) {
	name := strings.TrimSpace(in.Name)
	var fields []apperr.FieldError
	if name == "" || utf8.RuneCountInString(name) > 100 {
		fields = append(fields, apperr.FieldError{Field: "name", Message: "is required (at most 100 characters)"})
	}
	scopes := slices.Compact(slices.Sorted(slices.Values(in.Scopes)))
	if len(scopes) == 0 {
		fields = append(fields, apperr.FieldError{Field: "scopes", Message: "choose at least one scope"})
	}
	for _, sc := range scopes {
		if !slices.Contains(AllScopes, sc) {
			fields = append(fields, apperr.FieldError{Field: "scopes", Message: "unknown scope " + string(sc)})
		}
	}
	if in.ExpiresIn < 0 {
		fields = append(fields, apperr.FieldError{Field: "expires_in", Message: "must be in the future"})
	}
	if len(fields) > 0 {
		return Token{}, "", apperr.InvalidFields("Please correct the highlighted fields.", fields...)
	}
	if slices.Contains(scopes, ScopeAdmin) && !user.IsAdmin() {
		return Token{}, "", apperr.New(apperr.Forbidden, "Only admins can create tokens with the admin scope.")
	}
	secret, err := newTokenSecret()
	if err != nil {
		return Token{}, "", err
	}
	params := db.CreateAPITokenParams{
		UserID: user.ID, Name: name, TokenHash: hashToken(secret), Prefix: secret[:len(tokenPrefix)+6],
	}
	for _, sc := range scopes {
		params.Scopes = append(params.Scopes, string(sc))
	}
	if in.ExpiresIn > 0 {
		exp := s.now().Add(in.ExpiresIn).UTC()
		params.ExpiresAt = &exp
	}
	row, err := s.q.CreateAPIToken(ctx, params)
	if err != nil {
		return Token{}, "", fmt.Errorf("accounts: create token: %w", err)
	}
	return tokenFromRow(row), secret, nil
}

// ListTokens returns the user's unrevoked tokens, newest first.
func (s *Service) ListTokens(ctx context.Context, userID string) ([]Token, error) {
	rows, err := s.q.ListAPITokens(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("accounts: list tokens: %w", err)
	}
	out := make([]Token, 0, len(rows))
	for _, r := range rows {
		out = append(out, tokenFromRow(r))
	}
	return out, nil
}

// RevokeToken revokes one of the user's tokens; it stops working at once,
// event streams opened with it included. Errors: NotFound (no such token of
// this user).
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID string) error {
	if !ids.ValidUUID(tokenID) {
		return apperr.New(apperr.NotFound, "Token not found.")
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := db.New(tx).RevokeAPIToken(ctx, db.RevokeAPITokenParams{ID: tokenID, UserID: userID})
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "Token not found.")
		}
		return notifyAuthChanged(ctx, tx, userID, "api_token_revoked")
	})
	if err != nil && apperr.KindOf(err) == apperr.Internal {
		return fmt.Errorf("accounts: revoke token: %w", err)
	}
	return err
}

// AuthenticateToken resolves a bearer token to its user and token. Revoked,
// expired and unknown tokens, and tokens of disabled users, are all
// Unauthorized.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (User, Token, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return User{}, Token{}, apperr.New(apperr.Unauthorized, "The API token is not valid.")
	}
	row, err := s.q.AuthenticateAPIToken(ctx, hashToken(secret))
	if db.IsNoRows(err) {
		return User{}, Token{}, apperr.New(apperr.Unauthorized, "The API token is not valid, was revoked, or has expired.")
	}
	if err != nil {
		return User{}, Token{}, fmt.Errorf("accounts: authenticate token: %w", err)
	}
	if err := s.q.TouchAPIToken(ctx, row.ApiToken.ID); err != nil {
		return User{}, Token{}, fmt.Errorf("accounts: touch token: %w", err)
	}
	return userFromRow(row.User), tokenFromRow(row.ApiToken), nil
}

func newTokenSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return tokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

func hashToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
