package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// apiWorkbookSummary is a workbook as lists show it, without its tables.
type apiWorkbookSummary struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func newAPIWorkbookSummary(wb workbooks.Workbook) apiWorkbookSummary {
	return apiWorkbookSummary{ID: wb.ID, Name: wb.Name, CreatedAt: apiTime(wb.CreatedAt), UpdatedAt: apiTime(wb.UpdatedAt)}
}

// apiWorkbook is one workbook with its tables in display order.
type apiWorkbook struct {
	apiWorkbookSummary
	Tables []apiTable `json:"tables"`
}

func newAPIWorkbook(wb workbooks.Workbook) apiWorkbook {
	out := apiWorkbook{apiWorkbookSummary: newAPIWorkbookSummary(wb), Tables: make([]apiTable, 0, len(wb.Tables))}
	for _, t := range wb.Tables {
		out.Tables = append(out.Tables, newAPITable(t))
	}
	return out
}

// apiTable is a table with its column specs. Hidden columns are named, like
// record fields.
type apiTable struct {
	ID            string      `json:"id"`
	WorkbookID    string      `json:"workbook_id"`
	Name          string      `json:"name"`
	Position      int         `json:"position"`
	Hidden        bool        `json:"hidden"`
	Source        string      `json:"source"`
	Columns       []apiColumn `json:"columns"`
	HiddenColumns []string    `json:"hidden_columns"`
	// DataSourceID and RemoteTableID say where a pulled table came from;
	// null for a CSV or once its data source is deleted.
	DataSourceID  *string `json:"data_source_id"`
	RemoteTableID *string `json:"remote_table_id"`
	// ReadOnly says why the source cannot be written; null when it can.
	ReadOnly     *string `json:"read_only"`
	LastPulledAt *string `json:"last_pulled_at"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
}

// apiColumn is one column spec; format is null except for text columns.
type apiColumn struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Format   *string  `json:"format"`
	ReadOnly bool     `json:"read_only"`
	Required bool     `json:"required"`
	Options  []string `json:"options"`
	Scratch  bool     `json:"scratch"`
	// RemoteKey is the column's key at the data source; null for a column
	// that did not come from one.
	RemoteKey *string `json:"remote_key"`
}

func newAPITable(t workbooks.Table) apiTable {
	out := apiTable{
		ID: t.ID, WorkbookID: t.WorkbookID, Name: t.Name, Position: t.Position, Hidden: t.Hidden, Source: t.Source,
		Columns: make([]apiColumn, 0, len(t.Columns)), HiddenColumns: []string{},
		DataSourceID: nullString(t.DataSourceID), RemoteTableID: nullString(t.RemoteTableID), ReadOnly: nullString(t.RemoteReadOnly),
		LastPulledAt: apiTimeOrNull(t.LastPulledAt), CreatedAt: apiTime(t.CreatedAt), UpdatedAt: apiTime(t.UpdatedAt),
	}
	for _, c := range t.Columns {
		col := apiColumn{ID: c.ID, Name: c.Name, Type: string(c.Type), ReadOnly: c.ReadOnly, Required: c.Required,
			Options: c.Options, Scratch: c.Scratch}
		if c.Format != "" {
			col.Format = &c.Format
		}
		col.RemoteKey = nullString(c.RemoteKey)
		if col.Options == nil {
			col.Options = []string{}
		}
		out.Columns = append(out.Columns, col)
	}
	for _, id := range t.HiddenColumns {
		if c, ok := t.Columns.ByID(id); ok {
			out.HiddenColumns = append(out.HiddenColumns, c.Name)
		}
	}
	return out
}

// nullString is s, or nil when it is empty, for optional strings that the
// API shows as null.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiWorkbookList is one page of the caller's workbooks.
type apiWorkbookList struct {
	Items      []apiWorkbookSummary `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

// workbookCursor is the position after the last workbook of a page.
type workbookCursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"`
	ID   string `json:"i"`
}

// workbookOrder is the order of a workbook list: by name, or newest first
// by last change or creation; ties break on id so pages never overlap.
type workbookOrder struct {
	sort workbooks.WorkbookSort
}

