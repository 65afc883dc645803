package mysql

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/values"
)

// A table without a primary key (or a view) has no column that tells its
// rows apart, so a row's remote id is a hash of its values: the first 32 hex
// digits of the SHA-256 of every column's bytes, length-prefixed, with the
// k-th copy (k ≥ 2) of an identical row "<hash>-<k>". Pulls order by the
// hash, and a page's cursor, the last id, says how many rows of its hash
// were read. Each page computes the hashes of the whole table, which is
// slower than a keyset page, and a row whose values change gets a new id;
// such tables are read-only, so nothing is ever written by these ids.
const hashLen = 32

// hashExpr is the SQL of a row's hash.
func (t *table) hashExpr() string {
	parts := make([]string, len(t.cols))
	for i, c := range t.cols {
		b := "CAST(" + c.quoted() + " AS BINARY)"
		parts[i] = "IFNULL(CONCAT(LENGTH(" + b + "), ':', " + b + "), 'N')"
	}
	return "LEFT(SHA2(CONCAT(" + strings.Join(parts, ", ") + "), 256), " + strconv.Itoa(hashLen) + ")"
}

// parseHashID splits a hash id into its hash and copy number.
func parseHashID(id string) (string, int, bool) {
	h, n := id, 1
	if i := strings.IndexByte(id, '-'); i >= 0 {
		k, err := strconv.Atoi(id[i+1:])
		if err != nil || k < 2 || strconv.Itoa(k) != id[i+1:] {
			return "", 0, false
		}
		h, n = id[:i], k
	}
	if len(h) != hashLen || strings.Trim(h, "0123456789abcdef") != "" {
		return "", 0, false
	}
	return h, n, true
}

// hashIDs numbers the copies of rows with equal hashes, which arrive next
// to each other, continuing from a cursor that had read n rows of hash h.
type hashIDs struct {
	h string
	n int
}

func (c *hashIDs) next(h string) string {
	if h == c.h {
		c.n++
	} else {
		c.h, c.n = h, 1
	}
	if c.n == 1 {
		return h
	}
	return h + "-" + strconv.Itoa(c.n)
}

// keyExpr is the SQL that reads key column c as the text of remote ids:
// binary keys (a UUID in BINARY(16)) as hex.
func keyExpr(c column) string {
	switch {
	case binaryTypes[c.dataType]:
		return "HEX(" + c.quoted() + ")"
	case c.dataType == "bit":
		return "CAST(" + c.quoted() + " AS UNSIGNED)"
	}
	return c.quoted()
}

// keyArg turns the text of a key value back into a parameter of c's type
// and the SQL that takes it; ok is false for text that no key of c's type
// prints, such as a number's key that is not a number.
func keyArg(c column, text string) (string, any, bool) {
	switch {
	case integerTypes[c.dataType] && c.unsigned, c.dataType == "bit":
		n, err := strconv.ParseUint(text, 10, 64)
		return "?", n, err == nil
	case integerTypes[c.dataType]:
		n, err := strconv.ParseInt(text, 10, 64)
		return "?", n, err == nil
	case binaryTypes[c.dataType]:
		b, err := hex.DecodeString(text)
		return "?", b, err == nil
	case c.dataType == "decimal" || c.dataType == "numeric":
		// Compared as DECIMAL: a string is compared with a decimal as a
		// double, which rounds long keys.
		if _, ok := new(big.Float).SetString(text); !ok {
			return "", nil, false
		}
		return "CAST(? AS DECIMAL(" + strconv.FormatInt(max(c.precision, 1), 10) + ", " + strconv.FormatInt(c.scale, 10) + "))", text, true
	}
	// Text compares with the column's collation, the one ORDER BY uses:
	// a parameter yields to a column's collation.
	return "?", text, true
}

// selectList is the SELECT list that reads t: the remote id's parts first
// (the primary key's columns, or the row's hash), then every column.
func (t *table) selectList() string {
	var b strings.Builder
	b.WriteString(t.keyList())
	for _, c := range t.cols {
		b.WriteString(", ")
		b.WriteString(readExpr(c))
	}
	return b.String()
}

// keyList is the SQL of a row's id parts.
func (t *table) keyList() string {
	if len(t.pk) == 0 {
		return t.hashExpr()
	}
	parts := make([]string, len(t.pk))
	for i, k := range t.pk {
		parts[i] = keyExpr(t.cols[k])
	}
	return strings.Join(parts, ", ")
}

// keyWidth is the number of id parts keyList reads.
func (t *table) keyWidth() int { return max(len(t.pk), 1) }

// readExpr is the SQL that reads column c as the text fromText takes.
func readExpr(c column) string {
	q := c.quoted()
	switch {
	case c.typ == values.Datetime:
		return "DATE_FORMAT(" + q + ", '%Y-%m-%dT%H:%i:%sZ')"
	case c.dataType == "bit":
		return "CAST(" + q + " AS UNSIGNED)"
	case geometryTypes[c.dataType]:
		return "ST_AsText(" + q + ")"
	}
	return q
}

