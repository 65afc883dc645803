package values

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Spec is what reading a column's values needs to know of the column.
type Spec struct {
	Type Type
	// Format is the text format, for text columns (FormatURL...).
	Format string
	// Options are a select's or multi select's options; with none, any
	// text is an option.
	Options []string
}

// Error is why a value cannot be a column's. Its two phrasings name the
// same problem for two places: Problem follows the column's name in a
// form ("Price must be a number such as 12 or 12.5"), Short precedes an
// excerpt of the text in an import's problems (`not a number: "12a"`).
type Error struct {
	Problem string
	Short   string
}

// Error returns the Problem.
func (e *Error) Error() string { return e.Problem }

func fail(problem, short string) (any, error) {
	return nil, &Error{Problem: problem, Short: short}
}

// The errors whose two phrasings differ; the others use Problem for both.
var (
	errNotText     = &Error{"must be text", "not text"}
	errNotUTF8     = &Error{"must be valid UTF-8 text", "not valid UTF-8 text"}
	errNUL         = &Error{"must not contain NUL characters", "contains a NUL character"}
	errNotURL      = &Error{"must be a web address starting with http:// or https://", "not a web address (http:// or https://)"}
	errNotEmail    = &Error{"must be an email address such as name@example.com", "not an email address"}
	errNotNumber   = &Error{"must be a number such as 12 or 12.5", "not a number"}
	errLongNumber  = &Error{fmt.Sprintf("must be a number of at most %d characters", MaxNumberLen), "not a number"}
	errHugeNumber  = &Error{"is too large a number", "not a number"}
	errNotBool     = &Error{"must be true or false", "not true or false"}
	errNotDate     = &Error{"must be a date written YYYY-MM-DD", "not a date (YYYY-MM-DD)"}
	errNotDatetime = &Error{"must be a date and time such as 2024-05-01T13:45:00Z", "not a date and time (such as 2024-05-01T13:45:00Z)"}
	errNotList     = &Error{"must be a list of options", "not a list of options"}
	errNotJSON     = &Error{"is not valid JSON", "not valid JSON"}
	errTooDeep     = &Error{fmt.Sprintf("must be nested at most %d levels deep", MaxJSONDepth), fmt.Sprintf("nested more than %d levels deep", MaxJSONDepth)}
)

// MaxNumberLen bounds the length of a number, in characters, so that no one
// stores numbers no column could sort or sum sensibly.
const MaxNumberLen = 100

// MaxJSONDepth bounds how deeply a json value nests. Real data nests a few
// levels; thousands of levels (which encoding/json and PostgreSQL both
// accept) only make every reader of the value, down to the browser's,
// recurse that deep.
const MaxJSONDepth = 64

// Parse reads text a person typed or a CSV cell held as a value of the
// column s describes, returning its canonical form (see the package
// comment), or nil for no value. Empty text is no value; so is, for types
// other than text, text of only spaces. By type:
//
//   - text: kept as is, except that url and email values are trimmed and
//     checked; text must be valid UTF-8 without NUL characters.
//   - number: an optional sign, digits and an optional decimal point, at
//     most MaxNumberLen characters, written back exactly ("+007" is 7,
//     ".5" is 0.5, "12.50" stays 12.50); no exponents, no grouping.
//   - boolean: true, false, yes, no, 1 or 0, in any case.
//   - date: YYYY-MM-DD.
//   - datetime: see ParseDatetime; stored in UTC with whole seconds.
//   - select: one of the options, ignoring case, when there are any.
//   - multi_select: options separated by commas; empty and repeated ones
//     are dropped.
//   - json: the text as a JSON value; JSON null is no value.
//
// Errors are *Error.
func Parse(s Spec, text string) (any, error) {
	if text == "" {
		return nil, nil
	}
	if s.Type == Text {
		return parseText(s, text)
	}
	v := strings.TrimSpace(text)
	if v == "" {
		return nil, nil
	}
	switch s.Type {
	case Number:
		return parseNumber(v)
	case Boolean:
		switch strings.ToLower(v) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
		return nil, errNotBool
	case Date:
		t, ok := ParseDate(v)
		if !ok {
			return nil, errNotDate
		}
		return t.Format(time.DateOnly), nil
	case Datetime:
		t, ok := ParseDatetime(v)
		if !ok {
			return nil, errNotDatetime
		}
		return t.Truncate(time.Second).Format(DatetimeLayout), nil
	case Select:
		return parseSelect(s, v)
	case MultiSelect:
		return parseMultiSelect(s, strings.Split(v, ","))
	case JSON:
		return parseJSON([]byte(v))
	}
	return unknownType(s.Type)
}

