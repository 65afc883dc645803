package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// Role is what a user may do: every user edits their own workbooks; admins
// also manage users and see every job.
type Role string

// The roles.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleUser || r == RoleAdmin }

// User is a person with an account.
type User struct {
	ID          string
	Email       string
	Name        string
	Role        Role
	DisabledAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	HasPassword bool
	ClerkUserID string
}

// IsAdmin reports whether u may use the admin pages and admin API.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// Disabled reports whether u has been disabled by an admin.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// DisplayName is the name when set, the email otherwise.
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

func userFromRow(r db.User) User {
	u := User{
		ID: r.ID, Email: r.Email, Name: r.Name, Role: Role(r.Role), DisabledAt: r.DisabledAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, HasPassword: r.PasswordHash != nil,
	}
	if r.ClerkUserID != nil {
		u.ClerkUserID = *r.ClerkUserID
	}
	return u
}

// Service is the accounts domain over one database.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
	now  func() time.Time
}

// NewService returns the accounts service over pool.
func NewService(pool *pgxpool.Pool) *Service {
	return &Service{pool: pool, q: db.New(pool), now: time.Now}
}

// SignUpInput is what a person types to create an account.
type SignUpInput struct {
	Email    string
	Name     string
	Password string
}

// SignUp creates a built-in account. The first account ever created becomes
// an admin. Errors: Invalid (bad email, weak password), Conflict (email taken).
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (User, error) {
	return s.createUser(ctx, in, false)
}

// CreateUser creates a built-in account for operators (the `user create`
// command), optionally as an admin. Errors as SignUp.
func (s *Service) CreateUser(ctx context.Context, in SignUpInput, admin bool) (User, error) {
	return s.createUser(ctx, in, admin)
}

func (s *Service) createUser(ctx context.Context, in SignUpInput, admin bool) (User, error) {
	email, name := normalizeEmail(in.Email), strings.TrimSpace(in.Name)
	var fields []apperr.FieldError
	if err := validateEmail(email); err != "" {
		fields = append(fields, apperr.FieldError{Field: "email", Message: err})
	}
	if err := validateName(name); err != "" {
		fields = append(fields, apperr.FieldError{Field: "name", Message: err})
	}
	if err := validatePassword(in.Password); err != "" {
		fields = append(fields, apperr.FieldError{Field: "password", Message: err})
	}
	if len(fields) > 0 {
		return User{}, apperr.InvalidFields("Please correct the highlighted fields.", fields...)
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return User{}, fmt.Errorf("accounts: hash password: %w", err)
	}
	var u User
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialize account creation briefly so "the first account becomes
		// admin" holds even when two people sign up at the same instant.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('scratchpad.create_user'))`); err != nil {
			return err
		}
		row, err := db.New(tx).CreateUser(ctx, db.CreateUserParams{
			Email: email, Name: name, PasswordHash: &hash, ForceAdmin: admin,
		})
		if err != nil {
			return err
		}
		u = userFromRow(row)
		return s.audit(ctx, tx, nil, u.ID, "user.created", nil, map[string]any{"email": u.Email, "role": u.Role})
	})
	if db.IsUniqueViolation(err) {
		return User{}, apperr.InvalidFields("An account with this email already exists.",
			apperr.FieldError{Field: "email", Message: "is already registered"})
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: create user: %w", err)
	}
	return u, nil
}

// FindUserByID returns the user with id. Errors: NotFound.
func (s *Service) FindUserByID(ctx context.Context, id string) (User, error) {
	if !ids.ValidUUID(id) {
		return User{}, apperr.New(apperr.NotFound, "User not found.")
	}
	row, err := s.q.GetUserByID(ctx, id)
	if db.IsNoRows(err) {
		return User{}, apperr.New(apperr.NotFound, "User not found.")
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: find user: %w", err)
	}
	return userFromRow(row), nil
}

