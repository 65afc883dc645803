package recordsql

import (
	"fmt"
	"strings"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/values"
)

// MaxSortKeys bounds the columns of a multi-column sort: each further key
// costs every page a comparison, and three answer what people ask.
const MaxSortKeys = 3

// Sort is a resolved Query.Sort: its first key in col and desc (the one the
// on-demand index serves), the further keys in then. The zero Sort is the
// table's own order.
type Sort struct {
	col  *filter.Column
	desc bool
	then []sortKey
}

// sortKey is one further key of a multi-column sort.
type sortKey struct {
	col  *filter.Column
	desc bool
}

// First returns the sort's first key, the one an on-demand index serves,
// and whether there is one.
func (s Sort) First() (col filter.Column, desc, ok bool) {
	if s.col == nil {
		return filter.Column{}, false, false
	}
	return *s.col, s.desc, true
}

// keys returns every key of the sort, the first one included.
func (s Sort) keys() []sortKey {
	if s.col == nil {
		return nil
	}
	return append([]sortKey{{col: s.col, desc: s.desc}}, s.then...)
}

// key identifies the sort in cursors: column ids and directions.
func (s Sort) key() string {
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

// ResolveSort reads a Query.Sort: one column, or up to MaxSortKeys
// separated by commas, each found with lookup (by the id or name a person
// wrote). The whole text naming one column wins, so a column whose name
// holds a comma still sorts by its name alone. Errors: Invalid.
func ResolveSort(s string, lookup func(key string) (filter.Column, bool)) (Sort, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Sort{}, nil
	}
	if k, ok := lookupSortKey(lookup, s); ok {
		return Sort{col: k.col, desc: k.desc}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) == 1 {
		return Sort{}, unknownSortColumn(s)
	}
	if len(parts) > MaxSortKeys {
		return Sort{}, apperr.InvalidFields(fmt.Sprintf("Sort by at most %d columns.", MaxSortKeys),
			apperr.FieldError{Field: "sort", Message: fmt.Sprintf("names more than %d columns", MaxSortKeys)})
	}
	var spec Sort
	seen := map[string]bool{}
	for i, part := range parts {
		k, ok := lookupSortKey(lookup, part)
		if !ok {
			return Sort{}, unknownSortColumn(strings.TrimPrefix(strings.TrimSpace(part), "-"))
		}
		if seen[k.col.ID] {
			return Sort{}, apperr.InvalidFields(fmt.Sprintf("The sort names %s twice.", k.col.Name),
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
func lookupSortKey(lookup func(string) (filter.Column, bool), s string) (sortKey, bool) {
	s = strings.TrimSpace(s)
	var k sortKey
	if strings.HasPrefix(s, "-") {
		k.desc, s = true, strings.TrimSpace(s[1:])
	}
	col, ok := lookup(s)
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

// sortExprs are the SQL expressions of the sort keys' values.
func sortExprs(keys []sortKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = filter.ValueExpr("r.fields", *k.col)
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
