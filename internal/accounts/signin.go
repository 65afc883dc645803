package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// Sign-in throttling counts failed attempts three ways, each for its own
// reason. An attempt held back by any of them is refused without checking
// its password, and is not counted itself.
//
//   - Per email and client address: after PairFreeFailures failures, each
//     further attempt waits PairBackoffBase after the last failure, doubling
//     with every failure up to PairBackoffCap. This slows one guesser down
//     without touching the account's owner, who signs in from elsewhere.
//   - Per client address across all emails (IPFailureLimit in IPWindow), so
//     one address cannot spray guesses over many accounts.
//   - Per email across all addresses (EmailFailureLimit in EmailWindow), so
//     guessing spread over many addresses stays bounded. The backoff keeps
//     one address to about ten failures an hour for one email, far below
//     this limit, so one attacker cannot lock the owner out.
//
// An IPv6 client is counted by its /64 network, which one subscriber
// usually holds whole.
const (
	PairFreeFailures  = 5
	PairBackoffBase   = time.Minute
	PairBackoffCap    = time.Hour
	PairWindow        = 24 * time.Hour
	IPFailureLimit    = 30
	IPWindow          = 15 * time.Minute
	EmailFailureLimit = 100
	EmailWindow       = time.Hour
)

// failureRetention is how long a failure can still hold an attempt back:
// the longest of the windows. PurgeExpired removes older ones.
const failureRetention = PairWindow

// maxEmailLen is the longest address an account can have (validateEmail);
// a longer email cannot match any account.
const maxEmailLen = 254

// Authenticate checks an email and password typed into the sign-in form
// from the client address ip. Errors: RateLimited (too many recent
// failures; the message says how long to wait), Unauthorized (wrong email
// or password, deliberately not saying which), Forbidden (account disabled).
func (s *Service) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = normalizeEmail(email)
	key := throttleKey{email: emailKey(email), ip: clientKey(ip)}
	now := s.now()
	// The attempt is recorded as a failure before the slow password check,
	// so attempts running at the same time count against each other.
	attemptID, err := s.q.RecordLoginFailure(ctx, db.RecordLoginFailureParams{Email: key.email, Ip: key.ip, FailedAt: now})
	if err != nil {
		return User{}, fmt.Errorf("accounts: record attempt: %w", err)
	}
	earlier, err := s.q.LoginFailuresBefore(ctx, db.LoginFailuresBeforeParams{
		Email: key.email, Ip: key.ip, AttemptID: attemptID,
		PairSince: now.Add(-PairWindow), IpSince: now.Add(-IPWindow), EmailSince: now.Add(-EmailWindow),
	})
	if err != nil {
		return User{}, fmt.Errorf("accounts: count failures: %w", err)
	}
	if wait, limit := throttleWait(earlier, now); wait > 0 {
		if err := s.q.DeleteLoginFailure(ctx, attemptID); err != nil {
			return User{}, fmt.Errorf("accounts: forget refused attempt: %w", err)
		}
		minutes := int(math.Ceil(wait.Minutes()))
		return User{}, apperr.New(apperr.RateLimited,
			"Too many failed sign-in attempts%s. Try again in %d minute%s.", limit, minutes, plural(minutes))
	}

	u, ok, err := s.checkCredentials(ctx, email, password)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, apperr.New(apperr.Unauthorized, "Email or password is incorrect.")
	}
	if err := s.q.ClearLoginFailures(ctx, db.ClearLoginFailuresParams{Email: key.email, Ip: key.ip}); err != nil {
		return User{}, fmt.Errorf("accounts: clear failures: %w", err)
	}
	if u.Disabled() {
		return User{}, apperr.New(apperr.Forbidden, "This account has been disabled. Ask an administrator to enable it.")
	}
	return u, nil
}

// checkCredentials finds the account with email and reports whether
// password is its password. An unknown email costs the same password hash
// as a known one, so the response time does not reveal which emails have
// accounts; an email too long for any account is refused at once.
func (s *Service) checkCredentials(ctx context.Context, email, password string) (User, bool, error) {
	if len(email) > maxEmailLen {
		return User{}, false, nil
	}
	row, err := s.q.GetUserByEmail(ctx, email)
	found := err == nil
	if err != nil && !db.IsNoRows(err) {
		return User{}, false, fmt.Errorf("accounts: find user: %w", err)
	}
	hash := dummyHash
	if found && row.PasswordHash != nil {
		hash = *row.PasswordHash
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		return User{}, false, fmt.Errorf("accounts: check password: %w", err)
	}
	if !found || row.PasswordHash == nil || !ok {
		return User{}, false, nil
	}
	return userFromRow(row), true, nil
}

// throttleKey is what failures are counted under, bounded in length
// whatever the client sends.
type throttleKey struct{ email, ip string }

// emailKey is the email lowercased, or a digest of it when it is longer
// than any account's address.
func emailKey(email string) string {
	email = strings.ToLower(email)
	if len(email) <= maxEmailLen {
		return email
	}
	sum := sha256.Sum256([]byte(email))
	return "overlong:" + hex.EncodeToString(sum[:])
}

// clientKey is the client address failures are counted under: the IPv4
// address, the IPv6 address's /64 network, or a digest of anything that is
// not an address (the HTTP layer passes only addresses, but the key stays
// bounded whatever a caller passes).
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		sum := sha256.Sum256([]byte(ip))
		return "unparsed:" + hex.EncodeToString(sum[:16])
	}
	addr = addr.WithZone("").Unmap()
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}

// throttleWait returns how long an attempt must wait, given the failures
// recorded before it, and which limit holds it back (as words for the
// message); zero when it may go ahead.
func throttleWait(earlier db.LoginFailuresBeforeRow, now time.Time) (time.Duration, string) {
	var wait time.Duration
	var limit string
	hold := func(until time.Time, what string) {
		if w := until.Sub(now); w > wait {
			wait, limit = w, what
		}
	}
	if n := int(earlier.PairCount); n >= PairFreeFailures {
		hold(earlier.PairLatest.Add(pairBackoff(n)), "")
	}
	if earlier.IpCount >= IPFailureLimit {
		hold(earlier.IpOldest.Add(IPWindow), " from your network")
	}
	if earlier.EmailCount >= EmailFailureLimit {
		hold(earlier.EmailOldest.Add(EmailWindow), " for this email address")
	}
	return wait, limit
}

// pairBackoff is how long after the last of failures failures for one email
// from one address the next attempt waits: PairBackoffBase after the
// PairFreeFailures-th, doubling per further failure up to PairBackoffCap.
func pairBackoff(failures int) time.Duration {
	wait := PairBackoffBase
	for range failures - PairFreeFailures {
		if wait >= PairBackoffCap {
			break
		}
		wait *= 2
	}
	return min(wait, PairBackoffCap)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
