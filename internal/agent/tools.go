package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// Caps on tool calls.
const (
	maxToolArgs      = 256 << 10
	maxToolResult    = 24000
	maxWriteItems    = 500
	maxFetchLimit    = 100
	defaultFetch     = 20
	maxValueRunes    = 2000
	maxPageText      = 20000
	pageLoadTimeout  = 20 * time.Second
	maxReplaceLength = 10000
)

// toolEnv is what a tool call runs with: the step's transaction (writes
// commit with the step), the turn, and the call's idempotency key.
type toolEnv struct {
	s     *Service
	tx    pgx.Tx
	t     *turn
	key   string
	model string
}

// tool is one function the model may call.
type tool struct {
	spec llm.ToolSpec
	// write says the call proposes suggestions: it runs in a savepoint and
	// at most once per key.
	write bool
	run   func(ctx context.Context, e *toolEnv, args json.RawMessage) (any, error)
}

var (
	tools      []tool
	toolByName = map[string]tool{}
)

// ToolNames lists the tools the agent has, for the tool toggles.
func ToolNames() []string {
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.spec.Name
	}
	return out
}

func init() {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	table := str("The table's name or id; defaults to the table in view.")
	fieldsObj := map[string]any{"type": "object", "description": "Values by column name.", "additionalProperties": true}
	obj := func(required []string, props map[string]any) map[string]any {
		return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
	}
	tools = []tool{
		{spec: llm.ToolSpec{Name: "fetch_records", Description: "Read records of a table: by a filter in the filter language (such as: price > 10 AND title ILIKE '%shoe%'), by ids, or the next page with a cursor a previous call returned.",
			Parameters: obj([]string{}, map[string]any{"table": table, "filter": str("A filter expression; empty for all records."),
				"ids":    map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "maxItems": maxFetchLimit},
				"cursor": str("next_cursor from the previous page."), "limit": map[string]any{"type": "integer", "minimum": 1, "maximum": maxFetchLimit}})},
			run: fetchRecords},
		{spec: llm.ToolSpec{Name: "suggest_updates", Description: "Suggest new values for fields of existing records. The user reviews each suggestion.",
			Parameters: obj([]string{"updates"}, map[string]any{"table": table, "updates": map[string]any{"type": "array", "maxItems": maxWriteItems,
				"items": obj([]string{"record_id", "fields"}, map[string]any{"record_id": str("The record's id."), "fields": fieldsObj})}})},
			write: true, run: suggestUpdates},
		{spec: llm.ToolSpec{Name: "suggest_creates", Description: "Suggest new records.",
			Parameters: obj([]string{"records"}, map[string]any{"table": table, "records": map[string]any{"type": "array", "maxItems": maxWriteItems,
				"items": obj([]string{"fields"}, map[string]any{"fields": fieldsObj})}})},
			write: true, run: suggestCreates},
		{spec: llm.ToolSpec{Name: "suggest_deletes", Description: "Suggest deleting records.",
			Parameters: obj([]string{"record_ids"}, map[string]any{"table": table, "record_ids": map[string]any{"type": "array", "maxItems": maxWriteItems, "items": map[string]any{"type": "string"}}})},
			write: true, run: suggestDeletes},
		{spec: llm.ToolSpec{Name: "edit_field", Description: "Suggest an edit of one field of one record: set it to text, append text, insert text where the value holds the marker @@, or replace every occurrence of find with replace.",
			Parameters: obj([]string{"record_id", "field", "op"}, map[string]any{"table": table, "record_id": str("The record's id."), "field": str("The column's name."),
				"op": map[string]any{"type": "string", "enum": []string{"set", "append", "insert", "replace"}}, "text": str("The text to set, append or insert."),
				"find": str("For replace: the text to find."), "replace": str("For replace: the text to put instead.")})},
			write: true, run: editField},
		{spec: llm.ToolSpec{Name: "set_filter", Description: "Set the filter of the user's grid to show the records you mean (an empty filter shows all).",
			Parameters: obj([]string{"filter"}, map[string]any{"table": table, "filter": str("A filter expression.")})},
			run: setFilter},
		{spec: llm.ToolSpec{Name: "add_scratch_column", Description: "Add a local scratch column (never published) to hold working values.",
			Parameters: obj([]string{"name"}, map[string]any{"table": table, "name": str("The column's name."),
				"type": map[string]any{"type": "string", "enum": []string{"text", "number", "boolean", "date", "datetime", "select", "multi_select", "json"}}})},
			run: addScratchColumn},
		{spec: llm.ToolSpec{Name: "remove_scratch_column", Description: "Remove a scratch column (only scratch columns can be removed).",
			Parameters: obj([]string{"column"}, map[string]any{"table": table, "column": str("The column's name.")})},
			run: removeScratchColumn},
		{spec: llm.ToolSpec{Name: "load_page", Description: "Load a web page (http or https) and return its text.",
			Parameters: obj([]string{"url"}, map[string]any{"url": str("The page's address.")})},
			run: loadPage},
	}
	for _, t := range tools {
		toolByName[t.spec.Name] = t
	}
}

