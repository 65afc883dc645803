package handlers

import (
	"context"
	"encoding/json"
	"html"

	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/events"
)

// LiveRenderers is the registry of live-event renderers by kind that the
// app plugs into EventRendererDeps.Extra. The agent's events carry all they
// show, so their renderers never query the database: a token stream costs
// the listener nothing but formatting.
func LiveRenderers() *events.Registry {
	r := events.NewRegistry()
	r.Handle(agent.KindDelta, renderAgentDelta)
	r.Handle(agent.KindTool, renderAgentJSON)
	r.Handle(agent.KindStep, renderAgentJSON)
	r.Handle(agent.KindTurn, renderAgentJSON)
	r.Handle(agent.KindFilter, renderAgentFilter)
	return r
}

// renderAgentDelta sends a turn's streamed text, escaped, as
// agent-delta-{session}; the chat panel appends it to the running message.
func renderAgentDelta(_ context.Context, ev events.Event) []events.Message {
	var d agent.DeltaEvent
	if json.Unmarshal(ev.Data, &d) != nil || d.Text == "" {
		return nil
	}
	return []events.Message{{Name: "agent-delta-" + d.SessionID, Data: []byte(html.EscapeString(d.Text))}}
}

// renderAgentJSON passes tool, step and turn events on to the chat panel
// as JSON named agent-{session}: the panel shows tool activity and the
// running cost, and reloads the session when a turn ends.
func renderAgentJSON(_ context.Context, ev events.Event) []events.Message {
	var d struct {
		SessionID string `json:"session_id"`
	}
	if json.Unmarshal(ev.Data, &d) != nil || d.SessionID == "" {
		return nil
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil
	}
	return []events.Message{{Name: "agent-" + d.SessionID, Data: b}}
}

// renderAgentFilter asks the grids of a table to apply the agent's filter,
// as agent-filter-{table} with the filter text as JSON.
func renderAgentFilter(_ context.Context, ev events.Event) []events.Message {
	var d agent.FilterEvent
	if json.Unmarshal(ev.Data, &d) != nil || d.TableID == "" {
		return nil
	}
	b, err := json.Marshal(map[string]string{"filter": d.Filter})
	if err != nil {
		return nil
	}
	return []events.Message{{Name: "agent-filter-" + d.TableID, Data: b}}
}
