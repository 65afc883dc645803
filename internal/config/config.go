// Package config loads Scratchpad's configuration from environment variables
// once, in main, into a typed struct that is passed down. Every variable is
// documented in README.md and .env.example.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scratchpad/scratchpad/internal/secrets"
)

// Config is the whole configuration of one Scratchpad process.
type Config struct {
	// Port is the HTTP port (PORT, default 3010, or the port LISTEN_ADDR
	// names).
	Port int
	// ListenAddr is the host:port the HTTP server binds (LISTEN_ADDR: a host
	// or host:port). Its default, ":PORT", is every interface.
	ListenAddr string
	// BaseURL is the public address of the app (BASE_URL), used for links and
	// to decide whether cookies are Secure.
	BaseURL string
	// DatabaseURL is the PostgreSQL URL (DATABASE_URL). Empty means "start a
	// private cluster under DataDir".
	DatabaseURL string
	// DataDir holds the private PostgreSQL cluster (DATA_DIR, default .data).
	DataDir string
	// DBMaxConns caps the connection pool (DB_MAX_CONNS, default 20).
	DBMaxConns int32

	// LogLevel is debug, info, warn or error (LOG_LEVEL, default info).
	LogLevel slog.Level
	// LogFormat is text or json (LOG_FORMAT, default text).
	LogFormat string

	// SessionLifetime bounds a browser session (SESSION_LIFETIME, default 720h).
	SessionLifetime time.Duration
	// SessionIdleTimeout signs out idle browsers (SESSION_IDLE_TIMEOUT, default 168h).
	SessionIdleTimeout time.Duration

	// ClerkSecretKey and ClerkPublishableKey switch sign-in to Clerk when both
	// are set (CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY).
	ClerkSecretKey      string
	ClerkPublishableKey string
	// ClerkAPIURL overrides Clerk's Backend API address (CLERK_API_URL).
	ClerkAPIURL string

	// JobQueues maps River queue names to worker counts (JOB_QUEUES,
	// default "default:4,imports:2").
	JobQueues map[string]int

	// JobLease is how long a long job (an import, an index build) may go
	// without a heartbeat before any instance hands it back to run again
	// (JOB_LEASE, default 30s): the bound on how long a job whose process
	// died stays stuck.
	JobLease time.Duration

	// APIRateLimit is requests per minute per API token (API_RATE_LIMIT,
	// default 600); APIRateBurst is the bucket size (API_RATE_BURST, default 60).
	APIRateLimit int
	APIRateBurst int

	// MaxBodyBytes caps ordinary request bodies (MAX_BODY_BYTES, default 1 MiB).
	MaxBodyBytes int64
	// MaxUploadBytes caps file uploads such as CSVs (MAX_UPLOAD_BYTES, default 2 GiB).
	MaxUploadBytes int64

	// ShutdownTimeout bounds the graceful drain on exit (SHUTDOWN_TIMEOUT, default 20s).
	ShutdownTimeout time.Duration

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client (TRUSTED_PROXIES, comma-separated addresses or CIDR ranges,
	// default none). Sign-in throttling counts failures per client address;
	// with none configured that address is the TCP peer, because any client
	// can write the header.
	TrustedProxies []netip.Prefix
	// MetricsAddr is a host:port of its own for /metrics (METRICS_ADDR),
	// such as 127.0.0.1:9090; empty serves it on no separate address.
	MetricsAddr string
	// MetricsToken, when set (METRICS_TOKEN, at least 16 characters), is the
	// bearer token every /metrics request must carry, wherever it is served.
	MetricsToken string

	// EncryptionKey seals stored secrets such as data sources' credentials
	// (ENCRYPTION_KEY: 32 bytes, base64). When it is unset, `scratchpad
	// serve` keeps a generated key in DATA_DIR/encryption.key, except on an
	// https BASE_URL, where it refuses to start.
	EncryptionKey []byte
	// EncryptionOldKeys open secrets sealed before a rotation
	// (ENCRYPTION_OLD_KEYS: base64 keys separated by commas).
	EncryptionOldKeys [][]byte

	// LLMBaseURL is the OpenAI-compatible chat-completions endpoint the
	// agent talks to (LLM_BASE_URL, default OpenRouter's
	// https://openrouter.ai/api/v1); any compatible server works.
	LLMBaseURL string
	// LLMAPIKey is the server's key for that endpoint (LLM_API_KEY). Users
	// may add keys of their own; with neither, the agent says no key is
	// configured.
	LLMAPIKey string
	// LLMDefaultModel is the model picked when a user has not chosen one
	// (LLM_DEFAULT_MODEL; unset: the first of LLM_MODELS, else the first the
	// endpoint lists).
	LLMDefaultModel string
	// LLMModels are models with their prices for endpoints whose models API
	// reports no prices (LLM_MODELS, see ParseLLMModels); they also override
	// the prices an endpoint reports for the same ids.
	LLMModels []LLMModel
	// LLMProvisioningKey, when set (LLM_PROVISIONING_KEY, an OpenRouter
	// management key), gives each user a key of their own with a monthly
	// credit limit, created through OpenRouter's key-provisioning API.
	LLMProvisioningKey string
	// AgentCostWarning is the cost of a chat session, in US dollars, past
	// which the chat panel warns its user (AGENT_COST_WARNING_USD, default
	// 1; 0 never warns).
	AgentCostWarning float64
}

// DefaultLLMBaseURL is OpenRouter's OpenAI-compatible API.
const DefaultLLMBaseURL = "https://openrouter.ai/api/v1"

// LLMModel is one model LLM_MODELS lists: its id, context window in tokens,
// and prices in US dollars per million prompt and completion tokens.
type LLMModel struct {
	ID                string
	ContextLength     int
	PromptPerMTok     float64
	CompletionPerMTok float64
}

// ParseLLMModels reads LLM_MODELS: entries separated by commas or new lines,
// each "id|context|prompt_per_mtok|completion_per_mtok", for example
// "openai/gpt-4o-mini|128000|0.15|0.60, local/llama3|8192|0|0". Prices are US
// dollars per million tokens; the context window is in tokens.
func ParseLLMModels(s string) ([]LLMModel, error) {
	var out []LLMModel
	seen := map[string]bool{}
	for _, entry := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.Split(entry, "|")
		if len(parts) != 4 {
			return nil, fmt.Errorf("%q must be id|context|prompt_per_mtok|completion_per_mtok, such as openai/gpt-4o-mini|128000|0.15|0.60", entry)
		}
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		m := LLMModel{ID: parts[0]}
		if m.ID == "" || strings.ContainsAny(m.ID, " \t") {
			return nil, fmt.Errorf("%q: the model id must be non-empty without spaces", entry)
		}
		if seen[m.ID] {
			return nil, fmt.Errorf("model %s is listed twice", m.ID)
		}
		seen[m.ID] = true
		n, err := strconv.Atoi(parts[1])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: the context window must be a positive number of tokens, such as 128000", m.ID)
		}
		m.ContextLength = n
		for i, dst := range []*float64{&m.PromptPerMTok, &m.CompletionPerMTok} {
			f, err := strconv.ParseFloat(parts[2+i], 64)
			if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fmt.Errorf("%s: prices must be US dollars per million tokens, such as 0.15 (0 for a free model)", m.ID)
			}
			*dst = f
		}
		out = append(out, m)
	}
	return out, nil
}

