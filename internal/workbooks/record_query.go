package workbooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/recordsql"
)

// This file runs the listing of a table's records by filter, sort and keyset
// cursor. Its SQL, the one place where SQL is built at run time (DESIGN §3),
// comes from package recordsql; this file runs it, scans the records and
// counts them.

// RecordQuery selects and orders a page of a table's records; see
// recordsql.Query, which the listing SQL is built from.
type RecordQuery = recordsql.Query

// Page sizes of FindRecords.
const (
	DefaultPageSize = recordsql.DefaultPageSize
	MaxPageSize     = recordsql.MaxPageSize
)

// The quick filters of RecordQuery.Has.
const (
	HasEdits       = recordsql.HasEdits
	HasSuggestions = recordsql.HasSuggestions
)

// MaxSortKeys bounds the columns of a multi-column sort.
const MaxSortKeys = recordsql.MaxSortKeys

// exactCountLimit caps the exact count of a filtered view: up to it the
// matching records are counted exactly, and beyond it the total is only
// known to be at least that (TotalIsAtLeast: "10,000+").
const exactCountLimit = 10000

// defaultCountBudget bounds that count in a big table, where a filter no
// index serves may read every record to find few matches: past it, the
// planner's estimate is shown instead, so a count never holds up the page
// for long.
const defaultCountBudget = 150 * time.Millisecond

// RecordPage is one page of records.
type RecordPage struct {
	Records []Record
	// NextCursor fetches the next page; empty on the last page.
	NextCursor string
	// EstimatedTotal is how many records match: exact, unless
	// TotalIsEstimate (the planner's estimate) or TotalIsAtLeast (more than
	// were counted: at least EstimatedTotal).
	EstimatedTotal  int64
	TotalIsEstimate bool
	TotalIsAtLeast  bool
}

// sqlTable is t as package recordsql sees it.
func (t Table) sqlTable() recordsql.Table {
	return recordsql.Table{WorkbookID: t.WorkbookID, ID: t.ID, Columns: t.Columns.filterColumns()}
}

// resolveSort reads a RecordQuery.Sort against the columns of t, by
// column id or name (Columns.Lookup). Errors: Invalid.
func (t Table) resolveSort(sort string) (recordsql.Sort, error) {
	return recordsql.ResolveSort(sort, func(key string) (filter.Column, bool) {
		c, ok := t.Columns.Lookup(key)
		return c.filterColumn(), ok
	})
}

// recordsPlan is the query FindRecords runs for a RecordQuery.
type recordsPlan struct {
	table Table
	// columns is table as package recordsql sees it.
	columns recordsql.Table
	recordsql.Page
	// size is the table's exact size (tableSize); big says whether it
	// reaches the index threshold.
	size int64
	big  bool
}

// planRecords checks q against the table t, loaded by the caller, and builds
// the page query. Errors: Invalid.
func (s *Service) planRecords(ctx context.Context, t Table, q RecordQuery) (recordsPlan, error) {
	sort, err := t.resolveSort(q.Sort)
	if err != nil {
		return recordsPlan{}, err
	}
	size, err := s.tableSize(ctx, t)
	if err != nil {
		return recordsPlan{}, err
	}
	big := size >= s.indexThreshold()
	st := t.sqlTable()
	page, err := recordsql.PageQuery(st, q, sort, big)
	if err != nil {
		return recordsPlan{}, err
	}
	return recordsPlan{table: t, columns: st, Page: page, size: size, big: big}, nil
}

