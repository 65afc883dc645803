package workbooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/recordsql"
	"github.com/scratchpad/scratchpad/internal/values"
)

// This file holds the review tools that work on many records at once: the
// neighbours of a record in a listing, find & replace over a column (as
// suggestions) and filling a column with one value (as edits). Like
// FindRecords they select records with package recordsql (the neighbours'
// query is its NeighbourQuery; the others add to a recordsql.Builder scoped
// to the listing's filter), from the filter compiler's output, column ids
// from the table's specs and bind parameters only.

// Neighbours returns the ids of the records just before and just after
// recordID in the listing FindRecords returns for q (same filter, quick
// filter and sort; cursor and limit are ignored), or "" where there is none.
// The record itself need not match q's filter: its neighbours are found by
// its position in the order. Errors: NotFound, Invalid (a bad filter, sort or
// quick filter).
func (s *Service) Neighbours(ctx context.Context, ownerID, workbookID, tableID, recordID string, q RecordQuery) (prev, next string, err error) {
	t, err := s.findTable(ctx, s.q, ownerID, workbookID, tableID)
	if err != nil {
		return "", "", err
	}
	if !ids.ValidUUID(recordID) {
		return "", "", errRecordNotFound
	}
	sort, err := t.resolveSort(q.Sort)
	if err != nil {
		return "", "", err
	}
	n, err := s.q.CountRecordsWithIDs(ctx, db.CountRecordsWithIDsParams{WorkbookID: t.WorkbookID, TableID: t.ID, RecordIds: []string{recordID}})
	if err != nil {
		return "", "", fmt.Errorf("workbooks: find record: %w", err)
	}
	if n == 0 {
		return "", "", errRecordNotFound
	}
	size, err := s.tableSize(ctx, t)
	if err != nil {
		return "", "", err
	}
	big := size >= s.indexThreshold()
	if next, err = s.neighbour(ctx, t, recordID, q, sort, big, true); err != nil {
		return "", "", err
	}
	if prev, err = s.neighbour(ctx, t, recordID, q, sort, big, false); err != nil {
		return "", "", err
	}
	return prev, next, nil
}

// neighbour finds the record right after (forward) or right before
// recordID in the listing of q (recordsql.NeighbourQuery).
func (s *Service) neighbour(ctx context.Context, t Table, recordID string, q RecordQuery, sort recordsql.Sort, big, forward bool) (string, error) {
	sql, args, err := recordsql.NeighbourQuery(t.sqlTable(), q, sort, recordID, big, forward)
	if err != nil {
		return "", err
	}
	var id string
	err = s.pool.QueryRow(ctx, sql, args...).Scan(&id)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("workbooks: find neighbour: %w", err)
	}
	return id, nil
}

// FindReplace describes a find & replace over one text column.
type FindReplace struct {
	// Column is a column id or name; it must be a text column that is not
	// read-only.
	Column string
	// Find is the text to look for, or with Regex a regular expression in
	// Go's RE2 syntax (linear time, so no pattern can hang the server).
	Find string
	// Replace replaces every match; with Regex, $1 or ${name} insert
	// submatches, and $$ is a dollar sign.
	Replace       string
	Regex         bool
	CaseSensitive bool
	// KeepCase makes each replacement follow the case of the text it
	// replaces: all capitals, a capital first letter, or all lower case.
	// Text of mixed case gets the replacement as written.
	KeepCase bool
	// Query scopes the change to the records its filter and quick filter
	// match (every one of them, not a page); sort, cursor and limit are
	// ignored.
	Query RecordQuery
	// Preview counts the records that would change without proposing
	// anything.
	Preview bool
}

// findReplaceBatch is how many records find & replace reads at a time, and
// findReplaceBatchBytes about how much text: a batch stops at the record
// that passes it, so long bodies are read a few at a time.
const (
	findReplaceBatch      = 1000
	findReplaceBatchBytes = 8 << 20
)

