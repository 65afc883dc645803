package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/apperr"
)

// The agent's JSON API: sessions of a workbook, their messages, and the
// turn a message starts. Streamed text and tool activity arrive on the
// workbook's event stream (GET /workbooks/{wb}/events) as agent.* events.

type apiAgentSession struct {
	ID         string  `json:"id"`
	WorkbookID string  `json:"workbook_id"`
	Title      string  `json:"title"`
	TokensIn   int64   `json:"tokens_in"`
	TokensOut  int64   `json:"tokens_out"`
	Cost       float64 `json:"cost"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
}

type apiAgentSessionDetail struct {
	apiAgentSession
	// RunningMessageID is the turn under way, null when none runs.
	RunningMessageID *string           `json:"running_message_id"`
	Messages         []apiAgentMessage `json:"messages"`
}

type apiAgentToolCall struct {
	ID        string  `json:"id"`
	Step      int     `json:"step"`
	Name      string  `json:"name"`
	Arguments string  `json:"arguments"`
	Result    string  `json:"result"`
	Error     *string `json:"error"`
}

type apiAgentRequest struct {
	Model     string   `json:"model"`
	Scope     string   `json:"scope"`
	RecordIDs []string `json:"record_ids"`
	Field     string   `json:"field"`
	Filter    string   `json:"filter"`
	Tools     []string `json:"tools"`
	Assets    []string `json:"assets"`
	Columns   []string `json:"columns"`
}

type apiAgentMessage struct {
	ID         string             `json:"id"`
	Role       string             `json:"role"`
	Content    string             `json:"content"`
	Status     string             `json:"status"`
	Model      string             `json:"model"`
	TokensIn   int64              `json:"tokens_in"`
	TokensOut  int64              `json:"tokens_out"`
	Cost       float64            `json:"cost"`
	ErrorCode  *string            `json:"error_code"`
	Error      *string            `json:"error"`
	JobID      *string            `json:"job_id"`
	ToolCalls  []apiAgentToolCall `json:"tool_calls"`
	Request    *apiAgentRequest   `json:"request"`
	CreatedAt  string             `json:"created_at"`
	FinishedAt *string            `json:"finished_at"`
}

func newAPIAgentSession(se agent.Session) apiAgentSession {
	return apiAgentSession{ID: se.ID, WorkbookID: se.WorkbookID, Title: se.Title, TokensIn: se.TokensIn, TokensOut: se.TokensOut,
		Cost: se.Cost, CreatedAt: apiTime(se.CreatedAt), UpdatedAt: apiTime(se.UpdatedAt)}
}

func newAPIAgentMessage(m agent.Message) apiAgentMessage {
	out := apiAgentMessage{ID: strconv.FormatInt(m.ID, 10), Role: m.Role, Content: m.Content, Status: m.Status, Model: m.Model,
		TokensIn: m.TokensIn, TokensOut: m.TokensOut, Cost: m.Cost, ErrorCode: nullString(m.ErrorCode), Error: nullString(m.Error),
		ToolCalls: []apiAgentToolCall{}, CreatedAt: apiTime(m.CreatedAt), FinishedAt: apiTimeOrNull(m.FinishedAt)}
	if m.JobID != 0 {
		id := strconv.FormatInt(m.JobID, 10)
		out.JobID = &id
	}
	for i, st := range m.Steps {
		for _, c := range st.ToolCalls {
			out.ToolCalls = append(out.ToolCalls, apiAgentToolCall{ID: c.ID, Step: i, Name: c.Name, Arguments: c.Arguments, Result: c.Result, Error: nullString(c.Error)})
		}
	}
	if r := m.Request; r != nil {
		out.Request = &apiAgentRequest{Model: r.Model, Scope: r.TableID, RecordIDs: nonNil(r.RecordIDs), Field: r.Field, Filter: r.Filter,
			Tools: nonNil(r.Tools), Assets: nonNil(r.Assets), Columns: nonNil(r.Columns)}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// apiListAgentSessions lists the caller's sessions of a workbook.
func (s *Server) apiListAgentSessions(c echo.Context) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 50
	}
	ctx := c.Request().Context()
	if _, err := s.Workbooks.FindWorkbook(ctx, mustUser(c).ID, c.Param("wb")); err != nil {
		return err
	}
	page, err := s.Agent.FindSessions(ctx, mustUser(c).ID, c.Param("wb"), limit, c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	out := struct {
		Items      []apiAgentSession `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}{Items: make([]apiAgentSession, 0, len(page.Sessions)), NextCursor: nullString(page.NextCursor)}
	for _, se := range page.Sessions {
		out.Items = append(out.Items, newAPIAgentSession(se))
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiCreateAgentSession starts a session.
func (s *Server) apiCreateAgentSession(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var req struct {
			Title string `json:"title"`
		}
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		se, err := s.Agent.CreateSession(c.Request().Context(), mustUser(c).ID, c.Param("wb"), req.Title)
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusCreated, newAPIAgentSession(se))
	})(c)
}

