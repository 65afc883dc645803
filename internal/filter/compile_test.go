package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/values"
)

// testColumns covers every column type, a name with a space and a
// non-ASCII name.
var testColumns = []Column{
	{ID: "title", Name: "title", Type: values.Text},
	{ID: "status", Name: "Status", Type: values.Select},
	{ID: "price", Name: "price", Type: values.Number},
	{ID: "pub", Name: "published", Type: values.Boolean},
	{ID: "due", Name: "Due date", Type: values.Date},
	{ID: "at", Name: "updated", Type: values.Datetime},
	{ID: "tags", Name: "tags", Type: values.MultiSelect},
	{ID: "meta", Name: "meta", Type: values.JSON},
	{ID: "size_1", Name: "Größe", Type: values.Number},
}

func TestValueExpr(t *testing.T) {
	t.Parallel()
	want := map[values.Type]string{
		values.Text:        "(r.fields->>'c1')",
		values.Select:      "(r.fields->>'c1')",
		values.Date:        "(r.fields->>'c1')",
		values.Datetime:    "(r.fields->>'c1')",
		values.Number:      "sp_num(r.fields->'c1')",
		values.Boolean:     "sp_bool(r.fields->'c1')",
		values.MultiSelect: "(r.fields->'c1')",
		values.JSON:        "(r.fields->'c1')",
	}
	for typ, w := range want {
		if got := ValueExpr("r.fields", Column{ID: "c1", Name: "x", Type: typ}); got != w {
			t.Errorf("ValueExpr(%s) = %s, want %s", typ, got, w)
		}
	}
}

func TestValueExprPanicsOnInvalidID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "1a", "A", "a-b", "a'b", "a b", strings.Repeat("a", 64)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ValueExpr with id %q did not panic", id)
				}
			}()
			ValueExpr("fields", Column{ID: id, Name: "x", Type: values.Text})
		}()
	}
}

func TestCompileRejectsInvalidColumns(t *testing.T) {
	t.Parallel()
	for _, col := range []Column{
		{ID: "x'; DROP TABLE r; --", Name: "x", Type: values.Text},
		{ID: "ok", Name: "x", Type: "attachment"},
	} {
		_, err := Compile("x = 1", []Column{col}, "fields", 0)
		var fe *Error
		if err == nil || errors.As(err, &fe) {
			t.Errorf("Compile with column %+v: error = %v, want a plain error", col, err)
		}
	}
}

