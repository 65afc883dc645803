package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/values"
)

// This file changes one column of a table from the grid's column menu:
// its name, its type (with a preview of the cells that would not convert)
// and its options. Each runs under the table's exclusive lock, so no record
// changes between reading and rewriting the column's values.

var errColumnNotFound = apperr.New(apperr.NotFound, "Column not found.")

// fromSource reports whether col's values come from t's data source: its
// type and its values are the source's, and publishing writes them back
// under RemoteKey.
func (t Table) fromSource(col Column) bool {
	return t.Sourced() && !col.Scratch && col.RemoteKey != ""
}

// RenameColumn renames one column of a table. A column linked to a data
// source keeps its RemoteKey: its values are still pulled and published
// under the source's field name, whatever it is called here. Filters and
// sorts written with the old name stop matching it; its id is unchanged.
// Errors: Invalid (an empty, too long or taken name), NotFound.
func (s *Service) RenameColumn(ctx context.Context, ownerID, workbookID, tableID, column, name string) (Table, error) {
	name = strings.TrimSpace(name)
	if msg := validateName(name); msg != "" {
		return Table{}, apperr.InvalidFields("Please correct the column name.", apperr.FieldError{Field: "name", Message: msg})
	}
	return s.changeTable(ctx, ownerID, workbookID, tableID, "rename column", func(q *db.Queries, t Table) (db.WorkbookTable, error) {
		col, ok := t.Columns.Lookup(column)
		if !ok {
			return db.WorkbookTable{}, errColumnNotFound
		}
		for _, c := range t.Columns {
			if c.ID != col.ID && strings.EqualFold(c.Name, name) {
				return db.WorkbookTable{}, apperr.InvalidFields("Please correct the column name.",
					apperr.FieldError{Field: "name", Message: "is already used by another column"})
			}
		}
		cols := slices.Clone(t.Columns)
		cols[slices.IndexFunc(cols, func(c Column) bool { return c.ID == col.ID })].Name = name
		return saveColumns(ctx, q, t, cols, t.HiddenColumns)
	})
}

// MaxTypeChangeExamples is how many cells that would not convert a
// TypeChangePreview lists.
const MaxTypeChangeExamples = 20

// TypeChangePreview says what changing a column's type would do to its
// values: how many hold a value, and which would not convert.
type TypeChangePreview struct {
	Column Column
	To     values.Type
	// Cells is how many records hold a value in the column; Failing how
	// many of those values the new type cannot read, and Examples the
	// first MaxTypeChangeExamples of them in the table's order.
	Cells    int
	Failing  int
	Examples []FailingCell
	// FailingSuggestions counts pending suggestions for the column whose
	// value the new type cannot read.
	FailingSuggestions int
}

// FailingCell is a value that would not convert, and why.
type FailingCell struct {
	RecordID string
	// Label is the record's value in the table's first column, to know it
	// by ("" when that is the column itself).
	Label   string
	Text    string
	Problem string
}

// typeChange is a planned type change: the column as it will be, the new
// value of each cell and suggestion that holds one, and what fails.
type typeChange struct {
	preview TypeChangePreview
	col     Column
	cells   []convertedCell
	suggs   []convertedSuggestion
}

type convertedCell struct {
	id string
	// value and pulled are the new value and value as pulled (nil: none);
	// hasPulled says the record's original records the column.
	value, pulled any
	hasPulled     bool
}

type convertedSuggestion struct {
	id    int64
	value any // nil: it cannot convert, and goes
}

// PreviewTypeChange reports what ChangeColumnType would do to the column's
// values, changing nothing. Errors: as ChangeColumnType, except that
// failing cells are reported, not refused.
func (s *Service) PreviewTypeChange(ctx context.Context, ownerID, workbookID, tableID, column string, to values.Type) (TypeChangePreview, error) {
	var out TypeChangePreview
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		plan, err := planTypeChange(ctx, tx, t, column, to)
		out = plan.preview
		return err
	})
	if err != nil {
		return TypeChangePreview{}, wrap("preview type change", err)
	}
	return out, nil
}

