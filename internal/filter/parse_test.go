package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want string // the tree rendered by String; "" for no filter
	}{
		{"", ""},
		{" \t\n ", ""},
		{"title = 'x'", `("title" = 'x')`},
		{"Title <> 'it''s'", `("Title" <> 'it''s')`},
		{"a != 1", `("a" <> 1)`},
		{`"Sale price" >= -1.5e3`, `("Sale price" >= -1.5e3)`},
		{`"say ""hi""" = .5`, `("say ""hi""" = .5)`},
		{"größe < 10", `("größe" < 10)`},
		{"_x <= -.25E+2", `("_x" <= -.25E+2)`},
		{"a = 1 AND b = 2 AND c = 3", `(("a" = 1) AND ("b" = 2) AND ("c" = 3))`},
		{"a = 1 OR b = 2 AND c = 3", `(("a" = 1) OR (("b" = 2) AND ("c" = 3)))`},
		{"(a = 1 OR b = 2) and c = 3", `((("a" = 1) OR ("b" = 2)) AND ("c" = 3))`},
		{"NOT a = 1 AND b", `((NOT ("a" = 1)) AND "b")`},
		{"not not a", `(NOT (NOT "a"))`},
		{"a like 'x%' or a not ilike '%y'", `(("a" LIKE 'x%') OR ("a" NOT ILIKE '%y'))`},
		{"a IN (1, 'two', true)", `("a" IN (1, 'two', true))`},
		{"a NOT IN ('x')", `("a" NOT IN ('x'))`},
		{"a BETWEEN 1 AND 2 AND b", `(("a" BETWEEN 1 AND 2) AND "b")`},
		{"a NOT BETWEEN 'x' AND 'y'", `("a" NOT BETWEEN 'x' AND 'y')`},
		{"a IS NULL OR b is not null", `(("a" IS NULL) OR ("b" IS NOT NULL))`},
		{"LOWER(title) = lower('X')", `(lower("title") = lower('X'))`},
		{"contains(tags, 'a') AND is_empty(\"x\")", `(contains("tags", 'a') AND is_empty("x"))`},
		{"f()", `f()`},
		{"5 < price", `(5 < "price")`},
		{"x = null", `("x" = null)`},
		{`"and" = 1`, `("and" = 1)`},
		{"published", `"published"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.src, err)
			}
			got := ""
			if e != nil {
				got = e.String()
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %s, want %s", tt.src, got, tt.want)
			}
			if e == nil {
				return
			}
			// The rendering is itself a filter with the same tree.
			again, err := Parse(got)
			if err != nil || again.String() != got {
				t.Fatalf("reparse of %s = %v, %v", got, again, err)
			}
		})
	}
}

func TestParseSpans(t *testing.T) {
	t.Parallel()
	e, err := Parse(`日本 = 'x' AND lower("b c") IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	and := e.(*Logical)
	cmp := and.Terms[0].(*Compare)
	if got, want := cmp.Pos(), (Span{0, 8}); got != want {
		t.Errorf("compare span = %v, want %v", got, want)
	}
	if got, want := cmp.Right.Pos(), (Span{5, 8}); got != want {
		t.Errorf("literal span = %v, want %v", got, want)
	}
	isNull := and.Terms[1].(*IsNull)
	call := isNull.X.(*Call)
	if got, want := call.NameSpan, (Span{13, 18}); got != want {
		t.Errorf("call name span = %v, want %v", got, want)
	}
	if got, want := isNull.Pos(), (Span{13, 33}); got != want {
		t.Errorf("IS NULL span = %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src      string
		pos, len int
		msg      string
	}{
		{"title = ", 8, 0, `expected a column, a value or "(", found end of input`},
		{"title = 'abc", 8, 1, "unterminated string"},
		{`"abc = 1`, 0, 1, "unterminated quoted column name"},
		{"title = 'x' extra", 12, 5, `expected AND, OR or end of input, found "extra"`},
		{"a = 1 = 2", 6, 1, `expected AND, OR or end of input, found "="`},
		{"a # b", 2, 1, `unexpected character '#'`},
		{"a ! b", 2, 1, `unexpected character '!'`},
		{"a - b", 2, 1, `unexpected character '-'`},
		{"a IS 5", 5, 1, `expected NULL, found "5"`},
		{"a IS NOT 'x'", 9, 3, `expected NULL, found string 'x'`},
		{"a NOT 5", 6, 1, `expected LIKE, ILIKE, IN or BETWEEN after NOT, found "5"`},
		{"a BETWEEN 1 OR 2", 12, 2, `expected AND, found "OR"`},
		{"a IN ()", 6, 1, `expected a column, a value or "(", found ")"`},
		{"a IN (1 2)", 8, 1, `expected "," or ")", found "2"`},
		{"a IN 1", 5, 1, `expected "(", found "1"`},
		{"AND", 0, 3, `expected a column, a value or "(", found "AND"`},
		{"(a = 1", 6, 0, `expected ")", found end of input`},
		{"f(a, )", 5, 1, `expected a column, a value or "(", found ")"`},
		{"a = 1abc", 4, 4, `invalid number "1abc"`},
		{"a = 1.2.3", 4, 5, `invalid number "1.2.3"`},
		{"a = 1e5000", 4, 6, "number out of range"},
		{"a = 'x\x00'", 6, 1, "invalid character U+0000"},
		{"é = \xff", 4, 1, "invalid UTF-8"},
		{"日本 = 'x' #", 9, 1, `unexpected character '#'`},
		{"a = '" + strings.Repeat("x", 30) + "' b", 37, 1, `expected AND, OR or end of input, found "b"`},
		{"a = 1 " + `"` + strings.Repeat("y", 30) + `"`, 6, 32, `expected AND, OR or end of input, found "` + strings.Repeat("y", 24) + `…"`},
		{strings.Repeat("a", MaxLength+1), MaxLength, 0, "filter is too long (over 4096 bytes)"},
		{strings.Repeat("(", MaxDepth+1) + "a", MaxDepth, 1, "filter is nested too deeply (over 64 levels)"},
		{strings.Repeat("NOT ", MaxDepth+1) + "a", 4 * MaxDepth, 3, "filter is nested too deeply (over 64 levels)"},
		{strings.Repeat("lower(", MaxDepth+1) + "a", 6*MaxDepth + 5, 1, "filter is nested too deeply (over 64 levels)"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.src)
			want := &Error{Pos: tt.pos, Len: tt.len, Msg: tt.msg}
			var got *Error
			if !errors.As(err, &got) || *got != *want {
				t.Fatalf("Parse(%q) error = %#v, want %#v", tt.src, err, want)
			}
		})
	}
}

func TestParseAcceptsDeepestAllowedNesting(t *testing.T) {
	t.Parallel()
	src := strings.Repeat("(", MaxDepth) + "a" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(src); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	err := &Error{Pos: 12, Len: 5, Msg: `unknown column "titel" (did you mean "title"?)`}
	if got, want := err.Error(), `at 12: unknown column "titel" (did you mean "title"?)`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
