package imports

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// exportPageSize is how many records an export reads per page.
const exportPageSize = workbooks.MaxPageSize

// Export is a CSV export whose query has been checked, ready to stream.
type Export struct {
	Table workbooks.Table
	// Filename is a safe file name for the download.
	Filename string

	s       *Service
	ownerID string
	query   workbooks.RecordQuery
	first   workbooks.RecordPage
}

// PrepareExport checks an export of the owner's table (all records, or
// those matching q's filter, sort and quick filter) and reads its first
// page, so that errors surface before any CSV is written.
// Errors: NotFound, Invalid (a bad filter, sort or quick filter).
func (s *Service) PrepareExport(ctx context.Context, ownerID, workbookID, tableID string, q workbooks.RecordQuery) (*Export, error) {
	t, err := s.workbooks.FindTable(ctx, ownerID, workbookID, tableID)
	if err != nil {
		return nil, err
	}
	q.Cursor, q.Limit = "", exportPageSize
	first, err := s.workbooks.FindRecords(ctx, ownerID, workbookID, tableID, q)
	if err != nil {
		return nil, err
	}
	return &Export{Table: t, Filename: SafeFilename(t.Name) + ".csv", s: s, ownerID: ownerID, query: q, first: first}, nil
}

// WriteTo writes the header (the column names) and every record, page by
// page, calling flush after each page so the download streams. Deleted
// records and proposed (not yet accepted) records are left out; values are
// written in their canonical text form, workbooks.Column.Text, as the grid
// shows them.
func (e *Export) WriteTo(ctx context.Context, w io.Writer, flush func()) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(e.Table.Columns))
	for i, c := range e.Table.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	page := e.first
	cells := make([]string, len(e.Table.Columns))
	for {
		for _, r := range page.Records {
			if r.State == workbooks.StateDeleted || r.SuggestedAction == "create" {
				continue
			}
			for i, c := range e.Table.Columns {
				cells[i] = c.Text(r.Fields[c.ID])
			}
			if err := cw.Write(cells); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if flush != nil {
			flush()
		}
		if page.NextCursor == "" {
			return nil
		}
		q := e.query
		q.Cursor = page.NextCursor
		var err error
		if page, err = e.s.workbooks.FindRecords(ctx, e.ownerID, e.Table.WorkbookID, e.Table.ID, q); err != nil {
			return fmt.Errorf("imports: export page: %w", err)
		}
	}
}

// SafeFilename turns a table name into a file name without path separators,
// quotes or control characters, of at most 100 bytes.
func SafeFilename(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == ' ':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	out := strings.Trim(b.String(), " ._")
	if out == "" {
		return "table"
	}
	return out
}