// ChangeColumnType changes a column's type and converts every value it
// holds (and every pending suggestion for it) as if its text were typed
// into a column of the new type. When some values would not convert the
// change is refused and nothing changes, unless clearFailing: then those
// values are emptied (and such suggestions withdrawn). A new select or
// multi select column gets its distinct values as options when there are
// at most MaxAdoptedOptions of them. A column whose values come from a
// data source keeps the source's type: publishing writes its values back
// to the source, which would refuse values of another type.
// Errors: Invalid (the same type, an unknown type, a source column, values
// that would not convert), NotFound.
func (s *Service) ChangeColumnType(ctx context.Context, ownerID, workbookID, tableID, column string, to values.Type, clearFailing bool) (Table, TypeChangePreview, error) {
	var preview TypeChangePreview
	t, err := s.changeTableTx(ctx, ownerID, workbookID, tableID, "change column type", func(tx pgx.Tx, q *db.Queries, t Table) (db.WorkbookTable, error) {
		plan, err := planTypeChange(ctx, tx, t, column, to)
		preview = plan.preview
		if err != nil {
			return db.WorkbookTable{}, err
		}
		if plan.preview.Failing+plan.preview.FailingSuggestions > 0 && !clearFailing {
			return db.WorkbookTable{}, apperr.InvalidFields(fmt.Sprintf("%d %s of %s cannot be read as %s; nothing was changed.",
				plan.preview.Failing, plural(plan.preview.Failing, "value", "values"), plan.col.Name, typeName(to)),
				apperr.FieldError{Field: "type", Message: "would leave values that do not convert"})
		}
		if err := writeTypeChange(ctx, tx, t, plan); err != nil {
			return db.WorkbookTable{}, err
		}
		col := plan.col
		if (to == values.Select || to == values.MultiSelect) && len(col.Options) == 0 {
			opts, err := distinctOptions(ctx, tx, t, col)
			if err != nil {
				return db.WorkbookTable{}, err
			}
			if len(opts) <= MaxAdoptedOptions {
				col.Options = opts
			}
		}
		cols := slices.Clone(t.Columns)
		cols[slices.IndexFunc(cols, func(c Column) bool { return c.ID == col.ID })] = col
		return saveColumns(ctx, q, t, cols, t.HiddenColumns)
	})
	if err != nil {
		return Table{}, preview, err
	}
	return t, preview, nil
}

func typeName(t values.Type) string { return strings.ReplaceAll(string(t), "_", " ") }

