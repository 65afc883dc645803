package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
)

// This file is the record store's side of pulls and publishes: the entry
// points internal/syncs calls, each inside a transaction the caller owns
// (one page of a pull, one batch of a publish), which also holds the
// caller's job lease. Every one of them holds the table's row, as every
// writer of records does (migration 00012), and tells the table's viewers
// what changed.

// SourcedTableInput describes a table pulled from a data source.
type SourcedTableInput struct {
	Name string
	// Service is the data source's service, shown as the table's source.
	Service       string
	DataSourceID  string
	RemoteTableID string
	// ReadOnly, when set, says why the source cannot be written.
	ReadOnly string
	// Columns come from the source's table spec, each with its RemoteKey.
	Columns []ColumnInput
}

// CreateSourcedTableTx adds a table linked to a data source at the end of
// one of the owner's workbooks, inside tx. Errors: Invalid, NotFound.
func (s *Service) CreateSourcedTableTx(ctx context.Context, tx pgx.Tx, ownerID, workbookID string, in SourcedTableInput) (Table, error) {
	name, cols, err := tableSpec(TableInput{Name: in.Name, Columns: in.Columns})
	if err != nil {
		return Table{}, err
	}
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) || !ids.ValidUUID(in.DataSourceID) || in.RemoteTableID == "" {
		return Table{}, errWorkbookNotFound
	}
	colsJSON, err := json.Marshal(cols)
	if err != nil {
		return Table{}, fmt.Errorf("workbooks: encode columns: %w", err)
	}
	q := db.New(tx)
	if _, err := q.LockWorkbook(ctx, db.LockWorkbookParams{ID: workbookID, OwnerID: ownerID}); err != nil {
		if db.IsNoRows(err) {
			return Table{}, errWorkbookNotFound
		}
		return Table{}, wrap("lock workbook", err)
	}
	var readOnly *string
	if in.ReadOnly != "" {
		readOnly = &in.ReadOnly
	}
	row, err := q.CreateSourcedTable(ctx, db.CreateSourcedTableParams{
		WorkbookID: workbookID, Name: name, Columns: colsJSON, Source: in.Service,
		DataSourceID: &in.DataSourceID, RemoteTableID: &in.RemoteTableID, RemoteReadOnly: readOnly,
	})
	if err != nil {
		return Table{}, wrap("create table", err)
	}
	t, err := tableFromRow(row)
	if err != nil {
		return Table{}, err
	}
	if err := q.TouchWorkbook(ctx, workbookID); err != nil {
		return Table{}, wrap("touch workbook", err)
	}
	if err := notify(ctx, tx, workbookID, change{Kind: "table.created", TableID: t.ID}); err != nil {
		return Table{}, err
	}
	return t.scopedTo(ownerID), nil
}

// lockForRecords holds t's row for the rest of tx. Errors: NotFound.
func lockForRecords(ctx context.Context, q *db.Queries, t Table) error {
	if _, err := q.LockTableForRecords(ctx, db.LockTableForRecordsParams{WorkbookID: t.WorkbookID, ID: t.ID}); err != nil {
		if db.IsNoRows(err) {
			return errTableNotFound
		}
		return wrap("lock table", err)
	}
	return nil
}

// ClaimTableTx gives table t to sync syncID for as long as it runs: a pull
// and a publish of one table never run at once. Errors: NotFound, Locked
// (another sync that has not finished holds it).
func (s *Service) ClaimTableTx(ctx context.Context, tx pgx.Tx, t Table, syncID string) error {
	q := db.New(tx)
	holder, err := q.ClaimTableForSync(ctx, db.ClaimTableForSyncParams{WorkbookID: t.WorkbookID, ID: t.ID, SyncID: &syncID})
	if err == nil && holder != nil && *holder == syncID {
		return nil
	}
	if err != nil && !db.IsNoRows(err) {
		return wrap("claim table", err)
	}
	h, err := q.TableSyncHolder(ctx, db.TableSyncHolderParams{WorkbookID: t.WorkbookID, ID: t.ID})
	if db.IsNoRows(err) {
		return errTableNotFound
	}
	if err != nil {
		return wrap("find table's sync", err)
	}
	what := "Another pull or publish"
	switch h.Kind {
	case "pull":
		what = "A pull"
	case "publish":
		what = "A publish"
	}
	return apperr.New(apperr.Locked, "%s of %s is running; try again when it has finished.", what, t.Name)
}

