package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/llmfake"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

type fixture struct {
	pool    *pgxpool.Pool
	store   *workbooks.Service
	agent   *agent.Service
	fake    *llmfake.Server
	owner   string
	wb      workbooks.Workbook
	table   workbooks.Table
	records []workbooks.Record
	client  *jobs.Client
}

type fixtureOpts struct {
	limits    agent.Limits
	noKey     bool
	noWorkers bool
	keys      agent.KeySource
	assets    agent.AssetSource
	pages     agent.PageLoader
}

// anyKey is a KeySource that gives every user the same key.
type anyKey string

func (k anyKey) UserKey(context.Context, string) (string, error) { return string(k), nil }

func mustFixture(t testing.TB, o fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{pool: testdb.New(t), fake: llmfake.New()}
	t.Cleanup(f.fake.Close)
	f.store = workbooks.NewService(f.pool)
	u, err := accounts.NewService(f.pool).SignUp(ctx, accounts.SignUpInput{Email: "agent@example.com", Name: "Agent", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	f.owner = u.ID
	if f.wb, err = f.store.CreateWorkbook(ctx, f.owner, "Shop"); err != nil {
		t.Fatal(err)
	}
	if f.table, err = f.store.CreateTable(ctx, f.owner, f.wb.ID, workbooks.TableInput{Name: "Products", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text}, {Name: "Price", Type: values.Number}, {Name: "Secret", Type: values.Text},
	}}); err != nil {
		t.Fatal(err)
	}
	secret, _ := f.table.Columns.Lookup("Secret")
	if f.table, err = f.store.SetHiddenColumns(ctx, f.owner, f.wb.ID, f.table.ID, []string{secret.ID}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		r, err := f.store.CreateRecord(ctx, f.owner, f.wb.ID, f.table.ID, map[string]any{"Title": fmt.Sprintf("shoe %d", i), "Price": i * 10, "Secret": "hidden-value"})
		if err != nil {
			t.Fatal(err)
		}
		f.records = append(f.records, r)
	}
	key := llmfake.Key
	if o.noKey {
		key = ""
	}
	client := llm.New(llm.Options{BaseURL: f.fake.BaseURL(), APIKey: key, DefaultModel: "fake/model",
		Models: []llm.Model{llm.ConfiguredModel("fake/model", 128000, 1, 2)}, MaxRetries: 2, MaxRetryWait: 2 * time.Second})
	if f.agent, err = agent.NewService(f.pool, f.store, client, agent.Options{Limits: o.limits, Keys: o.keys, Assets: o.assets, Pages: o.pages, StreamEvery: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if o.noWorkers {
		return f
	}
	opts := jobs.Options{Queues: map[string]int{"default": 1}, Agent: f.agent, NoPeriodic: true, Logger: slog.New(slog.DiscardHandler)}
	if f.client, err = jobs.NewClient(f.pool, opts); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.client.Stop(stop)
	})
	return f
}