// minMetricsToken is the shortest METRICS_TOKEN accepted: a token meant to
// keep metrics private must not be guessable.
const minMetricsToken = 16

// MetricsOnMainPort reports whether /metrics is served on the main port:
// only behind a token, and only when it has no address of its own. With
// neither METRICS_ADDR nor METRICS_TOKEN it is served nowhere, so metrics
// are never public by default.
func (c Config) MetricsOnMainPort() bool { return c.MetricsAddr == "" && c.MetricsToken != "" }

// ClerkEnabled reports whether sign-in goes through Clerk.
func (c Config) ClerkEnabled() bool { return c.ClerkSecretKey != "" && c.ClerkPublishableKey != "" }

// SecureCookies reports whether cookies must carry the Secure flag: whenever
// the app is served over HTTPS.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests) and reports every invalid variable at once.
func Load(getenv func(string) string) (Config, error) {
	l := loader{getenv: getenv}
	c := Config{
		Port:                l.int("PORT", 3010),
		DatabaseURL:         l.str("DATABASE_URL", ""),
		DataDir:             l.str("DATA_DIR", ".data"),
		DBMaxConns:          int32(l.int("DB_MAX_CONNS", 20)),
		LogFormat:           l.oneOf("LOG_FORMAT", "text", "text", "json"),
		SessionLifetime:     l.duration("SESSION_LIFETIME", 720*time.Hour),
		SessionIdleTimeout:  l.duration("SESSION_IDLE_TIMEOUT", 168*time.Hour),
		ClerkSecretKey:      l.str("CLERK_SECRET_KEY", ""),
		ClerkPublishableKey: l.str("CLERK_PUBLISHABLE_KEY", ""),
		ClerkAPIURL:         l.str("CLERK_API_URL", ""),
		JobQueues:           l.queues("JOB_QUEUES", "default:4,imports:2"),
		JobLease:            l.duration("JOB_LEASE", 30*time.Second),
		APIRateLimit:        l.int("API_RATE_LIMIT", 600),
		APIRateBurst:        l.int("API_RATE_BURST", 60),
		MaxBodyBytes:        int64(l.int("MAX_BODY_BYTES", 1<<20)),
		MaxUploadBytes:      int64(l.int("MAX_UPLOAD_BYTES", 2<<30)),
		ShutdownTimeout:     l.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		TrustedProxies:      l.prefixes("TRUSTED_PROXIES"),
		MetricsAddr:         l.str("METRICS_ADDR", ""),
		MetricsToken:        l.str("METRICS_TOKEN", ""),
	}
	c.ListenAddr, c.Port = l.listenAddr("LISTEN_ADDR", c.Port, l.str("PORT", "") != "")
	c.BaseURL = strings.TrimRight(l.str("BASE_URL", fmt.Sprintf("http://localhost:%d", c.Port)), "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail("BASE_URL", "must be an http(s) URL such as https://scratchpad.example.com")
	}
	switch strings.ToLower(l.str("LOG_LEVEL", "info")) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		l.fail("LOG_LEVEL", "must be debug, info, warn or error")
	}
	if (c.ClerkSecretKey == "") != (c.ClerkPublishableKey == "") {
		l.fail("CLERK_SECRET_KEY", "CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY must be set together")
	}
	if c.Port <= 0 || c.Port > 65535 {
		l.fail("PORT", "must be between 1 and 65535")
	}
	if c.APIRateLimit <= 0 || c.APIRateBurst <= 0 {
		l.fail("API_RATE_LIMIT", "API_RATE_LIMIT and API_RATE_BURST must be positive")
	}
	if c.DBMaxConns < 4 {
		l.fail("DB_MAX_CONNS", "must be at least 4")
	}
	if v := l.str("ENCRYPTION_KEY", ""); v != "" {
		k, err := secrets.ParseKey(v)
		if err != nil {
			l.fail("ENCRYPTION_KEY", err.Error())
		}
		c.EncryptionKey = k
	}
	if v := l.str("ENCRYPTION_OLD_KEYS", ""); v != "" {
		for _, part := range strings.Split(v, ",") {
			k, err := secrets.ParseKey(part)
			if err != nil {
				l.fail("ENCRYPTION_OLD_KEYS", err.Error())
				continue
			}
			c.EncryptionOldKeys = append(c.EncryptionOldKeys, k)
		}
	}
	if c.MetricsAddr != "" {
		if _, p, err := net.SplitHostPort(c.MetricsAddr); err != nil || !validPort(p) {
			l.fail("METRICS_ADDR", "must be host:port such as 127.0.0.1:9090")
		}
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < minMetricsToken || strings.ContainsAny(c.MetricsToken, " \t")) {
		l.fail("METRICS_TOKEN", fmt.Sprintf("must be at least %d characters without spaces, such as the output of `openssl rand -hex 32`", minMetricsToken))
	}
	l.llm(&c)
	return c, errors.Join(l.errs...)
}

