package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// The agent's chat panel beside the grid (views/chat.templ, static/agent.js):
// HTML fragments of the person's own sessions of a workbook. Streamed text
// and tool activity arrive on the workbook's event stream as agent-*
// messages (agent_events.go); the panel loads the session again when a
// turn ends.

// maxMentionQuery bounds what autocomplete searches for.
const maxMentionQuery = 100

// mentionLimit is how many choices autocomplete offers.
const mentionLimit = 8

// chatView gathers what the panel shows around session se (nil: none).
func (s *Server) chatView(c echo.Context, se *agent.Session) (views.ChatView, error) {
	ctx := c.Request().Context()
	u := mustUser(c)
	wbID := c.Param("wb")
	v := views.ChatView{WorkbookID: wbID, TableID: c.QueryParam("t"), Session: se, Tools: agent.ToolNames()}
	warn, _, err := s.Agent.CostWarning(ctx, u.ID, s.Config.AgentCostWarning)
	if err != nil {
		return v, err
	}
	v.CostWarning = warn
	page, err := s.Agent.FindSessions(ctx, u.ID, wbID, 50, "")
	if err != nil {
		return v, err
	}
	v.Sessions = page.Sessions
	if s.LLM != nil {
		if models, err := s.LLM.Models(ctx); err == nil {
			for _, m := range models {
				v.Models = append(v.Models, views.ChatModel{ID: m.ID, ContextLength: m.ContextLength,
					Label: views.ChatModelLabel(m.ID, m.PromptPrice, m.CompletionPrice, m.Priced, m.ContextLength)})
			}
		}
		v.Model, _ = s.LLM.DefaultModel(ctx)
	}
	if picked := c.FormValue("model"); picked != "" && slices.ContainsFunc(v.Models, func(m views.ChatModel) bool { return m.ID == picked }) {
		v.Model = picked
	}
	if err := s.Agent.CheckKey(ctx, u.ID); apperr.Is(err, apperr.NoModelKey) {
		v.KeyProblem = "The agent needs a key for the model provider: yours, or one the server is configured with (LLM_API_KEY)."
	} else if err != nil {
		return v, err
	}
	return v, nil
}

// renderChat renders the panel around se.
func (s *Server) renderChat(c echo.Context, status int, se *agent.Session, refusal error, draft string) error {
	v, err := s.chatView(c, se)
	if err != nil {
		return err
	}
	if refusal != nil {
		v.Error = chatRefusal(refusal)
		v.Draft = draft
	}
	return render(c, status, views.ChatPanel(v))
}

// chatRefusal is the sentence the panel shows for a refused action.
func chatRefusal(err error) string {
	msg := apperr.MessageOf(err)
	for _, f := range apperr.FieldsOf(err) {
		field := f.Field
		if field != "" {
			field = strings.ToUpper(field[:1]) + field[1:] + " "
		}
		msg += " " + field + f.Message + "."
	}
	return msg
}

// chatPanel shows the panel: the session asked for (?s=), else the most
// recently active one, else none yet.
func (s *Server) chatPanel(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	if _, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb")); err != nil {
		return err
	}
	id := c.QueryParam("s")
	if id == "" {
		page, err := s.Agent.FindSessions(ctx, u.ID, c.Param("wb"), 1, "")
		if err != nil {
			return err
		}
		if len(page.Sessions) == 0 {
			return s.renderChat(c, http.StatusOK, nil, nil, "")
		}
		id = page.Sessions[0].ID
	}
	se, err := s.Agent.FindSession(ctx, u.ID, c.Param("wb"), id)
	if apperr.Is(err, apperr.NotFound) && c.QueryParam("s") != "" {
		// A session deleted in another tab: show the panel without it.
		return s.renderChat(c, http.StatusOK, nil, nil, "")
	}
	if err != nil {
		return err
	}
	return s.renderChat(c, http.StatusOK, &se, nil, "")
}

// chatSession shows one of the person's sessions.
func (s *Server) chatSession(c echo.Context) error {
	se, err := s.Agent.FindSession(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("s"))
	if err != nil {
		return err
	}
	return s.renderChat(c, http.StatusOK, &se, nil, "")
}

// createChatSession starts a new, empty session.
func (s *Server) createChatSession(c echo.Context) error {
	se, err := s.Agent.CreateSession(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.FormValue("title"))
	if err != nil {
		return err
	}
	return s.renderChat(c, http.StatusOK, &se, nil, "")
}

