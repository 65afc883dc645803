package workbooks

import (
	"context"
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
			rec, _, err := updateRecordTx(ctx, q, t, ownerID, u)
			if err != nil {
				return itemError(err, "updates", i)
			}
			res.Updated = append(res.Updated, rec)
			changed = append(changed, rec.ID)
		}
		for i, id := range b.Deletes {
			if _, err := deleteRecordTx(ctx, q, t, ownerID, id); err != nil {
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
