package agent

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/llm"
)

// The kinds of live event the agent sends on its workbook's topic. Each
// carries what viewers need to show it, so rendering one needs no query.
const (
	// KindDelta carries streamed text of a turn (DeltaEvent), batched about
	// every 100 ms and split to fit NOTIFY's payload limit.
	KindDelta events.Kind = "agent.delta"
	// KindTool says a tool was called (status "called") or has run
	// ("done", "error"): ToolEvent.
	KindTool events.Kind = "agent.tool"
	// KindStep says a step committed, with its usage: StepEvent.
	KindStep events.Kind = "agent.step"
	// KindTurn says a turn started or ended: TurnEvent.
	KindTurn events.Kind = "agent.turn"
	// KindFilter asks the grids showing a table to apply a filter:
	// FilterEvent.
	KindFilter events.Kind = "agent.filter"
)

// DeltaEvent is the payload of KindDelta. Seq orders a turn's deltas.
type DeltaEvent struct {
	SessionID string `json:"session_id"`
	MessageID int64  `json:"message_id"`
	Step      int    `json:"step"`
	Seq       int    `json:"seq"`
	Text      string `json:"text"`
}

// ToolEvent is the payload of KindTool.
type ToolEvent struct {
	SessionID  string `json:"session_id"`
	MessageID  int64  `json:"message_id"`
	Step       int    `json:"step"`
	ToolCallID string `json:"tool_call_id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Error      string `json:"error,omitempty"`
}

// StepEvent is the payload of KindStep: the turn's totals so far, and how
// full the model's context window was on this step's call (PromptTokens of
// ContextLength; ContextLength is 0 when the model's window is unknown).
type StepEvent struct {
	SessionID     string  `json:"session_id"`
	MessageID     int64   `json:"message_id"`
	Step          int     `json:"step"`
	TokensIn      int64   `json:"tokens_in"`
	TokensOut     int64   `json:"tokens_out"`
	Cost          float64 `json:"cost"`
	PromptTokens  int64   `json:"prompt_tokens"`
	ContextLength int     `json:"context_length"`
}

// TurnEvent is the payload of KindTurn.
type TurnEvent = turnEvent

type turnEvent struct {
	SessionID string  `json:"session_id"`
	MessageID int64   `json:"message_id"`
	Status    string  `json:"status"`
	ErrorCode string  `json:"error_code,omitempty"`
	Error     string  `json:"error,omitempty"`
	TokensIn  int64   `json:"tokens_in"`
	TokensOut int64   `json:"tokens_out"`
	Cost      float64 `json:"cost"`
}

// FilterEvent is the payload of KindFilter.
type FilterEvent struct {
	SessionID string `json:"session_id"`
	MessageID int64  `json:"message_id"`
	TableID   string `json:"table_id"`
	Filter    string `json:"filter"`
}

// maxDeltaBytes is the most text one delta carries: JSON may escape a byte
// into six ("<" is \u003c), and 6 × 1000 stays under
// events.MaxPayloadBytes with the envelope.
const maxDeltaBytes = 1000

func send(ctx context.Context, ex events.Execer, workbookID string, kind events.Kind, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	// Every workbook event's data names its kind, as record-store events do.
	if len(b) > 2 && b[0] == '{' {
		b = append([]byte(`{"kind":"`+string(kind)+`",`), b[1:]...)
	}
	return events.Notify(ctx, ex, events.Event{Topic: events.WorkbookTopic(workbookID), Type: string(kind), Data: b})
}

func notifyTurn(ctx context.Context, ex events.Execer, workbookID string, e turnEvent) error {
	if len(e.Error) > 1000 {
		e.Error = truncateRunes(e.Error, 1000)
	}
	return send(ctx, ex, workbookID, KindTurn, e)
}

func notifyStep(ctx context.Context, ex events.Execer, t *turn, step int, st Step, u llm.Usage, contextLength int) error {
	for _, c := range st.ToolCalls {
		status, msg := "done", ""
		if c.Error != "" {
			status, msg = "error", truncateRunes(c.Error, 500)
		}
		if err := send(ctx, ex, t.workbookID, KindTool, ToolEvent{SessionID: t.sessionID, MessageID: t.id, Step: step,
			ToolCallID: truncateRunes(c.ID, 100), Name: c.Name, Status: status, Error: msg}); err != nil {
			return err
		}
	}
	return send(ctx, ex, t.workbookID, KindStep, StepEvent{SessionID: t.sessionID, MessageID: t.id, Step: step,
		TokensIn: t.in + u.PromptTokens, TokensOut: t.out + u.CompletionTokens, Cost: t.cost + u.Cost,
		PromptTokens: u.PromptTokens, ContextLength: contextLength})
}

// splitText cuts s into pieces of at most n bytes on rune boundaries.
func splitText(s string, n int) []string {
	var out []string
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// streamer sends a turn's streamed text to viewers in batches: the model's
// tokens are buffered, and a ticker sends what gathered every StreamEvery,
// in the event itself (no viewer queries anything to show it).
type streamer struct {
	s *Service
	t *turn

	mu       sync.Mutex
	buf      strings.Builder
	stepText strings.Builder
	step     int

	sendMu sync.Mutex
	seq    int
	// sentAt is when text was last sent: the first piece after a quiet
	// spell goes at once, the rest waits for the ticker.
	sentAt time.Time

	stop chan struct{}
	done chan struct{}
}

func newStreamer(s *Service, t *turn) *streamer {
	st := &streamer{s: s, t: t, stop: make(chan struct{}), done: make(chan struct{})}
	go st.run()
	return st
}

func (st *streamer) run() {
	defer close(st.done)
	tick := time.NewTicker(st.s.every)
	defer tick.Stop()
	for {
		select {
		case <-st.stop:
			return
		case <-tick.C:
			st.flush()
		}
	}
}

func (st *streamer) close() {
	close(st.stop)
	<-st.done
	st.flush()
}

func (st *streamer) startStep(i int) {
	st.flush()
	st.mu.Lock()
	st.step = i
	st.stepText.Reset()
	st.mu.Unlock()
}

// committed forgets the text of the step just committed.
func (st *streamer) committed() {
	st.mu.Lock()
	st.stepText.Reset()
	st.mu.Unlock()
}

// pending is the text of the step under way, not committed.
func (st *streamer) pending() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.stepText.String()
}

// on receives the model's stream.
func (st *streamer) on(ev llm.Event) error {
	if ev.Text != "" {
		st.mu.Lock()
		st.buf.WriteString(ev.Text)
		st.stepText.WriteString(ev.Text)
		st.mu.Unlock()
		st.sendMu.Lock()
		quiet := time.Since(st.sentAt) >= st.s.every
		st.sendMu.Unlock()
		if quiet {
			st.flush()
		}
	}
	if ev.ToolCall != nil {
		st.flush()
		st.mu.Lock()
		step := st.step
		st.mu.Unlock()
		st.notify(KindTool, ToolEvent{SessionID: st.t.sessionID, MessageID: st.t.id, Step: step,
			ToolCallID: truncateRunes(ev.ToolCall.ID, 100), Name: truncateRunes(ev.ToolCall.Name, 100), Status: "called"})
	}
	return nil
}

// flush sends the buffered text now.
func (st *streamer) flush() {
	st.sendMu.Lock()
	defer st.sendMu.Unlock()
	st.mu.Lock()
	text := st.buf.String()
	st.buf.Reset()
	step := st.step
	st.mu.Unlock()
	if text != "" {
		st.sentAt = time.Now()
	}
	for _, piece := range splitText(text, maxDeltaBytes) {
		st.seq++
		st.notifyLocked(KindDelta, DeltaEvent{SessionID: st.t.sessionID, MessageID: st.t.id, Step: step, Seq: st.seq, Text: piece})
	}
}

func (st *streamer) notify(kind events.Kind, payload any) {
	st.sendMu.Lock()
	defer st.sendMu.Unlock()
	st.notifyLocked(kind, payload)
}

// notifyLocked sends one event on the pool, at once: streamed text is not
// part of any transaction. A failure is logged; the text is in the turn's
// record once its step commits.
func (st *streamer) notifyLocked(kind events.Kind, payload any) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := send(ctx, st.s.pool, st.t.workbookID, kind, payload); err != nil {
		st.s.logger.Warn("agent: stream event", "kind", kind, "err", err)
	}
}
