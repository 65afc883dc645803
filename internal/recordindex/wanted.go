package recordindex

import (
	"strings"

	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/recordsql"
	"github.com/scratchpad/scratchpad/internal/values"
)

// Want is an index a listing would use.
type Want struct {
	col  filter.Column
	kind string
	// anyBtree says a btree index of either direction will do (a filter's
	// equality or range, not a sort).
	anyBtree bool
}

// Wanted returns the indexes that serve q's sort and filter on t:
// the sort column in its direction, columns compared by equality or range,
// and text columns searched with ILIKE, contains or starts_with.
func Wanted(t recordsql.Table, q recordsql.Query, sort recordsql.Sort) []Want {
	var out []Want
	add := func(col filter.Column, kind string) {
		for _, w := range out {
			if w.col.ID == col.ID && (w.kind == kind || kind == indexAsc && w.kind == indexDesc) {
				return
			}
		}
		out = append(out, Want{col: col, kind: kind, anyBtree: kind == indexAsc})
	}
	if col, desc, ok := sort.First(); ok {
		kind := indexAsc
		if desc {
			kind = indexDesc
		}
		out = append(out, Want{col: col, kind: kind})
	}
	if e, err := filter.Parse(q.Filter); err == nil && e != nil {
		walkFilter(e, t.Columns, add)
	}
	return out
}

// walkFilter calls add for the columns of e that an index can serve.
func walkFilter(e filter.Expr, cols []filter.Column, add func(filter.Column, string)) {
	column := func(x filter.Expr) (filter.Column, bool) {
		ref, ok := x.(*filter.ColumnRef)
		if !ok {
			return filter.Column{}, false
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
func resolveFilterColumn(cols []filter.Column, name string) (filter.Column, bool) {
	var found []filter.Column
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
	return filter.Column{}, false
}

// ReadyColumns is how many of a table's columns a bulk write indexes both
// ways (Ready, from workbooks.PrepareTableForReads). Each index costs its build (a 100,000-record import
// of 20 columns took 1.2 s, and each build about 0.55 s more on this
// machine: 4.65–4.74 s with these 6, against the import's 5 s target) and
// every later write of the table; a column past these gets its indexes on
// demand, at its first sort or filter.
const ReadyColumns = 3

// Ready are the indexes a big table gets as soon as a bulk write
// makes it big: an ascending and a descending index on ReadyColumns of
// its columns of an ordered type, which serve a sort either way and the
// equality and range filters on the column. Numbers, dates and selects come
// first, in the table's order, then text: their values are short and sorted
// and filtered on most, where a text column may hold long prose (an index
// entry holds at most about 2.7 kB). Trigram indexes (text search) are left
// to demand: they take several times as long to build.
func Ready(t recordsql.Table) []Want {
	rank := func(c filter.Column) int {
		switch c.Type {
		case values.Number, values.Date, values.Datetime, values.Select:
			return 0
		case values.Text:
			return 1
		}
		return -1 // no ordered index serves it
	}
	var out []Want
	for r := range 2 {
		for _, c := range t.Columns {
			if rank(c) != r || len(out) == 2*ReadyColumns {
				continue
			}
			out = append(out, Want{col: c, kind: indexAsc}, Want{col: c, kind: indexDesc})
		}
	}
	return out
}
