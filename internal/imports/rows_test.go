package imports

import (
	"slices"
	"testing"

	"github.com/scratchpad/scratchpad/internal/csvimport"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// A row's values are written with their keys in jsonb's order (shorter
// first, then bytewise), so PostgreSQL need not sort each object, while
// the row's problems stay in the file's column order.
func TestRowKeysInJSONBOrderProblemsInFileOrder(t *testing.T) {
	num := func(id string) workbooks.Column {
		return workbooks.Column{ID: id, Name: id, Type: values.Number}
	}
	cols := []column{{index: 0, col: num("c_bb")}, {index: 1, col: num("c_b")}, {index: 2, col: num("c_aa")}, {index: 3, col: num("c_a")}}
	slices.SortFunc(cols, func(a, b column) int { return workbooks.JSONBKeyOrder(a.col.ID, b.col.ID) })
	r := &fileRows{header: []string{"bb", "b", "aa", "a"}, cols: cols, keyIndex: -1, problemsLeft: 10}
	var b block
	r.add(&b, csvimport.Row{Number: 2, Cells: []string{"1", "2", "3", "4"}})
	r.add(&b, csvimport.Row{Number: 3, Cells: []string{"x", "5", "y", "z"}})

	if got, want := string(b.fields(0)), `{"c_a":4,"c_b":2,"c_aa":3,"c_bb":1}`; got != want {
		t.Errorf("row 2 written as %s, want %s", got, want)
	}
	if got, want := string(b.fields(1)), `{"c_b":5}`; got != want {
		t.Errorf("row 3 written as %s, want %s", got, want)
	}
	var columns []int
	for _, p := range b.problems {
		columns = append(columns, p.Column)
	}
	if want := []int{1, 3, 4}; !slices.Equal(columns, want) {
		t.Errorf("problems in columns %v, want the file's order %v", columns, want)
	}
}
