// Package llmtest holds fakes of the model services for tests of any
// package: the key-provisioning API. Test code only.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// ManagementKey is the only key the fake accepts.
const ManagementKey = "sk-or-v1-management-test"

// Provisioning is a fake that follows OpenRouter's key-provisioning API: POST /keys
// answers 201 {"data": {...}, "key": secret}; GET and PATCH /keys/{hash}
// answer {"data": {...}}; DELETE answers {"deleted": true}; every route
// refuses any key but the management key with a 401; unknown hashes are
// 404.
type Provisioning struct {
	srv *httptest.Server

	mu     sync.Mutex
	keys   map[string]map[string]any
	bodies []map[string]any
	n      int
}

// NewProvisioning starts the fake for the test's lifetime.
func NewProvisioning(t testing.TB) *Provisioning {
	f := &Provisioning{keys: map[string]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *Provisioning) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+ManagementKey {
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

// URL is the fake's API base URL, as LLM_BASE_URL would be.
func (f *Provisioning) URL() string { return f.srv.URL + "/api/v1" }

// Bodies are the JSON bodies of the POST and PATCH requests so far.
func (f *Provisioning) Bodies() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.bodies...)
}

// Key returns a copy of the key hash names, as the fake stores it.
func (f *Provisioning) Key(hash string) (map[string]any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[hash]
	if !ok {
		return nil, false
	}
	out := make(map[string]any, len(k))
	for n, v := range k {
		out[n] = v
	}
	return out, true
}

// Len is how many keys exist.
func (f *Provisioning) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.keys)
}

func jsonError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}
