package workbooks

import (
	"context"
	"strings"

	"github.com/scratchpad/scratchpad/internal/db"
)

// AppendJSONBText is appendJSONBText, for the tests.
var AppendJSONBText = appendJSONBText

// AppendTextArray is appendTextArray, for the tests.
var AppendTextArray = appendTextArray

// PageSQL returns the page query FindRecords runs for q and its arguments,
// for the scale benchmark's planning times. It asks for no index.
func (s *Service) PageSQL(ctx context.Context, ownerID, workbookID, tableID string, q RecordQuery) (string, []any, error) {
	t, err := s.findTable(ctx, s.q, ownerID, workbookID, tableID)
	if err != nil {
		return "", nil, err
	}
	p, err := s.planRecords(ctx, t, q)
	if err != nil {
		return "", nil, err
	}
	return p.sql, p.b.args, nil
}

// BuildIndexesAtOnce builds a table's registered indexes and their
// statistics as BuildRecordIndex does, but without CONCURRENTLY and without
// analyzing: the scale benchmark sets up hundreds of tables with it and
// analyzes once.
func (s *Service) BuildIndexesAtOnce(ctx context.Context, workbookID, tableID string) error {
	list, err := s.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: workbookID, TableID: tableID})
	if err != nil {
		return err
	}
	part, err := s.partitionOf(ctx, workbookID, tableID)
	if err != nil {
		return err
	}
	for _, ri := range list {
		ddl, err := indexDDL(ri, part)
		if err != nil {
			return err
		}
		stats, err := statisticsDDL(ri, part)
		if err != nil {
			return err
		}
		if err := s.execDDL(ctx, strings.Replace(ddl, " CONCURRENTLY", "", 1)); err != nil {
			return err
		}
		if err := s.execDDL(ctx, stats); err != nil {
			return err
		}
		if err := s.q.MarkRecordIndexReady(ctx, ri.Name); err != nil {
			return err
		}
	}
	return nil
}
