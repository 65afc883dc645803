package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/values"
)

// Table is one table of a workbook with its column specs.
type Table struct {
	ID            string
	WorkbookID    string
	Name          string
	Position      int
	Hidden        bool
	Columns       Columns
	HiddenColumns []string
	// Layout is how the grid lays the table out (widths, order, row
	// height); see SetTableLayout.
	Layout TableLayout
	// Source is where the table came from: "csv", or a connector's service.
	Source string
	// DataSourceID and RemoteTableID say which data source's table it was
	// pulled from (empty for a CSV, or once the data source is deleted).
	DataSourceID  string
	RemoteTableID string
	// RemoteReadOnly, when set, says why the source cannot be written.
	RemoteReadOnly string
	// PullCursor is where the running pull will resume; LastPulledAt when
	// the last pull ended.
	PullCursor   string
	LastPulledAt *time.Time
	// SyncID is the pull or publish that holds the table, if any.
	SyncID    string
	CreatedAt time.Time
	UpdatedAt time.Time
	// loadedFor is the owner and ids the service checked when it loaded the
	// table; see ownedBy.
	loadedFor tableScope
}

// tableScope names a table as loaded for an owner.
type tableScope struct {
	ownerID, workbookID, tableID string
}

// ownedBy reports whether the service loaded t for ownerID, scoped to that
// owner, and t still names the table it was loaded as. The *In methods
// (FindRecordsIn, CountersIn, FindRecordIn) take a Table the caller already
// has instead of loading it again; a Table built or altered outside this
// package fails this check, so they cannot be pointed at another owner's
// table.
func (t Table) ownedBy(ownerID string) bool {
	return ownerID != "" && t.loadedFor == tableScope{ownerID: ownerID, workbookID: t.WorkbookID, tableID: t.ID}
}

// scopedTo marks t as loaded for ownerID (see ownedBy).
func (t Table) scopedTo(ownerID string) Table {
	t.loadedFor = tableScope{ownerID: ownerID, workbookID: t.WorkbookID, tableID: t.ID}
	return t
}

func tableFromRow(r db.WorkbookTable) (Table, error) {
	t := Table{
		ID: r.ID, WorkbookID: r.WorkbookID, Name: r.Name, Position: int(r.Position), Hidden: r.Hidden,
		HiddenColumns: r.HiddenColumns, Source: r.Source, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		DataSourceID: deref(r.DataSourceID), RemoteTableID: deref(r.RemoteTableID), RemoteReadOnly: deref(r.RemoteReadOnly),
		PullCursor: deref(r.PullCursor), LastPulledAt: r.LastPulledAt, SyncID: deref(r.SyncID),
		Layout: decodeLayout(r.Layout),
	}
	if err := json.Unmarshal(r.Columns, &t.Columns); err != nil {
		return Table{}, fmt.Errorf("workbooks: decode columns of table %s: %w", r.ID, err)
	}
	return t, nil
}

// Sourced reports whether the table is linked to a data source: it can be
// pulled, and published unless the source is read-only.
func (t Table) Sourced() bool { return t.DataSourceID != "" && t.RemoteTableID != "" }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TableInput describes a table to create.
type TableInput struct {
	Name    string
	Columns []ColumnInput
	// Source defaults to "csv".
	Source string
}

// maxColumns bounds the columns of one table.
const maxColumns = 500

var errTableNotFound = apperr.New(apperr.NotFound, "Table not found.")

// CreateTable adds a table with the given columns at the end of one of the
// owner's workbooks. Errors: Invalid, NotFound.
func (s *Service) CreateTable(ctx context.Context, ownerID, workbookID string, in TableInput) (Table, error) {
	var t Table
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		t, err = createTable(ctx, tx, ownerID, workbookID, in)
		return err
	})
	if err != nil {
		return Table{}, wrap("create table", err)
	}
	return t, nil
}

// CreateTableTx is CreateTable inside the caller's transaction, for a domain
// that creates a table together with changes of its own (an import creates
// the table, enqueues the job that fills it and marks its upload started in
// one commit). The table.created event is sent inside tx, so viewers hear of
// the table only if tx commits. Errors: Invalid, NotFound.
func (s *Service) CreateTableTx(ctx context.Context, tx pgx.Tx, ownerID, workbookID string, in TableInput) (Table, error) {
	t, err := createTable(ctx, tx, ownerID, workbookID, in)
	if err != nil {
		return Table{}, wrap("create table", err)
	}
	return t, nil
}

