package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/llmfake"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

type (
	agentSessionBody struct {
		ID               string             `json:"id"`
		Title            string             `json:"title"`
		TokensIn         int64              `json:"tokens_in"`
		TokensOut        int64              `json:"tokens_out"`
		Cost             float64            `json:"cost"`
		RunningMessageID *string            `json:"running_message_id"`
		Messages         []agentMessageBody `json:"messages"`
	}
	agentMessageBody struct {
		ID        string  `json:"id"`
		Role      string  `json:"role"`
		Content   string  `json:"content"`
		Status    string  `json:"status"`
		TokensIn  int64   `json:"tokens_in"`
		TokensOut int64   `json:"tokens_out"`
		Cost      float64 `json:"cost"`
		ErrorCode *string `json:"error_code"`
		ToolCalls []struct {
			Name  string  `json:"name"`
			Error *string `json:"error"`
		} `json:"tool_calls"`
	}
	agentStartedBody struct {
		Message agentMessageBody `json:"message"`
		Turn    agentMessageBody `json:"turn"`
		Job     struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"job"`
	}
)

// The agent over the JSON API, against a fake model endpoint: a session is
// started, a message runs a turn that suggests a title, the session shows
// the turn with its tool call, tokens and cost as the endpoint reported
// them; a long turn is stopped; sessions are renamed, listed and deleted;
// another user's session is 404. Every answer is checked against
// openapi.json.
func TestAPIAgentSessions(t *testing.T) {
	t.Parallel()
	fake := llmfake.New()
	t.Cleanup(fake.Close)
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{
		"LLM_BASE_URL": fake.BaseURL(), "LLM_API_KEY": llmfake.Key, "LLM_MODELS": "fake/model|128000|1|2",
		"JOB_QUEUES": "default:2,imports:1,agent:2",
		// The test polls the session while turns run.
		"API_RATE_LIMIT": "1000000", "API_RATE_BURST": "1000000",
	}})
	owner, token := MustUserWithToken(t, inst, "agent@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	_, otherToken := MustUserWithToken(t, inst, "other-agent@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	s := wbSession{t: t, api: newAPIClient(t, inst), token: token}
	them := wbSession{t: t, api: s.api, token: otherToken}

	var wb workbookBody
	s.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Shop"}`, http.StatusCreated, &wb)
	tbl, err := inst.App.Workbooks.CreateTable(context.Background(), owner.ID, wb.ID, workbooks.TableInput{Name: "Products",
		Columns: []workbooks.ColumnInput{{Name: "Title", Type: values.Text}}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := inst.App.Workbooks.CreateRecord(context.Background(), owner.ID, wb.ID, tbl.ID, map[string]any{"Title": "lamp"})
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/workbooks/" + wb.ID + "/agent/sessions"

	var se agentSessionBody
	s.MustJSON(http.MethodPost, base, `{}`, http.StatusCreated, &se)
	if se.Title != "New chat" {
		t.Errorf("new session = %+v", se)
	}
	args, _ := json.Marshal(map[string]any{"updates": []any{map[string]any{"record_id": rec.ID, "fields": map[string]any{"Title": "Lamp"}}}})
	fake.Script(
		llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{{ID: "c1", Name: "suggest_updates", Arguments: string(args)}}, Prompt: 120, Complete: 12, Cost: "0.0015"}),
		llmfake.Stream(llmfake.Turn{Text: []string{"Suggested ", "a new title."}, Prompt: 150, Complete: 8, Cost: "0.0025"}),
	)
	var started agentStartedBody
	s.MustJSON(http.MethodPost, base+"/"+se.ID+"/messages", `{"content": "Capitalise the title", "scope": "`+tbl.ID+`", "record_id": "`+rec.ID+`", "field": "Title"}`, http.StatusAccepted, &started)
	if started.Turn.Status != "running" || started.Job.Kind != "agent_turn" || started.Message.Role != "user" {
		t.Fatalf("started = %+v", started)
	}
	// A second message while the turn runs is refused, unless it has ended.
	done := s.mustEndedTurn(base+"/"+se.ID, started.Turn.ID)
	if done.Status != "done" || done.Content != "Suggested a new title." || len(done.ToolCalls) != 1 || done.ToolCalls[0].Error != nil {
		t.Errorf("turn = %+v", done)
	}
	if done.TokensIn != 270 || done.TokensOut != 20 || done.Cost < 0.00399 || done.Cost > 0.00401 {
		t.Errorf("turn usage = %d/%d/$%f, want what the endpoint reported: 270/20/$0.004", done.TokensIn, done.TokensOut, done.Cost)
	}
	var detail agentSessionBody
	s.MustJSON(http.MethodGet, base+"/"+se.ID, "", http.StatusOK, &detail)
	if detail.Title != "Capitalise the title" || detail.TokensIn != 270 || detail.RunningMessageID != nil || len(detail.Messages) != 2 {
		t.Errorf("session = %+v", detail)
	}
	var sugs struct {
		Items []json.RawMessage `json:"items"`
	}
	s.MustJSON(http.MethodGet, "/api/v1/workbooks/"+wb.ID+"/tables/"+tbl.ID+"/suggestions", "", http.StatusOK, &sugs)
	if len(sugs.Items) != 1 {
		t.Errorf("suggestions = %s", sugs.Items)
	}

	// A turn that never ends is stopped.
	fake.Script(llmfake.Forever(10 * time.Millisecond))
	s.MustJSON(http.MethodPost, base+"/"+se.ID+"/messages", `{"content": "Go on forever"}`, http.StatusAccepted, &started)
	s.MustJSON(http.MethodPost, base+"/"+se.ID+"/messages", `{"content": "And this?"}`, http.StatusConflict, nil)
	<-fake.Started()
	var stopped agentMessageBody
	s.MustJSON(http.MethodPost, base+"/"+se.ID+"/stop", "", http.StatusOK, &stopped)
	if stopped.ID != started.Turn.ID || stopped.Status != "stopped" {
		t.Errorf("stop answered %+v", stopped)
	}
	if m := s.mustEndedTurn(base+"/"+se.ID, started.Turn.ID); m.Status != "stopped" {
		t.Errorf("stopped turn = %+v", m)
	}
	s.MustJSON(http.MethodPost, base+"/"+se.ID+"/stop", "", http.StatusNotFound, nil)

	// Rename, list, someone else's, delete.
	s.MustJSON(http.MethodPatch, base+"/"+se.ID, `{"title": "Titles"}`, http.StatusOK, &se)
	var list struct {
		Items      []agentSessionBody `json:"items"`
		NextCursor *string            `json:"next_cursor"`
	}
	s.MustJSON(http.MethodGet, base, "", http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Title != "Titles" || list.NextCursor != nil {
		t.Errorf("list = %+v", list)
	}
	them.MustJSON(http.MethodGet, base+"/"+se.ID, "", http.StatusNotFound, nil)
	them.MustJSON(http.MethodGet, base, "", http.StatusNotFound, nil)
	them.MustJSON(http.MethodPost, base+"/"+se.ID+"/messages", `{"content": "hi"}`, http.StatusNotFound, nil)
	them.MustJSON(http.MethodPost, base+"/"+se.ID+"/stop", "", http.StatusNotFound, nil)
	them.MustJSON(http.MethodDelete, base+"/"+se.ID, "", http.StatusNotFound, nil)
	s.MustJSON(http.MethodDelete, base+"/"+se.ID, "", http.StatusNoContent, nil)
	s.MustJSON(http.MethodGet, base+"/"+se.ID, "", http.StatusNotFound, nil)
}

// Without a key for the model provider, a message is refused with a code
// the panel words as "add a key".
func TestAPIAgentWithoutAKey(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"LLM_API_KEY": ""}})
	_, token := MustUserWithToken(t, inst, "nokey@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	s := wbSession{t: t, api: newAPIClient(t, inst), token: token}
	var wb workbookBody
	s.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Shop"}`, http.StatusCreated, &wb)
	var se agentSessionBody
	s.MustJSON(http.MethodPost, "/api/v1/workbooks/"+wb.ID+"/agent/sessions", `{"title": "Hi"}`, http.StatusCreated, &se)
	r := s.call(http.MethodPost, "/api/v1/workbooks/"+wb.ID+"/agent/sessions/"+se.ID+"/messages", `{"content": "hello"}`)
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), `"code":"llm_key_missing"`) {
		t.Errorf("status %d: %s", r.Status, r.Body)
	}
}

// mustEndedTurn polls the session until turn id has ended.
func (s wbSession) mustEndedTurn(sessionPath, id string) agentMessageBody {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var se agentSessionBody
		s.MustJSON(http.MethodGet, sessionPath, "", http.StatusOK, &se)
		for _, m := range se.Messages {
			if m.ID == id && m.Status != "running" {
				return m
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("turn %s did not end: %+v", id, se.Messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
