package llm_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/scratchpad/scratchpad/internal/llm"
)

// openRouterModels is GET /models as OpenRouter publishes it: prices are
// per-token US dollar strings, and its router model is priced -1.
const openRouterModels = `{"data":[
 {"id":"openai/gpt-4o-mini","canonical_slug":"openai/gpt-4o-mini","name":"OpenAI: GPT-4o-mini","created":1721260800,"context_length":128000,
  "architecture":{"modality":"text+image->text"},"pricing":{"prompt":"0.00000015","completion":"0.0000006","request":"0","image":"0.000217"},
  "top_provider":{"context_length":128000,"max_completion_tokens":16384,"is_moderated":true},"supported_parameters":["tools","max_tokens"]},
 {"id":"anthropic/claude-3.5-haiku","name":"Anthropic: Claude 3.5 Haiku","context_length":200000,"pricing":{"prompt":"0.0000008","completion":"0.000004"}},
 {"id":"openrouter/auto","name":"Auto Router","context_length":2000000,"pricing":{"prompt":"-1","completion":"-1"}}
]}`

// openAIModels is GET /models as OpenAI publishes it: no prices.
const openAIModels = `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"}]}`

func byID(models []llm.Model) map[string]llm.Model {
	out := map[string]llm.Model{}
	for _, m := range models {
		out[m.ID] = m
	}
	return out
}

func TestModelsFromOpenRouterWithPricesAndCache(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.models = openRouterModels
	// LLM_MODELS overrides the endpoint's prices for the ids it names and
	// adds the ones the endpoint lacks.
	c := f.client(llm.Options{Models: []llm.Model{
		llm.ConfiguredModel("anthropic/claude-3.5-haiku", 200000, 1, 5),
		llm.ConfiguredModel("private/finetune", 4096, 2, 2),
	}})
	models, err := c.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, m := range models {
		ids = append(ids, m.ID)
	}
	wantIDs := []string{"anthropic/claude-3.5-haiku", "private/finetune", "openai/gpt-4o-mini", "openrouter/auto"}
	if len(ids) != len(wantIDs) {
		t.Fatalf("models %v, want %v", ids, wantIDs)
	}
	for i := range ids {
		if ids[i] != wantIDs[i] {
			t.Fatalf("models %v, want %v (configured first, then by id)", ids, wantIDs)
		}
	}
	m := byID(models)
	mini := m["openai/gpt-4o-mini"]
	if !mini.Priced || mini.Name != "OpenAI: GPT-4o-mini" || mini.ContextLength != 128000 ||
		math.Abs(mini.PromptPrice-0.15e-6) > 1e-15 || math.Abs(mini.CompletionPrice-0.6e-6) > 1e-15 {
		t.Fatalf("gpt-4o-mini %+v", mini)
	}
	if haiku := m["anthropic/claude-3.5-haiku"]; math.Abs(haiku.PromptPrice-1e-6) > 1e-15 || haiku.Name != "Anthropic: Claude 3.5 Haiku" {
		t.Fatalf("haiku %+v: the configured price wins, the endpoint's name is kept", haiku)
	}
	if auto := m["openrouter/auto"]; auto.Priced {
		t.Fatalf("auto %+v: a -1 price is unknown, not a price", auto)
	}
	// 1,000,000 prompt and 100,000 completion tokens of gpt-4o-mini.
	if cost := mini.Cost(1_000_000, 100_000); math.Abs(cost-0.21) > 1e-9 {
		t.Fatalf("cost %g, want 0.21", cost)
	}
	if _, err := c.Models(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Model(context.Background(), "private/finetune"); !ok || got.ContextLength != 4096 {
		t.Fatalf("Model(private/finetune) = %+v, %v", got, ok)
	}
	if _, models := f.counts(); models != 1 {
		t.Fatalf("%d calls to /models, want 1: the list is cached", models)
	}
	if d, err := c.DefaultModel(context.Background()); err != nil || d != "anthropic/claude-3.5-haiku" {
		t.Fatalf("default %q %v, want the first listed", d, err)
	}
}

func TestStreamCostUsesEndpointPricesWhenUsageHasNoCost(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.models = openRouterModels
	f.script(sse(chunk(`{"content":"hi"}`, "stop"), usageChunk(10_000, 500, "")))
	c := f.client(llm.Options{})
	resp, err := c.Stream(context.Background(), llm.Request{Model: "openai/gpt-4o-mini", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := 10_000*0.15e-6 + 500*0.6e-6; math.Abs(resp.Usage.Cost-want) > 1e-12 || resp.Usage.CostReported {
		t.Fatalf("usage %+v, want cost %g", resp.Usage, want)
	}
}

func TestModelsFallBackToConfig(t *testing.T) {
	t.Parallel()
	configured := []llm.Model{llm.ConfiguredModel("gpt-4o-mini", 128000, 0.15, 0.6)}

	// No models API at all (404).
	f := newFake(t)
	models, err := f.client(llm.Options{Models: configured}).Models(context.Background())
	if err != nil || len(models) != 1 || models[0] != configured[0] {
		t.Fatalf("without a models API: %+v %v, want LLM_MODELS", models, err)
	}

	// A models API without prices (OpenAI's): LLM_MODELS is the list.
	f = newFake(t)
	f.models = openAIModels
	models, err = f.client(llm.Options{Models: configured}).Models(context.Background())
	if err != nil || len(models) != 1 || models[0] != configured[0] {
		t.Fatalf("with unpriced models: %+v %v, want LLM_MODELS", models, err)
	}

	// Unpriced models and no LLM_MODELS: listed, marked unpriced.
	models, err = f.client(llm.Options{}).Models(context.Background())
	if err != nil || len(models) != 2 || models[0].ID != "gpt-4o" || models[0].Priced {
		t.Fatalf("unpriced endpoint alone: %+v %v", models, err)
	}

	// Nothing listed anywhere but a default model: that model, unpriced.
	f = newFake(t)
	models, err = f.client(llm.Options{DefaultModel: "local/llama"}).Models(context.Background())
	if err != nil || len(models) != 1 || models[0].ID != "local/llama" || models[0].Priced {
		t.Fatalf("default only: %+v %v", models, err)
	}

	// Nothing at all: the endpoint's failure is the error.
	_, err = f.client(llm.Options{}).Models(context.Background())
	if !errors.Is(err, llm.ErrModelNotFound) {
		t.Fatalf("nothing to list: %v, want ErrModelNotFound from the 404", err)
	}
}

func TestModelsKeepLastGoodListThroughAnOutage(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.models = openRouterModels
	c := f.client(llm.Options{ModelsTTL: 1}) // expires at once
	if _, err := c.Models(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.models = ""
	f.mu.Unlock()
	models, err := c.Models(context.Background())
	if err != nil || len(models) != 3 {
		t.Fatalf("during the outage: %d models, %v; want the last good list", len(models), err)
	}
}
