// Package filter implements the filter language of the record store: a small
// SQL-WHERE-like language in which users filter a table's records by column
// name, such as
//
//	status = 'Published' AND price BETWEEN 10 AND 20.5
//	contains(tags, 'sale') OR NOT is_empty("Sale price")
//	updated >= '2024-05-01T13:45' AND lower(title) LIKE 'how to%'
//
// Parse turns a filter into a syntax tree (the exported Expr node types), and
// Compile turns it into a parameterized SQL condition over the JSONB fields
// object of a record, with each column read through ValueExpr and cast by its
// type. The lexer and the recursive-descent parser are our own, and bounded:
// a filter is at most MaxLength bytes and MaxDepth levels deep.
//
// # Safety
//
// No user input ever reaches SQL text. Every literal becomes a bind parameter
// ($N with a cast); the only identifiers in the SQL are column ids, which come
// from the column specs (never from the filter) and are validated against
// ^[a-z][a-z0-9_]{0,62}$. FuzzCompile checks this for arbitrary input.
//
// # Grammar
//
//	filter    = [ or ] .
//	or        = and { "OR" and } .
//	and       = not { "AND" not } .
//	not       = "NOT" not | predicate .
//	predicate = operand [ compare_op operand
//	                    | "IS" [ "NOT" ] "NULL"
//	                    | [ "NOT" ] ( "LIKE" | "ILIKE" ) operand
//	                    | [ "NOT" ] "IN" "(" operand { "," operand } ")"
//	                    | [ "NOT" ] "BETWEEN" operand "AND" operand ] .
//	operand   = string | number | "true" | "false" | "null"
//	          | column | function "(" [ operand { "," operand } ] ")"
//	          | "(" or ")" .
//	compare_op = "=" | "<>" | "!=" | "<" | "<=" | ">" | ">=" .
//	column    = identifier | quoted_identifier .
//
// So OR binds loosest, then AND, then NOT, then comparisons; a comparison
// does not chain (a = b = c is an error), and in BETWEEN the first AND
// belongs to BETWEEN. Keywords (AND OR NOT LIKE ILIKE IN IS NULL BETWEEN TRUE
// FALSE) are case-insensitive ASCII and cannot be bare column names.
//
// Tokens:
//
//	identifier        = ( letter | "_" ) { letter | digit | mark | "_" }   Unicode letters allowed
//	quoted_identifier = '"' { any rune, with "" for " } '"'
//	string            = "'" { any rune, with '' for ' } "'"
//	number            = [ "-" ] ( digits [ "." digits ] | "." digits ) [ ( "e" | "E" ) [ "+" | "-" ] digits ]
//
// A column reference matches the column whose name equals it exactly, else
// the one column whose name equals it ignoring case (several are an error:
// quote the exact name). A bare identifier followed by "(" is a function.
//
// # Types
//
// Values compare by column type; a literal is converted to the type of the
// column or function it is compared with, and a literal that does not fit is
// an error:
//
//   - text and select compare as text, against strings; a number literal is
//     compared as the text it was written as.
//   - number compares numerically (PostgreSQL numeric), against numbers or
//     strings the column would store as one (values.Parse: '12.5', ' +007 ';
//     no exponent).
//   - boolean takes true, false, 'true' or 'false', and only = and <>. A
//     boolean column (or function result) alone is a condition.
//   - date takes 'YYYY-MM-DD'; datetime takes what values.ParseDatetime
//     reads: '2024-05-01', '2024-05-01T13:45', '2024-05-01 13:45:30' (UTC),
//     or RFC 3339 with an offset, which is converted to UTC. Both compare as text of their
//     canonical form, which sorts chronologically. Datetimes have whole
//     seconds; a literal with a fraction of a second is an error.
//   - multi_select supports = (has this option), <> (lacks it), IN (has any
//     of them), NOT IN (has none of them), contains, length, IS NULL and
//     is_empty. Like <> on other types, <> and NOT IN leave out empty
//     (NULL) values; an empty array is a value and lacks every option.
//   - json supports =, <> and IN against literals (as JSON values), IS NULL
//     and is_empty.
//
// Two columns or functions can be compared when they have the same kind
// (select counts as text). A missing key and a JSON null are both NULL, and
// NULL follows SQL's rules: price > 5 and NOT (price > 5) both leave out a
// record without a price; use IS NULL or is_empty to select those. null
// itself is only allowed after IS [NOT].
//
// LIKE and ILIKE apply to text (text, select, lower, upper, trim) and take
// the user's pattern as is: % matches any run, _ one character, \ escapes.
//
// # Functions
//
//	lower(text), upper(text), trim(text)  text
//	length(text)                          number of characters
//	length(multi_select)                  number of options
//	contains(text, 'x')                   case-insensitive substring test
//	contains(multi_select, 'x')           has the option x
//	starts_with(text, 'x')                case-insensitive prefix test
//	is_empty(value)                       NULL, '', an empty array ({} and "" too for json)
//
// contains and starts_with match their text literally: %, _ and \ in it are
// escaped.
//
// # Errors
//
// Every problem with a filter is an *Error carrying the rune offset and
// length of the offending text and a message fit for users, such as
// `at 0: unknown column "titel" (did you mean "title"?)`.
package filter
