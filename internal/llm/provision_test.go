package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/secrets"
)

const managementKey = "sk-or-v1-management-test"

// fakeProvisioning follows OpenRouter's key-provisioning API: POST /keys
// answers 201 {"data": {...}, "key": secret}; GET and PATCH /keys/{hash}
// answer {"data": {...}}; DELETE answers {"deleted": true}; every route
// refuses any key but the management key with a 401; unknown hashes are
// 404.
type fakeProvisioning struct {
	srv *httptest.Server

	mu     sync.Mutex
	keys   map[string]map[string]any
	bodies []map[string]any
	n      int
}

func newFakeProvisioning(t *testing.T) *fakeProvisioning {
	f := &fakeProvisioning{keys: map[string]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeProvisioning) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+managementKey {
		jsonError(w, 401, `{"error":{"code":401,"message":"No cookie auth credentials found"}}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPatch) {
		if r.Header.Get("Content-Type") != "application/json" {
			jsonError(w, 400, `{"error":{"code":400,"message":"Content-Type must be application/json"}}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			jsonError(w, 400, `{"error":{"code":400,"message":"invalid JSON"}}`)
			return
		}
		f.bodies = append(f.bodies, body)
	}
	write := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.URL.Path == "/api/v1/keys" && r.Method == http.MethodPost:
		name, _ := body["name"].(string)
		if name == "" {
			jsonError(w, 400, `{"error":{"code":400,"message":"name is required"}}`)
			return
		}
		f.n++
		hash := fmt.Sprintf("%064x", f.n)
		k := map[string]any{
			"hash": hash, "name": name, "label": "sk-or-v1-abc...xyz", "disabled": false,
			"limit": body["limit"], "limit_remaining": body["limit"], "limit_reset": body["limit_reset"],
			"include_byok_in_limit": false, "usage": 0, "usage_daily": 0, "usage_weekly": 0, "usage_monthly": 0,
			"created_at": "2026-12-07T10:30:00Z", "updated_at": nil,
		}
		f.keys[hash] = k
		write(201, map[string]any{"data": k, "key": "sk-or-v1-secret-" + hash[60:]})
	case strings.HasPrefix(r.URL.Path, "/api/v1/keys/"):
		hash := strings.TrimPrefix(r.URL.Path, "/api/v1/keys/")
		k, ok := f.keys[hash]
		if !ok {
			jsonError(w, 404, `{"error":{"code":404,"message":"Key not found"}}`)
			return
		}
		switch r.Method {
		case http.MethodGet:
			write(200, map[string]any{"data": k})
		case http.MethodPatch:
			for _, field := range []string{"name", "disabled", "limit", "limit_reset", "include_byok_in_limit"} {
				if v, ok := body[field]; ok {
					k[field] = v
				}
			}
			if _, ok := body["limit"]; ok {
				k["limit_remaining"] = body["limit"]
			}
			k["updated_at"] = "2026-12-07T11:00:00Z"
			write(200, map[string]any{"data": k})
		case http.MethodDelete:
			delete(f.keys, hash)
			write(200, map[string]any{"deleted": true})
		default:
			w.WriteHeader(405)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestProvisionerKeyLifecycle(t *testing.T) {
	t.Parallel()
	f := newFakeProvisioning(t)
	p := llm.NewProvisioner(f.srv.URL+"/api/v1/", managementKey, nil)
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
	f.mu.Lock()
	created := f.bodies[0]
	f.mu.Unlock()
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

	_, _, err := llm.NewProvisioner(f.srv.URL+"/api/v1", "sk-or-v1-wrong", nil).Create(ctx, "u", 5)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindAuth || e.Status != 401 || !strings.Contains(e.UserMessage(), "LLM_PROVISIONING_KEY") {
		t.Fatalf("wrong management key: %v", err)
	}
	_, _, err = llm.NewProvisioner(f.srv.URL+"/api/v1", "", nil).Create(ctx, "u", 5)
	if !errors.Is(err, llm.ErrNoKey) {
		t.Fatalf("no management key: %v", err)
	}

	p := llm.NewProvisioner(f.srv.URL+"/api/v1", managementKey, nil)
	if _, _, err := p.Create(ctx, "u", -1); err == nil {
		t.Fatal("a negative limit was accepted")
	}
	if _, err := p.SetLimit(ctx, "abc", -0.01); err == nil {
		t.Fatal("a negative limit was accepted")
	}
	if _, _, err := p.Create(ctx, " ", 5); err == nil {
		t.Fatal("a key without a name was accepted")
	}
	f.mu.Lock()
	n := len(f.bodies)
	f.mu.Unlock()
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
	_, secret, err := llm.NewProvisioner(f.srv.URL+"/api/v1", managementKey, nil).Create(context.Background(), "u7", 3)
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
