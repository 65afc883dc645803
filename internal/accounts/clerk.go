package accounts

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// ClerkProfile is what Clerk tells us about a signed-in person.
type ClerkProfile struct {
	ClerkUserID string
	Email       string
	Name        string
}

// UpsertClerkUser returns our user for a Clerk user, creating it on first
// sign-in, linking an existing built-in account with the same email, and
// refreshing email and name when they changed at Clerk. Errors: Invalid (no
// usable email), Forbidden (account disabled).
func (s *Service) UpsertClerkUser(ctx context.Context, p ClerkProfile) (User, error) {
	email := normalizeEmail(p.Email)
	if p.ClerkUserID == "" || validateEmail(email) != "" {
		return User{}, apperr.New(apperr.Invalid, "Your Clerk account has no usable email address.")
	}
	name := strings.TrimSpace(p.Name)
	if len([]rune(name)) > 100 {
		name = string([]rune(name)[:100])
	}
	var u User
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('scratchpad.create_user'))`); err != nil {
			return err
		}
		row, err := q.GetUserByClerkID(ctx, &p.ClerkUserID)
		switch {
		case err == nil:
			if row.Email != email || row.Name != name {
				row, err = q.UpdateUserFromClerk(ctx, db.UpdateUserFromClerkParams{ID: row.ID, Email: email, Name: name})
			}
		case db.IsNoRows(err):
			row, err = q.GetUserByEmail(ctx, email)
			if err == nil {
				row, err = q.LinkClerkUser(ctx, db.LinkClerkUserParams{ID: row.ID, ClerkUserID: &p.ClerkUserID})
			} else if db.IsNoRows(err) {
				row, err = q.CreateUser(ctx, db.CreateUserParams{Email: email, Name: name, ClerkUserID: &p.ClerkUserID})
				if err == nil {
					u = userFromRow(row)
					return s.audit(ctx, tx, nil, u.ID, "user.created", nil, map[string]any{"email": u.Email, "role": u.Role, "via": "clerk"})
				}
			}
		}
		if err != nil {
			return err
		}
		u = userFromRow(row)
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("accounts: upsert clerk user: %w", err)
	}
	if u.Disabled() {
		return User{}, apperr.New(apperr.Forbidden, "This account has been disabled. Ask an administrator to enable it.")
	}
	return u, nil
}

// FindUserByClerkID returns the user linked to a Clerk user. Errors: NotFound.
func (s *Service) FindUserByClerkID(ctx context.Context, clerkUserID string) (User, error) {
	row, err := s.q.GetUserByClerkID(ctx, &clerkUserID)
	if db.IsNoRows(err) {
		return User{}, apperr.New(apperr.NotFound, "User not found.")
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: find clerk user: %w", err)
	}
	return userFromRow(row), nil
}
