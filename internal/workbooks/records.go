package workbooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// RecordState is where a record stands relative to its source.
type RecordState string

// The record states.
const (
	// StateClean records hold what was last pulled.
	StateClean RecordState = "clean"
	// StateCreated records were created here and are not at the source yet.
	StateCreated RecordState = "created"
	// StateUpdated records have edited fields waiting to be published.
	StateUpdated RecordState = "updated"
	// StateDeleted records are deleted here and kept until the publish
	// deletes them at the source.
	StateDeleted RecordState = "deleted"
)

// Record is one row of a table.
type Record struct {
	ID       string
	RemoteID string
	// Version increases with every change; edits must name the version they
	// were made on.
	Version int
	State   RecordState
	// Fields are the current values by column id, in canonical form; numbers
	// are json.Number.
	Fields map[string]any
	// original is the stored JSON of the values as last pulled of the
	// fields changed since, nil when the record stores none; Original
	// decodes it on demand, so listings, which never show it, do not pay
	// for decoding it.
	original     json.RawMessage
	EditedFields []string
	// Suggestions are the pending suggested values by column id (nil for a
	// suggestion to empty the cell).
	Suggestions map[string]any
	// SuggestedAction is "create" for a proposed new record (a draft),
	// "delete" for a record proposed for deletion, and "" otherwise.
	SuggestedAction string
	// Problems are what a CSV import or a pull could not read of the
	// record, by column id.
	Problems map[string]string
	// PublishErrors are why the last publish could not write the record, by
	// column id ("" for the record as a whole); the changes stay for a
	// retry.
	PublishErrors map[string]string
	// Conflicts are the source's values of fields that changed there since
	// the pull and were edited here too (nil for no value), by column id:
	// they are not published until the user keeps theirs or takes the
	// source's.
	Conflicts map[string]any
	// SourceDeleted says the source deleted the record while it was edited
	// here: the user re-creates it on the next publish or drops it.
	SourceDeleted bool
	// Publishing says a publish is creating the record at the source.
	Publishing bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Dirty reports whether the record has changes waiting to be published.
func (r Record) Dirty() bool { return r.State != StateClean }

func recordFromRow(r db.Record) (Record, error) {
	return recordFromRowText(r, "")
}

// recordFromRowText is recordFromRow with the record's fields as the JSON
// text fieldsText instead of r.Fields, when fieldsText is not empty:
// listings scan the fields into a string, one copy of each record's few
// kilobytes that the decoded values then share.
func recordFromRowText(r db.Record, fieldsText string) (Record, error) {
	rec := Record{
		ID: r.ID, Version: int(r.Version), State: RecordState(r.State), EditedFields: r.EditedFields,
		Suggestions: map[string]any{}, Problems: map[string]string{}, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		SourceDeleted: r.SourceDeletedAt != nil, Publishing: r.InflightSyncID != nil,
	}
	if r.RemoteID != nil {
		rec.RemoteID = *r.RemoteID
	}
	if !isJSONNull(r.Original) {
		rec.original = r.Original
	}
	var err error
	if fieldsText != "" {
		rec.Fields, err = decodeJSONObjectText(fieldsText)
	} else {
		rec.Fields, err = decodeJSONObject(r.Fields)
	}
	if err != nil {
		return Record{}, err
	}
	if len(r.Errors) > 0 && string(r.Errors) != "{}" {
		if err := json.Unmarshal(r.Errors, &rec.Problems); err != nil {
			return Record{}, fmt.Errorf("workbooks: decode record problems: %w", err)
		}
	}
	if !isJSONNull(r.PublishErrors) {
		if err := json.Unmarshal(r.PublishErrors, &rec.PublishErrors); err != nil {
			return Record{}, fmt.Errorf("workbooks: decode publish errors: %w", err)
		}
	}
	if !isJSONNull(r.Conflicts) {
		if rec.Conflicts, err = decodeJSONObject(r.Conflicts); err != nil {
			return Record{}, fmt.Errorf("workbooks: decode conflicts: %w", err)
		}
	}
	return rec, nil
}

// Original returns the values as last pulled, by column id: nil for a
// record created here. A record stores only the pulled values of the fields
// changed since (a sparse original, see sp_original in the migrations), so
// the others are read from Fields; a field that had no value is absent. It
// decodes the stored values on every call; the result is the caller's to
// change.
func (r Record) Original() (map[string]any, error) {
	if r.State == StateCreated {
		return nil, nil
	}
	orig := maps.Clone(r.Fields)
	if orig == nil {
		orig = map[string]any{}
	}
	if r.original == nil {
		return orig, nil
	}
	pulled, err := decodeJSONObject(r.original)
	if err != nil {
		return nil, err
	}
	for k, v := range pulled {
		if v == nil {
			delete(orig, k)
		} else {
			orig[k] = v
		}
	}
	return orig, nil
}

// OriginalValues returns the values of the columns cols as last pulled, by
// column id, as Original does for every column (nil for a record created
// here): what a publish's conflict check compares, without copying the
// record's other values.
func (r Record) OriginalValues(cols []string) (map[string]any, error) {
	if r.State == StateCreated {
		return nil, nil
	}
	var pulled map[string]any
	if r.original != nil {
		var err error
		if pulled, err = decodeJSONObject(r.original); err != nil {
			return nil, err
		}
	}
	out := make(map[string]any, len(cols))
	for _, c := range cols {
		if v, ok := pulled[c]; ok {
			if v != nil {
				out[c] = v
			}
		} else if v, ok := r.Fields[c]; ok {
			out[c] = v
		}
	}
	return out, nil
}

// addSuggestion records one pending suggestion on rec.
func (r *Record) addSuggestion(action string, field *string, value []byte) error {
	if action != "update" {
		r.SuggestedAction = action
		return nil
	}
	if field == nil {
		return nil
	}
	var v any
	if len(value) > 0 {
		d := json.NewDecoder(bytes.NewReader(value))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return fmt.Errorf("workbooks: decode suggestion: %w", err)
		}
	}
	r.Suggestions[*field] = v
	return nil
}

