package syncs

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// RunPublish is the body of the publish job: for each table of the sync,
// the creates, then the updates, then the deletes, in the connector's batch
// sizes. lastAttempt says whether River will retry a failure.
func (s *Service) RunPublish(ctx context.Context, args PublishArgs, lastAttempt bool) error {
	return s.execute(ctx, args.SyncID, lastAttempt, s.publishTable)
}

// fieldMap maps a table's columns to its source's keys: the ones a publish
// writes are the source's columns that are neither read-only nor scratch.
type fieldMap struct {
	cols     []workbooks.Column
	byRemote map[string]workbooks.Column
}

func newFieldMap(t workbooks.Table) fieldMap {
	m := fieldMap{byRemote: map[string]workbooks.Column{}}
	for _, c := range t.Columns {
		if c.RemoteKey == "" || c.Scratch {
			continue
		}
		m.byRemote[c.RemoteKey] = c
		if !c.ReadOnly {
			m.cols = append(m.cols, c)
		}
	}
	return m
}

// createFields returns a new record's values by source key: the writable
// columns that have one.
func (m fieldMap) createFields(rec workbooks.Record) map[string]any {
	out := map[string]any{}
	for _, c := range m.cols {
		if v, ok := rec.Fields[c.ID]; ok && v != nil {
			out[c.RemoteKey] = v
		}
	}
	return out
}

// recordError files a write's error under the column it names ("" for the
// record as a whole).
func (m fieldMap) recordError(err error) map[string]string {
	field := ""
	if ce, ok := connectors.AsError(err); ok && ce.Field != "" {
		if c, ok := m.byRemote[ce.Field]; ok {
			field = c.ID
		}
	}
	return map[string]string{field: connectors.Message(err)}
}

// byID indexes a source's records by remote id.
func byID(recs []connectors.Record) map[string]connectors.Record {
	out := make(map[string]connectors.Record, len(recs))
	for _, r := range recs {
		out[r.ID] = r
	}
	return out
}

// fetch reads records of the source in the connector's fetch batches:
// the fields named (remote keys), or all of them when fields is nil.
func fetch(ctx context.Context, conn connectors.Connector, tableID string, ids, fields []string) (map[string]connectors.Record, error) {
	out := map[string]connectors.Record{}
	for part := range slices.Chunk(ids, max(conn.Limits().FetchBatch, 1)) {
		recs, err := connectors.FetchFields(ctx, conn, tableID, part, fields)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, byID(recs))
	}
	return out, nil
}

// editedKeys are the remote keys of the written fields edited in any of
// recs: all a conflict check of recs reads.
func (m fieldMap) editedKeys(recs []workbooks.PublishRecord) []string {
	keys := []string{}
	for _, c := range m.cols {
		for _, rec := range recs {
			if slices.Contains(rec.EditedFields, c.ID) {
				keys = append(keys, c.RemoteKey)
				break
			}
		}
	}
	return keys
}

// localValues reads a source record's values by column id, as a pull would
// store them.
func (m fieldMap) localValues(rec connectors.Record) map[string]any {
	out := map[string]any{}
	for key, c := range m.byRemote {
		if v, ok := workbooks.SourceValue(c, rec.Fields[key]); ok && v != nil {
			out[c.ID] = v
		}
	}
	return out
}

// publishTable publishes one table's changes.
func (s *Service) publishTable(ctx context.Context, r *run, st *SyncTable) error {
	t, err := r.table(ctx, *st)
	if err != nil {
		return err
	}
	if t.RemoteReadOnly != "" {
		return &tableFailure{msg: "The source cannot be written: " + t.RemoteReadOnly, cause: errReadOnly}
	}
	conn, err := r.connector(ctx, t.DataSourceID)
	if err != nil {
		return err
	}
	m := newFieldMap(t)
	if err := s.settleInflight(ctx, r, st, t, conn, m); err != nil {
		return fail(err)
	}
	if err := s.publishCreates(ctx, r, st, t, conn, m); err != nil {
		return fail(err)
	}
	if err := s.publishUpdates(ctx, r, st, t, conn, m); err != nil {
		return fail(err)
	}
	if err := s.publishDeletes(ctx, r, st, t, conn, m); err != nil {
		return fail(err)
	}
	return s.commit(ctx, r, st, tableDelta{phase: "done"}, func(tx pgx.Tx, _ *tableDelta) error {
		return s.store.ReleaseTableTx(ctx, tx, t, r.sy.ID)
	})
}

