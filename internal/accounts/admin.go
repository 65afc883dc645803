package accounts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// UserFilter selects a page of users for the admin list.
type UserFilter struct {
	// Query matches a substring of the email or name, case-insensitively.
	Query string
	// Cursor continues after the last user of a previous page.
	Cursor string
	// Limit is the page size (default 50, at most 500).
	Limit int
}

// UserPage is one page of users, newest first.
type UserPage struct {
	Users      []User
	NextCursor string
	Total      int64
}

// FindUsers returns a page of users matching f. Errors: Invalid (bad cursor).
func (s *Service) FindUsers(ctx context.Context, f UserFilter) (UserPage, error) {
	limit := clampLimit(f.Limit)
	params := db.SearchUsersParams{Query: strings.TrimSpace(f.Query), Lim: int32(limit + 1)}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return UserPage{}, apperr.InvalidFields("The page cursor is not valid.", apperr.FieldError{Field: "cursor", Message: "is not valid"})
		}
		params.AfterCreated, params.AfterID = &at, &id
	}
	rows, err := s.q.SearchUsers(ctx, params)
	if err != nil {
		return UserPage{}, fmt.Errorf("accounts: search users: %w", err)
	}
	total, err := s.q.CountUsers(ctx, params.Query)
	if err != nil {
		return UserPage{}, fmt.Errorf("accounts: count users: %w", err)
	}
	page := UserPage{Total: total}
	for i, r := range rows {
		if i == limit {
			last := rows[limit-1]
			page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
			break
		}
		page.Users = append(page.Users, userFromRow(r))
	}
	return page, nil
}

// ChangeRole sets target's role on behalf of actor, recording the change in
// the audit log and telling the target's browsers. Errors: NotFound,
// Invalid (unknown role), Conflict (it would leave no active admin),
// Forbidden (the actor is not an active admin).
func (s *Service) ChangeRole(ctx context.Context, actorID, targetID string, role Role) (User, error) {
	if !role.Valid() {
		return User{}, apperr.InvalidFields("Unknown role.", apperr.FieldError{Field: "role", Message: "must be user or admin"})
	}
	return s.changeUser(ctx, actorID, targetID, func(ctx context.Context, tx pgx.Tx, q *db.Queries, before User, admins []string) (User, string, error) {
		if before.Role == role {
			return before, "", nil
		}
		if before.Role == RoleAdmin && !before.Disabled() {
			if err := ensureAnotherAdmin(admins, before.ID); err != nil {
				return User{}, "", err
			}
		}
		row, err := q.SetUserRole(ctx, db.SetUserRoleParams{ID: before.ID, Role: string(role)})
		return userFromRow(row), "user.role_changed", err
	})
}

// SetDisabled disables or re-enables target on behalf of actor. Disabling
// ends the user's sessions and revokes their API tokens for good, in the
// same transaction and with an audit entry of their own, so that
// re-enabling the account brings none of them back; open event streams of
// the user end at once. Errors: NotFound, Conflict (it would leave no
// active admin, or an admin disabling themselves).
func (s *Service) SetDisabled(ctx context.Context, actorID, targetID string, disabled bool) (User, error) {
	return s.changeUser(ctx, actorID, targetID, func(ctx context.Context, tx pgx.Tx, q *db.Queries, before User, admins []string) (User, string, error) {
		if before.Disabled() == disabled {
			return before, "", nil
		}
		if disabled && actorID == before.ID {
			return User{}, "", apperr.New(apperr.Conflict, "You cannot disable your own account.")
		}
		if disabled && before.Role == RoleAdmin {
			if err := ensureAnotherAdmin(admins, before.ID); err != nil {
				return User{}, "", err
			}
		}
		row, err := q.SetUserDisabled(ctx, db.SetUserDisabledParams{ID: before.ID, Disabled: disabled})
		if err != nil {
			return User{}, "", err
		}
		if !disabled {
			return userFromRow(row), "user.enabled", nil
		}
		return userFromRow(row), "user.disabled", s.revokeCredentials(ctx, tx, actorID, before.ID)
	})
}

// revokeCredentials ends every session and revokes every API token of
// userID inside tx, on behalf of actorID, with an audit entry, and tells the
// user's event streams (those opened through Clerk included, which hold
// neither).
func (s *Service) revokeCredentials(ctx context.Context, tx pgx.Tx, actorID, userID string) error {
	q := db.New(tx)
	tokens, err := q.RevokeUserAPITokens(ctx, userID)
	if err != nil {
		return err
	}
	sessions, err := q.EndUserSessions(ctx, db.EndUserSessionsParams{UserID: userID})
	if err != nil {
		return err
	}
	if tokens > 0 || sessions > 0 {
		var actor *string
		if actorID != "" {
			actor = &actorID
		}
		if err := s.audit(ctx, tx, actor, userID, "user.credentials_revoked", nil, map[string]any{"api_tokens": tokens, "sessions": sessions}); err != nil {
			return err
		}
	}
	return notifyAuthChanged(ctx, tx, userID, "user_disabled")
}