// toolError is a failure the model is told about, so it can correct its
// call.
type toolError struct{ msg string }

func (e *toolError) Error() string { return e.msg }

func badArgs(format string, args ...any) error { return &toolError{msg: fmt.Sprintf(format, args...)} }

// decodeArgs reads a call's arguments strictly into v.
func decodeArgs(args json.RawMessage, v any) error {
	if len(bytes.TrimSpace(args)) == 0 {
		args = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badArgs("The arguments are not valid: %v. Send a JSON object matching the tool's schema.", err)
	}
	if dec.More() {
		return badArgs("The arguments hold more than one JSON value. Send one JSON object.")
	}
	return nil
}

// runTool runs one call and returns it with its result; a failure is
// returned to the model as an error it can correct, never a crash.
func (s *Service) runTool(ctx context.Context, tx pgx.Tx, t *turn, step int, call llm.ToolCall, model string) (result ToolCall) {
	out := ToolCall{ID: truncateRunes(call.ID, 200), Name: truncateRunes(call.Name, 100), Arguments: call.Arguments}
	if len(out.Arguments) > maxToolArgs {
		out.Arguments = out.Arguments[:1000] + "…"
	}
	fail := func(msg string) ToolCall {
		out.Error = msg
		b, _ := json.Marshal(map[string]string{"error": msg})
		out.Result = string(b)
		return out
	}
	i := slices.IndexFunc(t.tools, func(tl tool) bool { return tl.spec.Name == call.Name })
	if i < 0 {
		names := make([]string, len(t.tools))
		for j, tl := range t.tools {
			names[j] = tl.spec.Name
		}
		return fail(fmt.Sprintf("There is no tool %q here. The tools are: %s.", out.Name, strings.Join(names, ", ")))
	}
	if len(call.Arguments) > maxToolArgs {
		return fail(fmt.Sprintf("The arguments are longer than %d bytes: send less per call.", maxToolArgs))
	}
	tl := t.tools[i]
	e := &toolEnv{s: s, tx: tx, t: t, key: fmt.Sprintf("%d:%s", step, out.ID), model: model}
	var res any
	var err error
	defer func() {
		// A bug in a tool is the model's error to hear about, not the
		// worker's crash.
		if p := recover(); p != nil {
			s.logger.ErrorContext(ctx, "agent: tool panicked", "tool", call.Name, "panic", p)
			result = fail("The tool failed on an error on our side.")
		}
	}()
	if tl.write {
		res, err = e.once(ctx, func(ctx context.Context) (any, error) { return tl.run(ctx, e, json.RawMessage(call.Arguments)) })
	} else {
		res, err = tl.run(ctx, e, json.RawMessage(call.Arguments))
	}
	if err != nil {
		var te *toolError
		switch {
		case errors.As(err, &te):
			return fail(te.msg)
		case apperr.KindOf(err) != apperr.Internal:
			msg := apperr.MessageOf(err)
			for _, f := range apperr.FieldsOf(err) {
				msg += fmt.Sprintf(" %s: %s.", f.Field, f.Message)
			}
			return fail(msg)
		case ctx.Err() != nil:
			return fail("The call was interrupted.")
		default:
			s.logger.ErrorContext(ctx, "agent: tool failed", "tool", call.Name, "err", err)
			return fail("The tool failed on an error on our side.")
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fail("The tool's result could not be encoded.")
	}
	if len(b) > maxToolResult {
		b, _ = json.Marshal(map[string]string{"truncated": "the result was too long and was cut; ask for less", "partial": string(b[:maxToolResult/2])})
	}
	out.Result = string(b)
	return out
}

// once runs a write in a savepoint of the step's transaction, at most once
// for its key: a step replayed after a crash skips writes it made.
func (e *toolEnv) once(ctx context.Context, fn func(ctx context.Context) (any, error)) (any, error) {
	outer := e.tx
	sp, err := outer.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer sp.Rollback(ctx) //nolint:errcheck // a no-op after commit
	n, err := db.New(sp).ClaimAgentToolEffect(ctx, db.ClaimAgentToolEffectParams{MessageID: e.t.id, ToolCallID: e.key})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return map[string]string{"status": "already applied"}, nil
	}
	// The write runs in the savepoint: a failed one leaves the step's
	// other writes alone.
	e.tx = sp
	defer func() { e.tx = outer }()
	res, err := fn(ctx)
	if err != nil {
		return nil, err
	}
	if err := sp.Commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// table resolves a table argument: a visible table's name or id, else the
// table in view, else the workbook's only table.
func (e *toolEnv) table(arg string) (workbooks.Table, error) {
	visible := slices.DeleteFunc(slices.Clone(e.t.wb.Tables), func(t workbooks.Table) bool { return t.Hidden })
	if arg == "" {
		arg = e.t.req.TableID
	}
	if arg == "" && len(visible) == 1 {
		return visible[0], nil
	}
	for _, t := range visible {
		if t.ID == arg || strings.EqualFold(t.Name, arg) {
			return t, nil
		}
	}
	names := make([]string, len(visible))
	for i, t := range visible {
		names[i] = t.Name
	}
	if arg == "" {
		return workbooks.Table{}, badArgs("Say which table: one of %s.", strings.Join(names, ", "))
	}
	return workbooks.Table{}, badArgs("There is no table %q; the tables are %s.", truncateRunes(arg, 100), strings.Join(names, ", "))
}

// reloadWorkbook refreshes the turn's tables after a column change.
func (e *toolEnv) reloadWorkbook(ctx context.Context) error {
	wb, err := e.s.store.FindWorkbook(ctx, e.t.ownerID, e.t.workbookID)
	if err != nil {
		return err
	}
	e.t.wb = wb
	return nil
}

// recordView is a record as the model sees it: values by column name,
// hidden columns left out, long values cut.
type recordView struct {
	ID              string         `json:"id"`
	Fields          map[string]any `json:"fields"`
	Suggestions     map[string]any `json:"suggestions,omitempty"`
	SuggestedAction string         `json:"suggested_action,omitempty"`
}

func viewRecord(t workbooks.Table, r workbooks.Record) recordView {
	v := recordView{ID: r.ID, Fields: map[string]any{}, SuggestedAction: r.SuggestedAction}
	for _, c := range t.Columns {
		if slices.Contains(t.HiddenColumns, c.ID) {
			continue
		}
		if val, ok := r.Fields[c.ID]; ok && val != nil {
			v.Fields[c.Name] = capValue(val)
		}
		if val, ok := r.Suggestions[c.ID]; ok {
			if v.Suggestions == nil {
				v.Suggestions = map[string]any{}
			}
			v.Suggestions[c.Name] = capValue(val)
		}
	}
	return v
}

func capValue(v any) any {
	if s, ok := v.(string); ok {
		return truncateRunes(s, maxValueRunes)
	}
	if raw, ok := v.(json.RawMessage); ok && len(raw) > maxValueRunes {
		return truncateRunes(string(raw), maxValueRunes)
	}
	return v
}

func fetchRecords(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table  string   `json:"table"`
		Filter string   `json:"filter"`
		IDs    []string `json:"ids"`
		Cursor string   `json:"cursor"`
		Limit  int      `json:"limit"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	if len(a.IDs) > maxFetchLimit {
		return nil, badArgs("Ask for at most %d ids at once.", maxFetchLimit)
	}
	type result struct {
		Records    []recordView `json:"records"`
		NextCursor string       `json:"next_cursor,omitempty"`
		Total      int64        `json:"total,omitempty"`
		Missing    []string     `json:"missing,omitempty"`
		Truncated  bool         `json:"truncated,omitempty"`
	}
	res := result{Records: []recordView{}}
	size := 0
	add := func(v recordView) bool {
		b, _ := json.Marshal(v)
		if size+len(b) > maxToolResult-2000 && len(res.Records) > 0 {
			res.Truncated = true
			return false
		}
		size += len(b)
		res.Records = append(res.Records, v)
		return true
	}
	if len(a.IDs) > 0 {
		for _, id := range a.IDs {
			r, err := e.s.store.FindRecordIn(ctx, e.t.ownerID, t, id)
			if apperr.Is(err, apperr.NotFound) {
				res.Missing = append(res.Missing, truncateRunes(id, 60))
				continue
			}
			if err != nil {
				return nil, err
			}
			if !add(viewRecord(t, r)) {
				break
			}
		}
		return res, nil
	}
	limit := a.Limit
	if limit <= 0 {
		limit = defaultFetch
	}
	limit = min(limit, maxFetchLimit)
	page, err := e.s.store.FindRecordsIn(ctx, e.t.ownerID, t, workbooks.RecordQuery{Filter: a.Filter, Cursor: a.Cursor, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, r := range page.Records {
		if !add(viewRecord(t, r)) {
			break
		}
	}
	if !res.Truncated {
		res.NextCursor = page.NextCursor
	}
	res.Total = page.EstimatedTotal
	return res, nil
}

func (e *toolEnv) propose(ctx context.Context, t workbooks.Table, p workbooks.Proposal) (any, error) {
	p.Source = workbooks.SourceAgent
	p.AgentSessionID = e.t.sessionID
	p.AgentMessageID = e.t.id
	p.Model = truncateRunes(e.model, 190)
	c, err := e.s.store.ProposeSuggestionsTx(ctx, e.tx, e.t.ownerID, e.t.workbookID, t.ID, p)
	if err != nil {
		return nil, err
	}
	return map[string]int{"updates_suggested": c.Updates, "creates_suggested": c.Creates, "deletes_suggested": c.Deletes}, nil
}

func suggestUpdates(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table   string `json:"table"`
		Updates []struct {
			RecordID string         `json:"record_id"`
			Fields   map[string]any `json:"fields"`
		} `json:"updates"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if len(a.Updates) == 0 || len(a.Updates) > maxWriteItems {
		return nil, badArgs("Send between 1 and %d updates per call.", maxWriteItems)
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	p := workbooks.Proposal{}
	for i, u := range a.Updates {
		if u.RecordID == "" || len(u.Fields) == 0 {
			return nil, badArgs("Update %d needs a record_id and fields.", i)
		}
		p.Updates = append(p.Updates, workbooks.RecordUpdate{RecordID: u.RecordID, Fields: u.Fields})
	}
	return e.propose(ctx, t, p)
}

func suggestCreates(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table   string `json:"table"`
		Records []struct {
			Fields map[string]any `json:"fields"`
		} `json:"records"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if len(a.Records) == 0 || len(a.Records) > maxWriteItems {
		return nil, badArgs("Send between 1 and %d records per call.", maxWriteItems)
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	p := workbooks.Proposal{}
	for _, r := range a.Records {
		p.Creates = append(p.Creates, workbooks.RecordFields{Fields: r.Fields})
	}
	return e.propose(ctx, t, p)
}

func suggestDeletes(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table     string   `json:"table"`
		RecordIDs []string `json:"record_ids"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if len(a.RecordIDs) == 0 || len(a.RecordIDs) > maxWriteItems {
		return nil, badArgs("Send between 1 and %d record ids per call.", maxWriteItems)
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	return e.propose(ctx, t, workbooks.Proposal{Deletes: a.RecordIDs})
}

// Marker is where edit_field's insert puts its text.
const Marker = "@@"

func editField(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table    string `json:"table"`
		RecordID string `json:"record_id"`
		Field    string `json:"field"`
		Op       string `json:"op"`
		Text     string `json:"text"`
		Find     string `json:"find"`
		Replace  string `json:"replace"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	col, ok := t.Columns.Lookup(a.Field)
	if !ok || slices.Contains(t.HiddenColumns, col.ID) {
		return nil, badArgs("There is no column %q in %s.", truncateRunes(a.Field, 100), t.Name)
	}
	r, err := e.s.store.FindRecordIn(ctx, e.t.ownerID, t, a.RecordID)
	if err != nil {
		return nil, err
	}
	// The edit builds on the pending suggestion, if any: several edits of
	// one field in a turn add up.
	cur := r.Fields[col.ID]
	if v, ok := r.Suggestions[col.ID]; ok {
		cur = v
	}
	current := ""
	if cur != nil {
		current = col.Text(cur)
	}
	// Edits earlier in this step are not committed yet: the step's
	// transaction holds them.
	cell := r.ID + "/" + col.ID
	if v, ok := e.t.stepEdits[cell]; ok {
		current = v
	}
	var next string
	switch a.Op {
	case "set":
		next = a.Text
	case "append":
		next = current + a.Text
	case "insert":
		if !strings.Contains(current, Marker) {
			return nil, badArgs("The value of %s has no %s marker to insert at; use set or append.", col.Name, Marker)
		}
		next = strings.Replace(current, Marker, a.Text, 1)
	case "replace":
		if a.Find == "" || len(a.Find) > maxReplaceLength {
			return nil, badArgs("replace needs find: the text to replace.")
		}
		if !strings.Contains(current, a.Find) {
			return nil, badArgs("The value of %s does not contain %q.", col.Name, truncateRunes(a.Find, 100))
		}
		next = strings.ReplaceAll(current, a.Find, a.Replace)
	default:
		return nil, badArgs("op must be set, append, insert or replace.")
	}
	res, err := e.propose(ctx, t, workbooks.Proposal{Updates: []workbooks.RecordUpdate{{RecordID: r.ID, Fields: map[string]any{col.ID: next}}}})
	if err != nil {
		return nil, err
	}
	e.t.stepEdits[cell] = next
	return map[string]any{"suggested": truncateRunes(next, maxValueRunes), "counts": res}, nil
}

func setFilter(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table  string `json:"table"`
		Filter string `json:"filter"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if len(a.Filter) > maxFilterLen {
		return nil, badArgs("The filter is longer than %d characters.", maxFilterLen)
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	page, err := e.s.store.FindRecordsIn(ctx, e.t.ownerID, t, workbooks.RecordQuery{Filter: a.Filter, Limit: 1})
	if err != nil {
		return nil, err
	}
	// Sent with the step: the grid applies it once the step commits.
	if err := send(ctx, e.tx, e.t.workbookID, KindFilter, FilterEvent{SessionID: e.t.sessionID, MessageID: e.t.id, TableID: t.ID, Filter: a.Filter}); err != nil {
		return nil, err
	}
	return map[string]any{"filter_set": a.Filter, "matching_records": page.EstimatedTotal}, nil
}

func addScratchColumn(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table string `json:"table"`
		Name  string `json:"name"`
		Type  string `json:"type"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if a.Type == "" {
		a.Type = string(values.Text)
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	if _, ok := t.Columns.Lookup(a.Name); ok {
		// Already there (a step replayed after a crash adds it once).
		return map[string]string{"column": a.Name, "status": "exists"}, nil
	}
	if _, err := e.s.store.AddScratchColumn(ctx, e.t.ownerID, e.t.workbookID, t.ID, a.Name, values.Type(a.Type)); err != nil {
		return nil, err
	}
	if err := e.reloadWorkbook(ctx); err != nil {
		return nil, err
	}
	return map[string]string{"column": a.Name, "status": "added"}, nil
}

func removeScratchColumn(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		Table  string `json:"table"`
		Column string `json:"column"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	t, err := e.table(a.Table)
	if err != nil {
		return nil, err
	}
	col, ok := t.Columns.Lookup(a.Column)
	if !ok {
		return nil, badArgs("There is no column %q in %s.", truncateRunes(a.Column, 100), t.Name)
	}
	if _, err := e.s.store.RemoveColumn(ctx, e.t.ownerID, e.t.workbookID, t.ID, col.ID); err != nil {
		return nil, err
	}
	if err := e.reloadWorkbook(ctx); err != nil {
		return nil, err
	}
	return map[string]string{"column": col.Name, "status": "removed"}, nil
}

func loadPage(ctx context.Context, e *toolEnv, raw json.RawMessage) (any, error) {
	var a struct {
		URL string `json:"url"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return nil, err
	}
	if e.s.pages == nil {
		return nil, badArgs("Loading web pages is not available.")
	}
	if a.URL == "" || len(a.URL) > 4000 {
		return nil, badArgs("Give the page's address in url.")
	}
	ctx, cancel := context.WithTimeout(ctx, pageLoadTimeout)
	defer cancel()
	p, err := e.s.pages.Load(ctx, a.URL)
	if err != nil {
		if apperr.KindOf(err) == apperr.Internal {
			return nil, badArgs("The page could not be loaded: %s", truncateRunes(err.Error(), 300))
		}
		return nil, err
	}
	return map[string]string{"url": p.URL, "title": truncateRunes(p.Title, 300), "text": truncateRunes(p.Text, maxPageText)}, nil
}
