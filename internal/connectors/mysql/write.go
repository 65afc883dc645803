package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/values"
)

// param returns v, a canonical value, as the parameter of column c: text,
// or 1 and 0 for a boolean.
func param(c column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.typ {
	case values.Boolean:
		return boolParam(c, v)
	case values.MultiSelect:
		list, ok := stringList(v)
		if !ok {
			return nil, badValue(c, "must be a list of texts")
		}
		for _, s := range list {
			if strings.Contains(s, ",") {
				return nil, badValue(c, "cannot hold an option with a comma")
			}
		}
		return strings.Join(list, ","), nil
	case values.Datetime:
		s, ok := v.(string)
		if !ok {
			return nil, badValue(c, "must be a date and time such as 2024-01-31T09:30:00Z")
		}
		// MySQL does not read RFC 3339's T and Z; other forms go to the
		// server as they are, to be refused there if they are not dates.
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return tm.UTC().Format("2006-01-02 15:04:05.999999"), nil
		}
		return s, nil
	case values.JSON:
		switch x := v.(type) {
		case json.RawMessage:
			return string(x), nil
		case string:
			return x, nil
		}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if c.typ == values.Number {
			return boolParam(c, x)
		}
		return strconv.FormatBool(x), nil
	case json.RawMessage:
		return string(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, badValue(c, "is not a value it can hold")
	}
	return string(b), nil
}

func boolParam(c column, v any) (any, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case string:
		switch strings.ToLower(x) {
		case "true", "1":
			return int64(1), nil
		case "false", "0":
			return int64(0), nil
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	}
	return nil, badValue(c, "must be true or false")
}

// stringList reads a multi_select value.
func stringList(v any) ([]string, bool) {
	switch a := v.(type) {
	case []string:
		return a, true
	case []any:
		out := make([]string, len(a))
		for i, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	case json.RawMessage:
		var out []string
		return out, json.Unmarshal(a, &out) == nil
	}
	return nil, false
}

func badValue(c column, msg string) error {
	return &connectors.Error{Kind: connectors.Invalid, Field: c.name, Message: fmt.Sprintf("%s %s.", c.name, msg)}
}

// writeExpr is the SQL that takes a parameter of column c: a BIT column
// reads a string as bytes, so its number is cast first.
func writeExpr(c column) string {
	if c.dataType == "bit" {
		return "CAST(? AS UNSIGNED)"
	}
	return "?"
}

// row is one record's parameters, by column index.
type row map[int]any

// size estimates the bytes row adds to a statement.
func (r row) size() int {
	n := 0
	for _, v := range r {
		n += 8
		switch x := v.(type) {
		case string:
			n += 2 * len(x) // escaped, at worst
		case []byte:
			n += 2 * len(x)
		}
	}
	return n
}

