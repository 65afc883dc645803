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

// The sources of suggestions.
const (
	SourceAPI         = "api"
	SourceAgent       = "agent"
	SourceCSVImport   = "csv_import"
	SourceFindReplace = "find_replace"
	// SourceRevert marks suggestions that undo a publish.
	SourceRevert = "revert"
)

func validSource(s string) bool {
	return slices.Contains([]string{SourceAPI, SourceAgent, SourceCSVImport, SourceFindReplace, SourceRevert}, s)
}

// RecordFields are the values of one record by column id or name.
type RecordFields struct {
	Fields map[string]any
}

// RecordUpdate is a set of values proposed for one record.
type RecordUpdate struct {
	RecordID string
	Fields   map[string]any
}

// Proposal is a batch of suggestions for one table.
type Proposal struct {
	Updates []RecordUpdate
	// Creates become draft records (state created) with a pending create
	// suggestion; rejecting it removes the draft.
	Creates []RecordFields
	Deletes []string
	// Source is one of the Source constants.
	Source string
	// AgentSessionID and AgentMessageID link an agent's suggestions to the
	// conversation that made them.
	AgentSessionID string
	AgentMessageID int64
	// Model is the model that proposed an agent's suggestions.
	Model string
}

// SuggestionCounts says how many suggestions a call stored or decided.
type SuggestionCounts struct {
	Updates int
	Creates int
	Deletes int
}

// Total is the sum of the counts.
func (c SuggestionCounts) Total() int { return c.Updates + c.Creates + c.Deletes }

// maxProposalSize bounds the suggestions of one proposal.
const maxProposalSize = 50000

// ProposeSuggestions stores suggestions for a table without changing any
// value. A suggested value equal to the cell's current value is not stored
// (and drops an older suggestion for that cell); otherwise it replaces any
// older suggestion for the cell. Deletes of deleted records and records
// already proposed for deletion are skipped. It returns how many of each
// kind were stored. Errors: Invalid (unknown source, column or value;
// read-only column; nothing proposed), NotFound (the table or a record).
func (s *Service) ProposeSuggestions(ctx context.Context, ownerID, workbookID, tableID string, p Proposal) (SuggestionCounts, error) {
	var counts SuggestionCounts
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		counts, err = s.ProposeSuggestionsTx(ctx, tx, ownerID, workbookID, tableID, p)
		return err
	})
	if err != nil {
		return SuggestionCounts{}, err
	}
	return counts, nil
}

// ProposeSuggestionsTx is ProposeSuggestions inside the caller's
// transaction, so that the suggestions commit together with what made them
// (an agent's message and its usage) or not at all. Its live event is sent
// with tx, so viewers see the suggestions only once tx commits. The caller
// passes the provenance in p (source, agent session and message, model).
// On an error the caller must roll tx (or its savepoint) back.
func (s *Service) ProposeSuggestionsTx(ctx context.Context, tx pgx.Tx, ownerID, workbookID, tableID string, p Proposal) (SuggestionCounts, error) {
	if !validSource(p.Source) {
		return SuggestionCounts{}, apperr.InvalidFields("Unknown suggestion source.",
			apperr.FieldError{Field: "source", Message: fmt.Sprintf("is not a known source: %q", p.Source)})
	}
	if len(p.Updates)+len(p.Creates)+len(p.Deletes) > maxProposalSize {
		return SuggestionCounts{}, apperr.New(apperr.TooLarge, "At most %d suggestions can be proposed at once.", maxProposalSize)
	}
	if len(p.Model) > maxModelName {
		return SuggestionCounts{}, apperr.InvalidFields("Invalid model.", apperr.FieldError{Field: "model", Message: "is too long"})
	}
	var counts SuggestionCounts
	err := func() error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		prov := provenance{source: p.Source, createdBy: &ownerID}
		if p.AgentSessionID != "" {
			if !ids.ValidUUID(p.AgentSessionID) {
				return apperr.InvalidFields("Invalid agent session.", apperr.FieldError{Field: "agent_session_id", Message: "is not an id"})
			}
			prov.sessionID = &p.AgentSessionID
		}
		if p.AgentMessageID != 0 {
			prov.messageID = &p.AgentMessageID
		}
		if p.Model != "" {
			prov.model = &p.Model
		}
		updated, err := proposeUpdates(ctx, q, t, p.Updates, prov)
		if err != nil {
			return err
		}
		created, err := proposeCreates(ctx, q, t, p.Creates, prov)
		if err != nil {
			return err
		}
		deleted, err := proposeDeletes(ctx, q, t, p.Deletes, prov)
		if err != nil {
			return err
		}
		counts = SuggestionCounts{Updates: len(updated), Creates: len(created), Deletes: len(deleted)}
		changed := slices.Concat(updated, created, deleted)
		if len(changed) == 0 {
			return nil
		}
		return notify(ctx, tx, workbookID, change{Kind: "suggestions.proposed", TableID: tableID, RecordIDs: changed})
	}()
	if err != nil {
		return SuggestionCounts{}, wrap("propose suggestions", err)
	}
	return counts, nil
}