// apiGetAgentSession shows a session with its messages, tool calls, tokens
// and cost.
func (s *Server) apiGetAgentSession(c echo.Context) error {
	se, err := s.Agent.FindSession(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("s"))
	if err != nil {
		return err
	}
	out := apiAgentSessionDetail{apiAgentSession: newAPIAgentSession(se), Messages: make([]apiAgentMessage, 0, len(se.Messages))}
	if se.Running != 0 {
		id := strconv.FormatInt(se.Running, 10)
		out.RunningMessageID = &id
	}
	for _, m := range se.Messages {
		out.Messages = append(out.Messages, newAPIAgentMessage(m))
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiUpdateAgentSession renames a session.
func (s *Server) apiUpdateAgentSession(c echo.Context) error {
	var req struct {
		Title string `json:"title" required:"true"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	se, err := s.Agent.RenameSession(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("s"), req.Title)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIAgentSession(se))
}

// apiDeleteAgentSession deletes a session; its suggestions stay.
func (s *Server) apiDeleteAgentSession(c echo.Context) error {
	if err := s.Agent.DeleteSession(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("s")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiSendAgentMessage adds the caller's message and starts the agent's
// turn as a job.
func (s *Server) apiSendAgentMessage(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var req struct {
			Content   string   `json:"content" required:"true"`
			Model     string   `json:"model"`
			Scope     string   `json:"scope"`
			RecordID  string   `json:"record_id"`
			RecordIDs []string `json:"record_ids"`
			Field     string   `json:"field"`
			Filter    string   `json:"filter"`
			Tools     []string `json:"tools"`
			Assets    []string `json:"assets"`
			Columns   []string `json:"columns"`
		}
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		ids := req.RecordIDs
		if req.RecordID != "" {
			ids = append([]string{req.RecordID}, ids...)
		}
		user, turn, err := s.Agent.SendMessage(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("s"), req.Content, agent.Request{
			Model: req.Model, TableID: req.Scope, RecordIDs: ids, Field: req.Field, Filter: req.Filter, Tools: req.Tools, Assets: req.Assets, Columns: req.Columns,
		})
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusAccepted, struct {
			Message apiAgentMessage `json:"message"`
			Turn    apiAgentMessage `json:"turn"`
			Job     apiImportJob    `json:"job"`
		}{Message: newAPIAgentMessage(user), Turn: newAPIAgentMessage(turn), Job: apiImportJob{ID: strconv.FormatInt(turn.JobID, 10), Kind: agent.TurnArgs{}.Kind()}})
	})(c)
}

// apiStopAgentTurn stops the session's running turn.
func (s *Server) apiStopAgentTurn(c echo.Context) error {
	m, err := s.Agent.StopTurn(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("s"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIAgentMessage(m))
}

// agentUnavailable answers the agent's routes when the app runs without it.
func agentUnavailable(echo.Context) error {
	return apperr.New(apperr.Unavailable, "The agent is not set up on this server.")
}