var errReadOnly = connectors.Errorf(connectors.Invalid, "read-only source")

// inflightUnknown is the publish error of a record a cut-off publish may or
// may not have created, at a source that cannot tell.
const inflightUnknown = "A publish was cut off while creating this record, and the source cannot tell whether it was created. Check the source; publish again to create it."

// settleInflight finishes the creates a cut-off attempt started: a record
// the source made gets its remote id; one it did not is created with the
// rest. Where the connector cannot look records up, the record gets an
// error asking the person to check, rather than risk creating it twice.
func (s *Service) settleInflight(ctx context.Context, r *run, st *SyncTable, t workbooks.Table, conn connectors.Connector, m fieldMap) error {
	lookup, canLookUp := connectors.Lookup(conn)
	for {
		recs, err := s.store.InflightCreates(ctx, t, max(conn.Limits().CreateBatch, 1))
		if err != nil || len(recs) == 0 {
			return err
		}
		o := workbooks.PublishOutcome{Created: map[string]string{}, Errors: map[string]map[string]string{}}
		var unmade []string
		if canLookUp {
			news := make([]connectors.NewRecord, len(recs))
			for i, rec := range recs {
				news[i] = connectors.NewRecord{Fields: m.createFields(rec.Record)}
			}
			found, err := lookup.LookupCreated(ctx, t.RemoteTableID, news)
			if err != nil {
				return err
			}
			for i, rec := range recs {
				if found[i] != "" {
					o.Created[rec.ID] = found[i]
					o.Changes = append(o.Changes, workbooks.PublishChange{RecordID: rec.ID, RemoteID: found[i], Action: "create", After: rec.Fields})
				} else {
					unmade = append(unmade, rec.ID)
				}
			}
		} else {
			for _, rec := range recs {
				o.Errors[rec.ID] = map[string]string{"": inflightUnknown}
			}
		}
		err = s.commit(ctx, r, st, tableDelta{phase: "creating", done: int64(len(o.Created)), created: len(o.Created), failed: len(o.Errors)},
			func(tx pgx.Tx, _ *tableDelta) error {
				if len(unmade) > 0 {
					if err := s.store.ClearInflightTx(ctx, tx, t, unmade); err != nil {
						return err
					}
				}
				return s.store.RecordPublishOutcomeTx(ctx, tx, t, r.sy.ID, o)
			})
		if err != nil {
			return err
		}
	}
}

