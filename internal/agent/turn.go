package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// QueueAgent is the River queue agent turns run in.
const QueueAgent = "agent"

// TurnArgs is the job that runs one assistant turn.
type TurnArgs struct {
	MessageID int64 `json:"message_id"`
}

// Kind identifies the job in River.
func (TurnArgs) Kind() string { return "agent_turn" }

// InsertOpts puts turns in their queue. An attempt that fails on our side
// resumes from the turn's last committed step.
func (TurnArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAgent, MaxAttempts: 3}
}

// Request is what a user's message asks for besides its text: the model,
// the scope (the table in view, the selected records, one field), the grid's
// view filter, the tools enabled, the prompt assets picked and the columns
// mentioned.
type Request struct {
	Model     string   `json:"model,omitempty"`
	TableID   string   `json:"table_id,omitempty"`
	RecordIDs []string `json:"record_ids,omitempty"`
	Field     string   `json:"field,omitempty"`
	Filter    string   `json:"filter,omitempty"`
	Tools     []string `json:"tools,omitempty"`
	Assets    []string `json:"assets,omitempty"`
	Columns   []string `json:"columns,omitempty"`
}

// Caps on what a message may carry.
const (
	maxContent    = 20000
	maxRecordRefs = 100
	maxAssetRefs  = 20
	maxColumnRefs = 50
	maxFilterLen  = 2000
	maxModelLen   = 200
)

// validate checks r and fills defaults. Errors: Invalid.
func (r *Request) validate() error {
	var fe []apperr.FieldError
	bad := func(field, msg string) { fe = append(fe, apperr.FieldError{Field: field, Message: msg}) }
	if len(r.Model) > maxModelLen || strings.ContainsAny(r.Model, " \t\r\n") {
		bad("model", "is not a model id")
	}
	if r.TableID != "" && !ids.ValidUUID(r.TableID) {
		bad("scope", "is not a table id")
	}
	if len(r.RecordIDs) > maxRecordRefs {
		bad("record_ids", fmt.Sprintf("names more than %d records", maxRecordRefs))
	}
	for _, id := range r.RecordIDs {
		if !ids.ValidUUID(id) {
			bad("record_ids", "contains something that is not a record id")
			break
		}
	}
	if len(r.Field) > 200 {
		bad("field", "is too long")
	}
	if len(r.Filter) > maxFilterLen {
		bad("filter", fmt.Sprintf("is longer than %d characters", maxFilterLen))
	}
	for _, t := range r.Tools {
		if _, ok := toolByName[t]; !ok {
			bad("tools", fmt.Sprintf("has an unknown tool %q", truncateRunes(t, 40)))
			break
		}
	}
	if len(r.Assets) > maxAssetRefs {
		bad("assets", fmt.Sprintf("names more than %d assets", maxAssetRefs))
	}
	if len(r.Columns) > maxColumnRefs {
		bad("columns", fmt.Sprintf("names more than %d columns", maxColumnRefs))
	}
	for _, c := range r.Columns {
		if len(c) > 200 {
			bad("columns", "has a name that is too long")
			break
		}
	}
	if (r.Field != "" || len(r.RecordIDs) > 0) && r.TableID == "" {
		bad("scope", "is required with record_ids or field")
	}
	if len(fe) > 0 {
		return apperr.InvalidFields("Please correct the message.", fe...)
	}
	return nil
}