// FindReplace replaces text in one column of every record in scope, as
// suggestions (source find_replace), never as edits. It works on what each
// cell is about to hold: its pending suggestion when it has one (so an
// earlier suggestion is refined, not lost), otherwise its value. Deleted
// records are left alone. It returns how many records change (with Preview,
// would change); preview and apply count the same records and refuse the
// same changes. The work is bounded: the replacement is at most 64 KiB, no
// value it makes may pass MaxCellBytes (each is measured before it is
// built), and one call makes at most 64 MiB of new values from at most
// five million matches. Errors:
// Invalid (empty find text, a bad regular expression, a replacement too
// long, a column that is not editable text, a bad filter, or replacements
// that would leave values invalid for the column or larger than a cell),
// TooLarge (a change too big for one request, or a pattern matching too
// often in one value), NotFound.
func (s *Service) FindReplace(ctx context.Context, ownerID, workbookID, tableID string, fr FindReplace) (int, error) {
	rep, err := newReplacer(fr)
	if err != nil {
		return 0, err
	}
	matches := 0
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		col, err := editableColumn(t, fr.Column)
		if err != nil {
			return err
		}
		if col.Type != values.Text {
			return apperr.InvalidFields(fmt.Sprintf("Find & replace works on text columns; %s is a %s column.", col.Name, col.Type),
				apperr.FieldError{Field: "column", Message: "is not a text column"})
		}
		var b recordsql.Builder
		if err := b.Scope(t.sqlTable(), fr.Query, false); err != nil {
			return err
		}
		prov := provenance{source: SourceFindReplace, createdBy: &ownerID}
		var (
			ids         []string
			problems    []apperr.FieldError
			invalid     int
			outputBytes int
		)
		// Proposals are written whenever findReplaceBatchBytes of new
		// values wait, so what is held stays small however long the
		// values.
		var (
			updates      []RecordUpdate
			pendingBytes int
		)
		propose := func() error {
			if invalid > 0 || len(updates) == 0 {
				return nil
			}
			_, err := proposeUpdates(ctx, q, t, updates, prov)
			updates, pendingBytes = nil, 0
			return err
		}
		err = scanCells(ctx, tx, b, col.ID, func(batch []cellText) error {
			for _, c := range batch {
				out, changed, err := rep.replace(c.base)
				if err != nil {
					return replaceError(err, col, c.id)
				}
				if rep.matched > maxReplaceMatches {
					return errReplaceTooMuch
				}
				if !changed {
					continue
				}
				if outputBytes += len(out); outputBytes > maxReplaceOutputBytes {
					return errReplaceTooMuch
				}
				if msg := checkValue(col, out); msg != "" {
					invalid++
					if len(problems) < 3 {
						problems = append(problems, apperr.FieldError{Field: col.Name, Message: fmt.Sprintf("%s (record %s)", msg, c.id)})
					}
					continue
				}
				matches++
				if len(ids) <= maxEventRecordIDs {
					ids = append(ids, c.id)
				}
				if fr.Preview {
					continue
				}
				updates = append(updates, RecordUpdate{RecordID: c.id, Fields: map[string]any{col.ID: out}})
				if pendingBytes += len(out); pendingBytes >= findReplaceBatchBytes {
					if err := propose(); err != nil {
						return err
					}
				}
			}
			return propose()
		})
		if err != nil {
			return err
		}
		if invalid > 0 {
			return apperr.InvalidFields(fmt.Sprintf("This replacement would leave %d %s invalid for %s; nothing was changed.",
				invalid, plural(invalid, "value", "values"), col.Name), problems...)
		}
		if fr.Preview || matches == 0 {
			return nil
		}
		return notify(ctx, tx, workbookID, change{Kind: "suggestions.proposed", TableID: tableID, RecordIDs: ids})
	})
	if err != nil {
		return 0, wrap("find and replace", err)
	}
	return matches, nil
}

// errReplaceTooMuch refuses a find & replace whose new values pass
// maxReplaceOutputBytes or whose matches pass maxReplaceMatches.
var errReplaceTooMuch = &apperr.Error{Kind: apperr.TooLarge,
	Message: fmt.Sprintf("This replacement is too big to make at once (more than %d MiB of new text or %d million matches); nothing was changed. "+
		"Narrow it with a filter and replace a part of the table at a time.", maxReplaceOutputBytes>>20, maxReplaceMatches/1_000_000),
	Fields: []apperr.FieldError{{Field: "filter", Message: "selects too much to replace at once"}}}