// FindUserByEmail returns the user with email. Errors: NotFound.
func (s *Service) FindUserByEmail(ctx context.Context, email string) (User, error) {
	row, err := s.q.GetUserByEmail(ctx, normalizeEmail(email))
	if db.IsNoRows(err) {
		return User{}, apperr.New(apperr.NotFound, "No account with email %q.", email)
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: find user: %w", err)
	}
	return userFromRow(row), nil
}

// UpdateProfile changes the user's display name. Errors: Invalid, NotFound.
func (s *Service) UpdateProfile(ctx context.Context, userID, name string) (User, error) {
	name = strings.TrimSpace(name)
	if msg := validateName(name); msg != "" {
		return User{}, apperr.InvalidFields("Please correct the highlighted fields.", apperr.FieldError{Field: "name", Message: msg})
	}
	row, err := s.q.UpdateUserProfile(ctx, db.UpdateUserProfileParams{ID: userID, Name: name})
	if db.IsNoRows(err) {
		return User{}, apperr.New(apperr.NotFound, "User not found.")
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: update profile: %w", err)
	}
	return userFromRow(row), nil
}

// ChangePassword replaces the password after checking the current one and
// ends every session of the user, in one transaction: whoever signed in
// with the old password is signed out, and their event streams end. The
// caller gives the browser that made the change a fresh session. Errors:
// Invalid (wrong current password or weak new one), Forbidden (a Clerk
// account without a password), NotFound.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next string) error {
	row, err := s.q.GetUserByID(ctx, userID)
	if db.IsNoRows(err) {
		return apperr.New(apperr.NotFound, "User not found.")
	}
	if err != nil {
		return fmt.Errorf("accounts: change password: %w", err)
	}
	if row.PasswordHash == nil {
		// Accounts that sign in through Clerk have no password here; setting
		// one would open a second way in that skips Clerk.
		return apperr.New(apperr.Forbidden, "Your password is managed by Clerk.")
	}
	ok, err := checkPassword(*row.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("accounts: change password: %w", err)
	}
	if !ok {
		return apperr.InvalidFields("Your current password is not correct.",
			apperr.FieldError{Field: "current_password", Message: "is not correct"})
	}
	if msg := validatePassword(next); msg != "" {
		return apperr.InvalidFields("Please choose a stronger password.", apperr.FieldError{Field: "new_password", Message: msg})
	}
	hash, err := hashPassword(next)
	if err != nil {
		return err
	}
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := db.New(tx).UpdateUserPassword(ctx, db.UpdateUserPasswordParams{ID: userID, PasswordHash: &hash}); err != nil {
			return err
		}
		ended, err := endSessions(ctx, tx, userID, "")
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, &userID, userID, "user.password_changed", nil, map[string]any{"sessions_ended": ended})
	})
}

// audit writes one audit entry inside tx.
func (s *Service) audit(ctx context.Context, tx pgx.Tx, actorID *string, targetID, action string, before, after map[string]any) error {
	b, err := json.Marshal(orEmpty(before))
	if err != nil {
		return err
	}
	a, err := json.Marshal(orEmpty(after))
	if err != nil {
		return err
	}
	return db.New(tx).InsertAuditEntry(ctx, db.InsertAuditEntryParams{
		ActorID: actorID, TargetUserID: &targetID, Action: action, Before: b, After: a,
	})
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// notifyUser sends a live event to every browser of userID once tx commits.
func notifyUser(ctx context.Context, tx pgx.Tx, userID, typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return events.Notify(ctx, tx, events.Event{Topic: events.UserTopic(userID), Type: typ, Data: raw})
}

func normalizeEmail(email string) string { return strings.TrimSpace(email) }

func validateEmail(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > 254 {
		return "is too long"
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		return "is not a valid email address"
	}
	return ""
}

func validateName(name string) string {
	if utf8.RuneCountInString(name) > 100 {
		return "must be at most 100 characters"
	}
	if !utf8.ValidString(name) {
		return "must be valid text"
	}
	return ""
}

func validatePassword(p string) string {
	switch n := utf8.RuneCountInString(p); {
	case n < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLen)
	case len(p) > MaxPasswordLen:
		return fmt.Sprintf("must be at most %d bytes", MaxPasswordLen)
	}
	return ""
}
