package clerkauth

import (
	"encoding/base64"
	"strings"
	"testing"
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
			cfg:             Config{SecretKey: testSecretKey, PublishableKey: testPublishableKey},
			wantFrontendAPI: "clerk.example.accounts.dev",
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
			cfg:             Config{SecretKey: testSecretKey, PublishableKey: testPublishableKey, APIURL: "http://127.0.0.1:9/v1/"},
			wantFrontendAPI: "clerk.example.accounts.dev",
		},
		{name: "no keys", cfg: Config{}, wantErr: true},
		{name: "missing secret key", cfg: Config{PublishableKey: testPublishableKey}, wantErr: true},
		{name: "missing publishable key", cfg: Config{SecretKey: testSecretKey}, wantErr: true},
		{name: "secret key without environment", cfg: Config{SecretKey: "sk_abc", PublishableKey: testPublishableKey}, wantErr: true},
		{name: "secret key with prefix only", cfg: Config{SecretKey: "sk_test_", PublishableKey: testPublishableKey}, wantErr: true},
		{name: "publishable key as secret key", cfg: Config{SecretKey: testPublishableKey, PublishableKey: testPublishableKey}, wantErr: true},
		{name: "secret key as publishable key", cfg: Config{SecretKey: testSecretKey, PublishableKey: testSecretKey}, wantErr: true},
		{name: "secret key with whitespace", cfg: Config{SecretKey: "sk_test_abc\n", PublishableKey: testPublishableKey}, wantErr: true},
		{name: "mixed environments", cfg: Config{SecretKey: "sk_live_abc", PublishableKey: testPublishableKey}, wantErr: true},
		{name: "publishable key not base64", cfg: Config{SecretKey: testSecretKey, PublishableKey: "pk_test_!!!"}, wantErr: true},
		{name: "publishable key without dollar", cfg: Config{SecretKey: testSecretKey, PublishableKey: pk("test", "clerk.example.accounts.dev")}, wantErr: true},
		{name: "publishable key with empty host", cfg: Config{SecretKey: testSecretKey, PublishableKey: pk("test", "$")}, wantErr: true},
		{name: "publishable key with a path", cfg: Config{SecretKey: testSecretKey, PublishableKey: pk("test", "evil.example/x.js?$")}, wantErr: true},
		{name: "relative API URL", cfg: Config{SecretKey: testSecretKey, PublishableKey: testPublishableKey, APIURL: "/v1"}, wantErr: true},
		{name: "API URL with another scheme", cfg: Config{SecretKey: testSecretKey, PublishableKey: testPublishableKey, APIURL: "ftp://api.clerk.com/v1"}, wantErr: true},
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
	_, err := New(Config{SecretKey: secret, PublishableKey: testPublishableKey})
	if err == nil {
		t.Fatal("New() accepted a malformed secret key")
	}
	if got := err.Error(); strings.Contains(got, "supersecret") {
		t.Errorf("error %q contains the secret key", got)
	}
}
