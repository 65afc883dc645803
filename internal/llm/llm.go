// Package llm talks to an OpenAI-compatible chat-completions endpoint
// (OpenRouter by default, or any compatible server by base URL) for the
// agent: streamed replies with tool calls, the models the endpoint offers
// with their prices, the cost of every call, and OpenRouter's
// key-provisioning API for per-user keys with a monthly credit limit.
//
// The agent code uses only this package's types; the OpenAI SDK
// (github.com/openai/openai-go) stays behind them. Every failure is an
// *Error whose Kind the UI words for people.
package llm

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Role is who wrote a message.
type Role string

// The roles of a chat conversation.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one turn of the conversation sent to the model.
type Message struct {
	Role    Role
	Content string
	// ToolCalls are the calls an assistant message made.
	ToolCalls []ToolCall
	// ToolCallID names the call a tool message answers.
	ToolCallID string
}

// ToolCall is a function call the model made, assembled from the stream.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the JSON text the model wrote, unchecked: it may be
	// invalid, and the agent answers such a call with an error the model can
	// correct.
	Arguments string
}

// ToolSpec describes a tool the model may call.
type ToolSpec struct {
	Name        string
	Description string
	// Parameters is the JSON schema of the arguments object.
	Parameters map[string]any
}

// Request is one chat-completions call.
type Request struct {
	// Model is the model id; empty means the client's default model.
	Model    string
	Messages []Message
	Tools    []ToolSpec
	// APIKey is a user's own key; empty uses the server's key.
	APIKey string
	// MaxTokens caps the reply (0: the endpoint's default).
	MaxTokens int
	// Temperature, when set, overrides the model's default.
	Temperature *float64
	// User is an opaque id of the person asking, which providers use to
	// trace abuse; never an email address.
	User string
}

// Event is one step of a streamed reply: a piece of text or an assembled
// tool call.
type Event struct {
	// Text is the next piece of the reply's text, when non-empty.
	Text string
	// ToolCall is a complete tool call, when non-nil. Tool calls are
	// delivered once the stream has finished, in the order the model made
	// them.
	ToolCall *ToolCall
}

// Usage is what a call consumed.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
	// Cost is in US dollars: the cost the endpoint reported when it reports
	// one (OpenRouter's usage accounting), else tokens × the model's prices.
	Cost float64
	// CostReported says the endpoint reported Cost itself.
	CostReported bool
	// Estimated says the endpoint reported no token counts, so they were
	// estimated from the length of the text (about four characters a token).
	Estimated bool
}

// Response is a finished reply.
type Response struct {
	// Model is the model that answered, as the endpoint named it.
	Model        string
	Text         string
	ToolCalls    []ToolCall
	FinishReason string
	Usage        Usage
}

// Options configure a Client.
type Options struct {
	// BaseURL is the OpenAI-compatible API, such as
	// https://openrouter.ai/api/v1.
	BaseURL string
	// APIKey is the server's key; users may bring their own per request.
	APIKey string
	// DefaultModel is used when a request names none; empty means the first
	// model listed.
	DefaultModel string
	// Models are configured models with prices (LLM_MODELS): the list when
	// the endpoint's models API has no prices, and price overrides when it
	// has.
	Models []Model
	// HTTPClient makes the requests (nil: a client whose transport waits at
	// most two minutes for response headers; streams themselves are bounded
	// by the caller's context).
	HTTPClient *http.Client
	// MaxRetries is how many times a call is retried after a 429, a 5xx or a
	// network failure before the stream starts (0: never).
	MaxRetries int
	// MaxRetryWait is the longest Retry-After the client honours by waiting
	// and retrying; a longer one is returned at once as a KindRateLimited
	// error carrying RetryAfter (default 20s).
	MaxRetryWait time.Duration
	// ModelsTTL is how long the endpoint's model list is cached (default 1h).
	ModelsTTL time.Duration
}

// Client calls one endpoint. It is safe for concurrent use.
type Client struct {
	baseURL      string
	apiKey       string
	defaultModel string
	configured   []Model
	http         *http.Client
	maxRetries   int
	maxRetryWait time.Duration
	modelsTTL    time.Duration

	mu       sync.Mutex
	cache    []Model
	cachedAt time.Time
	cacheTTL time.Duration
}

// New returns a client for the endpoint opts describes.
func New(opts Options) *Client {
	c := &Client{
		baseURL:      strings.TrimRight(opts.BaseURL, "/"),
		apiKey:       opts.APIKey,
		defaultModel: opts.DefaultModel,
		configured:   append([]Model(nil), opts.Models...),
		http:         opts.HTTPClient,
		maxRetries:   max(opts.MaxRetries, 0),
		maxRetryWait: opts.MaxRetryWait,
		modelsTTL:    opts.ModelsTTL,
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 2 * time.Minute
		c.http = &http.Client{Transport: t}
	}
	if c.maxRetryWait <= 0 {
		c.maxRetryWait = 20 * time.Second
	}
	if c.modelsTTL <= 0 {
		c.modelsTTL = time.Hour
	}
	return c
}

// BaseURL is the endpoint the client calls.
func (c *Client) BaseURL() string { return c.baseURL }

// HasServerKey reports whether the server has a key of its own, so users
// without one can still use the agent.
func (c *Client) HasServerKey() bool { return c.apiKey != "" }

// key picks the request's key, else the server's.
func (c *Client) key(reqKey string) (string, error) {
	if k := strings.TrimSpace(reqKey); k != "" {
		return k, nil
	}
	if c.apiKey != "" {
		return c.apiKey, nil
	}
	return "", &Error{Kind: KindNoKey}
}
