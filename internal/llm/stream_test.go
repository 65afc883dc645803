package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/llm"
)

func collect(events *[]llm.Event) func(llm.Event) error {
	return func(e llm.Event) error {
		*events = append(*events, e)
		return nil
	}
}

func TestStreamTextUsageAndReportedCost(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.script(sse(
		chunk(`{"role":"assistant","content":""}`, ""),
		chunk(`{"content":"Hel"}`, ""),
		chunk(`{"content":"lo, "}`, ""),
		chunk(`{"content":"world"}`, "stop"),
		usageChunk(120, 7, "0.00042"),
	))
	c := f.client(llm.Options{})
	temp := 0.2
	var events []llm.Event
	resp, err := c.Stream(context.Background(), llm.Request{
		Model: "openai/gpt-4o-mini",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You edit product records."},
			{Role: llm.RoleUser, Content: "Fix the titles."},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_a", Name: "fetch_records", Arguments: `{"limit":5}`}}},
			{Role: llm.RoleTool, ToolCallID: "call_a", Content: `[{"id":"r1"}]`},
		},
		Tools: []llm.ToolSpec{{
			Name: "fetch_records", Description: "Fetch records by filter.",
			Parameters: map[string]any{"type": "object", "properties": map[string]any{"limit": map[string]any{"type": "integer"}}},
		}},
		MaxTokens: 500, Temperature: &temp, User: "u_42",
	}, collect(&events))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range events {
		if e.ToolCall != nil {
			t.Fatalf("unexpected tool call %+v", e.ToolCall)
		}
		texts = append(texts, e.Text)
	}
	if strings.Join(texts, "|") != "Hel|lo, |world" {
		t.Fatalf("deltas %q", texts)
	}
	if resp.Text != "Hello, world" || resp.FinishReason != "stop" || resp.Model != "openai/gpt-4o-mini" {
		t.Fatalf("response %+v", resp)
	}
	want := llm.Usage{PromptTokens: 120, CompletionTokens: 7, Cost: 0.00042, CostReported: true}
	if resp.Usage != want {
		t.Fatalf("usage %+v, want %+v", resp.Usage, want)
	}

	// The request follows the chat-completions API.
	b := f.lastBody()
	if b["model"] != "openai/gpt-4o-mini" || b["stream"] != true || b["max_tokens"] != 500.0 || b["temperature"] != 0.2 || b["user"] != "u_42" {
		t.Fatalf("request %v", b)
	}
	if so, _ := b["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Fatalf("stream_options %v: usage must be asked for", b["stream_options"])
	}
	msgs := b["messages"].([]any)
	roles := []string{}
	for _, m := range msgs {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	if strings.Join(roles, ",") != "system,user,assistant,tool" {
		t.Fatalf("roles %v", roles)
	}
	asst := msgs[2].(map[string]any)
	tc := asst["tool_calls"].([]any)[0].(map[string]any)
	fn := tc["function"].(map[string]any)
	if tc["id"] != "call_a" || tc["type"] != "function" || fn["name"] != "fetch_records" || fn["arguments"] != `{"limit":5}` {
		t.Fatalf("assistant tool call %v", tc)
	}
	if tool := msgs[3].(map[string]any); tool["tool_call_id"] != "call_a" || tool["content"] != `[{"id":"r1"}]` {
		t.Fatalf("tool message %v", tool)
	}
	tool := b["tools"].([]any)[0].(map[string]any)
	def := tool["function"].(map[string]any)
	if tool["type"] != "function" || def["name"] != "fetch_records" || def["description"] != "Fetch records by filter." {
		t.Fatalf("tool %v", tool)
	}
	if params := def["parameters"].(map[string]any); params["type"] != "object" {
		t.Fatalf("tool schema %v", params)
	}
}