func unknownType(t Type) (any, error) {
	return fail(fmt.Sprintf("has unknown type %q", t), "unknown column type "+strconv.Quote(string(t)))
}

// Normalize reads v, a value from the JSON API, a connector or Go code, as
// a value of the column s describes, returning its canonical form or nil
// for no value. Text is read as Parse reads it, except by json columns,
// which store a string as a JSON string. Besides text it takes:
//
//   - json.RawMessage, decoded first (a json column keeps it as is);
//   - numbers (json.Number, float64, int...): as text by text and select
//     columns, as themselves by number columns (NaN and infinities are
//     refused), 1 and 0 by boolean ones;
//   - bool: by boolean columns, and as text by text and select columns;
//   - time.Time: by date and datetime columns;
//   - a list ([]any or []string of strings): by multi_select columns;
//   - any value encoding/json encodes: by json columns.
//
// Errors are *Error.
func Normalize(s Spec, v any) (any, error) {
	if rm, ok := v.(json.RawMessage); ok {
		if s.Type == JSON {
			return checkJSON(rm)
		}
		d := json.NewDecoder(bytes.NewReader(rm))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil || d.More() {
			return nil, errNotJSON
		}
		v = x
	}
	if v == nil {
		return nil, nil
	}
	switch s.Type {
	case Text, Select:
		text, ok := scalarText(v)
		if !ok {
			return nil, errNotText
		}
		return Parse(s, text)
	case Number:
		return normalizeNumber(v)
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		text, ok := scalarText(v)
		if !ok {
			return nil, errNotBool
		}
		return Parse(s, text)
	case Date, Datetime:
		switch x := v.(type) {
		case time.Time:
			if s.Type == Date {
				return x.Format(time.DateOnly), nil
			}
			x = x.UTC().Truncate(time.Second)
			if x.Year() < 0 || x.Year() > 9999 {
				return nil, errNotDatetime
			}
			return x.Format(DatetimeLayout), nil
		case string:
			return Parse(s, x)
		}
		if s.Type == Date {
			return nil, errNotDate
		}
		return nil, errNotDatetime
	case MultiSelect:
		switch x := v.(type) {
		case string:
			return Parse(s, x)
		case []string:
			return parseMultiSelect(s, x)
		case []any:
			items := make([]string, len(x))
			for i, e := range x {
				str, ok := e.(string)
				if !ok {
					return nil, errNotList
				}
				items[i] = str
			}
			return parseMultiSelect(s, items)
		}
		return nil, errNotList
	case JSON:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &Error{"is not a JSON value", "not a JSON value"}
		}
		return checkJSON(b)
	}
	return unknownType(s.Type)
}

// scalarText returns v as text when it is a string, number or boolean.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	}
	return "", false
}

func parseText(s Spec, text string) (any, error) {
	if !utf8.ValidString(text) {
		return nil, errNotUTF8
	}
	if strings.ContainsRune(text, 0) {
		return nil, errNUL
	}
	switch s.Format {
	case FormatURL:
		text = strings.TrimSpace(text)
		if !isURL(text) {
			return nil, errNotURL
		}
	case FormatEmail:
		text = strings.TrimSpace(text)
		if !isEmail(text) {
			return nil, errNotEmail
		}
	}
	if text == "" {
		return nil, nil
	}
	return text, nil
}

// isURL accepts an absolute http or https address with a host and without
// spaces or control characters.
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