func (o workbookOrder) key(wb workbooks.Workbook) string {
	switch o.sort {
	case workbooks.SortByUpdated:
		return wb.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z")
	case workbooks.SortByCreated:
		return wb.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z")
	}
	return strings.ToLower(wb.Name)
}

func (o workbookOrder) compare(keyA, idA, keyB, idB string) int {
	c := strings.Compare(keyA, keyB)
	if o.sort != workbooks.SortByName {
		c = -c
	}
	if c == 0 {
		c = strings.Compare(idA, idB)
	}
	return c
}

var errBadWorkbookCursor = apperr.InvalidFields("This page link is no longer valid; start from the first page.",
	apperr.FieldError{Field: "cursor", Message: "is invalid"})

// apiListWorkbooks lists the caller's workbooks, ?sort=name (default),
// updated or created, in pages.
//
// A person's workbooks are few, so the page is cut from the full list the
// store returns; the cursor is a keyset position, so a workbook created or
// deleted between pages neither shifts nor repeats the others.
func (s *Server) apiListWorkbooks(c echo.Context) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = workbooks.DefaultPageSize
	}
	order := workbookOrder{sort: workbooks.WorkbookSort(c.QueryParam("sort"))}
	switch order.sort {
	case "":
		order.sort = workbooks.SortByName
	case workbooks.SortByName, workbooks.SortByUpdated, workbooks.SortByCreated:
	default:
		return apperr.InvalidFields("Unknown sort.", apperr.FieldError{Field: "sort", Message: "must be name, updated or created"})
	}
	all, err := s.Workbooks.FindWorkbooks(c.Request().Context(), mustUser(c).ID, order.sort)
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b workbooks.Workbook) int {
		return order.compare(order.key(a), a.ID, order.key(b), b.ID)
	})
	if raw := c.QueryParam("cursor"); raw != "" {
		cur, err := decodeWorkbookCursor(raw, order.sort)
		if err != nil {
			return err
		}
		start := len(all)
		for i, wb := range all {
			if order.compare(order.key(wb), wb.ID, cur.Key, cur.ID) > 0 {
				start = i
				break
			}
		}
		all = all[start:]
	}
	out := apiWorkbookList{Items: []apiWorkbookSummary{}}
	for i, wb := range all {
		if i == limit {
			last := all[i-1]
			next := encodeWorkbookCursor(workbookCursor{Sort: string(order.sort), Key: order.key(last), ID: last.ID})
			out.NextCursor = &next
			break
		}
		out.Items = append(out.Items, newAPIWorkbookSummary(wb))
	}
	return apiJSON(c, http.StatusOK, out)
}

func encodeWorkbookCursor(c workbookCursor) string {
	b, _ := json.Marshal(c) //nolint:errchkjson // a struct of strings
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeWorkbookCursor reads a cursor for sort; one this API could not have
// issued (for another sort, or without a workbook's id) is invalid.
func decodeWorkbookCursor(raw string, sort workbooks.WorkbookSort) (workbookCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return workbookCursor{}, errBadWorkbookCursor
	}
	var c workbookCursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != string(sort) || !ids.ValidUUID(c.ID) {
		return workbookCursor{}, errBadWorkbookCursor
	}
	return c, nil
}

// workbookRequest is the body of POST /workbooks and PATCH /workbooks/{wb}.
type workbookRequest struct {
	Name *string `json:"name" required:"true"`
}

func (r workbookRequest) name() (string, error) {
	if r.Name == nil {
		return "", apperr.InvalidFields("Please name the workbook.", apperr.FieldError{Field: "name", Message: "is required"})
	}
	return *r.Name, nil
}

// apiCreateWorkbook creates an empty workbook; it honours Idempotency-Key.
func (s *Server) apiCreateWorkbook(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in workbookRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		name, err := in.name()
		if err != nil {
			return err
		}
		wb, err := s.Workbooks.CreateWorkbook(c.Request().Context(), mustUser(c).ID, name)
		if err != nil {
			return err
		}
		wb.Tables = []workbooks.Table{}
		return apiJSON(c, http.StatusCreated, newAPIWorkbook(wb))
	})(c)
}

// apiGetWorkbook shows one workbook with its tables.
func (s *Server) apiGetWorkbook(c echo.Context) error {
	wb, err := s.Workbooks.FindWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIWorkbook(wb))
}

