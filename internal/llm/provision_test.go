package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/llm/llmtest"
	"github.com/scratchpad/scratchpad/internal/secrets"
)

const managementKey = llmtest.ManagementKey

// newFakeProvisioning is the fake of OpenRouter's key-provisioning API
// that other packages' tests use too.
func newFakeProvisioning(t *testing.T) *llmtest.Provisioning { return llmtest.NewProvisioning(t) }

func TestProvisionerKeyLifecycle(t *testing.T) {
	t.Parallel()
	f := newFakeProvisioning(t)
	p := llm.NewProvisioner(f.URL()+"/", managementKey, nil)
	ctx := context.Background()

	key, secret, err := p.Create(ctx, "scratchpad user 42", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "sk-or-v1-secret-") || key.Hash == "" || key.Name != "scratchpad user 42" {
		t.Fatalf("created %+v with secret %q", key, secret)
	}
	if key.Limit == nil || *key.Limit != 10 || key.LimitReset != "monthly" || key.Disabled || key.CreatedAt.IsZero() {
		t.Fatalf("created %+v: want a $10 monthly limit", key)
	}
	created := f.Bodies()[0]
	if created["name"] != "scratchpad user 42" || created["limit"] != 10.0 || created["limit_reset"] != "monthly" {
		t.Fatalf("create body %v", created)
	}

	got, err := p.Get(ctx, key.Hash)
	if err != nil || got.Hash != key.Hash || *got.Limit != 10 {
		t.Fatalf("get: %+v %v", got, err)
	}

	// An admin raises the limit.
	got, err = p.SetLimit(ctx, key.Hash, 25.5)
	if err != nil || *got.Limit != 25.5 || got.LimitReset != "monthly" || got.UpdatedAt.IsZero() {
		t.Fatalf("set limit: %+v %v", got, err)
	}
	if got, err = p.Get(ctx, key.Hash); err != nil || *got.Limit != 25.5 {
		t.Fatalf("after set limit: %+v %v", got, err)
	}

	got, err = p.SetDisabled(ctx, key.Hash, true)
	if err != nil || !got.Disabled {
		t.Fatalf("disable: %+v %v", got, err)
	}
	if got, err = p.SetDisabled(ctx, key.Hash, false); err != nil || got.Disabled {
		t.Fatalf("enable: %+v %v", got, err)
	}

	if err := p.Delete(ctx, key.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(ctx, key.Hash); !errors.Is(err, llm.ErrKeyNotFound) {
		t.Fatalf("get after delete: %v, want ErrKeyNotFound", err)
	}
	if err := p.Delete(ctx, key.Hash); err != nil {
		t.Fatalf("deleting a deleted key: %v", err)
	}
}

func TestProvisionerRefusals(t *testing.T) {
	t.Parallel()
	f := newFakeProvisioning(t)
	ctx := context.Background()

	_, _, err := llm.NewProvisioner(f.URL(), "sk-or-v1-wrong", nil).Create(ctx, "u", 5)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || e.Status != 401 || !strings.Contains(e.UserMessage(), "LLM_PROVISIONING_KEY") {
		t.Fatalf("wrong management key: %v", err)
	}
	_, _, err = llm.NewProvisioner(f.URL(), "", nil).Create(ctx, "u", 5)
	if !errors.Is(err, llm.ErrNoKey) {
		t.Fatalf("no management key: %v", err)
	}

	p := llm.NewProvisioner(f.URL(), managementKey, nil)
	if _, _, err := p.Create(ctx, "u", -1); err == nil {
		t.Fatal("a negative limit was accepted")
	}
	if _, err := p.SetLimit(ctx, "abc", -0.01); err == nil {
		t.Fatal("a negative limit was accepted")
	}
	if _, _, err := p.Create(ctx, " ", 5); err == nil {
		t.Fatal("a key without a name was accepted")
	}
	n := len(f.Bodies())
	if n != 0 {
		t.Fatalf("%d invalid requests reached the API", n)
	}
	// A hash with path characters stays one path segment.
	if _, err := p.Get(ctx, "../keys"); !errors.Is(err, llm.ErrKeyNotFound) {
		t.Fatalf("odd hash: %v", err)
	}
}

func TestProvisionedKeyWorksWithTheClient(t *testing.T) {
	t.Parallel()
	// The secret a provisioning call returns is the key a user's requests
	// carry; sealed at rest, it opens only for that user.
	kr, err := secrets.NewKeyring(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeProvisioning(t)
	_, secret, err := llm.NewProvisioner(f.URL(), managementKey, nil).Create(context.Background(), "u7", 3)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := llm.SealUserKey(kr, "u7", secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) {
		t.Fatal("the sealed key contains the secret")
	}
	if _, err := llm.OpenUserKey(kr, "u8", sealed); err == nil {
		t.Fatal("another user's sealed key opened")
	}
	opened, err := llm.OpenUserKey(kr, "u7", sealed)
	if err != nil || opened != secret {
		t.Fatalf("open: %q %v", opened, err)
	}

	chat := newFake(t)
	chat.addKey(opened)
	chat.script(sse(chunk(`{"content":"ok"}`, "stop")))
	c := chat.client(llm.Options{APIKey: "-"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Stream(ctx, llm.Request{Model: "m", APIKey: opened, Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSealUserKeyRejectsNonsenseAndHints(t *testing.T) {
	t.Parallel()
	kr, err := secrets.NewKeyring(make([]byte, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"", "  ", "sk-or v1"} {
		if _, err := llm.SealUserKey(kr, "u", k); err == nil {
			t.Errorf("%q was sealed", k)
		}
	}
	if h := llm.KeyHint("sk-or-v1-0123456789abcdef"); h != "sk-or-v1-…cdef" {
		t.Errorf("hint %q", h)
	}
	if h := llm.KeyHint("short"); h != "…" {
		t.Errorf("hint of a short key %q shows too much", h)
	}
}
