package llmkeys_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/llm/llmtest"
	"github.com/scratchpad/scratchpad/internal/llmkeys"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

type fixture struct {
	pool       *pgxpool.Pool
	ring       *secrets.Keyring
	rawKey     []byte
	alice, bob string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{pool: testdb.New(t)}
	k, _ := secrets.ParseKey(secrets.NewKey())
	ring, err := secrets.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	f.ring, f.rawKey = ring, k
	acc := accounts.NewService(f.pool)
	for who, id := range map[string]*string{"alice": &f.alice, "bob": &f.bob} {
		u, err := acc.CreateUser(context.Background(), accounts.SignUpInput{
			Email: who + "@example.com", Name: who, Password: "correct horse battery"}, false)
		if err != nil {
			t.Fatal(err)
		}
		*id = u.ID
	}
	return f
}

func TestOwnKeyIsSealedHintedAndPreferred(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := llmkeys.NewService(f.pool, f.ring, llmkeys.Options{ServerKey: "sk-server-key-0000"})
	const key = "sk-or-v1-0123456789abcdefwxyz"
	hint, err := svc.SetOwnKey(ctx, f.alice, "  "+key+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if hint != "sk-or-v1-…wxyz" {
		t.Errorf("hint = %q", hint)
	}
	// Stored sealed: the key's text is nowhere in the row.
	var sealed []byte
	var storedHint string
	if err := f.pool.QueryRow(ctx, `SELECT sealed_key, hint FROM user_llm_keys WHERE user_id = $1`, f.alice).Scan(&sealed, &storedHint); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "0123456789abcdef") || storedHint != hint {
		t.Error("the key is stored in the clear")
	}
	// Sealed for alice: the same bytes on bob's row do not open.
	if _, err := llm.OpenUserKey(f.ring, f.bob, sealed); err == nil {
		t.Error("alice's sealed key opens as bob's")
	}
	if h, _ := svc.OwnKeyHint(ctx, f.alice); h != hint {
		t.Errorf("OwnKeyHint = %q", h)
	}
	k, src, err := svc.KeyFor(ctx, f.alice)
	if err != nil || k != key || src != llmkeys.SourceUser {
		t.Errorf("alice: %q %q %v", k, src, err)
	}
	k, src, err = svc.KeyFor(ctx, f.bob)
	if err != nil || k != "sk-server-key-0000" || src != llmkeys.SourceServer {
		t.Errorf("bob: %q %q %v", k, src, err)
	}
	if err := svc.DeleteOwnKey(ctx, f.alice); err != nil {
		t.Fatal(err)
	}
	if h, _ := svc.OwnKeyHint(ctx, f.alice); h != "" {
		t.Errorf("hint after delete = %q", h)
	}
	if _, src, _ := svc.KeyFor(ctx, f.alice); src != llmkeys.SourceServer {
		t.Errorf("after delete: %q", src)
	}
	for _, bad := range []string{"", "   ", "sk with spaces", strings.Repeat("k", llmkeys.MaxKeyLen+1)} {
		if _, err := svc.SetOwnKey(ctx, f.alice, bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%.20q: %v", bad, err)
		}
	}
}

func TestNoKeyAtAll(t *testing.T) {
	f := newFixture(t)
	svc := llmkeys.NewService(f.pool, f.ring, llmkeys.Options{})
	_, _, err := svc.KeyFor(context.Background(), f.alice)
	if !errors.Is(err, llm.ErrNoKey) {
		t.Errorf("%v", err)
	}
}

func TestProvisionedKeysAndLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fake := llmtest.NewProvisioning(t)
	svc := llmkeys.NewService(f.pool, f.ring, llmkeys.Options{ServerKey: "sk-server-key-0000",
		Provisioner: llm.NewProvisioner(fake.URL(), llmtest.ManagementKey, nil), MonthlyLimit: 7})
	if _, ok, _ := svc.ProvisionedKey(ctx, f.alice); ok {
		t.Error("alice has a key before any call")
	}
	// Concurrent first calls provision one key, not one each.
	var wg sync.WaitGroup
	keys := make([]string, 4)
	for i := range keys {
		wg.Go(func() {
			k, src, err := svc.KeyFor(ctx, f.alice)
			if err != nil || src != llmkeys.SourceProvisioned {
				t.Errorf("KeyFor: %q %v", src, err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k != keys[0] || !strings.HasPrefix(k, "sk-or-v1-secret-") {
			t.Errorf("keys differ: %q", keys)
		}
	}
	if fake.Len() != 1 {
		t.Errorf("%d keys live at the provider, want 1", fake.Len())
	}
	p, ok, err := svc.ProvisionedKey(ctx, f.alice)
	if err != nil || !ok || p.Limit == nil || *p.Limit != 7 {
		t.Fatalf("provisioned: %+v %v %v", p, ok, err)
	}
	if err := svc.SetMonthlyLimit(ctx, f.bob, f.alice, 12.5); err != nil {
		t.Fatal(err)
	}
	p, _, _ = svc.ProvisionedKey(ctx, f.alice)
	if p.Limit == nil || *p.Limit != 12.5 {
		t.Errorf("limit after change = %v", p.Limit)
	}
	var before, after string
	if err := f.pool.QueryRow(ctx, `SELECT before::text, after::text FROM audit_log WHERE target_user_id = $1 AND actor_id = $2 AND action = 'user.llm_limit_changed'`, f.alice, f.bob).Scan(&before, &after); err != nil {
		t.Fatalf("audit entry: %v", err)
	}
	if before != `{"monthly_limit": 7}` || after != `{"monthly_limit": 12.5}` {
		t.Errorf("audit %s -> %s", before, after)
	}
	// An admin setting bob's limit before bob ever asked provisions his key
	// with it.
	if err := svc.SetMonthlyLimit(ctx, f.alice, f.bob, 2); err != nil {
		t.Fatal(err)
	}
	p, ok, _ = svc.ProvisionedKey(ctx, f.bob)
	if !ok || *p.Limit != 2 || fake.Len() != 2 {
		t.Errorf("bob: %+v %v keys %d", p, ok, fake.Len())
	}
	for _, bad := range []float64{-1, 2e6} {
		if err := svc.SetMonthlyLimit(ctx, f.alice, f.bob, bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	// A user's own key wins over the provisioned one.
	if _, err := svc.SetOwnKey(ctx, f.bob, "sk-bobs-own-key-1234"); err != nil {
		t.Fatal(err)
	}
	if k, src, _ := svc.KeyFor(ctx, f.bob); k != "sk-bobs-own-key-1234" || src != llmkeys.SourceUser {
		t.Errorf("bob: %q %q", k, src)
	}
}

func TestSetMonthlyLimitWithoutProvisioning(t *testing.T) {
	f := newFixture(t)
	svc := llmkeys.NewService(f.pool, f.ring, llmkeys.Options{})
	if err := svc.SetMonthlyLimit(context.Background(), f.bob, f.alice, 3); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("%v", err)
	}
}

func TestRotateResealsWithTheCurrentKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := llmkeys.NewService(f.pool, f.ring, llmkeys.Options{})
	if _, err := old.SetOwnKey(ctx, f.alice, "sk-alices-key-abcd"); err != nil {
		t.Fatal(err)
	}
	newKey, _ := secrets.ParseKey(secrets.NewKey())
	// The new keyring has a new current key and f.ring's key as an old one.
	ring, err := secrets.NewKeyring(newKey, f.rawKey)
	if err != nil {
		t.Fatal(err)
	}
	svc := llmkeys.NewService(f.pool, ring, llmkeys.Options{})
	n, err := svc.Rotate(ctx)
	if err != nil || n != 1 {
		t.Fatalf("rotated %d %v", n, err)
	}
	if n, _ := svc.Rotate(ctx); n != 0 {
		t.Errorf("second rotation resealed %d", n)
	}
	only, _ := secrets.NewKeyring(newKey)
	k, _, err := llmkeys.NewService(f.pool, only, llmkeys.Options{}).KeyFor(ctx, f.alice)
	if err != nil || k != "sk-alices-key-abcd" {
		t.Errorf("with the new key alone: %q %v", k, err)
	}
}