func TestStreamAssemblesToolCallsSplitAcrossChunks(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.script(sse(
		chunk(`{"role":"assistant","content":"Looking."}`, ""),
		chunk(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"suggest_updates","arguments":""}}]}`, ""),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"updates\":[{\"id\":"}}]}`, ""),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"r1\",\"title\":\"New\"}]}"}}]}`, ""),
		chunk(`{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"set_filter","arguments":"{\"q\": "}}]}`, ""),
		// Invalid JSON arguments are kept as the model wrote them.
		chunk(`{"tool_calls":[{"index":1,"function":{"arguments":"oops"}}]}`, "tool_calls"),
		usageChunk(2000, 40, ""),
	))
	// The endpoint has no models API: prices come from LLM_MODELS.
	c := f.client(llm.Options{Models: []llm.Model{llm.ConfiguredModel("openai/gpt-4o-mini", 128000, 0.15, 0.60)}})
	var events []llm.Event
	resp, err := c.Stream(context.Background(), llm.Request{Model: "openai/gpt-4o-mini", Messages: []llm.Message{{Role: llm.RoleUser, Content: "go"}}}, collect(&events))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].Text != "Looking." || events[1].ToolCall == nil || events[2].ToolCall == nil {
		t.Fatalf("events %+v: want the text, then both tool calls", events)
	}
	want := []llm.ToolCall{
		{ID: "call_1", Name: "suggest_updates", Arguments: `{"updates":[{"id":"r1","title":"New"}]}`},
		{ID: "call_2", Name: "set_filter", Arguments: `{"q": oops`},
	}
	for i, w := range want {
		if *events[i+1].ToolCall != w || resp.ToolCalls[i] != w {
			t.Fatalf("tool call %d: event %+v, response %+v, want %+v", i, *events[i+1].ToolCall, resp.ToolCalls[i], w)
		}
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(resp.ToolCalls[0].Arguments), &args); err != nil {
		t.Fatalf("assembled arguments are not JSON: %v", err)
	}
	if resp.FinishReason != "tool_calls" {
		t.Fatalf("finish %q", resp.FinishReason)
	}
	// 2000 × $0.15/M + 40 × $0.60/M.
	if wantCost := 2000*0.15e-6 + 40*0.60e-6; math.Abs(resp.Usage.Cost-wantCost) > 1e-12 || resp.Usage.CostReported {
		t.Fatalf("usage %+v, want cost %g from the configured prices", resp.Usage, wantCost)
	}
}

func TestStreamWithoutUsageEstimatesTokens(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.script(sse(chunk(`{"content":"12345678"}`, "stop")))
	c := f.client(llm.Options{Models: []llm.Model{llm.ConfiguredModel("local/llama", 8192, 1, 2)}})
	resp, err := c.Stream(context.Background(), llm.Request{Model: "local/llama", Messages: []llm.Message{{Role: llm.RoleUser, Content: "abcdefghijkl"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := resp.Usage
	if !u.Estimated || u.PromptTokens != 4 || u.CompletionTokens != 2 || math.Abs(u.Cost-(4*1e-6+2*2e-6)) > 1e-12 {
		t.Fatalf("usage %+v", u)
	}
}

func TestStreamErrorsAreClassified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		answer  func(http.ResponseWriter, *http.Request)
		want    error
		kind    llm.Kind
		status  int
		message string
		retry   time.Duration
	}{
		{"401", status(401, nil, `{"error":{"code":401,"message":"No auth credentials found"}}`), llm.ErrAuth, llm.KindAuth, 401, "No auth credentials found", 0},
		{"403", status(403, nil, `{"error":{"message":"Forbidden"}}`), llm.ErrAuth, llm.KindAuth, 403, "", 0},
		{"402 credits", status(402, nil, `{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits"}}`), llm.ErrCredits, llm.KindCredits, 402, "", 0},
		{"403 key limit", status(403, nil, `{"error":{"code":403,"message":"Key limit exceeded (monthly limit)"}}`), llm.ErrCredits, llm.KindCredits, 403, "", 0},
		{"429 retry-after", status(429, map[string]string{"Retry-After": "120"}, `{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-min"}}`), llm.ErrRateLimited, llm.KindRateLimited, 429, "", 120 * time.Second},
		{"429 without retry-after", status(429, nil, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`), llm.ErrRateLimited, llm.KindRateLimited, 429, "", 0},
		{"400 openrouter context", status(400, nil, `{"error":{"code":400,"message":"This endpoint's maximum context length is 8192 tokens. However, you requested about 9000 tokens (8000 of text input, 1000 in the output). Please reduce the length of either one."}}`), llm.ErrContextTooLarge, llm.KindContextTooLarge, 400, "maximum context length is 8192", 0},
		{"400 openai context", status(400, nil, `{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`), llm.ErrContextTooLarge, llm.KindContextTooLarge, 400, "", 0},
		{"413", status(413, nil, `{"error":{"message":"Request too large"}}`), llm.ErrContextTooLarge, llm.KindContextTooLarge, 413, "", 0},
		{"404 model", status(404, nil, `{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","code":"model_not_found"}}`), llm.ErrModelNotFound, llm.KindModelNotFound, 404, "", 0},
		{"400 invalid model id", status(400, nil, `{"error":{"code":400,"message":"gpt-9 is not a valid model ID"}}`), llm.ErrModelNotFound, llm.KindModelNotFound, 400, "", 0},
		{"400 other", status(400, nil, `{"error":{"code":400,"message":"temperature must be at most 2"}}`), llm.ErrBadRequest, llm.KindBadRequest, 400, "", 0},
		{"500", status(500, nil, `{"error":{"message":"Internal error","type":"server_error"}}`), llm.ErrUnavailable, llm.KindUnavailable, 500, "", 0},
		{"502 html", status(502, nil, `<html><body>Bad gateway</body></html>`), llm.ErrUnavailable, llm.KindUnavailable, 502, "", 0},
		{"503 retry-after", status(503, map[string]string{"Retry-After": "30"}, `{"error":{"message":"Overloaded"}}`), llm.ErrUnavailable, llm.KindUnavailable, 503, "", 30 * time.Second},
		{"mid-stream error", sse(chunk(`{"content":"Par"}`, ""), `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}`), llm.ErrUnavailable, llm.KindUnavailable, 502, "Provider disconnected", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.script(tc.answer)
			// Retries allowed, but a server-directed wait above 5s is
			// reported at once instead of waited for.
			c := f.client(llm.Options{MaxRetries: 0, MaxRetryWait: 5 * time.Second})
			start := time.Now()
			_, err := c.Stream(context.Background(), llm.Request{Model: "gpt-9", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != tc.kind || e.Status != tc.status {
				t.Fatalf("error %#v, want kind %v status %d", err, tc.kind, tc.status)
			}
			if !strings.Contains(e.Message, tc.message) {
				t.Fatalf("provider message %q, want it to contain %q", e.Message, tc.message)
			}
			if d := e.RetryAfter - tc.retry; d < -time.Second || d > time.Second {
				t.Fatalf("RetryAfter %v, want %v", e.RetryAfter, tc.retry)
			}
			if um := e.UserMessage(); um == "" || strings.Contains(um, "HTTP") || (tc.message != "" && strings.Contains(um, tc.message)) {
				t.Fatalf("user message %q must be our own words", um)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
}

func TestStreamUserMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *llm.Error
		want string
	}{
		{&llm.Error{Kind: llm.KindNoKey}, "No API key"},
		{&llm.Error{Kind: llm.KindRateLimited, RetryAfter: 42 * time.Second}, "try again in 42s"},
		{&llm.Error{Kind: llm.KindContextTooLarge}, "too long for this model's context window"},
		{&llm.Error{Kind: llm.KindModelNotFound, Model: "gpt-9"}, `"gpt-9"`},
		{&llm.Error{Kind: llm.KindUnavailable}, "unavailable"},
	} {
		if got := tc.err.UserMessage(); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q, want it to contain %q", tc.err.Kind, got, tc.want)
		}
	}
}

func TestStreamRetriesAfterRetryAfter(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.script(
		status(429, map[string]string{"Retry-After": "1"}, `{"error":{"code":429,"message":"slow down"}}`),
		sse(chunk(`{"content":"ok"}`, "stop"), usageChunk(1, 1, "0")),
	)
	c := f.client(llm.Options{MaxRetries: 2})
	start := time.Now()
	resp, err := c.Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	if chat, _ := f.counts(); chat != 2 || resp.Text != "ok" {
		t.Fatalf("%d requests, text %q: want a retry that succeeds", chat, resp.Text)
	}
	if waited < 900*time.Millisecond {
		t.Fatalf("retried after %v: Retry-After: 1 was not honoured", waited)
	}
	if !resp.Usage.CostReported || resp.Usage.Cost != 0 {
		t.Fatalf("usage %+v: a reported cost of 0 is a cost", resp.Usage)
	}
}

func TestStreamReportsRetryAfterLongerThanItWaits(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.script(status(429, map[string]string{"Retry-After": "90"}, `{"error":{"code":429,"message":"slow down"}}`))
	c := f.client(llm.Options{MaxRetries: 3, MaxRetryWait: 5 * time.Second})
	start := time.Now()
	_, err := c.Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindRateLimited || e.RetryAfter != 90*time.Second {
		t.Fatalf("error %v, want rate limited with RetryAfter 90s", err)
	}
	if chat, _ := f.counts(); chat != 1 || time.Since(start) > 2*time.Second {
		t.Fatalf("%d requests in %v: a wait longer than MaxRetryWait is reported, not waited for", chat, time.Since(start))
	}
}

func TestStreamNeedsAKey(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.script(sse(chunk(`{"content":"mine"}`, "stop")))
	c := f.client(llm.Options{APIKey: "-", DefaultModel: "m"})
	if c.HasServerKey() {
		t.Fatal("no server key was configured")
	}
	_, err := c.Stream(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
	if !errors.Is(err, llm.ErrNoKey) {
		t.Fatalf("error %v, want ErrNoKey", err)
	}
	if chat, _ := f.counts(); chat != 0 {
		t.Fatal("a request without a key reached the endpoint")
	}
	// A user's own key is used; the default model fills in.
	f.addKey("sk-user-own")
	resp, err := c.Stream(context.Background(), llm.Request{APIKey: "sk-user-own", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
	if err != nil || resp.Text != "mine" {
		t.Fatalf("with the user's key: %v %+v", err, resp)
	}
	if b := f.lastBody(); b["model"] != "m" {
		t.Fatalf("model %v, want the default", b["model"])
	}
	// A wrong user key is the auth error.
	_, err = c.Stream(context.Background(), llm.Request{APIKey: "sk-wrong", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
	if !errors.Is(err, llm.ErrAuth) {
		t.Fatalf("error %v, want ErrAuth", err)
	}
}

func TestStreamStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	// A run that never ends until the user stops it.
	f.script(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for {
			if _, err := w.Write([]byte("data: " + chunk(`{"content":"more "}`, "") + "\n\n")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	c := f.client(llm.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stopped time.Time
	n := 0
	_, err := c.Stream(ctx, llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: "go on forever"}}}, func(e llm.Event) error {
		if n++; n == 3 {
			stopped = time.Now()
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(stopped); d > time.Second {
		t.Fatalf("stopped %v after the cancel, want under a second", d)
	}
}

func TestStreamCallbackErrorStops(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.script(sse(chunk(`{"content":"a"}`, ""), chunk(`{"content":"b"}`, "stop")))
	c := f.client(llm.Options{})
	boom := errors.New("listener gone")
	calls := 0
	_, err := c.Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, func(llm.Event) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("error %v after %d calls, want the callback's error after one", err, calls)
	}
}

func TestStreamUnreachableEndpoint(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c := f.client(llm.Options{})
	f.srv.Close()
	_, err := c.Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindUnavailable || e.Status != 0 || e.Err == nil {
		t.Fatalf("error %#v, want unavailable with the transport error", err)
	}
}

func TestStreamRejectsMalformedMessages(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	c := f.client(llm.Options{})
	for _, m := range []llm.Message{{Role: llm.RoleTool, Content: "x"}, {Role: "robot", Content: "x"}} {
		if _, err := c.Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{m}}, nil); err == nil {
			t.Errorf("%+v: want an error", m)
		}
	}
	if chat, _ := f.counts(); chat != 0 {
		t.Fatal("a malformed request reached the endpoint")
	}
}
