package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/values"
)

// table is a remote table as the connector reads and writes it.
type table struct {
	id      string
	schema  string
	name    string
	display string
	cols    []column
	// pk are the indexes in cols of the primary key's columns, in key
	// order; empty for a table without one (or a view), whose rows are
	// told apart by a hash of their values.
	pk []int
	// uniques are the columns of each unique index, by index name, to
	// name the column of a duplicate-entry error.
	uniques  map[string][]string
	readOnly string
	// transactional says a failed statement leaves nothing behind (InnoDB):
	// only then is a batch tried in one statement, since a non-transactional
	// engine keeps the rows a failed multi-row statement wrote before
	// failing, and writing them again one by one would write them twice.
	transactional bool
	estimate      int64
}

// column is a remote column.
type column struct {
	name string
	typ  values.Type
	// dataType is information_schema's DATA_TYPE ("varchar"), in lower
	// case; columnType is its COLUMN_TYPE ("varchar(200)"), shown to people.
	dataType   string
	columnType string
	unsigned   bool
	// precision and scale are a decimal's, for casts of key values.
	precision, scale int64
	autoIncrement    bool
	readOnly         bool
	required         bool
	options          []string
}

// quoted is the column's quoted identifier.
func (c column) quoted() string { return quoteIdent(c.name) }

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// tableID is the remote id of database.table: the quoted identifier, which
// is unambiguous whatever the names hold.
func tableID(schema, name string) string { return quoteIdent(schema) + "." + quoteIdent(name) }

// ident is the table's quoted name for statements.
func (t *table) ident() string { return tableID(t.schema, t.name) }

// parseTableID splits an id made by tableID.
func parseTableID(id string) (schema, name string, ok bool) {
	var parts []string
	s := id
	for len(parts) < 2 {
		if !strings.HasPrefix(s, "`") {
			return "", "", false
		}
		s = s[1:]
		var b strings.Builder
		for {
			i := strings.IndexByte(s, '`')
			if i < 0 {
				return "", "", false
			}
			b.WriteString(s[:i])
			s = s[i+1:]
			if strings.HasPrefix(s, "`") {
				b.WriteByte('`')
				s = s[1:]
				continue
			}
			break
		}
		parts = append(parts, b.String())
		if len(parts) == 1 {
			if !strings.HasPrefix(s, ".") {
				return "", "", false
			}
			s = s[1:]
		}
	}
	if s != "" || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// systemSchemas are the server's own databases, never listed.
const systemSchemas = "'information_schema', 'mysql', 'performance_schema', 'sys'"

// ListTables implements connectors.Connector: the tables and views of
// every database the user may see, the connection's database first.
func (c *Connector) ListTables(ctx context.Context, search string, limit int) ([]connectors.RemoteTable, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := c.db.QueryContext(ctx, `
		SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
		WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')
		  AND TABLE_SCHEMA NOT IN (`+systemSchemas+`)
		  AND (? = '' OR LOCATE(LOWER(?), LOWER(CONCAT(TABLE_SCHEMA, '.', TABLE_NAME))) > 0)
		ORDER BY TABLE_SCHEMA = ? DESC, TABLE_SCHEMA, TABLE_NAME
		LIMIT ?`, search, search, c.database, limit)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []connectors.RemoteTable
	for rows.Next() {
		var schema, name, kind string
		if err := rows.Scan(&schema, &name, &kind); err != nil {
			return nil, classify(err)
		}
		desc := "table"
		if kind == "VIEW" {
			desc = "view"
		}
		out = append(out, connectors.RemoteTable{ID: tableID(schema, name), Name: c.displayName(schema, name), Description: desc})
	}
	return out, classify(rows.Err())
}

// displayName is a table's name, with its database when that is not the
// connection's.
func (c *Connector) displayName(schema, name string) string {
	if schema == c.database {
		return name
	}
	return schema + "." + name
}

// TableSpec implements connectors.Connector.
func (c *Connector) TableSpec(ctx context.Context, id string) (connectors.TableSpec, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return connectors.TableSpec{}, err
	}
	spec := connectors.TableSpec{ID: t.id, Name: t.display, ReadOnly: t.readOnly, EstimatedRecords: t.estimate}
	for _, col := range t.cols {
		format := ""
		if col.typ == values.Text {
			format = values.FormatPlain
		}
		spec.Columns = append(spec.Columns, connectors.ColumnSpec{
			Key: col.name, Name: col.name, Type: col.typ, Format: format, RemoteType: col.columnType,
			ReadOnly: col.readOnly, Required: col.required, Options: col.options,
		})
	}
	return spec, nil
}

var errTableNotFound = connectors.Errorf(connectors.NotFound, "The table does not exist, or the database user may not read it.")

