package syncs

import (
	"context"
	"fmt"
	"slices"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// DefaultPreviewItems is how many changes of each kind a preview lists per
// table; the counts are always whole.
const DefaultPreviewItems = 100

// Preview is what a publish of a workbook's tables would do.
type Preview struct {
	Tables []TablePreview
}

// Empty reports whether the preview has nothing to publish.
func (p Preview) Empty() bool {
	for _, t := range p.Tables {
		if t.Creates+t.Updates+t.Deletes > 0 {
			return false
		}
	}
	return true
}

// TablePreview is what a publish of one table would do: how many records
// it would create, update and delete at the source, how many wait on the
// person (conflicts, records deleted at the source), how many failed last
// time, and the first of each.
type TablePreview struct {
	Table                                                       workbooks.Table
	Creates, Updates, Deletes, Conflicts, SourceDeleted, Failed int
	// ReadOnly says why the source cannot be written, if it cannot.
	ReadOnly string
	// Busy says a pull or publish holds the table now.
	Busy bool

	CreateRecords []workbooks.Record
	UpdateCells   []CellChange
	DeleteRecords []workbooks.Record
	// Attention are the records in conflict or deleted at the source.
	Attention []workbooks.Record
}

// CellChange is one field an update would write: its value as pulled and
// its value now.
type CellChange struct {
	Record workbooks.Record
	Column workbooks.Column
	Pulled any
	Now    any
}

// Preview returns what publishing some of the owner's tables of a workbook
// (all of its tables from data sources when tableIDs is empty) would do,
// listing up to items changes of each kind per table. Errors: NotFound,
// Invalid.
func (s *Service) Preview(ctx context.Context, ownerID, workbookID string, tableIDs []string, items int) (Preview, error) {
	if items <= 0 || items > 1000 {
		items = DefaultPreviewItems
	}
	wb, err := s.store.FindWorkbook(ctx, ownerID, workbookID)
	if err != nil {
		return Preview{}, err
	}
	var p Preview
	for _, t := range wb.Tables {
		if !t.Sourced() || len(tableIDs) > 0 && !slices.Contains(tableIDs, t.ID) {
			continue
		}
		tp, err := s.previewTable(ctx, t, items)
		if err != nil {
			return Preview{}, err
		}
		p.Tables = append(p.Tables, tp)
	}
	return p, nil
}

func (s *Service) previewTable(ctx context.Context, t workbooks.Table, items int) (TablePreview, error) {
	w, err := s.q.CountPublishWork(ctx, db.CountPublishWorkParams{WorkbookID: t.WorkbookID, TableID: t.ID})
	if err != nil {
		return TablePreview{}, fmt.Errorf("syncs: count changes: %w", err)
	}
	tp := TablePreview{Table: t, Creates: int(w.Creates), Updates: int(w.Updates), Deletes: int(w.Deletes),
		Conflicts: int(w.Conflicts), SourceDeleted: int(w.SourceDeleted), Failed: int(w.Failed),
		ReadOnly: t.RemoteReadOnly, Busy: t.SyncID != ""}
	creates, err := s.store.PublishCreates(ctx, t, 0, items)
	if err != nil {
		return TablePreview{}, err
	}
	for _, r := range creates {
		tp.CreateRecords = append(tp.CreateRecords, r.Record)
	}
	updates, err := s.store.PublishUpdates(ctx, t, 0, items)
	if err != nil {
		return TablePreview{}, err
	}
	m := newFieldMap(t)
	for _, r := range updates {
		pulled, err := r.Original()
		if err != nil {
			return TablePreview{}, err
		}
		for _, c := range m.cols {
			if !slices.Contains(r.EditedFields, c.ID) || len(tp.UpdateCells) >= items {
				continue
			}
			if _, conflict := r.Conflicts[c.ID]; conflict {
				continue
			}
			tp.UpdateCells = append(tp.UpdateCells, CellChange{Record: r.Record, Column: c, Pulled: pulled[c.ID], Now: r.Fields[c.ID]})
		}
	}
	deletes, err := s.store.PublishDeletes(ctx, t, 0, items)
	if err != nil {
		return TablePreview{}, err
	}
	for _, r := range deletes {
		tp.DeleteRecords = append(tp.DeleteRecords, r.Record)
	}
	if tp.Attention, err = s.store.AttentionRecords(ctx, t, items); err != nil {
		return TablePreview{}, err
	}
	return tp, nil
}