func createTable(ctx context.Context, tx pgx.Tx, ownerID, workbookID string, in TableInput) (Table, error) {
	name, cols, err := tableSpec(in)
	if err != nil {
		return Table{}, err
	}
	if in.Source == "" {
		in.Source = "csv"
	}
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) {
		return Table{}, errWorkbookNotFound
	}
	colsJSON, err := json.Marshal(cols)
	if err != nil {
		return Table{}, fmt.Errorf("encode columns: %w", err)
	}
	q := db.New(tx)
	// Locking the workbook serializes table creation, so positions stay distinct.
	if _, err := q.LockWorkbook(ctx, db.LockWorkbookParams{ID: workbookID, OwnerID: ownerID}); err != nil {
		if db.IsNoRows(err) {
			return Table{}, errWorkbookNotFound
		}
		return Table{}, err
	}
	row, err := q.CreateTable(ctx, db.CreateTableParams{WorkbookID: workbookID, Name: name, Columns: colsJSON, Source: in.Source})
	if err != nil {
		return Table{}, err
	}
	t, err := tableFromRow(row)
	if err != nil {
		return Table{}, err
	}
	if err := q.TouchWorkbook(ctx, workbookID); err != nil {
		return Table{}, err
	}
	if err := notify(ctx, tx, workbookID, change{Kind: "table.created", TableID: t.ID}); err != nil {
		return Table{}, err
	}
	return t.scopedTo(ownerID), nil
}

// tableSpec checks a table to create and returns its trimmed name and its
// columns with their new ids. Errors: Invalid, naming every problem.
func tableSpec(in TableInput) (string, Columns, error) {
	name := strings.TrimSpace(in.Name)
	var problems []apperr.FieldError
	if msg := validateName(name); msg != "" {
		problems = append(problems, apperr.FieldError{Field: "name", Message: msg})
	}
	if len(in.Columns) > maxColumns {
		problems = append(problems, apperr.FieldError{Field: "columns", Message: fmt.Sprintf("must be at most %d", maxColumns)})
	}
	cols := Columns{}
	taken := map[string]bool{}
	for i, ci := range in.Columns {
		c, msg := newColumn(ci, taken)
		if msg != "" {
			problems = append(problems, apperr.FieldError{Field: columnLabel(ci.Name, i), Message: msg})
			continue
		}
		cols = append(cols, c)
	}
	if len(problems) > 0 {
		return "", nil, apperr.InvalidFields("Please correct the table.", problems...)
	}
	return name, cols, nil
}

func columnLabel(name string, i int) string {
	if n := strings.TrimSpace(name); n != "" {
		return n
	}
	return fmt.Sprintf("column %d", i+1)
}

// FindTable returns one table of the owner's workbook, which the *In
// methods (FindRecordsIn, CountersIn, FindRecordIn) accept for that owner.
// Errors: NotFound.
func (s *Service) FindTable(ctx context.Context, ownerID, workbookID, tableID string) (Table, error) {
	return s.findTable(ctx, s.q, ownerID, workbookID, tableID)
}

func (s *Service) findTable(ctx context.Context, q *db.Queries, ownerID, workbookID, tableID string) (Table, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return Table{}, errTableNotFound
	}
	row, err := q.GetTable(ctx, db.GetTableParams{WorkbookID: workbookID, ID: tableID, OwnerID: ownerID})
	if db.IsNoRows(err) {
		return Table{}, errTableNotFound
	}
	if err != nil {
		return Table{}, fmt.Errorf("workbooks: find table: %w", err)
	}
	t, err := tableFromRow(row)
	if err != nil {
		return Table{}, err
	}
	return t.scopedTo(ownerID), nil
}

// lockMode says how a transaction locks the table it works on.
type lockMode int

const (
	// lockShare lets records change concurrently but not the column specs.
	lockShare lockMode = iota
	// lockExclusive is for changes to the table itself.
	lockExclusive
)

