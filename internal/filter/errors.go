package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a problem in a filter expression, located precisely enough for the
// UI to place a caret under it. Every error Parse returns, and every error
// Compile returns about the expression (rather than about its column specs),
// is an *Error.
type Error struct {
	// Pos is the 0-based offset, in runes, of the first rune of the problem.
	Pos int
	// Len is how many runes the problem spans; 0 means "at this point", as
	// for an unexpected end of input.
	Len int
	// Msg says what is wrong in words fit to show to the user.
	Msg string
}

// Error formats the error as "at <Pos>: <Msg>".
func (e *Error) Error() string { return fmt.Sprintf("at %d: %s", e.Pos, e.Msg) }

func errorf(pos, length int, format string, args ...any) *Error {
	return &Error{Pos: pos, Len: length, Msg: fmt.Sprintf(format, args...)}
}

func errAt(s Span, format string, args ...any) *Error {
	return errorf(s.Start, s.End-s.Start, format, args...)
}

// suggest returns the candidate closest to name by Levenshtein distance over
// lower-cased runes, if one is within two edits and the edits do not rewrite
// the whole name; the first candidate wins a tie.
func suggest(name string, candidates []string) (string, bool) {
	best, bestDist := "", 3
	lname := strings.ToLower(name)
	n := utf8.RuneCountInString(lname)
	for _, c := range candidates {
		d := levenshtein(lname, strings.ToLower(c))
		if d < bestDist && d < n {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// didYouMean is the suffix of an "unknown …" message.
func didYouMean(name string, candidates []string) string {
	if s, ok := suggest(name, candidates); ok {
		return " (did you mean " + quoteIdent(s) + "?)"
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
