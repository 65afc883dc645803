package csvimport

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Column types and text formats, as in the JSON API's column specs.
const (
	TypeText        = "text"
	TypeNumber      = "number"
	TypeBoolean     = "boolean"
	TypeDate        = "date"
	TypeDatetime    = "datetime"
	TypeSelect      = "select"
	TypeMultiSelect = "multi_select"
	TypeJSON        = "json"

	FormatPlain    = "plain"
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
	FormatURL      = "url"
	FormatEmail    = "email"
	FormatPhone    = "phone"
)

// maxNumberLen bounds the length of a number cell, so that a hostile file
// cannot store numbers no column could sort or sum sensibly.
const maxNumberLen = 100

// ConvertCell turns a cell into the value stored for a column of type typ
// (and, for text, format): a string for text and select, a json.Number for
// number (never rounded), a bool for boolean, "YYYY-MM-DD" for date, an RFC
// 3339 UTC timestamp ending in Z for datetime, a []string for multi_select
// and a json.RawMessage for json. An empty cell, or for types other than text
// a cell of only spaces, is nil. Text is kept as is, except that url and
// email values are trimmed and checked.
//
// Errors are short messages fit to show to the user, quoting at most an
// escaped excerpt of the cell, such as `not a number: "12a"`.
func ConvertCell(typ, format, cell string) (any, error) {
	if cell == "" {
		return nil, nil
	}
	if typ == TypeText {
		return convertText(format, cell)
	}
	v := strings.TrimSpace(cell)
	if v == "" {
		return nil, nil
	}
	switch typ {
	case TypeNumber:
		n, ok := canonicalNumber(v)
		if !ok {
			return nil, fmt.Errorf("not a number: %s", excerpt(v))
		}
		return n, nil
	case TypeBoolean:
		return convertBoolean(v)
	case TypeDate:
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return nil, fmt.Errorf("not a date (YYYY-MM-DD): %s", excerpt(v))
		}
		return t.Format(time.DateOnly), nil
	case TypeDatetime:
		t, ok := parseDatetime(v)
		if !ok {
			return nil, fmt.Errorf("not a date and time (such as 2024-05-01T13:45:00Z): %s", excerpt(v))
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	case TypeSelect:
		return v, nil
	case TypeMultiSelect:
		return splitOptions(v), nil
	case TypeJSON:
		if !json.Valid([]byte(v)) {
			return nil, fmt.Errorf("not valid JSON: %s", excerpt(v))
		}
		return json.RawMessage(v), nil
	}
	return nil, fmt.Errorf("unknown column type %s", excerpt(typ))
}

func convertText(format, cell string) (any, error) {
	switch format {
	case FormatURL:
		v := strings.TrimSpace(cell)
		if !isURL(v) {
			return nil, fmt.Errorf("not a web address (http:// or https://): %s", excerpt(v))
		}
		return v, nil
	case FormatEmail:
		v := strings.TrimSpace(cell)
		if !isEmail(v) {
			return nil, fmt.Errorf("not an email address: %s", excerpt(v))
		}
		return v, nil
	}
	return cell, nil
}

func convertBoolean(v string) (any, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return nil, fmt.Errorf("not true or false: %s", excerpt(v))
}

// canonicalNumber checks that s is a plain decimal number (an optional sign,
// digits, an optional decimal point; no exponent, no grouping) and returns it
// as valid JSON: no "+", no leading zeros, no bare decimal point, no "-0".
func canonicalNumber(s string) (json.Number, bool) {
	if len(s) > maxNumberLen {
		return "", false
	}
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if !allDigits(intPart) || !allDigits(frac) || intPart+frac == "" {
		return "", false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	var b strings.Builder
	if neg && strings.Trim(intPart+frac, "0") != "" {
		b.WriteByte('-')
	}
	b.WriteString(intPart)
	if hasPoint && frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return json.Number(b.String()), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// datetimeLayouts are the forms of date and time accepted, after a space
// between date and time has been replaced by "T". Times without a zone are
// taken as UTC.
var datetimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02T15:04Z07:00",
	time.DateOnly,
}

// parseDatetime parses RFC 3339 and "YYYY-MM-DD HH:MM[:SS]" forms, and a
// plain date as midnight UTC.
func parseDatetime(s string) (time.Time, bool) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, layout := range datetimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// splitOptions splits a multi_select cell on commas into trimmed, non-empty,
// distinct options.
func splitOptions(v string) []string {
	var opts []string
	seen := make(map[string]bool)
	for opt := range strings.SplitSeq(v, ",") {
		opt = strings.TrimSpace(opt)
		if opt == "" || seen[opt] {
			continue
		}
		seen[opt] = true
		opts = append(opts, opt)
	}
	return opts
}

func isURL(s string) bool {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return false
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Host != ""
}

// isEmail accepts a bare address such as "ada@example.com": no display name,
// a dot in the domain, nothing that needs quoting.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Name == "" && addr.Address == s
}