// parseNumber reads a plain decimal number and writes it back as valid
// JSON, digit for digit: no "+", no leading zeros, no bare decimal point,
// no "-0".
func parseNumber(s string) (any, error) {
	if len(s) > MaxNumberLen {
		return nil, errLongNumber
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
		return nil, errNotNumber
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
	return json.Number(b.String()), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// jsonNumber is the JSON number grammar.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$`)

func normalizeNumber(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, errNotNumber
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
	case float32:
		return normalizeNumber(float64(x))
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case string:
		return Parse(Spec{Type: Number}, x)
	case json.Number:
		// A JSON number is kept as written, exponent and all, when it is
		// one float64 can hold.
		s := x.String()
		if !jsonNumber.MatchString(s) {
			return Parse(Spec{Type: Number}, s)
		}
		if len(s) > MaxNumberLen {
			return nil, errLongNumber
		}
		if f, _ := strconv.ParseFloat(s, 64); math.IsInf(f, 0) {
			return nil, errHugeNumber
		}
		return x, nil
	}
	return nil, errNotNumber
}

// ParseDate reads a date written YYYY-MM-DD.
func ParseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	return t, err == nil
}

// datetimeLayouts are the forms of date and time ParseDatetime reads, after
// a space between date and time has been replaced by "T".
var datetimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	time.DateOnly,
}

// ParseDatetime reads a date and time: RFC 3339 (2024-05-01T13:45:00Z,
// 2024-05-01T15:45:00.5+02:00), the same without seconds or without a
// zone, with a space for the T, or a plain date (midnight). Forms without
// an offset are UTC. The time returned is in UTC, in years 0 to 9999,
// with any fraction of a second it was given.
func ParseDatetime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, layout := range datetimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			if t.Year() < 0 || t.Year() > 9999 {
				return time.Time{}, false
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// matchOption returns the option s names, ignoring case, when options are set.
func matchOption(options []string, s string) (string, bool) {
	if len(options) == 0 {
		return s, true
	}
	for _, o := range options {
		if o == s {
			return o, true
		}
	}
	for _, o := range options {
		if strings.EqualFold(o, s) {
			return o, true
		}
	}
	return "", false
}

// optionList lists options for a message, the first few only.
func optionList(options []string) string {
	const maxShown = 10
	if len(options) > maxShown {
		return strings.Join(options[:maxShown], ", ") + ", …"
	}
	return strings.Join(options, ", ")
}

func parseSelect(s Spec, v string) (any, error) {
	if !utf8.ValidString(v) {
		return nil, errNotUTF8
	}
	if strings.ContainsRune(v, 0) {
		return nil, errNUL
	}
	o, ok := matchOption(s.Options, v)
	if !ok {
		msg := "must be one of " + optionList(s.Options)
		return fail(msg, "not one of "+optionList(s.Options))
	}
	return o, nil
}

func parseMultiSelect(s Spec, items []string) (any, error) {
	out := []string{}
	for _, item := range items {
		if !utf8.ValidString(item) {
			return nil, errNotUTF8
		}
		if strings.ContainsRune(item, 0) {
			return nil, errNUL
		}
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		o, ok := matchOption(s.Options, item)
		if !ok {
			msg := fmt.Sprintf("has %q, which is not one of %s", item, optionList(s.Options))
			return fail(msg, msg)
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// parseJSON reads text as one JSON value.
func parseJSON(b []byte) (any, error) {
	return checkJSON(b)
}

// checkJSON checks a JSON value for what the record store cannot keep,
// returning it as is, or nil for null.
func checkJSON(b json.RawMessage) (any, error) {
	// The depth first: encoding/json calls text nested over 10000 levels
	// invalid, and the reason is its depth.
	depth, nul := scanJSON(b)
	switch {
	case depth > MaxJSONDepth:
		return nil, errTooDeep
	case !json.Valid(b):
		return nil, errNotJSON
	case !utf8.Valid(b):
		return nil, errNotUTF8
	case nul:
		return nil, errNUL
	case string(bytes.TrimSpace(b)) == "null":
		return nil, nil
	}
	return b, nil
}

// scanJSON returns how deeply the valid JSON text b nests its arrays and
// objects, and whether a string in it holds a NUL character (\u0000); on
// text that is not JSON it counts brackets outside strings.
// PostgreSQL stores no NUL, in text or in jsonb.
func scanJSON(b []byte) (depth int, nul bool) {
	level := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++ // the escaped character; \u0000 is the one escape of NUL
			nul = nul || bytes.HasPrefix(b[i:], []byte("u0000"))
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			level++
			depth = max(depth, level)
		case c == ']' || c == '}':
			level--
		}
	}
	return depth, nul
}
