package handlers

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// countersChanged tells the page (through HX-Trigger) that the table's
// counters moved, so they fetch themselves again.
func countersChanged(c echo.Context) {
	c.Response().Header().Set("HX-Trigger", "counters-changed")
}

// cellTarget is the table, column and record a cell route names.
type cellTarget struct {
	table  workbooks.Table
	column workbooks.Column
	ctx    views.GridContext
}

func (s *Server) findCell(c echo.Context) (cellTarget, error) {
	t, err := s.Workbooks.FindTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return cellTarget{}, err
	}
	col, ok := t.Columns.ByID(c.Param("col"))
	if !ok {
		return cellTarget{}, apperr.New(apperr.NotFound, "Column not found.")
	}
	return cellTarget{table: t, column: col, ctx: views.NewGridContext(t)}, nil
}

// renderRow answers with one grid row.
func renderRow(c echo.Context, status int, g views.GridContext, rec workbooks.Record, st views.CellState) error {
	return render(c, status, views.GridRow(g, rec, st))
}

// routeRecord finds the table and the record the route names (:wb, :t and
// :r) among the signed-in user's. Errors: NotFound.
func (s *Server) routeRecord(c echo.Context) (workbooks.Table, workbooks.Record, error) {
	ctx, u := c.Request().Context(), mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return workbooks.Table{}, workbooks.Record{}, err
	}
	rec, err := s.Workbooks.FindRecordIn(ctx, u.ID, t, c.Param("r"))
	if err != nil {
		return workbooks.Table{}, workbooks.Record{}, err
	}
	return t, rec, nil
}

// gridRow is one row as it is now: Esc in an editor fetches it back.
func (s *Server) gridRow(c echo.Context) error {
	t, rec, err := s.routeRecord(c)
	if err != nil {
		return err
	}
	return renderRow(c, http.StatusOK, views.NewGridContext(t), rec, views.CellState{})
}

// cellEditor is the row with one cell open in its editor. The editor
// carries the version it was opened on, so a save never overwrites a change
// made meanwhile.
func (s *Server) cellEditor(c echo.Context) error {
	ct, err := s.findCell(c)
	if err != nil {
		return err
	}
	rec, err := s.Workbooks.FindRecordIn(c.Request().Context(), mustUser(c).ID, ct.table, c.Param("r"))
	if err != nil {
		return err
	}
	switch {
	case ct.column.ReadOnly:
		return apperr.New(apperr.Invalid, "%s is read-only.", ct.column.Name)
	case rec.State == workbooks.StateDeleted:
		return apperr.New(apperr.Conflict, "This record is deleted; restore it before editing it.")
	}
	return renderRow(c, http.StatusOK, ct.ctx, rec, views.CellState{ColumnID: ct.column.ID, Editing: true})
}

