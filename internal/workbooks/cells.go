package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// This file holds the grid's edits of many cells at once: a paste of a
// spreadsheet range, an undo or redo, a revert to the pulled value. They
// go through the same path as one cell's edit (updateRecordTx), in one
// transaction: all of them or none.

// MaxCellEdits bounds the cells of one EditCells call, such as one paste.
// Each record is edited as UpdateRecord edits it, a few statements per
// record (BenchmarkEditCells: 10,000 cells of 5,000 records took about 5 s
// on a loaded 2-core machine), so a paste is bounded to a few seconds.
const MaxCellEdits = 10000

// CellEdit is one cell to change.
type CellEdit struct {
	RecordID string
	ColumnID string
	// Value is the new value, as UpdateRecord takes it.
	Value any
	// Revert sets the value the record had when last pulled instead of
	// Value.
	Revert bool
	// Version, when not nil, must be the record's current version: the
	// version the person saw when they made the edit.
	Version *int
	// Expect, when not nil, is the JSON value the cell must hold now
	// ("null" for an empty cell): an undo checks that nobody changed the
	// cell since the edit it undoes, whatever else changed in the record.
	Expect json.RawMessage
}

// CellChange is one cell an EditCells call changed, with its values before
// and after as JSON (null for an empty cell): what an undo needs.
type CellChange struct {
	RecordID string          `json:"record_id"`
	ColumnID string          `json:"column_id"`
	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
}

// CellEditResult is what EditCells did.
type CellEditResult struct {
	// Records are the edited records as they are now, in the order of
	// their first edit.
	Records []Record
	// Changes are the cells whose value changed, in the order of the
	// edits; a cell set to the value it held is not among them.
	Changes []CellChange
}

// EditCells applies a person's edits of many cells of a table in one
// transaction, each as UpdateRecord would (audit entries, edited fields,
// states), with one live event for all of them. Nothing is written if any
// edit is refused, so a paste is never half saved and nothing is
// overwritten silently: an edit made on an older version of its record, or
// expecting a value the cell no longer holds, refuses the whole call.
// Errors: Invalid (a read-only or unknown column, a value the column
// refuses, a revert of a record created here), TooLarge (more than
// MaxCellEdits cells), NotFound (the table or a record), StaleVersion,
// Conflict (a deleted record, a cell changed since).
func (s *Service) EditCells(ctx context.Context, ownerID, workbookID, tableID string, edits []CellEdit) (CellEditResult, error) {
	switch {
	case len(edits) == 0:
		return CellEditResult{}, apperr.New(apperr.Invalid, "There are no cells to change.")
	case len(edits) > MaxCellEdits:
		return CellEditResult{}, apperr.New(apperr.TooLarge,
			"%d cells at once is too many: at most %d cells can change together. Nothing was saved.", len(edits), MaxCellEdits)
	}
	// The edits of each record, in the order of its first edit.
	var order []string
	byRecord := map[string][]int{}
	for i, e := range edits {
		if _, ok := byRecord[e.RecordID]; !ok {
			order = append(order, e.RecordID)
		}
		byRecord[e.RecordID] = append(byRecord[e.RecordID], i)
	}
	res := CellEditResult{Records: make([]Record, 0, len(order)), Changes: []CellChange{}}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		for _, e := range edits {
			col, ok := t.Columns.ByID(e.ColumnID)
			if !ok {
				return apperr.New(apperr.Invalid, "The column %q is not a column of this table. Nothing was saved.", e.ColumnID)
			}
			if col.ReadOnly {
				return apperr.New(apperr.Invalid, "%s is read-only: its cells cannot be changed here. Nothing was saved.", col.Name)
			}
		}
		for _, id := range order {
			rec, changes, err := editRecordCells(ctx, q, t, ownerID, id, edits, byRecord[id])
			if err != nil {
				return err
			}
			res.Records = append(res.Records, rec)
			res.Changes = append(res.Changes, changes...)
		}
		return notify(ctx, tx, workbookID, change{Kind: "records.changed", TableID: tableID, RecordIDs: order})
	})
	if err != nil {
		return CellEditResult{}, wrap("edit cells", err)
	}
	return res, nil
}

