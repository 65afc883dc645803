package recordindex

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/ids"
)

// recordPartitions is how many partitions records has (migration 00021).
const recordPartitions = 64

// PartitionOf returns the name of the partition of records that holds a
// table's records: records_p00 to records_p63, by PostgreSQL's hash of the
// two ids, which it is asked for once per table and process. On-demand
// indexes, their statistics and ANALYZE go to that partition only, and the
// bulk path COPYs into it.
func (m *Manager) PartitionOf(ctx context.Context, workbookID, tableID string) (string, error) {
	return m.PartitionVia(ctx, m.pool, workbookID, tableID)
}

// PartitionVia is PartitionOf asking over conn (a transaction's, so a
// writer holding one of the pool's connections needs no second one).
func (m *Manager) PartitionVia(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, workbookID, tableID string) (string, error) {
	if !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return "", fmt.Errorf("recordindex: no partition for %q/%q", workbookID, tableID)
	}
	key := workbookID + "/" + tableID
	if v, ok := m.partitions.Load(key); ok {
		return v.(string), nil
	}
	var r int
	err := conn.QueryRow(ctx, `SELECT r FROM generate_series(0, $1::int - 1) r
		WHERE satisfies_hash_partition('records'::regclass, $1::int, r, $2::uuid, $3::uuid)`,
		recordPartitions, workbookID, tableID).Scan(&r)
	if err != nil {
		return "", fmt.Errorf("recordindex: find partition: %w", err)
	}
	name := fmt.Sprintf("records_p%02d", r)
	m.partitions.Store(key, name)
	return name, nil
}