// SendMessage adds a user's message to one of the owner's sessions and
// starts the assistant's turn as a job. It returns the user's message and
// the running turn. Errors: NotFound (session, scope table), Invalid,
// Conflict (a turn is running), NoModelKey.
func (s *Service) SendMessage(ctx context.Context, ownerID, workbookID, sessionID, content string, req Request) (Message, Message, error) {
	se, err := s.session(ctx, ownerID, workbookID, sessionID)
	if err != nil {
		return Message{}, Message{}, err
	}
	content = strings.TrimSpace(content)
	if content == "" {
		return Message{}, Message{}, apperr.InvalidFields("Please write a message.", apperr.FieldError{Field: "content", Message: "is empty"})
	}
	if utf8.RuneCountInString(content) > maxContent || !utf8.ValidString(content) {
		return Message{}, Message{}, apperr.InvalidFields("Please shorten the message.", apperr.FieldError{Field: "content", Message: fmt.Sprintf("is longer than %d characters", maxContent)})
	}
	if err := req.validate(); err != nil {
		return Message{}, Message{}, err
	}
	if req.TableID != "" {
		t, err := s.store.FindTable(ctx, ownerID, workbookID, req.TableID)
		if err != nil {
			return Message{}, Message{}, err
		}
		if req.Field != "" {
			if _, ok := t.Columns.Lookup(req.Field); !ok {
				return Message{}, Message{}, apperr.InvalidFields("Please correct the message.", apperr.FieldError{Field: "field", Message: "is not a column of the table"})
			}
		}
	}
	if err := s.checkKey(ctx, ownerID); err != nil {
		return Message{}, Message{}, err
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return Message{}, Message{}, err
	}
	var user, turn db.AgentMessage
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.RunningAgentTurn(ctx, se.ID); err == nil {
			return errTurnRunning
		} else if !db.IsNoRows(err) {
			return err
		}
		user, err = q.InsertAgentMessage(ctx, db.InsertAgentMessageParams{SessionID: se.ID, Role: "user", Content: content, Request: reqJSON, Model: req.Model, Status: StatusDone})
		if err != nil {
			return err
		}
		turn, err = q.InsertAgentMessage(ctx, db.InsertAgentMessageParams{SessionID: se.ID, Role: "assistant", Request: []byte("{}"), Model: req.Model, Status: StatusRunning})
		if err != nil {
			return err
		}
		meta, err := json.Marshal(map[string]string{"owner_id": ownerID})
		if err != nil {
			return err
		}
		res, err := s.river.InsertTx(ctx, tx, TurnArgs{MessageID: turn.ID}, &river.InsertOpts{Metadata: meta})
		if err != nil {
			return fmt.Errorf("agent: enqueue turn: %w", err)
		}
		if err := q.SetAgentMessageJob(ctx, db.SetAgentMessageJobParams{ID: turn.ID, JobID: &res.Job.ID}); err != nil {
			return err
		}
		turn.JobID = &res.Job.ID
		if se.Title == "New chat" {
			if _, err := q.RenameAgentSession(ctx, db.RenameAgentSessionParams{Title: titleFrom(content), ID: se.ID, WorkbookID: workbookID, OwnerID: ownerID}); err != nil {
				return err
			}
		}
		return notifyTurn(ctx, tx, workbookID, turnEvent{SessionID: se.ID, MessageID: turn.ID, Status: StatusRunning})
	})
	if db.IsUniqueViolation(err) {
		err = errTurnRunning
	}
	if err != nil {
		return Message{}, Message{}, wrap("send message", err)
	}
	return messageFromRow(user), messageFromRow(turn), nil
}

var errTurnRunning = apperr.New(apperr.Conflict, "The agent is still answering: wait for it, or stop it, before sending another message.")

func wrap(action string, err error) error {
	if err == nil || apperr.KindOf(err) != apperr.Internal {
		return err
	}
	return fmt.Errorf("agent: %s: %w", action, err)
}

