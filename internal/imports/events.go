package imports

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scratchpad/scratchpad/internal/events"
)

// Progress is the state of an import as live events carry it: counts, never
// content, so it fits a NOTIFY payload.
type Progress struct {
	UploadID   string `json:"upload_id"`
	WorkbookID string `json:"workbook_id"`
	TableID    string `json:"table_id,omitempty"`
	Filename   string `json:"filename"`
	Status     string `json:"status"`
	Rows       int64  `json:"rows"`
	Rejected   int64  `json:"rejected"`
	CellErrors int64  `json:"cell_errors"`
	Bytes      int64  `json:"bytes"`
	Total      int64  `json:"total"`
	Error      string `json:"error,omitempty"`
}

// Progress returns the upload's import state.
func (u Upload) Progress() Progress {
	return Progress{
		UploadID: u.ID, WorkbookID: u.WorkbookID, TableID: u.TableID, Filename: u.Filename, Status: u.Status,
		Rows: u.RowsImported, Rejected: u.RowsRejected, CellErrors: u.CellErrors, Bytes: u.BytesDone,
		Total: u.SizeBytes, Error: u.Error,
	}
}

// The types of import events on a workbook's topic.
const (
	EventProgress  = "import.progress"
	EventDone      = "import.done"
	EventFailed    = "import.failed"
	EventCancelled = "import.cancelled"
)

// ProgressFromEvent decodes the data of an import event.
func ProgressFromEvent(data []byte) (Progress, error) {
	var p Progress
	if err := json.Unmarshal(data, &p); err != nil {
		return Progress{}, fmt.Errorf("imports: decode event: %w", err)
	}
	return p, nil
}

func eventType(status string) string {
	switch status {
	case StatusDone:
		return EventDone
	case StatusFailed:
		return EventFailed
	case StatusCancelled:
		return EventCancelled
	}
	return EventProgress
}

// notifyProgress tells the workbook's viewers where the import stands,
// inside tx so the event follows the commit of what it reports.
func (s *Service) notifyProgress(ctx context.Context, tx events.Execer, u Upload) error {
	p := u.Progress()
	if len(p.Filename) > 200 {
		p.Filename = p.Filename[:200]
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return events.Notify(ctx, tx, events.Event{Topic: events.WorkbookTopic(u.WorkbookID), Type: eventType(u.Status), Data: data})
}

// notifyToast tells the owner, wherever they are in the app, that the import
// ended.
func notifyToast(ctx context.Context, tx events.Execer, u Upload) error {
	kind, msg := "success", fmt.Sprintf("Imported %d rows from %s.", u.RowsImported, shortName(u.Filename))
	switch u.Status {
	case StatusFailed:
		kind, msg = "error", fmt.Sprintf("The import of %s failed after %d rows.", shortName(u.Filename), u.RowsImported)
	case StatusCancelled:
		kind, msg = "info", fmt.Sprintf("The import of %s was cancelled after %d rows.", shortName(u.Filename), u.RowsImported)
	}
	if n := u.RowsRejected + u.CellErrors; n > 0 && u.Status == StatusDone {
		kind = "info"
		msg += fmt.Sprintf(" %d rows were rejected and %d cells could not be converted; see the import page.", u.RowsRejected, u.CellErrors)
	}
	data, err := json.Marshal(map[string]string{"kind": kind, "message": msg})
	if err != nil {
		return err
	}
	return events.Notify(ctx, tx, events.Event{Topic: events.UserTopic(u.OwnerID), Type: "toast", Data: data})
}

func shortName(name string) string {
	r := []rune(name)
	if len(r) > 60 {
		return string(r[:57]) + "…"
	}
	return name
}
