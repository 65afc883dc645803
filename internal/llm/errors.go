package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind says what went wrong with a call, in terms a person can act on.
type Kind int

// The kinds of failure the UI words for people.
const (
	// KindOther is any failure not listed below.
	KindOther Kind = iota
	// KindNoKey: no API key is configured for the server or the user.
	KindNoKey
	// KindAuth: the endpoint refused the key (401 or 403).
	KindAuth
	// KindCredits: the key's credit or spending limit is used up (402, or a
	// refusal that says the limit is exceeded).
	KindCredits
	// KindRateLimited: too many requests (429); RetryAfter says when to try
	// again when the endpoint said so.
	KindRateLimited
	// KindContextTooLarge: the conversation does not fit the model's context
	// window.
	KindContextTooLarge
	// KindModelNotFound: the endpoint does not know the model.
	KindModelNotFound
	// KindBadRequest: the endpoint rejected the request for another reason.
	KindBadRequest
	// KindUnavailable: the provider failed (5xx) or could not be reached.
	KindUnavailable
	// KindKeyNotFound: the provisioning API does not know the key.
	KindKeyNotFound
)

func (k Kind) String() string {
	switch k {
	case KindNoKey:
		return "no_key"
	case KindAuth:
		return "auth"
	case KindCredits:
		return "credits"
	case KindRateLimited:
		return "rate_limited"
	case KindContextTooLarge:
		return "context_too_large"
	case KindModelNotFound:
		return "model_not_found"
	case KindBadRequest:
		return "bad_request"
	case KindUnavailable:
		return "unavailable"
	case KindKeyNotFound:
		return "key_not_found"
	}
	return "other"
}

// Sentinels for errors.Is: errors.Is(err, llm.ErrRateLimited) holds for
// every *Error of that kind.
var (
	ErrNoKey           = &Error{Kind: KindNoKey}
	ErrAuth            = &Error{Kind: KindAuth}
	ErrCredits         = &Error{Kind: KindCredits}
	ErrRateLimited     = &Error{Kind: KindRateLimited}
	ErrContextTooLarge = &Error{Kind: KindContextTooLarge}
	ErrModelNotFound   = &Error{Kind: KindModelNotFound}
	ErrBadRequest      = &Error{Kind: KindBadRequest}
	ErrUnavailable     = &Error{Kind: KindUnavailable}
	ErrKeyNotFound     = &Error{Kind: KindKeyNotFound}
)

// Error is a failed call to the model endpoint or the provisioning API.
type Error struct {
	Kind Kind
	// Status is the HTTP status, 0 when there was no response.
	Status int
	// Message is the provider's own message, for logs and details; it is
	// untrusted text.
	Message string
	// RetryAfter is how long the endpoint asked to wait (429 and some 503s),
	// 0 when it did not say.
	RetryAfter time.Duration
	// Model is the model the call asked for, when there was one.
	Model string
	// Op is "provision" for the key-provisioning API, empty for model calls.
	Op string
	// Err is the underlying error (transport failure, SDK error).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("llm: ")
	b.WriteString(e.UserMessage())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
		b.WriteString(")")
	} else if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRateLimited) and the like match by kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Status == 0 && t.Message == "" && t.Err == nil && t.Op == ""
}

// UserMessage is a sentence the chat panel can show as it is.
func (e *Error) UserMessage() string {
	if e.Op == opProvision {
		switch e.Kind {
		case KindNoKey:
			return "Per-user keys are not set up: an administrator sets LLM_PROVISIONING_KEY to an OpenRouter management key."
		case KindAuth:
			return "OpenRouter refused the provisioning key: an administrator should check LLM_PROVISIONING_KEY."
		case KindKeyNotFound:
			return "OpenRouter no longer has this user's key: create a new one."
		case KindRateLimited, KindUnavailable:
			// Worded as for model calls below.
		default:
			return "OpenRouter's key-provisioning API rejected the request."
		}
	}
	switch e.Kind {
	case KindNoKey:
		return "No API key is configured for the model provider: add your own key in Settings, or ask an administrator to set LLM_API_KEY."
	case KindAuth:
		return "The model provider refused the API key: check the key in Settings, or ask an administrator to check LLM_API_KEY."
	case KindCredits:
		return "The API key has no credit left for this period: ask an administrator to raise its limit, or wait for the next period."
	case KindRateLimited:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("The model provider is rate limiting requests: try again in %s.", roundUp(e.RetryAfter))
		}
		return "The model provider is rate limiting requests: try again in a minute."
	case KindContextTooLarge:
		return "The conversation is too long for this model's context window: start a new session, narrow the records in view, or pick a model with a larger context."
	case KindModelNotFound:
		if e.Model != "" {
			return fmt.Sprintf("The model provider does not offer the model %q: pick another model.", e.Model)
		}
		return "The model provider does not offer this model: pick another model."
	case KindBadRequest:
		return "The model provider rejected the request."
	case KindUnavailable:
		return "The model provider is unavailable right now: try again in a few minutes."
	}
	return "The call to the model provider failed."
}

