package syncs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scratchpad/scratchpad/internal/events"
)

// The types of sync events. Progress goes to the workbook's topic (its
// grids show a pull's progress) and to the owner's (the jobs page).
const (
	EventProgress = "sync.progress"
	EventToast    = "toast"
)

// Progress is a sync as live events carry it: counts, never content.
type Progress struct {
	SyncID     string          `json:"sync_id"`
	WorkbookID string          `json:"workbook_id"`
	Kind       string          `json:"kind"`
	Status     string          `json:"status"`
	Error      string          `json:"error,omitempty"`
	Tables     []TableProgress `json:"tables"`
}

// TableProgress is one table's part of Progress.
type TableProgress struct {
	TableID   string `json:"table_id"`
	Phase     string `json:"phase"`
	Done      int64  `json:"done"`
	Total     int64  `json:"total"`
	Conflicts int    `json:"conflicts,omitempty"`
	Failed    int    `json:"failed,omitempty"`
}

// Progress returns the sync's progress.
func (s Sync) Progress() Progress {
	p := Progress{SyncID: s.ID, WorkbookID: s.WorkbookID, Kind: s.Kind, Status: s.Status, Error: s.Error}
	for _, t := range s.Tables {
		p.Tables = append(p.Tables, TableProgress{TableID: t.TableID, Phase: t.Phase, Done: t.Done, Total: t.Total,
			Conflicts: t.Conflicts, Failed: t.Failed})
	}
	return p
}

// ProgressFromEvent decodes the data of a sync.progress event.
func ProgressFromEvent(data []byte) (Progress, error) {
	var p Progress
	if err := json.Unmarshal(data, &p); err != nil {
		return Progress{}, fmt.Errorf("syncs: decode event: %w", err)
	}
	return p, nil
}

// maxEventTables bounds the tables a progress event lists, to stay within a
// NOTIFY payload; a sync of more tables reports its first ones.
const maxEventTables = 40

// notifyProgress tells the workbook's viewers and the owner where sy
// stands, inside tx so the event follows the commit of what it reports.
func notifyProgress(ctx context.Context, tx events.Execer, sy Sync) error {
	p := sy.Progress()
	if len(p.Tables) > maxEventTables {
		p.Tables = p.Tables[:maxEventTables]
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	for _, topic := range []string{events.WorkbookTopic(sy.WorkbookID), events.UserTopic(sy.OwnerID)} {
		if err := events.Notify(ctx, tx, events.Event{Topic: topic, Type: EventProgress, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// notifyEnd tells the owner, wherever they are in the app, how the sync
// ended.
func notifyEnd(ctx context.Context, tx events.Execer, sy Sync) error {
	kind, msg := "success", endMessage(sy)
	switch sy.Status {
	case StatusFailed:
		kind = "error"
	case StatusCancelled:
		kind = "info"
	}
	if c := sy.Counts(); sy.Status == StatusDone && (c.Conflicts > 0 || c.Failed > 0) {
		kind = "warning"
	}
	data, err := json.Marshal(map[string]string{"kind": kind, "message": msg})
	if err != nil {
		return err
	}
	return events.Notify(ctx, tx, events.Event{Topic: events.UserTopic(sy.OwnerID), Type: EventToast, Data: data})
}

// endMessage says in a sentence how a sync ended.
func endMessage(sy Sync) string {
	what := "Pull"
	if sy.Kind == KindPublish {
		what = "Publish"
	}
	c := sy.Counts()
	switch sy.Status {
	case StatusFailed:
		if sy.Error != "" {
			return fmt.Sprintf("%s failed: %s", what, sy.Error)
		}
		return what + " failed."
	case StatusCancelled:
		return what + " cancelled; what it finished is kept."
	}
	if sy.Kind == KindPull {
		msg := fmt.Sprintf("Pull finished: %d records read, %d new, %d changed, %d removed.", c.Done, c.Created, c.Updated, c.Deleted)
		if c.Conflicts > 0 {
			msg += fmt.Sprintf(" %d records have conflicts to resolve.", c.Conflicts)
		}
		return msg
	}
	msg := fmt.Sprintf("Publish finished: %d created, %d updated, %d deleted at the source.", c.Created, c.Updated, c.Deleted)
	if c.Conflicts > 0 {
		msg += fmt.Sprintf(" %d records have conflicts to resolve.", c.Conflicts)
	}
	if c.Failed > 0 {
		msg += fmt.Sprintf(" %d records failed; they are kept for a retry.", c.Failed)
	}
	return msg
}
