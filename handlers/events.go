package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// userEvents is the per-user SSE stream every page's layout subscribes to:
// toasts and job progress for this person.
func (s *Server) userEvents(c echo.Context) error {
	u := mustUser(c)
	s.Broker.ServeHTTP(c.Response(), c.Request(), events.UserTopic(u.ID), events.FormatHTML, s.streamCredentials(c))
	return nil
}

// streamCredentials are what the request's event stream runs on, so that
// the broker ends the stream when they end: its API token, its browser
// session, or, for a Clerk sign-in, the account itself (Clerk's short-lived
// token is renewed in the browser, out of an open stream's sight).
func (s *Server) streamCredentials(c echo.Context) events.Credentials {
	u := mustUser(c)
	creds := events.Credentials{UserID: u.ID}
	ctx := c.Request().Context()
	// API requests have no browser session: look at the token first.
	if tok, ok := c.Get(tokenContextKey).(accounts.Token); ok {
		creds.Check = func(ctx context.Context) error { return s.Accounts.CheckToken(ctx, tok.ID) }
		if tok.ExpiresAt != nil {
			creds.ExpiresAt = *tok.ExpiresAt
		}
		return creds
	}
	if s.Sessions.GetString(ctx, SessionUserKey) == u.ID {
		token := s.Sessions.Token(ctx)
		creds.Check = func(ctx context.Context) error { return s.Accounts.CheckSession(ctx, token) }
		return creds
	}
	creds.Check = func(ctx context.Context) error { return s.Accounts.CheckUser(ctx, u.ID) }
	return creds
}

// renderTimeout bounds the rendering of one live event.
const renderTimeout = 3 * time.Second

// EventRendererDeps are what EventRenderer needs to render live fragments.
type EventRendererDeps struct {
	Logger *slog.Logger
	// Workbooks loads the records a workbook event names.
	Workbooks *workbooks.Service
	// Extra renderers are asked first, in order; the first that reports an
	// event as handled decides its messages. Other parts of the app (CSV
	// import progress, say) plug in here.
	Extra []func(ctx context.Context, ev events.Event) ([]events.Message, bool)
}

// EventRenderer turns live events into the HTML fragments browsers swap in.
// The broker calls it once per event per instance; fragments are the same
// templ components the pages render.
func EventRenderer(d EventRendererDeps) events.Renderer {
	logger := d.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, ev events.Event) []events.Message {
		// The broker renders on the listener's goroutine, so a slow query
		// here would hold up every live update of this instance: bound it.
		ctx, cancel := context.WithTimeout(ctx, renderTimeout)
		defer cancel()
		for _, extra := range d.Extra {
			if msgs, ok := extra(ctx, ev); ok {
				return msgs
			}
		}
		if isWorkbookTopic(ev.Topic) {
			return renderWorkbookEvent(ctx, logger, d.Workbooks, ev)
		}
		switch ev.Type {
		case "account.changed":
			var d struct {
				Action   string `json:"action"`
				Role     string `json:"role"`
				Disabled bool   `json:"disabled"`
			}
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				logger.WarnContext(ctx, "bad account event", "err", err)
				return nil
			}
			msg := "Your account was updated."
			switch d.Action {
			case "user.role_changed":
				msg = "Your role is now " + d.Role + ". Reload to see what changed."
			case "user.disabled":
				msg = "Your account was disabled."
			}
			return toastMessage(ctx, logger, "info", msg)
		case "toast":
			var d struct {
				Kind    string `json:"kind"`
				Message string `json:"message"`
			}
			if json.Unmarshal(ev.Data, &d) != nil {
				return nil
			}
			return toastMessage(ctx, logger, d.Kind, d.Message)
		}
		return nil
	}
}

