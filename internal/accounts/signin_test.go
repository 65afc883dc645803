package accounts_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

const rightPassword = "correct horse battery"

// testClock is a clock the test moves by hand, so backoff waits of minutes
// and hours take no time.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// MustClockedService returns a service on a fresh database reading the time
// from the returned clock.
func MustClockedService(t testing.TB) (*accounts.Service, *testClock) {
	t.Helper()
	s := MustService(t)
	clock := &testClock{now: time.Now()}
	s.SetClock(clock.Now)
	return s, clock
}

// outcome is what one sign-in attempt came to: the error kind ("" for
// success) and its message.
type outcome struct {
	kind    apperr.Kind
	message string
}

// MustAttempt signs in once and fails the test on an unclassified error,
// which no input may cause.
func MustAttempt(t testing.TB, s *accounts.Service, email, password, ip string) outcome {
	t.Helper()
	_, err := s.Authenticate(context.Background(), email, password, ip)
	if err == nil {
		return outcome{}
	}
	if apperr.KindOf(err) == apperr.Internal {
		t.Fatalf("sign in as %.40q from %.40q: %v", email, ip, err)
	}
	return outcome{apperr.KindOf(err), apperr.MessageOf(err)}
}

func MustBeRefused(t testing.TB, got outcome, wait string) {
	t.Helper()
	if got.kind != apperr.RateLimited || !strings.Contains(got.message, "Try again in "+wait+".") {
		t.Fatalf("got %s %q, want rate_limited saying to wait %s", got.kind, got.message, wait)
	}
}

func MustBeWrong(t testing.TB, got outcome) {
	t.Helper()
	if got.kind != apperr.Unauthorized {
		t.Fatalf("got %s %q, want unauthorized", got.kind, got.message)
	}
}

// After five failures for one email from one address, each further attempt
// from there waits a minute after the last failure, doubling per failure up
// to an hour; the right password is refused while it waits, and accepted
// after.
func TestAuthenticateBacksOffPerEmailAndAddress(t *testing.T) {
	t.Parallel()
	s, clock := MustClockedService(t)
	MustUser(t, s, "ada@example.com")
	const ip = "192.0.2.10"
	for range accounts.PairFreeFailures {
		MustBeWrong(t, MustAttempt(t, s, "ada@example.com", "wrong password", ip))
	}
	steps := []struct {
		wait time.Duration
		say  string
	}{
		{time.Minute, "1 minute"}, {2 * time.Minute, "2 minutes"}, {4 * time.Minute, "4 minutes"},
		{8 * time.Minute, "8 minutes"}, {16 * time.Minute, "16 minutes"}, {32 * time.Minute, "32 minutes"},
		{time.Hour, "60 minutes"}, {time.Hour, "60 minutes"},
	}
	for _, step := range steps {
		MustBeRefused(t, MustAttempt(t, s, "ADA@example.com", rightPassword, ip), step.say)
		// Refused attempts are not counted: the wait does not grow.
		clock.Advance(step.wait - time.Second)
		MustBeRefused(t, MustAttempt(t, s, "ada@example.com", "wrong password", ip), "1 minute")
		clock.Advance(2 * time.Second)
		MustBeWrong(t, MustAttempt(t, s, "ada@example.com", "wrong password", ip))
	}
	clock.Advance(accounts.PairBackoffCap)
	if got := MustAttempt(t, s, "ada@example.com", rightPassword, ip); got.kind != "" {
		t.Fatalf("right password after the wait: %s %q", got.kind, got.message)
	}
	// Signing in forgives this address's failures for this email.
	for range accounts.PairFreeFailures {
		MustBeWrong(t, MustAttempt(t, s, "ada@example.com", "wrong password", ip))
	}
}

// An attacker failing for alice again and again from one address does not
// stop alice signing in from hers, and her sign-in does not forgive the
// attacker.
func TestAuthenticateAttackerDoesNotLockOutOwner(t *testing.T) {
	t.Parallel()
	s, clock := MustClockedService(t)
	MustUser(t, s, "alice@example.com")
	checked := 0
	for range 240 { // two hours, an attempt every 30 seconds
		if got := MustAttempt(t, s, "alice@example.com", "guess", "203.0.113.9"); got.kind == apperr.Unauthorized {
			checked++
		}
		clock.Advance(30 * time.Second)
	}
	if checked > 15 {
		t.Errorf("one address had %d guesses checked in two hours", checked)
	}
	MustBeWrong(t, MustAttempt(t, s, "alice@example.com", "typo", "198.51.100.20"))
	if got := MustAttempt(t, s, "alice@example.com", rightPassword, "198.51.100.20"); got.kind != "" {
		t.Fatalf("alice from her own address: %s %q", got.kind, got.message)
	}
	if got := MustAttempt(t, s, "alice@example.com", rightPassword, "203.0.113.9"); got.kind != apperr.RateLimited {
		t.Fatalf("the attacker's address after alice signed in: %s %q", got.kind, got.message)
	}
}