// editRecordCells applies the edits at idx, all of record id, checking
// their versions and expected values against the locked record first.
func editRecordCells(ctx context.Context, q *db.Queries, t Table, actorID, id string, edits []CellEdit, idx []int) (Record, []CellChange, error) {
	row, err := lockRecord(ctx, q, t.WorkbookID, t.ID, id)
	if err != nil {
		return Record{}, nil, err
	}
	stored, err := decodeStoredFields(row.Fields)
	if err != nil {
		return Record{}, nil, err
	}
	var original map[string]any // the pulled values, decoded when a revert asks
	fields := map[string]any{}
	for _, i := range idx {
		e := edits[i]
		col, _ := t.Columns.ByID(e.ColumnID)
		if e.Version != nil && *e.Version != int(row.Version) {
			return Record{}, nil, staleVersion(ctx, q, row, *e.Version)
		}
		if e.Expect != nil && !jsonEqual(stored[col.ID], e.Expect) {
			return Record{}, nil, apperr.New(apperr.Conflict,
				"%s was changed by someone else since (it now holds %s). It was left as it is.", col.Name, shownJSON(stored[col.ID]))
		}
		if !e.Revert {
			fields[col.ID] = e.Value
			continue
		}
		if row.State == string(StateCreated) {
			return Record{}, nil, apperr.New(apperr.Invalid, "This record was created here: %s has no pulled value to go back to.", col.Name)
		}
		if original == nil {
			rec, err := recordFromRow(row)
			if err != nil {
				return Record{}, nil, err
			}
			if original, err = rec.Original(); err != nil {
				return Record{}, nil, err
			}
		}
		fields[col.ID] = original[col.ID] // nil when the pulled record had no value
	}
	rec, _, err := updateRecordTx(ctx, q, t, actorID, BatchUpdate{RecordID: id, Fields: fields, Version: int(row.Version)})
	if err != nil {
		return Record{}, nil, refusedValues(err)
	}
	var changes []CellChange
	seen := map[string]bool{}
	for _, i := range idx {
		colID := edits[i].ColumnID
		if seen[colID] {
			continue
		}
		seen[colID] = true
		before := stored[colID]
		after, err := json.Marshal(rec.Fields[colID])
		if err != nil {
			return Record{}, nil, fmt.Errorf("workbooks: encode value: %w", err)
		}
		if isJSONNull(before) {
			before = json.RawMessage("null")
		}
		if jsonEqual(before, after) {
			continue
		}
		changes = append(changes, CellChange{RecordID: id, ColumnID: colID, Before: before, After: after})
	}
	return rec, changes, nil
}

// shownJSON is a stored value as a message quotes it: text as it is,
// anything else as JSON, cut to a readable length.
func shownJSON(b json.RawMessage) string {
	if isJSONNull(b) {
		return "no value"
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		s = string(b)
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return "“" + s + "”"
}

// refusedValues words a refusal of values for a change of many cells: which
// columns refused what, and that nothing was saved.
func refusedValues(err error) error {
	fields := apperr.FieldsOf(err)
	if !apperr.Is(err, apperr.Invalid) || len(fields) == 0 {
		return err
	}
	msg := ""
	for i, f := range fields {
		if i > 0 {
			msg += "; "
		}
		msg += f.Field + " " + f.Message
	}
	return &apperr.Error{Kind: apperr.Invalid, Message: msg + ". Nothing was saved.", Fields: fields, Cause: err}
}

// FindCellValues returns the values of some records of t, a table of the
// owner's (found with FindTable), by record id: what a copy of a range of
// the grid holds in full where the grid shows values cut short. Ids that
// name no record of t are left out. Errors: TooLarge (more than
// MaxCellEdits records).
func (s *Service) FindCellValues(ctx context.Context, ownerID string, t Table, recordIDs []string) (map[string]map[string]any, error) {
	if len(recordIDs) > MaxCellEdits {
		return nil, apperr.New(apperr.TooLarge, "At most %d records can be copied at once.", MaxCellEdits)
	}
	if !t.ownedBy(ownerID) {
		return nil, errTableNotFound
	}
	valid := slices.DeleteFunc(slices.Clone(recordIDs), func(id string) bool { return !ids.ValidUUID(id) })
	out := map[string]map[string]any{}
	if len(valid) == 0 {
		return out, nil
	}
	rows, err := s.q.ListRecordsByIDs(ctx, db.ListRecordsByIDsParams{WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: valid})
	if err != nil {
		return nil, fmt.Errorf("workbooks: cell values: %w", err)
	}
	for _, r := range rows {
		f, err := decodeJSONObject(r.Fields)
		if err != nil {
			return nil, err
		}
		out[r.ID] = f
	}
	return out, nil
}