// renderWorkbookEvent renders a record store event for the grids showing the
// table:
//
//   - rec-{id}: each named record's row as it is now (or an empty, hidden
//     row for a record that no longer exists), which the row swaps in place;
//   - rows-{table}: instead of rec-{id}, when the event names more than
//     liveRowMessages records: all their rows in one message, which the
//     grid swaps row by row. One message per row would outrun a
//     subscriber's queue on a fill of a hundred rows, and the broker
//     drops a subscriber whose queue is full;
//   - rec-new-{table}: the rows of records just created, which the grid adds
//     when it does not show them yet;
//   - grid-refresh-{table}: for bulk changes, the grid reloads its first page;
//   - counters-{table}: the counters fetch themselves again (they are counted
//     per viewer, so they are not rendered here);
//   - table-changed-{table}: the table's columns or name changed.
func renderWorkbookEvent(ctx context.Context, logger *slog.Logger, store *workbooks.Service, ev events.Event) []events.Message {
	ch, err := workbooks.ParseChange(ev.Data)
	if err != nil {
		logger.WarnContext(ctx, "bad workbook event", "type", ev.Type, "err", err)
		return nil
	}
	if ch.TableID == "" {
		return nil
	}
	tick := []byte(ch.Kind)
	switch {
	case ev.Type == "table.updated" || ev.Type == "table.deleted":
		return []events.Message{{Name: "table-changed-" + ch.TableID, Data: tick}}
	case !strings.HasPrefix(ev.Type, "record") && !strings.HasPrefix(ev.Type, "suggestions."):
		return nil
	}
	counters := events.Message{Name: "counters-" + ch.TableID, Data: tick}
	if ch.Bulk || len(ch.RecordIDs) == 0 || store == nil {
		return []events.Message{{Name: "grid-refresh-" + ch.TableID, Data: tick}, counters}
	}
	t, recs, err := store.FindRecordsForLive(ctx, workbookIDOf(ev.Topic), ch.TableID, ch.RecordIDs)
	if err != nil {
		logger.WarnContext(ctx, "load records for live update", "type", ev.Type, "err", err)
		return []events.Message{counters}
	}
	g := views.NewGridContext(t)
	byID := make(map[string]workbooks.Record, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	msgs := make([]events.Message, 0, min(len(ch.RecordIDs), liveRowMessages)+3)
	var created, combined bytes.Buffer
	together := len(ch.RecordIDs) > liveRowMessages
	for _, id := range ch.RecordIDs {
		rec, ok := byID[id]
		if !ok {
			if gone, err := renderFragment(ctx, views.RemovedGridRow(id)); err == nil {
				if together {
					combined.Write(gone)
				} else {
					msgs = append(msgs, events.Message{Name: "rec-" + id, Data: gone})
				}
			}
			continue
		}
		row, err := renderFragment(ctx, views.GridRow(g, rec, views.CellState{}))
		if err != nil {
			logger.ErrorContext(ctx, "render live row", "err", err)
			continue
		}
		if together {
			combined.Write(row)
		} else {
			msgs = append(msgs, events.Message{Name: "rec-" + id, Data: row})
		}
		if ev.Type == "record.created" || rec.SuggestedAction == "create" {
			created.Write(row)
		}
	}
	if combined.Len() > 0 {
		msgs = append(msgs, events.Message{Name: "rows-" + ch.TableID, Data: combined.Bytes()})
	}
	if created.Len() > 0 {
		msgs = append(msgs, events.Message{Name: "rec-new-" + ch.TableID, Data: created.Bytes()})
	}
	return append(msgs, counters)
}

// liveRowMessages is how many rows of one event go out as messages of
// their own (rec-{id}); more go out together (rows-{table}). It stays well
// below the broker's queue (events.DefaultBufferSize).
const liveRowMessages = 16

func workbookIDOf(topic string) string { return strings.TrimPrefix(topic, "workbook:") }

func renderFragment(ctx context.Context, comp templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func toastMessage(ctx context.Context, logger *slog.Logger, kind, msg string) []events.Message {
	var buf bytes.Buffer
	if err := views.Toast(kind, msg).Render(ctx, &buf); err != nil {
		logger.ErrorContext(ctx, "render toast", "err", err)
		return nil
	}
	return []events.Message{{Name: "toast", Data: buf.Bytes()}}
}
