package workbooks

import (
	"context"
	"fmt"
	"slices"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// FindRecordsForLive loads some records of a table, with their pending
// suggestions, so that a live update can show them as they are now. It
// returns the table and those of recordIDs that still exist, in no particular
// order; ids that do not exist (removed drafts, malformed ids) are left out.
//
// Unlike every other method it is not scoped to an owner: the event broker
// renders each workbook event once for all subscribers of the workbook's
// topic, and only the workbook's owner can subscribe to that topic (the
// handler checks ownership before subscribing). Nothing else may call it.
// Errors: NotFound (the table).
func (s *Service) FindRecordsForLive(ctx context.Context, workbookID, tableID string, recordIDs []string) (Table, []Record, error) {
	if !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return Table{}, nil, errTableNotFound
	}
	rows, err := s.q.ListTables(ctx, workbookID)
	if err != nil {
		return Table{}, nil, fmt.Errorf("workbooks: live tables: %w", err)
	}
	i := slices.IndexFunc(rows, func(r db.WorkbookTable) bool { return r.ID == tableID })
	if i < 0 {
		return Table{}, nil, errTableNotFound
	}
	t, err := tableFromRow(rows[i])
	if err != nil {
		return Table{}, nil, err
	}
	valid := slices.DeleteFunc(slices.Clone(recordIDs), func(id string) bool { return !ids.ValidUUID(id) })
	if len(valid) == 0 {
		return t, nil, nil
	}
	recs, err := s.q.ListRecordsByIDs(ctx, db.ListRecordsByIDsParams{WorkbookID: workbookID, TableID: tableID, RecordIds: valid})
	if err != nil {
		return Table{}, nil, fmt.Errorf("workbooks: live records: %w", err)
	}
	out, err := recordsWithSuggestions(ctx, s.q, workbookID, tableID, recs)
	if err != nil {
		return Table{}, nil, err
	}
	return t, out, nil
}