// session starts a session and sends content in it, scoped to the table.
func (f *fixture) send(t testing.TB, content string, req agent.Request) (agent.Session, agent.Message) {
	t.Helper()
	se, err := f.agent.CreateSession(context.Background(), f.owner, f.wb.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if req.TableID == "" {
		req.TableID = f.table.ID
	}
	_, turn, err := f.agent.SendMessage(context.Background(), f.owner, f.wb.ID, se.ID, content, req)
	if err != nil {
		t.Fatal(err)
	}
	return se, turn
}

// waitTurn waits for the turn to end and returns it.
func (f *fixture) waitTurn(t testing.TB, se agent.Session, id int64, timeout time.Duration) agent.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, err := f.agent.FindSession(context.Background(), f.owner, f.wb.ID, se.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range s.Messages {
			if m.ID == id && m.Status != agent.StatusRunning {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("turn %d did not end within %s: %+v", id, timeout, s.Messages)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type suggestionRow struct {
	RecordID, Field, Source, Session, Model string
	Message                                 int64
	Value                                   string
}

func (f *fixture) suggestions(t *testing.T) []suggestionRow {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT record_id::text, coalesce(field, ''), source, coalesce(agent_session_id::text, ''),
		coalesce(agent_model, ''), coalesce(agent_message_id, 0), coalesce(value::text, '') FROM suggestions WHERE table_id = $1 ORDER BY record_id, field`, f.table.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []suggestionRow
	for rows.Next() {
		var s suggestionRow
		if err := rows.Scan(&s.RecordID, &s.Field, &s.Source, &s.Session, &s.Model, &s.Message, &s.Value); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// listen collects the events sent on the database's channel.
type listener struct {
	mu     sync.Mutex
	events []events.Event
}

func (f *fixture) listen(t *testing.T) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := f.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+events.Channel); err != nil {
		t.Fatal(err)
	}
	l := &listener{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := conn.Conn().WaitForNotification(ctx)
			if err != nil {
				return
			}
			var ev events.Event
			if json.Unmarshal([]byte(n.Payload), &ev) == nil {
				l.mu.Lock()
				l.events = append(l.events, ev)
				l.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		conn.Release()
	})
	return l
}

func (l *listener) of(kind events.Kind) []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []events.Event
	for _, ev := range l.events {
		if ev.Type == string(kind) {
			out = append(out, ev)
		}
	}
	return out
}

func call(id, name string, args any) llmfake.Call {
	b, _ := json.Marshal(args)
	return llmfake.Call{ID: id, Name: name, Arguments: string(b)}
}

// TestTurnSuggestsThroughToolsAndStreams: a turn reads records, suggests
// new titles through a tool, streams its text to viewers and ends; the
// suggestions carry the turn's provenance and the usage adds up to what
// the endpoint reported.
func TestTurnSuggestsThroughToolsAndStreams(t *testing.T) {
	f := mustFixture(t, fixtureOpts{})
	l := f.listen(t)
	r1, r2 := f.records[0], f.records[1]
	f.fake.Script(
		llmfake.Stream(llmfake.Turn{Text: []string{"Let me ", "look at ", "the records."}, Calls: []llmfake.Call{call("c1", "fetch_records", map[string]any{"filter": "Price >= 10"})},
			Prompt: 100, Complete: 10, Cost: "0.001"}),
		llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{call("c2", "suggest_updates", map[string]any{"updates": []any{
			map[string]any{"record_id": r1.ID, "fields": map[string]any{"Title": "Shoe One"}},
			map[string]any{"record_id": r2.ID, "fields": map[string]any{"Title": "Shoe Two"}},
		}})}, Prompt: 200, Complete: 20, Cost: "0.002"}),
		llmfake.Stream(llmfake.Turn{Text: []string{"I suggested ", "two <b>titles</b>."}, Prompt: 300, Complete: 30, Cost: "0.004"}),
	)
	se, turn := f.send(t, "Capitalise the titles", agent.Request{})
	m := f.waitTurn(t, se, turn.ID, 20*time.Second)
	if m.Status != agent.StatusDone || m.ErrorCode != "" {
		t.Fatalf("turn ended %s (%s: %s)", m.Status, m.ErrorCode, m.Error)
	}
	if want := "Let me look at the records.I suggested two <b>titles</b>."; m.Content != want {
		t.Errorf("content = %q, want %q", m.Content, want)
	}
	if len(m.Steps) != 3 || len(m.Steps[0].ToolCalls) != 1 || m.Steps[0].ToolCalls[0].Error != "" {
		t.Fatalf("steps = %+v", m.Steps)
	}
	if res := m.Steps[0].ToolCalls[0].Result; !strings.Contains(res, "shoe 1") || strings.Contains(res, "hidden-value") {
		t.Errorf("fetch result shows no record or a hidden column: %s", res)
	}
	if m.TokensIn != 600 || m.TokensOut != 60 || fmt.Sprintf("%.3f", m.Cost) != "0.007" {
		t.Errorf("usage = %d in, %d out, $%f; want 600, 60, 0.007", m.TokensIn, m.TokensOut, m.Cost)
	}
	s, err := f.agent.FindSession(context.Background(), f.owner, f.wb.ID, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.TokensIn != 600 || s.TokensOut != 60 || fmt.Sprintf("%.3f", s.Cost) != "0.007" || s.Title != "Capitalise the titles" {
		t.Errorf("session = %+v", s)
	}
	sugs := f.suggestions(t)
	if len(sugs) != 2 {
		t.Fatalf("suggestions = %+v", sugs)
	}
	for _, sg := range sugs {
		if sg.Source != workbooks.SourceAgent || sg.Session != se.ID || sg.Message != turn.ID || sg.Model != "fake/model" {
			t.Errorf("provenance = %+v", sg)
		}
	}
	// The system prompt has the table with its visible columns only.
	system := f.fake.Bodies()[0]["messages"].([]any)[0].(map[string]any)["content"].(string)
	if !strings.Contains(system, `"Title" text`) || strings.Contains(system, "Secret") || strings.Contains(system, "hidden-value") || !strings.Contains(system, "shoe 3") {
		t.Errorf("system prompt:\n%s", system)
	}
	// The text reached viewers in the events themselves.
	var streamed strings.Builder
	waitFor(t, "the turn's end event", func() bool { return len(l.of(agent.KindTurn)) >= 2 })
	for _, ev := range l.of(agent.KindDelta) {
		var d agent.DeltaEvent
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.MessageID != turn.ID || ev.Topic != events.WorkbookTopic(f.wb.ID) {
			t.Errorf("delta %+v on %s", d, ev.Topic)
		}
		streamed.WriteString(d.Text)
	}
	if streamed.String() != m.Content {
		t.Errorf("streamed %q, stored %q", streamed.String(), m.Content)
	}
	if n := len(l.of(agent.KindTool)); n < 4 { // called + done, twice
		t.Errorf("%d tool events, want 4", n)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInvalidToolArgumentsGoBackToTheModel: broken JSON, unknown fields,
// an unknown tool and an unknown record each come back to the model as an
// error it corrects; the turn goes on.
func TestInvalidToolArgumentsGoBackToTheModel(t *testing.T) {
	f := mustFixture(t, fixtureOpts{})
	r1 := f.records[0]
	f.fake.Script(
		llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{
			{ID: "bad1", Name: "suggest_updates", Arguments: `{"updates": [`},
			call("bad2", "suggest_updates", map[string]any{"updatez": 1}),
			call("bad3", "drop_database", map[string]any{}),
			call("bad4", "suggest_updates", map[string]any{"updates": []any{map[string]any{"record_id": "00000000-0000-0000-0000-000000000000", "fields": map[string]any{"Title": "x"}}}}),
			call("bad5", "suggest_updates", map[string]any{"updates": []any{map[string]any{"record_id": r1.ID, "fields": map[string]any{"Nope": "x"}}}}),
		}, Prompt: 10, Complete: 1}),
		llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{call("good", "suggest_updates", map[string]any{"updates": []any{map[string]any{"record_id": r1.ID, "fields": map[string]any{"Title": "Fixed"}}}})}, Prompt: 10, Complete: 1}),
		llmfake.Stream(llmfake.Turn{Text: []string{"Done."}, Prompt: 10, Complete: 1}),
	)
	se, turn := f.send(t, "Fix it", agent.Request{})
	m := f.waitTurn(t, se, turn.ID, 20*time.Second)
	if m.Status != agent.StatusDone {
		t.Fatalf("turn ended %s (%s)", m.Status, m.Error)
	}
	for _, c := range m.Steps[0].ToolCalls {
		if c.Error == "" || !strings.Contains(c.Result, "error") {
			t.Errorf("call %s: no error: %+v", c.ID, c)
		}
	}
	// The model saw each error as the result of its call.
	second := f.fake.Bodies()[1]["messages"].([]any)
	tools := 0
	for _, raw := range second {
		msg := raw.(map[string]any)
		if msg["role"] == "tool" {
			tools++
			if !strings.Contains(msg["content"].(string), "error") {
				t.Errorf("tool message without the error: %v", msg)
			}
		}
	}
	if tools != 5 {
		t.Errorf("%d tool results sent back, want 5", tools)
	}
	if sugs := f.suggestions(t); len(sugs) != 1 || !strings.Contains(sugs[0].Value, "Fixed") {
		t.Errorf("suggestions = %+v", sugs)
	}
}

// TestEditFieldOperations: set, append, insert at @@ and find-and-replace
// build on the pending suggestion of the field.
func TestEditFieldOperations(t *testing.T) {
	f := mustFixture(t, fixtureOpts{})
	r := f.records[0].ID
	edit := func(id, op string, extra map[string]any) llmfake.Call {
		args := map[string]any{"record_id": r, "field": "Title", "op": op}
		for k, v := range extra {
			args[k] = v
		}
		return call(id, "edit_field", args)
	}
	f.fake.Script(
		llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{
			edit("e1", "set", map[string]any{"text": "Red @@ shoe"}),
			edit("e2", "insert", map[string]any{"text": "running"}),
			edit("e3", "append", map[string]any{"text": "!"}),
			edit("e4", "replace", map[string]any{"find": "shoe", "replace": "boot"}),
			edit("e5", "insert", map[string]any{"text": "x"}), // no marker left
		}}),
		llmfake.Stream(llmfake.Turn{Text: []string{"ok"}}),
	)
	se, turn := f.send(t, "Edit", agent.Request{})
	m := f.waitTurn(t, se, turn.ID, 20*time.Second)
	calls := m.Steps[0].ToolCalls
	for _, c := range calls[:4] {
		if c.Error != "" {
			t.Errorf("%s failed: %s", c.ID, c.Error)
		}
	}
	if calls[4].Error == "" {
		t.Errorf("an insert without a marker succeeded: %+v", calls[4])
	}
	if sugs := f.suggestions(t); len(sugs) != 1 || sugs[0].Value != `"Red running boot!"` {
		t.Errorf("suggestions = %+v", sugs)
	}
}

// TestStopEndsARunningTurnWithinASecond: a model that streams forever is
// stopped by StopTurn; the turn keeps what it said.
func TestStopEndsARunningTurnWithinASecond(t *testing.T) {
	f := mustFixture(t, fixtureOpts{})
	f.fake.Script(llmfake.Forever(10 * time.Millisecond))
	se, turn := f.send(t, "Go on forever", agent.Request{})
	select {
	case <-f.fake.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("the turn never called the model")
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := f.agent.StopTurn(context.Background(), f.owner, f.wb.ID, se.ID); err != nil {
		t.Fatal(err)
	}
	m := f.waitTurn(t, se, turn.ID, time.Second)
	if m.Status != agent.StatusStopped || !strings.Contains(m.Content, "and on") {
		t.Errorf("turn = %s %q", m.Status, m.Content)
	}
	// Another message may follow at once.
	f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{"hi"}}))
	if _, _, err := f.agent.SendMessage(context.Background(), f.owner, f.wb.ID, se.ID, "again", agent.Request{}); err != nil {
		t.Fatal(err)
	}
}

// TestStopBeforeTheJobRuns ends the turn at once.
func TestStopBeforeTheJobRuns(t *testing.T) {
	f := mustFixture(t, fixtureOpts{noWorkers: true})
	se, turn := f.send(t, "Hello", agent.Request{})
	m, err := f.agent.StopTurn(context.Background(), f.owner, f.wb.ID, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != turn.ID || m.Status != agent.StatusStopped {
		t.Errorf("stopped turn = %+v", m)
	}
	if _, err := f.agent.StopTurn(context.Background(), f.owner, f.wb.ID, se.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("second stop: %v", err)
	}
}

// TestLimitsEndATurn: steps and money.
func TestLimitsEndATurn(t *testing.T) {
	loop := llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{call("f", "fetch_records", map[string]any{})}, Prompt: 100, Complete: 10, Cost: "0.5"})
	for name, tc := range map[string]struct {
		limits agent.Limits
		steps  int
		want   string
	}{
		"steps":  {agent.Limits{MaxSteps: 3}, 3, "3 steps"},
		"cost":   {agent.Limits{MaxCost: 1}, 2, "spending $1.0000"},
		"tokens": {agent.Limits{MaxTokens: 200}, 2, "220 tokens"},
	} {
		t.Run(name, func(t *testing.T) {
			f := mustFixture(t, fixtureOpts{limits: tc.limits})
			f.fake.Script(loop)
			se, turn := f.send(t, "Loop", agent.Request{})
			m := f.waitTurn(t, se, turn.ID, 20*time.Second)
			if m.Status != agent.StatusStopped || m.ErrorCode != "limit_reached" || !strings.Contains(m.Error, tc.want) || len(m.Steps) != tc.steps {
				t.Errorf("turn = %s %s %q after %d steps", m.Status, m.ErrorCode, m.Error, len(m.Steps))
			}
			if f.fake.Calls() != tc.steps {
				t.Errorf("%d model calls, want %d", f.fake.Calls(), tc.steps)
			}
		})
	}
}

// TestWallTimeEndsATurn: a model that never finishes is cut off at the
// turn's longest time, and the turn says so.
func TestWallTimeEndsATurn(t *testing.T) {
	f := mustFixture(t, fixtureOpts{limits: agent.Limits{MaxWall: 500 * time.Millisecond}})
	f.fake.Script(llmfake.Forever(10 * time.Millisecond))
	se, turn := f.send(t, "Forever", agent.Request{})
	m := f.waitTurn(t, se, turn.ID, 20*time.Second)
	if m.Status != agent.StatusStopped || m.ErrorCode != "limit_reached" || !strings.Contains(m.Error, "longest a turn may") || !strings.Contains(m.Content, "and on") {
		t.Errorf("turn = %s %s %q %q", m.Status, m.ErrorCode, m.Error, m.Content)
	}
}

// TestModelErrorsEndTheTurnWithACode: 429 with a long Retry-After, a
// context too large, an unknown key; and no key at all refuses the message.
func TestModelErrorsEndTheTurnWithACode(t *testing.T) {
	for name, tc := range map[string]struct {
		reply llmfake.Reply
		keys  agent.KeySource
		code  string
	}{
		"rate limited": {reply: llmfake.Status(http.StatusTooManyRequests, map[string]string{"Retry-After": "120"}, `{"error":{"message":"slow down","code":429}}`), code: "rate_limited"},
		"context":      {reply: llmfake.Status(http.StatusBadRequest, nil, `{"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}}`), code: "context_too_large"},
		"bad user key": {reply: llmfake.Stream(llmfake.Turn{Text: []string{"never"}}), keys: anyKey("sk-unknown-key"), code: "auth"},
	} {
		t.Run(name, func(t *testing.T) {
			f := mustFixture(t, fixtureOpts{keys: tc.keys})
			f.fake.Script(tc.reply)
			se, turn := f.send(t, "Hi", agent.Request{})
			m := f.waitTurn(t, se, turn.ID, 20*time.Second)
			if m.Status != agent.StatusFailed || m.ErrorCode != tc.code || m.Error == "" {
				t.Errorf("turn = %s %s %q", m.Status, m.ErrorCode, m.Error)
			}
		})
	}
	t.Run("retried 429", func(t *testing.T) {
		f := mustFixture(t, fixtureOpts{})
		f.fake.Script(llmfake.Status(http.StatusTooManyRequests, map[string]string{"Retry-After": "0.05"}, `{"error":{"message":"slow down"}}`),
			llmfake.Stream(llmfake.Turn{Text: []string{"after the wait"}}))
		se, turn := f.send(t, "Hi", agent.Request{})
		if m := f.waitTurn(t, se, turn.ID, 20*time.Second); m.Status != agent.StatusDone || m.Content != "after the wait" {
			t.Errorf("turn = %s %q", m.Status, m.Content)
		}
	})
	t.Run("no key", func(t *testing.T) {
		f := mustFixture(t, fixtureOpts{noKey: true, noWorkers: true})
		se, err := f.agent.CreateSession(context.Background(), f.owner, f.wb.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = f.agent.SendMessage(context.Background(), f.owner, f.wb.ID, se.ID, "Hi", agent.Request{})
		if !apperr.Is(err, apperr.NoModelKey) || !strings.Contains(apperr.MessageOf(err), "Settings") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("the user's own key", func(t *testing.T) {
		f := mustFixture(t, fixtureOpts{noKey: true, keys: anyKey("sk-users-own-key")})
		f.fake.AddKey("sk-users-own-key")
		f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{"with your key"}}))
		se, turn := f.send(t, "Hi", agent.Request{})
		if m := f.waitTurn(t, se, turn.ID, 20*time.Second); m.Status != agent.StatusDone {
			t.Errorf("turn = %s %s", m.Status, m.Error)
		}
	})
}

// TestAStepWhoseCommitFailsWritesNothing: the suggestions of a step commit
// with the step's record and usage, or not at all.
func TestAStepWhoseCommitFailsWritesNothing(t *testing.T) {
	f := mustFixture(t, fixtureOpts{noWorkers: true})
	r1 := f.records[0]
	f.fake.Script(llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{call("c1", "suggest_updates", map[string]any{"updates": []any{map[string]any{"record_id": r1.ID, "fields": map[string]any{"Title": "New"}}}})}, Prompt: 10, Complete: 5, Cost: "0.01"}))
	f.agent.SetBeforeCommit(func(ctx context.Context, tx pgx.Tx) error { return errors.New("the commit fails") })
	se, turn := f.send(t, "Rename", agent.Request{})
	err := f.agent.RunTurn(context.Background(), agent.TurnArgs{MessageID: turn.ID}, true)
	if err == nil || !strings.Contains(err.Error(), "the commit fails") {
		t.Fatalf("RunTurn = %v", err)
	}
	if sugs := f.suggestions(t); len(sugs) != 0 {
		t.Errorf("suggestions written without their step: %+v", sugs)
	}
	m := f.waitTurn(t, se, turn.ID, time.Second)
	if m.Status != agent.StatusFailed || len(m.Steps) != 0 || m.TokensIn != 0 || m.ErrorCode != "internal" {
		t.Errorf("turn = %+v", m)
	}
	var effects int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM agent_tool_effects`).Scan(&effects); err != nil || effects != 0 {
		t.Errorf("%d tool effects (%v)", effects, err)
	}
}

// TestAResumedTurnWritesItsSuggestionsOnce: an attempt that dies after a
// step committed is resumed by the next attempt from that step: the model
// is asked again with the step's results, and the step's suggestions are
// not written again.
func TestAResumedTurnWritesItsSuggestionsOnce(t *testing.T) {
	f := mustFixture(t, fixtureOpts{noWorkers: true})
	r1 := f.records[0]
	se, turn := f.send(t, "Rename", agent.Request{})
	// The first attempt dies while the model streams its second reply.
	f.fake.Script(
		llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{call("c1", "suggest_updates", map[string]any{"updates": []any{map[string]any{"record_id": r1.ID, "fields": map[string]any{"Title": "Once"}}}})}, Prompt: 10, Complete: 5}),
		llmfake.Forever(10*time.Millisecond),
	)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-f.fake.Started()
		<-f.fake.Started()
		cancel()
	}()
	if err := f.agent.RunTurn(ctx, agent.TurnArgs{MessageID: turn.ID}, false); err == nil {
		t.Fatal("the cut-off attempt returned no error")
	}
	if sugs := f.suggestions(t); len(sugs) != 1 {
		t.Fatalf("after the first attempt: %+v", sugs)
	}
	f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{"done"}, Prompt: 20, Complete: 5}))
	if err := f.agent.RunTurn(context.Background(), agent.TurnArgs{MessageID: turn.ID}, false); err != nil {
		t.Fatal(err)
	}
	m := f.waitTurn(t, se, turn.ID, time.Second)
	if m.Status != agent.StatusDone || len(m.Steps) != 2 || m.Content != "done" {
		t.Errorf("turn = %+v", m)
	}
	last := f.fake.Bodies()[len(f.fake.Bodies())-1]["messages"].([]any)
	if msg := last[len(last)-1].(map[string]any); msg["role"] != "tool" || !strings.Contains(msg["content"].(string), "updates_suggested") {
		t.Errorf("the resumed call does not end with the committed tool result: %v", msg)
	}
	if sugs := f.suggestions(t); len(sugs) != 1 {
		t.Errorf("suggestions = %+v", sugs)
	}
}

// TestLongStreamedTextIsSplitToFitNotify: text that JSON escapes six-fold
// and multi-byte runes travel in deltas under NOTIFY's payload limit, in
// order, and add up to the stored reply.
func TestLongStreamedTextIsSplitToFitNotify(t *testing.T) {
	f := mustFixture(t, fixtureOpts{})
	l := f.listen(t)
	long := strings.Repeat("<é>&\u2028", 4000) // 24,000 bytes of text
	f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{long[:9001], long[9001:]}}))
	se, turn := f.send(t, "Say a lot", agent.Request{})
	m := f.waitTurn(t, se, turn.ID, 20*time.Second)
	if m.Status != agent.StatusDone || m.Content != long {
		t.Fatalf("turn = %s, %d bytes", m.Status, len(m.Content))
	}
	waitFor(t, "every delta", func() bool {
		n := 0
		for _, ev := range l.of(agent.KindDelta) {
			var d agent.DeltaEvent
			_ = json.Unmarshal(ev.Data, &d)
			n += len(d.Text)
		}
		return n == len(long)
	})
	var got strings.Builder
	seq := 0
	for _, ev := range l.of(agent.KindDelta) {
		var d agent.DeltaEvent
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Seq <= seq {
			t.Errorf("delta %d after %d", d.Seq, seq)
		}
		seq = d.Seq
		got.WriteString(d.Text)
	}
	if got.String() != long {
		t.Error("the deltas do not add up to the reply")
	}
}

// TestDeletingASessionEndsItsTurn: the turn of a deleted session stops
// calling the model and writes nothing more.
func TestDeletingASessionEndsItsTurn(t *testing.T) {
	f := mustFixture(t, fixtureOpts{})
	f.fake.Script(llmfake.Forever(10 * time.Millisecond))
	se, _ := f.send(t, "Go on", agent.Request{})
	<-f.fake.Started()
	if err := f.agent.DeleteSession(context.Background(), f.owner, f.wb.ID, se.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job to end", func() bool {
		var n int
		_ = f.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE state IN ('running', 'available', 'retryable')`).Scan(&n)
		return n == 0
	})
	calls := f.fake.Calls()
	time.Sleep(200 * time.Millisecond)
	if f.fake.Calls() != calls {
		t.Error("the turn of a deleted session went on calling the model")
	}
	if _, err := f.agent.FindSession(context.Background(), f.owner, f.wb.ID, se.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("deleted session: %v", err)
	}
}

// assetList is an AssetSource over a fixed list: the selected ones and the
// auto-included ones.
type assetList struct {
	assets []agent.Asset
	auto   map[string]bool
}

func (l assetList) AssetsForTurn(_ context.Context, _ string, selected []string) ([]agent.Asset, error) {
	var out []agent.Asset
	for _, a := range l.assets {
		if l.auto[a.ID] || slices.Contains(selected, a.ID) {
			out = append(out, a)
		}
	}
	return out, nil
}

// httpPages loads pages with a plain GET: the real loader adds the address
// checks and limits.
type httpPages struct{}

func (httpPages) Load(ctx context.Context, url string) (agent.LoadedPage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return agent.LoadedPage{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return agent.LoadedPage{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return agent.LoadedPage{URL: url, Title: "Page", Text: string(b)}, err
}

// TestContextAndPages: the prompt holds the scope (field, selected record,
// mentioned columns), the records in view within the token budget, the
// selected and auto-included prompt assets and not the others; a page is
// loaded through the PageLoader.
func TestContextAndPages(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Style guide: titles in Title Case.")
	}))
	t.Cleanup(page.Close)
	f := mustFixture(t, fixtureOpts{limits: agent.Limits{ContextTokens: 30}, pages: httpPages{}, assets: assetList{
		assets: []agent.Asset{{ID: "a1", Name: "Voice", Text: "Write warmly."}, {ID: "a2", Name: "Legal", Text: "Never promise."}, {ID: "a3", Name: "Unused", Text: "Not picked."}},
		auto:   map[string]bool{"a2": true},
	}})
	f.fake.Script(
		llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{call("p1", "load_page", map[string]any{"url": page.URL})}}),
		llmfake.Stream(llmfake.Turn{Text: []string{"Read it."}}),
	)
	sel := f.records[2]
	se, turn := f.send(t, "Follow the guide", agent.Request{RecordIDs: []string{sel.ID}, Field: "Title", Columns: []string{"Price"}, Assets: []string{"a1"}, Filter: "Price > 0"})
	m := f.waitTurn(t, se, turn.ID, 20*time.Second)
	if m.Status != agent.StatusDone || !strings.Contains(m.Steps[0].ToolCalls[0].Result, "Title Case") {
		t.Fatalf("turn = %+v", m)
	}
	system := f.fake.Bodies()[0]["messages"].([]any)[0].(map[string]any)["content"].(string)
	for _, want := range []string{`about the field "Title"`, "mention the columns: Price", sel.ID, "Write warmly.", "Never promise.", "filter is: Price > 0", "Records in view: 1 of about 3"} {
		if !strings.Contains(system, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, system)
		}
	}
	if strings.Contains(system, "Not picked.") {
		t.Error("the prompt holds an asset nobody picked")
	}
}

