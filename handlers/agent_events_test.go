package handlers_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/scratchpad/scratchpad/handlers"
	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/events"
)

// The agent's events render from their payload alone (no store is given
// here, so one that queried would fail): streamed text escaped for the
// chat panel, the agent's filter for the grids of its table.
func TestAgentEventsRenderFromTheirPayload(t *testing.T) {
	render := handlers.EventRenderer(handlers.EventRendererDeps{Extra: []func(context.Context, events.Event) ([]events.Message, bool){handlers.LiveRenderers().Render}})
	data, _ := json.Marshal(agent.DeltaEvent{SessionID: "s1", MessageID: 7, Seq: 1, Text: "<b>bold</b> & more"})
	msgs := render(context.Background(), events.Event{Topic: "workbook:w", Type: string(agent.KindDelta), Data: data})
	if len(msgs) != 1 || msgs[0].Name != "agent-delta-s1" || string(msgs[0].Data) != "&lt;b&gt;bold&lt;/b&gt; &amp; more" {
		t.Errorf("delta rendered as %+v", msgs)
	}
	data, _ = json.Marshal(agent.FilterEvent{SessionID: "s1", TableID: "t1", Filter: "price > 10"})
	msgs = render(context.Background(), events.Event{Topic: "workbook:w", Type: string(agent.KindFilter), Data: data})
	if len(msgs) != 1 || msgs[0].Name != "agent-filter-t1" || string(msgs[0].Data) != `{"filter":"price \u003e 10"}` {
		t.Errorf("filter rendered as %+v", msgs)
	}
	data, _ = json.Marshal(agent.TurnEvent{SessionID: "s1", MessageID: 7, Status: "done"})
	msgs = render(context.Background(), events.Event{Topic: "workbook:w", Type: string(agent.KindTurn), Data: data})
	if len(msgs) != 1 || msgs[0].Name != "agent-s1" {
		t.Errorf("turn rendered as %+v", msgs)
	}
}
