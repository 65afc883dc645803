package workbooks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/values"
)

// This file holds the one place where SQL is built at run time (DESIGN §3):
// the listing of a table's records by filter, sort and keyset cursor. No user
// text reaches the SQL: filter literals and cursor values are bind
// parameters, and the only identifiers are column ids from the table's specs,
// which filter.ValueExpr checks.

// RecordQuery selects and orders a page of a table's records.
type RecordQuery struct {
	// Filter is an expression in the filter language; empty means all.
	Filter string
	// Sort is a column name (or id), ascending, or with a leading "-",
	// descending; empty means the table's own order. Empty values come last
	// either way. Up to MaxSortKeys columns separated by commas sort by the
	// first, then the second among equal values, and so on ("Status,-Price");
	// a name that itself holds a comma is written as the column's id.
	Sort string
	// Has narrows to records with unpublished changes ("edits") or pending
	// suggestions ("suggestions").
	Has string
	// Cursor is the NextCursor of the previous page, for the same sort.
	Cursor string
	// Limit is the page size: DefaultPageSize when zero, at most MaxPageSize.
	Limit int
	// WithoutTotal leaves RecordPage.EstimatedTotal zero and skips counting
	// (or estimating) it, for pages that do not show it.
	WithoutTotal bool
}

// Page sizes of FindRecords.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// exactCountLimit caps the exact count of a filtered view: up to it the
// matching records are counted exactly, and beyond it the total is only
// known to be at least that (TotalIsAtLeast: "10,000+").
const exactCountLimit = 10000

// countBudget bounds that count in a big table, where a filter no index
// serves may read every record to find few matches: past it, the
// planner's estimate is shown instead, so a count never holds up the page
// for long.
const countBudget = 150 * time.Millisecond

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

// The quick filters of RecordQuery.Has.
const (
	HasEdits       = "edits"
	HasSuggestions = "suggestions"
)

// MaxSortKeys bounds the columns of a multi-column sort: each further key
// costs every page a comparison, and three answer what people ask.
const MaxSortKeys = 3