// planTypeChange reads the column's values and suggestions and converts
// them, inside tx.
func planTypeChange(ctx context.Context, tx pgx.Tx, t Table, column string, to values.Type) (typeChange, error) {
	old, ok := t.Columns.Lookup(column)
	if !ok {
		return typeChange{}, errColumnNotFound
	}
	p := typeChange{preview: TypeChangePreview{Column: old, To: to}}
	switch {
	case !to.Valid():
		return p, apperr.InvalidFields("Choose a type.", apperr.FieldError{Field: "type", Message: fmt.Sprintf("has unknown type %q", to)})
	case to == old.Type:
		return p, apperr.InvalidFields(fmt.Sprintf("%s is already a %s column.", old.Name, typeName(to)),
			apperr.FieldError{Field: "type", Message: "is the column's type already"})
	case t.fromSource(old):
		return p, apperr.InvalidFields(fmt.Sprintf("%s comes from the data source, which decides its type: publishing writes its values back there under %q. "+
			"Change the type at the source and pull again, or add a scratch column of the type you want.", old.Name, old.RemoteKey),
			apperr.FieldError{Field: "type", Message: "is the data source's"})
	}
	col := old
	col.Type, col.Format = to, ""
	if to == values.Text {
		col.Format = values.FormatPlain
	}
	if !(to == values.Select || to == values.MultiSelect) || !(old.Type == values.Select || old.Type == values.MultiSelect) {
		col.Options = nil
	}
	p.col = col
	convert := func(v any) (any, string) {
		if v == nil {
			return nil, ""
		}
		nv, err := values.Parse(col.Spec(), old.Text(v))
		if err != nil {
			return nil, err.Error()
		}
		if cellSize(nv) > MaxCellBytes {
			return nil, cellTooLarge
		}
		return nv, ""
	}

	first := t.Columns[0]
	rows, err := tx.Query(ctx, `SELECT id, fields -> $3::text, original ? $3::text, original -> $3::text, fields -> $4::text FROM records
		WHERE workbook_id = $1 AND table_id = $2 AND (fields ? $3::text OR original ? $3::text) ORDER BY seq`,
		t.WorkbookID, t.ID, col.ID, first.ID)
	if err != nil {
		return p, fmt.Errorf("workbooks: read column: %w", err)
	}
	type cell struct {
		id                   string
		value, pulled, label []byte
		hasPulled            *bool
	}
	var cells []cell
	for rows.Next() {
		var c cell
		if err := rows.Scan(&c.id, &c.value, &c.hasPulled, &c.pulled, &c.label); err != nil {
			rows.Close()
			return p, fmt.Errorf("workbooks: read column: %w", err)
		}
		cells = append(cells, c)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("workbooks: read column: %w", err)
	}
	for _, c := range cells {
		v, pulled := decodeStored(c.value), decodeStored(c.pulled)
		out := convertedCell{id: c.id, hasPulled: c.hasPulled != nil && *c.hasPulled}
		var problem string
		if v != nil {
			p.preview.Cells++
			if out.value, problem = convert(v); problem != "" {
				p.preview.Failing++
				if len(p.preview.Examples) < MaxTypeChangeExamples {
					ex := FailingCell{RecordID: c.id, Text: old.Text(v), Problem: problem}
					if first.ID != col.ID {
						ex.Label = first.Text(decodeStored(c.label))
					}
					p.preview.Examples = append(p.preview.Examples, ex)
				}
			}
		}
		// A value as pulled that does not convert is emptied with no
		// question: only this record's edit keeps it, and it is gone at
		// the next pull anyway.
		out.pulled, _ = convert(pulled)
		p.cells = append(p.cells, out)
	}

	srows, err := tx.Query(ctx, `SELECT id, value FROM suggestions
		WHERE workbook_id = $1 AND table_id = $2 AND action = 'update' AND field = $3`, t.WorkbookID, t.ID, col.ID)
	if err != nil {
		return p, fmt.Errorf("workbooks: read suggestions: %w", err)
	}
	type sugg struct {
		id    int64
		value []byte
	}
	var suggs []sugg
	for srows.Next() {
		var sg sugg
		if err := srows.Scan(&sg.id, &sg.value); err != nil {
			srows.Close()
			return p, fmt.Errorf("workbooks: read suggestions: %w", err)
		}
		suggs = append(suggs, sg)
	}
	if err := srows.Err(); err != nil {
		return p, fmt.Errorf("workbooks: read suggestions: %w", err)
	}
	for _, sg := range suggs {
		v := decodeStored(sg.value)
		nv, problem := convert(v)
		if problem != "" {
			p.preview.FailingSuggestions++
		}
		p.suggs = append(p.suggs, convertedSuggestion{id: sg.id, value: nv})
	}
	return p, nil
}