// ExplainFindRecords returns PostgreSQL's plan of the page query FindRecords
// runs for q, as EXPLAIN's text, for tests and diagnostics. It asks for no
// index. Errors: as FindRecords.
func (s *Service) ExplainFindRecords(ctx context.Context, ownerID, workbookID, tableID string, q RecordQuery) (string, error) {
	t, err := s.findTable(ctx, s.q, ownerID, workbookID, tableID)
	if err != nil {
		return "", err
	}
	p, err := s.planRecords(ctx, t, q)
	if err != nil {
		return "", err
	}
	rows, err := s.pool.Query(ctx, "EXPLAIN "+p.SQL, p.Args...)
	if err != nil {
		return "", fmt.Errorf("workbooks: explain records: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("workbooks: explain records: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}

// FindRecords returns a page of a table's records matching q, each with its
// pending suggestions, ordered by q.Sort and then by the table's own order.
// Pages are keyset-paginated, so they neither skip nor repeat records
// however many records share a sort value or have none.
//
// On a big table (see recordindex.DefaultThreshold) it asks for the indexes
// that serve q's sort and filter (package recordindex) and writes the table's ids into the
// SQL as literals, so PostgreSQL can use those partial indexes; a page after
// a cursor is then read as three index ranges (the rest of the cursor's
// value, the values after it, the empty values) instead of one condition
// with ORs that no index can serve.
// Errors: NotFound, Invalid (a bad filter, sort, quick filter or cursor;
// filter errors carry the position in the message).
func (s *Service) FindRecords(ctx context.Context, ownerID, workbookID, tableID string, q RecordQuery) (RecordPage, error) {
	t, err := s.findTable(ctx, s.q, ownerID, workbookID, tableID)
	if err != nil {
		return RecordPage{}, err
	}
	return s.FindRecordsIn(ctx, ownerID, t, q)
}

// FindRecordsIn is FindRecords on a table the caller has already loaded for
// ownerID (with FindTable or FindWorkbook), so a page that shows the table
// does not look it up again. The records are those of the table as it is
// now; t supplies the column specs the filter and sort are checked against.
// Errors: as FindRecords; NotFound when t was not loaded for ownerID.
func (s *Service) FindRecordsIn(ctx context.Context, ownerID string, t Table, q RecordQuery) (RecordPage, error) {
	if !t.ownedBy(ownerID) {
		return RecordPage{}, errTableNotFound
	}
	p, err := s.planRecords(ctx, t, q)
	if err != nil {
		return RecordPage{}, err
	}
	if p.big {
		if err := s.idx.Request(ctx, p.columns, recordindex.Wanted(p.columns, q, p.Sort)); err != nil {
			return RecordPage{}, err
		}
	}
	page, err := s.readPage(ctx, p)
	switch {
	case err != nil:
		return RecordPage{}, err
	case q.WithoutTotal:
	case p.Unfiltered:
		// The size is the total, and it is exact.
		page.EstimatedTotal = p.size
	default:
		// Estimating the total while the page is read (on another pooled
		// connection) measured no faster at 8 concurrent grid pages on 2
		// cores, so the two queries run one after the other.
		page.EstimatedTotal, page.TotalIsEstimate, page.TotalIsAtLeast, err = s.countRecords(ctx, p.size, p.Where, p.WhereArgs)
		if err != nil {
			return RecordPage{}, err
		}
	}
	return page, nil
}

// readPage runs the page query of p and loads the pending suggestions of the
// records it returns. The page's total is left to the caller.
func (s *Service) readPage(ctx context.Context, p recordsPlan) (RecordPage, error) {
	t, limit := p.table, p.Limit
	rows, err := s.pool.Query(ctx, p.SQL, p.Args...)
	if err != nil {
		return RecordPage{}, fmt.Errorf("workbooks: find records: %w", err)
	}
	var (
		recs     []db.Record
		sortVals [][]*string
		texts    []string
	)
	for rows.Next() {
		var r db.Record
		v := make([]*string, p.SortValues())
		// The JSON columns are not scanned into json.RawMessage, which
		// runs them through json.Unmarshal, checking and copying every
		// record's few kilobytes once more before they are decoded: the
		// fields come as a string (one copy, which the decoded values
		// share), the errors as bytes.
		var fields string
		var errs []byte
		dest := []any{&r.WorkbookID, &r.TableID, &r.ID, &r.Seq, &r.RemoteID, &fields, &r.Original, &r.State,
			&r.EditedFields, &errs, &r.Version, &r.CreatedAt, &r.UpdatedAt, &r.PublishErrors, &r.Conflicts,
			&r.SourceDeletedAt, &r.InflightSyncID}
		for i := range v {
			dest = append(dest, &v[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return RecordPage{}, fmt.Errorf("workbooks: scan record: %w", err)
		}
		if fields == "" {
			fields = "{}"
		}
		r.Errors = errs
		recs, sortVals, texts = append(recs, r), append(sortVals, v), append(texts, fields)
	}
	if err := rows.Err(); err != nil {
		return RecordPage{}, fmt.Errorf("workbooks: find records: %w", err)
	}

	var page RecordPage
	if len(recs) > limit {
		recs, texts = recs[:limit], texts[:limit]
		last := recs[limit-1]
		vals := sortVals[limit-1]
		page.NextCursor = recordsql.NextCursor(p.Sort, vals, *last.Seq)
	}
	if page.Records, err = recordsWithSuggestionsText(ctx, s.q, t.WorkbookID, t.ID, recs, texts); err != nil {
		return RecordPage{}, err
	}
	return page, nil
}

// tableSize returns a table's exact number of records, which the triggers
// of migration 00021 keep in table_sizes on every insert and delete: one
// primary-key lookup, however big the table and however many tables the
// database holds. (The planner's estimate for a table's two ids, used
// before, multiplies their selectivities and fell far below the threshold
// once a database held a few tables.)
func (s *Service) tableSize(ctx context.Context, t Table) (int64, error) {
	n, err := s.q.TableSize(ctx, db.TableSizeParams{WorkbookID: t.WorkbookID, TableID: t.ID})
	if err != nil {
		return 0, fmt.Errorf("workbooks: table size: %w", err)
	}
	return n, nil
}

// countRecords counts the records matching where exactly when the table
// (of size records, from tableSize) is small, and otherwise returns the
// planner's estimate.
func (s *Service) countRecords(ctx context.Context, size int64, where string, args []any) (n int64, estimate, atLeast bool, err error) {
	if size <= exactCountLimit {
		if err := s.pool.QueryRow(ctx, recordsql.CountSQL(where, 0), args...).Scan(&n); err != nil {
			return 0, false, false, fmt.Errorf("workbooks: count records: %w", err)
		}
		return n, false, false, nil
	}
	// Counted up to one past the cap, within the budget.
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = "+strconv.FormatInt(max(s.countBudget.Milliseconds(), 1), 10)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, recordsql.CountSQL(where, exactCountLimit+1), args...).Scan(&n)
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "57014" && ctx.Err() == nil: // query_canceled: over budget
		n, err = s.estimateRows(ctx, where, args)
		return n, true, false, err
	case err != nil:
		return 0, false, false, fmt.Errorf("workbooks: count records: %w", err)
	case n > exactCountLimit:
		return exactCountLimit, false, true, nil
	}
	return n, false, false, nil
}

// estimateRows returns the planner's estimate of the records matching where.
func (s *Service) estimateRows(ctx context.Context, where string, args []any) (int64, error) {
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	var raw []byte
	err := s.pool.QueryRow(ctx, recordsql.EstimateSQL(where), args...).Scan(&raw)
	if err != nil {
		return 0, fmt.Errorf("workbooks: estimate records: %w", err)
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("workbooks: read record estimate: %w", err)
	}
	return int64(plan[0].Plan.Rows), nil
}