// ReleaseTableTx ends sync syncID's hold on t, if it has one.
func (s *Service) ReleaseTableTx(ctx context.Context, tx pgx.Tx, t Table, syncID string) error {
	return wrap("release table", db.New(tx).ReleaseTableFromSync(ctx, db.ReleaseTableFromSyncParams{WorkbookID: t.WorkbookID, ID: t.ID, SyncID: &syncID}))
}

// SetPullCursorTx records where the running pull of t resumes.
func (s *Service) SetPullCursorTx(ctx context.Context, tx pgx.Tx, t Table, cursor string) error {
	var c *string
	if cursor != "" {
		c = &cursor
	}
	return wrap("set pull cursor", db.New(tx).SetPullCursor(ctx, db.SetPullCursorParams{WorkbookID: t.WorkbookID, ID: t.ID, PullCursor: c}))
}

// FinishPullTx records that a pull of t ended: when, and whether the source
// can be written (readOnly says why not).
func (s *Service) FinishPullTx(ctx context.Context, tx pgx.Tx, t Table, readOnly string) error {
	var ro *string
	if readOnly != "" {
		ro = &readOnly
	}
	q := db.New(tx)
	if err := q.FinishTablePull(ctx, db.FinishTablePullParams{WorkbookID: t.WorkbookID, ID: t.ID, RemoteReadOnly: ro}); err != nil {
		return wrap("finish pull", err)
	}
	return notify(ctx, tx, t.WorkbookID, change{Kind: "records.changed", TableID: t.ID, Bulk: true})
}

// PulledEncoder turns records as a source holds them (values by the
// source's column keys) into the store's rows: values by column id, each
// read by the column's type as every value is, in jsonb's key order.
type PulledEncoder struct {
	cols []Column // the source's columns, in jsonb key order
	// sourceKeys are the ids of the columns the source fills.
	sourceKeys []string
	buf        []byte
	problems   map[string]string
}

// NewPulledEncoder returns the encoder of t's pulled records.
func NewPulledEncoder(t Table) *PulledEncoder {
	e := &PulledEncoder{}
	for _, c := range t.Columns {
		if c.RemoteKey == "" || c.Scratch {
			continue
		}
		// The source is the authority on its options: a value it added
		// since the table was created is taken as it is.
		c.Options = nil
		e.cols = append(e.cols, c)
		e.sourceKeys = append(e.sourceKeys, c.ID)
	}
	slices.SortFunc(e.cols, func(a, b Column) int { return JSONBKeyOrder(a.ID, b.ID) })
	return e
}

// SourceKeys are the ids of the columns a pull fills.
func (e *PulledEncoder) SourceKeys() []string { return e.sourceKeys }

// Encode returns the row of one pulled record. A value the column cannot
// hold (too large, say) is left out and named in the row's problems.
func (e *PulledEncoder) Encode(remoteID string, values map[string]any) NewRecordRow {
	b := append(e.buf[:0], '{')
	clear(e.problems)
	first := true
	for _, c := range e.cols {
		v, msg := normalize(c, values[c.RemoteKey])
		if msg != "" {
			if e.problems == nil {
				e.problems = map[string]string{}
			}
			e.problems[c.ID] = c.Name + " " + msg + "."
			continue
		}
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, c.ID...)
		b = append(b, '"', ':')
		b = AppendJSONValue(b, v)
	}
	b = append(b, '}')
	e.buf = b
	row := NewRecordRow{RemoteID: &remoteID, Fields: slices.Clone(b)}
	if len(e.problems) > 0 {
		row.Problems, _ = json.Marshal(e.problems)
	}
	return row
}

// AddPulledTx adds the records of a first pull of t (one page) through the
// bulk path. Errors: NotFound (the table is gone).
func (s *Service) AddPulledTx(ctx context.Context, tx pgx.Tx, t Table, ids *RecordIDs, rows []NewRecordRow) (int64, error) {
	return s.CopyRecordsTx(ctx, tx, t, ids, RowsFrom(rows))
}

// MergeCounts says what merging a page of a re-pull did.
type MergeCounts struct {
	Inserted, Changed, Conflicted int
}

