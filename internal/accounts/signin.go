package accounts

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// Sign-in throttling: after too many failures for one email (or from one
// address) within the window, further attempts are refused until the oldest
// failure ages out, without even checking the password.
const (
	FailureWindow     = 15 * time.Minute
	MaxFailuresPerKey = 5
	MaxFailuresPerIP  = 30
)

// Authenticate checks an email and password typed into the sign-in form.
// Errors: RateLimited (too many recent failures), Unauthorized (wrong email
// or password, deliberately not saying which), Forbidden (account disabled).
func (s *Service) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = normalizeEmail(email)
	now := s.now()
	counts, err := s.q.CountRecentLoginFailures(ctx, db.CountRecentLoginFailuresParams{
		Email: email, Ip: ip, Since: now.Add(-FailureWindow),
	})
	if err != nil {
		return User{}, fmt.Errorf("accounts: count failures: %w", err)
	}
	if counts.ByEmail >= MaxFailuresPerKey || counts.ByIp >= MaxFailuresPerIP {
		wait := counts.OldestByEmail.Add(FailureWindow).Sub(now)
		if counts.ByEmail < MaxFailuresPerKey || wait <= 0 {
			wait = FailureWindow
		}
		minutes := int(math.Ceil(wait.Minutes()))
		return User{}, apperr.New(apperr.RateLimited,
			"Too many failed sign-in attempts. Try again in %d minute%s.", minutes, plural(minutes))
	}

	row, err := s.q.GetUserByEmail(ctx, email)
	found := err == nil
	if err != nil && !db.IsNoRows(err) {
		return User{}, fmt.Errorf("accounts: find user: %w", err)
	}
	hash := dummyHash
	if found && row.PasswordHash != nil {
		hash = *row.PasswordHash
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		return User{}, fmt.Errorf("accounts: check password: %w", err)
	}
	if !found || row.PasswordHash == nil || !ok {
		if err := s.q.RecordLoginFailure(ctx, db.RecordLoginFailureParams{Email: email, Ip: ip}); err != nil {
			return User{}, fmt.Errorf("accounts: record failure: %w", err)
		}
		return User{}, apperr.New(apperr.Unauthorized, "Email or password is incorrect.")
	}
	u := userFromRow(row)
	if u.Disabled() {
		return User{}, apperr.New(apperr.Forbidden, "This account has been disabled. Ask an administrator to enable it.")
	}
	if err := s.q.ClearLoginFailures(ctx, email); err != nil {
		return User{}, fmt.Errorf("accounts: clear failures: %w", err)
	}
	return u, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
