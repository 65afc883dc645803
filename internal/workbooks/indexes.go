package workbooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/recordsql"
	"github.com/scratchpad/scratchpad/internal/values"
)

// This file holds the indexes the record store builds on demand so that the
// grid stays fast on big tables. PostgreSQL cannot sort or filter a million
// JSONB values in a hundred milliseconds without an index, and indexing every
// column of every table up front would make writes and imports pay for
// indexes nobody uses. So when FindRecords sorts a big table by a column, or
// filters it by equality, range or text search on one, and no index exists
// yet, it registers one in record_indexes and enqueues a River job that builds
// it with CREATE INDEX CONCURRENTLY (writes go on meanwhile). Until the index
// is ready that listing is slow but correct. A bulk write (an import, a
// pull) that makes a table big asks for a few of them up front and waits
// for them before its job ends (PrepareTableForReads), so that the first
// sorted or filtered page after it does not have to be that listing.
//
// Each index is partial, over one table's records only, and built on the
// partition of records that holds the table (records is partitioned by hash
// of its two ids, migration 00021; partitionOf):
//
//	CREATE INDEX CONCURRENTLY ri_… ON records_pNN ((<value expr>) [DESC NULLS LAST], seq)
//	    WHERE workbook_id = '<uuid>' AND table_id = '<uuid>'
//
// A statement naming a table's ids is pruned to its partition before the
// planner looks at indexes, so one table's indexes cost other tables'
// statements nothing, and a build, its statistics and ANALYZE read one
// partition (README, "Many big tables in one database").
//
// with the value expression from filter.ValueExpr, the same text the filter
// compiler and ORDER BY produce, so the planner matches them. The planner
// only uses a partial index when the query carries the same predicate as
// literals, so FindRecords writes a big table's workbook and table ids into
// the SQL text. That does not let user text reach SQL: both ids come from the
// table row PostgreSQL returned (its canonical uuid text) and are checked
// against the UUID pattern again right before they are written (sqlUUID);
// column ids match ^[a-z][a-z0-9_]{0,62}$ (filter.ValueExpr panics
// otherwise), and index names are hashes of those ids.
//
// The indexes have no foreign key to their table: a deleted table or column
// marks its rows in record_indexes 'dropping' (triggers of migration 00007)
// and DropStaleRecordIndexes removes them with DROP INDEX CONCURRENTLY, which
// cannot run inside the deleting transaction.

// DefaultIndexThreshold is the size from which a table gets indexes on
// demand. Below it a sort reads every record of the table, which is fast
// enough and costs no index upkeep.
const DefaultIndexThreshold = 50_000

// QueueIndexes is the River queue index builds run in. CREATE INDEX
// CONCURRENTLY on one table waits for any other running on it, so one worker
// is all this queue needs.
const QueueIndexes = "indexes"

// The kinds of on-demand index.
const (
	// indexAsc serves ascending sorts and equality and range filters.
	indexAsc = "asc"
	// indexDesc serves descending sorts: ties stay in ascending seq order, so
	// a backward scan of the ascending index would not do.
	indexDesc = "desc"
	// indexTrigram is a trigram index on lower(value): it serves ILIKE,
	// contains and starts_with on text, which the filter compiles to
	// lower(value) LIKE lower(pattern) (filter.Compile). A case-sensitive
	// LIKE reads the sort's index or the table instead.
	indexTrigram = "trgm"
)

// The states of an on-demand index in record_indexes.
const (
	indexPending  = "pending"
	indexReady    = "ready"
	indexFailed   = "failed"
	indexDropping = "dropping"
)

// BuildRecordIndexArgs is the job that builds one on-demand index.
type BuildRecordIndexArgs struct {
	WorkbookID string `json:"workbook_id"`
	TableID    string `json:"table_id"`
	ColumnID   string `json:"column_id"`
	IndexKind  string `json:"kind"`
}

// Kind identifies the job in River.
func (BuildRecordIndexArgs) Kind() string { return "build_record_index" }