// One address, or one IPv6 /64, gets IPFailureLimit failures across all
// emails in IPWindow.
func TestAuthenticateLimitsOneAddressAcrossEmails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ip        func(i int) string
		elsewhere string
	}{
		{"IPv4 address", func(int) string { return "192.0.2.7" }, "192.0.2.8"},
		{"IPv6 /64", func(i int) string { return fmt.Sprintf("2001:db8:0:5::%x", i+1) }, "2001:db8:0:6::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, clock := MustClockedService(t)
			MustUser(t, s, "owner@example.com")
			for i := range accounts.IPFailureLimit {
				MustBeWrong(t, MustAttempt(t, s, fmt.Sprintf("user%d@example.com", i), "guess", tc.ip(i)))
			}
			got := MustAttempt(t, s, "owner@example.com", rightPassword, tc.ip(99))
			MustBeRefused(t, got, "15 minutes")
			if !strings.Contains(got.message, "from your network") {
				t.Errorf("message %q does not say which limit", got.message)
			}
			if got := MustAttempt(t, s, "owner@example.com", rightPassword, tc.elsewhere); got.kind != "" {
				t.Fatalf("another address: %s %q", got.kind, got.message)
			}
			clock.Advance(accounts.IPWindow + time.Second)
			if got := MustAttempt(t, s, "owner@example.com", rightPassword, tc.ip(99)); got.kind != "" {
				t.Fatalf("after the window: %s %q", got.kind, got.message)
			}
		})
	}
}

// Guessing one email from many addresses, each staying under its own
// backoff, stops at EmailFailureLimit failures in EmailWindow.
func TestAuthenticateLimitsOneEmailAcrossAddresses(t *testing.T) {
	t.Parallel()
	s, clock := MustClockedService(t)
	MustUser(t, s, "target@example.com")
	perAddress := accounts.PairFreeFailures - 1
	for i := range accounts.EmailFailureLimit {
		ip := fmt.Sprintf("198.51.%d.%d", i/perAddress/250, i/perAddress%250+1)
		MustBeWrong(t, MustAttempt(t, s, "target@example.com", "guess", ip))
	}
	got := MustAttempt(t, s, "target@example.com", rightPassword, "192.0.2.200")
	MustBeRefused(t, got, "60 minutes")
	if !strings.Contains(got.message, "for this email address") {
		t.Errorf("message %q does not say which limit", got.message)
	}
	if got := MustAttempt(t, s, "other@example.com", "guess", "192.0.2.200"); got.kind != apperr.Unauthorized {
		t.Fatalf("another email from the same address: %s %q", got.kind, got.message)
	}
	clock.Advance(accounts.EmailWindow + time.Second)
	if got := MustAttempt(t, s, "target@example.com", rightPassword, "192.0.2.200"); got.kind != "" {
		t.Fatalf("after the window: %s %q", got.kind, got.message)
	}
}

// Issue 7: an email or address longer than an index entry can hold made
// recording the failure fail, so nothing was counted. They are stored under
// bounded keys and throttled like any other.
func TestAuthenticateBoundsOversizedInput(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	s := accounts.NewService(pool)
	MustUser(t, s, "victim@example.com")
	long := randomText(3000) // incompressible, as PostgreSQL compresses repetitive entries
	tests := []struct{ name, email, ip string }{
		{"3 KB email", long + "@example.com", "192.0.2.1"},
		{"3 KB email in capitals", strings.ToUpper(long) + "@EXAMPLE.COM", "192.0.2.2"},
		{"3 KB address", "victim@example.com", long},
		{"address with a 3 KB zone", "victim@example.com", "fe80::1%" + long},
	}
	for _, tc := range tests {
		for i := range 25 {
			got := MustAttempt(t, s, tc.email, "wrong password", tc.ip)
			if i < accounts.PairFreeFailures && got.kind != apperr.Unauthorized || i >= accounts.PairFreeFailures && got.kind != apperr.RateLimited {
				t.Fatalf("%s, attempt %d: %s %q", tc.name, i+1, got.kind, got.message)
			}
		}
	}
	if got := MustAttempt(t, s, "victim@example.com", rightPassword, long); got.kind != apperr.RateLimited {
		t.Fatalf("right password from the throttled address: %s %q", got.kind, got.message)
	}
	var email, ip int
	if err := pool.QueryRow(context.Background(), `SELECT max(length(email)), max(length(ip)) FROM login_failures`).Scan(&email, &ip); err != nil {
		t.Fatal(err)
	}
	if email > 254 || ip > 64 {
		t.Errorf("stored keys up to %d and %d characters long", email, ip)
	}
}

// Attempts running at the same time count against each other: a burst of
// parallel guesses gets no more checked than a sequence would.
func TestAuthenticateCountsConcurrentAttempts(t *testing.T) {
	t.Parallel()
	s := MustService(t)
	MustUser(t, s, "burst@example.com")
	var wg sync.WaitGroup
	outcomes := make([]outcome, 12)
	for i := range outcomes {
		wg.Go(func() { outcomes[i] = MustAttempt(t, s, "burst@example.com", "guess", "192.0.2.50") })
	}
	wg.Wait()
	checked := 0
	for _, o := range outcomes {
		if o.kind == apperr.Unauthorized {
			checked++
		}
	}
	if checked == 0 || checked > accounts.PairFreeFailures {
		t.Fatalf("%d of %d parallel guesses were checked, want 1 to %d", checked, len(outcomes), accounts.PairFreeFailures)
	}
}

// randomText returns n random letters and digits.
func randomText(n int) string {
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(rand.Text())
	}
	return sb.String()[:n]
}
