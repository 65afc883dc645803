package filter

import (
	"strings"
)

// Span is a half-open range of rune offsets in the filter source.
type Span struct {
	// Start is the 0-based rune offset of the node's first rune.
	Start int
	// End is the rune offset just past the node's last rune.
	End int
}

// Expr is a node of a parsed filter. The concrete types are the exported
// structs of this file; a type switch over them walks the tree.
type Expr interface {
	// Pos returns where the node sits in the source, for error carets.
	Pos() Span
	// String renders the node as fully parenthesized filter source that
	// parses back to an equal tree.
	String() string
	exprNode()
}

// Logical is AND or OR over two or more terms; a chain such as a AND b AND c
// is one node, so the tree stays shallow however long the chain.
type Logical struct {
	// Op is "AND" or "OR".
	Op    string
	Terms []Expr
	Span  Span
}

// Not negates a condition.
type Not struct {
	X    Expr
	Span Span
}

// Compare is a binary comparison. Op is one of = <> < <= > >= ("!=" is
// normalized to "<>").
type Compare struct {
	Op          string
	Left, Right Expr
	Span        Span
}

// Like is [NOT] LIKE or [NOT] ILIKE with the user's pattern, where % matches
// any run of characters, _ any one character and \ escapes the next one.
type Like struct {
	Not bool
	// Insensitive is true for ILIKE.
	Insensitive bool
	X, Pattern  Expr
	Span        Span
}

// In is X [NOT] IN (List...).
type In struct {
	Not  bool
	X    Expr
	List []Expr
	Span Span
}

// Between is X [NOT] BETWEEN Low AND High, bounds included.
type Between struct {
	Not          bool
	X, Low, High Expr
	Span         Span
}

// IsNull is X IS [NOT] NULL. A missing value and a JSON null are both NULL.
type IsNull struct {
	Not  bool
	X    Expr
	Span Span
}

// Call is a function call such as lower(title). Name is lower-cased.
type Call struct {
	Name string
	Args []Expr
	// NameSpan locates the function name, for "unknown function" errors.
	NameSpan Span
	Span     Span
}

// ColumnRef names a column by its name as the user wrote it (bare or
// double-quoted); Compile resolves it against the column specs.
type ColumnRef struct {
	Name   string
	Quoted bool
	Span   Span
}

// StringLit is a single-quoted string literal, already unescaped.
type StringLit struct {
	Value string
	Span  Span
}

// NumberLit is a numeric literal kept as written, so no precision is lost
// before PostgreSQL parses it as numeric.
type NumberLit struct {
	Text string
	Span Span
}

// BoolLit is true or false.
type BoolLit struct {
	Value bool
	Span  Span
}

// NullLit is the null literal, which is only meaningful in IS [NOT] NULL;
// Compile rejects it anywhere else with a hint to use IS NULL.
type NullLit struct {
	Span Span
}

func (*Logical) exprNode()   {}
func (*Not) exprNode()       {}
func (*Compare) exprNode()   {}
func (*Like) exprNode()      {}
func (*In) exprNode()        {}
func (*Between) exprNode()   {}
func (*IsNull) exprNode()    {}
func (*Call) exprNode()      {}
func (*ColumnRef) exprNode() {}
func (*StringLit) exprNode() {}
func (*NumberLit) exprNode() {}
func (*BoolLit) exprNode()   {}
func (*NullLit) exprNode()   {}

// Pos returns the node's source range.
func (e *Logical) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *Not) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *Compare) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *Like) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *In) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *Between) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *IsNull) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *Call) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *ColumnRef) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *StringLit) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *NumberLit) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *BoolLit) Pos() Span { return e.Span }

// Pos returns the node's source range.
func (e *NullLit) Pos() Span { return e.Span }

func not(b bool) string {
	if b {
		return "NOT "
	}
	return ""
}

// String renders the node as filter source.
func (e *Logical) String() string {
	parts := make([]string, len(e.Terms))
	for i, t := range e.Terms {
		parts[i] = t.String()
	}
	return "(" + strings.Join(parts, " "+e.Op+" ") + ")"
}

// String renders the node as filter source.
func (e *Not) String() string { return "(NOT " + e.X.String() + ")" }

// String renders the node as filter source.
func (e *Compare) String() string {
	return "(" + e.Left.String() + " " + e.Op + " " + e.Right.String() + ")"
}

// String renders the node as filter source.
func (e *Like) String() string {
	op := "LIKE"
	if e.Insensitive {
		op = "ILIKE"
	}
	return "(" + e.X.String() + " " + not(e.Not) + op + " " + e.Pattern.String() + ")"
}

// String renders the node as filter source.
func (e *In) String() string {
	parts := make([]string, len(e.List))
	for i, t := range e.List {
		parts[i] = t.String()
	}
	return "(" + e.X.String() + " " + not(e.Not) + "IN (" + strings.Join(parts, ", ") + "))"
}

// String renders the node as filter source.
func (e *Between) String() string {
	return "(" + e.X.String() + " " + not(e.Not) + "BETWEEN " + e.Low.String() + " AND " + e.High.String() + ")"
}

// String renders the node as filter source.
func (e *IsNull) String() string { return "(" + e.X.String() + " IS " + not(e.Not) + "NULL)" }

// String renders the node as filter source.
func (e *Call) String() string {
	parts := make([]string, len(e.Args))
	for i, t := range e.Args {
		parts[i] = t.String()
	}
	return e.Name + "(" + strings.Join(parts, ", ") + ")"
}

// String renders the node as filter source: always double-quoted, so that a
// name that is also a keyword stays a column.
func (e *ColumnRef) String() string { return quoteIdent(e.Name) }

// String renders the node as filter source.
func (e *StringLit) String() string { return quoteString(e.Value) }

// String renders the node as filter source.
func (e *NumberLit) String() string { return e.Text }

// String renders the node as filter source.
func (e *BoolLit) String() string {
	if e.Value {
		return "true"
	}
	return "false"
}

// String renders the node as filter source.
func (e *NullLit) String() string { return "null" }
