package recordsql_test

import (
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/recordsql"
	"github.com/scratchpad/scratchpad/internal/values"
)

// sortTable has a column whose name holds a comma.
var sortTable = recordsql.Table{
	WorkbookID: "0190a5c6-0000-7000-8000-000000000001",
	ID:         "0190a5c6-0000-7000-8000-000000000002",
	Columns: []filter.Column{
		{ID: "c_title", Name: "Title", Type: values.Text},
		{ID: "c_price", Name: "Price", Type: values.Number},
		{ID: "c_size", Name: "Width, height", Type: values.Text},
		{ID: "c_done", Name: "Done", Type: values.Boolean},
	},
}

// lookup finds a column of sortTable by id or name ignoring case, as the
// record store's lookup does.
func lookup(key string) (filter.Column, bool) {
	for _, c := range sortTable.Columns {
		if c.ID == key || strings.EqualFold(c.Name, strings.TrimSpace(key)) {
			return c, true
		}
	}
	return filter.Column{}, false
}

func TestResolveSortReadsUpToThreeKeysByNameOrID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sort  string
		first string
		desc  bool
		err   string // part of the message of an Invalid error
	}{
		{sort: "Price", first: "c_price"},
		{sort: " -price ", first: "c_price", desc: true},
		{sort: "c_title,-Price", first: "c_title"},
		{sort: "Width, height", first: "c_size"},
		{sort: "-Width, height", first: "c_size", desc: true},
		{sort: "Nope", err: `no column "Nope"`},
		{sort: "Title,Nope", err: `no column "Nope"`},
		{sort: "Title,Price,Done,c_size", err: "at most 3"},
		{sort: "Price,-price", err: "names Price twice"},
	}
	for _, tt := range tests {
		sort, err := recordsql.ResolveSort(tt.sort, lookup)
		if tt.err != "" {
			if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("sort %q: error %v, want Invalid with %q", tt.sort, err, tt.err)
			}
			continue
		}
		col, desc, ok := sort.First()
		if err != nil || !ok || col.ID != tt.first || desc != tt.desc {
			t.Errorf("sort %q: first key %s desc=%v (%v, %v), want %s desc=%v", tt.sort, col.ID, desc, ok, err, tt.first, tt.desc)
		}
	}
}

func TestPageQueryTakesOnlyCursorsItsSortIssued(t *testing.T) {
	t.Parallel()
	priceDesc, _ := recordsql.ResolveSort("-Price,Title", lookup)
	title, _ := recordsql.ResolveSort("Title", lookup)
	price, _ := recordsql.ResolveSort("Price", lookup)
	v, other := "12.5", "x"
	issued := recordsql.NextCursor(priceDesc, []*string{&v, &other}, 7)
	if _, err := recordsql.PageQuery(sortTable, recordsql.Query{Sort: "-Price,Title", Cursor: issued}, priceDesc, false); err != nil {
		t.Fatalf("the cursor of the same sort: %v", err)
	}
	word := "abc"
	for name, c := range map[string]struct {
		cursor string
		sort   recordsql.Sort
	}{
		"another sort's":             {issued, title},
		"not base64":                 {"%%%", priceDesc},
		"a word for a number column": {recordsql.NextCursor(price, []*string{&word}, 7), price},
		"a value without a sort":     {recordsql.NextCursor(recordsql.Sort{}, []*string{&word}, 7), recordsql.Sort{}},
		"no record's position":       {recordsql.NextCursor(title, []*string{&word}, 0), title},
	} {
		_, err := recordsql.PageQuery(sortTable, recordsql.Query{Cursor: c.cursor}, c.sort, false)
		if apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%s cursor: error %v, want Invalid", name, err)
		}
	}
}

func TestPageQueryBindsFilterLiteralsAndWritesBigTablesIDs(t *testing.T) {
	t.Parallel()
	sort, _ := recordsql.ResolveSort("Price", lookup)
	q := recordsql.Query{Filter: "Title = 'O''Brien; DROP TABLE records'", Sort: "Price"}
	small, err := recordsql.PageQuery(sortTable, q, sort, false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(small.SQL, "Brien") || strings.Contains(small.SQL, sortTable.ID) || len(small.WhereArgs) != 3 {
		t.Errorf("a small table's page query writes values into its SQL or lacks its arguments: %s %v", small.SQL, small.WhereArgs)
	}
	big, err := recordsql.PageQuery(sortTable, q, sort, true)
	if err != nil {
		t.Fatal(err)
	}
	pred, _ := recordsql.TablePredicate("r", sortTable.WorkbookID, sortTable.ID)
	if !strings.Contains(big.SQL, pred) || strings.Contains(big.SQL, "Brien") || len(big.WhereArgs) != 1 {
		t.Errorf("a big table's page query does not repeat its partial indexes' predicate %q: %s %v", pred, big.SQL, big.WhereArgs)
	}
	if _, err := recordsql.TablePredicate("r", "1 OR true", sortTable.ID); err == nil {
		t.Error("TablePredicate wrote an id that is not a UUID")
	}
}
