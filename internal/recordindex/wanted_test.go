package recordindex

import (
	"slices"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/recordsql"
	"github.com/scratchpad/scratchpad/internal/values"
)

// wantTable has a column of each kind an index treats differently.
var wantTable = recordsql.Table{
	WorkbookID: "0190a5c6-0000-7000-8000-000000000001",
	ID:         "0190a5c6-0000-7000-8000-000000000002",
	Columns: []filter.Column{
		{ID: "c_title", Name: "Title", Type: values.Text},
		{ID: "c_price", Name: "Price", Type: values.Number},
		{ID: "c_done", Name: "Done", Type: values.Boolean},
		{ID: "c_tags", Name: "Tags", Type: values.MultiSelect},
		{ID: "c_due", Name: "Due", Type: values.Date},
	},
}

// lookupWantColumn finds a column of wantTable by id or name, as the record
// store's lookup does.
func lookupWantColumn(key string) (filter.Column, bool) {
	for _, c := range wantTable.Columns {
		if c.ID == key || strings.EqualFold(c.Name, key) {
			return c, true
		}
	}
	return filter.Column{}, false
}

// wantKeys renders wants as "column id/kind" in order.
func wantKeys(wants []Want) []string {
	out := []string{}
	for _, w := range wants {
		out = append(out, w.col.ID+"/"+w.kind)
	}
	return out
}

func TestWantedIndexesServeTheSortAndTheFilterTermsAnIndexCanServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sort, filter string
		want         []string
	}{
		{"", "", nil},
		{"Price", "", []string{"c_price/asc"}},
		{"-Price", "", []string{"c_price/desc"}},
		// Either direction serves an equality, so a descending sort's
		// index is enough.
		{"-Price", "Price = 5", []string{"c_price/desc"}},
		{"Title", "Price > 3 AND contains(Title, 'x')", []string{"c_title/asc", "c_price/asc", "c_title/trgm"}},
		{"", "Due BETWEEN '2024-01-01' AND '2024-12-31' OR Title ILIKE '%a%'", []string{"c_due/asc", "c_title/trgm"}},
		{"", "NOT (Price IN (1, 2))", []string{"c_price/asc"}},
		// The filter names columns as filter.Compile does, ignoring case.
		{"", "price = 5", []string{"c_price/asc"}},
		// No index narrows these down.
		{"", "Title <> 'x'", nil},
		{"", "Title NOT ILIKE '%a%'", nil},
		{"", "Title LIKE '%a%'", nil},
		{"", "Done = true", nil},
		{"", "Price NOT BETWEEN 1 AND 2", nil},
		// A filter that does not parse asks for nothing beyond the sort.
		{"Price", "Price = ", []string{"c_price/asc"}},
	}
	for _, tt := range tests {
		sort, err := recordsql.ResolveSort(tt.sort, lookupWantColumn)
		if err != nil {
			t.Fatalf("sort %q: %v", tt.sort, err)
		}
		got := wantKeys(Wanted(wantTable, recordsql.Query{Sort: tt.sort, Filter: tt.filter}, sort))
		if !slices.Equal(got, append([]string{}, tt.want...)) {
			t.Errorf("sort %q, filter %q: wants %v, want %v", tt.sort, tt.filter, got, tt.want)
		}
	}
}

func TestReadyIndexesPreferShortOrderedColumns(t *testing.T) {
	t.Parallel()
	got := wantKeys(Ready(wantTable))
	want := []string{"c_price/asc", "c_price/desc", "c_due/asc", "c_due/desc", "c_title/asc", "c_title/desc"}
	if !slices.Equal(got, want) {
		t.Errorf("ready indexes %v, want %v", got, want)
	}
}
