package filter

import (
	"regexp"
	"strings"
	"time"

	"github.com/scratchpad/scratchpad/internal/values"
)

// numberPattern is what a string literal must look like to be compared with
// a number column; PostgreSQL's numeric input accepts all of it.
var numberPattern = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?([0-9]+))?$`)

// parseNumberString returns s, trimmed, if it is a number PostgreSQL's
// numeric accepts, with an exponent small enough never to overflow.
func parseNumberString(s string) (string, bool) {
	s = strings.TrimSpace(s)
	m := numberPattern.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	if exp := strings.TrimLeft(m[4], "0"); len(exp) > 4 || exp != "" && mustAtoi(exp) > maxExponent {
		return "", false
	}
	return s, true
}

// normalizeDate returns s in the canonical date form YYYY-MM-DD.
func normalizeDate(s string) (string, bool) {
	t, ok := values.ParseDate(s)
	if !ok {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// normalizeDatetime returns s, read as values.ParseDatetime reads it (forms
// without an offset are UTC: a filter has no time zone of its own), in the
// canonical datetime form. Stored datetimes have whole seconds, so a
// literal with a fraction of a second is refused rather than rounded one
// way or the other.
func normalizeDatetime(s string) (string, bool) {
	t, ok := values.ParseDatetime(s)
	if !ok || t.Nanosecond() != 0 {
		return "", false
	}
	return t.Format(values.DatetimeLayout), true
}

// escapeLike makes s match itself literally inside a LIKE pattern, whose
// escape character is PostgreSQL's default backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// validLikePattern reports whether PostgreSQL accepts p as a LIKE pattern:
// the only invalid pattern is one ending in an unescaped backslash.
func validLikePattern(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' {
			if i+1 == len(p) {
				return false
			}
			i++
		}
	}
	return true
}