// llm reads the LLM_* variables.
func (l *loader) llm(c *Config) {
	c.LLMBaseURL = strings.TrimRight(l.str("LLM_BASE_URL", DefaultLLMBaseURL), "/")
	if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		l.fail("LLM_BASE_URL", "must be an http(s) URL of an OpenAI-compatible API, such as "+DefaultLLMBaseURL+" or http://localhost:11434/v1")
	}
	c.LLMAPIKey = l.str("LLM_API_KEY", "")
	if strings.ContainsAny(c.LLMAPIKey, " \t\r\n") {
		l.fail("LLM_API_KEY", "must not contain spaces or line breaks")
	}
	c.LLMProvisioningKey = l.str("LLM_PROVISIONING_KEY", "")
	if strings.ContainsAny(c.LLMProvisioningKey, " \t\r\n") {
		l.fail("LLM_PROVISIONING_KEY", "must not contain spaces or line breaks")
	}
	models, err := ParseLLMModels(l.getenv("LLM_MODELS"))
	if err != nil {
		l.fail("LLM_MODELS", err.Error())
	}
	c.LLMModels = models
	c.LLMDefaultModel = l.str("LLM_DEFAULT_MODEL", "")
	if strings.ContainsAny(c.LLMDefaultModel, " \t") {
		l.fail("LLM_DEFAULT_MODEL", "must be a model id without spaces, such as openai/gpt-4o-mini")
	}
	if c.LLMDefaultModel == "" && len(models) > 0 {
		c.LLMDefaultModel = models[0].ID
	}
	c.AgentCostWarning = 1
	if v := l.str("AGENT_COST_WARNING_USD", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			l.fail("AGENT_COST_WARNING_USD", "must be an amount in US dollars, such as 1 or 0.50 (0: never warn)")
		}
		c.AgentCostWarning = f
	}
}

