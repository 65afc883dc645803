// Package values is Scratchpad's one vocabulary of column types and the one
// set of functions that read values into their canonical stored form. The
// record store, the filter language, the CSV reader and every connector use
// it, so a value means the same wherever it comes from.
//
// Canonical Go forms, which the record store stores as JSON:
//
//   - text, select, date ("YYYY-MM-DD") and datetime (RFC 3339 in UTC with
//     whole seconds and a Z): string;
//   - number: json.Number (never rounded);
//   - boolean: bool;
//   - multi_select: []string of distinct options;
//   - json: json.RawMessage;
//   - no value: nil.
//
// Parse reads text a person typed or a CSV cell held; Normalize reads values
// from the JSON API, connectors and Go code; Format writes a value as the
// text Parse reads back; Same compares two values as stored. Errors are
// *Error, phrased for a form and for an import's problems.
package values

// Type is the type of a column's values.
type Type string

// The column types.
const (
	Text        Type = "text"
	Number      Type = "number"
	Boolean     Type = "boolean"
	Date        Type = "date"
	Datetime    Type = "datetime"
	Select      Type = "select"
	MultiSelect Type = "multi_select"
	JSON        Type = "json"
)

// Types lists every column type, in the order pickers show them.
func Types() []Type {
	return []Type{Text, Number, Boolean, Date, Datetime, Select, MultiSelect, JSON}
}

// Valid reports whether t is a known column type.
func (t Type) Valid() bool {
	switch t {
	case Text, Number, Boolean, Date, Datetime, Select, MultiSelect, JSON:
		return true
	}
	return false
}

// The text formats. A url or email value is validated; the others tell the
// UI how to show the text (markdown and html are the rich text of CMSs).
const (
	FormatPlain    = "plain"
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
	FormatURL      = "url"
	FormatEmail    = "email"
	FormatPhone    = "phone"
)

// DatetimeLayout is the canonical form of a datetime: UTC, whole seconds.
const DatetimeLayout = "2006-01-02T15:04:05Z"