// publishCreates creates the records made here at the source, a batch at a
// time. Each batch is marked in flight in a commit of its own before the
// source is asked, and its remote ids are committed as soon as it answers.
func (s *Service) publishCreates(ctx context.Context, r *run, st *SyncTable, t workbooks.Table, conn connectors.Connector, m fieldMap) error {
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := s.store.PublishCreates(ctx, t, after, max(conn.Limits().CreateBatch, 1))
		if err != nil || len(recs) == 0 {
			return err
		}
		after = recs[len(recs)-1].Seq
		ids := make([]string, len(recs))
		news := make([]connectors.NewRecord, len(recs))
		for i, rec := range recs {
			ids[i] = rec.ID
			news[i] = connectors.NewRecord{Fields: m.createFields(rec.Record)}
		}
		err = s.commit(ctx, r, st, tableDelta{phase: "creating"}, func(tx pgx.Tx, _ *tableDelta) error {
			return s.store.MarkInflightTx(ctx, tx, t, r.sy.ID, ids)
		})
		if err != nil {
			return err
		}
		results, err := conn.Create(ctx, t.RemoteTableID, news)
		if err != nil {
			return err
		}
		o := workbooks.PublishOutcome{Created: map[string]string{}, Errors: map[string]map[string]string{}}
		for i, res := range results {
			rec := recs[i]
			if res.Err != nil {
				o.Errors[rec.ID] = m.recordError(res.Err)
				continue
			}
			o.Created[rec.ID] = res.ID
			o.Changes = append(o.Changes, workbooks.PublishChange{RecordID: rec.ID, RemoteID: res.ID, Action: "create", After: rec.Fields})
		}
		o.CreatedValues = createdValues(ctx, conn, t.RemoteTableID, m, o.Created)
		err = s.commit(ctx, r, st, tableDelta{phase: "creating", done: int64(len(recs)), created: len(o.Created), failed: len(o.Errors)},
			func(tx pgx.Tx, _ *tableDelta) error { return s.store.RecordPublishOutcomeTx(ctx, tx, t, r.sy.ID, o) })
		if err != nil {
			return err
		}
	}
}

// createdValues reads the records a create just made back from the
// source, by record id, so that what the source filled in (the key it
// assigned, its defaults) shows here without waiting for a pull. The
// records are made either way: if the source cannot be read now, the next
// pull brings those values.
func createdValues(ctx context.Context, conn connectors.Connector, tableID string, m fieldMap, created map[string]string) map[string]map[string]any {
	byRemote := make(map[string]string, len(created))
	remoteIDs := make([]string, 0, len(created))
	for id, remote := range created {
		byRemote[remote] = id
		remoteIDs = append(remoteIDs, remote)
	}
	out := map[string]map[string]any{}
	for chunk := range slices.Chunk(remoteIDs, max(conn.Limits().FetchBatch, 1)) {
		recs, err := conn.Fetch(ctx, tableID, chunk)
		if err != nil {
			return out
		}
		for _, rec := range recs {
			if id, ok := byRemote[rec.ID]; ok {
				out[id] = m.localValues(rec)
			}
		}
	}
	return out
}