// StalePulled returns the positions (from 1, in order) of the rows of one
// page of a re-pull of t that a merge may change: rows of remote records
// the table lacks, and of records that are not clean records holding
// exactly the pulled values (see ListStalePulled). It reads without the
// table's lock, so that a pull compares a page while the page before it
// commits: a record that changes after it was compared still merges
// exactly. One that was clean and holding the pulled values, and is edited
// or deleted here since, is one the merge leaves alone as well (its other
// fields are the pulled ones, and an edited field that differs from its
// pulled value is neither agreed nor in conflict); a pulled record is never
// removed outside a sync, which holds the table. Any other row goes to the
// merge, which decides again under the lock.
func (s *Service) StalePulled(ctx context.Context, t Table, rows []NewRecordRow) ([]int32, error) {
	remoteIDs := make([]string, len(rows))
	texts := make([]string, len(rows))
	problems := make([]string, len(rows))
	var buf []byte
	for i, r := range rows {
		remoteIDs[i] = *r.RemoteID
		buf = appendJSONBText(buf[:0], r.Fields)
		texts[i] = string(buf)
		problems[i] = "{}"
		if r.Problems != nil {
			buf = appendJSONBText(buf[:0], r.Problems)
			problems[i] = string(buf)
		}
	}
	stale, err := db.New(s.pool).ListStalePulled(ctx, db.ListStalePulledParams{WorkbookID: t.WorkbookID, TableID: t.ID,
		RemoteIds: remoteIDs, FieldsTexts: texts, ProblemsTexts: problems})
	return stale, wrap("compare pulled records", err)
}

// MergePulledTx merges one page of a re-pull of t into it, as DESIGN §5
// says (see MergePulledPage in queries/sync.sql), and records the page's
// remote ids for SweepPulledTx. sourceKeys are the PulledEncoder's; stale
// are the positions StalePulled returned for rows: the rows of clean
// records that already hold the pulled values are left alone, and only
// the others are merged.
func (s *Service) MergePulledTx(ctx context.Context, tx pgx.Tx, t Table, syncID string, sourceKeys []string, rows []NewRecordRow, stale []int32) (MergeCounts, error) {
	q := db.New(tx)
	if err := lockForRecords(ctx, q, t); err != nil {
		return MergeCounts{}, err
	}
	remoteIDs := make([]string, len(rows))
	for i, r := range rows {
		remoteIDs[i] = *r.RemoteID
	}
	if err := q.RecordSeen(ctx, db.RecordSeenParams{SyncID: syncID, TableID: t.ID, RemoteIds: remoteIDs}); err != nil {
		return MergeCounts{}, wrap("record seen records", err)
	}
	if len(stale) == 0 {
		return MergeCounts{}, nil
	}
	// A page of pulled values is several megabytes: held in memory, the
	// merge's intermediate results do not spill to disk.
	if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '64MB'"); err != nil {
		return MergeCounts{}, wrap("set work_mem", err)
	}
	p := db.MergePulledPageParams{WorkbookID: t.WorkbookID, TableID: t.ID, SourceKeys: sourceKeys,
		RemoteIds: make([]string, len(stale)), Fields: make([]json.RawMessage, len(stale)), Problems: make([]json.RawMessage, len(stale))}
	for i, ord := range stale {
		r := rows[ord-1]
		p.RemoteIds[i], p.Fields[i], p.Problems[i] = *r.RemoteID, r.Fields, r.Problems
		if r.Problems == nil {
			p.Problems[i] = emptyObject
		}
	}
	res, err := q.MergePulledPage(ctx, p)
	if err != nil {
		return MergeCounts{}, wrap("merge pulled records", err)
	}
	return MergeCounts{Inserted: int(res.Inserted), Changed: int(res.Changed), Conflicted: int(res.Conflicted)}, nil
}

