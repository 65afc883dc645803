package workbooks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/jsontext"
	"github.com/scratchpad/scratchpad/internal/recordindex"
)

// Service is the record store over one database.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
	// idx registers, builds and drops the on-demand indexes of big tables
	// (indexes.go).
	idx *recordindex.Manager
	// countBudget bounds the count of a big table's filtered view
	// (defaultCountBudget; tests shorten it).
	countBudget time.Duration
}

// NewService returns the record store service over pool.
func NewService(pool *pgxpool.Pool) *Service {
	return &Service{pool: pool, q: db.New(pool), idx: recordindex.New(pool), countBudget: defaultCountBudget}
}

// Workbook is a named working copy holding tables, owned by one user.
type Workbook struct {
	ID        string
	OwnerID   string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Tables is filled by FindWorkbook, in display order; the *In methods
	// (FindRecordsIn, CountersIn, FindRecordIn) accept them for the owner.
	Tables []Table
}

func workbookFromRow(r db.Workbook) Workbook {
	return Workbook{ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// WorkbookSort orders FindWorkbooks.
type WorkbookSort string

// The workbook orders: by name, or newest first by last change or creation.
const (
	SortByName    WorkbookSort = "name"
	SortByUpdated WorkbookSort = "updated"
	SortByCreated WorkbookSort = "created"
)

var errWorkbookNotFound = apperr.New(apperr.NotFound, "Workbook not found.")

// CreateWorkbook creates an empty workbook owned by ownerID. Errors: Invalid.
func (s *Service) CreateWorkbook(ctx context.Context, ownerID, name string) (Workbook, error) {
	name = strings.TrimSpace(name)
	if msg := validateName(name); msg != "" {
		return Workbook{}, apperr.InvalidFields("Please correct the workbook name.", apperr.FieldError{Field: "name", Message: msg})
	}
	if !ids.ValidUUID(ownerID) {
		return Workbook{}, apperr.New(apperr.NotFound, "User not found.")
	}
	var wb Workbook
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := db.New(tx).CreateWorkbook(ctx, db.CreateWorkbookParams{OwnerID: ownerID, Name: name})
		if err != nil {
			return err
		}
		wb = workbookFromRow(row)
		return notify(ctx, tx, wb.ID, change{Kind: "workbook.created"})
	})
	if err != nil {
		return Workbook{}, fmt.Errorf("workbooks: create workbook: %w", err)
	}
	return wb, nil
}

// FindWorkbooks returns the owner's workbooks in the order sort names
// (by name when it is empty or unknown), without their tables.
func (s *Service) FindWorkbooks(ctx context.Context, ownerID string, sort WorkbookSort) ([]Workbook, error) {
	if !ids.ValidUUID(ownerID) {
		return []Workbook{}, nil
	}
	switch sort {
	case SortByName, SortByUpdated, SortByCreated:
	default:
		sort = SortByName
	}
	rows, err := s.q.ListWorkbooks(ctx, db.ListWorkbooksParams{OwnerID: ownerID, Sort: string(sort)})
	if err != nil {
		return nil, fmt.Errorf("workbooks: find workbooks: %w", err)
	}
	out := make([]Workbook, len(rows))
	for i, r := range rows {
		out[i] = workbookFromRow(r)
	}
	return out, nil
}

// FindWorkbook returns one of the owner's workbooks with its tables.
// Errors: NotFound.
func (s *Service) FindWorkbook(ctx context.Context, ownerID, id string) (Workbook, error) {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(id) {
		return Workbook{}, errWorkbookNotFound
	}
	row, err := s.q.GetWorkbook(ctx, db.GetWorkbookParams{ID: id, OwnerID: ownerID})
	if db.IsNoRows(err) {
		return Workbook{}, errWorkbookNotFound
	}
	if err != nil {
		return Workbook{}, fmt.Errorf("workbooks: find workbook: %w", err)
	}
	wb := workbookFromRow(row)
	tables, err := s.q.ListTables(ctx, id)
	if err != nil {
		return Workbook{}, fmt.Errorf("workbooks: list tables: %w", err)
	}
	wb.Tables = make([]Table, 0, len(tables))
	for _, t := range tables {
		tbl, err := tableFromRow(t)
		if err != nil {
			return Workbook{}, err
		}
		wb.Tables = append(wb.Tables, tbl.scopedTo(ownerID))
	}
	return wb, nil
}

// RenameWorkbook renames one of the owner's workbooks. Errors: Invalid, NotFound.
func (s *Service) RenameWorkbook(ctx context.Context, ownerID, id, name string) (Workbook, error) {
	name = strings.TrimSpace(name)
	if msg := validateName(name); msg != "" {
		return Workbook{}, apperr.InvalidFields("Please correct the workbook name.", apperr.FieldError{Field: "name", Message: msg})
	}
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(id) {
		return Workbook{}, errWorkbookNotFound
	}
	var wb Workbook
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := db.New(tx).RenameWorkbook(ctx, db.RenameWorkbookParams{ID: id, OwnerID: ownerID, Name: name})
		if db.IsNoRows(err) {
			return errWorkbookNotFound
		}
		if err != nil {
			return err
		}
		wb = workbookFromRow(row)
		return notify(ctx, tx, id, change{Kind: "workbook.updated"})
	})
	if err != nil {
		return Workbook{}, wrap("rename workbook", err)
	}
	return wb, nil
}

// DeleteWorkbook deletes one of the owner's workbooks with all its tables,
// records and suggestions. Errors: NotFound.
func (s *Service) DeleteWorkbook(ctx context.Context, ownerID, id string) error {
	if !ids.ValidUUID(ownerID) || !ids.ValidUUID(id) {
		return errWorkbookNotFound
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := db.New(tx).DeleteWorkbook(ctx, db.DeleteWorkbookParams{ID: id, OwnerID: ownerID})
		if err != nil {
			return err
		}
		if n == 0 {
			return errWorkbookNotFound
		}
		return notify(ctx, tx, id, change{Kind: "workbook.deleted"})
	})
	return wrap("delete workbook", err)
}

// wrap adds context to an unclassified error and passes domain errors as is.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	if apperr.KindOf(err) != apperr.Internal {
		return err
	}
	return fmt.Errorf("workbooks: %s: %w", action, err)
}

// decodeJSONObject decodes a stored JSON object, numbers as json.Number.
func decodeJSONObject(b []byte) (map[string]any, error) {
	return decodeJSONObjectText(string(b))
}

// decodeJSONObjectText is decodeJSONObject of JSON text held as a string,
// which the decoded text values then share (jsontext.DecodeObject).
func decodeJSONObjectText(s string) (map[string]any, error) {
	out := map[string]any{}
	if s == "" || s == "null" {
		return out, nil
	}
	if m, ok := jsontext.DecodeObject(s); ok {
		return m, nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("workbooks: decode stored JSON: %w", err)
	}
	return out, nil
}
