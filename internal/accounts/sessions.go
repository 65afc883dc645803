package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// Session is one browser signed in as a user, as settings lists it.
// internal/sessionstore writes sessions for scs; this package lists and
// ends them on the user's behalf.
type Session struct {
	// ID names the session in URLs; the token, the browser's credential,
	// never leaves the server.
	ID         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	UserAgent  string
	IP         string
	// Current marks the session of the browser that asked.
	Current bool
}

// FindSessions returns the user's sessions that still let a browser in,
// most recently seen first, marking the one whose token is currentToken.
func (s *Service) FindSessions(ctx context.Context, userID, currentToken string) ([]Session, error) {
	if !ids.ValidUUID(userID) {
		return []Session{}, nil
	}
	rows, err := s.q.ListUserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("accounts: list sessions: %w", err)
	}
	out := make([]Session, 0, len(rows))
	for _, r := range rows {
		out = append(out, Session{
			ID: r.ID, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, UserAgent: r.UserAgent, IP: r.Ip,
			Current: currentToken != "" && r.Token == currentToken,
		})
	}
	return out, nil
}

// EndSession signs one of the user's sessions out; its browser's next
// request is signed out and its event streams end. Errors: NotFound (no
// such session of this user).
func (s *Service) EndSession(ctx context.Context, userID, sessionID string) error {
	if !ids.ValidUUID(sessionID) || !ids.ValidUUID(userID) {
		return apperr.New(apperr.NotFound, "Session not found.")
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := db.New(tx).EndUserSession(ctx, db.EndUserSessionParams{ID: sessionID, UserID: userID})
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "Session not found.")
		}
		return notifyAuthChanged(ctx, tx, userID, "session_ended")
	})
	if err != nil && apperr.KindOf(err) == apperr.Internal {
		return fmt.Errorf("accounts: end session: %w", err)
	}
	return err
}

// EndOtherSessions signs out every session of the user but the one whose
// token is keepToken ("sign out everywhere else"), recording it in the
// audit log, and returns how many ended.
func (s *Service) EndOtherSessions(ctx context.Context, userID, keepToken string) (int, error) {
	if !ids.ValidUUID(userID) {
		return 0, nil
	}
	var n int64
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if n, err = endSessions(ctx, tx, userID, keepToken); err != nil || n == 0 {
			return err
		}
		return s.audit(ctx, tx, &userID, userID, "user.signed_out_elsewhere", nil, map[string]any{"sessions": n})
	})
	if err != nil {
		return 0, fmt.Errorf("accounts: end other sessions: %w", err)
	}
	return int(n), nil
}

// CheckSession reports whether the browser session with token still lets
// its browser in: it exists, has not ended or expired, and its user is
// enabled. Event streams call it again while they run. Errors:
// Unauthorized.
func (s *Service) CheckSession(ctx context.Context, token string) error {
	_, err := s.q.ActiveSessionUser(ctx, token)
	return credentialCheck(err, "session")
}

// CheckToken reports whether the API token with tokenID still works: not
// revoked or expired, its user enabled. Errors: Unauthorized.
func (s *Service) CheckToken(ctx context.Context, tokenID string) error {
	if !ids.ValidUUID(tokenID) {
		return apperr.New(apperr.Unauthorized, "The API token is not valid.")
	}
	_, err := s.q.ActiveAPITokenUser(ctx, tokenID)
	return credentialCheck(err, "token")
}

// CheckUser reports whether the user still exists and is enabled, for
// credentials held elsewhere (a Clerk session). Errors: Unauthorized.
func (s *Service) CheckUser(ctx context.Context, userID string) error {
	u, err := s.FindUserByID(ctx, userID)
	if apperr.Is(err, apperr.NotFound) || err == nil && u.Disabled() {
		return apperr.New(apperr.Unauthorized, "This account is disabled or gone.")
	}
	return err
}

// credentialCheck maps a lookup of a credential to the answer of a Check
// method.
func credentialCheck(err error, what string) error {
	if db.IsNoRows(err) {
		return apperr.New(apperr.Unauthorized, "This %s has ended.", what)
	}
	if err != nil {
		return fmt.Errorf("accounts: check %s: %w", what, err)
	}
	return nil
}

// endSessions ends the user's sessions, all but keepToken's (an empty
// keepToken keeps none), inside tx and tells their event streams.
func endSessions(ctx context.Context, tx pgx.Tx, userID, keepToken string) (int64, error) {
	n, err := db.New(tx).EndUserSessions(ctx, db.EndUserSessionsParams{UserID: userID, KeepToken: keepToken})
	if err != nil || n == 0 {
		return n, err
	}
	return n, notifyAuthChanged(ctx, tx, userID, "sessions_ended")
}

// notifyAuthChanged tells every instance, once tx commits, that a
// credential of userID ended, so the user's event streams re-check theirs.
func notifyAuthChanged(ctx context.Context, tx pgx.Tx, userID, reason string) error {
	return notifyUser(ctx, tx, userID, events.TypeAuthChanged, map[string]string{"reason": reason})
}
