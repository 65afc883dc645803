package filter

import (
	"strconv"
	"strings"
)

// Compiled is a filter turned into a parameterized SQL condition.
type Compiled struct {
	// SQL is a boolean SQL expression, safe to splice into a WHERE clause
	// next to other conditions: it is either atomic or fully parenthesized.
	// It holds no user input: only fixed SQL, the trusted fields expression,
	// validated column ids and $N placeholders.
	SQL string
	// Args are the values of the placeholders, in order: strings, bools
	// and, for numbers, strings that PostgreSQL parses as numeric.
	Args []any
}

// Compile parses src and compiles it against the columns of one table into a
// condition over the JSONB fields object fieldsExpr, trusted SQL from our
// code such as "r.fields". Placeholders are numbered from argOffset+1, so the
// condition can follow argOffset parameters of the surrounding query.
//
// An empty or whitespace-only src compiles to the condition TRUE with no
// arguments. Errors in src are *Error; an invalid column spec (an id not
// matching ^[a-z][a-z0-9_]{0,62}$ or an unknown type) is a plain error, since
// it is a bug in the caller.
func Compile(src string, cols []Column, fieldsExpr string, argOffset int) (Compiled, error) {
	for _, c := range cols {
		if err := c.Validate(); err != nil {
			return Compiled{}, err
		}
	}
	e, err := Parse(src)
	if err != nil {
		return Compiled{}, err
	}
	if e == nil {
		return Compiled{SQL: "TRUE"}, nil
	}
	c := &compiler{cols: cols, fields: fieldsExpr, offset: argOffset}
	sql, err := c.cond(e)
	if err != nil {
		return Compiled{}, err
	}
	return Compiled{SQL: sql, Args: c.args}, nil
}

type compiler struct {
	cols   []Column
	fields string
	offset int
	args   []any
}

// typed is a compiled value: SQL text and how it compares. about describes
// it in error messages, such as `column "price" (number)`.
type typed struct {
	sql   string
	kind  kind
	about string
}

// param binds v and returns its placeholder with a cast, so PostgreSQL
// never has to guess a parameter's type.
func (c *compiler) param(v any, cast string) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(c.offset+len(c.args)) + "::" + cast
}

func isLiteral(e Expr) bool {
	switch e.(type) {
	case *StringLit, *NumberLit, *BoolLit, *NullLit:
		return true
	}
	return false
}

// cond compiles e where a condition is required. Every SQL text it returns
// is atomic (a parenthesized expression, a function call or a cast
// placeholder).
func (c *compiler) cond(e Expr) (string, error) {
	t, err := c.value(e)
	if err != nil {
		return "", err
	}
	if t.kind != kBool {
		return "", errAt(e.Pos(), "expected a condition, found %s", t.about)
	}
	return t.sql, nil
}

func condition(sql string) typed { return typed{sql: sql, kind: kBool, about: "a condition"} }

// value compiles any node.
func (c *compiler) value(e Expr) (typed, error) {
	switch e := e.(type) {
	case *Logical:
		parts := make([]string, len(e.Terms))
		for i, term := range e.Terms {
			s, err := c.cond(term)
			if err != nil {
				return typed{}, err
			}
			parts[i] = s
		}
		return condition("(" + strings.Join(parts, " "+e.Op+" ") + ")"), nil
	case *Not:
		s, err := c.cond(e.X)
		if err != nil {
			return typed{}, err
		}
		return condition("(NOT " + s + ")"), nil
	case *Compare:
		return c.compare(e)
	case *Like:
		return c.like(e)
	case *In:
		return c.in(e)
	case *Between:
		return c.between(e)
	case *IsNull:
		return c.isNull(e)
	case *Call:
		return c.call(e)
	case *ColumnRef:
		col, err := c.resolve(e)
		if err != nil {
			return typed{}, err
		}
		k, _ := kindOf(col.Type)
		return typed{sql: ValueExpr(c.fields, col), kind: k, about: "column " + quoteIdent(col.Name) + " (" + string(col.Type) + ")"}, nil
	case *StringLit:
		return typed{sql: c.param(e.Value, "text"), kind: kText, about: "string " + e.String()}, nil
	case *NumberLit:
		return typed{sql: c.param(e.Text, "numeric"), kind: kNumber, about: "number " + e.Text}, nil
	case *BoolLit:
		return typed{sql: c.param(e.Value, "boolean"), kind: kBool, about: e.String()}, nil
	case *NullLit:
		return typed{}, errNull(e)
	}
	panic("filter: unknown node type")
}

func errNull(e *NullLit) error {
	return errAt(e.Span, "use IS NULL or IS NOT NULL to test for an empty value")
}

