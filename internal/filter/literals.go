package filter

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/scratchpad/scratchpad/internal/values"
)

// parseNumberString reads a string literal compared with a number column
// as the column would store the text (values.Parse: a plain decimal, exactly,
// without exponent), returning its canonical text.
func parseNumberString(s string) (string, bool) {
	v, err := values.Parse(values.Spec{Type: values.Number}, s)
	n, ok := v.(json.Number)
	if err != nil || !ok {
		return "", false
	}
	return n.String(), true
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
