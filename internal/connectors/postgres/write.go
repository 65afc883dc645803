package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/values"
)

// param returns v, a canonical value, as the parameter of a column:
// text, or a list of texts for an array column.
func param(c column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if c.array {
		switch a := v.(type) {
		case []string:
			return a, nil
		case []any:
			out := make([]string, len(a))
			for i, e := range a {
				s, ok := e.(string)
				if !ok {
					return nil, badValue(c, "must be a list of texts")
				}
				out[i] = s
			}
			return out, nil
		case json.RawMessage:
			var out []string
			if err := json.Unmarshal(a, &out); err != nil {
				return nil, badValue(c, "must be a list of texts")
			}
			return out, nil
		}
		return nil, badValue(c, "must be a list of texts")
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.RawMessage:
		return string(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case []string:
		b, _ := json.Marshal(x)
		return string(b), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, badValue(c, "is not a value it can hold")
	}
	return string(b), nil
}

func badValue(c column, msg string) error {
	return &connectors.Error{Kind: connectors.Invalid, Field: c.name, Message: fmt.Sprintf("%s %s.", c.name, msg)}
}

// cast is the SQL of parameter n cast to c's type.
func cast(n int, c column) string {
	p := "$" + strconv.Itoa(n)
	if c.array {
		return p + "::text[]::" + c.sqlType
	}
	return p + "::text::" + c.sqlType
}

// writable checks that fields name columns a write may set; onCreate
// allows the primary key's columns, which an update never changes.
func (t *table) writable(fields map[string]any, onCreate bool) ([]int, error) {
	idx := make([]int, 0, len(fields))
	for key := range fields {
		i, ok := t.column(key)
		if !ok {
			return nil, unknownColumn(key)
		}
		c := t.cols[i]
		if c.readOnly || !onCreate && slices.Contains(t.pk, i) {
			return nil, &connectors.Error{Kind: connectors.Invalid, Field: key, Message: fmt.Sprintf("%s cannot be written.", key)}
		}
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx, nil
}

// Create implements connectors.Connector: one INSERT for the batch, whose
// RETURNING gives the new ids in order.
func (c *Connector) Create(ctx context.Context, id string, recs []connectors.NewRecord) ([]connectors.WriteResult, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireWritable(t); err != nil {
		return nil, err
	}
	results := make([]connectors.WriteResult, len(recs))
	var todo []int
	colSet := map[int]bool{}
	for i, r := range recs {
		idx, err := t.writable(r.Fields, true)
		if err != nil {
			results[i].Err = err
			continue
		}
		for _, k := range idx {
			colSet[k] = true
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return results, nil
	}
	cols := make([]int, 0, len(colSet))
	for k := range colSet {
		cols = append(cols, k)
	}
	slices.Sort(cols)
	insert := func(tx pgx.Tx, batch []int) ([]string, error) {
		sql, args, err := t.insertSQL(cols, recs, batch)
		if err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err == nil && len(ids) != len(batch) {
			err = fmt.Errorf("postgres: insert returned %d ids for %d records", len(ids), len(batch))
		}
		return ids, err
	}
	err = c.inTx(ctx, func(tx pgx.Tx) error {
		return perRecord(ctx, tx, todo, insert, func(i int, newID string, err error) {
			results[i] = connectors.WriteResult{ID: newID, Err: err}
		})
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// insertSQL builds the INSERT of recs[batch] into cols, with DEFAULT for a
// column a record does not set.
func (t *table) insertSQL(cols []int, recs []connectors.NewRecord, batch []int) (string, []any, error) {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(t.ident.Sanitize())
	if len(cols) == 0 {
		// A record of defaults only: one statement per record.
		b.WriteString(" DEFAULT VALUES RETURNING ")
		b.WriteString(t.idExpr())
		if len(batch) != 1 {
			return "", nil, fmt.Errorf("postgres: a batch of defaults only")
		}
		return b.String(), nil, nil
	}
	b.WriteString(" (")
	for j, k := range cols {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.cols[k].quoted())
	}
	b.WriteString(") VALUES ")
	var args []any
	for n, i := range batch {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, k := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			col := t.cols[k]
			v, ok := recs[i].Fields[col.name]
			if !ok {
				b.WriteString("DEFAULT")
				continue
			}
			p, err := param(col, v)
			if err != nil {
				return "", nil, err
			}
			args = append(args, p)
			b.WriteString(cast(len(args), col))
		}
		b.WriteByte(')')
	}
	b.WriteString(" RETURNING ")
	b.WriteString(t.idExpr())
	return b.String(), args, nil
}

// perRecord runs write for the whole batch in a savepoint; if it fails,
// it rolls back and writes one record at a time, each in a savepoint of
// its own, so that each failure is one record's. report receives each
// record's outcome: its id, or its error.
func perRecord(ctx context.Context, tx pgx.Tx, batch []int, write func(tx pgx.Tx, batch []int) ([]string, error), report func(i int, id string, err error)) error {
	if len(batch) > 1 {
		ids, err := inSavepoint(ctx, tx, func(sp pgx.Tx) ([]string, error) { return write(sp, batch) })
		if err == nil {
			for n, i := range batch {
				report(i, ids[n], nil)
			}
			return nil
		}
		if !recordError(err) {
			return err
		}
	}
	for _, i := range batch {
		ids, err := inSavepoint(ctx, tx, func(sp pgx.Tx) ([]string, error) { return write(sp, []int{i}) })
		switch {
		case err == nil:
			report(i, ids[0], nil)
		case recordError(err):
			report(i, "", classify(err))
		default:
			return err
		}
	}
	return nil
}

func inSavepoint(ctx context.Context, tx pgx.Tx, fn func(sp pgx.Tx) ([]string, error)) ([]string, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := fn(sp)
	if err != nil {
		_ = sp.Rollback(ctx)
		return nil, err
	}
	return ids, sp.Commit(ctx)
}

// recordError reports whether err is the fault of the records written (a
// value, a constraint), not of the connection: such a batch is retried
// record by record.
func recordError(err error) bool {
	e, ok := classify(err).(*connectors.Error)
	return ok && (e.Kind == connectors.Invalid || e.Kind == connectors.Conflict || e.Kind == connectors.NotFound)
}

// Update implements connectors.Connector: one UPDATE ... FROM (VALUES ...)
// per set of fields the batch changes.
func (c *Connector) Update(ctx context.Context, id string, changes []connectors.Change) ([]connectors.WriteResult, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireWritable(t); err != nil {
		return nil, err
	}
	results := make([]connectors.WriteResult, len(changes))
	groups := map[string][]int{}
	var order []string
	cols := map[string][]int{}
	for i, ch := range changes {
		results[i].ID = ch.ID
		idx, err := t.writable(ch.Fields, false)
		if err != nil {
			results[i].Err = err
			continue
		}
		if _, ok := t.keyValues(ch.ID); !ok || len(idx) == 0 {
			if len(idx) == 0 && ok {
				continue // nothing to change
			}
			results[i].Err = connectors.Errorf(connectors.NotFound, "The record no longer exists.")
			continue
		}
		key := fmt.Sprint(idx)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
			cols[key] = idx
		}
		groups[key] = append(groups[key], i)
	}
	err = c.inTx(ctx, func(tx pgx.Tx) error {
		for _, key := range order {
			// Each statement's parameters (the key's and the values' of
			// each record) stay within maxParams.
			perRow := max(len(t.pk), 1) + len(cols[key])
			for part := range slices.Chunk(groups[key], max(maxParams/perRow, 1)) {
				if err := c.updateGroup(ctx, tx, t, cols[key], changes, part, results); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// updateGroup writes cols of changes[batch] in one statement, or record by
// record if the statement fails for a record's sake, and sets each record's
// result.
func (c *Connector) updateGroup(ctx context.Context, tx pgx.Tx, t *table, cols []int, changes []connectors.Change, batch []int, results []connectors.WriteResult) error {
	update := func(tx pgx.Tx, batch []int) ([]string, error) {
		sql, args, err := t.updateSQL(cols, changes, batch)
		if err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		// Records the UPDATE did not find are gone; the others stay
		// updated.
		found := make(map[string]bool, len(ids))
		for _, id := range ids {
			found[id] = true
		}
		out := make([]string, len(batch))
		for n, i := range batch {
			if found[changes[i].ID] {
				out[n] = changes[i].ID
			}
		}
		return out, nil
	}
	return perRecord(ctx, tx, batch, update, func(i int, id string, err error) {
		switch {
		case err != nil:
			results[i].Err = err
		case id == "":
			results[i].Err = connectors.Errorf(connectors.NotFound, "The record no longer exists.")
		}
	})
}

// updateSQL builds the UPDATE of cols of changes[batch]. The VALUES list's
// columns are k0.. for the key and v0.. for the values, so they never
// shadow the table's.
func (t *table) updateSQL(cols []int, changes []connectors.Change, batch []int) (string, []any, error) {
	var b strings.Builder
	b.WriteString("UPDATE ")
	b.WriteString(t.ident.Sanitize())
	b.WriteString(" SET ")
	for j, k := range cols {
		if j > 0 {
			b.WriteString(", ")
		}
		c := t.cols[k]
		b.WriteString(c.quoted())
		b.WriteString(" = v.v")
		b.WriteString(strconv.Itoa(j))
		if c.array {
			b.WriteString("::" + c.sqlType)
		} else {
			b.WriteString("::" + c.sqlType)
		}
	}
	b.WriteString(" FROM (VALUES ")
	var args []any
	for n, i := range batch {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		key, _ := t.keyValues(changes[i].ID)
		for j, kv := range key {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, kv)
			b.WriteString("$" + strconv.Itoa(len(args)) + "::text")
		}
		for _, k := range cols {
			c := t.cols[k]
			p, err := param(c, changes[i].Fields[c.name])
			if err != nil {
				return "", nil, err
			}
			args = append(args, p)
			if c.array {
				b.WriteString(", $" + strconv.Itoa(len(args)) + "::text[]")
			} else {
				b.WriteString(", $" + strconv.Itoa(len(args)) + "::text")
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(") AS v(")
	nk := max(len(t.pk), 1)
	for j := range nk {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString("k" + strconv.Itoa(j))
	}
	for j := range cols {
		b.WriteString(", v" + strconv.Itoa(j))
	}
	b.WriteString(") WHERE ")
	if len(t.pk) == 0 {
		b.WriteString("ctid = v.k0::tid")
	} else {
		names := make([]string, len(t.pk))
		keys := make([]string, len(t.pk))
		for j, k := range t.pk {
			names[j] = t.ident.Sanitize() + "." + t.cols[k].quoted()
			keys[j] = "v.k" + strconv.Itoa(j) + "::" + t.cols[k].sqlType
		}
		b.WriteString("(" + strings.Join(names, ", ") + ") = (" + strings.Join(keys, ", ") + ")")
	}
	b.WriteString(" RETURNING ")
	b.WriteString(t.qualifiedIDExpr())
	return b.String(), args, nil
}

// qualifiedIDExpr is idExpr with the table's name before each column, for
// statements that join other rows.
func (t *table) qualifiedIDExpr() string {
	q := t.ident.Sanitize() + "."
	switch len(t.pk) {
	case 0:
		return q + "ctid::text"
	case 1:
		return q + t.cols[t.pk[0]].quoted() + "::text"
	}
	parts := make([]string, len(t.pk))
	for i, k := range t.pk {
		parts[i] = q + t.cols[k].quoted() + "::text"
	}
	return "json_build_array(" + strings.Join(parts, ", ") + ")::text"
}

// Delete implements connectors.Connector.
func (c *Connector) Delete(ctx context.Context, id string, ids []string) ([]connectors.WriteResult, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireWritable(t); err != nil {
		return nil, err
	}
	results := make([]connectors.WriteResult, len(ids))
	var todo []int
	for i, rid := range ids {
		results[i].ID = rid
		if _, ok := t.keyValues(rid); ok {
			todo = append(todo, i)
		}
	}
	del := func(tx pgx.Tx, batch []int) ([]string, error) {
		some := make([]string, len(batch))
		for n, i := range batch {
			some[n] = ids[i]
		}
		where, args, ok := t.keyIn(some)
		if !ok {
			return some, nil
		}
		if _, err := tx.Exec(ctx, "DELETE FROM "+t.ident.Sanitize()+" WHERE "+where, args...); err != nil {
			return nil, err
		}
		return some, nil
	}
	err = c.inTx(ctx, func(tx pgx.Tx) error {
		return perRecord(ctx, tx, todo, del, func(i int, _ string, err error) { results[i].Err = err })
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// LookupCreated implements connectors.CreateLookup: a record that names its
// primary key is looked up by it; any other by its values, the newest row
// holding exactly those values being the one the lost create made.
func (c *Connector) LookupCreated(ctx context.Context, id string, recs []connectors.NewRecord) ([]string, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		sql, args, err := t.lookupSQL(r.Fields)
		if err != nil {
			return nil, err
		}
		var found string
		err = c.pool.QueryRow(ctx, sql, args...).Scan(&found)
		if err != nil && err != pgx.ErrNoRows {
			return nil, classify(err)
		}
		out[i] = found
	}
	return out, nil
}

func (t *table) lookupSQL(fields map[string]any) (string, []any, error) {
	var conds []string
	var args []any
	keyed := len(t.pk) > 0
	for _, k := range t.pk {
		if fields[t.cols[k].name] == nil {
			keyed = false
		}
	}
	for i, c := range t.cols {
		v, ok := fields[c.name]
		if !ok || keyed && !slices.Contains(t.pk, i) {
			continue
		}
		p, err := param(c, v)
		if err != nil {
			return "", nil, err
		}
		if p == nil {
			conds = append(conds, c.quoted()+" IS NULL")
			continue
		}
		args = append(args, p)
		switch {
		case c.typ == values.JSON && !c.array:
			conds = append(conds, c.quoted()+"::jsonb = $"+strconv.Itoa(len(args))+"::text::jsonb")
		default:
			conds = append(conds, c.quoted()+" = "+cast(len(args), c))
		}
	}
	if len(conds) == 0 {
		conds = []string{"false"}
	}
	return "SELECT " + t.idExpr() + " FROM " + t.ident.Sanitize() + " WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY " + descending(t.orderBy()) + " LIMIT 1", args, nil
}

func descending(order string) string {
	parts := strings.Split(order, ", ")
	for i := range parts {
		parts[i] += " DESC"
	}
	return strings.Join(parts, ", ")
}
