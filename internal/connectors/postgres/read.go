package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/values"
)

// selectList is the SELECT list that reads t: the remote id first (the
// primary key as text, a JSON array of texts for a composite one; the ctid
// for a table without one), then every column as text (text[] for arrays),
// dates and times formatted by the server.
func (t *table) selectList() string { return t.selectListOf(t.cols) }

// selectListOf is the SQL of a row's remote id and of cols' values.
func (t *table) selectListOf(cols []column) string {
	var b strings.Builder
	b.WriteString(t.idExpr())
	for _, c := range cols {
		b.WriteString(", ")
		b.WriteString(readExpr(c))
	}
	return b.String()
}

// idExpr is the SQL of a row's remote id.
func (t *table) idExpr() string {
	switch len(t.pk) {
	case 0:
		return "ctid::text"
	case 1:
		return t.cols[t.pk[0]].quoted() + "::text"
	}
	parts := make([]string, len(t.pk))
	for i, k := range t.pk {
		parts[i] = t.cols[k].quoted() + "::text"
	}
	return "json_build_array(" + strings.Join(parts, ", ") + ")::text"
}

// orderBy is the keyset order of pulls. The columns are qualified: a bare
// name in ORDER BY would mean the SELECT list's output column of that name,
// the value as text.
func (t *table) orderBy() string {
	q := t.ident.Sanitize() + "."
	if len(t.pk) == 0 {
		return q + "ctid"
	}
	parts := make([]string, len(t.pk))
	for i, k := range t.pk {
		parts[i] = q + t.cols[k].quoted()
	}
	return strings.Join(parts, ", ")
}