// TestASecondMessageHasItsOwnScopeAndTheHistory: the model gets the
// conversation so far, and the scope of the new message only.
func TestASecondMessageHasItsOwnScopeAndTheHistory(t *testing.T) {
	f := mustFixture(t, fixtureOpts{})
	f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{"First answer."}}))
	se, turn := f.send(t, "First question", agent.Request{RecordIDs: []string{f.records[0].ID}, Field: "Title"})
	f.waitTurn(t, se, turn.ID, 20*time.Second)
	f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{"Second answer."}}))
	_, second, err := f.agent.SendMessage(context.Background(), f.owner, f.wb.ID, se.ID, "Second question", agent.Request{TableID: f.table.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.waitTurn(t, se, second.ID, 20*time.Second)
	msgs := f.fake.Bodies()[1]["messages"].([]any)
	var roles, contents []string
	for _, raw := range msgs[1:] {
		m := raw.(map[string]any)
		roles = append(roles, m["role"].(string))
		contents = append(contents, fmt.Sprint(m["content"]))
	}
	if strings.Join(roles, ",") != "user,assistant,user" || strings.Join(contents, "|") != "First question|First answer.|Second question" {
		t.Errorf("conversation = %v %v", roles, contents)
	}
	system := msgs[0].(map[string]any)["content"].(string)
	if strings.Contains(system, "selected or mentioned") || strings.Contains(system, "about the field") {
		t.Errorf("the second turn kept the first message's scope:\n%s", system)
	}
}
