package clerkauth

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/clerkauth/clerkfake"
)

func TestNew(t *testing.T) {
	t.Parallel()
	pk := func(env, payload string) string {
		return "pk_" + env + "_" + base64.StdEncoding.EncodeToString([]byte(payload))
	}
	tests := []struct {
		name            string
		cfg             Config
		wantErr         bool
		wantFrontendAPI string
	}{
		{
			name:            "test keys",
			cfg:             Config{SecretKey: clerkfake.SecretKey, PublishableKey: clerkfake.PublishableKey},
			wantFrontendAPI: clerkfake.FrontendAPI,
		},
		{
			name:            "live keys",
			cfg:             Config{SecretKey: "sk_live_abc", PublishableKey: pk("live", "clerk.scratchpad.example.com$")},
			wantFrontendAPI: "clerk.scratchpad.example.com",
		},
		{
			name:            "publishable key without base64 padding",
			cfg:             Config{SecretKey: "sk_test_abc", PublishableKey: "pk_test_" + base64.RawStdEncoding.EncodeToString([]byte("a.clerk.accounts.dev$"))},
			wantFrontendAPI: "a.clerk.accounts.dev",
		},
		{
			name:            "API URL override",
			cfg:             Config{SecretKey: clerkfake.SecretKey, PublishableKey: clerkfake.PublishableKey, APIURL: "http://127.0.0.1:9/v1/"},
			wantFrontendAPI: clerkfake.FrontendAPI,
		},
		{name: "no keys", cfg: Config{}, wantErr: true},
		{name: "missing secret key", cfg: Config{PublishableKey: clerkfake.PublishableKey}, wantErr: true},
		{name: "missing publishable key", cfg: Config{SecretKey: clerkfake.SecretKey}, wantErr: true},
		{name: "secret key without environment", cfg: Config{SecretKey: "sk_abc", PublishableKey: clerkfake.PublishableKey}, wantErr: true},
		{name: "secret key with prefix only", cfg: Config{SecretKey: "sk_test_", PublishableKey: clerkfake.PublishableKey}, wantErr: true},
		{name: "publishable key as secret key", cfg: Config{SecretKey: clerkfake.PublishableKey, PublishableKey: clerkfake.PublishableKey}, wantErr: true},
		{name: "secret key as publishable key", cfg: Config{SecretKey: clerkfake.SecretKey, PublishableKey: clerkfake.SecretKey}, wantErr: true},
		{name: "secret key with whitespace", cfg: Config{SecretKey: "sk_test_abc\n", PublishableKey: clerkfake.PublishableKey}, wantErr: true},
		{name: "mixed environments", cfg: Config{SecretKey: "sk_live_abc", PublishableKey: clerkfake.PublishableKey}, wantErr: true},
		{name: "publishable key not base64", cfg: Config{SecretKey: clerkfake.SecretKey, PublishableKey: "pk_test_!!!"}, wantErr: true},
		{name: "publishable key without dollar", cfg: Config{SecretKey: clerkfake.SecretKey, PublishableKey: pk("test", "clerk.example.accounts.dev")}, wantErr: true},
		{name: "publishable key with empty host", cfg: Config{SecretKey: clerkfake.SecretKey, PublishableKey: pk("test", "$")}, wantErr: true},
		{name: "publishable key with a path", cfg: Config{SecretKey: clerkfake.SecretKey, PublishableKey: pk("test", "evil.example/x.js?$")}, wantErr: true},
		{name: "relative API URL", cfg: Config{SecretKey: clerkfake.SecretKey, PublishableKey: clerkfake.PublishableKey, APIURL: "/v1"}, wantErr: true},
		{name: "API URL with another scheme", cfg: Config{SecretKey: clerkfake.SecretKey, PublishableKey: clerkfake.PublishableKey, APIURL: "ftp://api.clerk.com/v1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New() = %+v, want an error", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			if got := c.FrontendAPI(); got != tt.wantFrontendAPI {
				t.Errorf("FrontendAPI() = %q, want %q", got, tt.wantFrontendAPI)
			}
			wantScript := "https://" + tt.wantFrontendAPI + "/npm/@clerk/clerk-js@5/dist/clerk.browser.js"
			if got := c.ScriptURL(); got != wantScript {
				t.Errorf("ScriptURL() = %q, want %q", got, wantScript)
			}
		})
	}
}

func TestNewDoesNotLeakSecretKeyInErrors(t *testing.T) {
	t.Parallel()
	secret := "sk_prod_supersecretvalue"
	_, err := New(Config{SecretKey: secret, PublishableKey: clerkfake.PublishableKey})
	if err == nil {
		t.Fatal("New() accepted a malformed secret key")
	}
	if got := err.Error(); strings.Contains(got, "supersecret") {
		t.Errorf("error %q contains the secret key", got)
	}
}
