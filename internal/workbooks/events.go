package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/scratchpad/scratchpad/internal/events"
)

// maxEventRecordIDs is how many record ids an event names; beyond that it
// says "bulk" and viewers reload the table. A UUID costs 39 bytes in the
// payload, so 150 of them use about three quarters of
// events.MaxPayloadBytes; notify also falls back to bulk by size.
const maxEventRecordIDs = 150

// Change is the payload of a record-store event: what kind of change, in
// which table, to which records (or "bulk" when too many to name).
type Change struct {
	Kind      string   `json:"kind"`
	TableID   string   `json:"table_id,omitempty"`
	RecordIDs []string `json:"record_ids,omitempty"`
	Bulk      bool     `json:"bulk,omitempty"`
}

// change is the short name used inside the package.
type change = Change

// ParseChange decodes the Data of a record-store event.
func ParseChange(data []byte) (Change, error) {
	var c Change
	err := json.Unmarshal(data, &c)
	return c, err
}

// eventEnvelopeBytes is room for the topic, type and JSON framing that
// events.Notify adds around the data.
const eventEnvelopeBytes = 200

// touchEvery is how stale a workbook's last change may get before a change
// to its records moves it: the row is written at most once a minute, and
// never waited for, so concurrent edits do not queue on it.
const touchEvery = "1 minute"

// notify sends one event about c on the workbook's topic inside tx, so it
// reaches viewers only if the change commits. Every change goes through
// here, so it also moves the workbook's last change (throttled: touchEvery).
func notify(ctx context.Context, tx events.Execer, workbookID string, c change) error {
	// SKIP LOCKED: a change never waits for (or deadlocks with) another
	// transaction moving the same workbook; that one moves it.
	if _, err := tx.Exec(ctx, `UPDATE workbooks SET updated_at = now()
		WHERE id = (SELECT id FROM workbooks WHERE id = $1 AND updated_at < now() - $2::interval
			FOR NO KEY UPDATE SKIP LOCKED)`, workbookID, touchEvery); err != nil {
		return fmt.Errorf("workbooks: touch workbook: %w", err)
	}
	if len(c.RecordIDs) > 0 {
		ids := slices.Clone(c.RecordIDs)
		slices.Sort(ids)
		c.RecordIDs = slices.Compact(ids)
	}
	if len(c.RecordIDs) > maxEventRecordIDs {
		c.RecordIDs, c.Bulk = nil, true
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("workbooks: encode event: %w", err)
	}
	if len(data)+eventEnvelopeBytes > events.MaxPayloadBytes {
		c.RecordIDs, c.Bulk = nil, true
		if data, err = json.Marshal(c); err != nil {
			return fmt.Errorf("workbooks: encode event: %w", err)
		}
	}
	return events.Notify(ctx, tx, events.Event{Topic: events.WorkbookTopic(workbookID), Type: c.Kind, Data: data})
}
