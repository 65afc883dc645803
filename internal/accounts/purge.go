package accounts

import (
	"context"
	"fmt"
	"time"
)

// PurgeResult counts what PurgeExpired removed.
type PurgeResult struct {
	Sessions      int64
	Tokens        int64
	LoginFailures int64
}

// PurgeExpired removes expired browser sessions, tokens that expired or were
// revoked more than keep ago, and sign-in failures older than the throttle
// windows. A periodic job runs it.
func (s *Service) PurgeExpired(ctx context.Context, keep time.Duration) (PurgeResult, error) {
	var r PurgeResult
	var err error
	if r.Sessions, err = s.q.PurgeExpiredSessions(ctx); err != nil {
		return r, fmt.Errorf("accounts: purge sessions: %w", err)
	}
	if r.Tokens, err = s.q.PurgeDeadAPITokens(ctx, s.now().Add(-keep)); err != nil {
		return r, fmt.Errorf("accounts: purge tokens: %w", err)
	}
	if r.LoginFailures, err = s.q.PurgeLoginFailures(ctx, s.now().Add(-failureRetention)); err != nil {
		return r, fmt.Errorf("accounts: purge login failures: %w", err)
	}
	return r, nil
}