// resolve finds the column a reference names: an exact match wins, else the
// one column whose name matches ignoring case.
func (c *compiler) resolve(ref *ColumnRef) (Column, error) {
	var found []Column
	for _, col := range c.cols {
		if col.Name == ref.Name {
			return col, nil
		}
		if strings.EqualFold(col.Name, ref.Name) {
			found = append(found, col)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		names := make([]string, len(c.cols))
		for i, col := range c.cols {
			names[i] = col.Name
		}
		return Column{}, errAt(ref.Span, "unknown column %s%s", quoteIdent(ref.Name), didYouMean(ref.Name, names))
	}
	return Column{}, errAt(ref.Span, "ambiguous column %s: write its exact name in double quotes", quoteIdent(ref.Name))
}

// coerce compiles the literal lit as a value to compare with target.
func (c *compiler) coerce(lit Expr, target typed) (string, error) {
	if n, ok := lit.(*NullLit); ok {
		return "", errNull(n)
	}
	mismatch := func(expected string) error {
		return errAt(lit.Pos(), "%s: expected %s, found %s", target.about, expected, lit.String())
	}
	str, isStr := lit.(*StringLit)
	num, isNum := lit.(*NumberLit)
	boolean, isBool := lit.(*BoolLit)
	switch target.kind {
	case kText, kMulti:
		switch {
		case isStr:
			return c.param(str.Value, "text"), nil
		case isNum:
			return c.param(num.Text, "text"), nil
		}
		return "", mismatch("a string")
	case kNumber:
		switch {
		case isNum:
			return c.param(num.Text, "numeric"), nil
		case isStr:
			if s, ok := parseNumberString(str.Value); ok {
				return c.param(s, "numeric"), nil
			}
		}
		return "", mismatch("a number")
	case kBool:
		switch {
		case isBool:
			return c.param(boolean.Value, "boolean"), nil
		case isStr && (strings.EqualFold(str.Value, "true") || strings.EqualFold(str.Value, "false")):
			return c.param(strings.EqualFold(str.Value, "true"), "boolean"), nil
		}
		return "", mismatch("true or false")
	case kDate:
		if isStr {
			if s, ok := normalizeDate(str.Value); ok {
				return c.param(s, "text"), nil
			}
		}
		return "", mismatch("a date such as '2024-05-01'")
	case kDatetime:
		if isStr {
			if s, ok := normalizeDatetime(str.Value); ok {
				return c.param(s, "text"), nil
			}
		}
		return "", mismatch("a datetime such as '2024-05-01T13:45' or '2024-05-01T13:45:00+02:00'")
	case kJSON:
		switch {
		case isStr:
			return "to_jsonb(" + c.param(str.Value, "text") + ")", nil
		case isNum:
			return "to_jsonb(" + c.param(num.Text, "numeric") + ")", nil
		case isBool:
			return "to_jsonb(" + c.param(boolean.Value, "boolean") + ")", nil
		}
	}
	panic("filter: unknown kind")
}

// operand compiles the left-hand side of LIKE, IN, BETWEEN and IS NULL,
// which must be a column or function, not a literal.
func (c *compiler) operand(e Expr) (typed, error) {
	if isLiteral(e) {
		if n, ok := e.(*NullLit); ok {
			return typed{}, errNull(n)
		}
		return typed{}, errAt(e.Pos(), "expected a column or function, found %s", e.String())
	}
	return c.value(e)
}

func errCannot(at Expr, what string, t typed) error {
	return errAt(at.Pos(), "cannot use %s with %s", what, t.about)
}

var flipped = map[string]string{"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// orderable reports whether <, <=, > and >= apply to values of kind k.
func orderable(k kind) bool { return k != kBool && k != kMulti && k != kJSON }

func (c *compiler) compare(e *Compare) (typed, error) {
	left, right, op := e.Left, e.Right, e.Op
	for _, side := range []Expr{left, right} {
		if n, ok := side.(*NullLit); ok {
			return typed{}, errNull(n)
		}
	}
	if isLiteral(left) {
		if isLiteral(right) {
			return typed{}, errAt(e.Span, "a comparison needs a column or function on one side")
		}
		left, right, op = right, left, flipped[op]
	}
	x, err := c.value(left)
	if err != nil {
		return typed{}, err
	}
	if op != "=" && op != "<>" && !orderable(x.kind) {
		return typed{}, errCannot(e, op, x)
	}
	if isLiteral(right) {
		y, err := c.coerce(right, x)
		if err != nil {
			return typed{}, err
		}
		if x.kind == kMulti {
			// On a multi_select, = means "has this option" and <> "lacks it".
			s := "(" + x.sql + " @> jsonb_build_array(" + y + "))"
			if op == "<>" {
				s = lacks(x.sql, s)
			}
			return condition(s), nil
		}
		if x.kind == kJSON && op == "<>" {
			return condition(notNullJSON(x.sql, x.sql+" <> "+y)), nil
		}
		return condition("(" + x.sql + " " + op + " " + y + ")"), nil
	}
	y, err := c.value(right)
	if err != nil {
		return typed{}, err
	}
	if x.kind != y.kind || x.kind == kMulti || x.kind == kJSON {
		return typed{}, errAt(e.Span, "cannot compare %s with %s", x.about, y.about)
	}
	return condition("(" + x.sql + " " + op + " " + y.sql + ")"), nil
}

// lacks negates the multi_select test has, leaving out empty values as
// SQL's <> leaves out NULL: -> keeps a JSON null as the jsonb value null,
// which would otherwise "lack" every option.
func lacks(value, has string) string { return notNullJSON(value, "NOT "+has) }

// notNullJSON guards a negative test on a jsonb value so that a JSON null,
// which is NULL to the user, is left out like SQL leaves out NULL.
func notNullJSON(value, test string) string {
	return "(" + test + " AND " + value + " <> 'null'::jsonb)"
}

func (c *compiler) like(e *Like) (typed, error) {
	op := "LIKE"
	if e.Insensitive {
		op = "ILIKE"
	}
	x, err := c.operand(e.X)
	if err != nil {
		return typed{}, err
	}
	if x.kind != kText {
		return typed{}, errCannot(e.X, op, x)
	}
	pat, ok := e.Pattern.(*StringLit)
	if !ok {
		return typed{}, errAt(e.Pattern.Pos(), "expected a pattern string such as 'abc%%'")
	}
	if !validLikePattern(pat.Value) {
		return typed{}, errAt(pat.Span, `a pattern must not end with a lone \`)
	}
	if e.Insensitive {
		return c.ilike(x.sql, e.Not, pat.Value), nil
	}
	return condition("(" + x.sql + " " + not(e.Not) + op + " " + c.param(pat.Value, "text") + ")"), nil
}

// ilike is x [NOT] ILIKE pattern (ILIKE, contains, starts_with), written as
// what PostgreSQL runs for ILIKE in a UTF-8 database: both sides lowered,
// then LIKE. The pattern is then lowered once per query rather than once per
// row, the match runs without case folding, and the on-demand trigram index
// on lower(value) serves it (internal/recordindex). A page sorted
// by another column and filtered this way spends about half as long on each
// record it looks at (psql, 1M records: 2.7-3.3 ms -> 1.7-2.2 ms a page).
func (c *compiler) ilike(x string, negated bool, pattern string) typed {
	return condition("(lower(" + x + ") " + not(negated) + "LIKE lower(" + c.param(pattern, "text") + "))")
}

func (c *compiler) in(e *In) (typed, error) {
	x, err := c.operand(e.X)
	if err != nil {
		return typed{}, err
	}
	items := make([]string, len(e.List))
	for i, item := range e.List {
		if !isLiteral(item) {
			return typed{}, errAt(item.Pos(), "expected a value such as 'a' or 1")
		}
		if items[i], err = c.coerce(item, x); err != nil {
			return typed{}, err
		}
	}
	if x.kind == kMulti {
		// On a multi_select, IN means "has any of these options".
		for i, item := range items {
			items[i] = x.sql + " @> jsonb_build_array(" + item + ")"
		}
		s := "(" + strings.Join(items, " OR ") + ")"
		if e.Not {
			s = lacks(x.sql, s)
		}
		return condition(s), nil
	}
	s := x.sql + " " + not(e.Not) + "IN (" + strings.Join(items, ", ") + ")"
	if x.kind == kJSON && e.Not {
		return condition(notNullJSON(x.sql, s)), nil
	}
	return condition("(" + s + ")"), nil
}

func (c *compiler) between(e *Between) (typed, error) {
	x, err := c.operand(e.X)
	if err != nil {
		return typed{}, err
	}
	if !orderable(x.kind) {
		return typed{}, errCannot(e, "BETWEEN", x)
	}
	bound := func(b Expr) (string, error) {
		if isLiteral(b) {
			return c.coerce(b, x)
		}
		y, err := c.value(b)
		if err != nil {
			return "", err
		}
		if y.kind != x.kind {
			return "", errAt(b.Pos(), "cannot compare %s with %s", x.about, y.about)
		}
		return y.sql, nil
	}
	lo, err := bound(e.Low)
	if err != nil {
		return typed{}, err
	}
	hi, err := bound(e.High)
	if err != nil {
		return typed{}, err
	}
	return condition("(" + x.sql + " " + not(e.Not) + "BETWEEN " + lo + " AND " + hi + ")"), nil
}

func (c *compiler) isNull(e *IsNull) (typed, error) {
	x, err := c.operand(e.X)
	if err != nil {
		return typed{}, err
	}
	if x.kind == kMulti || x.kind == kJSON {
		// -> keeps a JSON null as the jsonb value null, which is empty too.
		if e.Not {
			return condition("(" + x.sql + " IS NOT NULL AND " + x.sql + " <> 'null'::jsonb)"), nil
		}
		return condition("(" + x.sql + " IS NULL OR " + x.sql + " = 'null'::jsonb)"), nil
	}
	return condition("(" + x.sql + " IS " + not(e.Not) + "NULL)"), nil
}
