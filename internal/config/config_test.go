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

func TestLoadListenAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		env               map[string]string
		wantAddr, wantURL string
		wantPort          int
	}{
		{"default: every interface on PORT", nil, ":3010", "http://localhost:3010", 3010},
		{"PORT alone", map[string]string{"PORT": "8080"}, ":8080", "http://localhost:8080", 8080},
		{"host on the default port", map[string]string{"LISTEN_ADDR": "127.0.0.1"}, "127.0.0.1:3010", "http://localhost:3010", 3010},
		{"host on PORT", map[string]string{"LISTEN_ADDR": "localhost", "PORT": "4000"}, "localhost:4000", "http://localhost:4000", 4000},
		{"host and port", map[string]string{"LISTEN_ADDR": "127.0.0.1:8080"}, "127.0.0.1:8080", "http://localhost:8080", 8080},
		{"host and the same port as PORT", map[string]string{"LISTEN_ADDR": "10.0.0.5:8080", "PORT": "8080"}, "10.0.0.5:8080", "http://localhost:8080", 8080},
		{"port only", map[string]string{"LISTEN_ADDR": ":9000"}, ":9000", "http://localhost:9000", 9000},
		{"IPv6", map[string]string{"LISTEN_ADDR": "::1"}, "[::1]:3010", "http://localhost:3010", 3010},
		{"IPv6 in brackets", map[string]string{"LISTEN_ADDR": "[::1]"}, "[::1]:3010", "http://localhost:3010", 3010},
		{"IPv6 and port", map[string]string{"LISTEN_ADDR": "[::]:8080"}, "[::]:8080", "http://localhost:8080", 8080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.ListenAddr != tt.wantAddr || c.Port != tt.wantPort || c.BaseURL != tt.wantURL {
				t.Errorf("ListenAddr %q, Port %d, BaseURL %q; want %q, %d, %q",
					c.ListenAddr, c.Port, c.BaseURL, tt.wantAddr, tt.wantPort, tt.wantURL)
			}
		})
	}
}

func TestLoadRejectsBadListenAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []map[string]string{
		{"LISTEN_ADDR": "http://localhost:3010"},
		{"LISTEN_ADDR": "127.0.0.1:"},
		{"LISTEN_ADDR": "127.0.0.1:http"},
		{"LISTEN_ADDR": "127.0.0.1:70000"},
		{"LISTEN_ADDR": "a b"},
		{"LISTEN_ADDR": "127.0.0.1:8080", "PORT": "3000"},
	} {
		t.Run(tt["LISTEN_ADDR"]+" PORT="+tt["PORT"], func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(env(tt))
			if err == nil || !strings.Contains(err.Error(), "LISTEN_ADDR") {
				t.Errorf("Load = %v, want an error naming LISTEN_ADDR", err)
			}
		})
	}
}

func TestLoadMetricsSettings(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef0123"
	tests := []struct {
		name       string
		env        map[string]string
		onMainPort bool
	}{
		{"neither: served nowhere", nil, false},
		{"token: on the main port behind it", map[string]string{"METRICS_TOKEN": token}, true},
		{"address: there only", map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}, false},
		{"both: on the address, behind the token", map[string]string{"METRICS_ADDR": "127.0.0.1:9090", "METRICS_TOKEN": token}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsAddr != tt.env["METRICS_ADDR"] || c.MetricsToken != tt.env["METRICS_TOKEN"] {
				t.Errorf("MetricsAddr %q, MetricsToken %q", c.MetricsAddr, c.MetricsToken)
			}
			if got := c.MetricsOnMainPort(); got != tt.onMainPort {
				t.Errorf("MetricsOnMainPort() = %v, want %v", got, tt.onMainPort)
			}
		})
	}
}