// apiUpdateWorkbook renames a workbook.
func (s *Server) apiUpdateWorkbook(c echo.Context) error {
	var in workbookRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	name, err := in.name()
	if err != nil {
		return err
	}
	ctx, owner := c.Request().Context(), mustUser(c).ID
	if _, err := s.Workbooks.RenameWorkbook(ctx, owner, c.Param("wb"), name); err != nil {
		return err
	}
	wb, err := s.Workbooks.FindWorkbook(ctx, owner, c.Param("wb"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIWorkbook(wb))
}

// apiDeleteWorkbook deletes a workbook with everything in it.
func (s *Server) apiDeleteWorkbook(c echo.Context) error {
	if err := s.Workbooks.DeleteWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiWorkbookEvents streams the workbook's live events as JSON over SSE,
// after checking that the workbook is the caller's.
func (s *Server) apiWorkbookEvents(c echo.Context) error {
	wb, err := s.Workbooks.FindWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb"))
	if err != nil {
		return err
	}
	s.Broker.ServeHTTP(c.Response(), c.Request(), events.WorkbookTopic(wb.ID), events.FormatJSON, s.streamCredentials(c))
	return nil
}

// apiGetTable shows one table with its columns.
func (s *Server) apiGetTable(c echo.Context) error {
	t, err := s.Workbooks.FindTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPITable(t))
}

// updateTableRequest is the body of PATCH /tables/{t}; absent fields stay
// as they are.
type updateTableRequest struct {
	Name     *string `json:"name"`
	Hidden   *bool   `json:"hidden"`
	Position *int    `json:"position"`
	// HiddenColumns names (or ids) the columns to hide; the others show.
	HiddenColumns *[]string `json:"hidden_columns"`
}

// apiUpdateTable renames, hides, moves a table or sets its hidden columns.
// Each change is its own domain call, validated up front where it can be,
// in the order a failure is least likely to leave a half-done change.
func (s *Server) apiUpdateTable(c echo.Context) error {
	var in updateTableRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Name == nil && in.Hidden == nil && in.Position == nil && in.HiddenColumns == nil {
		return apperr.InvalidFields("Send at least one of name, hidden, position, hidden_columns.",
			apperr.FieldError{Field: "name", Message: "or hidden, position, hidden_columns is required"})
	}
	if in.Position != nil && *in.Position < 0 {
		return apperr.InvalidFields("Please choose a position.", apperr.FieldError{Field: "position", Message: "must not be negative"})
	}
	ctx, owner, wbID, tID := c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t")
	if in.HiddenColumns != nil {
		if _, err := s.Workbooks.SetHiddenColumns(ctx, owner, wbID, tID, *in.HiddenColumns); err != nil {
			return err
		}
	}
	if in.Name != nil {
		if _, err := s.Workbooks.RenameTable(ctx, owner, wbID, tID, *in.Name); err != nil {
			return err
		}
	}
	if in.Hidden != nil {
		if _, err := s.Workbooks.SetTableHidden(ctx, owner, wbID, tID, *in.Hidden); err != nil {
			return err
		}
	}
	if in.Position != nil {
		if _, err := s.Workbooks.MoveTable(ctx, owner, wbID, tID, *in.Position); err != nil {
			return err
		}
	}
	t, err := s.Workbooks.FindTable(ctx, owner, wbID, tID)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPITable(t))
}

// apiDeleteTable deletes a table with its records and suggestions.
func (s *Server) apiDeleteTable(c echo.Context) error {
	if err := s.Workbooks.DeleteTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// addColumnRequest is the body of POST /tables/{t}/columns.
type addColumnRequest struct {
	Name string `json:"name" required:"true"`
	Type string `json:"type" required:"true"`
}

// apiAddColumn adds a scratch column and answers with the table; it honours
// Idempotency-Key.
func (s *Server) apiAddColumn(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in addColumnRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		if in.Type == "" {
			return apperr.InvalidFields("Please correct the column.", apperr.FieldError{Field: "type", Message: "is required"})
		}
		t, err := s.Workbooks.AddScratchColumn(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"),
			in.Name, values.Type(in.Type))
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusCreated, newAPITable(t))
	})(c)
}