func titleFrom(content string) string {
	t := strings.Join(strings.Fields(content), " ")
	return truncateRunes(t, 60)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// checkKey refuses a message no key could answer. Errors: NoModelKey.
func (s *Service) checkKey(ctx context.Context, ownerID string) error {
	key, err := s.userKey(ctx, ownerID)
	if err != nil {
		return err
	}
	if key == "" && !s.llm.HasServerKey() {
		return apperr.New(apperr.NoModelKey, "%s", (&llm.Error{Kind: llm.KindNoKey}).UserMessage())
	}
	return nil
}

func (s *Service) userKey(ctx context.Context, ownerID string) (string, error) {
	if s.keys == nil {
		return "", nil
	}
	key, err := s.keys.UserKey(ctx, ownerID)
	if err != nil {
		return "", fmt.Errorf("agent: the user's key: %w", err)
	}
	return key, nil
}

// StopTurn stops the running turn of one of the owner's sessions: the
// worker running it is told at once (River's remote cancel) and ends it
// with what it has said so far; a turn whose job has not started, or whose
// process is gone, is ended here. It returns the stopped turn, or NotFound
// when none runs.
func (s *Service) StopTurn(ctx context.Context, ownerID, workbookID, sessionID string) (Message, error) {
	se, err := s.session(ctx, ownerID, workbookID, sessionID)
	if err != nil {
		return Message{}, err
	}
	running, err := s.q.RunningAgentTurn(ctx, se.ID)
	if db.IsNoRows(err) {
		return Message{}, apperr.New(apperr.NotFound, "No turn of this session is running.")
	}
	if err != nil {
		return Message{}, fmt.Errorf("agent: running turn: %w", err)
	}
	endHere := running.JobID == nil
	if !endHere {
		job, err := s.river.JobCancel(ctx, *running.JobID)
		switch {
		case errors.Is(err, river.ErrNotFound):
			endHere = true
		case err != nil:
			return Message{}, fmt.Errorf("agent: cancel turn: %w", err)
		case job.FinalizedAt != nil:
			endHere = true
		default:
			// The worker ends the turn, unless its process is gone.
			err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
				rescued, err := joblease.Rescue(ctx, tx, joblease.RescueParams{Kinds: []string{TurnArgs{}.Kind()}, StaleAfter: s.lease.Silent(), JobID: job.ID})
				if err != nil {
					return err
				}
				endHere = len(rescued) > 0
				return nil
			})
			if err != nil {
				return Message{}, err
			}
		}
	}
	if endHere {
		if err := s.finish(ctx, se.WorkbookID, running.ID, se.ID, StatusStopped, "", "", "", llm.Usage{}); err != nil {
			return Message{}, err
		}
	}
	// The worker ends the turn within a second: answer with the turn as it
	// ended, or as it stands if the worker is slower than that.
	deadline := time.Now().Add(stopWait)
	for {
		row, err := s.q.GetAgentMessage(ctx, db.GetAgentMessageParams{ID: running.ID, OwnerID: ownerID})
		if err != nil {
			return Message{}, fmt.Errorf("agent: stopped turn: %w", err)
		}
		if row.Status != StatusRunning || time.Now().After(deadline) {
			return messageFromRow(row), nil
		}
		select {
		case <-ctx.Done():
			return messageFromRow(row), nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stopWait is how long StopTurn waits for the worker to end the turn.
const stopWait = 1500 * time.Millisecond

// EndAbandonedTurn ends a turn whose job the rescuer cancelled or discarded
// (its process died with no attempt left, or a stop was asked meanwhile),
// inside the rescue's transaction.
func (s *Service) EndAbandonedTurn(ctx context.Context, tx pgx.Tx, args []byte, cancelled bool) error {
	var a TurnArgs
	if err := json.Unmarshal(args, &a); err != nil {
		return fmt.Errorf("agent: decode job args: %w", err)
	}
	row, err := db.New(tx).GetAgentTurn(ctx, a.MessageID)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	status, code, msg := StatusFailed, "interrupted", "The server running this answer went away and no retry was left; the suggestions it made so far are kept."
	if cancelled {
		status, code, msg = StatusStopped, "", ""
	}
	return s.finishTx(ctx, tx, row.WorkbookID, a.MessageID, row.AgentMessage.SessionID, status, "", code, msg, llm.Usage{})
}

// finish ends a running turn; a turn that has ended already is left alone.
func (s *Service) finish(ctx context.Context, workbookID string, messageID int64, sessionID, status, partial, code, msg string, u llm.Usage) error {
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		return s.finishTx(ctx, tx, workbookID, messageID, sessionID, status, partial, code, msg, u)
	})
}

func (s *Service) finishTx(ctx context.Context, tx pgx.Tx, workbookID string, messageID int64, sessionID, status, partial, code, msg string, u llm.Usage) error {
	q := db.New(tx)
	p := db.FinishAgentTurnParams{ID: messageID, Status: status, Text: partial, TokensIn: u.PromptTokens, TokensOut: u.CompletionTokens, Cost: u.Cost}
	if code != "" {
		p.ErrorCode = &code
	}
	if msg != "" {
		p.Error = &msg
	}
	row, err := q.FinishAgentTurn(ctx, p)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: finish turn: %w", err)
	}
	if u.PromptTokens != 0 || u.CompletionTokens != 0 || u.Cost != 0 {
		if err := q.AddAgentSessionUsage(ctx, db.AddAgentSessionUsageParams{ID: sessionID, TokensIn: u.PromptTokens, TokensOut: u.CompletionTokens, Cost: u.Cost}); err != nil {
			return err
		}
	}
	return notifyTurn(ctx, tx, workbookID, turnEvent{SessionID: sessionID, MessageID: messageID, Status: status, ErrorCode: code, Error: msg,
		TokensIn: row.TokensIn, TokensOut: row.TokensOut, Cost: row.Cost})
}

// turn is a running turn as its job sees it.
type turn struct {
	id         int64
	sessionID  string
	workbookID string
	ownerID    string
	started    time.Time
	req        Request
	model      string
	apiKey     string
	steps      []Step
	in, out    int64
	cost       float64
	wb         workbooks.Workbook
	tools      []tool
	// stepEdits are the values edit_field suggested in the step under way,
	// by "record/column", which its later edits build on.
	stepEdits map[string]string
}

