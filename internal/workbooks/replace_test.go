package workbooks

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
)

// TestReplacerMatchesRegexp checks that the bounded replacer writes exactly
// what regexp's ReplaceAllString (or ReplaceAllLiteralString) writes: empty
// matches, anchors, word boundaries, groups that do not take part, named
// groups, $$ and malformed references included.
func TestReplacerMatchesRegexp(t *testing.T) {
	t.Parallel()
	inputs := []string{"", "a", "abc", "aaa", "Red mug, red MUG!", "naïve café über", "line one\nline two\n", "x$y", "foo.bar", "ab ab ab",
		// More matches than replace measures first.
		strings.Repeat("ab ", 100), strings.Repeat("a", 200) + strings.Repeat("é", 70)}
	cases := []FindReplace{
		{Find: "a", Replace: "b"},
		{Find: "a", Replace: "$1 literal $$"},
		{Find: "mug", Replace: "cup"},
		{Find: ".", Replace: "[.]"},
		{Find: "(?:)", Replace: "-", Regex: true},
		{Find: "b?", Replace: "-", Regex: true},
		{Find: "a*", Replace: "<$0>", Regex: true},
		{Find: `x*`, Replace: "-", Regex: true},
		{Find: `\b`, Replace: "|", Regex: true},
		{Find: `\B`, Replace: "|", Regex: true},
		{Find: `^`, Replace: "> ", Regex: true},
		{Find: `(?m)^line`, Replace: "LINE", Regex: true},
		{Find: `$`, Replace: ".", Regex: true},
		{Find: `(a)(b)?`, Replace: "[$2|$1]", Regex: true},
		{Find: `(?P<first>\w)(\w*)`, Replace: "${first}.${2}x$2x$first_", Regex: true},
		{Find: `(\w+)`, Replace: "$1$1$10${1}0 $$ $ ${ ${x", Regex: true},
		{Find: `(é|ü)`, Replace: "<$1$1>", Regex: true},
		{Find: `(a|ab)(c|bcd)?`, Replace: "$2$1", Regex: true},
		{Find: `\$`, Replace: "$$$$", Regex: true},
		{Find: `(?i)RED`, Replace: "blue", Regex: true, CaseSensitive: true},
	}
	for _, fr := range cases {
		r, err := newReplacer(fr)
		if err != nil {
			t.Fatalf("%+v: %v", fr, err)
		}
		for _, in := range inputs {
			want := r.re.ReplaceAllLiteralString(in, fr.Replace)
			if fr.Regex {
				want = r.re.ReplaceAllString(in, fr.Replace)
			}
			got, changed, err := r.replace(in)
			if err != nil || got != want || changed != (want != in) {
				t.Errorf("find %q replace %q (regex %v) in %q = %q, %v, %v; want %q", fr.Find, fr.Replace, fr.Regex, in, got, changed, err, want)
			}
		}
	}
}

// TestReplacerMeasuresBeforeBuilding checks that a template copying a group
// many times per match is refused from the match positions alone, quickly,
// however large its result would be, and that a result exactly at
// MaxCellBytes is built.
func TestReplacerMeasuresBeforeBuilding(t *testing.T) {
	t.Parallel()
	r, err := newReplacer(FindReplace{Find: `(.)`, Replace: strings.Repeat("$1", 30000), Regex: true})
	if err != nil {
		t.Fatal(err)
	}
	cell := strings.Repeat("x", MaxCellBytes) // 256 Ki matches × 30,000 copies: 7.5 GiB
	start := time.Now()
	if _, _, err := r.replace(cell); !errors.Is(err, errResultTooLarge) {
		t.Fatalf("replace = %v, want errResultTooLarge", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing took %v", d)
	}

	r, err = newReplacer(FindReplace{Find: "b", Replace: "cc", CaseSensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	exact := strings.Repeat("a", MaxCellBytes-2) + "b"
	if out, changed, err := r.replace(exact); err != nil || !changed || len(out) != MaxCellBytes {
		t.Errorf("replace to exactly MaxCellBytes = %d bytes, %v, %v", len(out), changed, err)
	}
	if _, _, err := r.replace(exact + "b"); !errors.Is(err, errResultTooLarge) {
		t.Errorf("replace past MaxCellBytes = %v", err)
	}
	// A result that passes the cap midway and shrinks back is measured
	// whole.
	r, err = newReplacer(FindReplace{Find: `(a+)|b+`, Replace: "$1$1", Regex: true, CaseSensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	third := MaxCellBytes / 3
	grows := strings.Repeat("a", third) + strings.Repeat("b", third)
	if out, _, err := r.replace(grows); err != nil || len(out) != 2*third {
		t.Errorf("grow then shrink = %d bytes, %v", len(out), err)
	}
	// The same past the first matches replace measures: 64 a's grow by
	// 1,000 bytes each, past the cap, before 200,000 b's are removed.
	r, err = newReplacer(FindReplace{Find: `(a)|b+`, Replace: strings.Repeat("$1", 1000), Regex: true, CaseSensitive: true})
	if err != nil {
		t.Fatal(err)
	}
	if out, _, err := r.replace(strings.Repeat("a", 64) + strings.Repeat("b", 200000)); err != nil || len(out) != 64000 {
		t.Errorf("grow past the cap then shrink = %d bytes, %v", len(out), err)
	}
}

func TestReplacerRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, field string
		fr          FindReplace
	}{
		{"replacement too long", "replace", FindReplace{Find: "a", Replace: strings.Repeat("x", maxReplaceBytes+1)}},
		{"$1 × 100,000", "replace", FindReplace{Find: "(.+)", Replace: strings.Repeat("$1", 100000), Regex: true}},
		{"find too long", "find", FindReplace{Find: strings.Repeat("a", maxFindLength+1)}},
		{"groups sharing a name", "find", FindReplace{Find: `(?P<a>x)(?P<a>y)`, Replace: "${a}", Regex: true}},
	}
	for _, tt := range tests {
		_, err := newReplacer(tt.fr)
		var fields []string
		for _, fe := range apperr.FieldsOf(err) {
			fields = append(fields, fe.Field)
		}
		if err == nil || len(fields) != 1 || fields[0] != tt.field {
			t.Errorf("%s: %v, want a refusal on %s", tt.name, err, tt.field)
		}
	}
	if _, err := newReplacer(FindReplace{Find: "a", Replace: strings.Repeat("x", maxReplaceBytes)}); err != nil {
		t.Errorf("a replacement of maxReplaceBytes: %v", err)
	}
}