var errRecordNotFound = apperr.New(apperr.NotFound, "Record not found.")

// fieldChanges are the normalized values of an input by column id; a nil
// value empties the cell.
type fieldChanges map[string]any

// resolveFields maps input keyed by column id or name to normalized values
// by column id, checking read-only columns and, when creating, that required
// columns have a value. Errors: Invalid, listing every problem.
func resolveFields(cols Columns, input map[string]any, creating bool) (fieldChanges, error) {
	out := fieldChanges{}
	var problems []apperr.FieldError
	refused := map[string]bool{} // columns with a problem already
	for key, raw := range input {
		col, ok := cols.Lookup(key)
		if !ok {
			problems = append(problems, apperr.FieldError{Field: key, Message: "is not a column of this table"})
			continue
		}
		if col.ReadOnly {
			problems = append(problems, apperr.FieldError{Field: col.Name, Message: "is read-only"})
			continue
		}
		v, msg := normalize(col, raw)
		if msg == "" && v == nil && col.Required {
			msg = "is required"
		}
		if msg != "" {
			problems = append(problems, apperr.FieldError{Field: col.Name, Message: msg})
			refused[col.ID] = true
			continue
		}
		out[col.ID] = v
	}
	if creating {
		for _, c := range cols {
			if _, ok := out[c.ID]; !ok && c.Required && !c.ReadOnly && !refused[c.ID] {
				problems = append(problems, apperr.FieldError{Field: c.Name, Message: "is required"})
			}
		}
	}
	if len(problems) > 0 {
		slices.SortFunc(problems, func(a, b apperr.FieldError) int { return cmpString(a.Field, b.Field) })
		return nil, apperr.InvalidFields("Please correct the highlighted fields.", problems...)
	}
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// storedFields is a record's fields object with values kept as raw JSON, so
// values we do not change are written back byte for byte.
type storedFields map[string]json.RawMessage

func decodeStoredFields(b []byte) (storedFields, error) {
	f := storedFields{}
	if len(b) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("workbooks: decode record fields: %w", err)
	}
	return f, nil
}

