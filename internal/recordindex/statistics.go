package recordindex

import (
	"context"
	"fmt"
	"log/slog"
	"time"
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