// saveCell saves an edit of one cell and answers with the row: as saved
// (200), with the editor and the reason when the value is refused (422), or
// with the current values and a conflict note when the record changed since
// the editor opened (409). Nothing is ever overwritten silently.
func (s *Server) saveCell(c echo.Context) error {
	ct, err := s.findCell(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := mustUser(c)
	version, perr := strconv.Atoi(c.FormValue("version"))
	if perr != nil {
		return apperr.InvalidFields("The edit has no version; reload the page.", apperr.FieldError{Field: "version", Message: "is required"})
	}
	form, ferr := c.FormParams()
	if ferr != nil {
		return apperr.New(apperr.Invalid, "The edit could not be read.")
	}
	vals := form["value"]
	// The record panel reads its form with the same parser, so a value
	// means the same whichever editor it was typed in (a json cell's text
	// is JSON, not a string).
	raw := workbooks.ParseForm(ct.column, vals)
	typed := strings.Join(vals, ", ")
	if !(ct.column.Type == values.MultiSelect && len(ct.column.Options) > 0) && len(vals) > 0 {
		typed = vals[len(vals)-1]
	}

	// The value before, for the grid's undo (cellSaved): right when the
	// edit then succeeds on the same version.
	prev, _ := s.Workbooks.FindRecordIn(ctx, u.ID, ct.table, c.Param("r"))
	rec, err := s.Workbooks.UpdateRecord(ctx, u.ID, ct.table.WorkbookID, ct.table.ID, c.Param("r"),
		map[string]any{ct.column.ID: raw}, version)
	switch {
	case err == nil:
		if prev.Version == version {
			cellSaved(c, ct.column.ID, prev, rec)
		} else {
			countersChanged(c)
		}
		return renderRow(c, http.StatusOK, ct.ctx, rec, views.CellState{})
	case apperr.Is(err, apperr.Invalid):
		current, ferr := s.Workbooks.FindRecordIn(ctx, u.ID, ct.table, c.Param("r"))
		if ferr != nil {
			return ferr
		}
		// The editor keeps the version it was opened on: the record may have
		// changed meanwhile, and the next save must find that out.
		current.Version = version
		st := views.CellState{ColumnID: ct.column.ID, Editing: true, Typed: true, Value: typed, Values: vals,
			Error: cellMessage(err, ct.column)}
		return renderRow(c, http.StatusUnprocessableEntity, ct.ctx, current, st)
	case apperr.Is(err, apperr.StaleVersion), apperr.Is(err, apperr.Conflict):
		current, ferr := s.Workbooks.FindRecordIn(ctx, u.ID, ct.table, c.Param("r"))
		if ferr != nil {
			return ferr
		}
		note := apperr.MessageOf(err)
		if typed != "" {
			note += " Your value “" + typed + "” was not saved."
		} else {
			note += " Your change was not saved."
		}
		return renderRow(c, http.StatusConflict, ct.ctx, current, views.CellState{ColumnID: ct.column.ID, Conflict: note})
	}
	return err
}

// cellMessage is why a value was refused, as the cell shows it.
func cellMessage(err error, col workbooks.Column) string {
	for _, f := range apperr.FieldsOf(err) {
		if f.Field == col.Name || f.Field == col.ID {
			return wbCapitalize(f.Message) + "."
		}
	}
	return apperr.MessageOf(err)
}

// acceptCell accepts the suggestion for one cell.
func (s *Server) acceptCell(c echo.Context) error {
	return s.decideCell(c, s.Workbooks.AcceptSuggestions)
}

// rejectCell rejects the suggestion for one cell.
func (s *Server) rejectCell(c echo.Context) error {
	return s.decideCell(c, s.Workbooks.RejectSuggestions)
}

type decideFunc func(ctx context.Context, ownerID, workbookID, tableID string, sel workbooks.Selector) (workbooks.SuggestionCounts, error)

func (s *Server) decideCell(c echo.Context, decide decideFunc) error {
	ct, err := s.findCell(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := mustUser(c)
	sel := workbooks.Selector{Cells: []workbooks.Cell{{RecordID: c.Param("r"), Field: ct.column.ID}}}
	if _, err := decide(ctx, u.ID, ct.table.WorkbookID, ct.table.ID, sel); err != nil {
		return err
	}
	rec, err := s.Workbooks.FindRecordIn(ctx, u.ID, ct.table, c.Param("r"))
	if err != nil {
		return err
	}
	countersChanged(c)
	return renderRow(c, http.StatusOK, ct.ctx, rec, views.CellState{})
}

// addRecord creates a record, empty but for the values its form asks for
// (the table's required columns); htmx puts its row at the top of the grid.
// A missing or wrong value is refused, saying which.
func (s *Server) addRecord(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	// The add form asks for the values a new record cannot go without.
	fields := map[string]any{}
	for _, col := range views.NewRecordColumns(t) {
		if v := c.FormValue(views.NewRecordField + col.ID); v != "" {
			fields[col.ID] = v
		}
	}
	rec, err := s.Workbooks.CreateRecord(ctx, u.ID, t.WorkbookID, t.ID, fields)
	if apperr.Is(err, apperr.Invalid) {
		err = apperr.New(apperr.Invalid, "The new record was not added: %s.", fieldProblems(apperr.FieldsOf(err)))
	}
	if err != nil {
		if !isHTMX(c) && apperr.Is(err, apperr.Invalid) {
			s.flash(c, "error", apperr.MessageOf(err))
			return redirect(c, views.TableURL(t.WorkbookID, t.ID))
		}
		return err
	}
	if !isHTMX(c) {
		return redirect(c, views.TableURL(t.WorkbookID, t.ID))
	}
	countersChanged(c)
	return renderRow(c, http.StatusOK, views.NewGridContext(t), rec, views.CellState{})
}

func fieldProblems(fields []apperr.FieldError) string {
	msgs := make([]string, 0, len(fields))
	for _, f := range fields {
		msgs = append(msgs, f.Field+" "+f.Message)
	}
	sort.Strings(msgs)
	if len(msgs) == 0 {
		return "a value is missing or not valid"
	}
	return strings.Join(msgs, "; ")
}

// deleteRecord deletes a record: the row shows it deleted (restorable until
// published), or disappears for a record never published.
func (s *Server) deleteRecord(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	if err := s.Workbooks.DeleteRecord(ctx, u.ID, t.WorkbookID, t.ID, c.Param("r")); err != nil {
		return err
	}
	countersChanged(c)
	rec, err := s.Workbooks.FindRecordIn(ctx, u.ID, t, c.Param("r"))
	if apperr.Is(err, apperr.NotFound) {
		return c.HTML(http.StatusOK, "")
	}
	if err != nil {
		return err
	}
	return renderRow(c, http.StatusOK, views.NewGridContext(t), rec, views.CellState{})
}

// restoreRecord undoes a deletion that was not published yet.
func (s *Server) restoreRecord(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	rec, err := s.Workbooks.RestoreRecord(ctx, u.ID, t.WorkbookID, t.ID, c.Param("r"))
	if err != nil {
		return err
	}
	countersChanged(c)
	return renderRow(c, http.StatusOK, views.NewGridContext(t), rec, views.CellState{})
}