// InsertOpts queues builds apart from short jobs and keeps one job per index.
func (BuildRecordIndexArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIndexes, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DropRecordIndexesArgs is the job that drops the indexes of deleted tables
// and removed columns. It runs periodically.
type DropRecordIndexesArgs struct{}

// Kind identifies the job in River.
func (DropRecordIndexesArgs) Kind() string { return "drop_record_indexes" }

// InsertOpts keeps at most one drop job queued.
func (DropRecordIndexesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIndexes, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// indexer enqueues index builds with an insert-only River client, created on
// first use; the app's own River client works the jobs. Its zero value is
// ready to use.
type indexer struct {
	once   sync.Once
	client *river.Client[pgx.Tx]
	err    error
	// threshold overrides DefaultIndexThreshold when positive.
	threshold atomic.Int64
}

// SetIndexThreshold sets the table size from which FindRecords asks for
// indexes (DefaultIndexThreshold unless set); tests use it to exercise the
// big-table path on small tables.
func (s *Service) SetIndexThreshold(n int64) { s.idx.threshold.Store(max(n, 1)) }

func (s *Service) indexThreshold() int64 {
	if n := s.idx.threshold.Load(); n > 0 {
		return n
	}
	return DefaultIndexThreshold
}

func (s *Service) riverClient() (*river.Client[pgx.Tx], error) {
	s.idx.once.Do(func() {
		s.idx.client, s.idx.err = river.NewClient(riverpgxv5.New(s.pool), &river.Config{})
	})
	return s.idx.client, s.idx.err
}

// indexName derives an index's name from the ids it covers: "ri_" and 24 hex
// digits of their SHA-256, well inside PostgreSQL's 63-byte names.
func indexName(workbookID, tableID, columnID, kind string) string {
	sum := sha256.Sum256([]byte(workbookID + "/" + tableID + "/" + columnID + "/" + kind))
	return "ri_" + hex.EncodeToString(sum[:12])
}

// indexWant is an index a listing would use.
type indexWant struct {
	col  Column
	kind string
	// anyBtree says a btree index of either direction will do (a filter's
	// equality or range, not a sort).
	anyBtree bool
}

// wantedIndexes returns the indexes that serve q's sort and filter on t:
// the sort column in its direction, columns compared by equality or range,
// and text columns searched with ILIKE, contains or starts_with.
func wantedIndexes(t Table, q RecordQuery, sort recordsql.Sort) []indexWant {
	var out []indexWant
	add := func(col Column, kind string) {
		for _, w := range out {
			if w.col.ID == col.ID && (w.kind == kind || kind == indexAsc && w.kind == indexDesc) {
				return
			}
		}
		out = append(out, indexWant{col: col, kind: kind, anyBtree: kind == indexAsc})
	}
	if col, desc, ok := sort.First(); ok {
		kind := indexAsc
		if desc {
			kind = indexDesc
		}
		c, _ := t.Columns.ByID(col.ID)
		out = append(out, indexWant{col: c, kind: kind})
	}
	if e, err := filter.Parse(q.Filter); err == nil && e != nil {
		walkFilter(e, t.Columns, add)
	}
	return out
}

// walkFilter calls add for the columns of e that an index can serve.
func walkFilter(e filter.Expr, cols Columns, add func(Column, string)) {
	column := func(x filter.Expr) (Column, bool) {
		ref, ok := x.(*filter.ColumnRef)
		if !ok {
			return Column{}, false
		}
		return resolveFilterColumn(cols, ref.Name)
	}
	// A boolean splits a table in two or three: an index would not help.
	ordered := func(x filter.Expr) {
		if c, ok := column(x); ok && c.Type != values.MultiSelect && c.Type != values.JSON && c.Type != values.Boolean {
			add(c, indexAsc)
		}
	}
	text := func(x filter.Expr) {
		if c, ok := column(x); ok && (c.Type == values.Text || c.Type == values.Select) {
			add(c, indexTrigram)
		}
	}
	switch e := e.(type) {
	case *filter.Logical:
		for _, term := range e.Terms {
			walkFilter(term, cols, add)
		}
	case *filter.Not:
		walkFilter(e.X, cols, add)
	case *filter.Compare:
		if e.Op != "<>" {
			ordered(e.Left)
			ordered(e.Right)
		}
	case *filter.Between:
		if !e.Not {
			ordered(e.X)
		}
	case *filter.In:
		if !e.Not {
			ordered(e.X)
		}
	case *filter.Like:
		if !e.Not && e.Insensitive {
			text(e.X)
		}
	case *filter.Call:
		if (e.Name == "contains" || e.Name == "starts_with") && len(e.Args) == 2 {
			text(e.Args[0])
		}
	}
}

// resolveFilterColumn finds the column a filter names as filter.Compile
// does: an exact name first, else the one name equal ignoring case.
func resolveFilterColumn(cols Columns, name string) (Column, bool) {
	var found []Column
	for _, c := range cols {
		if c.Name == name {
			return c, true
		}
		if strings.EqualFold(c.Name, name) {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Column{}, false
}

// registeredTTL is how long requestIndexes trusts that an index it saw
// registered still is. Registrations only go away with their table or
// column, whose ids are never reused, so this only bounds how long a
// process can be wrong about an index row someone removed by hand.
const registeredTTL = 5 * time.Minute

// registeredKey names an index registration in Service.registered.
func registeredKey(tableID, columnID, kind string) string {
	return tableID + "/" + columnID + "/" + kind
}

// knownRegistered reports whether w is among the indexes this process saw
// registered for t within registeredTTL.
func (s *Service) knownRegistered(t Table, w indexWant) bool {
	kinds := []string{w.kind}
	if w.anyBtree {
		kinds = append(kinds, indexDesc)
	}
	for _, k := range kinds {
		if v, ok := s.registered.Load(registeredKey(t.ID, w.col.ID, k)); ok && time.Since(v.(time.Time)) < registeredTTL {
			return true
		}
	}
	return false
}

// requestIndexes registers and enqueues the wanted indexes of a big table
// that are not registered yet. A registered index is never requested again,
// whatever its state: a failed build is River's to retry. Registrations seen
// are remembered (see registeredTTL), so a listing whose indexes are all
// known to be registered costs no query here.
func (s *Service) requestIndexes(ctx context.Context, t Table, wants []indexWant) error {
	unknown := false
	for _, w := range wants {
		if !s.knownRegistered(t, w) {
			unknown = true
			break
		}
	}
	if !unknown {
		return nil
	}
	have, err := s.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: t.WorkbookID, TableID: t.ID})
	if err != nil {
		return fmt.Errorf("workbooks: list indexes: %w", err)
	}
	now := time.Now()
	for _, h := range have {
		s.registered.Store(registeredKey(t.ID, h.ColumnID, h.Kind), now)
	}
	var missing []indexWant
	for _, w := range wants {
		if !s.knownRegistered(t, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	client, err := s.riverClient()
	if err != nil {
		return fmt.Errorf("workbooks: river client: %w", err)
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
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
			args := BuildRecordIndexArgs{WorkbookID: t.WorkbookID, TableID: t.ID, ColumnID: w.col.ID, IndexKind: w.kind}
			if _, err := client.InsertTx(ctx, tx, args, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("workbooks: request indexes: %w", err)
	}
	// Remembered only once committed: a rolled-back request is asked again.
	for _, w := range missing {
		s.registered.Store(registeredKey(t.ID, w.col.ID, w.kind), time.Now())
	}
	return nil
}

// RecordIndex describes an on-demand index, for tests and diagnostics.
type RecordIndex struct {
	Name     string
	ColumnID string
	Kind     string
	Status   string
}

// FindRecordIndexes lists a table's on-demand indexes that are not being
// dropped. It does not check ownership: callers are jobs, tests and tools.
func (s *Service) FindRecordIndexes(ctx context.Context, workbookID, tableID string) ([]RecordIndex, error) {
	if !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return nil, nil
	}
	rows, err := s.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: workbookID, TableID: tableID})
	if err != nil {
		return nil, fmt.Errorf("workbooks: list indexes: %w", err)
	}
	out := make([]RecordIndex, len(rows))
	for i, r := range rows {
		out[i] = RecordIndex{Name: r.Name, ColumnID: r.ColumnID, Kind: r.Kind, Status: r.Status}
	}
	return out, nil
}

// statisticsName derives the name of a column's statistics object, shared
// by its ordered indexes (rs_…), or with lowered, the name of the one on
// lower(value) that its trigram index comes with (rl_…).
func statisticsName(workbookID, tableID, columnID string, lowered bool) string {
	sum := sha256.Sum256([]byte(workbookID + "/" + tableID + "/" + columnID))
	prefix := "rs_"
	if lowered {
		prefix = "rl_"
	}
	return prefix + hex.EncodeToString(sum[:12])
}

// indexExpr returns the value expression of a registered index's column.
func indexExpr(ri db.RecordIndex) (string, error) {
	if !columnIDPattern.MatchString(ri.ColumnID) || !values.Type(ri.ColumnType).Valid() {
		return "", fmt.Errorf("workbooks: index %s has an invalid column %q (%s)", ri.Name, ri.ColumnID, ri.ColumnType)
	}
	return filter.ValueExpr("fields", filter.Column{ID: ri.ColumnID, Name: ri.ColumnID, Type: values.Type(ri.ColumnType)}), nil
}

// statisticsDDL returns the CREATE STATISTICS statement of the column of a
// registered index. PostgreSQL ignores the statistics of partial indexes, so
// without these the planner guesses how many records a filter on the column
// matches (a fixed fraction for LIKE), and a badly wrong guess picks the
// wrong index: a trigram search matching 3% of a table, estimated at 0.03%,
// reads and sorts 30,000 records instead of walking the sort index.
// Statistics on the expression cover the table's partition, where other
// tables' records read as NULL, so they stay estimates, but close ones. A trigram
// index gets statistics on lower(value), the expression the filters it
// serves are written in (filter.Compile): with only the value's, the planner
// guessed a word in 4% of a million titles at 320 records, read all 39,000
// through the trigram index and sorted them (190 ms) instead of walking the
// sort index for 2 ms.
func statisticsDDL(ri db.RecordIndex, partition string) (string, error) {
	expr, err := indexExpr(ri)
	if err != nil {
		return "", err
	}
	lowered := ri.Kind == indexTrigram
	if lowered {
		expr = "lower(" + expr + ")"
	}
	return "CREATE STATISTICS IF NOT EXISTS " + statisticsName(ri.WorkbookID, ri.TableID, ri.ColumnID, lowered) +
		" ON (" + expr + ") FROM " + partition, nil
}

// indexDDL returns the CREATE INDEX statement of a registered index, on the
// partition of records holding its table (partitionOf).
func indexDDL(ri db.RecordIndex, partition string) (string, error) {
	expr, err := indexExpr(ri)
	if err != nil {
		return "", err
	}
	pred, err := recordsql.TablePredicate("", ri.WorkbookID, ri.TableID)
	if err != nil {
		return "", err
	}
	var def string
	switch ri.Kind {
	case indexAsc:
		def = "((" + expr + "), seq)"
	case indexDesc:
		def = "((" + expr + ") DESC NULLS LAST, seq)"
	case indexTrigram:
		def = "USING gin (lower(" + expr + ") gin_trgm_ops)"
	default:
		return "", fmt.Errorf("workbooks: index %s has unknown kind %q", ri.Name, ri.Kind)
	}
	return "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + ri.Name + " ON " + partition + " " + def + " WHERE " + pred, nil
}

// indexState reports whether an index of that name exists and is valid.
// PostgreSQL's catalogs are outside sqlc's schema, so the query is here.
func (s *Service) indexState(ctx context.Context, name string) (present, valid bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, name).Scan(&valid)
	if db.IsNoRows(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return true, valid, nil
}

// BuildRecordIndex builds the index args names, unless it was dropped
// meanwhile. A build that failed half-way (leaving an invalid index) is
// dropped and redone. Afterwards the column gets a statistics object (see
// statisticsDDL) and the table's partition is analyzed, so the planner can estimate
// filters on it. Run by the build_record_index job.
func (s *Service) BuildRecordIndex(ctx context.Context, args BuildRecordIndexArgs) error {
	name := indexName(args.WorkbookID, args.TableID, args.ColumnID, args.IndexKind)
	ri, err := s.q.GetRecordIndex(ctx, name)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("workbooks: find index: %w", err)
	}
	if ri.Status == indexDropping {
		return nil
	}
	if err := s.buildIndex(ctx, ri); err != nil {
		// Recorded for diagnostics; River retries the job.
		msg := err.Error()
		if ferr := s.q.MarkRecordIndexFailed(context.WithoutCancel(ctx), db.MarkRecordIndexFailedParams{Name: name, Error: &msg}); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	return nil
}

func (s *Service) buildIndex(ctx context.Context, ri db.RecordIndex) error {
	part, err := s.partitionOf(ctx, ri.WorkbookID, ri.TableID)
	if err != nil {
		return err
	}
	ddl, err := indexDDL(ri, part)
	if err != nil {
		return err
	}
	present, valid, err := s.indexState(ctx, ri.Name)
	if err != nil {
		return fmt.Errorf("workbooks: index state: %w", err)
	}
	if present && !valid {
		if err := s.execDDL(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+ri.Name); err != nil {
			return fmt.Errorf("workbooks: drop invalid index %s: %w", ri.Name, err)
		}
	}
	if err := s.execDDL(ctx, ddl); err != nil {
		return fmt.Errorf("workbooks: build index %s: %w", ri.Name, err)
	}
	stats, err := statisticsDDL(ri, part)
	if err != nil {
		return err
	}
	if err := s.execDDL(ctx, stats); err != nil {
		return fmt.Errorf("workbooks: create statistics for %s: %w", ri.Name, err)
	}
	// One ANALYZE serves every index the table is waiting for: while
	// another of its indexes is still pending, that build's ANALYZE will
	// cover this one's statistics too (a bulk write's PrepareTableForReads
	// registers several at once, and each ANALYZE reads the partition).
	siblings, err := s.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: ri.WorkbookID, TableID: ri.TableID})
	if err != nil {
		return fmt.Errorf("workbooks: list indexes: %w", err)
	}
	if !slices.ContainsFunc(siblings, func(o db.RecordIndex) bool { return o.Name != ri.Name && o.Status == indexPending }) {
		if err := s.execDDL(ctx, "ANALYZE "+part); err != nil {
			return fmt.Errorf("workbooks: analyze %s: %w", part, err)
		}
	}
	if err := s.q.MarkRecordIndexReady(ctx, ri.Name); err != nil {
		return fmt.Errorf("workbooks: mark index ready: %w", err)
	}
	return nil
}

