package recordsql

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/scratchpad/scratchpad/internal/apperr"
)

// cursor is the decoded position after the last record of a page: the
// values of the sort's keys (the first in Value, the others in More) and
// the record's seq.
type cursor struct {
	Sort  string    `json:"s"`
	Value *string   `json:"v"`
	More  []*string `json:"m,omitempty"`
	Seq   int64     `json:"q"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) //nolint:errchkjson // a struct of strings and ints
	return base64.RawURLEncoding.EncodeToString(b)
}

// NextCursor returns the cursor of the page after the record with seq whose
// sort values (the texts a page query returns after the record's columns)
// are vals.
func NextCursor(sort Sort, vals []*string, seq int64) string {
	return encodeCursor(cursor{Sort: sort.key(), Value: vals[0], More: vals[1:], Seq: seq})
}

var errBadCursor = apperr.InvalidFields("This page link is no longer valid; start from the first page.",
	apperr.FieldError{Field: "cursor", Message: "is invalid"})

// decodeCursor reads a cursor for sort. A cursor the store could not have
// issued is invalid: one for another sort, one without a record's position
// (seq starts at 1), and one whose value the sort column's cast cannot take,
// which PostgreSQL would otherwise refuse as an internal error.
func decodeCursor(s string, sort Sort) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort.key() || c.Seq < 1 {
		return cursor{}, errBadCursor
	}
	if c.Value != nil && (sort.col == nil || !castable(*c.Value, castFor(sort.col.Type))) {
		return cursor{}, errBadCursor
	}
	if len(c.More) != len(sort.then) {
		return cursor{}, errBadCursor
	}
	for i, v := range c.More {
		if v != nil && !castable(*v, castFor(sort.then[i].col.Type)) {
			return cursor{}, errBadCursor
		}
	}
	return c, nil
}

// cursorNumber is the text PostgreSQL gives a numeric: no exponent, and far
// fewer digits than numeric allows.
var cursorNumber = regexp.MustCompile(`^-?[0-9]{1,1000}(\.[0-9]{1,1000})?$`)

// castable reports whether PostgreSQL can cast v, a sort value as text, to
// cast (one of castFor's).
func castable(v, cast string) bool {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return false
	}
	switch cast {
	case "numeric":
		return cursorNumber.MatchString(v)
	case "boolean":
		return v == "true" || v == "false"
	case "jsonb":
		return json.Valid([]byte(v)) && !strings.Contains(v, `\u0000`)
	}
	return true
}
