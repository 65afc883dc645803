package recordsql

import (
	"slices"
	"strconv"
	"strings"
)

// NeighbourQuery returns the query of the id of the record right after
// (forward) or right before the record recordID in the listing of q on t, in
// sort (from ResolveSort on q.Sort): the order (sort values, empty values
// last, key by key; then seq). The record itself need not match q's filter:
// it is found by its position in the order. With split (a big table) the
// table's ids are literals, as in PageQuery, so the partial on-demand index
// of the sort column can serve the order. Errors: Invalid (a bad filter or
// quick filter).
func NeighbourQuery(t Table, q Query, sort Sort, recordID string, split, forward bool) (string, []any, error) {
	var b Builder
	if err := b.Scope(t, q, split); err != nil {
		return "", nil, err
	}
	keys := sort.keys()
	exprs := sortExprs(keys)
	pivotVals := ""
	for i, e := range exprs {
		pivotVals += ", " + e + " AS v" + strconv.Itoa(i)
	}
	pivot := "(SELECT r.seq" + pivotVals + " FROM records r WHERE r.workbook_id = " + b.Arg(t.WorkbookID) +
		" AND r.table_id = " + b.Arg(t.ID) + " AND r.id = " + b.Arg(recordID) + ")"

	seqCmp := ">"
	if !forward {
		seqCmp = "<"
	}
	cond := "r.seq " + seqCmp + " p.seq"
	order := make([]string, 0, len(keys)+1)
	for i := len(keys) - 1; i >= 0; i-- {
		// Going forward in an ascending sort means greater values; a
		// descending sort or going backward flips that; both flip it back.
		e, pv := exprs[i], "p.v"+strconv.Itoa(i)
		cmp, dir := ">", "ASC"
		if keys[i].desc != !forward {
			cmp, dir = "<", "DESC"
		}
		// Empty values come after every value, and among themselves by the
		// further keys.
		var nulls string
		if forward {
			nulls = "(" + e + " IS NULL AND " + pv + " IS NOT NULL)"
		} else {
			nulls = "(" + pv + " IS NULL AND " + e + " IS NOT NULL)"
		}
		cond = "(" + e + " " + cmp + " " + pv + " OR (" + e + " = " + pv + " AND " + cond + ") OR " + nulls +
			" OR (" + e + " IS NULL AND " + pv + " IS NULL AND " + cond + "))"
		nullsAt := "NULLS LAST"
		if !forward {
			nullsAt = "NULLS FIRST"
		}
		order = append(order, e+" "+dir+" "+nullsAt)
	}
	slices.Reverse(order)
	if forward {
		order = append(order, "r.seq")
	} else {
		order = append(order, "r.seq DESC")
	}
	sql := "SELECT r.id FROM records r CROSS JOIN " + pivot + " p WHERE " + strings.Join(b.Where, " AND ") +
		" AND r.id <> " + b.Arg(recordID) + " AND " + cond + " ORDER BY " + strings.Join(order, ", ") + " LIMIT 1"
	return sql, b.Args, nil
}