// decodeStored decodes a stored value; JSON null and no value are nil.
func decodeStored(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

// writeTypeChange stores the converted values and suggestions of plan in
// one statement each. Versions move on, so an editor opened on the old
// value does not save it over the converted one unseen.
func writeTypeChange(ctx context.Context, tx pgx.Tx, t Table, plan typeChange) error {
	if len(plan.cells) > 0 {
		ids := make([]string, len(plan.cells))
		vals := make([]*string, len(plan.cells))
		hasPulled := make([]bool, len(plan.cells))
		pulled := make([]string, len(plan.cells))
		for i, c := range plan.cells {
			ids[i], hasPulled[i] = c.id, c.hasPulled
			if c.value != nil {
				b, err := json.Marshal(c.value)
				if err != nil {
					return err
				}
				s := string(b)
				vals[i] = &s
			}
			pulled[i] = "null"
			if c.pulled != nil {
				b, err := json.Marshal(c.pulled)
				if err != nil {
					return err
				}
				pulled[i] = string(b)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE records r SET
				fields = CASE WHEN u.v IS NULL THEN r.fields - $3::text ELSE jsonb_set(r.fields, ARRAY[$3::text], u.v) END,
				original = CASE WHEN u.has_pulled THEN jsonb_set(r.original, ARRAY[$3::text], u.pulled) ELSE r.original END,
				version = r.version + 1, updated_at = now()
			FROM unnest($4::uuid[], $5::jsonb[], $6::bool[], $7::jsonb[]) u(id, v, has_pulled, pulled)
			WHERE r.workbook_id = $1 AND r.table_id = $2 AND r.id = u.id`,
			t.WorkbookID, t.ID, plan.col.ID, ids, vals, hasPulled, pulled); err != nil {
			return fmt.Errorf("workbooks: convert values: %w", err)
		}
	}
	var keep, drop []int64
	var keepVals []string
	for _, sg := range plan.suggs {
		if sg.value == nil {
			drop = append(drop, sg.id)
			continue
		}
		b, err := json.Marshal(sg.value)
		if err != nil {
			return err
		}
		keep, keepVals = append(keep, sg.id), append(keepVals, string(b))
	}
	if len(drop) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM suggestions WHERE workbook_id = $1 AND table_id = $2 AND id = ANY($3)`,
			t.WorkbookID, t.ID, drop); err != nil {
			return fmt.Errorf("workbooks: withdraw suggestions: %w", err)
		}
	}
	if len(keep) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE suggestions sg SET value = u.v
			FROM unnest($3::bigint[], $4::jsonb[]) u(id, v)
			WHERE sg.workbook_id = $1 AND sg.table_id = $2 AND sg.id = u.id`, t.WorkbookID, t.ID, keep, keepVals); err != nil {
			return fmt.Errorf("workbooks: convert suggestions: %w", err)
		}
	}
	return nil
}

// MaxOptions bounds the options of one select or multi select column, and
// MaxOptionLength the length of one, in characters.
const (
	MaxOptions      = 500
	MaxOptionLength = 200
)

// OptionEdit is one option of a column as the menu sends it back: From is
// the option as it was ("" for a new one), To as it is to be ("" removes
// it).
type OptionEdit struct {
	From, To string
}

// SetColumnOptions sets the options of a select or multi select column, in
// the order given. An option renamed (From and To both set, different)
// is renamed in every cell, value as pulled and pending suggestion that
// holds it, so the rename is not an edit waiting to be published. An
// option removed stays in the cells that hold it (they show it, and their
// editor keeps it) until someone changes them: removing a choice does not
// silently empty records. A column from a data source can gain and lose
// options, but not rename them: the cells' values are the source's, and
// renaming would change them there at the next publish. It returns how
// many records changed. Errors: Invalid, NotFound.
func (s *Service) SetColumnOptions(ctx context.Context, ownerID, workbookID, tableID, column string, edits []OptionEdit) (Table, int, error) {
	changed := 0
	t, err := s.changeTableTx(ctx, ownerID, workbookID, tableID, "set column options", func(tx pgx.Tx, q *db.Queries, t Table) (db.WorkbookTable, error) {
		col, ok := t.Columns.Lookup(column)
		if !ok {
			return db.WorkbookTable{}, errColumnNotFound
		}
		if col.Type != values.Select && col.Type != values.MultiSelect {
			return db.WorkbookTable{}, apperr.InvalidFields(fmt.Sprintf("%s is not a select column: it has no options.", col.Name),
				apperr.FieldError{Field: "options", Message: "belong to select columns"})
		}
		var opts []string
		renames := map[string]string{}
		for _, e := range edits {
			from, to := strings.TrimSpace(e.From), strings.TrimSpace(e.To)
			if to == "" {
				continue
			}
			if msg := validateOption(to); msg != "" {
				return db.WorkbookTable{}, apperr.InvalidFields("Please correct the options.", apperr.FieldError{Field: "options", Message: msg})
			}
			if slices.ContainsFunc(opts, func(o string) bool { return strings.EqualFold(o, to) }) {
				return db.WorkbookTable{}, apperr.InvalidFields(fmt.Sprintf("The option %q is listed twice.", to),
					apperr.FieldError{Field: "options", Message: "must be different from each other"})
			}
			opts = append(opts, to)
			if from != "" && from != to {
				if !slices.Contains(col.Options, from) {
					return db.WorkbookTable{}, apperr.InvalidFields(fmt.Sprintf("%q is not an option of %s.", from, col.Name),
						apperr.FieldError{Field: "options", Message: "renames an option the column does not have"})
				}
				renames[from] = to
			}
		}
		if len(opts) > MaxOptions {
			return db.WorkbookTable{}, apperr.InvalidFields(fmt.Sprintf("A column can have at most %d options.", MaxOptions),
				apperr.FieldError{Field: "options", Message: fmt.Sprintf("are more than %d", MaxOptions)})
		}
		if len(renames) > 0 && t.fromSource(col) {
			return db.WorkbookTable{}, apperr.InvalidFields(fmt.Sprintf("%s comes from the data source: renaming an option would change the records' values there at the next publish. "+
				"Add the new option, then fill the records that should have it.", col.Name),
				apperr.FieldError{Field: "options", Message: "of a source column cannot be renamed"})
		}
		var err error
		if changed, err = renameOptions(ctx, tx, t, col, renames); err != nil {
			return db.WorkbookTable{}, err
		}
		cols := slices.Clone(t.Columns)
		cols[slices.IndexFunc(cols, func(c Column) bool { return c.ID == col.ID })].Options = opts
		return saveColumns(ctx, q, t, cols, t.HiddenColumns)
	})
	if err != nil {
		return Table{}, 0, err
	}
	return t, changed, nil
}

func validateOption(o string) string {
	switch {
	case len([]rune(o)) > MaxOptionLength:
		return fmt.Sprintf("must be at most %d characters each", MaxOptionLength)
	case strings.ContainsAny(o, "\r\n\x00"):
		return "must be on one line"
	}
	return ""
}

// renameOptions renames options in the column's values, values as pulled
// and pending suggestions, in one statement each, by a map passed as JSON.
// For a multi select, an item renamed to one the list already holds is
// merged into it.
func renameOptions(ctx context.Context, tx pgx.Tx, t Table, col Column, renames map[string]string) (int, error) {
	if len(renames) == 0 {
		return 0, nil
	}
	m, err := json.Marshal(renames)
	if err != nil {
		return 0, err
	}
	// sp_rename(v) is the value v with its options renamed: a string, or
	// an array of strings whose order is kept and repeats dropped.
	rename := func(v string) string {
		if col.Type == values.Select {
			return `coalesce(to_jsonb($4::jsonb ->> (` + v + ` #>> '{}')), ` + v + `)`
		}
		return `(SELECT coalesce(jsonb_agg(x ORDER BY first), '[]'::jsonb) FROM (
			SELECT coalesce($4::jsonb -> (e #>> '{}'), e) AS x, min(i) AS first
			FROM jsonb_array_elements(` + v + `) WITH ORDINALITY a(e, i) GROUP BY 1) d)`
	}
	holds := func(v string) string {
		if col.Type == values.Select {
			return `jsonb_typeof(` + v + `) = 'string' AND $4::jsonb ? (` + v + ` #>> '{}')`
		}
		return `jsonb_typeof(` + v + `) = 'array' AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(` + v + `) e WHERE $4::jsonb ? e)`
	}
	tag, err := tx.Exec(ctx, `UPDATE records r SET
			fields = CASE WHEN `+holds(`r.fields -> $3::text`)+` THEN jsonb_set(r.fields, ARRAY[$3::text], `+rename(`r.fields -> $3::text`)+`) ELSE r.fields END,
			original = CASE WHEN `+holds(`r.original -> $3::text`)+` THEN jsonb_set(r.original, ARRAY[$3::text], `+rename(`r.original -> $3::text`)+`) ELSE r.original END,
			version = r.version + 1, updated_at = now()
		WHERE r.workbook_id = $1 AND r.table_id = $2
		  AND ((`+holds(`r.fields -> $3::text`)+`) OR coalesce(`+holds(`r.original -> $3::text`)+`, false))`,
		t.WorkbookID, t.ID, col.ID, string(m))
	if err != nil {
		return 0, fmt.Errorf("workbooks: rename options: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE suggestions SET value = `+rename(`value`)+`
		WHERE workbook_id = $1 AND table_id = $2 AND action = 'update' AND field = $3 AND `+holds(`value`),
		t.WorkbookID, t.ID, col.ID, string(m)); err != nil {
		return 0, fmt.Errorf("workbooks: rename options in suggestions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