// lockTable loads and locks the owner's table inside tx. Errors: NotFound.
func lockTable(ctx context.Context, q *db.Queries, ownerID, workbookID, tableID string, mode lockMode) (Table, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return Table{}, errTableNotFound
	}
	p := db.LockTableParams{WorkbookID: workbookID, ID: tableID, OwnerID: ownerID}
	var (
		row db.WorkbookTable
		err error
	)
	if mode == lockExclusive {
		row, err = q.LockTable(ctx, p)
	} else {
		row, err = q.ShareLockTable(ctx, db.ShareLockTableParams(p))
	}
	if db.IsNoRows(err) {
		return Table{}, errTableNotFound
	}
	if err != nil {
		return Table{}, err
	}
	t, err := tableFromRow(row)
	if err != nil {
		return Table{}, err
	}
	return t.scopedTo(ownerID), nil
}

// changeTable runs fn on the locked table inside a transaction, saves the
// table it returns and notifies viewers.
func (s *Service) changeTable(ctx context.Context, ownerID, workbookID, tableID, action string,
	fn func(q *db.Queries, t Table) (db.WorkbookTable, error)) (Table, error) {
	return s.changeTableTx(ctx, ownerID, workbookID, tableID, action, func(_ pgx.Tx, q *db.Queries, t Table) (db.WorkbookTable, error) {
		return fn(q, t)
	})
}

// changeTableTx is changeTable for changes that also rewrite records, with
// the transaction at hand.
func (s *Service) changeTableTx(ctx context.Context, ownerID, workbookID, tableID, action string,
	fn func(tx pgx.Tx, q *db.Queries, t Table) (db.WorkbookTable, error)) (Table, error) {
	var out Table
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockExclusive)
		if err != nil {
			return err
		}
		row, err := fn(tx, q, t)
		if err != nil {
			return err
		}
		if out, err = tableFromRow(row); err != nil {
			return err
		}
		out = out.scopedTo(ownerID)
		if err := q.TouchWorkbook(ctx, workbookID); err != nil {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "table.updated", TableID: tableID})
	})
	if err != nil {
		return Table{}, wrap(action, err)
	}
	return out, nil
}

// RenameTable renames a table. Errors: Invalid, NotFound.
func (s *Service) RenameTable(ctx context.Context, ownerID, workbookID, tableID, name string) (Table, error) {
	name = strings.TrimSpace(name)
	if msg := validateName(name); msg != "" {
		return Table{}, apperr.InvalidFields("Please correct the table name.", apperr.FieldError{Field: "name", Message: msg})
	}
	return s.changeTable(ctx, ownerID, workbookID, tableID, "rename table", func(q *db.Queries, t Table) (db.WorkbookTable, error) {
		return q.RenameTable(ctx, db.RenameTableParams{WorkbookID: workbookID, ID: tableID, Name: name})
	})
}

// SetTableHidden hides or shows a table in its workbook. Errors: NotFound.
func (s *Service) SetTableHidden(ctx context.Context, ownerID, workbookID, tableID string, hidden bool) (Table, error) {
	return s.changeTable(ctx, ownerID, workbookID, tableID, "hide table", func(q *db.Queries, t Table) (db.WorkbookTable, error) {
		return q.SetTableHidden(ctx, db.SetTableHiddenParams{WorkbookID: workbookID, ID: tableID, Hidden: hidden})
	})
}

// MoveTable moves a table to position (0 is first; past the end means last)
// and renumbers the others. Errors: Invalid, NotFound.
func (s *Service) MoveTable(ctx context.Context, ownerID, workbookID, tableID string, position int) (Workbook, error) {
	if position < 0 {
		return Workbook{}, apperr.InvalidFields("Please choose a position.", apperr.FieldError{Field: "position", Message: "must not be negative"})
	}
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(workbookID) || !ids.ValidUUID(tableID) {
		return Workbook{}, errTableNotFound
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := q.LockWorkbook(ctx, db.LockWorkbookParams{ID: workbookID, OwnerID: ownerID}); err != nil {
			if db.IsNoRows(err) {
				return errTableNotFound
			}
			return err
		}
		tables, err := q.ListTables(ctx, workbookID)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(tables))
		for _, t := range tables {
			if t.ID != tableID {
				ids = append(ids, t.ID)
			}
		}
		if len(ids) == len(tables) {
			return errTableNotFound
		}
		ids = slices.Insert(ids, min(position, len(ids)), tableID)
		if err := q.SetTablePositions(ctx, db.SetTablePositionsParams{WorkbookID: workbookID, TableIds: ids}); err != nil {
			return err
		}
		if err := q.TouchWorkbook(ctx, workbookID); err != nil {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "workbook.updated", TableID: tableID})
	})
	if err != nil {
		return Workbook{}, wrap("move table", err)
	}
	return s.FindWorkbook(ctx, ownerID, workbookID)
}