func TestLoadRejectsBadMetricsSettings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, value string }{
		{"METRICS_ADDR", "127.0.0.1"},
		{"METRICS_ADDR", "localhost:metrics"},
		{"METRICS_ADDR", "127.0.0.1:0"},
		{"METRICS_TOKEN", "short"},
		{"METRICS_TOKEN", "a token with spaces in it"},
	} {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(env(map[string]string{tt.name: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("Load = %v, want an error naming %s", err, tt.name)
			}
		})
	}
}

func TestLoadLLMDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.LLMBaseURL != "https://openrouter.ai/api/v1" || c.LLMAPIKey != "" || c.LLMDefaultModel != "" || c.LLMModels != nil || c.LLMProvisioningKey != "" {
		t.Fatalf("LLM defaults: %q %q %q %v %q", c.LLMBaseURL, c.LLMAPIKey, c.LLMDefaultModel, c.LLMModels, c.LLMProvisioningKey)
	}
}

func TestLoadLLMValues(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{
		"LLM_BASE_URL": "http://localhost:11434/v1/", "LLM_API_KEY": "sk-test", "LLM_PROVISIONING_KEY": "sk-or-mgmt",
		"LLM_MODELS": "openai/gpt-4o-mini|128000|0.15|0.60,\n meta-llama/llama-3.1-8b-instruct:free | 131072 | 0 | 0 ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LLMBaseURL != "http://localhost:11434/v1" || c.LLMAPIKey != "sk-test" || c.LLMProvisioningKey != "sk-or-mgmt" {
		t.Fatalf("LLM values: %+v", c)
	}
	want := []config.LLMModel{
		{ID: "openai/gpt-4o-mini", ContextLength: 128000, PromptPerMTok: 0.15, CompletionPerMTok: 0.60},
		{ID: "meta-llama/llama-3.1-8b-instruct:free", ContextLength: 131072},
	}
	if len(c.LLMModels) != len(want) || c.LLMModels[0] != want[0] || c.LLMModels[1] != want[1] {
		t.Fatalf("LLM_MODELS = %+v, want %+v", c.LLMModels, want)
	}
	// Without LLM_DEFAULT_MODEL the first listed model is the default.
	if c.LLMDefaultModel != "openai/gpt-4o-mini" {
		t.Fatalf("default model %q", c.LLMDefaultModel)
	}
	c, err = config.Load(env(map[string]string{"LLM_MODELS": "a|10|1|2", "LLM_DEFAULT_MODEL": "b"}))
	if err != nil || c.LLMDefaultModel != "b" {
		t.Fatalf("LLM_DEFAULT_MODEL: %q %v", c.LLMDefaultModel, err)
	}
}

func TestLoadRejectsBadLLMSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value, want string }{
		{"LLM_BASE_URL", "openrouter.ai/api/v1", "http(s) URL"},
		{"LLM_BASE_URL", "ftp://example.com", "http(s) URL"},
		{"LLM_API_KEY", "sk one", "spaces"},
		{"LLM_PROVISIONING_KEY", "a\tb", "spaces"},
		{"LLM_DEFAULT_MODEL", "gpt 4", "without spaces"},
		{"LLM_MODELS", "gpt-4o|128000|0.15", "id|context|prompt_per_mtok|completion_per_mtok"},
		{"LLM_MODELS", "gpt-4o|lots|0.15|0.6", "context window"},
		{"LLM_MODELS", "gpt-4o|0|0.15|0.6", "context window"},
		{"LLM_MODELS", "gpt-4o|1000|-1|0.6", "US dollars per million tokens"},
		{"LLM_MODELS", "gpt-4o|1000|0.1|$0.6", "US dollars per million tokens"},
		{"LLM_MODELS", "gpt-4o|1000|0.1|NaN", "US dollars per million tokens"},
		{"LLM_MODELS", "a|1|0|0,a|2|0|0", "listed twice"},
		{"LLM_MODELS", "|1|0|0", "non-empty"},
	} {
		_, err := config.Load(env(map[string]string{tc.name: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: error %v, want one naming %s and saying %q", tc.name, tc.value, err, tc.name, tc.want)
		}
	}
}
