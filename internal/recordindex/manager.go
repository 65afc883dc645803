package recordindex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/recordsql"
)

// DefaultThreshold is the size from which a table gets indexes on
// demand. Below it a sort reads every record of the table, which is fast
// enough and costs no index upkeep.
const DefaultThreshold = 50_000

// Manager registers, builds and drops the on-demand indexes of the records
// of big tables, and keeps their statistics. It is safe for concurrent use;
// one per database serves every request.
type Manager struct {
	pool *pgxpool.Pool
	q    *db.Queries
	// Index builds are enqueued with an insert-only River client, created
	// on first use; the app's own River client works the jobs.
	once   sync.Once
	client *river.Client[pgx.Tx]
	err    error
	// threshold overrides DefaultThreshold when positive.
	threshold atomic.Int64
	// registered holds the index registrations this process has seen, by
	// table, column and kind (see Request).
	registered sync.Map
	// partitions holds the partition of records of each table seen, by
	// workbook and table id (PartitionOf).
	partitions sync.Map
	// analyzeMu guards the background refreshes of statistics: the tables
	// waiting for one, and whether a goroutine works them off (RefreshSoon).
	analyzeMu      sync.Mutex
	analyzePending map[[2]string]bool
	analyzing      bool
}

// New returns the index manager of the records in pool's database.
func New(pool *pgxpool.Pool) *Manager {
	return &Manager{pool: pool, q: db.New(pool)}
}

// SetThreshold sets the table size from which a table is big and its
// listings ask for indexes (DefaultThreshold unless set); tests use it to
// exercise the big-table path on small tables.
func (m *Manager) SetThreshold(n int64) { m.threshold.Store(max(n, 1)) }

// Threshold is the table size from which a table is big: its listings ask
// for indexes (Wanted, Request) and write its ids into their SQL.
func (m *Manager) Threshold() int64 {
	if n := m.threshold.Load(); n > 0 {
		return n
	}
	return DefaultThreshold
}

func (m *Manager) riverClient() (*river.Client[pgx.Tx], error) {
	m.once.Do(func() {
		m.client, m.err = river.NewClient(riverpgxv5.New(m.pool), &river.Config{})
	})
	return m.client, m.err
}

// registeredTTL is how long Request trusts that an index it saw
// registered still is. Registrations only go away with their table or
// column, whose ids are never reused, so this only bounds how long a
// process can be wrong about an index row someone removed by hand.
const registeredTTL = 5 * time.Minute

// registeredKey names an index registration in Manager.registered.
func registeredKey(tableID, columnID, kind string) string {
	return tableID + "/" + columnID + "/" + kind
}

// knownRegistered reports whether w is among the indexes this process saw
// registered for t within registeredTTL.
func (m *Manager) knownRegistered(t recordsql.Table, w Want) bool {
	kinds := []string{w.kind}
	if w.anyBtree {
		kinds = append(kinds, indexDesc)
	}
	for _, k := range kinds {
		if v, ok := m.registered.Load(registeredKey(t.ID, w.col.ID, k)); ok && time.Since(v.(time.Time)) < registeredTTL {
			return true
		}
	}
	return false
}