// formatID makes the remote id of a row from its key's texts: the text of
// a one-column key, a JSON array of texts for a composite one.
func (t *table) formatID(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	b, _ := json.Marshal(parts)
	return string(b)
}

// keyValues splits a remote id into its key's texts.
func (t *table) keyValues(id string) ([]string, bool) {
	if len(t.pk) <= 1 {
		return []string{id}, id != ""
	}
	var parts []string
	if err := json.Unmarshal([]byte(id), &parts); err != nil || len(parts) != len(t.pk) {
		return nil, false
	}
	return parts, true
}

// keyArgs turns a remote id into the SQL and parameters of its key's
// columns, in key order.
func (t *table) keyArgs(id string) ([]string, []any, bool) {
	parts, ok := t.keyValues(id)
	if !ok {
		return nil, nil, false
	}
	sqls := make([]string, len(parts))
	args := make([]any, len(parts))
	for i, p := range parts {
		if sqls[i], args[i], ok = keyArg(t.cols[t.pk[i]], p); !ok {
			return nil, nil, false
		}
	}
	return sqls, args, true
}

// keyEquals is the condition that a row's key is the one of keyArgs.
func (t *table) keyEquals(sqls []string) string {
	conds := make([]string, len(t.pk))
	for i, k := range t.pk {
		conds[i] = t.qualified(k) + " = " + sqls[i]
	}
	return strings.Join(conds, " AND ")
}

// qualified is column k with the table's name before it: in ORDER BY and
// WHERE a bare name could mean an output column of the SELECT list.
func (t *table) qualified(k int) string { return t.ident() + "." + t.cols[k].quoted() }

// keyAfter is the keyset condition that a row's key comes after the one of
// keyArgs, in the ORDER BY's order: (a, b) > (x, y) spelled
// a >= x AND (a > x OR b > y), which uses the key's index.
func (t *table) keyAfter(sqls []string, args []any) (string, []any) {
	var out []any
	var rec func(i int) string
	rec = func(i int) string {
		col := t.qualified(t.pk[i])
		if i == len(t.pk)-1 {
			out = append(out, args[i])
			return col + " > " + sqls[i]
		}
		out = append(out, args[i], args[i])
		return col + " >= " + sqls[i] + " AND (" + col + " > " + sqls[i] + " OR " + rec(i+1) + ")"
	}
	return rec(0), out
}

// orderBy is the keyset order of pulls.
func (t *table) orderBy() string {
	parts := make([]string, len(t.pk))
	for i, k := range t.pk {
		parts[i] = t.qualified(k)
	}
	return strings.Join(parts, ", ")
}

// keyIn is the condition that a row's key is one of ids, with its
// parameters; ids that cannot be keys of t are left out (ok is false when
// none is left).
func (t *table) keyIn(ids []string) (string, []any, bool) {
	var tuples []string
	var args []any
	for _, id := range ids {
		sqls, a, ok := t.keyArgs(id)
		if !ok {
			continue
		}
		tuple := strings.Join(sqls, ", ")
		if len(sqls) > 1 {
			tuple = "(" + tuple + ")"
		}
		tuples = append(tuples, tuple)
		args = append(args, a...)
	}
	if len(tuples) == 0 {
		return "", nil, false
	}
	cols := t.orderBy()
	if len(t.pk) > 1 {
		cols = "(" + cols + ")"
	}
	return cols + " IN (" + strings.Join(tuples, ", ") + ")", args, true
}

// scan reads rows of t.selectList(): each row's id parts, and its record
// without an id.
func (t *table) scan(rows *sql.Rows) ([][]string, []connectors.Record, error) {
	defer rows.Close()
	nk := t.keyWidth()
	texts := make([]sql.NullString, nk+len(t.cols))
	dest := make([]any, len(texts))
	for i := range texts {
		dest[i] = &texts[i]
	}
	var keys [][]string
	var recs []connectors.Record
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, classify(err)
		}
		key := make([]string, nk)
		for i := range key {
			key[i] = texts[i].String
		}
		rec := connectors.Record{Fields: make(map[string]any, len(t.cols))}
		for i, c := range t.cols {
			rec.Fields[c.name] = fromText(c, texts[nk+i])
		}
		keys = append(keys, key)
		recs = append(recs, rec)
	}
	return keys, recs, classify(rows.Err())
}