// execDDL runs one statement outside any transaction, as CONCURRENTLY
// requires, over the simple protocol so nothing is prepared.
func (s *Service) execDDL(ctx context.Context, sql string) error {
	_, err := s.pool.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return err
}

// DropStaleRecordIndexes drops the indexes whose table was deleted or whose
// column was removed, and returns how many it dropped. Run periodically by
// the drop_record_indexes job.
func (s *Service) DropStaleRecordIndexes(ctx context.Context) (int, error) {
	stale, err := s.q.ListDroppingRecordIndexes(ctx)
	if err != nil {
		return 0, fmt.Errorf("workbooks: list stale indexes: %w", err)
	}
	for i, ri := range stale {
		if !indexNamePattern(ri.Name) {
			return i, fmt.Errorf("workbooks: refusing to drop index %q", ri.Name)
		}
		if err := s.execDDL(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+ri.Name); err != nil {
			return i, fmt.Errorf("workbooks: drop index %s: %w", ri.Name, err)
		}
		if err := s.q.DeleteRecordIndex(ctx, ri.Name); err != nil {
			return i, fmt.Errorf("workbooks: forget index %s: %w", ri.Name, err)
		}
		// The column's statistics go with its last index.
		left, err := s.q.CountColumnRecordIndexes(ctx, db.CountColumnRecordIndexesParams{
			WorkbookID: ri.WorkbookID, TableID: ri.TableID, ColumnID: ri.ColumnID})
		if err != nil {
			return i, fmt.Errorf("workbooks: count column indexes: %w", err)
		}
		if left == 0 {
			for _, lowered := range []bool{false, true} {
				name := statisticsName(ri.WorkbookID, ri.TableID, ri.ColumnID, lowered)
				if err := s.execDDL(ctx, "DROP STATISTICS IF EXISTS "+name); err != nil {
					return i, fmt.Errorf("workbooks: drop statistics %s: %w", name, err)
				}
			}
		}
	}
	return len(stale), nil
}

