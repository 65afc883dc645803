package filter

import (
	"fmt"
)

// function compiles a call whose arguments have the right count.
type function struct {
	args    int
	compile func(c *compiler, call *Call) (typed, error)
}

// functions are the functions a filter may call. It is filled in init
// because the compile functions refer back to the compiler.
var functions map[string]function

// functionNames lists the functions in the order "did you mean" prefers.
var functionNames = []string{"lower", "upper", "trim", "length", "contains", "starts_with", "is_empty"}

func init() {
	functions = map[string]function{
		"lower":       {1, textFunction("lower")},
		"upper":       {1, textFunction("upper")},
		"trim":        {1, textFunction("btrim")},
		"length":      {1, (*compiler).length},
		"contains":    {2, (*compiler).contains},
		"starts_with": {2, (*compiler).startsWith},
		"is_empty":    {1, (*compiler).isEmpty},
	}
}

func (c *compiler) call(e *Call) (typed, error) {
	f, ok := functions[e.Name]
	if !ok {
		return typed{}, errAt(e.NameSpan, "unknown function %s%s", quoteIdent(e.Name), didYouMean(e.Name, functionNames))
	}
	if len(e.Args) != f.args {
		plural := "s"
		if f.args == 1 {
			plural = ""
		}
		return typed{}, errAt(e.Span, "%s takes %d argument%s, found %d", e.Name, f.args, plural, len(e.Args))
	}
	return f.compile(c, e)
}

func about(e *Call, k kind) string { return fmt.Sprintf("%s(…) (%s)", e.Name, k) }

// textFunction maps text to text with the SQL function sqlName.
func textFunction(sqlName string) func(*compiler, *Call) (typed, error) {
	return func(c *compiler, e *Call) (typed, error) {
		x, err := c.value(e.Args[0])
		if err != nil {
			return typed{}, err
		}
		if x.kind != kText {
			return typed{}, errCannot(e.Args[0], e.Name, x)
		}
		return typed{sql: sqlName + "(" + x.sql + ")", kind: kText, about: about(e, kText)}, nil
	}
}

// length counts the characters of text or the options of a multi_select.
func (c *compiler) length(e *Call) (typed, error) {
	x, err := c.value(e.Args[0])
	if err != nil {
		return typed{}, err
	}
	switch x.kind {
	case kText:
		return typed{sql: "char_length(" + x.sql + ")", kind: kNumber, about: about(e, kNumber)}, nil
	case kMulti:
		// Guarded so that a stray non-array value reads as NULL instead of
		// failing the query.
		s := "(CASE WHEN jsonb_typeof(" + x.sql + ") = 'array' THEN jsonb_array_length(" + x.sql + ") END)"
		return typed{sql: s, kind: kNumber, about: about(e, kNumber)}, nil
	}
	return typed{}, errCannot(e.Args[0], e.Name, x)
}

// searchText returns the second argument of contains or starts_with.
func searchText(e *Call) (string, error) {
	switch a := e.Args[1].(type) {
	case *StringLit:
		return a.Value, nil
	case *NumberLit:
		return a.Text, nil
	}
	return "", errAt(e.Args[1].Pos(), "%s: expected a string such as 'abc'", e.Name)
}

// contains is a case-insensitive substring test on text and an option test
// on a multi_select.
func (c *compiler) contains(e *Call) (typed, error) {
	x, err := c.operand(e.Args[0])
	if err != nil {
		return typed{}, err
	}
	s, err := searchText(e)
	if err != nil {
		return typed{}, err
	}
	switch x.kind {
	case kText:
		return c.ilike(x.sql, false, "%"+escapeLike(s)+"%"), nil
	case kMulti:
		return condition("(" + x.sql + " @> jsonb_build_array(" + c.param(s, "text") + "))"), nil
	}
	return typed{}, errCannot(e.Args[0], e.Name, x)
}

// startsWith is a case-insensitive prefix test on text, like contains.
func (c *compiler) startsWith(e *Call) (typed, error) {
	x, err := c.operand(e.Args[0])
	if err != nil {
		return typed{}, err
	}
	s, err := searchText(e)
	if err != nil {
		return typed{}, err
	}
	if x.kind != kText {
		return typed{}, errCannot(e.Args[0], e.Name, x)
	}
	return c.ilike(x.sql, false, escapeLike(s)+"%"), nil
}

// isEmpty is true for NULL and for the empty value of the kind: ” for
// text, an empty array for a multi_select, and also {} and "" for json.
func (c *compiler) isEmpty(e *Call) (typed, error) {
	x, err := c.operand(e.Args[0])
	if err != nil {
		return typed{}, err
	}
	switch x.kind {
	case kText:
		return condition("(" + x.sql + " IS NULL OR " + x.sql + " = '')"), nil
	case kMulti:
		return condition("(" + x.sql + " IS NULL OR " + x.sql + " IN ('null'::jsonb, '[]'::jsonb))"), nil
	case kJSON:
		return condition("(" + x.sql + " IS NULL OR " + x.sql + ` IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb, '""'::jsonb))`), nil
	}
	return condition("(" + x.sql + " IS NULL)"), nil
}