func roundUp(d time.Duration) time.Duration {
	if d < time.Second {
		return time.Second
	}
	return d.Round(time.Second)
}

// wireError is the error object of OpenAI ({"error": {"message", "type",
// "param", "code": "context_length_exceeded"}}) and OpenRouter ({"error":
// {"code": 429, "message", "metadata"}}).
type wireError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// parseWireError reads the provider's error message and code from a body
// that is either {"error": {...}} or the error object itself.
func parseWireError(body []byte) (msg, code string) {
	var outer struct {
		Error json.RawMessage `json:"error"`
	}
	var w wireError
	if json.Unmarshal(body, &outer) == nil && len(outer.Error) > 0 {
		if err := json.Unmarshal(outer.Error, &w); err != nil {
			// {"error": "text"}
			var s string
			if json.Unmarshal(outer.Error, &s) == nil {
				return truncate(s), ""
			}
		}
	} else {
		_ = json.Unmarshal(body, &w)
	}
	code = strings.Trim(string(w.Code), `"`)
	if code == "null" {
		code = ""
	}
	if code == "" {
		code = w.Type
	}
	return truncate(w.Message), code
}

func truncate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// classify turns an HTTP status and the provider's message and code into an
// *Error.
func classify(status int, header http.Header, msg, code, model string) *Error {
	e := &Error{Status: status, Message: msg, Model: model, RetryAfter: retryAfter(header)}
	lower := strings.ToLower(msg + " " + code)
	switch {
	case status == http.StatusTooManyRequests || code == "rate_limit_exceeded":
		e.Kind = KindRateLimited
	case contextTooLarge(status, lower):
		e.Kind = KindContextTooLarge
	case status == http.StatusPaymentRequired || code == "insufficient_quota" ||
		strings.Contains(lower, "limit exceeded") || strings.Contains(lower, "insufficient credits"):
		e.Kind = KindCredits
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = KindAuth
	case status == http.StatusNotFound || code == "model_not_found" ||
		strings.Contains(lower, "not a valid model") || strings.Contains(lower, "model not found") ||
		strings.Contains(lower, "no endpoints found") || strings.Contains(lower, "does not exist"):
		e.Kind = KindModelNotFound
	case status >= 500 || status == http.StatusRequestTimeout || status == 0:
		e.Kind = KindUnavailable
	case status >= 400:
		e.Kind = KindBadRequest
	default:
		e.Kind = KindOther
	}
	return e
}

// contextTooLarge recognises the 400 (or 413) a provider answers when the
// prompt exceeds the context window: OpenAI's code context_length_exceeded,
// "maximum context length is N tokens", "prompt is too long", and the like.
func contextTooLarge(status int, lower string) bool {
	if status == http.StatusRequestEntityTooLarge {
		return true
	}
	if status != http.StatusBadRequest && status != 0 {
		return false
	}
	for _, s := range []string{"context_length_exceeded", "context length", "context window", "maximum context", "prompt is too long", "too many tokens", "reduce the length"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// retryAfter reads Retry-After-Ms, then Retry-After in seconds or as an HTTP
// date.
func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// unavailable wraps a transport failure (no response at all).
func unavailable(err error, model string) *Error {
	return &Error{Kind: KindUnavailable, Err: err, Model: model}
}

// asError reports whether err is an *Error and returns it.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