// RunTurn runs (or resumes) the turn of args: it calls the model, runs the
// tools it calls, and commits each step with its suggestions and usage,
// until the model answers without calling a tool, a limit is reached, the
// turn is stopped, or the model fails. lastAttempt says whether River will
// retry a failure on our side.
func (s *Service) RunTurn(ctx context.Context, args TurnArgs, lastAttempt bool) error {
	t, history, err := s.loadTurn(ctx, args.MessageID)
	if err != nil || t == nil {
		return err
	}
	wall, cancel := context.WithDeadline(ctx, t.started.Add(s.limits.MaxWall))
	defer cancel()
	st := newStreamer(s, t)
	defer st.close()
	err = s.loop(wall, t, history, st)
	partial := st.pending()
	end := context.WithoutCancel(ctx)
	var le *llm.Error
	switch {
	case err == nil || errors.Is(err, errTurnEnded):
		return nil
	case errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely):
		st.flush()
		if ferr := s.finish(end, t.workbookID, t.id, t.sessionID, StatusStopped, partial, "", "", llm.Usage{}); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	case errors.Is(err, joblease.ErrLost) || errors.Is(context.Cause(ctx), joblease.ErrLost):
		return err
	case ctx.Err() == nil && wall.Err() != nil:
		st.flush()
		return s.finish(end, t.workbookID, t.id, t.sessionID, StatusStopped, partial, "limit_reached",
			fmt.Sprintf("The agent stopped: it ran for the longest a turn may (%s). Ask it to carry on in a new message.", s.limits.MaxWall), llm.Usage{})
	case errors.As(err, &le):
		st.flush()
		return s.finish(end, t.workbookID, t.id, t.sessionID, StatusFailed, partial, le.Kind.String(), le.UserMessage(), llm.Usage{})
	case lastAttempt:
		s.logger.ErrorContext(ctx, "agent: turn failed", "message", t.id, "err", err)
		return errors.Join(err, s.finish(end, t.workbookID, t.id, t.sessionID, StatusFailed, partial, "internal",
			"The agent stopped on an error on our side; the suggestions it made so far are kept.", llm.Usage{}))
	}
	return err
}

// errTurnEnded means the turn was ended (stopped, its session deleted)
// by someone else while it ran.
var errTurnEnded = errors.New("agent: the turn has ended")

func (s *Service) loop(ctx context.Context, t *turn, history []llm.Message, st *streamer) error {
	system, err := s.systemPrompt(ctx, t)
	if err != nil {
		return err
	}
	msgs := append([]llm.Message{{Role: llm.RoleSystem, Content: system}}, history...)
	for _, step := range t.steps {
		msgs = append(msgs, stepMessages(step)...)
	}
	specs := make([]llm.ToolSpec, 0, len(t.tools))
	for _, tl := range t.tools {
		specs = append(specs, tl.spec)
	}
	for {
		if msg := s.overLimit(t); msg != "" {
			return s.finish(context.WithoutCancel(ctx), t.workbookID, t.id, t.sessionID, StatusStopped, "", "limit_reached", msg, llm.Usage{})
		}
		st.startStep(len(t.steps))
		resp, err := s.llm.Stream(ctx, llm.Request{Model: t.model, Messages: msgs, Tools: specs, APIKey: t.apiKey, User: t.ownerID}, st.on)
		if err != nil {
			return err
		}
		st.flush()
		step := Step{Text: resp.Text}
		model := resp.Model
		contextLength := 0
		if m, ok := s.llm.Model(ctx, t.model); ok {
			contextLength = m.ContextLength
		} else if m, ok := s.llm.Model(ctx, model); ok {
			contextLength = m.ContextLength
		}
		err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			step.ToolCalls = step.ToolCalls[:0]
			t.stepEdits = map[string]string{}
			for _, call := range resp.ToolCalls {
				step.ToolCalls = append(step.ToolCalls, s.runTool(ctx, tx, t, len(t.steps), call, model))
			}
			b, err := json.Marshal(step)
			if err != nil {
				return err
			}
			n, err := db.New(tx).RecordAgentStep(ctx, db.RecordAgentStepParams{Step: b, Text: resp.Text, Model: model,
				TokensIn: resp.Usage.PromptTokens, TokensOut: resp.Usage.CompletionTokens, Cost: resp.Usage.Cost, MessageID: t.id})
			if err != nil {
				return fmt.Errorf("agent: record step: %w", err)
			}
			if n == 0 {
				return errTurnEnded // stopped or deleted meanwhile: the step's writes roll back
			}
			if err := notifyStep(ctx, tx, t, len(t.steps), step, resp.Usage, contextLength); err != nil {
				return err
			}
			if s.beforeCommit != nil {
				if err := s.beforeCommit(ctx, tx); err != nil {
					return err
				}
			}
			return joblease.Hold(ctx, tx)
		})
		if err != nil {
			return err
		}
		st.committed()
		t.steps = append(t.steps, step)
		t.in += resp.Usage.PromptTokens
		t.out += resp.Usage.CompletionTokens
		t.cost += resp.Usage.Cost
		msgs = append(msgs, stepMessages(step)...)
		if len(resp.ToolCalls) == 0 {
			return s.finish(context.WithoutCancel(ctx), t.workbookID, t.id, t.sessionID, StatusDone, "", "", "", llm.Usage{})
		}
	}
}

