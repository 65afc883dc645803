package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3010 || c.BaseURL != "http://localhost:3010" || c.DataDir != ".data" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.LogLevel != slog.LevelInfo || c.SessionLifetime != 720*time.Hour || c.JobQueues["default"] != 4 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.ClerkEnabled() || c.SecureCookies() {
		t.Fatal("clerk and secure cookies must be off by default")
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{
		"PORT": "8080", "BASE_URL": "https://sp.example.com/", "JOB_QUEUES": "default:2,imports:1",
		"CLERK_SECRET_KEY": "sk_test_x", "CLERK_PUBLISHABLE_KEY": "pk_test_y", "LOG_LEVEL": "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.BaseURL != "https://sp.example.com" || !c.SecureCookies() || !c.ClerkEnabled() {
		t.Fatalf("values: %+v", c)
	}
	if c.JobQueues["imports"] != 1 || c.JobQueues["default"] != 2 || c.LogLevel != slog.LevelDebug {
		t.Fatalf("values: %+v", c)
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	t.Parallel()
	_, err := config.Load(env(map[string]string{
		"PORT": "abc", "SESSION_LIFETIME": "forever", "JOB_QUEUES": "x", "CLERK_SECRET_KEY": "sk_test_x",
		"LOG_LEVEL": "loud",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"PORT", "SESSION_LIFETIME", "JOB_QUEUES", "CLERK_SECRET_KEY", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil || len(c.TrustedProxies) != 0 {
		t.Fatalf("no proxy is trusted by default: %v %v", c.TrustedProxies, err)
	}
	c, err = config.Load(env(map[string]string{"TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::1,,10.1.2.3/16"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/8 192.0.2.7/32 2001:db8::/32 ::1/128 10.1.0.0/16"; strings.Join(got, " ") != want {
		t.Fatalf("trusted proxies %v, want %s", got, want)
	}
	for _, bad := range []string{"10.0.0.300", "10.0.0.0/33", "proxy.internal", "fe80::1%eth0", "10.0.0.0/8;192.0.2.1"} {
		_, err := config.Load(env(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8," + bad}))
		if err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") || !strings.Contains(err.Error(), bad) {
			t.Errorf("TRUSTED_PROXIES=%q: err %v, want one naming the variable and the value", bad, err)
		}
	}
}
