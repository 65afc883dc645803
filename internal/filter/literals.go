package filter

import (
	"regexp"
	"strings"
	"time"
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

const (
	dateLayout     = "2006-01-02"
	datetimeLayout = "2006-01-02T15:04:05Z"
)

// normalizeDate returns s in the canonical date form YYYY-MM-DD.
func normalizeDate(s string) (string, bool) {
	t, err := time.Parse(dateLayout, strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return t.Format(dateLayout), true
}

// datetimeLayouts are the accepted datetime literal forms. Forms without an
// offset are taken as UTC: a filter has no time zone of its own.
var datetimeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	dateLayout,
}

// normalizeDatetime returns s in the canonical datetime form
// 2006-01-02T15:04:05Z, converted to UTC. Stored datetimes have whole
// seconds, so a literal with a fraction of a second is refused rather than
// rounded one way or the other.
func normalizeDatetime(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range datetimeLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if t.Nanosecond() != 0 || t.Year() < 0 || t.Year() > 9999 {
			return "", false
		}
		return t.Format(datetimeLayout), true
	}
	return "", false
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