// overLimit says why the turn may not call the model again, or "".
func (s *Service) overLimit(t *turn) string {
	switch {
	case len(t.steps) >= s.limits.MaxSteps:
		return fmt.Sprintf("The agent stopped after %d steps, the most a turn may take. Ask it to carry on in a new message.", s.limits.MaxSteps)
	case t.in+t.out >= s.limits.MaxTokens:
		return fmt.Sprintf("The agent stopped after using %d tokens, the most a turn may use. Ask it to carry on in a new message.", t.in+t.out)
	case t.cost >= s.limits.MaxCost:
		return fmt.Sprintf("The agent stopped after spending $%.4f, the most a turn may spend. Ask it to carry on in a new message.", t.cost)
	}
	return ""
}

// stepMessages is a committed step as the conversation sent to the model.
func stepMessages(step Step) []llm.Message {
	a := llm.Message{Role: llm.RoleAssistant, Content: step.Text}
	var out []llm.Message
	for _, c := range step.ToolCalls {
		a.ToolCalls = append(a.ToolCalls, llm.ToolCall{ID: c.ID, Name: c.Name, Arguments: c.Arguments})
	}
	out = append(out, a)
	for _, c := range step.ToolCalls {
		out = append(out, llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Content: c.Result})
	}
	return out
}

// loadTurn loads the running turn of messageID and the conversation before
// it; nil when the turn has ended.
func (s *Service) loadTurn(ctx context.Context, messageID int64) (*turn, []llm.Message, error) {
	row, err := s.q.GetAgentTurn(ctx, messageID)
	if db.IsNoRows(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("agent: load turn: %w", err)
	}
	m := row.AgentMessage
	if m.Status != StatusRunning {
		return nil, nil, nil
	}
	t := &turn{id: m.ID, sessionID: m.SessionID, workbookID: row.WorkbookID, ownerID: row.OwnerID, started: m.CreatedAt,
		model: m.Model, in: m.TokensIn, out: m.TokensOut, cost: m.Cost}
	if err := json.Unmarshal(m.Steps, &t.steps); err != nil {
		return nil, nil, fmt.Errorf("agent: decode steps: %w", err)
	}
	rows, err := s.q.ListAgentMessages(ctx, db.ListAgentMessagesParams{SessionID: m.SessionID, BeforeID: m.ID - 1, MaxMessages: maxHistoryMsgs})
	if err != nil {
		return nil, nil, fmt.Errorf("agent: load conversation: %w", err)
	}
	var history []llm.Message
	for _, r := range rows {
		if r.ID >= m.ID {
			break
		}
		switch {
		case r.Role == "user":
			history = append(history, llm.Message{Role: llm.RoleUser, Content: r.Content})
			// The turn answers the last user message, with what it asked.
			t.req = Request{}
			_ = json.Unmarshal(r.Request, &t.req)
		case r.Content != "":
			history = append(history, llm.Message{Role: llm.RoleAssistant, Content: r.Content})
		}
	}
	// The history's size is bounded by the model's context window: a
	// conversation too long fails with context_too_large, and the user
	// starts a new session.
	if t.model == "" {
		t.model = t.req.Model
	}
	if t.apiKey, err = s.userKey(ctx, t.ownerID); err != nil {
		return nil, nil, err
	}
	if t.wb, err = s.store.FindWorkbook(ctx, t.ownerID, t.workbookID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, nil, nil // deleted meanwhile, with its sessions
		}
		return nil, nil, err
	}
	for _, tl := range tools {
		if len(t.req.Tools) == 0 || slices.Contains(t.req.Tools, tl.spec.Name) {
			if tl.spec.Name == "load_page" && s.pages == nil {
				continue
			}
			t.tools = append(t.tools, tl)
		}
	}
	return t, history, nil
}