// fieldChange is one changed cell, as audit entries record it.
type fieldChange struct {
	Field  string          `json:"field"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// apply sets the changes on f and returns the cells that really changed, in
// column id order.
func (f storedFields) apply(changes fieldChanges) ([]fieldChange, error) {
	var out []fieldChange
	for id, v := range changes {
		before := f[id]
		if isJSONNull(before) {
			before = nil
		}
		var after json.RawMessage
		if v != nil {
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("workbooks: encode value: %w", err)
			}
			after = b
		}
		if jsonEqual(before, after) {
			continue
		}
		if after == nil {
			delete(f, id)
		} else {
			f[id] = after
		}
		out = append(out, fieldChange{Field: id, Before: before, After: after})
	}
	slices.SortFunc(out, func(a, b fieldChange) int { return cmpString(a.Field, b.Field) })
	return out, nil
}

func isJSONNull(b json.RawMessage) bool { return len(b) == 0 || string(b) == "null" }

// jsonEqual reports whether two JSON values are equal, ignoring formatting.
func jsonEqual(a, b json.RawMessage) bool {
	if isJSONNull(a) || isJSONNull(b) {
		return isJSONNull(a) == isJSONNull(b)
	}
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// dirtyKeys returns the changed cells' column ids that count as edits: all
// but scratch columns.
func dirtyKeys(cols Columns, ids []string) []string {
	out := []string{}
	for _, id := range ids {
		if c, ok := cols.ByID(id); ok && c.Scratch {
			continue
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func auditChanges(ctx context.Context, q *db.Queries, workbookID, tableID, recordID, actorID, action string, changes []fieldChange) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	return q.InsertRecordChanges(ctx, db.InsertRecordChangesParams{
		WorkbookID: workbookID, TableID: tableID, RecordID: recordID, ActorID: &actorID, Action: action, Changes: b,
	})
}

// CreateRecord creates a record in a table, with fields keyed by column id
// or name. The record is in state created until it is published.
// Errors: Invalid, NotFound.
func (s *Service) CreateRecord(ctx context.Context, ownerID, workbookID, tableID string, fields map[string]any) (Record, error) {
	var rec Record
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		if rec, err = createRecordTx(ctx, q, t, ownerID, fields); err != nil {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "record.created", TableID: tableID, RecordIDs: []string{rec.ID}})
	})
	if err != nil {
		return Record{}, wrap("create record", err)
	}
	return rec, nil
}

// createRecordTx creates a record in t, whose table the transaction of q has
// locked, with its audit entry. The caller sends the event.
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

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// UpdateRecord applies a person's edit to a record at once: the given fields
// (by column id or name) change, the version goes up, and fields that now
// differ from the pulled original are marked edited (a field edited back to
// its original value is no longer edited, and a record with no edited field
// left is clean again). version must be the record's current version.
// Errors: Invalid, NotFound, StaleVersion (the record changed since it was
// read; nothing is written), Conflict (the record is deleted).
func (s *Service) UpdateRecord(ctx context.Context, ownerID, workbookID, tableID, recordID string, fields map[string]any, version int) (Record, error) {
	if !ids.ValidUUID(recordID) {
		return Record{}, errRecordNotFound
	}
	var rec Record
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		var changed bool
		rec, changed, err = updateRecordTx(ctx, q, t, ownerID, BatchUpdate{RecordID: recordID, Fields: fields, Version: version})
		if err != nil || !changed {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "record.updated", TableID: tableID, RecordIDs: []string{recordID}})
	})
	if err != nil {
		return Record{}, wrap("update record", err)
	}
	return rec, nil
}

// updateRecordTx applies an edit to a record of t, whose table the
// transaction of q has locked, with its audit entry, and reports whether any
// value changed (an edit to the values the record already holds writes
// nothing). The caller sends the event.
func updateRecordTx(ctx context.Context, q *db.Queries, t Table, actorID string, u BatchUpdate) (Record, bool, error) {
	row, err := lockRecord(ctx, q, t.WorkbookID, t.ID, u.RecordID)
	if err != nil {
		return Record{}, false, err
	}
	if int(row.Version) != u.Version {
		return Record{}, false, staleVersion(ctx, q, row, u.Version)
	}
	if row.State == string(StateDeleted) {
		return Record{}, false, apperr.New(apperr.Conflict, "This record is deleted; restore it before editing it.")
	}
	changes, err := resolveFields(t.Columns, u.Fields, false)
	if err != nil {
		return Record{}, false, err
	}
	stored, err := decodeStoredFields(row.Fields)
	if err != nil {
		return Record{}, false, err
	}
	applied, err := stored.apply(changes)
	if err != nil {
		return Record{}, false, err
	}
	if len(applied) == 0 {
		rec, err := withSuggestions(ctx, q, row)
		return rec, false, err
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return Record{}, false, err
	}
	changed := make([]string, len(applied))
	for i, c := range applied {
		changed[i] = c.Field
	}
	row, err = q.UpdateRecordFields(ctx, db.UpdateRecordFieldsParams{
		WorkbookID: t.WorkbookID, TableID: t.ID, ID: u.RecordID, Fields: b, Changed: dirtyKeys(t.Columns, changed),
	})
	if err != nil {
		return Record{}, false, err
	}
	if err := auditChanges(ctx, q, t.WorkbookID, t.ID, u.RecordID, actorID, "edit", applied); err != nil {
		return Record{}, false, err
	}
	rec, err := withSuggestions(ctx, q, row)
	return rec, true, err
}

func lockRecord(ctx context.Context, q *db.Queries, workbookID, tableID, recordID string) (db.Record, error) {
	if !ids.ValidUUID(recordID) {
		return db.Record{}, errRecordNotFound
	}
	row, err := q.LockRecord(ctx, db.LockRecordParams{WorkbookID: workbookID, TableID: tableID, ID: recordID})
	if db.IsNoRows(err) {
		return db.Record{}, errRecordNotFound
	}
	return row, err
}

// staleVersion explains that the record moved on since the caller read it,
// naming who changed it last and when when the audit trail knows.
func staleVersion(ctx context.Context, q *db.Queries, row db.Record, version int) error {
	last, err := q.LastRecordChange(ctx, db.LastRecordChangeParams{WorkbookID: row.WorkbookID, TableID: row.TableID, RecordID: row.ID})
	if err != nil && !db.IsNoRows(err) {
		return err
	}
	when := row.UpdatedAt
	who := ""
	if err == nil {
		when, who = last.CreatedAt, last.ActorName
	}
	by := ""
	if who != "" {
		by = " by " + who
	}
	return apperr.New(apperr.StaleVersion,
		"This record was changed%s at %s (version %d; your edit was made on version %d). Reload it and make your edit again.",
		by, when.UTC().Format("2006-01-02 15:04:05 UTC"), row.Version, version)
}

// DeleteRecord deletes a record: one created here (and never published) is
// removed at once; any other is marked deleted and kept until the publish
// deletes it at the source. Deleting a deleted record does nothing.
// Errors: NotFound.
func (s *Service) DeleteRecord(ctx context.Context, ownerID, workbookID, tableID, recordID string) error {
	if !ids.ValidUUID(recordID) {
		return errRecordNotFound
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		deleted, err := deleteRecordTx(ctx, q, t, ownerID, recordID)
		if err != nil || !deleted {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "record.deleted", TableID: tableID, RecordIDs: []string{recordID}})
	})
	return wrap("delete record", err)
}

// deleteRecordTx deletes a record of t, whose table the transaction of q has
// locked, with its audit entry, and reports whether it did (a deleted record
// is left as it is). The caller sends the event.
func deleteRecordTx(ctx context.Context, q *db.Queries, t Table, actorID, recordID string) (bool, error) {
	row, err := lockRecord(ctx, q, t.WorkbookID, t.ID, recordID)
	if err != nil {
		return false, err
	}
	switch RecordState(row.State) {
	case StateDeleted:
		return false, nil
	case StateCreated:
		err = q.RemoveRecord(ctx, db.RemoveRecordParams{WorkbookID: t.WorkbookID, TableID: t.ID, ID: recordID})
	default:
		_, err = q.MarkRecordDeleted(ctx, db.MarkRecordDeletedParams{WorkbookID: t.WorkbookID, TableID: t.ID, ID: recordID})
	}
	if err != nil {
		return false, err
	}
	return true, auditChanges(ctx, q, t.WorkbookID, t.ID, recordID, actorID, "delete", []fieldChange{{Before: row.Fields}})
}

// RestoreRecord undoes the deletion of a record not yet published: it is
// clean again, or updated when it has edited fields. Restoring a record that
// is not deleted does nothing. Errors: NotFound.
func (s *Service) RestoreRecord(ctx context.Context, ownerID, workbookID, tableID, recordID string) (Record, error) {
	if !ids.ValidUUID(recordID) {
		return Record{}, errRecordNotFound
	}
	var rec Record
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare); err != nil {
			return err
		}
		row, err := lockRecord(ctx, q, workbookID, tableID, recordID)
		if err != nil {
			return err
		}
		if row.State != string(StateDeleted) {
			rec, err = withSuggestions(ctx, q, row)
			return err
		}
		if row, err = q.RestoreRecord(ctx, db.RestoreRecordParams{WorkbookID: workbookID, TableID: tableID, ID: recordID}); err != nil {
			return err
		}
		if err := auditChanges(ctx, q, workbookID, tableID, recordID, ownerID, "restore",
			[]fieldChange{{After: row.Fields}}); err != nil {
			return err
		}
		if rec, err = withSuggestions(ctx, q, row); err != nil {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "record.restored", TableID: tableID, RecordIDs: []string{recordID}})
	})
	if err != nil {
		return Record{}, wrap("restore record", err)
	}
	return rec, nil
}

// FindRecord returns one record of a table with its pending suggestions.
// Errors: NotFound.
func (s *Service) FindRecord(ctx context.Context, ownerID, workbookID, tableID, recordID string) (Record, error) {
	t, err := s.findTable(ctx, s.q, ownerID, workbookID, tableID)
	if err != nil {
		return Record{}, err
	}
	return s.FindRecordIn(ctx, ownerID, t, recordID)
}

// FindRecordIn is FindRecord on a table the caller has already loaded for
// ownerID (with FindTable or FindWorkbook). Errors: NotFound (the record,
// or t was not loaded for ownerID).
func (s *Service) FindRecordIn(ctx context.Context, ownerID string, t Table, recordID string) (Record, error) {
	if !t.ownedBy(ownerID) {
		return Record{}, errTableNotFound
	}
	if !ids.ValidUUID(recordID) {
		return Record{}, errRecordNotFound
	}
	row, err := s.q.GetRecord(ctx, db.GetRecordParams{WorkbookID: t.WorkbookID, TableID: t.ID, ID: recordID})
	if db.IsNoRows(err) {
		return Record{}, errRecordNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("workbooks: find record: %w", err)
	}
	return withSuggestions(ctx, s.q, row)
}

// withSuggestions converts one row and loads its pending suggestions.
func withSuggestions(ctx context.Context, q *db.Queries, row db.Record) (Record, error) {
	recs, err := recordsWithSuggestions(ctx, q, row.WorkbookID, row.TableID, []db.Record{row})
	if err != nil {
		return Record{}, err
	}
	return recs[0], nil
}

// recordsWithSuggestions converts rows and loads all their pending
// suggestions in one query.
func recordsWithSuggestions(ctx context.Context, q *db.Queries, workbookID, tableID string, rows []db.Record) ([]Record, error) {
	return recordsWithSuggestionsText(ctx, q, workbookID, tableID, rows, nil)
}

// recordsWithSuggestionsText is recordsWithSuggestions with the rows'
// fields as JSON texts (see recordFromRowText), one per row, when
// fieldsTexts is not nil.
func recordsWithSuggestionsText(ctx context.Context, q *db.Queries, workbookID, tableID string, rows []db.Record, fieldsTexts []string) ([]Record, error) {
	out := make([]Record, len(rows))
	index := make(map[string]int, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		var text string
		if fieldsTexts != nil {
			text = fieldsTexts[i]
		}
		rec, err := recordFromRowText(r, text)
		if err != nil {
			return nil, err
		}
		out[i], index[r.ID], ids[i] = rec, i, r.ID
	}
	if len(rows) == 0 {
		return out, nil
	}
	sugs, err := q.ListRecordSuggestions(ctx, db.ListRecordSuggestionsParams{WorkbookID: workbookID, TableID: tableID, RecordIds: ids})
	if err != nil {
		return nil, fmt.Errorf("workbooks: load suggestions: %w", err)
	}
	for _, sg := range sugs {
		if i, ok := index[sg.RecordID]; ok {
			if err := out[i].addSuggestion(sg.Action, sg.Field, sg.Value); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
