package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Model is a chat model the endpoint offers, with its prices.
type Model struct {
	ID   string
	Name string
	// ContextLength is the context window in tokens (0: unknown).
	ContextLength int
	// PromptPrice and CompletionPrice are US dollars per token.
	PromptPrice     float64
	CompletionPrice float64
	// Priced is false when neither the endpoint nor LLM_MODELS gave the
	// model's prices; its calls then cost 0 unless the endpoint reports a
	// cost.
	Priced bool
}

// Cost is the price of a call in US dollars.
func (m Model) Cost(promptTokens, completionTokens int64) float64 {
	return float64(promptTokens)*m.PromptPrice + float64(completionTokens)*m.CompletionPrice
}

// ConfiguredModel makes a Model from prices in US dollars per million
// tokens, as LLM_MODELS gives them.
func ConfiguredModel(id string, contextLength int, promptPerMTok, completionPerMTok float64) Model {
	return Model{
		ID: id, Name: id, ContextLength: contextLength,
		PromptPrice: promptPerMTok / 1e6, CompletionPrice: completionPerMTok / 1e6, Priced: true,
	}
}

// failedListTTL is how long a failed or price-less models API answer is
// remembered before asking again.
const failedListTTL = time.Minute

// Models lists the models users can pick: the endpoint's models API when it
// reports prices (OpenRouter's GET /models), with LLM_MODELS overriding the
// prices of the models it names and adding those it lacks; else LLM_MODELS;
// else whatever the endpoint lists, unpriced; else the default model alone.
// Configured models come first, in their order, then the rest by id. The
// list is cached for ModelsTTL. It fails only when there is nothing to
// list.
func (c *Client) Models(ctx context.Context) ([]Model, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache != nil && time.Since(c.cachedAt) < c.cacheTTL {
		return slices.Clone(c.cache), nil
	}
	listed, err := c.fetchModels(ctx)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil && c.cache != nil {
		// Keep the last good list through an outage, and ask again soon.
		c.cachedAt, c.cacheTTL = time.Now(), failedListTTL
		return slices.Clone(c.cache), nil
	}
	models, ttl := c.mergeModels(listed)
	if len(models) == 0 {
		if err == nil {
			err = &Error{Kind: KindModelNotFound, Message: "the endpoint lists no models and LLM_MODELS is empty"}
		}
		return nil, err
	}
	if err != nil {
		ttl = failedListTTL
	}
	c.cache, c.cachedAt, c.cacheTTL = models, time.Now(), ttl
	return slices.Clone(models), nil
}

// Model returns the model id names, from the list.
func (c *Client) Model(ctx context.Context, id string) (Model, bool) {
	models, err := c.Models(ctx)
	if err != nil {
		return Model{}, false
	}
	for _, m := range models {
		if m.ID == id {
			return m, true
		}
	}
	return Model{}, false
}

// DefaultModel is the model a request without one uses: the configured
// default, else the first listed.
func (c *Client) DefaultModel(ctx context.Context) (string, error) {
	if c.defaultModel != "" {
		return c.defaultModel, nil
	}
	models, err := c.Models(ctx)
	if err != nil {
		return "", err
	}
	return models[0].ID, nil
}

func (c *Client) mergeModels(listed []Model) ([]Model, time.Duration) {
	priced := slices.ContainsFunc(listed, func(m Model) bool { return m.Priced })
	var out []Model
	switch {
	case priced || (len(c.configured) == 0 && len(listed) > 0):
		byID := map[string]Model{}
		for _, m := range listed {
			byID[m.ID] = m
		}
		out = append(out, c.configured...)
		for i, m := range out {
			if l, ok := byID[m.ID]; ok {
				if l.Name != "" {
					out[i].Name = l.Name
				}
				delete(byID, m.ID)
			}
		}
		rest := make([]Model, 0, len(byID))
		for _, m := range byID {
			rest = append(rest, m)
		}
		slices.SortFunc(rest, func(a, b Model) int { return strings.Compare(a.ID, b.ID) })
		out = append(out, rest...)
		if !priced {
			return out, failedListTTL
		}
		return out, c.modelsTTL
	case len(c.configured) > 0:
		return slices.Clone(c.configured), failedListTTL
	case c.defaultModel != "":
		return []Model{{ID: c.defaultModel, Name: c.defaultModel}}, failedListTTL
	}
	return nil, 0
}

// wireModel is one entry of GET /models: OpenRouter's (pricing as per-token
// USD strings) or OpenAI's (id only).
type wireModel struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	ContextLength int    `json:"context_length"`
	Pricing       *struct {
		Prompt     json.RawMessage `json:"prompt"`
		Completion json.RawMessage `json:"completion"`
	} `json:"pricing"`
}

// fetchModels asks GET {base}/models. A server without a models API answers
// 404, which is an error like any other here: the caller falls back.
func (c *Client) fetchModels(ctx context.Context) ([]Model, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/models", nil)
	if err != nil {
		return nil, err
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, unavailable(err, "")
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, unavailable(err, "")
	}
	if res.StatusCode != http.StatusOK {
		msg, code := parseWireError(body)
		return nil, classify(res.StatusCode, res.Header, msg, code, "")
	}
	var list struct {
		Data []wireModel `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, &Error{Kind: KindOther, Status: res.StatusCode, Message: "the models list is not JSON", Err: err}
	}
	out := make([]Model, 0, len(list.Data))
	for _, w := range list.Data {
		if w.ID == "" {
			continue
		}
		m := Model{ID: w.ID, Name: w.Name, ContextLength: w.ContextLength}
		if m.Name == "" {
			m.Name = m.ID
		}
		if w.Pricing != nil {
			p, okP := price(w.Pricing.Prompt)
			cp, okC := price(w.Pricing.Completion)
			// OpenRouter prices its routers ("openrouter/auto") at -1: the
			// cost is only known afterwards, from usage accounting.
			if okP && okC {
				m.PromptPrice, m.CompletionPrice, m.Priced = p, cp, true
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// price reads a per-token price given as a string ("0.0000025") or number.
func price(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return f, true
}

// String is for logs: "openai/gpt-4o-mini ($0.15/$0.60 per Mtok, 128000 tokens)".
func (m Model) String() string {
	if !m.Priced {
		return fmt.Sprintf("%s (unpriced, %d tokens)", m.ID, m.ContextLength)
	}
	return fmt.Sprintf("%s ($%g/$%g per Mtok, %d tokens)", m.ID, m.PromptPrice*1e6, m.CompletionPrice*1e6, m.ContextLength)
}
