package syncs

import (
	"context"
	"slices"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// RevertCounts says how many suggestions a revert proposed.
type RevertCounts = workbooks.SuggestionCounts

// maxRevertBatch bounds the suggestions of one proposal (the store's cap).
const maxRevertBatch = 10_000

// RevertPublish turns what one of the owner's finished publishes changed at
// the source into suggestions, to review and publish like any other: the
// values it overwrote come back as suggested values, the records it created
// are suggested for deletion, the records it deleted are suggested as new
// records. Records since removed here are skipped. Errors: NotFound (the
// sync, or not a publish of this workbook), Conflict (still running).
func (s *Service) RevertPublish(ctx context.Context, ownerID, workbookID, syncID string) (RevertCounts, error) {
	sy, err := s.FindSync(ctx, ownerID, syncID)
	if err != nil {
		return RevertCounts{}, err
	}
	if sy.WorkbookID != workbookID || sy.Kind != KindPublish {
		return RevertCounts{}, errSyncNotFound
	}
	if !sy.Finished() {
		return RevertCounts{}, apperr.New(apperr.Conflict, "This publish is still running; revert it once it has finished.")
	}
	changes, err := s.store.PublishChangesOf(ctx, workbookID, syncID)
	if err != nil {
		return RevertCounts{}, err
	}
	byTable := map[string][]workbooks.TablePublishChange{}
	var order []string
	for _, c := range changes {
		if _, ok := byTable[c.TableID]; !ok {
			order = append(order, c.TableID)
		}
		byTable[c.TableID] = append(byTable[c.TableID], c)
	}
	var total RevertCounts
	for _, tableID := range order {
		n, err := s.revertTable(ctx, ownerID, workbookID, tableID, byTable[tableID])
		if apperr.Is(err, apperr.NotFound) {
			continue // the table is gone
		}
		if err != nil {
			return total, err
		}
		total.Updates += n.Updates
		total.Creates += n.Creates
		total.Deletes += n.Deletes
	}
	return total, nil
}

func (s *Service) revertTable(ctx context.Context, ownerID, workbookID, tableID string, changes []workbooks.TablePublishChange) (RevertCounts, error) {
	t, err := s.store.FindTable(ctx, ownerID, workbookID, tableID)
	if err != nil {
		return RevertCounts{}, err
	}
	var recordIDs []string
	for _, c := range changes {
		if c.Action != "delete" {
			recordIDs = append(recordIDs, c.RecordID)
		}
	}
	_, present, err := s.store.FindRecordsForLive(ctx, workbookID, tableID, recordIDs)
	if err != nil {
		return RevertCounts{}, err
	}
	exists := map[string]bool{}
	for _, r := range present {
		exists[r.ID] = true
	}
	var total RevertCounts
	for part := range slices.Chunk(changes, maxRevertBatch) {
		p := workbooks.Proposal{Source: workbooks.SourceRevert}
		for _, c := range part {
			switch {
			case c.Action == "update" && exists[c.RecordID] && len(c.Before) > 0:
				fields := map[string]any{}
				for id, v := range c.Before {
					if _, ok := t.Columns.ByID(id); ok {
						fields[id] = v
					}
				}
				p.Updates = append(p.Updates, workbooks.RecordUpdate{RecordID: c.RecordID, Fields: fields})
			case c.Action == "create" && exists[c.RecordID]:
				p.Deletes = append(p.Deletes, c.RecordID)
			case c.Action == "delete" && len(c.Before) > 0:
				p.Creates = append(p.Creates, workbooks.RecordFields{Fields: c.Before})
			}
		}
		if len(p.Updates)+len(p.Creates)+len(p.Deletes) == 0 {
			continue
		}
		n, err := s.store.ProposeSuggestions(ctx, ownerID, workbookID, tableID, p)
		if err != nil {
			return total, err
		}
		total.Updates += n.Updates
		total.Creates += n.Creates
		total.Deletes += n.Deletes
	}
	return total, nil
}
