package workbooks

import (
	"context"
	"time"
)

// SetCountBudget sets how long a big table's filtered count may take
// before the total is estimated instead (150 ms unless set).
func (s *Service) SetCountBudget(d time.Duration) { s.countBudget = d }

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
	return p.SQL, p.Args, nil
}
