package recordindex

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/ids"
)

// BulkWriteRows is how many records a write must touch before it refreshes
// the planner's statistics (RefreshStatistics): below it, what PostgreSQL
// knew is close enough.
const BulkWriteRows = 1000

// RefreshStatistics analyzes the partition of records holding a table
// after a write of many of its records (an import, a pull, a bulk accept).
// How many records a filter matches, and which index serves it, come from
// the planner's statistics; without this they would wait for autovacuum
// (about a minute, or for ever where it is off), and the first sorted pages
// after an import would read the whole table. (Whether a table is big comes
// from its exact size.) It reads one partition, not every table's records.
func (m *Manager) RefreshStatistics(ctx context.Context, workbookID, tableID string) error {
	part, err := m.PartitionOf(ctx, workbookID, tableID)
	if err != nil {
		return err
	}
	if err := m.execDDL(ctx, "ANALYZE "+part); err != nil {
		return fmt.Errorf("recordindex: analyze %s: %w", part, err)
	}
	return nil
}

// RefreshSoon refreshes a table's statistics like RefreshStatistics, in the
// background, for a request that wrote many records and should not wait for
// ANALYZE. Refreshes of a table asked for while one is pending are
// coalesced into one; one goroutine works them off in turn.
func (m *Manager) RefreshSoon(workbookID, tableID string) {
	m.analyzeMu.Lock()
	defer m.analyzeMu.Unlock()
	if m.analyzePending == nil {
		m.analyzePending = map[[2]string]bool{}
	}
	m.analyzePending[[2]string{workbookID, tableID}] = true
	if m.analyzing {
		return // the running refresh will take it
	}
	m.analyzing = true
	go func() {
		for {
			m.analyzeMu.Lock()
			var next [2]string
			for k := range m.analyzePending {
				next = k
				break
			}
			if next == ([2]string{}) {
				m.analyzing = false
				m.analyzeMu.Unlock()
				return
			}
			delete(m.analyzePending, next)
			m.analyzeMu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			if err := m.RefreshStatistics(ctx, next[0], next[1]); err != nil && ctx.Err() == nil {
				slog.Warn("recordindex: analyze records after a bulk write", "err", err)
			}
			cancel()
		}
	}()
}

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