type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) fail(name, msg string) { l.errs = append(l.errs, fmt.Errorf("%s: %s", name, msg)) }

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) int(name string, def int) int {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.fail(name, "must be a whole number")
		return def
	}
	return n
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(name, "must be a positive duration such as 30s, 15m or 720h")
		return def
	}
	return d
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "must be one of "+strings.Join(allowed, ", "))
	return def
}

// prefixes parses "10.0.0.0/8, 192.0.2.7, fd00::/8".
func (l *loader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, part := range strings.Split(l.str(name, ""), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := parsePrefix(part)
		if err != nil {
			l.fail(name, fmt.Sprintf("%q is not an IP address or CIDR range such as 10.0.0.0/8", part))
			continue
		}
		out = append(out, p)
	}
	return out
}

// parsePrefix reads a CIDR range, or a bare address standing for itself
// alone.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, errors.New("zones are not supported")
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// listenAddr parses a host or host:port (IPv6 literals with or without
// brackets) into the address to bind and its port: a bare host listens on
// port, and a port given here replaces it, unless PORT was set to another.
func (l *loader) listenAddr(name string, port int, portSet bool) (string, int) {
	raw := l.str(name, "")
	if raw == "" {
		return net.JoinHostPort("", strconv.Itoa(port)), port
	}
	host, p, err := net.SplitHostPort(raw)
	if err != nil {
		// No port: a host name, an IPv4 or a bare IPv6 address.
		host, p = strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]"), strconv.Itoa(port)
	}
	if host != "" && strings.ContainsAny(host, "[]/@ ") {
		l.fail(name, "must be a host or host:port such as 127.0.0.1, localhost:3010 or [::1]:3010")
		return net.JoinHostPort("", strconv.Itoa(port)), port
	}
	if !validPort(p) {
		l.fail(name, "the port must be a number between 1 and 65535")
		return net.JoinHostPort("", strconv.Itoa(port)), port
	}
	n, _ := strconv.Atoi(p)
	if portSet && n != port {
		l.fail(name, fmt.Sprintf("names port %d but PORT is %d: give only the host, or drop PORT", n, port))
	}
	return net.JoinHostPort(host, p), n
}

// validPort reports whether p is a TCP port number one can listen on by name.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

// queues parses "name:workers,name:workers".
func (l *loader) queues(name, def string) map[string]int {
	out := map[string]int{}
	for _, part := range strings.Split(l.str(name, def), ",") {
		q, n, ok := strings.Cut(strings.TrimSpace(part), ":")
		workers, err := strconv.Atoi(n)
		if !ok || q == "" || err != nil || workers <= 0 {
			l.fail(name, `must look like "default:4,imports:2"`)
			return map[string]int{"default": 4}
		}
		out[q] = workers
	}
	if _, ok := out["default"]; !ok {
		out["default"] = 4
	}
	return out
}