// maxModelName bounds the model name kept with a suggestion.
const maxModelName = 200

// provenance is who proposed a batch of suggestions.
type provenance struct {
	source    string
	createdBy *string
	sessionID *string
	messageID *int64
	model     *string
}

type updateItem struct {
	RecordID string          `json:"record_id"`
	Field    string          `json:"field"`
	Value    json.RawMessage `json:"value"`
}

func proposeUpdates(ctx context.Context, q *db.Queries, t Table, updates []RecordUpdate, prov provenance) ([]string, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	// The last value proposed for a cell wins, as it would one call later.
	cells := map[[2]string]int{}
	var items []updateItem
	var recordIDs []string
	for _, u := range updates {
		if !ids.ValidUUID(u.RecordID) {
			return nil, errRecordNotFound
		}
		changes, err := resolveFields(t.Columns, u.Fields, false)
		if err != nil {
			return nil, err
		}
		recordIDs = append(recordIDs, u.RecordID)
		for _, id := range keysOf(changes) {
			value := json.RawMessage("null")
			if v := changes[id]; v != nil {
				b, err := json.Marshal(v)
				if err != nil {
					return nil, err
				}
				value = b
			}
			item := updateItem{RecordID: u.RecordID, Field: id, Value: value}
			if i, ok := cells[[2]string{u.RecordID, id}]; ok {
				items[i] = item
				continue
			}
			cells[[2]string{u.RecordID, id}] = len(items)
			items = append(items, item)
		}
	}
	if err := checkRecordsExist(ctx, q, t, recordIDs); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, nil // updates that name no fields propose nothing
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	return q.UpsertUpdateSuggestions(ctx, db.UpsertUpdateSuggestionsParams{
		WorkbookID: t.WorkbookID, TableID: t.ID, Items: b, Source: prov.source,
		CreatedBy: prov.createdBy, AgentSessionID: prov.sessionID, AgentMessageID: prov.messageID, AgentModel: prov.model,
	})
}

// checkRecordsExist returns NotFound unless every id names a record of t.
func checkRecordsExist(ctx context.Context, q *db.Queries, t Table, ids []string) error {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	n, err := q.CountRecordsWithIDs(ctx, db.CountRecordsWithIDsParams{WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: ids})
	if err != nil {
		return err
	}
	if int(n) != len(ids) {
		return errRecordNotFound
	}
	return nil
}

type createItem struct {
	Fields       json.RawMessage `json:"fields"`
	EditedFields []string        `json:"edited_fields"`
}