// DeleteTable deletes a table with its records and suggestions.
// Errors: NotFound.
func (s *Service) DeleteTable(ctx context.Context, ownerID, workbookID, tableID string) error {
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if _, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockExclusive); err != nil {
			return err
		}
		if _, err := q.DeleteTable(ctx, db.DeleteTableParams{WorkbookID: workbookID, ID: tableID}); err != nil {
			return err
		}
		if err := q.TouchWorkbook(ctx, workbookID); err != nil {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "table.deleted", TableID: tableID})
	})
	return wrap("delete table", err)
}

// AddScratchColumn adds a local-only column at the end of a table.
// Errors: Invalid, NotFound.
func (s *Service) AddScratchColumn(ctx context.Context, ownerID, workbookID, tableID, name string, typ values.Type) (Table, error) {
	return s.InsertScratchColumn(ctx, ownerID, workbookID, tableID, name, typ, "", true)
}

// InsertScratchColumn adds a local-only column next to the column beside
// (an id or name): after it, or before it when after is false. With no
// beside it goes at the end. Errors: Invalid, NotFound (the table, or
// beside).
func (s *Service) InsertScratchColumn(ctx context.Context, ownerID, workbookID, tableID, name string, typ values.Type, beside string, after bool) (Table, error) {
	return s.changeTable(ctx, ownerID, workbookID, tableID, "add column", func(q *db.Queries, t Table) (db.WorkbookTable, error) {
		if len(t.Columns) >= maxColumns {
			return db.WorkbookTable{}, apperr.New(apperr.Invalid, "A table can have at most %d columns.", maxColumns)
		}
		at := len(t.Columns)
		if beside != "" {
			b, ok := t.Columns.Lookup(beside)
			if !ok {
				return db.WorkbookTable{}, errColumnNotFound
			}
			at = slices.IndexFunc(t.Columns, func(c Column) bool { return c.ID == b.ID })
			if after {
				at++
			}
		}
		taken := map[string]bool{}
		for _, c := range t.Columns {
			taken[strings.ToLower(c.Name)] = true
		}
		c, msg := newColumn(ColumnInput{Name: name, Type: typ, Scratch: true}, taken)
		if msg != "" {
			field := "name"
			if strings.HasPrefix(msg, "has unknown type") {
				field = "type"
			}
			return db.WorkbookTable{}, apperr.InvalidFields("Please correct the column.", apperr.FieldError{Field: field, Message: msg})
		}
		return saveColumns(ctx, q, t, slices.Insert(slices.Clone(t.Columns), at, c), t.HiddenColumns)
	})
}

// RemoveColumn removes a scratch column and its value from every record of
// the table, in one statement. Columns of the source cannot be removed.
// Errors: Invalid, NotFound.
func (s *Service) RemoveColumn(ctx context.Context, ownerID, workbookID, tableID, columnID string) (Table, error) {
	return s.changeTable(ctx, ownerID, workbookID, tableID, "remove column", func(q *db.Queries, t Table) (db.WorkbookTable, error) {
		col, ok := t.Columns.Lookup(columnID)
		if !ok {
			return db.WorkbookTable{}, apperr.New(apperr.NotFound, "Column not found.")
		}
		if !col.Scratch {
			return db.WorkbookTable{}, apperr.New(apperr.Invalid, "Only scratch columns can be removed; %s comes from the source.", col.Name)
		}
		if _, err := q.RemoveFieldFromRecords(ctx, db.RemoveFieldFromRecordsParams{WorkbookID: workbookID, TableID: tableID, Field: col.ID}); err != nil {
			return db.WorkbookTable{}, err
		}
		if err := q.DeleteFieldSuggestions(ctx, db.DeleteFieldSuggestionsParams{WorkbookID: workbookID, TableID: tableID, Field: col.ID}); err != nil {
			return db.WorkbookTable{}, err
		}
		cols := slices.DeleteFunc(slices.Clone(t.Columns), func(c Column) bool { return c.ID == col.ID })
		hidden := slices.DeleteFunc(slices.Clone(t.HiddenColumns), func(id string) bool { return id == col.ID })
		return saveColumns(ctx, q, t, cols, hidden)
	})
}

