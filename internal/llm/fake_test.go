package llm_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scratchpad/scratchpad/internal/llm"
)

// fakeEndpoint is a local OpenAI-compatible server, scripted per test, that
// follows the published API: POST /chat/completions answers with SSE
// chunks ending in "data: [DONE]" when stream is true, errors as
// {"error": {...}}; GET /models answers OpenRouter's shape when models is
// set and 404 otherwise. It refuses any key but its own with a 401.
type fakeEndpoint struct {
	t    *testing.T
	srv  *httptest.Server
	keys map[string]bool
	// models is the body of GET /models; empty answers 404.
	models string

	mu          sync.Mutex
	chat        []func(w http.ResponseWriter, r *http.Request) // one per request; the last repeats
	bodies      []map[string]any
	chatCalls   int
	modelsCalls int
}

const serverKey = "sk-server-test-key"

func newFake(t *testing.T) *fakeEndpoint {
	t.Helper()
	f := &fakeEndpoint{t: t, keys: map[string]bool{serverKey: true}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a client for the fake with the server key and no retries
// unless opts say otherwise.
func (f *fakeEndpoint) client(opts llm.Options) *llm.Client {
	opts.BaseURL = f.srv.URL + "/api/v1"
	if opts.APIKey == "" {
		opts.APIKey = serverKey
	}
	if opts.APIKey == "-" {
		opts.APIKey = ""
	}
	return llm.New(opts)
}

// addKey makes the fake accept key.
func (f *fakeEndpoint) addKey(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[key] = true
}

// script sets what successive chat requests answer.
func (f *fakeEndpoint) script(h ...func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chat = h
}

func (f *fakeEndpoint) lastBody() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		f.t.Fatal("the fake received no chat request")
	}
	return f.bodies[len(f.bodies)-1]
}

func (f *fakeEndpoint) counts() (chat, models int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.chatCalls, f.modelsCalls
}

func (f *fakeEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/models":
		f.mu.Lock()
		f.modelsCalls++
		body := f.models
		f.mu.Unlock()
		if body == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/chat/completions":
		auth := r.Header.Get("Authorization")
		f.mu.Lock()
		known := strings.HasPrefix(auth, "Bearer ") && f.keys[strings.TrimPrefix(auth, "Bearer ")]
		f.mu.Unlock()
		if !known {
			jsonError(w, http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			jsonError(w, http.StatusBadRequest, `{"error":{"message":"body is not JSON"}}`)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		i := min(f.chatCalls, len(f.chat)-1)
		f.chatCalls++
		var h func(http.ResponseWriter, *http.Request)
		if i >= 0 {
			h = f.chat[i]
		}
		f.mu.Unlock()
		if h == nil {
			f.t.Errorf("unscripted chat request")
			jsonError(w, http.StatusInternalServerError, `{"error":{"message":"unscripted"}}`)
			return
		}
		h(w, r)
	default:
		http.NotFound(w, r)
	}
}

func jsonError(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// sse answers with each chunk as a data: event, then data: [DONE].
func sse(chunks ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		// A comment line, as OpenRouter sends while it waits for the model.
		io.WriteString(w, ": OPENROUTER PROCESSING\n\n")
		for _, c := range chunks {
			fmt.Fprintf(w, "data: %s\n\n", c)
			fl.Flush()
		}
		io.WriteString(w, "data: [DONE]\n\n")
		fl.Flush()
	}
}

func status(code int, header map[string]string, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if strings.HasPrefix(body, "{") {
			jsonError(w, code, body)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// chunk builds a chat.completion.chunk with one choice's delta.
func chunk(delta string, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return fmt.Sprintf(`{"id":"gen-1","object":"chat.completion.chunk","created":1733580000,"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`, delta, fr)
}

// usageChunk is the last chunk when stream_options.include_usage is set:
// no choices, the usage, and OpenRouter's cost when cost is not empty.
func usageChunk(prompt, completion int, cost string) string {
	extra := ""
	if cost != "" {
		extra = `,"cost":` + cost + `,"cost_details":{"upstream_inference_cost":null}`
	}
	return fmt.Sprintf(`{"id":"gen-1","object":"chat.completion.chunk","created":1733580000,"model":"openai/gpt-4o-mini","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d%s}}`, prompt, completion, prompt+completion, extra)
}
