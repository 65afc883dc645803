package workbooks

import (
	"context"
	"fmt"

	"github.com/scratchpad/scratchpad/internal/db"
)

// FindRecordsForLive loads some records of a table, with their pending
// suggestions, so that a live update can show them as they are now. It
// returns the table and those of ids that still exist, in no particular
// order; ids that do not exist (removed drafts, malformed ids) are left out.
//
// Unlike every other method it is not scoped to an owner: the event broker
// renders each workbook event once for all subscribers of the workbook's
// topic, and only the workbook's owner can subscribe to that topic (the
// handler checks ownership before subscribing). Nothing else may call it.
// Errors: NotFound (the table).
func (s *Service) FindRecordsForLive(ctx context.Context, workbookID, tableID string, ids []string) (Table, []Record, error) {
	if !looksLikeUUID(workbookID) || !looksLikeUUID(tableID) {
		return Table{}, nil, errTableNotFound
	}
	rows, err := s.q.ListTables(ctx, workbookID)
	if err != nil {
		return Table{}, nil, fmt.Errorf("workbooks: live tables: %w", err)
	}
	var t Table
	found := false
	for _, r := range rows {
		if r.ID == tableID {
			if t, err = tableFromRow(r); err != nil {
				return Table{}, nil, err
			}
			found = true
			break
		}
	}
	if !found {
		return Table{}, nil, errTableNotFound
	}
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if looksLikeUUID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return t, nil, nil
	}
	// Selected by primary key within one table; the id list is a bind
	// parameter.
	q, err := s.pool.Query(ctx, "SELECT "+recordColumns+` FROM records r
		WHERE r.workbook_id = $1 AND r.table_id = $2 AND r.id = ANY($3::text[]::uuid[])`,
		workbookID, tableID, valid)
	if err != nil {
		return Table{}, nil, fmt.Errorf("workbooks: live records: %w", err)
	}
	var recs []db.Record
	for q.Next() {
		var r db.Record
		if err := q.Scan(&r.WorkbookID, &r.TableID, &r.ID, &r.Seq, &r.RemoteID, &r.Fields, &r.Original, &r.State,
			&r.EditedFields, &r.Errors, &r.Version, &r.CreatedAt, &r.UpdatedAt); err != nil {
			q.Close()
			return Table{}, nil, fmt.Errorf("workbooks: scan live record: %w", err)
		}
		recs = append(recs, r)
	}
	if err := q.Err(); err != nil {
		return Table{}, nil, fmt.Errorf("workbooks: live records: %w", err)
	}
	out, err := recordsWithSuggestions(ctx, s.q, workbookID, tableID, recs)
	if err != nil {
		return Table{}, nil, err
	}
	return t, out, nil
}
