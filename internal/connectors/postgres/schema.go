package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/values"
)

// table is a remote table as the connector reads and writes it.
type table struct {
	id    string
	ident pgx.Identifier
	name  string
	cols  []column
	// pk are the indexes in cols of the primary key's columns, in key
	// order; empty for a table without one, which is pulled by ctid.
	pk       []int
	readOnly string
	estimate int64
}

// column is a remote column.
type column struct {
	name string
	typ  values.Type
	// sqlType is the column's type as format_type prints it (quoted where
	// needed), for casts: $n::text::<sqlType>.
	sqlType  string
	array    bool
	readOnly bool
	required bool
	options  []string
}

// quoted is the column's quoted identifier.
func (c column) quoted() string { return pgx.Identifier{c.name}.Sanitize() }

// tableID is the remote id of schema.name: the quoted identifier, which is
// unambiguous whatever the names hold.
func tableID(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// parseTableID splits an id made by tableID.
func parseTableID(id string) (pgx.Identifier, bool) {
	var parts []string
	s := id
	for len(parts) < 2 {
		if !strings.HasPrefix(s, `"`) {
			return nil, false
		}
		s = s[1:]
		var b strings.Builder
		for {
			i := strings.IndexByte(s, '"')
			if i < 0 {
				return nil, false
			}
			b.WriteString(s[:i])
			s = s[i+1:]
			if strings.HasPrefix(s, `"`) {
				b.WriteByte('"')
				s = s[1:]
				continue
			}
			break
		}
		parts = append(parts, b.String())
		if len(parts) == 1 {
			if !strings.HasPrefix(s, ".") {
				return nil, false
			}
			s = s[1:]
		}
	}
	if s != "" || parts[0] == "" || parts[1] == "" {
		return nil, false
	}
	return pgx.Identifier(parts), true
}

// ListTables implements connectors.Connector: the tables, views and
// foreign tables the user may read, outside the system schemas.
func (c *Connector) ListTables(ctx context.Context, search string, limit int) ([]connectors.RemoteTable, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := c.pool.Query(ctx, `
		SELECT n.nspname, c.relname, c.relkind::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
		  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
		  AND NOT c.relispartition
		  AND has_table_privilege(c.oid, 'SELECT')
		  AND ($1 = '' OR strpos(lower(n.nspname || '.' || c.relname), lower($1)) > 0)
		ORDER BY n.nspname = 'public' DESC, n.nspname, c.relname
		LIMIT $2`, search, limit)
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
		out = append(out, connectors.RemoteTable{ID: tableID(schema, name), Name: displayName(schema, name), Description: kindName(kind)})
	}
	return out, classify(rows.Err())
}

func displayName(schema, name string) string {
	if schema == "public" {
		return name
	}
	return schema + "." + name
}

func kindName(relkind string) string {
	switch relkind {
	case "v":
		return "view"
	case "m":
		return "materialized view"
	case "f":
		return "foreign table"
	case "p":
		return "partitioned table"
	}
	return "table"
}

// TableSpec implements connectors.Connector.
func (c *Connector) TableSpec(ctx context.Context, id string) (connectors.TableSpec, error) {
	t, err := c.table(ctx, id)
	if err != nil {
		return connectors.TableSpec{}, err
	}
	spec := connectors.TableSpec{ID: t.id, Name: t.name, ReadOnly: t.readOnly, EstimatedRecords: t.estimate}
	for _, col := range t.cols {
		format := ""
		if col.typ == values.Text {
			format = values.FormatPlain
		}
		spec.Columns = append(spec.Columns, connectors.ColumnSpec{
			Key: col.name, Name: col.name, Type: col.typ, Format: format, RemoteType: col.sqlType,
			ReadOnly: col.readOnly, Required: col.required, Options: col.options,
		})
	}
	return spec, nil
}

var errTableNotFound = connectors.Errorf(connectors.NotFound, "The table does not exist, or the database user may not read it.")

// table describes table id, from the cache or the catalogs.
func (c *Connector) table(ctx context.Context, id string) (*table, error) {
	c.mu.Lock()
	t, ok := c.tables[id]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	ident, ok := parseTableID(id)
	if !ok {
		return nil, errTableNotFound
	}
	t, err := c.describe(ctx, id, ident)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.tables[id] = t
	c.mu.Unlock()
	return t, nil
}