// cursor is the decoded position after the last record of a page: the
// values of the sort's keys (the first in Value, the others in More) and
// the record's seq.
type cursor struct {
	Sort  string    `json:"s"`
	Value *string   `json:"v"`
	More  []*string `json:"m,omitempty"`
	Seq   int64     `json:"q"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) //nolint:errchkjson // a struct of strings and ints
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = apperr.InvalidFields("This page link is no longer valid; start from the first page.",
	apperr.FieldError{Field: "cursor", Message: "is invalid"})

// decodeCursor reads a cursor for sort. A cursor the store could not have
// issued is invalid: one for another sort, one without a record's position
// (seq starts at 1), and one whose value the sort column's cast cannot take,
// which PostgreSQL would otherwise refuse as an internal error.
func decodeCursor(s string, sort sortSpec) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort.key() || c.Seq < 1 {
		return cursor{}, errBadCursor
	}
	if c.Value != nil && (sort.col == nil || !castable(*c.Value, castFor(sort.col.Type))) {
		return cursor{}, errBadCursor
	}
	if len(c.More) != len(sort.then) {
		return cursor{}, errBadCursor
	}
	for i, v := range c.More {
		if v != nil && !castable(*v, castFor(sort.then[i].col.Type)) {
			return cursor{}, errBadCursor
		}
	}
	return c, nil
}

// cursorNumber is the text PostgreSQL gives a numeric: no exponent, and far
// fewer digits than numeric allows.
var cursorNumber = regexp.MustCompile(`^-?[0-9]{1,1000}(\.[0-9]{1,1000})?$`)

// castable reports whether PostgreSQL can cast v, a sort value as text, to
// cast (one of castFor's).
func castable(v, cast string) bool {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return false
	}
	switch cast {
	case "numeric":
		return cursorNumber.MatchString(v)
	case "boolean":
		return v == "true" || v == "false"
	case "jsonb":
		return json.Valid([]byte(v)) && !strings.Contains(v, `\u0000`)
	}
	return true
}

// sortSpec is a resolved RecordQuery.Sort: its first key in col and desc
// (the one the on-demand index serves), the further keys in then.
type sortSpec struct {
	col  *Column
	desc bool
	then []sortKey
}

// sortKey is one further key of a multi-column sort.
type sortKey struct {
	col  *Column
	desc bool
}

// keys returns every key of the sort, the first one included.
func (s sortSpec) keys() []sortKey {
	if s.col == nil {
		return nil
	}
	return append([]sortKey{{col: s.col, desc: s.desc}}, s.then...)
}

// key identifies the sort in cursors: column ids and directions.
func (s sortSpec) key() string {
	parts := make([]string, 0, 1+len(s.then))
	for _, k := range s.keys() {
		if k.desc {
			parts = append(parts, "-"+k.col.ID)
		} else {
			parts = append(parts, k.col.ID)
		}
	}
	return strings.Join(parts, ",")
}

// castFor is the cast a cursor value (the sort expression as text) needs to
// compare with the sort expression again.
func castFor(t values.Type) string {
	switch t {
	case values.Number:
		return "numeric"
	case values.Boolean:
		return "boolean"
	case values.MultiSelect, values.JSON:
		return "jsonb"
	}
	return "text"
}

// resolveSort reads a RecordQuery.Sort: one column, or up to MaxSortKeys
// separated by commas. The whole text naming one column wins, so a column
// whose name holds a comma still sorts by its name alone.
func resolveSort(cols Columns, s string) (sortSpec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return sortSpec{}, nil
	}
	if k, ok := lookupSortKey(cols, s); ok {
		return sortSpec{col: k.col, desc: k.desc}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) == 1 {
		return sortSpec{}, unknownSortColumn(s)
	}
	if len(parts) > MaxSortKeys {
		return sortSpec{}, apperr.InvalidFields(fmt.Sprintf("Sort by at most %d columns.", MaxSortKeys),
			apperr.FieldError{Field: "sort", Message: fmt.Sprintf("names more than %d columns", MaxSortKeys)})
	}
	var spec sortSpec
	seen := map[string]bool{}
	for i, part := range parts {
		k, ok := lookupSortKey(cols, part)
		if !ok {
			return sortSpec{}, unknownSortColumn(strings.TrimPrefix(strings.TrimSpace(part), "-"))
		}
		if seen[k.col.ID] {
			return sortSpec{}, apperr.InvalidFields(fmt.Sprintf("The sort names %s twice.", k.col.Name),
				apperr.FieldError{Field: "sort", Message: "names a column twice"})
		}
		seen[k.col.ID] = true
		if i == 0 {
			spec.col, spec.desc = k.col, k.desc
		} else {
			spec.then = append(spec.then, k)
		}
	}
	return spec, nil
}

// lookupSortKey reads one key of a sort: a column name or id, with a
// leading "-" for descending.
func lookupSortKey(cols Columns, s string) (sortKey, bool) {
	s = strings.TrimSpace(s)
	var k sortKey
	if strings.HasPrefix(s, "-") {
		k.desc, s = true, strings.TrimSpace(s[1:])
	}
	col, ok := cols.Lookup(s)
	if !ok || s == "" {
		return sortKey{}, false
	}
	k.col = &col
	return k, true
}

func unknownSortColumn(s string) error {
	return apperr.InvalidFields(fmt.Sprintf("There is no column %q to sort by.", s),
		apperr.FieldError{Field: "sort", Message: fmt.Sprintf("names no column: %q", s)})
}

// recordColumns are the columns of records in the order db.Record scans them.
const recordColumns = `r.workbook_id, r.table_id, r.id, r.seq, r.remote_id, r.fields, r.original, r.state,
	r.edited_fields, r.errors, r.version, r.created_at, r.updated_at, r.publish_errors, r.conflicts,
	r.source_deleted_at, r.inflight_sync_id`

// recordSQL accumulates a query's SQL and its bind arguments.
type recordSQL struct {
	where []string
	args  []any
}

func (b *recordSQL) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// recordsPlan is the query FindRecords runs for a RecordQuery.
type recordsPlan struct {
	table Table
	sort  sortSpec
	limit int
	// size is the table's exact size (tableSize); big says whether it
	// reaches the index threshold.
	size int64
	big  bool
	// unfiltered says q selects every record of the table, so size is
	// also the number of matching records.
	unfiltered bool
	// b holds the page query's arguments; the first baseArgs belong to
	// baseWhere, the conditions without the cursor.
	b         recordSQL
	baseWhere string
	baseArgs  int
	sql       string
}

// planRecords checks q against the table t, loaded by the caller, and builds
// the page query. Errors: Invalid.
func (s *Service) planRecords(ctx context.Context, t Table, q RecordQuery) (recordsPlan, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultPageSize
	case limit > MaxPageSize:
		limit = MaxPageSize
	}
	sort, err := resolveSort(t.Columns, q.Sort)
	if err != nil {
		return recordsPlan{}, err
	}
	size, err := s.tableSize(ctx, t)
	if err != nil {
		return recordsPlan{}, err
	}
	big := size >= s.indexThreshold()

	var b recordSQL
	if err := scopeConditions(&b, t, q, big); err != nil {
		return recordsPlan{}, err
	}
	p := recordsPlan{table: t, sort: sort, limit: limit, size: size, big: big,
		unfiltered: strings.TrimSpace(q.Filter) == "" && q.Has == ""}
	p.baseWhere = strings.Join(b.where, " AND ")
	p.baseArgs = len(b.args)

	var c *cursor
	if q.Cursor != "" {
		dc, err := decodeCursor(q.Cursor, sort)
		if err != nil {
			return recordsPlan{}, err
		}
		c = &dc
	}
	p.sql = pageSQL(&b, p.baseWhere, sort, c, limit+1, big)
	p.b = b
	return p, nil
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
	rows, err := s.pool.Query(ctx, "EXPLAIN "+p.sql, p.b.args...)
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
// On a big table (see DefaultIndexThreshold) it asks for the indexes that
// serve q's sort and filter (indexes.go) and writes the table's ids into the
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
		if err := s.requestIndexes(ctx, p.table, wantedIndexes(p.table, q, p.sort)); err != nil {
			return RecordPage{}, err
		}
	}
	page, err := s.readPage(ctx, p)
	switch {
	case err != nil:
		return RecordPage{}, err
	case q.WithoutTotal:
	case p.unfiltered:
		// The size is the total, and it is exact.
		page.EstimatedTotal = p.size
	default:
		// Estimating the total while the page is read (on another pooled
		// connection) measured no faster at 8 concurrent grid pages on 2
		// cores, so the two queries run one after the other.
		page.EstimatedTotal, page.TotalIsEstimate, page.TotalIsAtLeast, err = s.countRecords(ctx, p.size, p.baseWhere, p.b.args[:p.baseArgs])
		if err != nil {
			return RecordPage{}, err
		}
	}
	return page, nil
}

// readPage runs the page query of p and loads the pending suggestions of the
// records it returns. The page's total is left to the caller.
func (s *Service) readPage(ctx context.Context, p recordsPlan) (RecordPage, error) {
	t, limit, sort := p.table, p.limit, p.sort
	rows, err := s.pool.Query(ctx, p.sql, p.b.args...)
	if err != nil {
		return RecordPage{}, fmt.Errorf("workbooks: find records: %w", err)
	}
	var (
		recs     []db.Record
		sortVals [][]*string
		texts    []string
	)
	nvals := max(1, len(sort.keys()))
	for rows.Next() {
		var r db.Record
		v := make([]*string, nvals)
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
		page.NextCursor = encodeCursor(cursor{Sort: sort.key(), Value: vals[0], More: vals[1:], Seq: *last.Seq})
	}
	if page.Records, err = recordsWithSuggestionsText(ctx, s.q, t.WorkbookID, t.ID, recs, texts); err != nil {
		return RecordPage{}, err
	}
	return page, nil
}

// outerColumns are recordColumns read from the subquery p of a split page.
const outerColumns = `p.workbook_id, p.table_id, p.id, p.seq, p.remote_id, p.fields, p.original, p.state,
	p.edited_fields, p.errors, p.version, p.created_at, p.updated_at, p.publish_errors, p.conflicts,
	p.source_deleted_at, p.inflight_sync_id`

// pageSQL returns the query of one page of n records matching where, after
// the cursor c when there is one, in the order (sort values, empty values
// last, key by key; then seq). Its rows are recordColumns and the value of
// each sort key as text.
//
// With split (big tables), a page after a cursor with a value is the union of
// three index ranges of the first key, each limited to n rows and each in
// index order: the rest of the cursor's value (by the further keys and seq),
// the values after it, and the empty values; the few rows they return are
// then sorted. Each is a plain range of the on-demand (value, seq) index,
// where the single condition of keysetCondition makes PostgreSQL scan from
// the start of the order.
func pageSQL(b *recordSQL, where string, sort sortSpec, c *cursor, n int, split bool) string {
	limit := " LIMIT " + strconv.Itoa(n)
	if sort.col == nil {
		if c != nil {
			where += " AND r.seq > " + b.arg(c.Seq)
		}
		return "SELECT " + recordColumns + ", NULL::text FROM records r WHERE " + where + " ORDER BY r.seq" + limit
	}
	keys := sort.keys()
	exprs := sortExprs(keys)
	order := sortOrder(exprs, keys, "r.seq")
	texts := make([]string, len(exprs))
	for i, e := range exprs {
		texts[i] = "(" + e + ")::text"
	}
	selectList := "SELECT " + recordColumns + ", " + strings.Join(texts, ", ") + " FROM records r WHERE "
	if len(keys) > 1 && !split {
		return multiKeyPageSQL(b, where, sort, exprs, c, limit)
	}
	switch {
	case c == nil:
		return selectList + where + " ORDER BY " + order + limit
	case !split:
		return selectList + where + " AND " + keysetCondition(b, sort, exprs, *c) + " ORDER BY " + order + limit
	}
	// What follows the cursor among records with its first value: the
	// further keys, then seq.
	seq := b.arg(c.Seq)
	rest := afterKeys(b, keys[1:], exprs[1:], c.More, seq)
	restOrder := sortOrder(exprs[1:], keys[1:], "r.seq")
	sortExpr := exprs[0]
	if c.Value == nil {
		return selectList + where + " AND " + sortExpr + " IS NULL AND " + rest + " ORDER BY " + restOrder + limit
	}
	cmp := ">"
	if sort.desc {
		cmp = "<"
	}
	v := b.arg(*c.Value) + "::" + castFor(sort.col.Type)
	svs := make([]string, len(exprs))
	outerTexts := make([]string, len(exprs))
	outerOrder := make([]string, len(exprs))
	for i, e := range exprs {
		svs[i] = e + " AS sv" + strconv.Itoa(i)
		outerTexts[i] = "p.sv" + strconv.Itoa(i) + "::text"
		d := "ASC"
		if keys[i].desc {
			d = "DESC"
		}
		outerOrder[i] = "p.sv" + strconv.Itoa(i) + " " + d + " NULLS LAST"
	}
	part := func(cond, order string) string {
		return "(SELECT " + recordColumns + ", " + strings.Join(svs, ", ") + " FROM records r WHERE " + where +
			" AND " + cond + " ORDER BY " + order + limit + ")"
	}
	return "SELECT " + outerColumns + ", " + strings.Join(outerTexts, ", ") + " FROM (" +
		part(sortExpr+" = "+v+" AND "+rest, restOrder) + " UNION ALL " +
		part(sortExpr+" "+cmp+" "+v, order) + " UNION ALL " +
		part(sortExpr+" IS NULL", restOrder) +
		") p ORDER BY " + strings.Join(outerOrder, ", ") + ", p.seq" + limit
}

// multiKeyPageSQL is pageSQL's query for a sort of several keys on a table
// read whole: each key's value is worked out once per record, in a
// subquery kept apart (OFFSET 0), and the order and the cursor's condition
// read it from there. Written inline, each mention of a key reads the
// record's fields again (the keyset condition mentions each key three
// times): on the fifth page of 10,000 seeded records sorted by two keys,
// inline measured 254–300 ms against 161–299 ms for this, on a busy
// machine (BenchmarkFindRecordsMultiSort).
func multiKeyPageSQL(b *recordSQL, where string, sort sortSpec, exprs []string, c *cursor, limit string) string {
	keys := sort.keys()
	vals := make([]string, len(exprs))
	texts := make([]string, len(exprs))
	named := make([]string, len(exprs))
	for i, e := range exprs {
		name := "r.sv" + strconv.Itoa(i)
		vals[i] = e + " AS sv" + strconv.Itoa(i)
		texts[i] = name + "::text"
		named[i] = name
	}
	cond := "true"
	if c != nil {
		cond = keysetCondition(b, sort, named, *c)
	}
	return "SELECT " + recordColumns + ", " + strings.Join(texts, ", ") +
		" FROM (SELECT r.*, " + strings.Join(vals, ", ") + " FROM records r WHERE " + where + " OFFSET 0) r" +
		" WHERE " + cond + " ORDER BY " + sortOrder(named, keys, "r.seq") + limit
}

// sortExprs are the SQL expressions of the sort keys' values.
func sortExprs(keys []sortKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = filter.ValueExpr("r.fields", k.col.filterColumn())
	}
	return out
}

// sortOrder is the ORDER BY of keys (empty values last), then last.
func sortOrder(exprs []string, keys []sortKey, last string) string {
	parts := make([]string, 0, len(keys)+1)
	for i, k := range keys {
		dir := "ASC"
		if k.desc {
			dir = "DESC"
		}
		parts = append(parts, exprs[i]+" "+dir+" NULLS LAST")
	}
	return strings.Join(append(parts, last), ", ")
}

// keysetCondition is the condition "after the cursor" in the order
// (sort values, NULLs last, key by key; then seq).
func keysetCondition(b *recordSQL, sort sortSpec, exprs []string, c cursor) string {
	seq := b.arg(c.Seq)
	if sort.col == nil {
		return "r.seq > " + seq
	}
	return afterKeys(b, sort.keys(), exprs, append([]*string{c.Value}, c.More...), seq)
}

// afterKeys is the condition "after vals" on keys, then after seq, for
// cursor values known here: a key whose value was empty leaves only empty
// values after it; one with a value, greater (or smaller, descending)
// values, equal ones after the further keys, and empty ones.
func afterKeys(b *recordSQL, keys []sortKey, exprs []string, vals []*string, seq string) string {
	if len(keys) == 0 {
		return "r.seq > " + seq
	}
	rest := afterKeys(b, keys[1:], exprs[1:], vals[1:], seq)
	e := exprs[0]
	if vals[0] == nil {
		return "(" + e + " IS NULL AND " + rest + ")"
	}
	v := b.arg(*vals[0]) + "::" + castFor(keys[0].col.Type)
	cmp := ">"
	if keys[0].desc {
		cmp = "<"
	}
	return "(" + e + " " + cmp + " " + v + " OR (" + e + " = " + v + " AND " + rest + ") OR " + e + " IS NULL)"
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
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM records r WHERE "+where, args...).Scan(&n); err != nil {
			return 0, false, false, fmt.Errorf("workbooks: count records: %w", err)
		}
		return n, false, false, nil
	}
	// Counted up to one past the cap, within the budget.
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = "+strconv.FormatInt(countBudget.Milliseconds(), 10)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM records r WHERE "+where+" LIMIT "+
			strconv.Itoa(exactCountLimit+1)+") c", args...).Scan(&n)
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
	err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT 1 FROM records r WHERE "+where, args...).Scan(&raw)
	if err != nil {
		return 0, fmt.Errorf("workbooks: estimate records: %w", err)
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("workbooks: read record estimate: %w", err)
	}
	return int64(plan[0].Plan.Rows), nil
}
