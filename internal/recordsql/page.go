package recordsql

import (
	"strconv"
	"strings"
)

// recordColumns are the columns of records in the order db.Record scans them.
const recordColumns = `r.workbook_id, r.table_id, r.id, r.seq, r.remote_id, r.fields, r.original, r.state,
	r.edited_fields, r.errors, r.version, r.created_at, r.updated_at, r.publish_errors, r.conflicts,
	r.source_deleted_at, r.inflight_sync_id`

// outerColumns are recordColumns read from the subquery p of a split page.
const outerColumns = `p.workbook_id, p.table_id, p.id, p.seq, p.remote_id, p.fields, p.original, p.state,
	p.edited_fields, p.errors, p.version, p.created_at, p.updated_at, p.publish_errors, p.conflicts,
	p.source_deleted_at, p.inflight_sync_id`

// Page is the SQL of one page of a listing.
type Page struct {
	// SQL selects the page's records, and one more when a page follows.
	// Each row holds the records' columns in the order db.Record scans
	// them, then SortValues texts: the values of the sort's keys, which
	// NextCursor takes.
	SQL  string
	Args []any
	// Where selects every record of the listing, ignoring the cursor, with
	// the arguments WhereArgs: what CountSQL and EstimateSQL count.
	Where     string
	WhereArgs []any
	Sort      Sort
	// Limit is the page size.
	Limit int
	// Unfiltered says the listing holds every record of the table.
	Unfiltered bool
}

// SortValues is how many sort values each row of the page query carries
// after the record's columns: one per key of the sort, and one (NULL) for
// the table's own order.
func (p Page) SortValues() int { return max(1, len(p.Sort.keys())) }

// PageQuery checks q against t and builds its page query, in sort (from
// ResolveSort on q.Sort). With split (a big table, see package
// recordindex) the table's ids are literals and a page after a cursor is
// read as three index ranges (see pageSQL). Errors: Invalid (a bad filter,
// quick filter or cursor; filter errors carry the position in the
// message).
func PageQuery(t Table, q Query, sort Sort, split bool) (Page, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultPageSize
	case limit > MaxPageSize:
		limit = MaxPageSize
	}
	var b Builder
	if err := b.Scope(t, q, split); err != nil {
		return Page{}, err
	}
	p := Page{Sort: sort, Limit: limit, Unfiltered: strings.TrimSpace(q.Filter) == "" && q.Has == ""}
	p.Where = strings.Join(b.Where, " AND ")
	baseArgs := len(b.Args)

	var c *cursor
	if q.Cursor != "" {
		dc, err := decodeCursor(q.Cursor, sort)
		if err != nil {
			return Page{}, err
		}
		c = &dc
	}
	p.SQL = pageSQL(&b, p.Where, sort, c, limit+1, split)
	p.Args = b.Args
	p.WhereArgs = b.Args[:baseArgs]
	return p, nil
}

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
func pageSQL(b *Builder, where string, sort Sort, c *cursor, n int, split bool) string {
	limit := " LIMIT " + strconv.Itoa(n)
	if sort.col == nil {
		if c != nil {
			where += " AND r.seq > " + b.Arg(c.Seq)
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
	seq := b.Arg(c.Seq)
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
	v := b.Arg(*c.Value) + "::" + castFor(sort.col.Type)
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
// machine (BenchmarkFindRecordsMultiSort in package workbooks).
func multiKeyPageSQL(b *Builder, where string, sort Sort, exprs []string, c *cursor, limit string) string {
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

// keysetCondition is the condition "after the cursor" in the order
// (sort values, NULLs last, key by key; then seq).
func keysetCondition(b *Builder, sort Sort, exprs []string, c cursor) string {
	seq := b.Arg(c.Seq)
	if sort.col == nil {
		return "r.seq > " + seq
	}
	return afterKeys(b, sort.keys(), exprs, append([]*string{c.Value}, c.More...), seq)
}

// afterKeys is the condition "after vals" on keys, then after seq, for
// cursor values known here: a key whose value was empty leaves only empty
// values after it; one with a value, greater (or smaller, descending)
// values, equal ones after the further keys, and empty ones.
func afterKeys(b *Builder, keys []sortKey, exprs []string, vals []*string, seq string) string {
	if len(keys) == 0 {
		return "r.seq > " + seq
	}
	rest := afterKeys(b, keys[1:], exprs[1:], vals[1:], seq)
	e := exprs[0]
	if vals[0] == nil {
		return "(" + e + " IS NULL AND " + rest + ")"
	}
	v := b.Arg(*vals[0]) + "::" + castFor(keys[0].col.Type)
	cmp := ">"
	if keys[0].desc {
		cmp = "<"
	}
	return "(" + e + " " + cmp + " " + v + " OR (" + e + " = " + v + " AND " + rest + ") OR " + e + " IS NULL)"
}

// CountSQL counts the records matching where (a Page's Where, with its
// WhereArgs): all of them, or with limit > 0 at most limit.
func CountSQL(where string, limit int) string {
	if limit <= 0 {
		return "SELECT count(*) FROM records r WHERE " + where
	}
	return "SELECT count(*) FROM (SELECT 1 FROM records r WHERE " + where + " LIMIT " + strconv.Itoa(limit) + ") c"
}

// EstimateSQL asks for the planner's estimate of the records matching where,
// as EXPLAIN (FORMAT JSON), whose first plan's "Plan Rows" holds it.
func EstimateSQL(where string) string {
	return "EXPLAIN (FORMAT JSON) SELECT 1 FROM records r WHERE " + where
}