// publishUpdates writes the edited fields of records at the source, a batch
// at a time. It first reads the batch's records as the source holds them
// now: a field the source changed since the pull that was edited here too
// is a conflict and is not written; a field the source already holds as
// edited here (a write whose answer a crash lost) counts as published; a
// record the source no longer has is flagged for the person to settle.
//
// A batch's outcome commits while the next batch is read from the source
// and written there: the store's writes and the source's overlap. The
// next batch's records are other records, so neither step sees the other's
// writes. A crash between a batch's write and its commit leaves it as a
// crash between the two always did: the next attempt finds the source
// holding the edited values, which then count as published.
func (s *Service) publishUpdates(ctx context.Context, r *run, st *SyncTable, t workbooks.Table, conn connectors.Connector, m fieldMap) error {
	limit := max(min(conn.Limits().UpdateBatch, conn.Limits().FetchBatch), 1)
	// The next batch is read from the store while this one is written: the
	// batches are of records after one another, so neither sees the other's
	// writes.
	listCtx, stop := context.WithCancel(ctx)
	batches := s.listAhead(listCtx, t, conn, m, limit)
	defer func() {
		stop()
		for range batches {
		}
	}()
	// committing answers the commits of the batches' outcomes under way,
	// oldest first: two at a time, so that one writes its records while
	// the other records its progress. Nothing returns before all have
	// answered.
	var committing []chan error
	settleOldest := func() error {
		err := <-committing[0]
		committing = committing[1:]
		return err
	}
	settle := func() error {
		var errs []error
		for len(committing) > 0 {
			errs = append(errs, settleOldest())
		}
		return errors.Join(errs...)
	}
	defer func() { _ = settle() }()
	// kept answers the recording of the previous batch's changes at the
	// source, the same way.
	var kept chan error
	settleChanges := func() error {
		if kept == nil {
			return nil
		}
		err := <-kept
		kept = nil
		return err
	}
	defer func() { _ = settleChanges() }()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, ok := <-batches
		if !ok {
			return ctx.Err()
		}
		recs, current, err := b.recs, b.current, b.err
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return errors.Join(settleChanges(), settle())
		}
		o := workbooks.PublishOutcome{Published: make(map[string]map[string]any, len(recs)), Listed: make(map[string]int, len(recs)),
			Conflicts: map[string]map[string]any{}, Errors: map[string]map[string]string{}}
		changes := make([]connectors.Change, 0, len(recs))
		changed := make([]workbooks.PublishRecord, 0, len(recs))
		befores := make(map[string]map[string]any, len(recs))
		for _, rec := range recs {
			theirs, ok := current[rec.RemoteID]
			if !ok {
				o.SourceDeleted = append(o.SourceDeleted, rec.ID)
				continue
			}
			pulled, err := rec.OriginalValues(rec.EditedFields)
			if err != nil {
				return err
			}
			o.Listed[rec.ID] = rec.Version
			ch := connectors.Change{ID: rec.RemoteID, Fields: map[string]any{}}
			var agreed map[string]any
			before := map[string]any{}
			for _, c := range m.cols {
				if !slices.Contains(rec.EditedFields, c.ID) {
					continue
				}
				if _, pending := rec.Conflicts[c.ID]; pending {
					continue
				}
				mine := rec.Fields[c.ID]
				now, _ := workbooks.SourceValue(c, theirs.Fields[c.RemoteKey])
				switch {
				case workbooks.SameValue(c, now, mine):
					if agreed == nil {
						agreed = map[string]any{}
					}
					agreed[c.ID] = mine
				case !workbooks.SameValue(c, now, pulled[c.ID]):
					if o.Conflicts[rec.ID] == nil {
						o.Conflicts[rec.ID] = map[string]any{}
					}
					o.Conflicts[rec.ID][c.ID] = now
				default:
					ch.Fields[c.RemoteKey] = mine
					before[c.ID] = now
				}
			}
			if len(agreed) > 0 {
				o.Published[rec.ID] = agreed
			}
			if len(ch.Fields) > 0 {
				changes = append(changes, ch)
				changed = append(changed, rec)
				befores[rec.ID] = before
			}
		}
		var results []connectors.WriteResult
		if len(changes) > 0 {
			if results, err = conn.Update(ctx, t.RemoteTableID, changes); err != nil {
				return err
			}
		}
		updated := 0
		for i, res := range results {
			rec := changed[i]
			if res.Err != nil {
				o.Errors[rec.ID] = m.recordError(res.Err)
				continue
			}
			updated++
			written := make(map[string]any, len(changes[i].Fields))
			for key, v := range changes[i].Fields {
				written[m.byRemote[key].ID] = v
			}
			// Neither map changes from here on: the record's published
			// values and its change's can be the one map.
			if agreed := o.Published[rec.ID]; agreed != nil {
				maps.Copy(agreed, written)
			} else {
				o.Published[rec.ID] = written
			}
			o.Changes = append(o.Changes, workbooks.PublishChange{RecordID: rec.ID, RemoteID: rec.RemoteID, Action: "update",
				Before: befores[rec.ID], After: written})
		}
		// What the source now holds is kept at once, while the outcome
		// of the batch before commits and the next batch is written.
		if err := settleChanges(); err != nil {
			return err
		}
		kept = make(chan error, 1)
		go func(done chan<- error, changes []workbooks.PublishChange) {
			done <- s.store.RecordPublishChanges(ctx, t, r.sy.ID, changes)
		}(kept, o.Changes)
		o.Changes = nil
		d := tableDelta{phase: "updating", done: int64(len(recs)), updated: updated, conflicts: len(o.Conflicts) + len(o.SourceDeleted), failed: len(o.Errors)}
		// At most two outcomes commit at once; their progress is
		// recorded one after the other (commit).
		if len(committing) == 2 {
			if err := settleOldest(); err != nil {
				return err
			}
		}
		done := make(chan error, 1)
		committing = append(committing, done)
		go func() {
			done <- s.commit(ctx, r, st, d, func(tx pgx.Tx, _ *tableDelta) error {
				return s.store.RecordPublishOutcomeTx(ctx, tx, t, r.sy.ID, o)
			})
		}()
	}
}