// replaceError explains why the replacement of one cell, of the record
// recordID, was refused.
func replaceError(err error, col Column, recordID string) error {
	switch {
	case errors.Is(err, errResultTooLarge):
		return apperr.InvalidFields(fmt.Sprintf("This replacement would make %s of record %s larger than %d KiB, the most a cell can hold; nothing was changed.",
			col.Name, recordID, MaxCellBytes>>10),
			apperr.FieldError{Field: "replace", Message: fmt.Sprintf("would make a value larger than %d KiB", MaxCellBytes>>10)})
	case errors.Is(err, errTooManyMatches):
		return &apperr.Error{Kind: apperr.TooLarge,
			Message: fmt.Sprintf("The text to find matches too often in %s of record %s; make it more specific.", col.Name, recordID),
			Fields:  []apperr.FieldError{{Field: "find", Message: "matches too often in one value"}}}
	}
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// editableColumn returns the column key names, unless it is read-only.
// Errors: Invalid.
func editableColumn(t Table, key string) (Column, error) {
	col, ok := t.Columns.Lookup(key)
	if !ok {
		return Column{}, apperr.InvalidFields("Choose a column.", apperr.FieldError{Field: "column", Message: "is not a column of this table"})
	}
	if col.ReadOnly {
		return Column{}, apperr.InvalidFields(fmt.Sprintf("%s is read-only.", col.Name), apperr.FieldError{Field: "column", Message: "is read-only"})
	}
	return col, nil
}

// checkValue returns why v cannot be stored in col, or "".
func checkValue(col Column, v any) string {
	n, msg := normalize(col, v)
	if msg == "" && n == nil && col.Required {
		return "is required"
	}
	return msg
}

// cellText is one cell as find & replace sees it.
type cellText struct {
	id string
	// base is the cell's pending suggestion if it has one, else its value,
	// as text ("" when empty).
	base string
}

// scanCells calls fn with the cells of column colID of the records in scope
// (not deleted), a batch at a time in the table's order: at most
// findReplaceBatch records, and no more records once findReplaceBatchBytes
// of text are read. Each batch is read completely before fn runs, so fn may
// use the same transaction.
func scanCells(ctx context.Context, tx pgx.Tx, scope recordsql.Builder, colID string, fn func([]cellText) error) error {
	var last int64
	for {
		b := recordsql.Builder{Where: scope.Where, Args: append([]any(nil), scope.Args...)}
		field := b.Arg(colID)
		after := b.Arg(last)
		page := `SELECT r.id, r.seq, coalesce(CASE WHEN sg.record_id IS NOT NULL THEN sg.value #>> '{}' ELSE r.fields ->> ` + field + `::text END, '') AS base
			FROM records r
			LEFT JOIN suggestions sg ON sg.workbook_id = r.workbook_id AND sg.table_id = r.table_id
				AND sg.record_id = r.id AND sg.action = 'update' AND sg.field = ` + field + `::text
			WHERE ` + strings.Join(b.Where, " AND ") + ` AND r.state <> 'deleted' AND r.seq > ` + after + `
			ORDER BY r.seq LIMIT ` + b.Arg(findReplaceBatch)
		// The page's records up to the one whose text passes the budget;
		// page_rows says whether the page was full.
		sql := `SELECT id, seq, base, page_rows FROM (
				SELECT p.*, count(*) OVER () AS page_rows,
					sum(octet_length(p.base)) OVER (ORDER BY p.seq) - octet_length(p.base) AS text_before
				FROM (` + page + `) p
			) sized WHERE text_before < ` + b.Arg(findReplaceBatchBytes) + ` ORDER BY seq`
		rows, err := tx.Query(ctx, sql, b.Args...)
		if err != nil {
			return fmt.Errorf("workbooks: scan cells: %w", err)
		}
		var (
			batch    []cellText
			pageRows int64
		)
		for rows.Next() {
			var c cellText
			if err := rows.Scan(&c.id, &last, &c.base, &pageRows); err != nil {
				rows.Close()
				return fmt.Errorf("workbooks: scan cell: %w", err)
			}
			batch = append(batch, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("workbooks: scan cells: %w", err)
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
		}
		if len(batch) == 0 || (pageRows < findReplaceBatch && int64(len(batch)) == pageRows) {
			return nil
		}
	}
}

// Scope chooses the records a bulk change applies to: the records named by
// RecordIDs when there are any, otherwise every record Query's filter and
// quick filter match (sort, cursor and limit are ignored).
type Scope struct {
	RecordIDs []string
	Query     RecordQuery
}

// FillColumn sets one column of every record in scope to value, as a
// person's edits: values, edited fields, states and versions change in one
// statement, with an audit entry per changed record and one live event.
// value is read as the column's type would read typed input (a number, a
// date, options separated by commas, JSON for a json column); an empty value
// empties the cells. Deleted records and cells already holding the value are
// left alone. It returns how many records changed. Errors: Invalid (an
// unknown or read-only column, a value the column cannot hold, a bad
// filter), NotFound (the table, or a record id not in it).
func (s *Service) FillColumn(ctx context.Context, ownerID, workbookID, tableID, column, value string, scope Scope) (int, error) {
	changed := 0
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockShare)
		if err != nil {
			return err
		}
		col, err := editableColumn(t, column)
		if err != nil {
			return err
		}
		stored, err := fillValue(col, value)
		if err != nil {
			return err
		}
		var b recordsql.Builder
		if len(scope.RecordIDs) > 0 {
			for _, id := range scope.RecordIDs {
				if !ids.ValidUUID(id) {
					return errRecordNotFound
				}
			}
			if err := checkRecordsExist(ctx, q, t, append([]string(nil), scope.RecordIDs...)); err != nil {
				return err
			}
			b.Where = append(b.Where, "r.workbook_id = "+b.Arg(workbookID), "r.table_id = "+b.Arg(tableID),
				"r.id = ANY("+b.Arg(scope.RecordIDs)+"::uuid[])")
		} else if err := b.Scope(t.sqlTable(), scope.Query, false); err != nil {
			return err
		}
		dirty := []string{}
		if !col.Scratch {
			dirty = append(dirty, col.ID)
		}
		wb, tb := b.Arg(workbookID), b.Arg(tableID)
		field, val, changedArg, actor := b.Arg(col.ID), b.Arg(stored), b.Arg(dirty), b.Arg(ownerID)
		sql := `WITH target AS (
				-- Each record's new values, worked out once from the row
				-- as it was (locked, so it cannot change before the UPDATE):
				-- the value the cell had is recorded in the sparse original
				-- (sp_add_original), and the edited fields are derived from
				-- that. OFFSET 0 keeps the inner select from being merged
				-- into this one, which would repeat its expressions.
				SELECT s.id, s.before, s.new_fields, s.new_original,
					sp_edited_fields(s.state, s.new_fields, s.new_original, s.edited_fields || ` + changedArg + `::text[]) AS new_edited
				FROM (
					SELECT r.id, r.state, r.edited_fields, r.fields -> ` + field + `::text AS before,
						CASE WHEN ` + val + `::jsonb IS NULL THEN r.fields - ` + field + `::text
						     ELSE r.fields || jsonb_build_object(` + field + `::text, ` + val + `::jsonb) END AS new_fields,
						sp_add_original(r.state, r.original,
							CASE WHEN cardinality(` + changedArg + `::text[]) = 0 THEN '{}'::jsonb
							     ELSE jsonb_build_object(` + field + `::text, coalesce(r.fields -> ` + field + `::text, 'null')) END) AS new_original
					FROM records r
					WHERE ` + strings.Join(b.Where, " AND ") + ` AND r.state <> 'deleted'
					  AND nullif(r.fields -> ` + field + `::text, 'null') IS DISTINCT FROM ` + val + `::jsonb
					FOR UPDATE OF r
					OFFSET 0
				) s
			), applied AS (
				UPDATE records r SET
					original = t.new_original,
					fields = t.new_fields,
					edited_fields = t.new_edited,
					state = sp_record_state(r.state, t.new_edited),
					version = r.version + 1,
					updated_at = now()
				FROM target t
				WHERE r.workbook_id = ` + wb + ` AND r.table_id = ` + tb + ` AND r.id = t.id
				RETURNING r.id
			), audit AS (
				INSERT INTO record_changes (workbook_id, table_id, record_id, actor_id, action, field, before, after)
				SELECT ` + wb + `, ` + tb + `, t.id, ` + actor + `::uuid, 'fill', ` + field + `::text,
				       nullif(t.before, 'null'), ` + val + `::jsonb
				FROM target t
			)
			SELECT count(*)::int, coalesce((array_agg(a.id::text))[1:` + fmt.Sprint(maxEventRecordIDs+1) + `], '{}') FROM applied a`
		var ids []string
		if err := tx.QueryRow(ctx, sql, b.Args...).Scan(&changed, &ids); err != nil {
			return err
		}
		if changed == 0 {
			return nil
		}
		c := change{Kind: "records.changed", TableID: tableID, RecordIDs: ids}
		if changed > maxEventRecordIDs {
			// More records changed than an event names: viewers reload.
			c.RecordIDs, c.Bulk = nil, true
		}
		return notify(ctx, tx, workbookID, c)
	})
	if err != nil {
		return 0, wrap("fill column", err)
	}
	return changed, nil
}

// fillValue reads value for col and returns its stored JSON text, or nil to
// empty the cells. Errors: Invalid.
func fillValue(col Column, value string) (any, error) {
	var raw any = value
	if col.Type == values.JSON && strings.TrimSpace(value) != "" {
		raw = json.RawMessage(value)
	}
	v, msg := normalize(col, raw)
	if msg == "" && v == nil && col.Required {
		msg = "is required"
	}
	if msg != "" {
		return nil, apperr.InvalidFields(fmt.Sprintf("%s %s.", col.Name, msg), apperr.FieldError{Field: "value", Message: msg})
	}
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("workbooks: encode value: %w", err)
	}
	return string(b), nil
}
