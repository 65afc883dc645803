// Package textdiff computes word-level differences between two texts, for
// showing a suggestion against the current value: removed words struck
// through, added words highlighted. Numbers are compared as whole values, and
// a rewrite that changes most of a text is shown as the old and the new text
// rather than as word-by-word confetti (see Compare).
package textdiff

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Op says what a span of text is in the diff.
type Op int

// The ops.
const (
	Equal Op = iota
	Delete
	Insert
)

// Span is a run of text with one op.
type Span struct {
	Op   Op
	Text string
}

// maxCells bounds the comparison table. Past it, the differing middle is
// shown as one removal and one insertion: still correct, only coarser, and
// never slow however long the values are.
const maxCells = 4_000_000

// Words returns the spans turning before into after, splitting on word
// boundaries (runs of letters and digits, runs of spaces, single other
// characters) so the diff reads the way people edit.
func Words(before, after string) []Span {
	a, b := tokenize(before), tokenize(after)
	// Common prefix and suffix cost nothing to compare and usually cover
	// most of a long text.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []Span
	out = appendSpan(out, Equal, join(a[:pre]))
	midA, midB := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(midA)*len(midB) > maxCells {
		out = appendSpan(out, Delete, join(midA))
		out = appendSpan(out, Insert, join(midB))
	} else {
		out = append(out, lcs(midA, midB)...)
	}
	return appendSpan(out, Equal, join(a[len(a)-suf:]))
}

// lcs diffs two token lists through a longest-common-subsequence table.
func lcs(a, b []string) []Span {
	n, m := len(a), len(b)
	// table[i][j] = LCS length of a[i:] and b[j:], flattened.
	w := m + 1
	table := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				table[i*w+j] = table[(i+1)*w+j+1] + 1
			} else {
				table[i*w+j] = max(table[(i+1)*w+j], table[i*w+j+1])
			}
		}
	}
	var out []Span
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = appendSpan(out, Equal, a[i])
			i, j = i+1, j+1
		case table[(i+1)*w+j] >= table[i*w+j+1]:
			out = appendSpan(out, Delete, a[i])
			i++
		default:
			out = appendSpan(out, Insert, b[j])
			j++
		}
	}
	for ; i < n; i++ {
		out = appendSpan(out, Delete, a[i])
	}
	for ; j < m; j++ {
		out = appendSpan(out, Insert, b[j])
	}
	return out
}

// appendSpan adds text with op, merging with the previous span of the same op.
func appendSpan(out []Span, op Op, text string) []Span {
	if text == "" {
		return out
	}
	if len(out) > 0 && out[len(out)-1].Op == op {
		out[len(out)-1].Text += text
		return out
	}
	return append(out, Span{Op: op, Text: text})
}

func join(tokens []string) string {
	n := 0
	for _, t := range tokens {
		n += len(t)
	}
	buf := make([]byte, 0, n)
	for _, t := range tokens {
		buf = append(buf, t...)
	}
	return string(buf)
}

type class int

const (
	classWord class = iota
	classSpace
	classOther
)

func classify(r rune) class {
	switch {
	case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '\'':
		return classWord
	case unicode.IsSpace(r):
		return classSpace
	}
	return classOther
}

// tokenize splits s into words, runs of whitespace and single other runes.
// A separator between two digits ("9.09", "1,250") stays inside its word, so
// numbers are compared whole.
func tokenize(s string) []string {
	var tokens []string
	start := 0
	prev := class(-1)
	for i, r := range s {
		c := classify(r)
		if (r == '.' || r == ',') && prev == classWord && digitBefore(s, i) && digitAfter(s, i+1) {
			c = classWord
		}
		if i > start && (c != prev || c == classOther) {
			tokens = append(tokens, s[start:i])
			start = i
		}
		prev = c
	}
	if start < len(s) {
		tokens = append(tokens, s[start:])
	}
	return tokens
}

func digitBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsDigit(r)
}

func digitAfter(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsDigit(r)
}

// Diff is how to show one value replacing another.
type Diff struct {
	// Spans turn before into after. When the values are compared whole
	// (numbers, rewrites), they are one Delete of before then one Insert of
	// after.
	Spans []Span
	// Blocks says the change is a rewrite: show before and after as two
	// blocks, one above the other, rather than inline.
	Blocks bool
}

// Rewrite thresholds: a change to a text longer than shortText bytes is shown
// as old and new blocks when less than minKept of the longer text survives, when it breaks the text into more
// than maxRuns changed runs, or when either value is longer than blockSize.
const (
	shortText = 60
	minKept   = 0.5
	maxRuns   = 12
	blockSize = 20_000
)

// Compare decides how to show after against before. Numbers (both values
// parse as one) are shown whole, old then new. A long rewrite, where most of
// the text changed or the values are large, is shown as blocks. Anything
// else is a word diff.
func Compare(before, after string) Diff {
	whole := []Span{}
	whole = appendSpan(whole, Delete, before)
	whole = appendSpan(whole, Insert, after)
	if before == after {
		return Diff{Spans: appendSpan(nil, Equal, before)}
	}
	if isNumber(before) && isNumber(after) {
		return Diff{Spans: whole}
	}
	if len(before) > blockSize || len(after) > blockSize {
		return Diff{Spans: whole, Blocks: true}
	}
	spans := Words(before, after)
	kept, runs := 0, 0
	for i, s := range spans {
		switch {
		case s.Op == Equal:
			kept += len(strings.TrimSpace(s.Text))
		case i == 0 || spans[i-1].Op == Equal:
			runs++
		}
	}
	longer := max(len(strings.TrimSpace(before)), len(strings.TrimSpace(after)))
	// Short values (a word or two) read fine inline even when all changed.
	if before != "" && after != "" && longer > shortText &&
		(float64(kept) < minKept*float64(longer) || runs > maxRuns) {
		return Diff{Spans: whole, Blocks: true}
	}
	return Diff{Spans: spans}
}

// isNumber says s is one number, as a person or a spreadsheet writes it.
func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	t := strings.TrimLeft(s, "+-")
	if t == "" || !(t[0] == '.' || '0' <= t[0] && t[0] <= '9') {
		return false // also keeps "Inf" and "NaN" words
	}
	_, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	return err == nil
}
