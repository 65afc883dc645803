// Package agent is the AI agent of a workbook (DESIGN §7): sessions of
// messages with the agent, each assistant turn run as a River job that talks
// to the model (internal/llm) in a loop of tool calls under limits, and
// streams its text and tool activity to the workbook's viewers. Every write
// the agent makes is a suggestion, through the record store
// (internal/workbooks), committed together with the step of the turn that
// made it and its usage, so a turn resumed after a crash never writes a
// suggestion twice.
package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// PageLoader loads a web page as text for the load_page tool. The web
// fetcher (internal/webfetch) implements it: http and https only, no
// private, loopback or link-local addresses after DNS resolution, size and
// time limits.
type PageLoader interface {
	Load(ctx context.Context, url string) (LoadedPage, error)
}

// LoadedPage is a web page as text.
type LoadedPage struct {
	URL   string
	Title string
	Text  string
}

// Asset is a prompt asset's text as given to the model.
type Asset struct {
	ID   string
	Name string
	Text string
}

// AssetSource gives the prompt assets of a turn: those the user selected
// for the message and those marked auto-include, of the owner only.
// internal/assets implements it.
type AssetSource interface {
	AssetsForTurn(ctx context.Context, ownerID string, selected []string) ([]Asset, error)
}

// KeySource gives the user's own API key for the model provider (one they
// added in settings, or one provisioned for them); "" means the user has
// none and the server's key is used.
type KeySource interface {
	UserKey(ctx context.Context, userID string) (string, error)
}

// Limits bound one turn.
type Limits struct {
	// MaxSteps is how many model calls a turn makes at most.
	MaxSteps int
	// MaxTokens bounds the prompt and completion tokens of a turn.
	MaxTokens int64
	// MaxWall bounds a turn's time from its start.
	MaxWall time.Duration
	// MaxCost bounds a turn's cost in US dollars.
	MaxCost float64
	// ContextTokens is the budget of the records shown in the prompt.
	ContextTokens int
}

// DefaultLimits are the limits of a turn unless the app says otherwise.
var DefaultLimits = Limits{MaxSteps: 25, MaxTokens: 500_000, MaxWall: 10 * time.Minute, MaxCost: 2, ContextTokens: 6000}

// Options configure NewService.
type Options struct {
	Logger *slog.Logger
	Limits Limits
	Pages  PageLoader
	Assets AssetSource
	Keys   KeySource
	// StreamEvery is how often streamed text is sent to viewers (100 ms).
	StreamEvery time.Duration
	// Lease is the timing of turn jobs' leases.
	Lease joblease.Timing
}

// Service is the agent domain.
type Service struct {
	pool   *pgxpool.Pool
	q      *db.Queries
	store  *workbooks.Service
	llm    *llm.Client
	river  *river.Client[pgx.Tx]
	logger *slog.Logger
	limits Limits
	pages  PageLoader
	assets AssetSource
	keys   KeySource
	every  time.Duration
	lease  joblease.Timing
	// hooks lets tests fail a step's commit.
	beforeCommit func(ctx context.Context, tx pgx.Tx) error
}