func readExpr(c column) string {
	q := c.quoted()
	switch {
	case c.array && c.typ == values.MultiSelect:
		return q + "::text[]"
	case c.array:
		return "to_jsonb(" + q + ")::text"
	case c.typ == values.Datetime && strings.HasPrefix(c.sqlType, "timestamp with"):
		return `to_char(` + q + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
	case c.typ == values.Datetime:
		return `to_char(` + q + `, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
	}
	return q + "::text"
}

// keyMatch is the condition that a row's key equals the key values in the
// text parameters starting at $first, and the keyset condition that it
// comes after them.
func (t *table) keyMatch(first int, after bool) string {
	if len(t.pk) == 0 {
		op := " = "
		if after {
			op = " > "
		}
		return "ctid" + op + "$" + strconv.Itoa(first) + "::text::tid"
	}
	cols := make([]string, len(t.pk))
	params := make([]string, len(t.pk))
	for i, k := range t.pk {
		c := t.cols[k]
		cols[i] = c.quoted()
		params[i] = "$" + strconv.Itoa(first+i) + "::text::" + c.sqlType
	}
	op := " = "
	if after {
		op = " > "
	}
	return "(" + strings.Join(cols, ", ") + ")" + op + "(" + strings.Join(params, ", ") + ")"
}

// keyValues splits a remote id into the key's text values.
func (t *table) keyValues(id string) ([]any, bool) {
	if len(t.pk) <= 1 {
		return []any{id}, id != ""
	}
	var parts []string
	if err := json.Unmarshal([]byte(id), &parts); err != nil || len(parts) != len(t.pk) {
		return nil, false
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, true
}

// scanRecords reads rows of t.selectList().
func (t *table) scanRecords(rows pgx.Rows) ([]connectors.Record, error) {
	return scanColumns(rows, t.cols)
}

// scanColumns reads rows of selectListOf(cols) into records.
func scanColumns(rows pgx.Rows, cols []column) ([]connectors.Record, error) {
	defer rows.Close()
	var out []connectors.Record
	dest := make([]any, len(cols)+1)
	texts := make([]*string, len(cols))
	arrays := make([][]string, len(cols))
	var id string
	dest[0] = &id
	for i, c := range cols {
		if c.array && c.typ == values.MultiSelect {
			dest[i+1] = &arrays[i]
		} else {
			dest[i+1] = &texts[i]
		}
	}
	for rows.Next() {
		clear(texts)
		clear(arrays)
		if err := rows.Scan(dest...); err != nil {
			return nil, classify(err)
		}
		rec := connectors.Record{ID: id, Fields: make(map[string]any, len(cols))}
		for i, c := range cols {
			if c.array && c.typ == values.MultiSelect {
				if arrays[i] != nil {
					rec.Fields[c.name] = arrays[i]
				} else {
					rec.Fields[c.name] = nil
				}
				continue
			}
			rec.Fields[c.name] = fromText(c, texts[i])
		}
		out = append(out, rec)
	}
	return out, classify(rows.Err())
}

// fromText turns the text PostgreSQL printed for a value of c into its
// canonical form.
func fromText(c column, s *string) any {
	if s == nil {
		return nil
	}
	switch c.typ {
	case values.Number:
		// NaN and infinities have no JSON form.
		if n := json.Number(*s); json.Valid([]byte(*s)) {
			return n
		}
		return nil
	case values.Boolean:
		return *s == "true"
	case values.Date:
		if _, ok := values.ParseDate(*s); !ok {
			return nil // infinity, or a date BC
		}
		return *s
	case values.JSON:
		return json.RawMessage(*s)
	}
	return *s
}

// Pull implements connectors.Connector: a keyset page in key order, whose
// cursor is the last record's remote id.
func (c *Connector) Pull(ctx context.Context, id, cursor string, limit int) (connectors.Page, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return connectors.Page{}, err
	}
	if limit <= 0 || limit > limits.PageSize {
		limit = limits.PageSize
	}
	q := "SELECT " + t.selectList() + " FROM " + t.ident.Sanitize()
	args := []any{}
	if cursor != "" {
		key, ok := t.keyValues(cursor)
		if !ok {
			return connectors.Page{}, connectors.Errorf(connectors.Invalid, "The pull's position is not valid for this table; start the pull again.")
		}
		q += " WHERE " + t.keyMatch(1, true)
		args = key
	}
	q += " ORDER BY " + t.orderBy() + " LIMIT " + strconv.Itoa(limit)
	rows, err := c.pool.Query(ctx, q, args...)
	if err != nil {
		return connectors.Page{}, classify(err)
	}
	recs, err := t.scanRecords(rows)
	if err != nil {
		return connectors.Page{}, err
	}
	page := connectors.Page{Records: recs}
	if len(recs) == limit {
		page.Next = recs[len(recs)-1].ID
	}
	return page, nil
}

// Fetch implements connectors.Connector.
func (c *Connector) Fetch(ctx context.Context, id string, ids []string) ([]connectors.Record, error) {
	return c.FetchFields(ctx, id, ids, nil)
}

// FetchFields is Fetch reading only the named fields (all of them when
// fields is nil; unknown names are ignored): a publish's conflict check
// reads only the fields it writes.
func (c *Connector) FetchFields(ctx context.Context, id string, ids, fields []string) ([]connectors.Record, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	where, args, ok := t.keyIn(ids)
	if !ok {
		return nil, nil
	}
	cols := t.cols
	if fields != nil {
		cols = make([]column, 0, len(fields))
		for _, col := range t.cols {
			if slices.Contains(fields, col.name) {
				cols = append(cols, col)
			}
		}
	}
	rows, err := c.pool.Query(ctx, "SELECT "+t.selectListOf(cols)+" FROM "+t.ident.Sanitize()+" WHERE "+where, args...)
	if err != nil {
		return nil, classify(err)
	}
	return scanColumns(rows, cols)
}

// keyIn is the condition that a row's key is one of ids, with its
// parameters; ids that cannot be keys of t are left out (ok is false when
// none is left).
func (t *table) keyIn(ids []string) (string, []any, bool) {
	if len(t.pk) <= 1 {
		typ := "tid"
		col := "ctid"
		if len(t.pk) == 1 {
			typ, col = t.cols[t.pk[0]].sqlType, t.cols[t.pk[0]].quoted()
		}
		return col + " = ANY($1::text[]::" + typ + "[])", []any{ids}, true
	}
	cols := make([][]string, len(t.pk))
	for _, id := range ids {
		key, ok := t.keyValues(id)
		if !ok {
			continue
		}
		for i, k := range key {
			cols[i] = append(cols[i], k.(string))
		}
	}
	if len(cols[0]) == 0 {
		return "", nil, false
	}
	names := make([]string, len(t.pk))
	unnest := make([]string, len(t.pk))
	args := make([]any, len(t.pk))
	for i, k := range t.pk {
		c := t.cols[k]
		names[i] = c.quoted()
		unnest[i] = "$" + strconv.Itoa(i+1) + "::text[]::" + c.sqlType + "[]"
		args[i] = cols[i]
	}
	return "(" + strings.Join(names, ", ") + ") IN (SELECT * FROM unnest(" + strings.Join(unnest, ", ") + "))", args, true
}