// Request registers and enqueues the wanted indexes of a big table
// that are not registered yet. A registered index is never requested again,
// whatever its state: a failed build is River's to retry. Registrations seen
// are remembered (see registeredTTL), so a listing whose indexes are all
// known to be registered costs no query here.
func (m *Manager) Request(ctx context.Context, t recordsql.Table, wants []Want) error {
	unknown := false
	for _, w := range wants {
		if !m.knownRegistered(t, w) {
			unknown = true
			break
		}
	}
	if !unknown {
		return nil
	}
	have, err := m.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: t.WorkbookID, TableID: t.ID})
	if err != nil {
		return fmt.Errorf("recordindex: list indexes: %w", err)
	}
	now := time.Now()
	for _, h := range have {
		m.registered.Store(registeredKey(t.ID, h.ColumnID, h.Kind), now)
	}
	var missing []Want
	for _, w := range wants {
		if !m.knownRegistered(t, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	client, err := m.riverClient()
	if err != nil {
		return fmt.Errorf("recordindex: river client: %w", err)
	}
	err = db.InTx(ctx, m.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		for _, w := range missing {
			n, err := q.RequestRecordIndex(ctx, db.RequestRecordIndexParams{
				WorkbookID: t.WorkbookID, TableID: t.ID, ColumnID: w.col.ID, Kind: w.kind,
				ColumnType: string(w.col.Type), Name: indexName(t.WorkbookID, t.ID, w.col.ID, w.kind),
			})
			if err != nil {
				return err
			}
			if n == 0 {
				continue // a concurrent listing asked first
			}
			args := BuildArgs{WorkbookID: t.WorkbookID, TableID: t.ID, ColumnID: w.col.ID, IndexKind: w.kind}
			if _, err := client.InsertTx(ctx, tx, args, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recordindex: request indexes: %w", err)
	}
	// Remembered only once committed: a rolled-back request is asked again.
	for _, w := range missing {
		m.registered.Store(registeredKey(t.ID, w.col.ID, w.kind), time.Now())
	}
	return nil
}

// Index describes an on-demand index, for tests and diagnostics.
type Index struct {
	Name     string
	ColumnID string
	Kind     string
	Status   string
}

// Find lists a table's on-demand indexes that are not being
// dropped. It does not check ownership: callers are jobs, tests and tools.
func (m *Manager) Find(ctx context.Context, workbookID, tableID string) ([]Index, error) {
	if !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return nil, nil
	}
	rows, err := m.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: workbookID, TableID: tableID})
	if err != nil {
		return nil, fmt.Errorf("recordindex: list indexes: %w", err)
	}
	out := make([]Index, len(rows))
	for i, r := range rows {
		out[i] = Index{Name: r.Name, ColumnID: r.ColumnID, Kind: r.Kind, Status: r.Status}
	}
	return out, nil
}

// indexState reports whether an index of that name exists and is valid.
// PostgreSQL's catalogs are outside sqlc's schema, so the query is here.
func (m *Manager) indexState(ctx context.Context, name string) (present, valid bool, err error) {
	err = m.pool.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, name).Scan(&valid)
	if db.IsNoRows(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return true, valid, nil
}

// Build builds the index args names, unless it was dropped
// meanwhile. A build that failed half-way (leaving an invalid index) is
// dropped and redone. Afterwards the column gets a statistics object (see
// statisticsDDL) and the table's partition is analyzed, so the planner can estimate
// filters on it. Run by the build_record_index job.
func (m *Manager) Build(ctx context.Context, args BuildArgs) error {
	name := indexName(args.WorkbookID, args.TableID, args.ColumnID, args.IndexKind)
	ri, err := m.q.GetRecordIndex(ctx, name)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recordindex: find index: %w", err)
	}
	if ri.Status == indexDropping {
		return nil
	}
	if err := m.buildIndex(ctx, ri); err != nil {
		// Recorded for diagnostics; River retries the job.
		msg := err.Error()
		if ferr := m.q.MarkRecordIndexFailed(context.WithoutCancel(ctx), db.MarkRecordIndexFailedParams{Name: name, Error: &msg}); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	return nil
}

func (m *Manager) buildIndex(ctx context.Context, ri db.RecordIndex) error {
	part, err := m.PartitionOf(ctx, ri.WorkbookID, ri.TableID)
	if err != nil {
		return err
	}
	ddl, err := indexDDL(ri, part)
	if err != nil {
		return err
	}
	present, valid, err := m.indexState(ctx, ri.Name)
	if err != nil {
		return fmt.Errorf("recordindex: index state: %w", err)
	}
	if present && !valid {
		if err := m.execDDL(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+ri.Name); err != nil {
			return fmt.Errorf("recordindex: drop invalid index %s: %w", ri.Name, err)
		}
	}
	if err := m.execDDL(ctx, ddl); err != nil {
		return fmt.Errorf("recordindex: build index %s: %w", ri.Name, err)
	}
	stats, err := statisticsDDL(ri, part)
	if err != nil {
		return err
	}
	if err := m.execDDL(ctx, stats); err != nil {
		return fmt.Errorf("recordindex: create statistics for %s: %w", ri.Name, err)
	}
	// One ANALYZE serves every index the table is waiting for: while
	// another of its indexes is still pending, that build's ANALYZE will
	// cover this one's statistics too (a bulk write registers several at
	// once, its Ready indexes, and each ANALYZE reads the partition).
	siblings, err := m.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: ri.WorkbookID, TableID: ri.TableID})
	if err != nil {
		return fmt.Errorf("recordindex: list indexes: %w", err)
	}
	if !slices.ContainsFunc(siblings, func(o db.RecordIndex) bool { return o.Name != ri.Name && o.Status == indexPending }) {
		if err := m.execDDL(ctx, "ANALYZE "+part); err != nil {
			return fmt.Errorf("recordindex: analyze %s: %w", part, err)
		}
	}
	if err := m.q.MarkRecordIndexReady(ctx, ri.Name); err != nil {
		return fmt.Errorf("recordindex: mark index ready: %w", err)
	}
	return nil
}

