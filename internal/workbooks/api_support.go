package workbooks

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// This file holds what the JSON API needs beyond the methods the pages use:
// a batch of record changes in one transaction.

// MaxBatchSize bounds the creates, updates and deletes of one batch.
const MaxBatchSize = 1000

// BatchUpdate is one edit of a batch.
type BatchUpdate struct {
	RecordID string
	// Fields are keyed by column id or name.
	Fields map[string]any
	// Version must be the record's current version, as for UpdateRecord.
	Version int
}

// Batch is a set of record changes applied together: all of them or none.
type Batch struct {
	Creates []RecordFields
	Updates []BatchUpdate
	// Deletes are record ids, deleted as DeleteRecord does.
	Deletes []string
}

// BatchResult is what a batch did, in the order of its input.
type BatchResult struct {
	Created []Record
	Updated []Record
	Deleted []string
}

// BatchRecords applies creates, then updates, then deletes to a table in one
// transaction, with the same rules, audit entries and states as CreateRecord,
// UpdateRecord and DeleteRecord, and one live event for all of it. If any
// change fails nothing is written. Field errors are named after the change:
// "creates[0].Title", "updates[2].version". Errors: Invalid, TooLarge,
// NotFound (the table or a record), StaleVersion, Conflict (an update of a
// deleted record).
func (s *Service) BatchRecords(ctx context.Context, ownerID, workbookID, tableID string, b Batch) (BatchResult, error) {
	n := len(b.Creates) + len(b.Updates) + len(b.Deletes)
	if n == 0 {
		return BatchResult{}, apperr.New(apperr.Invalid, "The batch is empty: send creates, updates or deletes.")
	}
	if n > MaxBatchSize {
		return BatchResult{}, apperr.New(apperr.TooLarge, "A batch can hold at most %d changes.", MaxBatchSize)
	}
	res := BatchResult{Created: []Record{}, Updated: []Record{}, Deleted: []string{}}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		var changed []string
		for i, c := range b.Creates {
			rec, err := createRecordTx(ctx, q, t, ownerID, c.Fields)
			if err != nil {
				return itemError(err, "creates", i)
			}
			res.Created = append(res.Created, rec)
			changed = append(changed, rec.ID)
		}
		for i, u := range b.Updates {
			rec, err := s.updateRecordTx(ctx, q, t, ownerID, u)
			if err != nil {
				return itemError(err, "updates", i)
			}
			res.Updated = append(res.Updated, rec)
			changed = append(changed, rec.ID)
		}
		for i, id := range b.Deletes {
			if err := deleteRecordTx(ctx, q, t, ownerID, id); err != nil {
				return itemError(err, "deletes", i)
			}
			res.Deleted = append(res.Deleted, id)
			changed = append(changed, id)
		}
		return notify(ctx, tx, workbookID, change{Kind: "records.changed", TableID: tableID, RecordIDs: changed})
	})
	if err != nil {
		return BatchResult{}, wrap("batch records", err)
	}
	return res, nil
}

// itemError names the batch item in an error's field errors, or adds one
// pointing at the item when the error has none.
func itemError(err error, list string, i int) error {
	kind := apperr.KindOf(err)
	if kind == apperr.Internal {
		return err
	}
	prefix := fmt.Sprintf("%s[%d]", list, i)
	fields := apperr.FieldsOf(err)
	out := make([]apperr.FieldError, 0, max(len(fields), 1))
	for _, f := range fields {
		out = append(out, apperr.FieldError{Field: prefix + "." + f.Field, Message: f.Message})
	}
	if len(out) == 0 && kind == apperr.Invalid {
		out = append(out, apperr.FieldError{Field: prefix, Message: apperr.MessageOf(err)})
	}
	return &apperr.Error{Kind: kind, Message: prefix + ": " + apperr.MessageOf(err), Fields: out, Cause: err}
}

// createRecordTx is CreateRecord inside a transaction that has locked t.
func createRecordTx(ctx context.Context, q *db.Queries, t Table, actorID string, fields map[string]any) (Record, error) {
	changes, err := resolveFields(t.Columns, fields, true)
	if err != nil {
		return Record{}, err
	}
	stored := storedFields{}
	if _, err := stored.apply(changes); err != nil {
		return Record{}, err
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return Record{}, err
	}
	row, err := q.CreateRecord(ctx, db.CreateRecordParams{
		WorkbookID: t.WorkbookID, TableID: t.ID, Fields: b, EditedFields: dirtyKeys(t.Columns, keysOf(stored)),
	})
	if err != nil {
		return Record{}, err
	}
	rec, err := recordFromRow(row)
	if err != nil {
		return Record{}, err
	}
	return rec, auditChanges(ctx, q, t.WorkbookID, t.ID, rec.ID, actorID, "create", []fieldChange{{After: b}})
}

// updateRecordTx is UpdateRecord inside a transaction that has locked t.
func (s *Service) updateRecordTx(ctx context.Context, q *db.Queries, t Table, actorID string, u BatchUpdate) (Record, error) {
	row, err := lockRecord(ctx, q, t.WorkbookID, t.ID, u.RecordID)
	if err != nil {
		return Record{}, err
	}
	if int(row.Version) != u.Version {
		return Record{}, staleVersion(ctx, q, row, u.Version)
	}
	if row.State == string(StateDeleted) {
		return Record{}, apperr.New(apperr.Conflict, "This record is deleted; restore it before editing it.")
	}
	changes, err := resolveFields(t.Columns, u.Fields, false)
	if err != nil {
		return Record{}, err
	}
	stored, err := decodeStoredFields(row.Fields)
	if err != nil {
		return Record{}, err
	}
	applied, err := stored.apply(changes)
	if err != nil {
		return Record{}, err
	}
	if len(applied) == 0 {
		return s.withSuggestions(ctx, q, row)
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return Record{}, err
	}
	ids := make([]string, len(applied))
	for i, c := range applied {
		ids[i] = c.Field
	}
	row, err = q.UpdateRecordFields(ctx, db.UpdateRecordFieldsParams{
		WorkbookID: t.WorkbookID, TableID: t.ID, ID: u.RecordID, Fields: b, Changed: dirtyKeys(t.Columns, ids),
	})
	if err != nil {
		return Record{}, err
	}
	if err := auditChanges(ctx, q, t.WorkbookID, t.ID, u.RecordID, actorID, "edit", applied); err != nil {
		return Record{}, err
	}
	return s.withSuggestions(ctx, q, row)
}

// deleteRecordTx is DeleteRecord inside a transaction that has locked t.
func deleteRecordTx(ctx context.Context, q *db.Queries, t Table, actorID, recordID string) error {
	row, err := lockRecord(ctx, q, t.WorkbookID, t.ID, recordID)
	if err != nil {
		return err
	}
	switch RecordState(row.State) {
	case StateDeleted:
		return nil
	case StateCreated:
		err = q.RemoveRecord(ctx, db.RemoveRecordParams{WorkbookID: t.WorkbookID, TableID: t.ID, ID: recordID})
	default:
		_, err = q.MarkRecordDeleted(ctx, db.MarkRecordDeletedParams{WorkbookID: t.WorkbookID, TableID: t.ID, ID: recordID})
	}
	if err != nil {
		return err
	}
	return auditChanges(ctx, q, t.WorkbookID, t.ID, recordID, actorID, "delete", []fieldChange{{Before: row.Fields}})
}
