package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/views"
)

// userEvents is the per-user SSE stream every page's layout subscribes to:
// toasts and job progress for this person.
func (s *Server) userEvents(c echo.Context) error {
	u := mustUser(c)
	s.Broker.ServeHTTP(c.Response(), c.Request(), events.UserTopic(u.ID), events.FormatHTML)
	return nil
}

// EventRenderer turns live events into the HTML fragments browsers swap in.
// The broker calls it once per event per instance; fragments are the same
// templ components the pages render.
func EventRenderer(logger *slog.Logger) events.Renderer {
	return func(ctx context.Context, ev events.Event) []events.Message {
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

func toastMessage(ctx context.Context, logger *slog.Logger, kind, msg string) []events.Message {
	var buf bytes.Buffer
	if err := views.Toast(kind, msg).Render(ctx, &buf); err != nil {
		logger.ErrorContext(ctx, "render toast", "err", err)
		return nil
	}
	return []events.Message{{Name: "toast", Data: buf.Bytes()}}
}