// execDDL runs one statement outside any transaction, as CONCURRENTLY
// requires, over the simple protocol so nothing is prepared.
func (m *Manager) execDDL(ctx context.Context, sql string) error {
	_, err := m.pool.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return err
}

// DropStale drops the indexes whose table was deleted or whose
// column was removed, and returns how many it dropped. Run periodically by
// the drop_record_indexes job.
func (m *Manager) DropStale(ctx context.Context) (int, error) {
	stale, err := m.q.ListDroppingRecordIndexes(ctx)
	if err != nil {
		return 0, fmt.Errorf("recordindex: list stale indexes: %w", err)
	}
	for i, ri := range stale {
		if !indexNamePattern(ri.Name) {
			return i, fmt.Errorf("recordindex: refusing to drop index %q", ri.Name)
		}
		if err := m.execDDL(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+ri.Name); err != nil {
			return i, fmt.Errorf("recordindex: drop index %s: %w", ri.Name, err)
		}
		if err := m.q.DeleteRecordIndex(ctx, ri.Name); err != nil {
			return i, fmt.Errorf("recordindex: forget index %s: %w", ri.Name, err)
		}
		// The column's statistics go with its last index.
		left, err := m.q.CountColumnRecordIndexes(ctx, db.CountColumnRecordIndexesParams{
			WorkbookID: ri.WorkbookID, TableID: ri.TableID, ColumnID: ri.ColumnID})
		if err != nil {
			return i, fmt.Errorf("recordindex: count column indexes: %w", err)
		}
		if left == 0 {
			for _, lowered := range []bool{false, true} {
				name := statisticsName(ri.WorkbookID, ri.TableID, ri.ColumnID, lowered)
				if err := m.execDDL(ctx, "DROP STATISTICS IF EXISTS "+name); err != nil {
					return i, fmt.Errorf("recordindex: drop statistics %s: %w", name, err)
				}
			}
		}
	}
	return len(stale), nil
}

// Wait waits until none of t's indexes is pending, or wait has
// passed.
func (m *Manager) Wait(ctx context.Context, t recordsql.Table, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		have, err := m.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: t.WorkbookID, TableID: t.ID})
		if err != nil {
			return fmt.Errorf("recordindex: list indexes: %w", err)
		}
		if !slices.ContainsFunc(have, func(ri db.RecordIndex) bool { return ri.Status == indexPending }) {
			return nil
		}
		if time.Now().Add(delay).After(deadline) {
			slog.WarnContext(ctx, "recordindex: indexes still building after a bulk write", "table", t.ID, "waited", wait)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// BuildAtOnce builds a table's registered indexes and their statistics as
// Build does, but without CONCURRENTLY and without analyzing: a benchmark
// sets up hundreds of tables with it and analyzes once. It blocks writes to
// the table's partition while it runs, so the app never calls it.
func (m *Manager) BuildAtOnce(ctx context.Context, workbookID, tableID string) error {
	list, err := m.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: workbookID, TableID: tableID})
	if err != nil {
		return err
	}
	part, err := m.PartitionOf(ctx, workbookID, tableID)
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
		if err := m.execDDL(ctx, strings.Replace(ddl, " CONCURRENTLY", "", 1)); err != nil {
			return err
		}
		if err := m.execDDL(ctx, stats); err != nil {
			return err
		}
		if err := m.q.MarkRecordIndexReady(ctx, ri.Name); err != nil {
			return err
		}
	}
	return nil
}