// SetHiddenColumns sets which columns the table hides, by id or name.
// Errors: Invalid (an unknown column), NotFound.
func (s *Service) SetHiddenColumns(ctx context.Context, ownerID, workbookID, tableID string, columns []string) (Table, error) {
	return s.changeTable(ctx, ownerID, workbookID, tableID, "hide columns", func(q *db.Queries, t Table) (db.WorkbookTable, error) {
		hidden := []string{}
		for _, key := range columns {
			c, ok := t.Columns.Lookup(key)
			if !ok {
				return db.WorkbookTable{}, apperr.InvalidFields("Unknown column.", apperr.FieldError{Field: key, Message: "is not a column of this table"})
			}
			if !slices.Contains(hidden, c.ID) {
				hidden = append(hidden, c.ID)
			}
		}
		return saveColumns(ctx, q, t, t.Columns, hidden)
	})
}

func saveColumns(ctx context.Context, q *db.Queries, t Table, cols Columns, hidden []string) (db.WorkbookTable, error) {
	b, err := json.Marshal(cols)
	if err != nil {
		return db.WorkbookTable{}, err
	}
	if hidden == nil {
		hidden = []string{}
	}
	return q.SetTableColumns(ctx, db.SetTableColumnsParams{WorkbookID: t.WorkbookID, ID: t.ID, Columns: b, HiddenColumns: hidden})
}

// MaxAdoptedOptions is the most distinct values AdoptSelectOptions turns
// into a select column's options: past it the column keeps accepting any
// value, as a select without options does.
const MaxAdoptedOptions = 50

// AdoptSelectOptions gives each select and multi select column of a table
// that has no options yet the distinct values its records hold, sorted, when
// there are at most MaxAdoptedOptions of them. An import calls it when it
// has written every row: the file's types were inferred from a sample, and
// only the whole table says which choices there are. It reports the columns
// it changed; with none it changes nothing and tells nobody.
// Errors: NotFound.
func (s *Service) AdoptSelectOptions(ctx context.Context, ownerID, workbookID, tableID string) ([]string, error) {
	var changed []string
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := lockTable(ctx, q, ownerID, workbookID, tableID, lockExclusive)
		if err != nil {
			return err
		}
		cols := slices.Clone(t.Columns)
		for i, c := range cols {
			if (c.Type != values.Select && c.Type != values.MultiSelect) || len(c.Options) > 0 {
				continue
			}
			opts, err := distinctOptions(ctx, tx, t, c)
			if err != nil {
				return err
			}
			if len(opts) == 0 || len(opts) > MaxAdoptedOptions {
				continue
			}
			cols[i].Options = opts
			changed = append(changed, c.ID)
		}
		if len(changed) == 0 {
			return nil
		}
		if _, err := saveColumns(ctx, q, t, cols, t.HiddenColumns); err != nil {
			return err
		}
		return notify(ctx, tx, workbookID, change{Kind: "table.updated", TableID: tableID})
	})
	if err != nil {
		return nil, wrap("set column options", err)
	}
	return changed, nil
}

// distinctOptions reads up to MaxAdoptedOptions+1 distinct values of column c
// (items, for a multi select) across the table's records, sorted. The
// column id is a bound parameter, never SQL text.
func distinctOptions(ctx context.Context, tx pgx.Tx, t Table, c Column) ([]string, error) {
	vals := `SELECT r.fields->>$3 FROM records r
		WHERE r.workbook_id = $1 AND r.table_id = $2 AND jsonb_typeof(r.fields->$3) = 'string'`
	if c.Type == values.MultiSelect {
		vals = `SELECT e FROM records r, jsonb_array_elements_text(r.fields->$3) e
		WHERE r.workbook_id = $1 AND r.table_id = $2 AND jsonb_typeof(r.fields->$3) = 'array'`
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT v FROM (`+vals+`) d(v) WHERE v <> '' ORDER BY v LIMIT $4`,
		t.WorkbookID, t.ID, c.ID, MaxAdoptedOptions+1)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
