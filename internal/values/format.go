package values

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Format is the canonical text of a stored value of the column s
// describes: what the grid shows, diffs compare, editors start with and
// exports write, so that all of them agree, and what Parse reads back as
// the same value. By the column's type:
//
//   - json: the value as compact JSON (a string is quoted, so the text reads
//     back as the same JSON value);
//   - multi_select: the options joined with ", ";
//   - boolean: true or false;
//   - number: the number as stored (12.50 stays 12.50);
//   - text, select, date, datetime: the text as stored.
//
// No value (nil, or JSON null) is "". A value the type does not expect (a
// list in a text column, say) is written as compact JSON rather than lost.
func Format(s Spec, v any) string {
	if raw, ok := v.(json.RawMessage); ok {
		v = decodeRaw(raw)
	}
	if v == nil {
		return ""
	}
	if s.Type == JSON {
		return compactJSON(v)
	}
	if s.Type == MultiSelect {
		if items, ok := listItems(v); ok {
			return strings.Join(items, ", ")
		}
	}
	if text, ok := scalarText(v); ok {
		return text
	}
	return compactJSON(v)
}

// listItems returns the items of a list value as text.
func listItems(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			if s, ok := scalarText(e); ok {
				out[i] = s
			} else {
				out[i] = compactJSON(e)
			}
		}
		return out, true
	}
	return nil, false
}

// compactJSON encodes v without escaping <, > and &, so the text is the
// value as stored, byte for byte; maps come out with their keys sorted.
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// decodeRaw decodes a JSON text as a stored value is decoded (numbers as
// json.Number); invalid JSON is no value.
func decodeRaw(raw json.RawMessage) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

// Same reports whether a and b, each a stored value of the column s
// describes or a value Normalize or Parse returned for it, mean the same:
// equal as JSON whatever the formatting, key order or Go type
// (json.RawMessage, []string, float64...),
// with numbers equal by value (12.5 = 12.50 = 1.25e1), and a multi select's
// options compared as a set. No value equals only no value.
func Same(s Spec, a, b any) bool {
	ca, cb := canonicalValue(a), canonicalValue(b)
	if s.Type == MultiSelect {
		la, okA := listItems(ca)
		lb, okB := listItems(cb)
		if okA && okB {
			return sameSet(la, lb)
		}
	}
	return sameJSON(ca, cb)
}

// canonicalValue turns any Go form of a value into the form a stored value
// decodes to: nil, string, json.Number, bool, []any or map[string]any.
func canonicalValue(v any) any {
	switch x := v.(type) {
	case nil, string, json.Number, bool:
		return v
	case json.RawMessage:
		return decodeRaw(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return decodeRaw(b)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// sameJSON compares two canonical values.
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case json.Number:
		y, ok := b.(json.Number)
		return ok && sameNumber(x.String(), y.String())
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, sameJSON)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case string, bool:
		return a == b
	}
	return false
}

// sameNumber compares two JSON numbers by value, exactly: both are reduced
// to digits and an exponent, so no precision is lost to floating point and
// no huge exponent is ever expanded.
func sameNumber(a, b string) bool {
	if a == b {
		return true
	}
	da, okA := decimalOf(a)
	db, okB := decimalOf(b)
	return okA && okB && da == db
}

// decimal is a number as sign, significant digits without leading or
// trailing zeros, and a power of ten: 12.50 is {false, "125", -1}.
type decimal struct {
	negative bool
	digits   string
	exp      int
}

// maxExponent bounds the exponents decimalOf reads, so the arithmetic on
// them cannot overflow; numbers beyond it compare by their text.
const maxExponent = 1 << 30

// decimalOf parses a JSON number; zero is {false, "", 0} whatever its sign.
func decimalOf(s string) (decimal, bool) {
	var d decimal
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		d.negative, s = true, rest
	}
	mantissa, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		e, err := strconv.Atoi(expText)
		if err != nil || e > maxExponent || e < -maxExponent {
			return decimal{}, false
		}
		d.exp = e
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := whole + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return decimal{}, false
	}
	d.exp -= len(frac)
	digits = strings.TrimLeft(digits, "0")
	trimmed := strings.TrimRight(digits, "0")
	d.exp += len(digits) - len(trimmed)
	d.digits = trimmed
	if d.digits == "" {
		return decimal{}, true
	}
	return d, true
}
