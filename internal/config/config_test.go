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