func proposeCreates(ctx context.Context, q *db.Queries, t Table, creates []RecordFields, prov provenance) ([]string, error) {
	if len(creates) == 0 {
		return nil, nil
	}
	items := make([]createItem, len(creates))
	for i, c := range creates {
		changes, err := resolveFields(t.Columns, c.Fields, true)
		if err != nil {
			return nil, err
		}
		stored := storedFields{}
		if _, err := stored.apply(changes); err != nil {
			return nil, err
		}
		b, err := json.Marshal(stored)
		if err != nil {
			return nil, err
		}
		items[i] = createItem{Fields: b, EditedFields: dirtyKeys(t.Columns, keysOf(stored))}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	return q.InsertCreateSuggestions(ctx, db.InsertCreateSuggestionsParams{
		WorkbookID: t.WorkbookID, TableID: t.ID, Items: b, Source: prov.source,
		CreatedBy: prov.createdBy, AgentSessionID: prov.sessionID, AgentMessageID: prov.messageID, AgentModel: prov.model,
	})
}

func proposeDeletes(ctx context.Context, q *db.Queries, t Table, recordIDs []string, prov provenance) ([]string, error) {
	if len(recordIDs) == 0 {
		return nil, nil
	}
	for _, id := range recordIDs {
		if !ids.ValidUUID(id) {
			return nil, errRecordNotFound
		}
	}
	if err := checkRecordsExist(ctx, q, t, slices.Clone(recordIDs)); err != nil {
		return nil, err
	}
	return q.InsertDeleteSuggestions(ctx, db.InsertDeleteSuggestionsParams{
		WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: recordIDs, Source: prov.source,
		CreatedBy: prov.createdBy, AgentSessionID: prov.sessionID, AgentMessageID: prov.messageID, AgentModel: prov.model,
	})
}

// Cell names one cell: a record and a column (by id or name).
type Cell struct {
	RecordID string
	Field    string
}

// Selector chooses suggestions of a table to accept or reject: all of them,
// or those of some records (every kind), of some cells, or of one column;
// when several are set, a suggestion matching any of them is chosen.
type Selector struct {
	All       bool
	RecordIDs []string
	Cells     []Cell
	// Field is a column id or name.
	Field string
}

// resolvedSelector is a Selector with ids checked and columns resolved.
type resolvedSelector struct {
	all       bool
	recordIDs []string
	fields    []string
	cellKeys  []string
}

// resolveSelector checks sel against t. Errors: Invalid (nothing chosen, an
// unknown column), NotFound (a malformed record id, which can name no
// record; a well-formed id of no record of t simply chooses nothing).
func resolveSelector(t Table, sel Selector) (resolvedSelector, error) {
	r := resolvedSelector{all: sel.All, recordIDs: []string{}, fields: []string{}, cellKeys: []string{}}
	if !sel.All && len(sel.RecordIDs) == 0 && len(sel.Cells) == 0 && sel.Field == "" {
		return r, apperr.New(apperr.Invalid, "Choose which suggestions: all, records, cells or a column.")
	}
	for _, id := range sel.RecordIDs {
		if !ids.ValidUUID(id) {
			return r, errRecordNotFound
		}
		r.recordIDs = append(r.recordIDs, id)
	}
	for _, c := range sel.Cells {
		col, ok := t.Columns.Lookup(c.Field)
		if !ok {
			return r, apperr.InvalidFields("Unknown column.", apperr.FieldError{Field: c.Field, Message: "is not a column of this table"})
		}
		if !ids.ValidUUID(c.RecordID) {
			return r, errRecordNotFound
		}
		r.cellKeys = append(r.cellKeys, c.RecordID+"/"+col.ID)
	}
	if sel.Field != "" {
		col, ok := t.Columns.Lookup(sel.Field)
		if !ok {
			return r, apperr.InvalidFields("Unknown column.", apperr.FieldError{Field: sel.Field, Message: "is not a column of this table"})
		}
		r.fields = append(r.fields, col.ID)
	}
	return r, nil
}

// AcceptSuggestions turns the selected suggestions into edits: suggested
// values are applied (with edited fields, state and version updated as for a
// person's edit, one statement for all records), suggested creates become
// normal created records, and suggested deletes delete their records. Cell
// and column selectors choose value suggestions only. It returns how many of
// each kind were accepted. Errors: Invalid (empty selector, unknown column),
// NotFound (the table, or a malformed record id in the selector).
func (s *Service) AcceptSuggestions(ctx context.Context, ownerID, workbookID, tableID string, sel Selector) (SuggestionCounts, error) {
	var counts SuggestionCounts
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		r, err := resolveSelector(t, sel)
		if err != nil {
			return err
		}
		if r.all || len(r.fields) > 0 {
			// A whole table's or column's suggestions are aggregated and
			// sorted by record in memory; the default 4 MB spills a
			// 100,000-suggestion accept to disk.
			if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '64MB'"); err != nil {
				return err
			}
		}
		actor := &ownerID
		updated, err := q.AcceptUpdateSuggestions(ctx, db.AcceptUpdateSuggestionsParams{
			WorkbookID: workbookID, TableID: tableID, SelectAll: r.all, RecordIds: r.recordIDs,
			Fields: r.fields, CellKeys: r.cellKeys, ScratchIds: t.Columns.scratchIDs(), ActorID: actor,
		})
		if err != nil {
			return err
		}
		var created, deleted []string
		if r.all || len(r.recordIDs) > 0 {
			created, err = q.AcceptCreateSuggestions(ctx, db.AcceptCreateSuggestionsParams{
				WorkbookID: workbookID, TableID: tableID, SelectAll: r.all, RecordIds: r.recordIDs, ActorID: actor,
			})
			if err != nil {
				return err
			}
			deleted, err = q.AcceptDeleteSuggestions(ctx, db.AcceptDeleteSuggestionsParams{
				WorkbookID: workbookID, TableID: tableID, SelectAll: r.all, RecordIds: r.recordIDs, ActorID: actor,
			})
			if err != nil {
				return err
			}
		}
		counts = SuggestionCounts{Updates: len(updated), Creates: len(created), Deletes: len(deleted)}
		if counts.Total() == 0 {
			return nil
		}
		return notify(ctx, tx, workbookID, change{Kind: "records.changed", TableID: tableID,
			RecordIDs: slices.Concat(updated, created, deleted)})
	})
	if err != nil {
		return SuggestionCounts{}, wrap("accept suggestions", err)
	}
	if counts.Total() >= BulkWriteRows {
		s.idx.RefreshSoon(workbookID, tableID)
	}
	return counts, nil
}