// GrantAdmin makes the user with email an admin (the recovery command).
// Errors: NotFound.
func (s *Service) GrantAdmin(ctx context.Context, email string) (User, error) {
	u, err := s.FindUserByEmail(ctx, email)
	if err != nil {
		return User{}, err
	}
	return s.changeUser(ctx, "", u.ID, func(ctx context.Context, tx pgx.Tx, q *db.Queries, before User, admins []string) (User, string, error) {
		if before.Role == RoleAdmin {
			return before, "", nil
		}
		row, err := q.SetUserRole(ctx, db.SetUserRoleParams{ID: before.ID, Role: string(RoleAdmin)})
		return userFromRow(row), "user.role_changed", err
	})
}

// changeUser locks the target, applies change, and when it reports an action
// writes the audit entry and a live event in the same transaction.
func (s *Service) changeUser(ctx context.Context, actorID, targetID string,
	change func(ctx context.Context, tx pgx.Tx, q *db.Queries, before User, activeAdmins []string) (User, string, error)) (User, error) {
	if !ids.ValidUUID(targetID) {
		return User{}, apperr.New(apperr.NotFound, "User not found.")
	}
	var after User
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		// Lock every active admin first, always in the same order, so two
		// admins demoting each other cannot both succeed.
		admins, err := q.LockActiveAdmins(ctx)
		if err != nil {
			return err
		}
		// The actor must still be an active admin now, not only when the
		// request began: a demotion racing this change wins.
		if actorID != "" && !slices.Contains(admins, actorID) {
			return apperr.New(apperr.Forbidden, "Only admins can change users.")
		}
		row, err := q.LockUser(ctx, targetID)
		if db.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "User not found.")
		}
		if err != nil {
			return err
		}
		before := userFromRow(row)
		var action string
		after, action, err = change(ctx, tx, q, before, admins)
		if err != nil || action == "" {
			return err
		}
		var actor *string
		if actorID != "" {
			actor = &actorID
		}
		if err := s.audit(ctx, tx, actor, targetID, action, snapshot(before), snapshot(after)); err != nil {
			return err
		}
		return notifyUser(ctx, tx, targetID, "account.changed", map[string]any{
			"action": action, "role": after.Role, "disabled": after.Disabled(),
		})
	})
	if err != nil {
		if apperr.KindOf(err) != apperr.Internal {
			return User{}, err
		}
		return User{}, fmt.Errorf("accounts: change user: %w", err)
	}
	return after, nil
}

func snapshot(u User) map[string]any {
	return map[string]any{"role": u.Role, "disabled": u.Disabled()}
}

// ensureAnotherAdmin refuses a change that would leave no active admin. The
// caller holds the locks on activeAdmins from LockActiveAdmins.
func ensureAnotherAdmin(activeAdmins []string, losing string) error {
	for _, id := range activeAdmins {
		if id != losing {
			return nil
		}
	}
	return apperr.New(apperr.Conflict, "This is the last active admin. Make another user an admin first.")
}

// AuditEntry is one recorded change to a user.
type AuditEntry struct {
	ID         int64
	ActorEmail string
	Action     string
	Before     map[string]any
	After      map[string]any
	CreatedAt  time.Time
}

// AuditLog returns the most recent changes made to the user, newest first.
func (s *Service) AuditLog(ctx context.Context, targetID string, limit int) ([]AuditEntry, error) {
	rows, err := s.q.ListAuditForUser(ctx, db.ListAuditForUserParams{TargetUserID: &targetID, Lim: int32(clampLimit(limit))})
	if err != nil {
		return nil, fmt.Errorf("accounts: audit log: %w", err)
	}
	out := make([]AuditEntry, 0, len(rows))
	for _, r := range rows {
		e := AuditEntry{ID: r.ID, ActorEmail: r.ActorEmail, Action: r.Action, CreatedAt: r.CreatedAt}
		_ = json.Unmarshal(r.Before, &e.Before)
		_ = json.Unmarshal(r.After, &e.After)
		out = append(out, e)
	}
	return out, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", err
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok || !ids.ValidUUID(id) {
		return time.Time{}, "", fmt.Errorf("bad cursor")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	return t, id, err
}