// table describes table id, from the cache or information_schema.
func (c *Connector) table(ctx context.Context, id string) (*table, error) {
	c.mu.Lock()
	t, ok := c.tables[id]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	schema, name, ok := parseTableID(id)
	if !ok {
		return nil, errTableNotFound
	}
	t, err := c.describe(ctx, id, schema, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.tables[id] = t
	c.mu.Unlock()
	return t, nil
}

func (c *Connector) describe(ctx context.Context, id, schema, name string) (*table, error) {
	t := &table{id: id, schema: schema, name: name, display: c.displayName(schema, name), uniques: map[string][]string{}}
	var kind string
	var engine sql.NullString
	var rows sql.NullInt64
	err := c.db.QueryRowContext(ctx, `
		SELECT TABLE_TYPE, ENGINE, TABLE_ROWS FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')`,
		schema, name).Scan(&kind, &engine, &rows)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTableNotFound
	}
	if err != nil {
		return nil, classify(err)
	}
	t.estimate = -1
	if rows.Valid {
		t.estimate = rows.Int64
	}
	t.transactional = transactionalEngines[strings.ToLower(engine.String)]
	jsonCols, err := c.jsonChecked(ctx, schema, name)
	if err != nil {
		return nil, err
	}
	if err := c.describeColumns(ctx, t, jsonCols); err != nil {
		return nil, err
	}
	if len(t.cols) == 0 {
		// information_schema shows no columns of a table the user may
		// not read.
		return nil, errTableNotFound
	}
	if err := c.describeKeys(ctx, t); err != nil {
		return nil, err
	}
	switch {
	case kind == "VIEW":
		t.readOnly = "It is a view: the database computes its rows from other tables."
		t.pk = nil
	case len(t.pk) == 0:
		t.readOnly = "It has no primary key, so its records cannot be told apart for writing."
	}
	if t.readOnly != "" {
		for i := range t.cols {
			t.cols[i].readOnly = true
		}
	}
	return t, nil
}

// transactionalEngines are the storage engines whose statements are
// atomic.
var transactionalEngines = map[string]bool{"innodb": true, "rocksdb": true, "tokudb": true, "ndbcluster": true, "ndb": true}

func (c *Connector) describeColumns(ctx context.Context, t *table, jsonCols map[string]bool) error {
	rows, err := c.db.QueryContext(ctx, `
		SELECT COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IS_NULLABLE = 'YES', COLUMN_DEFAULT IS NOT NULL,
		       LOWER(EXTRA), LOWER(PRIVILEGES), COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0)
		FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
		ORDER BY ORDINAL_POSITION`, t.schema, t.name)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var col column
		var nullable, hasDefault bool
		var extra, privileges string
		if err := rows.Scan(&col.name, &col.dataType, &col.columnType, &nullable, &hasDefault, &extra, &privileges, &col.precision, &col.scale); err != nil {
			return classify(err)
		}
		col.unsigned = strings.Contains(strings.ToLower(col.columnType), "unsigned")
		col.autoIncrement = strings.Contains(extra, "auto_increment")
		// VIRTUAL or STORED GENERATED columns are computed; MariaDB's
		// ROW START and ROW END are system versioning's. MySQL's
		// DEFAULT_GENERATED is only an expression default.
		computed := strings.Contains(extra, "virtual generated") || strings.Contains(extra, "stored generated") ||
			strings.Contains(extra, "persistent generated") || strings.Contains(extra, "row start") || strings.Contains(extra, "row end")
		privs := strings.Split(privileges, ",")
		writable := slices.Contains(privs, "insert") && slices.Contains(privs, "update")
		var unreadable bool
		col.typ, unreadable = mapType(col.dataType, col.columnType, jsonCols[strings.ToLower(col.name)])
		col.readOnly = unreadable || computed || col.autoIncrement || !writable
		col.required = !nullable && !hasDefault && !computed && !col.autoIncrement
		if col.typ == values.Select || col.typ == values.MultiSelect {
			col.options = parseOptions(col.columnType)
		}
		t.cols = append(t.cols, col)
	}
	return classify(rows.Err())
}

// describeKeys reads the primary key's columns in key order, and the
// columns of the unique indexes.
func (c *Connector) describeKeys(ctx context.Context, t *table) error {
	rows, err := c.db.QueryContext(ctx, `
		SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
		ORDER BY INDEX_NAME, SEQ_IN_INDEX`, t.schema, t.name)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var index, col string
		if err := rows.Scan(&index, &col); err != nil {
			return classify(err)
		}
		t.uniques[index] = append(t.uniques[index], col)
		if index == "PRIMARY" {
			i, ok := t.column(col)
			if !ok {
				return fmt.Errorf("mysql: primary key column %s of %s is not among its columns", col, t.id)
			}
			t.pk = append(t.pk, i)
		}
	}
	return classify(rows.Err())
}

