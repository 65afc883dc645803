package values_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/values"
)

var (
	text     = values.Spec{Type: values.Text, Format: values.FormatPlain}
	longText = values.Spec{Type: values.Text, Format: values.FormatMarkdown}
	link     = values.Spec{Type: values.Text, Format: values.FormatURL}
	email    = values.Spec{Type: values.Text, Format: values.FormatEmail}
	number   = values.Spec{Type: values.Number}
	boolean  = values.Spec{Type: values.Boolean}
	date     = values.Spec{Type: values.Date}
	datetime = values.Spec{Type: values.Datetime}
	sel      = values.Spec{Type: values.Select, Options: []string{"Draft", "Published"}}
	freeSel  = values.Spec{Type: values.Select}
	multi    = values.Spec{Type: values.MultiSelect, Options: []string{"a", "b", "c"}}
	jsonCol  = values.Spec{Type: values.JSON}
)

func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// TestParse covers every type with what people type and CSV cells hold,
// hostile text included.
func TestParse(t *testing.T) {
	t.Parallel()
	const (
		notNumber = "must be a number such as 12 or 12.5"
		notUTF8   = "must be valid UTF-8 text"
		noNUL     = "must not contain NUL characters"
	)
	tests := []struct {
		name    string
		spec    values.Spec
		text    string
		want    any
		wantErr string
	}{
		{"text", text, "hello", "hello", ""},
		{"text keeps spaces", text, "  hi ", "  hi ", ""},
		{"text empty", text, "", nil, ""},
		{"text invalid utf-8", text, "a\xffb", nil, notUTF8},
		{"text NUL", text, "a\x00b", nil, noNUL},
		{"long text keeps lines", longText, "# Title\r\n\n- item\n", "# Title\r\n\n- item\n", ""},
		{"url trimmed", link, " https://example.com/x?y=1 ", "https://example.com/x?y=1", ""},
		{"url upper-case scheme", link, "HTTPS://example.com", "HTTPS://example.com", ""},
		{"url without scheme", link, "example.com", nil, "must be a web address starting with http:// or https://"},
		{"url javascript", link, "javascript:alert(1)", nil, "must be a web address starting with http:// or https://"},
		{"url with a space", link, "https://exa mple.com", nil, "must be a web address starting with http:// or https://"},
		{"url without host", link, "https://", nil, "must be a web address starting with http:// or https://"},
		{"email", email, "ada@example.com", "ada@example.com", ""},
		{"email with a name", email, "Ada <ada@example.com>", nil, "must be an email address such as name@example.com"},
		{"email without a dot", email, "ada@localhost", nil, "must be an email address such as name@example.com"},
		{"number", number, "12", json.Number("12"), ""},
		{"number spaces trimmed", number, " -12.50 ", json.Number("-12.50"), ""},
		{"number plus and zeros", number, "+007", json.Number("7"), ""},
		{"number bare point", number, ".5", json.Number("0.5"), ""},
		{"number trailing point", number, "5.", json.Number("5"), ""},
		{"number minus zero", number, "-0.0", json.Number("0.0"), ""},
		{"number long exact", number, "12345678901234567890.123456789", json.Number("12345678901234567890.123456789"), ""},
		{"number only spaces", number, "  ", nil, ""},
		{"number NaN", number, "NaN", nil, notNumber},
		{"number Inf", number, "Inf", nil, notNumber},
		{"number infinity", number, "-Infinity", nil, notNumber},
		{"number exponent", number, "1e3", nil, notNumber},
		{"number grouping", number, "1,234", nil, notNumber},
		{"number comma decimal", number, "12,5", nil, notNumber},
		{"number hex", number, "0x10", nil, notNumber},
		{"number sign only", number, "-", nil, notNumber},
		{"number point only", number, ".", nil, notNumber},
		{"number huge", number, strings.Repeat("9", 101), nil, "must be a number of at most 100 characters"},
		{"number at the limit", number, strings.Repeat("9", 100), json.Number(strings.Repeat("9", 100)), ""},
		{"number invalid utf-8", number, "1\xff", nil, notNumber},
		{"boolean true", boolean, "TRUE", true, ""},
		{"boolean yes", boolean, " yes ", true, ""},
		{"boolean 1", boolean, "1", true, ""},
		{"boolean No", boolean, "No", false, ""},
		{"boolean 0", boolean, "0", false, ""},
		{"boolean maybe", boolean, "maybe", nil, "must be true or false"},
		{"date", date, "2024-05-01", "2024-05-01", ""},
		{"date impossible", date, "2024-02-30", nil, "must be a date written YYYY-MM-DD"},
		{"date other order", date, "01/05/2024", nil, "must be a date written YYYY-MM-DD"},
		{"date with time", date, "2024-05-01T10:00:00Z", nil, "must be a date written YYYY-MM-DD"},
		{"datetime utc", datetime, "2024-05-01T13:45:00Z", "2024-05-01T13:45:00Z", ""},
		{"datetime offset", datetime, "2024-05-01T15:45:00+02:00", "2024-05-01T13:45:00Z", ""},
		{"datetime fraction truncated", datetime, "2024-05-01T13:45:00.999Z", "2024-05-01T13:45:00Z", ""},
		{"datetime space and minutes", datetime, "2024-05-01 13:45", "2024-05-01T13:45:00Z", ""},
		{"datetime space and offset", datetime, "2024-05-01 13:45+01:00", "2024-05-01T12:45:00Z", ""},
		{"datetime no zone", datetime, "2024-05-01T13:45:07", "2024-05-01T13:45:07Z", ""},
		{"datetime date only", datetime, "2024-05-01", "2024-05-01T00:00:00Z", ""},
		{"datetime before year 0", datetime, "0000-01-01T00:00:00+01:00", nil, "must be a date and time such as 2024-05-01T13:45:00Z"},
		{"datetime after 9999", datetime, "9999-12-31T23:00:00-02:00", nil, "must be a date and time such as 2024-05-01T13:45:00Z"},
		{"datetime words", datetime, "yesterday", nil, "must be a date and time such as 2024-05-01T13:45:00Z"},
		{"select option", sel, " Draft ", "Draft", ""},
		{"select ignores case", sel, "published", "Published", ""},
		{"select unknown", sel, "Gone", nil, "must be one of Draft, Published"},
		{"select free", freeSel, "anything", "anything", ""},
		{"select invalid utf-8", freeSel, "\xfe", nil, notUTF8},
		{"select NUL", freeSel, "a\x00", nil, noNUL},
		{"multi", multi, "b, a,,b , A", []string{"b", "a"}, ""},
		{"multi unknown", multi, "a, z", nil, `has "z", which is not one of a, b, c`},
		{"multi free", values.Spec{Type: values.MultiSelect}, "red, blue,,red , green", []string{"red", "blue", "green"}, ""},
		{"multi only commas", multi, " , ,", nil, ""},
		{"multi invalid utf-8", values.Spec{Type: values.MultiSelect}, "a,\xff", nil, notUTF8},
		{"json object", jsonCol, ` {"a": [1, 2.50]} `, json.RawMessage(`{"a": [1, 2.50]}`), ""},
		{"json string", jsonCol, `"x"`, json.RawMessage(`"x"`), ""},
		{"json null is no value", jsonCol, "null", nil, ""},
		{"json invalid", jsonCol, "{a}", nil, "is not valid JSON"},
		{"json bare word", jsonCol, "hello", nil, "is not valid JSON"},
		{"json two values", jsonCol, "1 2", nil, "is not valid JSON"},
		{"json NaN", jsonCol, "NaN", nil, "is not valid JSON"},
		{"json 64 deep", jsonCol, nested(64), json.RawMessage(nested(64)), ""},
		{"json too deep", jsonCol, nested(65), nil, "must be nested at most 64 levels deep"},
		{"json far too deep", jsonCol, nested(100000), nil, "must be nested at most 64 levels deep"},
		{"json NUL escape", jsonCol, `{"k": "a\u0000"}`, nil, noNUL},
		{"json escaped backslash is no NUL", jsonCol, `"\\u0000"`, json.RawMessage(`"\\u0000"`), ""},
		{"json invalid utf-8", jsonCol, "\"\xff\"", nil, notUTF8},
		{"unknown type", values.Spec{Type: "colour"}, "red", nil, `has unknown type "colour"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := values.Parse(tt.spec, tt.text)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// TestNormalize covers values from the JSON API, connectors and Go code.
func TestNormalize(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 1, 15, 45, 7, 900, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name    string
		spec    values.Spec
		v       any
		want    any
		wantErr string
	}{
		{"nil", number, nil, nil, ""},
		{"text from number", text, json.Number("12"), "12", ""},
		{"text from float", text, 2.5, "2.5", ""},
		{"text from bool", text, true, "true", ""},
		{"text from object", text, map[string]any{"a": 1}, nil, "must be text"},
		{"text from raw string", text, json.RawMessage(`"hi"`), "hi", ""},
		{"text from invalid raw", text, json.RawMessage(`{`), nil, "is not valid JSON"},
		{"text invalid utf-8", text, "\xff", nil, "must be valid UTF-8 text"},
		{"number json.Number exponent kept", number, json.Number("1e3"), json.Number("1e3"), ""},
		{"number json.Number too large", number, json.Number("1e400"), nil, "is too large a number"},
		{"number json.Number tiny kept", number, json.Number("1e-400"), json.Number("1e-400"), ""},
		{"number json.Number not JSON", number, json.Number("NaN"), nil, "must be a number such as 12 or 12.5"},
		{"number json.Number long", number, json.Number(strings.Repeat("1", 101)), nil, "must be a number of at most 100 characters"},
		{"number float", number, 12.5, json.Number("12.5"), ""},
		{"number float NaN", number, math.NaN(), nil, "must be a number such as 12 or 12.5"},
		{"number float Inf", number, math.Inf(-1), nil, "must be a number such as 12 or 12.5"},
		{"number int", number, 7, json.Number("7"), ""},
		{"number int64 max", number, int64(math.MaxInt64), json.Number("9223372036854775807"), ""},
		{"number string", number, " +4.0 ", json.Number("4.0"), ""},
		{"number string exponent", number, "1e3", nil, "must be a number such as 12 or 12.5"},
		{"number bool", number, true, nil, "must be a number such as 12 or 12.5"},
		{"number raw", number, json.RawMessage(`12.50`), json.Number("12.50"), ""},
		{"boolean", boolean, false, false, ""},
		{"boolean from number", boolean, json.Number("1"), true, ""},
		{"boolean from 2", boolean, json.Number("2"), nil, "must be true or false"},
		{"boolean from list", boolean, []any{true}, nil, "must be true or false"},
		{"date from time", date, at, "2024-05-01", ""},
		{"date from number", date, 20240501, nil, "must be a date written YYYY-MM-DD"},
		{"datetime from time", datetime, at, "2024-05-01T13:45:07Z", ""},
		{"datetime from string", datetime, "2024-05-01T13:45:00.5-01:00", "2024-05-01T14:45:00Z", ""},
		{"select from number", freeSel, json.Number("3"), "3", ""},
		{"select from list", sel, []any{"Draft"}, nil, "must be text"},
		{"multi list", multi, []any{"a", "c", "a"}, []string{"a", "c"}, ""},
		{"multi strings", multi, []string{"B"}, []string{"b"}, ""},
		{"multi comma string", multi, "b, a", []string{"b", "a"}, ""},
		{"multi not strings", multi, []any{1}, nil, "must be a list of options"},
		{"multi object", multi, map[string]any{}, nil, "must be a list of options"},
		{"multi empty", multi, []any{}, nil, ""},
		{"json string stays a string", jsonCol, `{"a":1}`, json.RawMessage(`"{\"a\":1}"`), ""},
		{"json object", jsonCol, map[string]any{"a": 1}, json.RawMessage(`{"a":1}`), ""},
		{"json raw kept", jsonCol, json.RawMessage(`[1, 2]`), json.RawMessage(`[1, 2]`), ""},
		{"json raw null", jsonCol, json.RawMessage(`null`), nil, ""},
		{"json raw invalid", jsonCol, json.RawMessage(`{`), nil, "is not valid JSON"},
		{"json raw too deep", jsonCol, json.RawMessage(nested(65)), nil, "must be nested at most 64 levels deep"},
		{"json value too deep", jsonCol, deepList(65), nil, "must be nested at most 64 levels deep"},
		{"json NUL", jsonCol, map[string]any{"k": "a\x00b"}, nil, "must not contain NUL characters"},
		{"json NaN", jsonCol, math.NaN(), nil, "is not a JSON value"},
		{"json channel", jsonCol, make(chan int), nil, "is not a JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := values.Normalize(tt.spec, tt.v)
			check(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func deepList(n int) any {
	var v any = []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

func check(t *testing.T, got any, err error, want any, wantErr string) {
	t.Helper()
	if wantErr != "" {
		var ve *values.Error
		if !errors.As(err, &ve) || ve.Problem != wantErr || ve.Short == "" {
			t.Fatalf("got %#v, %v; want error %q", got, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("error: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// TestParsedValuesRoundTrip checks that every value Parse returns reads
// back the same through Normalize (as the record store stores it) and
// through Parse of its Format (as an editor shows it).
func TestParsedValuesRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		spec values.Spec
		text string
	}{
		{text, " a, b "}, {link, "https://example.com"}, {email, "ada@example.com"},
		{number, "+007.50"}, {number, "-0"}, {boolean, "yes"}, {date, "2024-05-01"},
		{datetime, "2024-05-01 13:45+02:00"}, {sel, "draft"}, {multi, "c, a"},
		{jsonCol, `{"a": [1, "x", null, {"b": true}]}`},
	}
	for _, c := range cases {
		v, err := values.Parse(c.spec, c.text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.text, err)
		}
		again, err := values.Normalize(c.spec, v)
		if err != nil || !values.Same(c.spec, v, again) {
			t.Errorf("Normalize(Parse(%q)) = %#v, %v; want %#v", c.text, again, err, v)
		}
		shown := values.Format(c.spec, v)
		back, err := values.Parse(c.spec, shown)
		if err != nil || !values.Same(c.spec, v, back) {
			t.Errorf("Parse(Format(Parse(%q))) = %#v, %v; want %#v", c.text, back, err, v)
		}
	}
}

// TestTypes checks that the vocabulary lists each type once, valid.
func TestTypes(t *testing.T) {
	t.Parallel()
	seen := map[values.Type]bool{}
	for _, typ := range values.Types() {
		if !typ.Valid() || seen[typ] {
			t.Errorf("type %q", typ)
		}
		seen[typ] = true
		if _, err := values.Parse(values.Spec{Type: typ}, ""); err != nil {
			t.Errorf("%s: empty text: %v", typ, err)
		}
	}
	if len(seen) != 8 || values.Type("colour").Valid() {
		t.Errorf("types %v", seen)
	}
}

// FuzzParse checks, for any text and type, that Parse returns a value that
// encodes as JSON and that Normalize keeps as it is.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"12", "-0.0", "NaN", "1e309", "\xff", "a\x00", "2024-05-01 13:45+02:00",
		`{"a":[1]}`, nested(70), "a, b,,a", "https://x.y", " yes "} {
		f.Add(seed, uint8(0))
	}
	specs := []values.Spec{text, link, email, number, boolean, date, datetime, sel, freeSel, multi, jsonCol}
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		spec := specs[int(which)%len(specs)]
		v, err := values.Parse(spec, s)
		if err != nil {
			var ve *values.Error
			if !errors.As(err, &ve) {
				t.Fatalf("Parse(%q) error %T %v", s, err, err)
			}
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("Parse(%q) = %#v does not encode: %v", s, v, err)
		}
		again, err := values.Normalize(spec, v)
		if err != nil || !values.Same(spec, v, again) {
			t.Fatalf("Normalize(Parse(%q) = %#v) = %#v, %v", s, v, again, err)
		}
	})
}