// prepare checks that fields name columns a write may set and turns their
// values into parameters; onCreate allows the primary key's columns, which
// an update never changes.
func (t *table) prepare(fields map[string]any, onCreate bool) (row, error) {
	out := make(row, len(fields))
	for key, v := range fields {
		i, ok := t.column(key)
		if !ok {
			return nil, unknownColumn(key)
		}
		c := t.cols[i]
		if c.readOnly || !onCreate && slices.Contains(t.pk, i) {
			return nil, &connectors.Error{Kind: connectors.Invalid, Field: key, Message: fmt.Sprintf("%s cannot be written.", key)}
		}
		p, err := param(c, v)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// statementBudget bounds the values of one statement, well below the
// smallest max_allowed_packet a server is likely to have (MySQL 5.7's
// 4 MiB): a batch of long texts is written in several statements.
const statementBudget = 1 << 20

// chunks splits batch into runs whose rows fit statementBudget.
func chunks(batch []int, size func(i int) int) [][]int {
	var out [][]int
	start, used := 0, 0
	for n, i := range batch {
		s := size(i)
		if n > start && used+s > statementBudget {
			out = append(out, batch[start:n])
			start, used = n, 0
		}
		used += s
	}
	if start < len(batch) {
		out = append(out, batch[start:])
	}
	return out
}

// Create implements connectors.Connector: on MariaDB, one INSERT for the
// batch, whose RETURNING gives the new ids in order; on servers without
// RETURNING, one INSERT a record, whose id is read back.
func (c *Connector) Create(ctx context.Context, id string, recs []connectors.NewRecord) ([]connectors.WriteResult, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireWritable(t); err != nil {
		return nil, err
	}
	srv, err := c.serverInfo(ctx)
	if err != nil {
		return nil, err
	}
	returning := srv.returning() && !c.withoutReturning
	results := make([]connectors.WriteResult, len(recs))
	rows := make([]row, len(recs))
	var todo []int
	for i, r := range recs {
		rw, err := t.prepare(r.Fields, true)
		if err == nil && !returning {
			err = t.idKnowable(rw)
		}
		if err != nil {
			results[i].Err = err
			continue
		}
		rows[i] = rw
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return results, nil
	}
	insert := func(tx *sql.Tx, batch []int) ([]string, error) {
		if returning {
			return t.insertReturning(ctx, tx, rows, batch)
		}
		id, err := t.insertOne(ctx, tx, rows[batch[0]])
		return []string{id}, err
	}
	err = c.inTx(ctx, func(tx *sql.Tx) error {
		for _, chunk := range chunks(todo, func(i int) int { return rows[i].size() }) {
			err := perRecord(ctx, tx, chunk, returning && t.transactional, insert, func(i int, newID string, err error) {
				results[i] = connectors.WriteResult{ID: newID, Err: err}
			}, t)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// idKnowable checks, on a server without RETURNING, that the id of the
// row r would make can be read back: each key column is given or
// auto-incremented, not filled by a default such as UUID().
func (t *table) idKnowable(r row) error {
	for _, k := range t.pk {
		if _, given := r[k]; !given && !t.cols[k].autoIncrement {
			return &connectors.Error{Kind: connectors.Invalid, Field: t.cols[k].name,
				Message: fmt.Sprintf("%s needs a value: this database server cannot tell the key it would make.", t.cols[k].name)}
		}
	}
	return nil
}

// insertReturning inserts rows[batch] in one statement and returns their
// ids in order. A column a row does not set takes its DEFAULT.
func (t *table) insertReturning(ctx context.Context, tx *sql.Tx, rows []row, batch []int) ([]string, error) {
	colSet := map[int]bool{}
	for _, i := range batch {
		for k := range rows[i] {
			colSet[k] = true
		}
	}
	cols := make([]int, 0, len(colSet))
	for k := range colSet {
		cols = append(cols, k)
	}
	slices.Sort(cols)
	var b strings.Builder
	var args []any
	b.WriteString("INSERT INTO " + t.ident() + " (")
	for j, k := range cols {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.cols[k].quoted())
	}
	b.WriteString(") VALUES ")
	for n, i := range batch {
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, k := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			v, ok := rows[i][k]
			if !ok {
				b.WriteString("DEFAULT")
				continue
			}
			b.WriteString(writeExpr(t.cols[k]))
			args = append(args, v)
		}
		b.WriteByte(')')
	}
	b.WriteString(" RETURNING " + t.keyList())
	res, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	keys, err := t.scanKeys(res)
	if err != nil {
		return nil, err
	}
	if len(keys) != len(batch) {
		return nil, fmt.Errorf("mysql: insert returned %d ids for %d records", len(keys), len(batch))
	}
	return keys, nil
}

// insertOne inserts one row and reads its id back: its key columns as
// given, or LAST_INSERT_ID() for the auto-incremented one.
func (t *table) insertOne(ctx context.Context, tx *sql.Tx, r row) (string, error) {
	cols := make([]int, 0, len(r))
	for k := range r {
		cols = append(cols, k)
	}
	slices.Sort(cols)
	names := make([]string, len(cols))
	exprs := make([]string, len(cols))
	args := make([]any, len(cols))
	for j, k := range cols {
		names[j], exprs[j], args[j] = t.cols[k].quoted(), writeExpr(t.cols[k]), r[k]
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO "+t.ident()+" ("+strings.Join(names, ", ")+") VALUES ("+strings.Join(exprs, ", ")+")", args...)
	if err != nil {
		return "", err
	}
	conds := make([]string, len(t.pk))
	var keyArgs []any
	for j, k := range t.pk {
		v, given := r[k]
		if !given {
			conds[j] = t.qualified(k) + " = LAST_INSERT_ID()"
			continue
		}
		conds[j] = t.qualified(k) + " = " + writeExpr(t.cols[k])
		keyArgs = append(keyArgs, v)
	}
	res, err := tx.QueryContext(ctx, "SELECT "+t.keyList()+" FROM "+t.ident()+" WHERE "+strings.Join(conds, " AND ")+" LIMIT 1", keyArgs...)
	if err != nil {
		return "", err
	}
	ids, err := t.scanKeys(res)
	if err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("mysql: the created row of %s cannot be found by its key", t.id)
	}
	return ids[0], nil
}

// scanKeys reads rows of keyList as remote ids.
func (t *table) scanKeys(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	parts := make([]sql.NullString, t.keyWidth())
	dest := make([]any, len(parts))
	for i := range parts {
		dest[i] = &parts[i]
	}
	var ids []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = p.String
		}
		ids = append(ids, t.formatID(texts))
	}
	return ids, rows.Err()
}

// perRecord runs write for the whole batch in a savepoint when batched;
// if it fails, it rolls back and writes one record at a time, each in a
// savepoint of its own, so that each failure is one record's. report
// receives each record's outcome: its id, or its error.
func perRecord(ctx context.Context, tx *sql.Tx, batch []int, batched bool, write func(tx *sql.Tx, batch []int) ([]string, error), report func(i int, id string, err error), t *table) error {
	if batched && len(batch) > 1 {
		ids, err := inSavepoint(ctx, tx, func() ([]string, error) { return write(tx, batch) })
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
		ids, err := inSavepoint(ctx, tx, func() ([]string, error) { return write(tx, []int{i}) })
		switch {
		case err == nil:
			report(i, ids[0], nil)
		case recordError(err):
			report(i, "", classifyIn(err, t))
		default:
			return err
		}
	}
	return nil
}

// inSavepoint runs fn after a savepoint, and rolls back to it when fn
// fails for its records. A failure of the connection or the transaction
// (a deadlock rolls the whole transaction back) is returned as it is.
func inSavepoint(ctx context.Context, tx *sql.Tx, fn func() ([]string, error)) ([]string, error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT scratchpad_write"); err != nil {
		return nil, err
	}
	ids, err := fn()
	if err != nil {
		if recordError(err) {
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT scratchpad_write"); rbErr != nil {
				return nil, rbErr
			}
		}
		return nil, err
	}
	_, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT scratchpad_write")
	return ids, err
}

