package clerkauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerk/clerk-sdk-go/v2/user"
)

// DefaultAPIURL is the Clerk Backend API base URL used when Config.APIURL is
// empty.
const DefaultAPIURL = clerk.APIURL

// clerkJSMajorVersion pins the ClerkJS major version the sign-in page loads;
// the Frontend API serves the latest release within that major version.
const clerkJSMajorVersion = "5"

// Config holds what New needs to talk to one Clerk instance.
type Config struct {
	// SecretKey is the instance's Backend API secret key (sk_test_… or
	// sk_live_…). It authenticates JWKS and user lookups and must never
	// reach the browser.
	SecretKey string
	// PublishableKey is the instance's publishable key (pk_test_… or
	// pk_live_…). It is safe to show in the page and encodes the Frontend
	// API host.
	PublishableKey string
	// APIURL is the Backend API base URL; empty means DefaultAPIURL. Tests
	// point it at a local fake.
	APIURL string
	// HTTPClient makes the Backend API calls; nil means clerk-sdk-go's
	// default client, which has a 5 second timeout.
	HTTPClient *http.Client
	// AuthorizedParties optionally lists the origins (for example
	// "https://scratchpad.example.com") allowed in a token's azp claim, as
	// Clerk recommends, so a token minted for another site of the same Clerk
	// instance is refused. Empty means the azp claim is not checked.
	AuthorizedParties []string
}

// Client verifies Clerk session tokens and fetches Clerk user profiles for
// one Clerk instance. It is safe for concurrent use.
type Client struct {
	frontendAPI       string
	authorizedParties map[string]bool
	users             *user.Client
	keys              *keyCache
	now               func() time.Time
}

// New validates cfg and returns a Client for the Clerk instance it names.
// It returns an error when either key is missing or malformed, when the keys
// belong to different environments (test and live), or when APIURL is not an
// absolute http(s) URL. New makes no network calls.
func New(cfg Config) (*Client, error) {
	return newClient(cfg, time.Now)
}

// newClient is New with an injectable clock, so tests can move time without
// sleeping.
func newClient(cfg Config, now func() time.Time) (*Client, error) {
	secretEnv, err := keyEnvironment(cfg.SecretKey, "sk_")
	if err != nil {
		return nil, fmt.Errorf("clerkauth: secret key: %w", err)
	}
	publishableEnv, err := keyEnvironment(cfg.PublishableKey, "pk_")
	if err != nil {
		return nil, fmt.Errorf("clerkauth: publishable key: %w", err)
	}
	if secretEnv != publishableEnv {
		return nil, fmt.Errorf("clerkauth: secret key is a %s key but publishable key is a %s key", secretEnv, publishableEnv)
	}
	frontendAPI, err := frontendAPIFromPublishableKey(cfg.PublishableKey)
	if err != nil {
		return nil, fmt.Errorf("clerkauth: publishable key: %w", err)
	}
	apiURL, err := backendURL(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("clerkauth: API URL: %w", err)
	}

	parties := make(map[string]bool, len(cfg.AuthorizedParties))
	for _, p := range cfg.AuthorizedParties {
		parties[strings.TrimRight(p, "/")] = true
	}
	return &Client{
		frontendAPI:       frontendAPI,
		authorizedParties: parties,
		// NewBackend fills defaults into the config it is given, so each
		// SDK client gets its own copy.
		users: user.NewClient(backendConfig(cfg, apiURL)),
		keys:  newKeyCache(jwks.NewClient(backendConfig(cfg, apiURL)), now),
		now:   now,
	}, nil
}

// FrontendAPI returns the host of the instance's Frontend API, for example
// "clerk.example.accounts.dev". The sign-in page loads ClerkJS from it and
// the Content-Security-Policy must allow it for scripts and connections.
func (c *Client) FrontendAPI() string {
	return c.frontendAPI
}

// ScriptURL returns the URL of the ClerkJS browser bundle served by the
// instance's Frontend API.
func (c *Client) ScriptURL() string {
	return "https://" + c.frontendAPI + "/npm/@clerk/clerk-js@" + clerkJSMajorVersion + "/dist/clerk.browser.js"
}

// issuer is the iss claim Clerk puts in this instance's session tokens: the
// Frontend API origin.
func (c *Client) issuer() string {
	return "https://" + c.frontendAPI
}

func backendConfig(cfg Config, apiURL string) *clerk.ClientConfig {
	return &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: cfg.HTTPClient,
		URL:        clerk.String(apiURL),
		Key:        clerk.String(cfg.SecretKey),
	}}
}

// keyEnvironment checks that key is prefix followed by "test_" or "live_"
// and something more, and returns "test" or "live".
func keyEnvironment(key, prefix string) (string, error) {
	if key == "" {
		return "", errors.New("missing")
	}
	for _, env := range []string{"test", "live"} {
		p := prefix + env + "_"
		if strings.HasPrefix(key, p) && len(key) > len(p) && !strings.ContainsAny(key, " \t\r\n") {
			return env, nil
		}
	}
	return "", fmt.Errorf("want %stest_… or %slive_…", prefix, prefix)
}

// frontendAPIFromPublishableKey decodes the Frontend API host Clerk encodes
// in a publishable key: the part after pk_test_ or pk_live_ is base64 of
// "<host>$".
func frontendAPIFromPublishableKey(key string) (string, error) {
	_, encoded, _ := strings.Cut(strings.TrimPrefix(key, "pk_"), "_")
	decoded, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(encoded, "="))
	if err != nil {
		return "", fmt.Errorf("not base64: %w", err)
	}
	host, ok := strings.CutSuffix(string(decoded), "$")
	if !ok || !validHost(host) {
		return "", errors.New("does not encode a Frontend API host")
	}
	return host, nil
}

// validHost accepts a DNS name with an optional port, which is all a
// Frontend API host can be; anything else would end up in a script URL and
// the CSP.
func validHost(host string) bool {
	if host == "" || len(host) > 253 {
		return false
	}
	for _, r := range host {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == ':':
		default:
			return false
		}
	}
	return !strings.HasPrefix(host, ".") && !strings.HasPrefix(host, "-")
}

func backendURL(raw string) (string, error) {
	if raw == "" {
		return DefaultAPIURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}
