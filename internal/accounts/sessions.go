package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
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
// request is signed out. Errors: NotFound (no such session of this user).
func (s *Service) EndSession(ctx context.Context, userID, sessionID string) error {
	if !ids.ValidUUID(sessionID) || !ids.ValidUUID(userID) {
		return apperr.New(apperr.NotFound, "Session not found.")
	}
	n, err := s.q.EndUserSession(ctx, db.EndUserSessionParams{ID: sessionID, UserID: userID})
	if err != nil {
		return fmt.Errorf("accounts: end session: %w", err)
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "Session not found.")
	}
	return nil
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

// endSessions ends the user's sessions, all but keepToken's (an empty
// keepToken keeps none), inside tx.
func endSessions(ctx context.Context, tx pgx.Tx, userID, keepToken string) (int64, error) {
	return db.New(tx).EndUserSessions(ctx, db.EndUserSessionsParams{UserID: userID, KeepToken: keepToken})
}
