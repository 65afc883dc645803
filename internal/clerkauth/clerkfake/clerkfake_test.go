package clerkfake_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/scratchpad/scratchpad/internal/clerkauth"
	"github.com/scratchpad/scratchpad/internal/clerkauth/clerkfake"
)

func TestPublishableKeyEncodesFrontendAPI(t *testing.T) {
	t.Parallel()
	want := "pk_test_" + base64.StdEncoding.EncodeToString([]byte(clerkfake.FrontendAPI+"$"))
	if clerkfake.PublishableKey != want {
		t.Fatalf("PublishableKey = %q, want %q", clerkfake.PublishableKey, want)
	}
	c, err := clerkauth.New(clerkauth.Config{SecretKey: clerkfake.SecretKey, PublishableKey: clerkfake.PublishableKey})
	if err != nil {
		t.Fatalf("clerkauth.New: %v", err)
	}
	if c.FrontendAPI() != clerkfake.FrontendAPI {
		t.Fatalf("FrontendAPI() = %q, want %q", c.FrontendAPI(), clerkfake.FrontendAPI)
	}
}

func TestServerRequiresSecretKeyAndCounts(t *testing.T) {
	t.Parallel()
	fake := clerkfake.New(t, nil, nil)
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"no key", "/jwks", "", http.StatusUnauthorized},
		{"wrong key", "/jwks", "Bearer sk_test_wrong", http.StatusUnauthorized},
		{"jwks", "/jwks", "Bearer " + clerkfake.SecretKey, http.StatusOK},
		{"unknown user", "/users/user_x", "Bearer " + clerkfake.SecretKey, http.StatusNotFound},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, fake.URL+tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if fake.JWKSRequests() != 1 || fake.UserRequests() != 1 {
		t.Errorf("counts = %d JWKS, %d users; want 1, 1 (unauthenticated requests are not counted)", fake.JWKSRequests(), fake.UserRequests())
	}
}