// fromText turns the text MySQL printed for a value of c into its
// canonical form.
func fromText(c column, s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	v := s.String
	switch c.typ {
	case values.Number:
		if json.Valid([]byte(v)) {
			return json.Number(v)
		}
		return nil
	case values.Boolean:
		return v != "0"
	case values.Date:
		// A zero date ('0000-00-00') is no date.
		if _, ok := values.ParseDate(v); !ok {
			return nil
		}
		return v
	case values.Datetime:
		if _, ok := values.ParseDatetime(v); !ok {
			return nil
		}
		return v
	case values.JSON:
		if !json.Valid([]byte(v)) {
			return nil
		}
		return json.RawMessage(v)
	case values.MultiSelect:
		if v == "" {
			return []string{}
		}
		return strings.Split(v, ",")
	}
	if binaryTypes[c.dataType] && (!utf8.ValidString(v) || strings.ContainsRune(v, 0)) {
		return "0x" + strings.ToUpper(hex.EncodeToString([]byte(v)))
	}
	return v
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
	var recs []connectors.Record
	if len(t.pk) == 0 {
		recs, err = c.pullByHash(ctx, t, cursor, limit)
	} else {
		recs, err = c.pullByKey(ctx, t, cursor, limit)
	}
	if err != nil {
		return connectors.Page{}, err
	}
	page := connectors.Page{Records: recs}
	if len(recs) == limit {
		page.Next = recs[len(recs)-1].ID
	}
	return page, nil
}

var errBadCursor = connectors.Errorf(connectors.Invalid, "The pull's position is not valid for this table; start the pull again.")

func (c *Connector) pullByKey(ctx context.Context, t *table, cursor string, limit int) ([]connectors.Record, error) {
	q := "SELECT " + t.selectList() + " FROM " + t.ident()
	var args []any
	if cursor != "" {
		sqls, keyArgs, ok := t.keyArgs(cursor)
		if !ok {
			return nil, errBadCursor
		}
		var where string
		where, args = t.keyAfter(sqls, keyArgs)
		q += " WHERE " + where
	}
	q += " ORDER BY " + t.orderBy() + " LIMIT " + strconv.Itoa(limit)
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classifyIn(err, t)
	}
	keys, recs, err := t.scan(rows)
	for i := range recs {
		recs[i].ID = t.formatID(keys[i])
	}
	return recs, err
}

func (c *Connector) pullByHash(ctx context.Context, t *table, cursor string, limit int) ([]connectors.Record, error) {
	q := "SELECT " + t.selectList() + " FROM " + t.ident()
	var args []any
	var ids hashIDs
	if cursor != "" {
		h, n, ok := parseHashID(cursor)
		if !ok {
			return nil, errBadCursor
		}
		q += " WHERE " + t.hashExpr() + " >= ?"
		args = append(args, h)
		ids = hashIDs{h: h, n: n}
	}
	// The rows of the cursor's hash are identical and come first: up to
	// as many as were read are skipped.
	q += " ORDER BY 1 LIMIT " + strconv.Itoa(limit+ids.n)
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classifyIn(err, t)
	}
	keys, recs, err := t.scan(rows)
	if err != nil {
		return nil, err
	}
	skip := 0
	for skip < ids.n && skip < len(keys) && keys[skip][0] == ids.h {
		skip++
	}
	recs, keys = recs[skip:], keys[skip:]
	recs = recs[:min(len(recs), limit)]
	for i := range recs {
		recs[i].ID = ids.next(keys[i][0])
	}
	return recs, nil
}

// Fetch implements connectors.Connector.
func (c *Connector) Fetch(ctx context.Context, id string, ids []string) ([]connectors.Record, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if len(t.pk) == 0 {
		return c.fetchByHash(ctx, t, ids)
	}
	where, args, ok := t.keyIn(ids)
	if !ok {
		return nil, nil
	}
	rows, err := c.db.QueryContext(ctx, "SELECT "+t.selectList()+" FROM "+t.ident()+" WHERE "+where, args...)
	if err != nil {
		return nil, classifyIn(err, t)
	}
	keys, recs, err := t.scan(rows)
	for i := range recs {
		recs[i].ID = t.formatID(keys[i])
	}
	return recs, err
}

// fetchByHash reads the rows of the ids' hashes and keeps the copies the
// ids name.
func (c *Connector) fetchByHash(ctx context.Context, t *table, ids []string) ([]connectors.Record, error) {
	want := map[string]bool{}
	var hashes []string
	var args []any
	for _, id := range ids {
		h, _, ok := parseHashID(id)
		if !ok {
			continue
		}
		if !want[id] {
			want[id] = true
			hashes = append(hashes, "?")
			args = append(args, h)
		}
	}
	if len(hashes) == 0 {
		return nil, nil
	}
	rows, err := c.db.QueryContext(ctx, "SELECT "+t.selectList()+" FROM "+t.ident()+
		" WHERE "+t.hashExpr()+" IN ("+strings.Join(hashes, ", ")+") ORDER BY 1", args...)
	if err != nil {
		return nil, classifyIn(err, t)
	}
	keys, recs, err := t.scan(rows)
	if err != nil {
		return nil, err
	}
	var out []connectors.Record
	var numbering hashIDs
	for i, rec := range recs {
		rec.ID = numbering.next(keys[i][0])
		if want[rec.ID] {
			out = append(out, rec)
		}
	}
	return out, nil
}