// appendJSONBText appends JSON document doc as PostgreSQL prints it as jsonb
// when doc's keys are in jsonb's order (as PulledEncoder writes them): no
// white space but one space after each colon and comma outside strings.
// Where doc differs otherwise (escapes, numbers), the text just differs.
func appendJSONBText(b, doc []byte) []byte {
	inString, escaped := false, false
	for _, c := range doc {
		switch {
		case inString:
			b = append(b, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == ',' || c == ':':
			b = append(b, c, ' ')
		default:
			if c == '"' {
				inString = true
			}
			b = append(b, c)
		}
	}
	return b
}

// SweepPulledTx ends a re-pull of t: the records the pull did not meet were
// deleted at the source; clean ones go and edited ones are flagged (see
// SweepUnseenRecords). It returns how many of each.
func (s *Service) SweepPulledTx(ctx context.Context, tx pgx.Tx, t Table, syncID string) (removed, flagged int, err error) {
	q := db.New(tx)
	if err := lockForRecords(ctx, q, t); err != nil {
		return 0, 0, err
	}
	// The sweep meets every record of the table with every remote id the
	// pull saw, so a nested loop is never its plan; yet right after a big
	// pull the planner's statistics still say both are next to empty, and
	// it picked one: 55 s at 12,000 records. Hash or merge joins it is.
	if _, err := tx.Exec(ctx, "SET LOCAL enable_nestloop = off"); err != nil {
		return 0, 0, wrap("plan the sweep", err)
	}
	res, err := q.SweepUnseenRecords(ctx, db.SweepUnseenRecordsParams{WorkbookID: t.WorkbookID, TableID: t.ID, SyncID: syncID})
	if err != nil {
		return 0, 0, wrap("sweep deleted records", err)
	}
	if _, err := tx.Exec(ctx, "SET LOCAL enable_nestloop = on"); err != nil {
		return 0, 0, wrap("plan the sweep", err)
	}
	if err := q.ForgetSeen(ctx, db.ForgetSeenParams{SyncID: syncID, TableID: t.ID}); err != nil {
		return 0, 0, wrap("forget seen records", err)
	}
	return int(res.Removed), int(res.Flagged), nil
}

// ForgetSeenTx drops what a pull of t recorded for its sweep, when the pull
// ends without one (cancelled, failed).
func (s *Service) ForgetSeenTx(ctx context.Context, tx pgx.Tx, t Table, syncID string) error {
	return wrap("forget seen records", db.New(tx).ForgetSeen(ctx, db.ForgetSeenParams{SyncID: syncID, TableID: t.ID}))
}

// PublishRecord is a record as a publish reads it.
type PublishRecord struct {
	Record
	Seq int64
}

func publishRecords(rows []db.Record) ([]PublishRecord, error) {
	out := make([]PublishRecord, 0, len(rows))
	for _, r := range rows {
		rec, err := recordFromRow(r)
		if err != nil {
			return nil, err
		}
		var seq int64
		if r.Seq != nil {
			seq = *r.Seq
		}
		out = append(out, PublishRecord{Record: rec, Seq: seq})
	}
	return out, nil
}

// PublishCreates returns up to limit records of t created here and
// accepted, after seq afterSeq, that no publish is creating yet.
func (s *Service) PublishCreates(ctx context.Context, t Table, afterSeq int64, limit int) ([]PublishRecord, error) {
	rows, err := s.q.ListPublishCreates(ctx, db.ListPublishCreatesParams{WorkbookID: t.WorkbookID, TableID: t.ID, AfterSeq: afterSeq, MaxRecords: int32(limit)})
	if err != nil {
		return nil, wrap("list creates", err)
	}
	return publishRecords(rows)
}

// InflightCreates returns up to limit records of t that a publish marked
// as being created and never settled: it was cut off.
func (s *Service) InflightCreates(ctx context.Context, t Table, limit int) ([]PublishRecord, error) {
	rows, err := s.q.ListInflightCreates(ctx, db.ListInflightCreatesParams{WorkbookID: t.WorkbookID, TableID: t.ID, MaxRecords: int32(limit)})
	if err != nil {
		return nil, wrap("list in-flight creates", err)
	}
	return publishRecords(rows)
}

// PublishUpdates returns up to limit records of t edited here, after seq
// afterSeq, still at the source.
func (s *Service) PublishUpdates(ctx context.Context, t Table, afterSeq int64, limit int) ([]PublishRecord, error) {
	return s.publishUpdates(ctx, t, afterSeq, limit, false)
}

// PublishUpdatesEdited is PublishUpdates with only the edited fields in
// each record's Fields: the values a publish writes and compares, without
// reading the rest of each record.
func (s *Service) PublishUpdatesEdited(ctx context.Context, t Table, afterSeq int64, limit int) ([]PublishRecord, error) {
	return s.publishUpdates(ctx, t, afterSeq, limit, true)
}

func (s *Service) publishUpdates(ctx context.Context, t Table, afterSeq int64, limit int, editedOnly bool) ([]PublishRecord, error) {
	rows, err := s.q.ListPublishUpdates(ctx, db.ListPublishUpdatesParams{WorkbookID: t.WorkbookID, TableID: t.ID, AfterSeq: afterSeq, MaxRecords: int32(limit), EditedOnly: editedOnly})
	if err != nil {
		return nil, wrap("list updates", err)
	}
	recs := make([]db.Record, len(rows))
	for i, r := range rows {
		recs[i] = db.Record(r)
	}
	return publishRecords(recs)
}

// PublishDeletes returns up to limit records of t deleted here, after seq
// afterSeq.
func (s *Service) PublishDeletes(ctx context.Context, t Table, afterSeq int64, limit int) ([]PublishRecord, error) {
	rows, err := s.q.ListPublishDeletes(ctx, db.ListPublishDeletesParams{WorkbookID: t.WorkbookID, TableID: t.ID, AfterSeq: afterSeq, MaxRecords: int32(limit)})
	if err != nil {
		return nil, wrap("list deletes", err)
	}
	return publishRecords(rows)
}

// MarkInflightTx marks records of t as being created at the source by
// publish syncID, before it asks the source: committed first, so that a
// publish cut off between the two knows to look for them.
func (s *Service) MarkInflightTx(ctx context.Context, tx pgx.Tx, t Table, syncID string, recordIDs []string) error {
	q := db.New(tx)
	if err := lockForRecords(ctx, q, t); err != nil {
		return err
	}
	return wrap("mark in flight", q.MarkInflight(ctx, db.MarkInflightParams{WorkbookID: t.WorkbookID, TableID: t.ID, SyncID: &syncID, RecordIds: recordIDs}))
}

// ClearInflightTx unmarks records of t that the source did not create, so
// that the next publish creates them.
func (s *Service) ClearInflightTx(ctx context.Context, tx pgx.Tx, t Table, recordIDs []string) error {
	q := db.New(tx)
	if err := lockForRecords(ctx, q, t); err != nil {
		return err
	}
	return wrap("clear in flight", q.ClearInflight(ctx, db.ClearInflightParams{WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: recordIDs}))
}

// PublishOutcome is what a publish batch did to records of one table: the
// store records it in one transaction with the batch's progress.
type PublishOutcome struct {
	// Created maps records created at the source to their new remote ids.
	Created map[string]string
	// CreatedValues are the source's values of records it created, by
	// column id, when it was asked: they fill the fields left empty here
	// (the key it assigned, its defaults); the values typed here stay.
	CreatedValues map[string]map[string]any
	// Published maps records updated at the source to the values written,
	// by column id (nil for a value emptied).
	Published map[string]map[string]any
	// Listed are the versions the Published records were listed at: a
	// record still at its version holds exactly the values published, and
	// is settled without a re-read of its values.
	Listed map[string]int
	// Conflicts maps records to the source's values of fields it changed
	// since the pull that were edited here too.
	Conflicts map[string]map[string]any
	// Errors maps records to why they were not written, by column id (""
	// for the record).
	Errors map[string]map[string]string
	// SourceDeleted are edited records the source no longer has.
	SourceDeleted []string
	// Deleted are records deleted at the source, to remove here.
	Deleted []string
	// Changes are what the publish changed at the source, for a revert.
	Changes []PublishChange
}

// PublishChange is one record a publish changed at the source.
type PublishChange struct {
	RecordID string
	RemoteID string
	// Action is "create", "update" or "delete".
	Action string
	// Before are the source's values the publish overwrote or deleted, by
	// column id; After what it wrote.
	Before map[string]any
	After  map[string]any
}

// RecordPublishOutcomeTx records o for table t of publish syncID, and tells
// the table's viewers.
func (s *Service) RecordPublishOutcomeTx(ctx context.Context, tx pgx.Tx, t Table, syncID string, o PublishOutcome) error {
	q := db.New(tx)
	if err := lockForRecords(ctx, q, t); err != nil {
		return err
	}
	var touched []string
	if len(o.Created) > 0 {
		p := db.MarkCreatedParams{WorkbookID: t.WorkbookID, TableID: t.ID}
		for id, remote := range o.Created {
			vals := o.CreatedValues[id]
			if vals == nil {
				vals = map[string]any{}
			}
			b, err := json.Marshal(vals)
			if err != nil {
				return fmt.Errorf("workbooks: encode created values: %w", err)
			}
			p.RecordIds, p.RemoteIds = append(p.RecordIds, id), append(p.RemoteIds, remote)
			p.SourceValues = append(p.SourceValues, b)
		}
		got, err := q.MarkCreated(ctx, p)
		if err != nil {
			return wrap("mark created", err)
		}
		touched = append(touched, got...)
	}
	if len(o.Published) > 0 {
		got, err := markPublished(ctx, q, t, o.Published, o.Listed)
		if err != nil {
			return err
		}
		touched = append(touched, got...)
	}
	if len(o.Conflicts) > 0 {
		p := db.SetConflictsParams{WorkbookID: t.WorkbookID, TableID: t.ID}
		for id, vals := range o.Conflicts {
			b, err := json.Marshal(vals)
			if err != nil {
				return fmt.Errorf("workbooks: encode conflicts: %w", err)
			}
			p.RecordIds, p.Conflicts = append(p.RecordIds, id), append(p.Conflicts, b)
		}
		got, err := q.SetConflicts(ctx, p)
		if err != nil {
			return wrap("set conflicts", err)
		}
		touched = append(touched, got...)
	}
	if len(o.Errors) > 0 {
		p := db.SetPublishErrorsParams{WorkbookID: t.WorkbookID, TableID: t.ID}
		for id, errs := range o.Errors {
			b, err := json.Marshal(errs)
			if err != nil {
				return fmt.Errorf("workbooks: encode publish errors: %w", err)
			}
			p.RecordIds, p.Errors = append(p.RecordIds, id), append(p.Errors, b)
		}
		got, err := q.SetPublishErrors(ctx, p)
		if err != nil {
			return wrap("set publish errors", err)
		}
		touched = append(touched, got...)
	}
	if len(o.SourceDeleted) > 0 {
		got, err := q.MarkSourceDeleted(ctx, db.MarkSourceDeletedParams{WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: o.SourceDeleted})
		if err != nil {
			return wrap("mark deleted at the source", err)
		}
		touched = append(touched, got...)
	}
	if len(o.Deleted) > 0 {
		got, err := q.RemoveRecords(ctx, db.RemoveRecordsParams{WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: o.Deleted})
		if err != nil {
			return wrap("remove deleted records", err)
		}
		touched = append(touched, got...)
	}
	if len(o.Changes) > 0 {
		if err := recordPublishChanges(ctx, q, t, syncID, o.Changes); err != nil {
			return err
		}
	}
	if len(touched) == 0 {
		return nil
	}
	return notify(ctx, tx, t.WorkbookID, change{Kind: "records.changed", TableID: t.ID, RecordIDs: touched})
}

// RecordPublishChanges records, in a transaction of its own, what publish
// syncID changed at the source in t, as soon as the source answered: a
// publish cut off before its outcome commits still has them for a revert,
// and the retry that finds the source already holding the values adds
// none. The changes of a record are kept once per publish.
func (s *Service) RecordPublishChanges(ctx context.Context, t Table, syncID string, changes []PublishChange) error {
	if len(changes) == 0 {
		return nil
	}
	return recordPublishChanges(ctx, s.q, t, syncID, changes)
}

// markPublished settles the published fields of records: those still at
// their listed version in one plain update, the rest (changed since they
// were listed) by comparing their values with the ones published.
func markPublished(ctx context.Context, q *db.Queries, t Table, published map[string]map[string]any, listed map[string]int) ([]string, error) {
	var touched []string
	settled := map[string]bool{}
	if len(listed) > 0 {
		p := db.MarkPublishedAsListedParams{WorkbookID: t.WorkbookID, TableID: t.ID}
		var keys []byte
		for id, vals := range published {
			if v, ok := listed[id]; ok {
				keys = appendTextArray(keys[:0], slices.Collect(maps.Keys(vals)))
				p.RecordIds, p.Versions, p.Keys = append(p.RecordIds, id), append(p.Versions, int32(v)), append(p.Keys, string(keys))
			}
		}
		got, err := q.MarkPublishedAsListed(ctx, p)
		if err != nil {
			return nil, wrap("mark published", err)
		}
		touched = got
		for _, id := range got {
			settled[id] = true
		}
	}
	p := db.MarkPublishedParams{WorkbookID: t.WorkbookID, TableID: t.ID}
	var buf []byte
	for id, vals := range published {
		if settled[id] {
			continue
		}
		start := len(buf)
		buf = appendJSONObject(buf, vals)
		p.RecordIds, p.Published = append(p.RecordIds, id), append(p.Published, buf[start:len(buf):len(buf)])
	}
	if len(p.RecordIds) == 0 {
		return touched, nil
	}
	got, err := q.MarkPublished(ctx, p)
	if err != nil {
		return nil, wrap("mark published", err)
	}
	return append(touched, got...), nil
}

func recordPublishChanges(ctx context.Context, q *db.Queries, t Table, syncID string, changes []PublishChange) error {
	p := db.RecordPublishChangesParams{SyncID: syncID, WorkbookID: t.WorkbookID, TableID: t.ID}
	var buf []byte
	objectOrNull := func(m map[string]any) json.RawMessage {
		if m == nil {
			return nil
		}
		start := len(buf)
		buf = appendJSONObject(buf, m)
		return buf[start:len(buf):len(buf)]
	}
	for _, c := range changes {
		before, after := objectOrNull(c.Before), objectOrNull(c.After)
		p.RecordIds = append(p.RecordIds, c.RecordID)
		p.RemoteIds = append(p.RemoteIds, c.RemoteID)
		p.Actions = append(p.Actions, c.Action)
		p.Befores = append(p.Befores, before)
		p.Afters = append(p.Afters, after)
	}
	return wrap("record publish changes", q.RecordPublishChanges(ctx, p))
}

// appendTextArray appends elems as a PostgreSQL array literal of text,
// each element quoted.
func appendTextArray(b []byte, elems []string) []byte {
	b = append(b, '{')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for j := 0; j < len(e); j++ {
			if e[j] == '"' || e[j] == '\\' {
				b = append(b, '\\')
			}
			b = append(b, e[j])
		}
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendJSONObject appends m as a JSON object of values by column id, each
// written as AppendJSONValue writes it: a publish encodes a few values of
// thousands of records a batch, which encoding/json's reflection made a
// good part of the publish's own work.
func appendJSONObject(b []byte, m map[string]any) []byte {
	b = append(b, '{')
	first := true
	for k, v := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = AppendJSONString(b, k)
		b = append(b, ':')
		b = AppendJSONValue(b, v)
	}
	return append(b, '}')
}

// PublishChangesOf returns what publish syncID changed at the source in
// workbook workbookID, for a revert.
func (s *Service) PublishChangesOf(ctx context.Context, workbookID, syncID string) ([]TablePublishChange, error) {
	rows, err := s.q.ListPublishChanges(ctx, db.ListPublishChangesParams{SyncID: syncID, WorkbookID: workbookID})
	if err != nil {
		return nil, wrap("list publish changes", err)
	}
	out := make([]TablePublishChange, 0, len(rows))
	for _, r := range rows {
		c := TablePublishChange{TableID: r.TableID, PublishChange: PublishChange{RecordID: r.RecordID, RemoteID: deref(r.RemoteID), Action: r.Action}}
		if !isJSONNull(r.Before) {
			if c.Before, err = decodeJSONObject(r.Before); err != nil {
				return nil, err
			}
		}
		if !isJSONNull(r.After) {
			if c.After, err = decodeJSONObject(r.After); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// TablePublishChange is a PublishChange with its table.
type TablePublishChange struct {
	TableID string
	PublishChange
}

// ConflictSelector chooses conflicting cells of a table: all of them, or
// the listed ones.
type ConflictSelector struct {
	All   bool
	Cells []Cell
}

// ResolveConflicts settles the selected conflicts of one of the owner's
// tables: keepMine publishes the edit over the source's value next time;
// otherwise the record takes the source's value. It returns how many cells
// it settled. Errors: NotFound, Invalid (nothing selected).
func (s *Service) ResolveConflicts(ctx context.Context, ownerID, workbookID, tableID string, sel ConflictSelector, keepMine bool) (int, error) {
	if !sel.All && len(sel.Cells) == 0 {
		return 0, apperr.InvalidFields("Choose the conflicts to resolve.", apperr.FieldError{Field: "cells", Message: "choose cells, or all"})
	}
	var cells int
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(sel.Cells))
		recordIDs := make([]string, 0, len(sel.Cells))
		for i, c := range sel.Cells {
			col, ok := t.Columns.Lookup(c.Field)
			if !ok {
				return apperr.InvalidFields("Unknown column "+strconv.Quote(c.Field)+".",
					apperr.FieldError{Field: fmt.Sprintf("cells[%d].field", i), Message: "unknown column"})
			}
			if !ids.ValidUUID(c.RecordID) {
				return errRecordNotFound
			}
			keys = append(keys, strings.ToLower(c.RecordID)+"/"+col.ID)
			recordIDs = append(recordIDs, strings.ToLower(c.RecordID))
		}
		if err := mustBeRecordsOf(ctx, q, t, recordIDs); err != nil {
			return err
		}
		rows, err := q.ResolveConflicts(ctx, db.ResolveConflictsParams{WorkbookID: workbookID, TableID: tableID,
			AllCells: sel.All, CellKeys: keys, KeepMine: keepMine})
		if err != nil {
			return err
		}
		var touched []string
		for _, r := range rows {
			touched = append(touched, r.ID)
			cells += int(r.Cells)
		}
		if len(touched) == 0 {
			return nil
		}
		return notify(ctx, tx, workbookID, change{Kind: "records.changed", TableID: tableID, RecordIDs: touched})
	})
	if err != nil {
		return 0, wrap("resolve conflicts", err)
	}
	return cells, nil
}

// mustBeRecordsOf fails with NotFound unless every id names a record of t.
func mustBeRecordsOf(ctx context.Context, q *db.Queries, t Table, recordIDs []string) error {
	if len(recordIDs) == 0 {
		return nil
	}
	recordIDs = slices.Compact(slices.Sorted(slices.Values(recordIDs)))
	n, err := q.CountRecordsWithIDs(ctx, db.CountRecordsWithIDsParams{WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: recordIDs})
	if err != nil {
		return err
	}
	if int(n) != len(recordIDs) {
		return errRecordNotFound
	}
	return nil
}

// ResolveSourceDeleted settles records of one of the owner's tables that
// the source deleted while they were edited here: recreate makes the next
// publish create them again, otherwise they are dropped. all chooses every
// such record of the table. It returns how many it settled. Errors:
// NotFound, Invalid (nothing selected).
func (s *Service) ResolveSourceDeleted(ctx context.Context, ownerID, workbookID, tableID string, recordIDs []string, all, recreate bool) (int, error) {
	if !all && len(recordIDs) == 0 {
		return 0, apperr.InvalidFields("Choose the records to settle.", apperr.FieldError{Field: "record_ids", Message: "choose records, or all"})
	}
	var n int
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		valid := make([]string, 0, len(recordIDs))
		for _, id := range recordIDs {
			if !ids.ValidUUID(id) {
				return errRecordNotFound
			}
			valid = append(valid, strings.ToLower(id))
		}
		if err := mustBeRecordsOf(ctx, q, t, valid); err != nil {
			return err
		}
		var touched []string
		if recreate {
			touched, err = q.RecreateSourceDeleted(ctx, db.RecreateSourceDeletedParams{WorkbookID: workbookID, TableID: tableID,
				ScratchIds: t.Columns.scratchIDs(), AllRecords: all, RecordIds: valid})
		} else {
			touched, err = q.DropSourceDeleted(ctx, db.DropSourceDeletedParams{WorkbookID: workbookID, TableID: tableID, AllRecords: all, RecordIds: valid})
		}
		if err != nil {
			return err
		}
		n = len(touched)
		if n == 0 {
			return nil
		}
		return notify(ctx, tx, workbookID, change{Kind: "records.changed", TableID: tableID, RecordIDs: touched})
	})
	if err != nil {
		return 0, wrap("settle deleted records", err)
	}
	return n, nil
}

// SourceValue reads a value as a data source gave it for col into its
// canonical form, as a pull stores it: the source is the authority on the
// column's options. A value the column cannot hold reads as nil, false.
func SourceValue(col Column, raw any) (any, bool) {
	col.Options = nil
	v, msg := normalize(col, raw)
	return v, msg == ""
}

// AttentionRecords returns up to limit records of t in conflict with their
// source or deleted there while edited here, in order: what a person
// settles before those changes can be published.
func (s *Service) AttentionRecords(ctx context.Context, t Table, limit int) ([]Record, error) {
	rows, err := s.q.ListConflictRecords(ctx, db.ListConflictRecordsParams{WorkbookID: t.WorkbookID, TableID: t.ID, MaxRecords: int32(limit)})
	if err != nil {
		return nil, wrap("list conflicts", err)
	}
	out := make([]Record, 0, len(rows))
	for _, r := range rows {
		rec, err := recordFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}
