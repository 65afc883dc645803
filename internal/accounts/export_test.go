package accounts

import "time"

// SetClock makes s read the time from now, so tests can step through
// sign-in backoff without sleeping.
func (s *Service) SetClock(now func() time.Time) { s.now = now }
