package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/scratchpad/scratchpad/internal/events"
)

// maxEventRecordIDs is how many record ids an event names; beyond that it
// says "bulk" and viewers reload the table. 200 UUIDs keep the payload far
// below events.MaxPayloadBytes.
const maxEventRecordIDs = 200

// change is the payload of a record-store event.
type change struct {
	Kind      string   `json:"kind"`
	TableID   string   `json:"table_id,omitempty"`
	RecordIDs []string `json:"record_ids,omitempty"`
	Bulk      bool     `json:"bulk,omitempty"`
}

// notify sends one event about c on the workbook's topic inside tx, so it
// reaches viewers only if the change commits.
func notify(ctx context.Context, tx events.Execer, workbookID string, c change) error {
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
	return events.Notify(ctx, tx, events.Event{Topic: events.WorkbookTopic(workbookID), Type: c.Kind, Data: data})
}