// publishBatch is a batch of records to publish with their source's
// current values by remote id, or why it could not be read.
type publishBatch struct {
	recs    []workbooks.PublishRecord
	current map[string]connectors.Record
	err     error
}

// listAhead lists the records of t to update, limit at a time, and reads
// their current values at the source, one batch ahead of the caller, until
// an empty batch, an error or ctx's end; the channel then closes. The
// source is read ahead of the write of the batch before, which touches
// other records: the conflict check of a record still compares the source
// as it was moments before its own write. The first batch is a quarter of
// the others, so that writing starts, and the first progress shows, sooner.
func (s *Service) listAhead(ctx context.Context, t workbooks.Table, conn connectors.Connector, m fieldMap, limit int) <-chan publishBatch {
	out := make(chan publishBatch, 1)
	go func() {
		defer close(out)
		var after int64
		for n := max(limit/4, 1); ; n = limit {
			b := publishBatch{}
			b.recs, b.err = s.store.PublishUpdatesEdited(ctx, t, after, n)
			if b.err == nil && len(b.recs) > 0 {
				remoteIDs := make([]string, len(b.recs))
				for i, rec := range b.recs {
					remoteIDs[i] = rec.RemoteID
				}
				b.current, b.err = fetch(ctx, conn, t.RemoteTableID, remoteIDs, m.editedKeys(b.recs))
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil || len(b.recs) == 0 {
				return
			}
			after = b.recs[len(b.recs)-1].Seq
		}
	}()
	return out
}

// publishDeletes deletes at the source the records deleted here, a batch at
// a time, keeping their last values at the source for a revert; records
// that never reached the source just go.
func (s *Service) publishDeletes(ctx context.Context, r *run, st *SyncTable, t workbooks.Table, conn connectors.Connector, m fieldMap) error {
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := s.store.PublishDeletes(ctx, t, after, max(conn.Limits().DeleteBatch, 1))
		if err != nil || len(recs) == 0 {
			return err
		}
		after = recs[len(recs)-1].Seq
		o := workbooks.PublishOutcome{Errors: map[string]map[string]string{}}
		var remoteIDs []string
		var remote []workbooks.PublishRecord
		for _, rec := range recs {
			if rec.RemoteID == "" {
				o.Deleted = append(o.Deleted, rec.ID)
				continue
			}
			remoteIDs = append(remoteIDs, rec.RemoteID)
			remote = append(remote, rec)
		}
		deleted := 0
		if len(remoteIDs) > 0 {
			current, err := fetch(ctx, conn, t.RemoteTableID, remoteIDs, nil)
			if err != nil {
				return err
			}
			results, err := conn.Delete(ctx, t.RemoteTableID, remoteIDs)
			if err != nil {
				return err
			}
			for i, res := range results {
				rec := remote[i]
				if res.Err != nil {
					o.Errors[rec.ID] = m.recordError(res.Err)
					continue
				}
				deleted++
				o.Deleted = append(o.Deleted, rec.ID)
				if cur, ok := current[rec.RemoteID]; ok {
					o.Changes = append(o.Changes, workbooks.PublishChange{RecordID: rec.ID, RemoteID: rec.RemoteID, Action: "delete", Before: m.localValues(cur)})
				}
			}
		}
		err = s.commit(ctx, r, st, tableDelta{phase: "deleting", done: int64(len(recs)), deleted: deleted, failed: len(o.Errors)},
			func(tx pgx.Tx, _ *tableDelta) error { return s.store.RecordPublishOutcomeTx(ctx, tx, t, r.sy.ID, o) })
		if err != nil {
			return err
		}
	}
}