// indexNamePattern reports whether name has the form indexName produces.
func indexNamePattern(name string) bool {
	if len(name) != 27 || !strings.HasPrefix(name, "ri_") {
		return false
	}
	_, err := hex.DecodeString(name[3:])
	return err == nil && strings.ToLower(name) == name
}

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
func (s *Service) RefreshStatistics(ctx context.Context, workbookID, tableID string) error {
	part, err := s.partitionOf(ctx, workbookID, tableID)
	if err != nil {
		return err
	}
	if err := s.execDDL(ctx, "ANALYZE "+part); err != nil {
		return fmt.Errorf("workbooks: analyze %s: %w", part, err)
	}
	return nil
}

// ReadyIndexColumns is how many of a table's columns PrepareTableForReads
// indexes both ways. Each index costs its build (a 100,000-record import
// of 20 columns took 1.2 s, and each build about 0.55 s more on this
// machine: 4.65–4.74 s with these 6, against the import's 5 s target) and
// every later write of the table; a column past these gets its indexes on
// demand, at its first sort or filter.
const ReadyIndexColumns = 3

// readyIndexes are the indexes a big table gets as soon as a bulk write
// makes it big: an ascending and a descending index on ReadyIndexColumns of
// its columns of an ordered type, which serve a sort either way and the
// equality and range filters on the column. Numbers, dates and selects come
// first, in the table's order, then text: their values are short and sorted
// and filtered on most, where a text column may hold long prose (an index
// entry holds at most about 2.7 kB). Trigram indexes (text search) are left
// to demand: they take several times as long to build.
func readyIndexes(t Table) []indexWant {
	rank := func(c Column) int {
		switch c.Type {
		case values.Number, values.Date, values.Datetime, values.Select:
			return 0
		case values.Text:
			return 1
		}
		return -1 // no ordered index serves it
	}
	var out []indexWant
	for r := range 2 {
		for _, c := range t.Columns {
			if rank(c) != r || len(out) == 2*ReadyIndexColumns {
				continue
			}
			out = append(out, indexWant{col: c, kind: indexAsc}, indexWant{col: c, kind: indexDesc})
		}
	}
	return out
}