// NewService returns the agent domain.
func NewService(pool *pgxpool.Pool, store *workbooks.Service, client *llm.Client, opts Options) (*Service, error) {
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("agent: river client: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := opts.Limits
	d := DefaultLimits
	if l.MaxSteps <= 0 {
		l.MaxSteps = d.MaxSteps
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = d.MaxTokens
	}
	if l.MaxWall <= 0 {
		l.MaxWall = d.MaxWall
	}
	if l.MaxCost <= 0 {
		l.MaxCost = d.MaxCost
	}
	if l.ContextTokens <= 0 {
		l.ContextTokens = d.ContextTokens
	}
	if opts.StreamEvery <= 0 {
		opts.StreamEvery = 100 * time.Millisecond
	}
	if opts.Lease.Lease <= 0 {
		opts.Lease.Lease = joblease.DefaultLease
	}
	return &Service{pool: pool, q: db.New(pool), store: store, llm: client, river: rc, logger: opts.Logger, limits: l,
		pages: opts.Pages, assets: opts.Assets, keys: opts.Keys, every: opts.StreamEvery, lease: opts.Lease}, nil
}

// Session is a chat with the agent about one workbook.
type Session struct {
	ID         string
	WorkbookID string
	Title      string
	TokensIn   int64
	TokensOut  int64
	Cost       float64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Messages are filled by FindSession, oldest first.
	Messages []Message
	// Running is the id of the running turn, 0 when none runs (filled by
	// FindSession).
	Running int64
}

// Message is a user's message or an assistant's turn.
type Message struct {
	ID      int64
	Role    string
	Content string
	// Steps are an assistant turn's model calls and their tool calls.
	Steps []Step
	// Request is what a user's message asked for.
	Request   *Request
	Model     string
	TokensIn  int64
	TokensOut int64
	Cost      float64
	// Status is running, done, failed or stopped.
	Status string
	// ErrorCode is a stable code (no_key, rate_limited, context_too_large,
	// limit_reached, ...) and Error a sentence for people, when the turn
	// failed or stopped on a limit.
	ErrorCode  string
	Error      string
	JobID      int64
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// Step is one model call of a turn: its text and the tool calls it made,
// with their results.
type Step struct {
	Text      string     `json:"text,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ToolCall is one call of a tool and what came of it.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	// Result is the JSON the model was given back.
	Result string `json:"result"`
	// Error is set when the call failed (the model was told why).
	Error string `json:"error,omitempty"`
}

// Turn statuses.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
	StatusStopped = "stopped"
)

var (
	errSessionNotFound = apperr.New(apperr.NotFound, "Agent session not found.")
	errWorkbookMissing = apperr.New(apperr.NotFound, "Workbook not found.")
)

const (
	maxTitle = 200
	// maxSessionMsgs is how many of a session's latest messages it shows.
	maxSessionMsgs = 1000
	// maxHistoryMsgs is how many messages before a turn the model is given.
	maxHistoryMsgs = 60
)

func sessionFromRow(r db.AgentSession) Session {
	return Session{ID: r.ID, WorkbookID: r.WorkbookID, Title: r.Title, TokensIn: r.TokensIn, TokensOut: r.TokensOut,
		Cost: r.Cost, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func messageFromRow(r db.AgentMessage) Message {
	m := Message{ID: r.ID, Role: r.Role, Content: r.Content, Model: r.Model, TokensIn: r.TokensIn, TokensOut: r.TokensOut,
		Cost: r.Cost, Status: r.Status, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt}
	_ = json.Unmarshal(r.Steps, &m.Steps)
	if r.Role == "user" {
		var req Request
		if json.Unmarshal(r.Request, &req) == nil {
			m.Request = &req
		}
	}
	if r.ErrorCode != nil {
		m.ErrorCode = *r.ErrorCode
	}
	if r.Error != nil {
		m.Error = *r.Error
	}
	if r.JobID != nil {
		m.JobID = *r.JobID
	}
	return m
}

func cleanTitle(title string) (string, error) {
	title = strings.Join(strings.Fields(title), " ")
	if title == "" {
		title = "New chat"
	}
	if utf8.RuneCountInString(title) > maxTitle {
		return "", apperr.InvalidFields("Please correct the title.", apperr.FieldError{Field: "title", Message: fmt.Sprintf("is longer than %d characters", maxTitle)})
	}
	return title, nil
}

// CreateSession starts a session about one of the owner's workbooks.
// Errors: NotFound (the workbook), Invalid (title).
func (s *Service) CreateSession(ctx context.Context, ownerID, workbookID, title string) (Session, error) {
	title, err := cleanTitle(title)
	if err != nil {
		return Session{}, err
	}
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) {
		return Session{}, errWorkbookMissing
	}
	row, err := s.q.CreateAgentSession(ctx, db.CreateAgentSessionParams{Title: title, WorkbookID: workbookID, OwnerID: ownerID})
	if db.IsNoRows(err) {
		return Session{}, errWorkbookMissing
	}
	if err != nil {
		return Session{}, fmt.Errorf("agent: create session: %w", err)
	}
	return sessionFromRow(row), nil
}

// SessionPage is a page of sessions.
type SessionPage struct {
	Sessions   []Session
	NextCursor string
}

// FindSessions lists the owner's sessions of a workbook, most recently
// active first. Errors: Invalid (cursor).
func (s *Service) FindSessions(ctx context.Context, ownerID, workbookID string, limit int, cursor string) (SessionPage, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) {
		return SessionPage{}, nil
	}
	limit = max(1, min(limit, 500))
	p := db.ListAgentSessionsParams{WorkbookID: workbookID, OwnerID: ownerID, MaxSessions: int32(limit + 1)}
	if cursor != "" {
		at, id, ok := decodeCursor(cursor)
		if !ok {
			return SessionPage{}, apperr.InvalidFields("Invalid cursor.", apperr.FieldError{Field: "cursor", Message: "is not a cursor of this list"})
		}
		p.BeforeAt, p.BeforeID = &at, &id
	}
	rows, err := s.q.ListAgentSessions(ctx, p)
	if err != nil {
		return SessionPage{}, fmt.Errorf("agent: list sessions: %w", err)
	}
	var page SessionPage
	for i, r := range rows {
		if i == limit {
			last := rows[i-1]
			page.NextCursor = encodeCursor(last.UpdatedAt, last.ID)
			break
		}
		page.Sessions = append(page.Sessions, sessionFromRow(r))
	}
	return page, nil
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	at, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || !ids.ValidUUID(id) {
		return time.Time{}, "", false
	}
	return t, id, true
}

// FindSession returns one of the owner's sessions with its messages.
// Errors: NotFound.
func (s *Service) FindSession(ctx context.Context, ownerID, workbookID, sessionID string) (Session, error) {
	se, err := s.session(ctx, ownerID, workbookID, sessionID)
	if err != nil {
		return Session{}, err
	}
	rows, err := s.q.ListAgentMessages(ctx, db.ListAgentMessagesParams{SessionID: se.ID, BeforeID: math.MaxInt64, MaxMessages: maxSessionMsgs})
	if err != nil {
		return Session{}, fmt.Errorf("agent: list messages: %w", err)
	}
	for _, r := range rows {
		m := messageFromRow(r)
		if m.Status == StatusRunning {
			se.Running = m.ID
		}
		se.Messages = append(se.Messages, m)
	}
	return se, nil
}

func (s *Service) session(ctx context.Context, ownerID, workbookID, sessionID string) (Session, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) || !ids.ValidUUID(sessionID) {
		return Session{}, errSessionNotFound
	}
	row, err := s.q.GetAgentSession(ctx, db.GetAgentSessionParams{ID: sessionID, WorkbookID: workbookID, OwnerID: ownerID})
	if db.IsNoRows(err) {
		return Session{}, errSessionNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("agent: find session: %w", err)
	}
	return sessionFromRow(row), nil
}

// RenameSession renames one of the owner's sessions. Errors: NotFound,
// Invalid.
func (s *Service) RenameSession(ctx context.Context, ownerID, workbookID, sessionID, title string) (Session, error) {
	if _, err := s.session(ctx, ownerID, workbookID, sessionID); err != nil {
		return Session{}, err
	}
	if strings.TrimSpace(title) == "" {
		return Session{}, apperr.InvalidFields("Please correct the title.", apperr.FieldError{Field: "title", Message: "is empty"})
	}
	title, err := cleanTitle(title)
	if err != nil {
		return Session{}, err
	}
	row, err := s.q.RenameAgentSession(ctx, db.RenameAgentSessionParams{Title: title, ID: sessionID, WorkbookID: workbookID, OwnerID: ownerID})
	if db.IsNoRows(err) {
		return Session{}, errSessionNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("agent: rename session: %w", err)
	}
	return sessionFromRow(row), nil
}

// DeleteSession deletes one of the owner's sessions and its messages,
// stopping its running turn. The suggestions it made stay. Errors:
// NotFound.
func (s *Service) DeleteSession(ctx context.Context, ownerID, workbookID, sessionID string) error {
	se, err := s.session(ctx, ownerID, workbookID, sessionID)
	if err != nil {
		return err
	}
	if running, err := s.q.RunningAgentTurn(ctx, se.ID); err == nil && running.JobID != nil {
		if _, err := s.river.JobCancel(ctx, *running.JobID); err != nil {
			s.logger.WarnContext(ctx, "agent: cancel the turn of a deleted session", "err", err)
		}
	}
	n, err := s.q.DeleteAgentSession(ctx, db.DeleteAgentSessionParams{ID: se.ID, WorkbookID: workbookID, OwnerID: ownerID})
	if err != nil {
		return fmt.Errorf("agent: delete session: %w", err)
	}
	if n == 0 {
		return errSessionNotFound
	}
	return nil
}