// renameChatSession renames a session; a refused title shows in the panel.
func (s *Server) renameChatSession(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	_, rerr := s.Agent.RenameSession(ctx, u.ID, c.Param("wb"), c.Param("s"), c.FormValue("title"))
	if rerr != nil && !apperr.Is(rerr, apperr.Invalid) {
		return rerr
	}
	se, err := s.Agent.FindSession(ctx, u.ID, c.Param("wb"), c.Param("s"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rerr != nil {
		status = http.StatusUnprocessableEntity
	}
	return s.renderChat(c, status, &se, rerr, "")
}

// deleteChatSession deletes a session (its suggestions stay) and shows the
// panel without it.
func (s *Server) deleteChatSession(c echo.Context) error {
	if err := s.Agent.DeleteSession(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("s")); err != nil {
		return err
	}
	return s.renderChat(c, http.StatusOK, nil, nil, "")
}

// sendChatMessage sends the composer's message to the session (or to a
// new one, for the first message of the panel), with the scope and
// mentions agent.js adds. A refusal (no key, a turn still running, an
// invalid scope) shows in the panel with the message kept.
func (s *Server) sendChatMessage(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	content := form.Get("content")
	sessionID := c.Param("s")
	if sessionID == "" && strings.TrimSpace(content) == "" {
		// Nothing to start a session with.
		if _, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb")); err != nil {
			return err
		}
		return s.renderChat(c, http.StatusUnprocessableEntity, nil, apperr.InvalidFields("Please write a message.", apperr.FieldError{Field: "content", Message: "is empty"}), "")
	}
	if sessionID == "" {
		title := strings.Join(strings.Fields(content), " ")
		if utf8.RuneCountInString(title) > 60 {
			title = string([]rune(title)[:60]) + "…"
		}
		se, err := s.Agent.CreateSession(ctx, u.ID, c.Param("wb"), title)
		if err != nil {
			return err
		}
		sessionID = se.ID
	}
	req := agent.Request{
		Model: form.Get("model"), TableID: form.Get("scope"), Field: form.Get("field"), Filter: form.Get("filter"),
		RecordIDs: form["record_ids"], Tools: form["tools"], Assets: form["assets"], Columns: form["columns"],
	}
	_, _, serr := s.Agent.SendMessage(ctx, u.ID, c.Param("wb"), sessionID, content, req)
	switch {
	case serr == nil:
	case apperr.Is(serr, apperr.Invalid), apperr.Is(serr, apperr.NoModelKey), apperr.Is(serr, apperr.Conflict), apperr.Is(serr, apperr.NotFound) && c.Param("s") == "" || apperr.Is(serr, apperr.NotFound) && req.TableID != "":
	default:
		return serr
	}
	se, err := s.Agent.FindSession(ctx, u.ID, c.Param("wb"), sessionID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if serr != nil {
		status = statusOf(apperr.KindOf(serr))
	}
	return s.renderChat(c, status, &se, serr, content)
}

// stopChatTurn stops the session's running turn.
func (s *Server) stopChatTurn(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	if _, err := s.Agent.StopTurn(ctx, u.ID, c.Param("wb"), c.Param("s")); err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	se, err := s.Agent.FindSession(ctx, u.ID, c.Param("wb"), c.Param("s"))
	if err != nil {
		return err
	}
	return s.renderChat(c, http.StatusOK, &se, nil, "")
}

// chatMentions offers what a mention can name: the person's prompt assets
// (kind=asset), records of the grid's table by their title column
// (kind=record), or its columns (kind=column), matching q.
func (s *Server) chatMentions(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	q := strings.TrimSpace(c.QueryParam("q"))
	if utf8.RuneCountInString(q) > maxMentionQuery {
		q = string([]rune(q)[:maxMentionQuery])
	}
	lq := strings.ToLower(q)
	var items []views.ChatMention
	switch c.QueryParam("kind") {
	case "asset":
		if _, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb")); err != nil {
			return err
		}
		if s.Assets == nil {
			break
		}
		list, err := s.Assets.List(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, a := range list {
			if len(items) == mentionLimit {
				break
			}
			if strings.Contains(strings.ToLower(a.Name), lq) {
				note := ""
				if a.AutoInclude {
					note = "auto-included"
				}
				items = append(items, views.ChatMention{Kind: "asset", ID: a.ID, Label: a.Name, Note: note})
			}
		}
	case "column":
		t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.QueryParam("t"))
		if err != nil {
			return err
		}
		for _, col := range views.VisibleColumns(t) {
			if len(items) == mentionLimit {
				break
			}
			if strings.Contains(strings.ToLower(col.Name), lq) {
				items = append(items, views.ChatMention{Kind: "column", ID: col.ID, Label: col.Name, Note: string(col.Type)})
			}
		}
	case "record":
		t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.QueryParam("t"))
		if err != nil {
			return err
		}
		title, ok := titleColumn(t)
		if !ok {
			break
		}
		rq := workbooks.RecordQuery{Limit: mentionLimit, WithoutTotal: true}
		rq.Filter = filter.Search([]string{title.Name}, q)
		page, err := s.Workbooks.FindRecordsIn(ctx, u.ID, t, rq)
		if err != nil {
			if apperr.Is(err, apperr.Invalid) {
				break
			}
			return err
		}
		for _, r := range page.Records {
			label := strings.Join(strings.Fields(fmt.Sprint(r.Fields[title.ID])), " ")
			if r.Fields[title.ID] == nil || label == "" {
				label = "(untitled)"
			}
			if utf8.RuneCountInString(label) > 80 {
				label = string([]rune(label)[:80]) + "…"
			}
			items = append(items, views.ChatMention{Kind: "record", ID: r.ID, Label: label, Note: title.Name})
		}
	default:
		return apperr.InvalidFields("Choose what to mention.", apperr.FieldError{Field: "kind", Message: "must be asset, record or column"})
	}
	return render(c, http.StatusOK, views.ChatMentions(items))
}

// titleColumn is the column records are searched by: the first visible text
// column named like a title, else the first visible text column.
func titleColumn(t workbooks.Table) (workbooks.Column, bool) {
	cols := views.VisibleColumns(t)
	for _, name := range []string{"title", "name", "label", "subject"} {
		for _, c := range cols {
			if c.Type == values.Text && strings.EqualFold(c.Name, name) {
				return c, true
			}
		}
	}
	for _, c := range cols {
		if c.Type == values.Text {
			return c, true
		}
	}
	return workbooks.Column{}, false
}
