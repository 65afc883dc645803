package workbooks_test

import (
	"context"
	"slices"
	"testing"

	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestJSONBTextIsPostgreSQLs proves that a pulled row's text, as a re-pull
// compares it with records.fields::text, is what PostgreSQL prints for the
// same jsonb: were it not, every unchanged record would go through the full
// merge (still exact, but slow). The documents' keys are in jsonb's order
// (shorter first), as PulledEncoder writes them, and their strings escaped
// as AppendJSONString escapes them.
func TestJSONBTextIsPostgreSQLs(t *testing.T) {
	pool := testdb.New(t)
	docs := []string{
		`{}`,
		`{"a":1}`,
		`{"e":"","n":null,"arr":["a,b","c:d"],"num":[1,2.50,-300]}`,
		`{"k":{"v":1,"kk":[true,false,null]},"s":"quote \" backslash \\ tab \t newline \n ctl \u0001 é 日本"}`,
		` { "x" : 1 , "y" : [ 1 , 2 ] } `,
		`{"c_4sbcdodq":9998,"c_beemzmwx":{"views":9998,"featured":false},"c_hhxev5fd":["tag2","tag10"]}`,
	}
	for _, doc := range docs {
		var want string
		if err := pool.QueryRow(context.Background(), `SELECT $1::jsonb::text`, doc).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := string(workbooks.AppendJSONBText(nil, []byte(doc))); got != want {
			t.Errorf("text of %s:\n got %s\nwant %s", doc, got, want)
		}
	}
}

// TestTextArrayIsPostgreSQLs proves that the array literal a publish sends
// for a record's published column ids reads back, cast to text[], as the
// same ids: the settle drops exactly those fields from the record.
func TestTextArrayIsPostgreSQLs(t *testing.T) {
	pool := testdb.New(t)
	for _, elems := range [][]string{
		{},
		{"c_k3j9x2ab"},
		{"c_a", "c_b", "title"},
		{"a,b", `quote " and backslash \`, "{braces}", "NULL", "", " spaced "},
	} {
		var got []string
		if err := pool.QueryRow(context.Background(), `SELECT $1::text::text[]`, string(workbooks.AppendTextArray(nil, elems))).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, elems) {
			t.Errorf("%q read back as %q", elems, got)
		}
	}
}