func (c *Connector) describe(ctx context.Context, id string, ident pgx.Identifier) (*table, error) {
	t := &table{id: id, ident: ident, name: displayName(ident[0], ident[1])}
	var relkind string
	var oid uint32
	err := c.pool.QueryRow(ctx, `
		SELECT c.oid, c.relkind::text, greatest(c.reltuples, -1)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
		  AND has_table_privilege(c.oid, 'SELECT')`, ident[0], ident[1]).Scan(&oid, &relkind, &t.estimate)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errTableNotFound
	}
	if err != nil {
		return nil, classify(err)
	}
	rows, err := c.pool.Query(ctx, `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod),
		       coalesce(et.typname, t.typname), coalesce(et.typtype, t.typtype)::text, t.typcategory = 'A',
		       a.attnotnull, a.atthasdef OR a.attidentity <> '', a.attidentity <> '' OR a.attgenerated <> '',
		       coalesce(pk.pos, 0),
		       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
		         WHERE e.enumtypid = coalesce(et.oid, t.oid)),
		       has_column_privilege(a.attrelid, a.attnum, 'UPDATE') AND has_column_privilege(a.attrelid, a.attnum, 'INSERT')
		FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
		LEFT JOIN LATERAL (
		    SELECT k.n AS pos FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY k(att, n)
		    WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum) pk ON true
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	type keyCol struct{ pos, idx int }
	var keys []keyCol
	for rows.Next() {
		var col column
		var base, typtype string
		var notNull, hasDefault, computed, writable bool
		var pkPos int
		if err := rows.Scan(&col.name, &col.sqlType, &base, &typtype, &col.array, &notNull, &hasDefault, &computed, &pkPos, &col.options, &writable); err != nil {
			return nil, classify(err)
		}
		col.typ, col.readOnly = mapType(base, typtype, col.array)
		col.readOnly = col.readOnly || computed || !writable
		col.required = notNull && !hasDefault && !computed
		if col.typ != values.Select && col.typ != values.MultiSelect {
			col.options = nil
		}
		if pkPos > 0 {
			keys = append(keys, keyCol{pos: pkPos, idx: len(t.cols)})
		}
		t.cols = append(t.cols, col)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	for pos := 1; pos <= len(keys); pos++ {
		for _, k := range keys {
			if k.pos == pos {
				t.pk = append(t.pk, k.idx)
			}
		}
	}
	switch {
	case relkind == "v" || relkind == "m":
		t.readOnly = "It is a view: PostgreSQL computes its rows from other tables."
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

// mapType maps a PostgreSQL type (its base type name and kind; the element's
// for an array) to a column type, and says whether the connector must treat
// it as read-only.
func mapType(base, typtype string, array bool) (values.Type, bool) {
	if array {
		switch {
		case typtype == "e", textTypes[base]:
			return values.MultiSelect, false
		}
		// Arrays of other types read as JSON text, which PostgreSQL
		// cannot parse back into them.
		return values.JSON, true
	}
	switch {
	case typtype == "e":
		return values.Select, false
	case textTypes[base]:
		return values.Text, false
	case numberTypes[base]:
		return values.Number, false
	}
	switch base {
	case "bool":
		return values.Boolean, false
	case "date":
		return values.Date, false
	case "timestamp", "timestamptz":
		return values.Datetime, false
	case "json", "jsonb":
		return values.JSON, false
	}
	// Anything else (time, interval, inet, bytea, geometry...) is text in
	// PostgreSQL's own notation, which it parses back.
	return values.Text, false
}

var textTypes = map[string]bool{"text": true, "varchar": true, "bpchar": true, "citext": true, "name": true, "uuid": true}

var numberTypes = map[string]bool{"int2": true, "int4": true, "int8": true, "numeric": true, "float4": true, "float8": true, "oid": true}

// requireWritable refuses writes to a read-only table.
func requireWritable(t *table) error {
	if t.readOnly != "" {
		return connectors.Errorf(connectors.Invalid, "This table cannot be written: %s", t.readOnly)
	}
	return nil
}

// columnByName returns the column named key.
func (t *table) column(key string) (int, bool) {
	for i, c := range t.cols {
		if c.name == key {
			return i, true
		}
	}
	return 0, false
}

// unknownColumn is the error of a write naming a column the table lacks.
func unknownColumn(key string) error {
	return &connectors.Error{Kind: connectors.Invalid, Field: key, Message: fmt.Sprintf("The table has no column %s.", key)}
}