// PrepareTableForReads leaves a table that a bulk write (an import, a pull)
// has just filled ready for its first sorted and filtered pages. When the
// table's exact size reaches the index threshold, it registers the table's
// readyIndexes and waits, at most wait, until none of its indexes is still
// pending (built or failed: River retries a failure). The builds are the
// index jobs' own (BuildRecordIndex), so a process dying meanwhile leaves
// them to River's rescue and the caller's job to its lease, and nothing
// here holds a lock an edit would wait for. It ends by refreshing the
// statistics (RefreshStatistics). A wait that runs out is no error: the
// builds go on, and the pages are slow until they end. With no wait, the
// builds are only asked for.
func (s *Service) PrepareTableForReads(ctx context.Context, t Table, wait time.Duration) error {
	size, err := s.tableSize(ctx, t)
	if err != nil {
		return err
	}
	if size >= s.indexThreshold() {
		if err := s.requestIndexes(ctx, t, readyIndexes(t)); err != nil {
			return err
		}
		if wait > 0 {
			if err := s.waitIndexes(ctx, t, wait); err != nil {
				return err
			}
		}
	}
	return s.RefreshStatistics(ctx, t.WorkbookID, t.ID)
}

// waitIndexes waits until none of t's indexes is pending, or wait has
// passed.
func (s *Service) waitIndexes(ctx context.Context, t Table, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		have, err := s.q.ListTableRecordIndexes(ctx, db.ListTableRecordIndexesParams{WorkbookID: t.WorkbookID, TableID: t.ID})
		if err != nil {
			return fmt.Errorf("workbooks: list indexes: %w", err)
		}
		if !slices.ContainsFunc(have, func(ri db.RecordIndex) bool { return ri.Status == indexPending }) {
			return nil
		}
		if time.Now().Add(delay).After(deadline) {
			slog.WarnContext(ctx, "workbooks: indexes still building after a bulk write", "table", t.ID, "waited", wait)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// refreshSoon refreshes a table's statistics like RefreshStatistics, in the
// background, for a request that wrote many records and should not wait for
// ANALYZE. Refreshes of a table asked for while one is pending are
// coalesced into one; one goroutine works them off in turn.
func (s *Service) refreshSoon(workbookID, tableID string) {
	s.analyzeMu.Lock()
	defer s.analyzeMu.Unlock()
	if s.analyzePending == nil {
		s.analyzePending = map[[2]string]bool{}
	}
	s.analyzePending[[2]string{workbookID, tableID}] = true
	if s.analyzing {
		return // the running refresh will take it
	}
	s.analyzing = true
	go func() {
		for {
			s.analyzeMu.Lock()
			var next [2]string
			for k := range s.analyzePending {
				next = k
				break
			}
			if next == ([2]string{}) {
				s.analyzing = false
				s.analyzeMu.Unlock()
				return
			}
			delete(s.analyzePending, next)
			s.analyzeMu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			if err := s.RefreshStatistics(ctx, next[0], next[1]); err != nil && ctx.Err() == nil {
				slog.Warn("workbooks: analyze records after a bulk write", "err", err)
			}
			cancel()
		}
	}()
}

// recordPartitions is how many partitions records has (migration 00021).
const recordPartitions = 64

// partitionOf returns the name of the partition of records that holds a
// table's records: records_p00 to records_p63, by PostgreSQL's hash of the
// two ids, which it is asked for once per table and process. On-demand
// indexes, their statistics and ANALYZE go to that partition only, and the
// bulk path COPYs into it.
func (s *Service) partitionOf(ctx context.Context, workbookID, tableID string) (string, error) {
	return s.partitionVia(ctx, s.pool, workbookID, tableID)
}

// partitionVia is partitionOf asking over conn (a transaction's, so a
// writer holding one of the pool's connections needs no second one).
func (s *Service) partitionVia(ctx context.Context, conn interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, workbookID, tableID string) (string, error) {
	if !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return "", fmt.Errorf("workbooks: no partition for %q/%q", workbookID, tableID)
	}
	key := workbookID + "/" + tableID
	if v, ok := s.partitions.Load(key); ok {
		return v.(string), nil
	}
	var r int
	err := conn.QueryRow(ctx, `SELECT r FROM generate_series(0, $1::int - 1) r
		WHERE satisfies_hash_partition('records'::regclass, $1::int, r, $2::uuid, $3::uuid)`,
		recordPartitions, workbookID, tableID).Scan(&r)
	if err != nil {
		return "", fmt.Errorf("workbooks: find partition: %w", err)
	}
	name := fmt.Sprintf("records_p%02d", r)
	s.partitions.Store(key, name)
	return name, nil
}
