package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// cellEditsRequest is the body of POST .../cells: the grid's paste, undo,
// redo and revert (static/grid_keys.js).
type cellEditsRequest struct {
	Edits []cellEditInput `json:"edits" required:"true"`
}

// cellEditInput is one cell to change. Text is what was typed or pasted,
// read as the cell's editor reads it; otherwise Value is the JSON value
// (null empties the cell), or Revert asks for the pulled value. Version is
// the record's version the edit was made on; Expect the value the cell must
// hold now (an undo's check).
type cellEditInput struct {
	RecordID string          `json:"record_id" required:"true"`
	ColumnID string          `json:"column_id" required:"true"`
	Text     *string         `json:"text"`
	Value    json.RawMessage `json:"value"`
	Revert   bool            `json:"revert"`
	Version  *int            `json:"version"`
	Expect   json.RawMessage `json:"expect"`
}

// cellEditsResponse is what the edits changed, with the edited rows as the
// grid shows them now.
type cellEditsResponse struct {
	Changes []workbooks.CellChange `json:"changes"`
	Rows    string                 `json:"rows"`
}

// cellEditsError is a refused edit, in words for a toast.
type cellEditsError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// editCells saves many cells of a table in one request, with version checks,
// all or nothing (workbooks.EditCells). It answers JSON both ways: the
// changes and rows, or the reason nothing was saved.
func (s *Server) editCells(c echo.Context) error {
	if err := s.editCellsJSON(c); err != nil {
		e := normalize(err)
		if e.Kind == apperr.Internal {
			return err
		}
		return apiJSON(c, statusOf(e.Kind), cellEditsError{Error: e.Message, Code: string(e.Kind)})
	}
	return nil
}

func (s *Server) editCellsJSON(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	var in cellEditsRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if len(in.Edits) > workbooks.MaxCellEdits {
		return apperr.New(apperr.TooLarge,
			"%d cells at once is too many: at most %d cells can change together. Nothing was saved.", len(in.Edits), workbooks.MaxCellEdits)
	}
	edits := make([]workbooks.CellEdit, len(in.Edits))
	for i, e := range in.Edits {
		ce := workbooks.CellEdit{RecordID: e.RecordID, ColumnID: e.ColumnID, Revert: e.Revert, Version: e.Version, Expect: e.Expect}
		switch {
		case e.Revert:
		case e.Text != nil:
			col, ok := t.Columns.ByID(e.ColumnID)
			switch {
			case !ok:
			case col.Type == values.MultiSelect && *e.Text != "":
				// A copied multi-select cell is its choices separated by
				// commas, which the store reads from one text value.
				ce.Value = *e.Text
			default:
				ce.Value = workbooks.ParseForm(col, []string{*e.Text})
			}
		case len(e.Value) > 0 && string(e.Value) != "null":
			dec := json.NewDecoder(bytes.NewReader(e.Value))
			dec.UseNumber()
			if err := dec.Decode(&ce.Value); err != nil {
				return apperr.InvalidFields("The value is not JSON.", apperr.FieldError{Field: "edits[" + strconv.Itoa(i) + "].value", Message: "is not JSON"})
			}
		}
		edits[i] = ce
	}
	res, err := s.Workbooks.EditCells(ctx, u.ID, t.WorkbookID, t.ID, edits)
	if err != nil {
		return err
	}
	g := views.NewGridContext(t)
	var rows bytes.Buffer
	for _, rec := range res.Records {
		if err := views.GridRow(g, rec, views.CellState{}).Render(ctx, &rows); err != nil {
			return err
		}
	}
	countersChanged(c)
	return apiJSON(c, http.StatusOK, cellEditsResponse{Changes: res.Changes, Rows: rows.String()})
}

// cellSaved tells the page, through HX-Trigger, that one cell's edit was
// saved, with its values before and after, so the grid can undo it
// (static/grid_keys.js); and, as countersChanged, that the counters moved.
func cellSaved(c echo.Context, columnID string, before, after workbooks.Record) {
	b, errB := json.Marshal(before.Fields[columnID])
	a, errA := json.Marshal(after.Fields[columnID])
	if errB != nil || errA != nil || string(a) == string(b) {
		countersChanged(c)
		return
	}
	trigger, err := json.Marshal(map[string]any{
		"counters-changed": nil,
		"cell-saved":       workbooks.CellChange{RecordID: after.ID, ColumnID: columnID, Before: b, After: a},
	})
	if err != nil {
		countersChanged(c)
		return
	}
	c.Response().Header().Set("HX-Trigger", string(trigger))
}

// cellValues is the body of GET .../cells: the text of each asked cell, a
// row per record and a column per column as asked, as the cell editors show
// it; an empty cell, or a record that is gone, is "".
type cellValues struct {
	Values [][]string `json:"values"`
}

// gridCellValues answers a copy of a range whose cells the grid shows cut
// short (static/grid_keys.js): ?record= and ?column=, repeated, in order.
func (s *Server) gridCellValues(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	q := c.QueryParams()
	recordIDs, columnIDs := q["record"], q["column"]
	if len(recordIDs)*len(columnIDs) > workbooks.MaxCellEdits {
		return apperr.New(apperr.TooLarge, "At most %d cells can be copied at once.", workbooks.MaxCellEdits)
	}
	cols := make([]workbooks.Column, len(columnIDs))
	for i, id := range columnIDs {
		col, ok := t.Columns.ByID(id)
		if !ok {
			return apperr.New(apperr.NotFound, "Column not found.")
		}
		cols[i] = col
	}
	fields, err := s.Workbooks.FindCellValues(ctx, u.ID, t, recordIDs)
	if err != nil {
		return err
	}
	out := cellValues{Values: make([][]string, len(recordIDs))}
	for i, id := range recordIDs {
		line := make([]string, len(cols))
		for j, col := range cols {
			if v, ok := fields[id][col.ID]; ok && v != nil {
				line[j] = views.CellText(col, v)
			}
		}
		out.Values[i] = line
	}
	return apiJSON(c, http.StatusOK, out)
}
