package filter

import (
	"strings"
	"unicode/utf8"
)

// MaxSearchLength is the longest search text Search takes, in runes; the
// grid's search box says so with its maxlength.
const MaxSearchLength = 200

// Search returns the filter that a plain search for text means over the
// named text columns: any of them contains text, case-insensitively and
// literally (contains escapes %, _ and \). It is "" when text is blank or
// there are no columns. Text longer than MaxSearchLength runes is cut.
func Search(columns []string, text string) string {
	text = strings.TrimSpace(text)
	if text == "" || len(columns) == 0 {
		return ""
	}
	if utf8.RuneCountInString(text) > MaxSearchLength {
		text = string([]rune(text)[:MaxSearchLength])
	}
	lit := quoteString(text)
	var b strings.Builder
	b.WriteByte('(')
	for i, c := range columns {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("contains(")
		b.WriteString(quoteIdent(c))
		b.WriteString(", ")
		b.WriteString(lit)
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String()
}

// And joins two filters so that a record must match both; either may be
// empty. The first is parenthesized, so its own positions move one rune
// right (see AndOffset).
func And(a, b string) string {
	switch {
	case strings.TrimSpace(a) == "":
		return b
	case strings.TrimSpace(b) == "":
		return a
	}
	return "(" + a + ") AND " + b
}

// AndOffset is how far And moves the positions of its first filter.
const AndOffset = 1