// jsonChecked returns, in lower case, the columns of a MariaDB table that
// hold JSON: MariaDB's JSON is LONGTEXT with a json_valid check, where
// MySQL has a JSON type.
func (c *Connector) jsonChecked(ctx context.Context, schema, name string) (map[string]bool, error) {
	srv, err := c.serverInfo(ctx)
	if err != nil || !srv.mariaDB {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, `
		SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, schema, name)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return nil, classify(err)
		}
		if col, ok := jsonValidColumn(clause); ok {
			out[strings.ToLower(col)] = true
		}
	}
	return out, classify(rows.Err())
}

// jsonValidColumn reads the column of a check "json_valid(`meta`)".
func jsonValidColumn(clause string) (string, bool) {
	clause = strings.TrimSpace(clause)
	if len(clause) < len("json_valid(``)") || !strings.EqualFold(clause[:len("json_valid(")], "json_valid(") || !strings.HasSuffix(clause, ")") {
		return "", false
	}
	inner := strings.TrimSpace(clause[len("json_valid(") : len(clause)-1])
	if len(inner) < 3 || inner[0] != '`' || inner[len(inner)-1] != '`' {
		return "", false
	}
	name := inner[1 : len(inner)-1]
	if strings.Contains(strings.ReplaceAll(name, "``", ""), "`") {
		return "", false
	}
	return strings.ReplaceAll(name, "``", "`"), true
}

// mapType maps a MySQL column type to a column type, and says whether the
// connector must treat it as read-only (its text does not turn back into
// the value).
func mapType(dataType, columnType string, jsonChecked bool) (values.Type, bool) {
	switch {
	case dataType == "tinyint" && strings.HasPrefix(strings.ToLower(columnType), "tinyint(1)"):
		return values.Boolean, false
	case numberTypes[dataType]:
		return values.Number, false
	case dataType == "json" || jsonChecked && textTypes[dataType]:
		return values.JSON, false
	case textTypes[dataType]:
		return values.Text, false
	case binaryTypes[dataType] || geometryTypes[dataType]:
		return values.Text, true
	}
	switch dataType {
	case "date":
		return values.Date, false
	case "datetime", "timestamp":
		return values.Datetime, false
	case "enum":
		return values.Select, false
	case "set":
		return values.MultiSelect, false
	}
	// Anything else (time, uuid, inet6...) is text in the server's own
	// notation, which it parses back.
	return values.Text, false
}

var numberTypes = map[string]bool{
	"tinyint": true, "smallint": true, "mediumint": true, "int": true, "integer": true, "bigint": true,
	"decimal": true, "numeric": true, "float": true, "double": true, "real": true, "year": true, "bit": true,
}

var integerTypes = map[string]bool{"tinyint": true, "smallint": true, "mediumint": true, "int": true, "integer": true, "bigint": true}

var textTypes = map[string]bool{"char": true, "varchar": true, "tinytext": true, "text": true, "mediumtext": true, "longtext": true}

var binaryTypes = map[string]bool{
	"binary": true, "varbinary": true, "tinyblob": true, "blob": true, "mediumblob": true, "longblob": true, "vector": true,
}

var geometryTypes = map[string]bool{
	"geometry": true, "point": true, "linestring": true, "polygon": true, "multipoint": true,
	"multilinestring": true, "multipolygon": true, "geometrycollection": true, "geomcollection": true,
}

// parseOptions reads the members of "enum('a','it”s')" or "set(...)".
func parseOptions(columnType string) []string {
	open := strings.IndexByte(columnType, '(')
	end := strings.LastIndexByte(columnType, ')')
	if open < 0 || end < open {
		return nil
	}
	s := columnType[open+1 : end]
	var out []string
	for len(s) > 0 && s[0] == '\'' {
		var b strings.Builder
		i := 1
		for ; i < len(s); i++ {
			ch := s[i]
			if ch == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
				continue
			}
			if ch == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(ch)
		}
		out = append(out, b.String())
		s = strings.TrimPrefix(s[min(i+1, len(s)):], ",")
	}
	return out
}

// requireWritable refuses writes to a read-only table.
func requireWritable(t *table) error {
	if t.readOnly != "" {
		return connectors.Errorf(connectors.Invalid, "This table cannot be written: %s", t.readOnly)
	}
	return nil
}

// column returns the index of the column named key.
func (t *table) column(key string) (int, bool) {
	for i, c := range t.cols {
		if c.name == key {
			return i, true
		}
	}
	return 0, false
}

// uniqueColumn names the column of unique index key, when it has one
// column; t may be nil.
func (t *table) uniqueColumn(key string) string {
	if t == nil {
		return ""
	}
	if cols := t.uniques[key]; len(cols) == 1 {
		return cols[0]
	}
	return ""
}

// jsonCheck names the JSON column whose check constraint is name: MariaDB
// names a column's JSON check after the column. t may be nil.
func (t *table) jsonCheck(name string) string {
	if t == nil {
		return ""
	}
	if i, ok := t.column(name); ok && t.cols[i].typ == values.JSON {
		return name
	}
	return ""
}

// unknownColumn is the error of a write naming a column the table lacks.
func unknownColumn(key string) error {
	return &connectors.Error{Kind: connectors.Invalid, Field: key, Message: fmt.Sprintf("The table has no column %s.", key)}
}
