package events_test

import (
	"context"
	"testing"

	"github.com/scratchpad/scratchpad/internal/events"
)

func TestRegistryExactThenLongestPrefix(t *testing.T) {
	r := events.NewRegistry()
	named := func(name string) events.RenderFunc {
		return func(context.Context, events.Event) []events.Message {
			return []events.Message{{Name: name, Data: []byte("x")}}
		}
	}
	r.HandlePrefix("agent.", named("prefix"))
	r.HandlePrefix("agent.tool", named("longer"))
	r.Handle("agent.delta", named("exact"))
	for kind, want := range map[string]string{"agent.delta": "exact", "agent.tool.done": "longer", "agent.turn": "prefix"} {
		msgs, ok := r.Render(context.Background(), events.Event{Topic: "t", Type: kind})
		if !ok || len(msgs) != 1 || msgs[0].Name != want {
			t.Errorf("%s rendered by %v (handled %v), want %s", kind, msgs, ok, want)
		}
	}
	if _, ok := r.Render(context.Background(), events.Event{Topic: "t", Type: "record.updated"}); ok {
		t.Error("an unregistered kind was handled")
	}
}
