// Package llmfake is a local OpenAI-compatible chat-completions server for
// tests, scripted per test: streamed text, tool calls with any arguments,
// usage with a reported cost, errors such as 429 with Retry-After, and a
// reply that never ends until the client goes away. Only tests use it.
package llmfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Key is the API key the fake accepts unless told otherwise.
const Key = "sk-fake-test-key"

// Reply answers one chat request.
type Reply func(w http.ResponseWriter, r *http.Request)

// Server is the fake endpoint. Its base URL for llm.Options is BaseURL().
type Server struct {
	srv *httptest.Server

	mu      sync.Mutex
	keys    map[string]bool
	replies []Reply
	// next, when set, picks the reply of each request from its body
	// instead of the script.
	next   func(n int, body map[string]any) Reply
	bodies []map[string]any
	calls  int
	// scripted is calls when the script was last set: each script starts
	// from its first reply.
	scripted int
	started  chan struct{}
}

// New starts a fake; Close stops it.
func New() *Server {
	s := &Server{keys: map[string]bool{Key: true}, started: make(chan struct{}, 100)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the API's base, such as http://127.0.0.1:1234/api/v1.
func (s *Server) BaseURL() string { return s.srv.URL + "/api/v1" }

// Close stops the server, ending open streams.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// AddKey makes the fake accept key too.
func (s *Server) AddKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = true
}

// Script sets the replies of the requests from now on, in order; the last
// one repeats.
func (s *Server) Script(r ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies, s.next, s.scripted = r, nil, s.calls
}

// ScriptFunc picks each reply from the request number (0-based) and body.
func (s *Server) ScriptFunc(f func(n int, body map[string]any) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = f
}

// Calls is how many chat requests the fake has received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Bodies returns the decoded chat request bodies so far.
func (s *Server) Bodies() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.bodies...)
}

// Started receives once per chat request, as it starts being answered.
func (s *Server) Started() <-chan struct{} { return s.started }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/models":
		http.NotFound(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/chat/completions":
		auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		known := s.keys[auth]
		s.mu.Unlock()
		if !known {
			Status(http.StatusUnauthorized, nil, `{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}`)(w, r)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			Status(http.StatusBadRequest, nil, `{"error":{"message":"body is not JSON"}}`)(w, r)
			return
		}
		s.mu.Lock()
		n := s.calls
		s.calls++
		s.bodies = append(s.bodies, body)
		var reply Reply
		switch {
		case s.next != nil:
			reply = s.next(n, body)
		case len(s.replies) > 0:
			reply = s.replies[min(n-s.scripted, len(s.replies)-1)]
		}
		s.mu.Unlock()
		select {
		case s.started <- struct{}{}:
		default:
		}
		if reply == nil {
			Status(http.StatusInternalServerError, nil, `{"error":{"message":"unscripted request"}}`)(w, r)
			return
		}
		reply(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Call is a tool call a scripted reply makes.
type Call struct {
	ID, Name string
	// Arguments is sent as it is: it may be invalid JSON.
	Arguments string
}

// Turn describes a streamed reply: text in pieces, then tool calls, then
// the usage (with OpenRouter's cost when Cost is not empty).
type Turn struct {
	Text     []string
	Calls    []Call
	Prompt   int
	Complete int
	Cost     string
	// Delay is waited between pieces.
	Delay time.Duration
	// FirstText, when set, is called right after the first piece of text
	// is flushed to the client.
	FirstText func()
	// BeforeCalls, when set, is called right before the tool calls are
	// sent.
	BeforeCalls func()
}

// Stream answers with t as chat.completion.chunk events.
func Stream(t Turn) Reply {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		send := func(c string) bool {
			if t.Delay > 0 {
				select {
				case <-time.After(t.Delay):
				case <-r.Context().Done():
					return false
				}
			}
			fmt.Fprintf(w, "data: %s\n\n", c)
			fl.Flush()
			return true
		}
		io.WriteString(w, ": OPENROUTER PROCESSING\n\n")
		for i, p := range t.Text {
			b, _ := json.Marshal(map[string]string{"content": p})
			if !send(chunk(string(b), "")) {
				return
			}
			if i == 0 && t.FirstText != nil {
				t.FirstText()
			}
		}
		if len(t.Calls) > 0 && t.BeforeCalls != nil {
			t.BeforeCalls()
		}
		for i, c := range t.Calls {
			args, _ := json.Marshal(c.Arguments)
			delta := fmt.Sprintf(`{"tool_calls":[{"index":%d,"id":%q,"type":"function","function":{"name":%q,"arguments":%s}}]}`, i, c.ID, c.Name, args)
			if !send(chunk(delta, "")) {
				return
			}
		}
		finish := "stop"
		if len(t.Calls) > 0 {
			finish = "tool_calls"
		}
		send(chunk(`{}`, finish))
		extra := ""
		if t.Cost != "" {
			extra = `,"cost":` + t.Cost
		}
		send(fmt.Sprintf(`{"id":"gen-1","object":"chat.completion.chunk","created":1733580000,"model":"fake/model","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d%s}}`,
			t.Prompt, t.Complete, t.Prompt+t.Complete, extra))
		io.WriteString(w, "data: [DONE]\n\n")
		fl.Flush()
	}
}

// Forever streams a piece of text every interval until the client goes
// away: a run that never ends until it is stopped.
func Forever(interval time.Duration) Reply {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for {
			fmt.Fprintf(w, "data: %s\n\n", chunk(`{"content":"and on "}`, ""))
			fl.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
		}
	}
}

// Status answers with an HTTP status, headers and a body.
func Status(code int, header map[string]string, body string) Reply {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func chunk(delta, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return fmt.Sprintf(`{"id":"gen-1","object":"chat.completion.chunk","created":1733580000,"model":"fake/model","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`, delta, fr)
}