// RejectSuggestions deletes the selected suggestions, leaving values as they
// are; rejecting a suggested create removes its draft record. Cell and column
// selectors choose value suggestions only. It returns how many of each kind
// were rejected. Errors: Invalid (empty selector, unknown column), NotFound
// (the table, or a malformed record id in the selector).
func (s *Service) RejectSuggestions(ctx context.Context, ownerID, workbookID, tableID string, sel Selector) (SuggestionCounts, error) {
	var counts SuggestionCounts
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		r, err := resolveSelector(t, sel)
		if err != nil {
			return err
		}
		rows, err := q.RejectSuggestions(ctx, db.RejectSuggestionsParams{
			WorkbookID: workbookID, TableID: tableID, SelectAll: r.all, RecordIds: r.recordIDs,
			Fields: r.fields, CellKeys: r.cellKeys, ActorID: &ownerID,
		})
		if err != nil {
			return err
		}
		ids := make([]string, len(rows))
		for i, row := range rows {
			ids[i] = row.RecordID
			switch row.Action {
			case "update":
				counts.Updates++
			case "create":
				counts.Creates++
			case "delete":
				counts.Deletes++
			}
		}
		if len(rows) == 0 {
			return nil
		}
		kind := "suggestions.rejected"
		if counts.Creates > 0 {
			kind = "records.changed"
		}
		return notify(ctx, tx, workbookID, change{Kind: kind, TableID: tableID, RecordIDs: ids})
	})
	if err != nil {
		return SuggestionCounts{}, wrap("reject suggestions", err)
	}
	return counts, nil
}

// TableCounters are the badges of a table.
type TableCounters struct {
	// UnpublishedChanges counts records with changes waiting to be published
	// (drafts still proposed for creation are suggestions, not changes).
	UnpublishedChanges int64
	PendingSuggestions int64
}

// Counters returns a table's unpublished changes and pending suggestions.
// Errors: NotFound.
func (s *Service) Counters(ctx context.Context, ownerID, workbookID, tableID string) (TableCounters, error) {
	t, err := s.findTable(ctx, s.q, ownerID, workbookID, tableID)
	if err != nil {
		return TableCounters{}, err
	}
	return s.CountersIn(ctx, ownerID, t)
}

// CountersIn is Counters on a table the caller has already loaded for
// ownerID (with FindTable or FindWorkbook): one query, counted now.
// Errors: NotFound when t was not loaded for ownerID.
func (s *Service) CountersIn(ctx context.Context, ownerID string, t Table) (TableCounters, error) {
	if !t.ownedBy(ownerID) {
		return TableCounters{}, errTableNotFound
	}
	row, err := s.q.CountTableBadges(ctx, db.CountTableBadgesParams{WorkbookID: t.WorkbookID, TableID: t.ID})
	if err != nil {
		return TableCounters{}, fmt.Errorf("workbooks: count changes and suggestions: %w", err)
	}
	return TableCounters{UnpublishedChanges: row.UnpublishedChanges, PendingSuggestions: row.PendingSuggestions}, nil
}