func TestCompileSQL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		sql  string
		args []any
	}{
		{"", "TRUE", nil},
		{"title = 'x' AND price > 5", "(((r.fields->>'title') = $3::text) AND (sp_num(r.fields->'price') > $4::numeric))", []any{"x", "5"}},
		{"5 <= price", "(sp_num(r.fields->'price') >= $3::numeric)", []any{"5"}},
		{"price = ' 12.5 '", "(sp_num(r.fields->'price') = $3::numeric)", []any{"12.5"}},
		{"price = '+007.50'", "(sp_num(r.fields->'price') = $3::numeric)", []any{"7.50"}},
		{"title = 007", "((r.fields->>'title') = $3::text)", []any{"007"}},
		{"published", "sp_bool(r.fields->'pub')", nil},
		{"NOT published = 'False'", "(NOT (sp_bool(r.fields->'pub') = $3::boolean))", []any{false}},
		{"updated > '2024-05-01T13:45+02:00'", "((r.fields->>'at') > $3::text)", []any{"2024-05-01T11:45:00Z"}},
		{"tags = 'a'", "((r.fields->'tags') @> jsonb_build_array($3::text))", []any{"a"}},
		{"contains(title, '50%_\\')", "(lower((r.fields->>'title')) LIKE lower($3::text))", []any{`%50\%\_\\%`}},
		{"starts_with(Status, 'Pub')", "(lower((r.fields->>'status')) LIKE lower($3::text))", []any{`Pub%`}},
		{"title LIKE 'a\\%%'", "((r.fields->>'title') LIKE $3::text)", []any{`a\%%`}},
		{"price IN (1, '2')", "(sp_num(r.fields->'price') IN ($3::numeric, $4::numeric))", []any{"1", "2"}},
		{"meta = true", "((r.fields->'meta') = to_jsonb($3::boolean))", []any{true}},
		{"price > length(title)", "(sp_num(r.fields->'price') > char_length((r.fields->>'title')))", nil},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			got, err := Compile(tt.src, testColumns, "r.fields", 2)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.src, err)
			}
			if got.SQL != tt.sql || !reflect.DeepEqual(got.Args, tt.args) {
				t.Fatalf("Compile(%q) =\n  %s %#v\nwant\n  %s %#v", tt.src, got.SQL, got.Args, tt.sql, tt.args)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src      string
		pos, len int
		msg      string
	}{
		{"titel = 'x'", 0, 5, `unknown column "titel" (did you mean "title"?)`},
		{"pirce > 1", 0, 5, `unknown column "pirce" (did you mean "price"?)`},
		{"zzz = 1", 0, 3, `unknown column "zzz"`},
		{`"Due" = 1`, 0, 5, `unknown column "Due"`},
		{"price > 'abc'", 8, 5, `column "price" (number): expected a number, found 'abc'`},
		// A string is read as the column stores typed text: no exponents.
		{"price > '1e3'", 8, 5, `column "price" (number): expected a number, found '1e3'`},
		{"price > true", 8, 4, `column "price" (number): expected a number, found true`},
		{"published = 'maybe'", 12, 7, `column "published" (boolean): expected true or false, found 'maybe'`},
		{"title = false", 8, 5, `column "title" (text): expected a string, found false`},
		{`"Due date" = '2024-02-30'`, 13, 12, `column "Due date" (date): expected a date such as '2024-05-01', found '2024-02-30'`},
		{`"Due date" > 2024`, 13, 4, `column "Due date" (date): expected a date such as '2024-05-01', found 2024`},
		{"updated < 'yesterday'", 10, 11, `column "updated" (datetime): expected a datetime such as '2024-05-01T13:45' or '2024-05-01T13:45:00+02:00', found 'yesterday'`},
		{"updated < '2024-05-01T13:45:00.5Z'", 10, 24, `column "updated" (datetime): expected a datetime such as '2024-05-01T13:45' or '2024-05-01T13:45:00+02:00', found '2024-05-01T13:45:00.5Z'`},
		{"price LIKE 'a%'", 0, 5, `cannot use LIKE with column "price" (number)`},
		{"updated ILIKE '2024%'", 0, 7, `cannot use ILIKE with column "updated" (datetime)`},
		{"title LIKE title", 11, 5, `expected a pattern string such as 'abc%'`},
		{`title LIKE 'a\'`, 11, 4, `a pattern must not end with a lone \`},
		{"lowr(title) = 'a'", 0, 4, `unknown function "lowr" (did you mean "lower"?)`},
		{"frobnicate(title)", 0, 10, `unknown function "frobnicate"`},
		{"lower(title, 1) = 'a'", 0, 15, "lower takes 1 argument, found 2"},
		{"contains(tags)", 0, 14, "contains takes 2 arguments, found 1"},
		{"lower(price) = 'a'", 6, 5, `cannot use lower with column "price" (number)`},
		{"contains(price, '1')", 9, 5, `cannot use contains with column "price" (number)`},
		{"contains(title, title)", 16, 5, `contains: expected a string such as 'abc'`},
		{"starts_with(tags, 'a')", 12, 4, `cannot use starts_with with column "tags" (multi_select)`},
		{"price = null", 8, 4, "use IS NULL or IS NOT NULL to test for an empty value"},
		{"null IS NULL", 0, 4, "use IS NULL or IS NOT NULL to test for an empty value"},
		{"title IN ('a', null)", 15, 4, "use IS NULL or IS NOT NULL to test for an empty value"},
		{"title", 0, 5, `expected a condition, found column "title" (text)`},
		{"length(title) AND published", 0, 13, `expected a condition, found length(…) (number)`},
		{"'a' = 'b'", 0, 9, "a comparison needs a column or function on one side"},
		{"'a' LIKE 'b'", 0, 3, "expected a column or function, found 'a'"},
		{"tags > 'a'", 0, 10, `cannot use > with column "tags" (multi_select)`},
		{"published < true", 0, 16, `cannot use < with column "published" (boolean)`},
		{"meta BETWEEN 1 AND 2", 0, 20, `cannot use BETWEEN with column "meta" (json)`},
		{"title = price", 0, 13, `cannot compare column "title" (text) with column "price" (number)`},
		{"tags = tags", 0, 11, `cannot compare column "tags" (multi_select) with column "tags" (multi_select)`},
		{"price BETWEEN 1 AND title", 20, 5, `cannot compare column "price" (number) with column "title" (text)`},
		{"price IN (1, price)", 13, 5, "expected a value such as 'a' or 1"},
		{"NOT price", 4, 5, `expected a condition, found column "price" (number)`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tt.src, testColumns, "r.fields", 0)
			want := &Error{Pos: tt.pos, Len: tt.len, Msg: tt.msg}
			var got *Error
			if !errors.As(err, &got) || *got != *want {
				t.Fatalf("Compile(%q) error = %#v, want %#v", tt.src, err, want)
			}
		})
	}
}

func TestCompileResolvesColumnNames(t *testing.T) {
	t.Parallel()
	cols := []Column{
		{ID: "a", Name: "Name", Type: values.Text},
		{ID: "b", Name: "NAME", Type: values.Text},
		{ID: "c", Name: "city", Type: values.Text},
	}
	tests := []struct {
		src, sql, err string
	}{
		{src: "Name = 'x'", sql: "((f->>'a') = $1::text)"},
		{src: `"NAME" = 'x'`, sql: "((f->>'b') = $1::text)"},
		{src: "CITY = 'x'", sql: "((f->>'c') = $1::text)"},
		{src: `"City" = 'x'`, sql: "((f->>'c') = $1::text)"},
		{src: "name = 'x'", err: `at 0: ambiguous column "name": write its exact name in double quotes`},
	}
	for _, tt := range tests {
		got, err := Compile(tt.src, cols, "f", 0)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Compile(%q) error = %v, want %s", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil || got.SQL != tt.sql {
			t.Errorf("Compile(%q) = %q, %v, want %q", tt.src, got.SQL, err, tt.sql)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	const src = `Status = 'Published' AND price BETWEEN 10 AND 20.5 AND (contains(title, 'sale') OR tags IN ('a', 'b')) AND updated >= '2024-05-01T13:45' AND NOT is_empty(title)`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(src, testColumns, "r.fields", 0); err != nil {
			b.Fatal(err)
		}
	}
}
