package filter

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// sqlVocabulary matches SQL built only from what Compile may emit: fixed
// keywords, functions, operators and casts, the fields expression, $N
// placeholders and single-quoted strings that are column ids or fixed
// constants. A user literal cannot match it: the only quoted strings allowed
// are ids of testColumns and the constants below.
var sqlVocabulary = regexp.MustCompile(`^(?:\s+|[(),]|r\.fields|->>|->|@>|<>|<=|>=|[=<>]|\$[0-9]+|::(?:text|numeric|boolean|jsonb)` +
	`|\b(?:AND|OR|NOT|LIKE|ILIKE|IN|BETWEEN|IS|NULL|TRUE|CASE|WHEN|THEN|END` +
	`|sp_num|sp_bool|lower|upper|btrim|char_length|jsonb_typeof|jsonb_array_length|jsonb_build_array|to_jsonb)\b` +
	`|'(?:` + testColumnIDs() + `|null|array|\[\]|\{\}|""|)')*$`)

func testColumnIDs() string {
	ids := make([]string, len(testColumns))
	for i, c := range testColumns {
		ids[i] = c.ID
	}
	return strings.Join(ids, "|")
}

var placeholder = regexp.MustCompile(`\$([0-9]+)`)

func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"",
		"title = 'x' AND price > 5 OR NOT published",
		`"Due date" BETWEEN '2024-01-01' AND '2024-12-31'`,
		"updated >= '2024-05-01T13:45:00+02:00'",
		"tags IN ('a', 'b') AND NOT is_empty(meta)",
		"contains(title, '50%_\\') OR starts_with(Status, 'P')",
		"lower(trim(title)) LIKE 'a%' AND length(tags) > 2",
		"price NOT IN (1, '2', -3.5e2) AND meta <> true",
		"größe = 5 OR \"say \"\"hi\"\"\" IS NOT NULL",
		"title = 'x'); DROP TABLE r; --'",
		"title = '' OR title = ''''",
		"((((a))))",
		"price = null",
		"'a' = 'b'",
		"title = 'unterminated",
		"é = \xff",
		"NOT NOT NOT published",
		"title = 1e1001",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, perr := Parse(src)
		c, err := Compile(src, testColumns, "r.fields", 0)
		checkErrorPosition(t, src, perr)
		checkErrorPosition(t, src, err)
		if perr != nil {
			if err == nil {
				t.Fatalf("Parse failed (%v) but Compile succeeded", perr)
			}
			return
		}
		checkRoundTrip(t, e)
		if err != nil {
			return
		}
		if !sqlVocabulary.MatchString(c.SQL) {
			t.Fatalf("SQL outside the fixed vocabulary for %q:\n%s", src, c.SQL)
		}
		refs := placeholder.FindAllStringSubmatch(c.SQL, -1)
		if len(refs) != len(c.Args) {
			t.Fatalf("%d placeholders but %d args in %s", len(refs), len(c.Args), c.SQL)
		}
		for i, m := range refs {
			if m[1] != strconv.Itoa(i+1) {
				t.Fatalf("placeholder %d is $%s in %s", i+1, m[1], c.SQL)
			}
		}
		for _, a := range c.Args {
			switch a := a.(type) {
			case string:
				if !utf8.ValidString(a) || strings.ContainsRune(a, 0) {
					t.Fatalf("arg %q is not valid PostgreSQL text", a)
				}
			case bool:
			default:
				t.Fatalf("arg %#v has unexpected type %T", a, a)
			}
		}
	})
}

// checkErrorPosition asserts that an error is an *Error whose range lies
// within the source, so the UI can always place its caret.
func checkErrorPosition(t *testing.T, src string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	n := utf8.RuneCountInString(src)
	if fe.Pos < 0 || fe.Len < 0 || fe.Pos+fe.Len > n {
		t.Fatalf("error %v spans [%d, %d) outside the %d runes of %q", fe, fe.Pos, fe.Pos+fe.Len, n, src)
	}
}

// checkRoundTrip asserts that the rendering of a tree parses back to the
// same tree, unless the fully parenthesized rendering outgrows the limits.
func checkRoundTrip(t *testing.T, e Expr) {
	t.Helper()
	if e == nil {
		return
	}
	s := e.String()
	again, err := Parse(s)
	var fe *Error
	if errors.As(err, &fe) && (strings.HasPrefix(fe.Msg, "filter is too long") || strings.HasPrefix(fe.Msg, "filter is nested too deeply")) {
		return
	}
	if err != nil {
		t.Fatalf("rendering %s does not parse: %v", s, err)
	}
	if again.String() != s {
		t.Fatalf("rendering %s parses to %s", s, again.String())
	}
}

// TestSQLVocabulary shows that the fuzz oracle would notice a literal in SQL.
func TestSQLVocabulary(t *testing.T) {
	t.Parallel()
	for sql, want := range map[string]bool{
		"((r.fields->>'title') = $1::text)":                                  true,
		"((r.fields->'tags') IS NULL OR (r.fields->'tags') = 'null'::jsonb)": true,
		"((r.fields->>'title') = 'x')":                                       false,
		"((r.fields->>'title') = $1::text); DROP TABLE r":                    false,
		"((r.fields->>'nope') = $1::text)":                                   false,
		"(sp_num(r.fields->'price') > 5)":                                    false,
	} {
		if got := sqlVocabulary.MatchString(sql); got != want {
			t.Errorf("vocabulary match of %s = %v, want %v", sql, got, want)
		}
	}
}