// recordError reports whether err is the fault of the records written (a
// value, a constraint), not of the connection: such a batch is retried
// record by record.
func recordError(err error) bool {
	e, ok := connectors.AsError(classify(err))
	return ok && (e.Kind == connectors.Invalid || e.Kind == connectors.Conflict || e.Kind == connectors.NotFound)
}

var errRecordGone = connectors.Errorf(connectors.NotFound, "The record no longer exists.")

// Update implements connectors.Connector: per set of fields the batch
// changes, a locking read of which records exist, then one UPDATE whose
// CASE gives each record its values.
func (c *Connector) Update(ctx context.Context, id string, changes []connectors.Change) ([]connectors.WriteResult, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireWritable(t); err != nil {
		return nil, err
	}
	results := make([]connectors.WriteResult, len(changes))
	rows := make([]row, len(changes))
	groups := map[string][]int{}
	var order []string
	cols := map[string][]int{}
	for i, ch := range changes {
		results[i].ID = ch.ID
		rw, err := t.prepare(ch.Fields, false)
		if err != nil {
			results[i].Err = err
			continue
		}
		if _, _, ok := t.keyArgs(ch.ID); !ok {
			results[i].Err = errRecordGone
			continue
		}
		if len(rw) == 0 {
			continue // nothing to change
		}
		rows[i] = rw
		idx := make([]int, 0, len(rw))
		for k := range rw {
			idx = append(idx, k)
		}
		slices.Sort(idx)
		key := fmt.Sprint(idx)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
			cols[key] = idx
		}
		groups[key] = append(groups[key], i)
	}
	err = c.inTx(ctx, func(tx *sql.Tx) error {
		for _, key := range order {
			update := func(tx *sql.Tx, batch []int) ([]string, error) {
				return t.update(ctx, tx, cols[key], changes, rows, batch)
			}
			for _, chunk := range chunks(groups[key], func(i int) int { return rows[i].size() }) {
				err := perRecord(ctx, tx, chunk, t.transactional, update, func(i int, id string, err error) {
					switch {
					case err != nil:
						results[i].Err = err
					case id == "":
						results[i].Err = errRecordGone
					}
				}, t)
				if err != nil {
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

// update sets cols of changes[batch] and returns, for each, its id, or ""
// when no row has it.
func (t *table) update(ctx context.Context, tx *sql.Tx, cols []int, changes []connectors.Change, rows []row, batch []int) ([]string, error) {
	ids := make([]string, len(batch))
	for n, i := range batch {
		ids[n] = changes[i].ID
	}
	where, whereArgs, _ := t.keyIn(ids)
	// Which records exist, each named by its place in the batch: the
	// server compares keys as it will in the UPDATE (with the column's
	// collation), which Go could not.
	var which strings.Builder
	var whichArgs []any
	which.WriteString("SELECT CASE")
	for n, id := range ids {
		sqls, args, _ := t.keyArgs(id)
		which.WriteString(" WHEN " + t.keyEquals(sqls) + " THEN " + strconv.Itoa(n))
		whichArgs = append(whichArgs, args...)
	}
	which.WriteString(" END FROM " + t.ident() + " WHERE " + where + " FOR UPDATE")
	res, err := tx.QueryContext(ctx, which.String(), append(whichArgs, whereArgs...)...)
	if err != nil {
		return nil, err
	}
	found := make([]bool, len(batch))
	for res.Next() {
		var n sql.NullInt64
		if err := res.Scan(&n); err != nil {
			res.Close()
			return nil, err
		}
		if n.Valid && int(n.Int64) < len(found) {
			found[n.Int64] = true
		}
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, err
	}

	var b strings.Builder
	var args []any
	b.WriteString("UPDATE " + t.ident() + " SET ")
	for j, k := range cols {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.cols[k].quoted() + " = CASE")
		for n, i := range batch {
			sqls, keyArgs, _ := t.keyArgs(ids[n])
			b.WriteString(" WHEN " + t.keyEquals(sqls) + " THEN " + writeExpr(t.cols[k]))
			args = append(args, keyArgs...)
			args = append(args, rows[i][k])
		}
		b.WriteString(" END")
	}
	b.WriteString(" WHERE " + where)
	args = append(args, whereArgs...)
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return nil, err
	}
	// A record named twice in one batch is found once, by its first place.
	out := make([]string, len(batch))
	for n := range batch {
		for m := range batch {
			if found[m] && ids[m] == ids[n] {
				out[n] = ids[n]
			}
		}
	}
	return out, nil
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
		// An id that cannot be a key names no record: it is gone.
		if _, _, ok := t.keyArgs(rid); ok {
			todo = append(todo, i)
		}
	}
	del := func(tx *sql.Tx, batch []int) ([]string, error) {
		some := make([]string, len(batch))
		for n, i := range batch {
			some[n] = ids[i]
		}
		where, args, _ := t.keyIn(some)
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.ident()+" WHERE "+where, args...); err != nil {
			return nil, err
		}
		return some, nil
	}
	err = c.inTx(ctx, func(tx *sql.Tx) error {
		return perRecord(ctx, tx, todo, t.transactional, del, func(i int, _ string, err error) { results[i].Err = err }, t)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// LookupCreated implements connectors.CreateLookup: a record that names its
// primary key is looked up by it; any other by its values, the newest row
// holding exactly those values being the one the lost create made. A table
// without a primary key cannot be created in, so nothing is found there.
func (c *Connector) LookupCreated(ctx context.Context, id string, recs []connectors.NewRecord) ([]string, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(recs))
	if len(t.pk) == 0 {
		return out, nil
	}
	srv, err := c.serverInfo(ctx)
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		q, args, err := t.lookupSQL(r.Fields, srv)
		if err != nil {
			return nil, err
		}
		rows, err := c.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, classifyIn(err, t)
		}
		ids, err := t.scanKeys(rows)
		if err != nil {
			return nil, classifyIn(err, t)
		}
		if len(ids) > 0 {
			out[i] = ids[0]
		}
	}
	return out, nil
}

func (t *table) lookupSQL(fields map[string]any, srv server) (string, []any, error) {
	keyed := true
	for _, k := range t.pk {
		if fields[t.cols[k].name] == nil {
			keyed = false
		}
	}
	var conds []string
	var args []any
	for i, c := range t.cols {
		v, ok := fields[c.name]
		if !ok || keyed && !slices.Contains(t.pk, i) {
			continue
		}
		p, err := param(c, v)
		if err != nil {
			return "", nil, err
		}
		cond, condArgs := matchExpr(c, p, srv)
		conds = append(conds, cond)
		args = append(args, condArgs...)
	}
	if len(conds) == 0 {
		conds = []string{"FALSE"}
	}
	order := make([]string, len(t.pk))
	for i, k := range t.pk {
		order[i] = t.qualified(k) + " DESC"
	}
	return "SELECT " + t.keyList() + " FROM " + t.ident() + " WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT 1", args, nil
}

// matchExpr is the condition that column c holds exactly the parameter p:
// text compared byte for byte rather than by a case-blind collation, JSON
// by structure, a set by its members.
func matchExpr(c column, p any, srv server) (string, []any) {
	q := c.quoted()
	switch {
	case p == nil:
		return q + " IS NULL", nil
	case c.typ == values.Boolean:
		if p == int64(0) {
			return q + " = 0", nil
		}
		return q + " <> 0", nil
	case c.typ == values.JSON && srv.mariaDB && srv.atLeast(10, 7):
		return "JSON_EQUALS(" + q + ", ?) = 1", []any{p}
	case c.typ == values.JSON && !srv.mariaDB:
		return q + " = CAST(? AS JSON)", []any{p}
	case c.typ == values.MultiSelect:
		var mask uint64
		s, _ := p.(string)
		for _, member := range strings.Split(s, ",") {
			if member == "" {
				continue
			}
			i := slices.IndexFunc(c.options, func(o string) bool { return strings.EqualFold(o, member) })
			if i < 0 || i >= 64 {
				return "FALSE", nil
			}
			mask |= 1 << i
		}
		return "(" + q + " + 0) = ?", []any{mask}
	case textTypes[c.dataType] || c.dataType == "enum":
		return "CONVERT(" + q + " USING utf8mb4) COLLATE utf8mb4_bin = ?", []any{p}
	}
	return q + " = " + writeExpr(c), []any{p}
}
