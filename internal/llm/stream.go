package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
)

// Stream makes a streamed chat-completions call. It passes each piece of
// text to on as it arrives, then each assembled tool call, and returns the
// whole reply with its usage and cost. An error from on stops the stream
// and is returned as it is; so is the context's error when ctx ends. Every
// other failure is an *Error.
func (c *Client) Stream(ctx context.Context, req Request, on func(Event) error) (*Response, error) {
	if on == nil {
		on = func(Event) error { return nil }
	}
	key, err := c.key(req.APIKey)
	if err != nil {
		return nil, err
	}
	model := req.Model
	if model == "" {
		if model, err = c.DefaultModel(ctx); err != nil {
			return nil, err
		}
	}
	params, err := buildParams(model, req)
	if err != nil {
		return nil, err
	}
	svc := openai.NewChatCompletionService(
		option.WithBaseURL(c.baseURL+"/"),
		option.WithAPIKey(key),
		option.WithHTTPClient(c.http),
		option.WithMaxRetries(c.maxRetries),
		option.WithMaxRetryDelay(c.maxRetryWait),
	)
	stream := svc.NewStreaming(ctx, params)
	defer stream.Close()

	resp := &Response{Model: model}
	var (
		text    strings.Builder
		calls   []ToolCall
		byIndex = map[int64]int{}
		usage   *Usage
	)
	for stream.Next() {
		chunk := stream.Current()
		if chunk.Model != "" {
			resp.Model = chunk.Model
		}
		if u, ok := chunkUsage(chunk); ok {
			usage = &u
		}
		for _, choice := range chunk.Choices {
			if choice.Index != 0 {
				continue // n is never above 1 here
			}
			if choice.FinishReason != "" {
				resp.FinishReason = choice.FinishReason
			}
			d := choice.Delta
			if piece := d.Content + d.Refusal; piece != "" {
				text.WriteString(piece)
				if err := on(Event{Text: piece}); err != nil {
					return nil, err
				}
			}
			for _, tc := range d.ToolCalls {
				slot, ok := byIndex[tc.Index]
				// A server that numbers every call 0 still gives each its
				// own id.
				if !ok || (tc.ID != "" && calls[slot].ID != "" && calls[slot].ID != tc.ID) {
					calls = append(calls, ToolCall{})
					slot = len(calls) - 1
					byIndex[tc.Index] = slot
				}
				call := &calls[slot]
				if call.ID == "" {
					call.ID = tc.ID
				}
				if call.Name == "" {
					call.Name = tc.Function.Name
				}
				call.Arguments += tc.Function.Arguments
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, callError(ctx, err, model)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp.Text = text.String()
	for i := range calls {
		if calls[i].ID == "" {
			calls[i].ID = "call_" + strconv.Itoa(i)
		}
	}
	resp.ToolCalls = calls
	for i := range calls {
		call := calls[i]
		if err := on(Event{ToolCall: &call}); err != nil {
			return nil, err
		}
	}
	if usage == nil {
		usage = &Usage{Estimated: true, PromptTokens: estimatePrompt(req), CompletionTokens: estimateReply(resp)}
	}
	if !usage.CostReported {
		m, ok := c.Model(ctx, model)
		if !ok && resp.Model != model {
			m, ok = c.Model(ctx, resp.Model)
		}
		if ok {
			usage.Cost = m.Cost(usage.PromptTokens, usage.CompletionTokens)
		}
	}
	resp.Usage = *usage
	return resp, nil
}

// buildParams turns a Request into the SDK's parameters.
func buildParams(model string, req Request) (openai.ChatCompletionNewParams, error) {
	p := openai.ChatCompletionNewParams{
		Model:         shared.ChatModel(model),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	for i, m := range req.Messages {
		switch m.Role {
		case RoleSystem:
			p.Messages = append(p.Messages, openai.SystemMessage(m.Content))
		case RoleUser:
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		case RoleAssistant:
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Content != "" || len(m.ToolCalls) == 0 {
				a.Content.OfString = openai.String(m.Content)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments},
					},
				})
			}
			p.Messages = append(p.Messages, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case RoleTool:
			if m.ToolCallID == "" {
				return p, fmt.Errorf("llm: message %d is a tool result without the id of the call it answers", i)
			}
			p.Messages = append(p.Messages, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			return p, fmt.Errorf("llm: message %d has unknown role %q", i, m.Role)
		}
	}
	for _, t := range req.Tools {
		fn := shared.FunctionDefinitionParam{Name: t.Name, Parameters: shared.FunctionParameters(t.Parameters)}
		if t.Description != "" {
			fn.Description = openai.String(t.Description)
		}
		p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(fn))
	}
	if req.MaxTokens > 0 {
		p.MaxTokens = openai.Int(int64(req.MaxTokens))
	}
	if req.Temperature != nil {
		p.Temperature = openai.Float(*req.Temperature)
	}
	if req.User != "" {
		p.User = openai.String(req.User)
	}
	return p, nil
}

// chunkUsage reads the usage a chunk carries (the last one, when
// stream_options.include_usage is set), with OpenRouter's cost when
// present.
func chunkUsage(chunk openai.ChatCompletionChunk) (Usage, bool) {
	u := chunk.Usage
	if !u.JSON.PromptTokens.Valid() && !u.JSON.CompletionTokens.Valid() {
		return Usage{}, false
	}
	out := Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
	if f, ok := u.JSON.ExtraFields["cost"]; ok {
		if cost, ok := price([]byte(f.Raw())); ok {
			out.Cost, out.CostReported = cost, true
		}
	}
	return out, true
}

// estimatePrompt guesses prompt tokens at four characters a token, for
// endpoints that report no usage.
func estimatePrompt(req Request) int64 {
	n := 0
	for _, m := range req.Messages {
		n += len(m.Content) + 4
		for _, tc := range m.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	for _, t := range req.Tools {
		schema, _ := json.Marshal(t.Parameters)
		n += len(t.Name) + len(t.Description) + len(schema)
	}
	return int64((n + 3) / 4)
}

func estimateReply(r *Response) int64 {
	n := len(r.Text)
	for _, tc := range r.ToolCalls {
		n += len(tc.Name) + len(tc.Arguments)
	}
	return int64((n + 3) / 4)
}

// callError classifies what the SDK returned.
func callError(ctx context.Context, err error, model string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		msg, code := parseWireError([]byte(apiErr.RawJSON()))
		var h http.Header
		if apiErr.Response != nil {
			h = apiErr.Response.Header
		}
		e := classify(apiErr.StatusCode, h, msg, code, model)
		e.Err = err
		return e
	}
	// An error sent inside the stream after it started, such as OpenRouter's
	// {"error": {"code": 502, "message": "..."}, "choices": [...]}.
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		msg, code := parseWireError(se.Event.Data)
		status := 0
		if n, convErr := strconv.Atoi(code); convErr == nil && n >= 400 && n < 600 {
			status = n
		}
		e := classify(status, nil, msg, code, model)
		e.Err = err
		return e
	}
	return unavailable(err, model)
}
