package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Channel is the one PostgreSQL NOTIFY channel that carries every event; see
// the package documentation for why there is only one.
const Channel = "scratchpad_events"

// MaxPayloadBytes is the largest JSON payload Notify sends. PostgreSQL rejects
// NOTIFY payloads of 8000 bytes or more; the margin keeps us clear of that
// limit, and events are meant to carry ids, never rendered content.
const MaxPayloadBytes = 7900

// ErrPayloadTooLarge is returned (wrapped) by Notify when an event encodes to
// more than MaxPayloadBytes.
var ErrPayloadTooLarge = errors.New("events: payload too large")

// ErrInvalidEvent is returned (wrapped) by Notify when an event has no topic,
// no type, or a type that cannot be an SSE event name.
var ErrInvalidEvent = errors.New("events: invalid event")

// Event is one live update. Topic selects who receives it, Type names what
// happened (it becomes the SSE event name for JSON subscribers) and Data holds
// small JSON details such as ids.
type Event struct {
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data"`
}

// UserTopic returns the topic for events addressed to one user, such as job
// progress or agent output.
func UserTopic(id string) string { return "user:" + id }

// userOfTopic returns the user of a UserTopic.
func userOfTopic(topic string) (id string, ok bool) { return strings.CutPrefix(topic, "user:") }

// WorkbookTopic returns the topic for events about one workbook, which every
// viewer of that workbook receives.
func WorkbookTopic(id string) string { return "workbook:" + id }

// Execer is the part of pgx.Tx, pgx.Conn and pgxpool.Pool that Notify needs.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Notify sends ev to every Listener on the database. Pass the transaction that
// makes the change: PostgreSQL delivers the notification only if and when it
// commits, and drops it on rollback. Passing a pool sends it at once.
//
// It returns an error wrapping ErrInvalidEvent when ev is malformed,
// ErrPayloadTooLarge when it encodes to more than MaxPayloadBytes, and the
// database error otherwise.
func Notify(ctx context.Context, db Execer, ev Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("%w: encode %s event for %s: %w", ErrInvalidEvent, ev.Type, ev.Topic, err)
	}
	if len(payload) > MaxPayloadBytes {
		return fmt.Errorf("%w: %s event for %s is %d bytes, the limit is %d; send ids, not content",
			ErrPayloadTooLarge, ev.Type, ev.Topic, len(payload), MaxPayloadBytes)
	}
	if _, err := db.Exec(ctx, "select pg_notify('"+Channel+"', $1)", string(payload)); err != nil {
		return fmt.Errorf("events: notify %s event for %s: %w", ev.Type, ev.Topic, err)
	}
	return nil
}

// validate reports whether ev can travel through NOTIFY and be written as SSE.
func (ev Event) validate() error {
	switch {
	case ev.Topic == "":
		return fmt.Errorf("%w: empty topic", ErrInvalidEvent)
	case ev.Type == "":
		return fmt.Errorf("%w: empty type for topic %s", ErrInvalidEvent, ev.Topic)
	case !validEventName(ev.Type):
		return fmt.Errorf("%w: type %q contains a line break", ErrInvalidEvent, ev.Type)
	}
	return nil
}

// validEventName reports whether name can follow "event:" on one SSE line.
func validEventName(name string) bool {
	return !strings.ContainsAny(name, "\r\n\x00")
}
