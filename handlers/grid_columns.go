package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// gridColumnRoutes are the column header menu's routes and the row's
// decision on a suggested delete, under a table's group.
func (s *Server) gridColumnRoutes(tbl *echo.Group) {
	tbl.GET("/columns/:col/menu", s.columnMenu)
	tbl.GET("/columns/:col/type-preview", s.columnTypePreview)
	tbl.POST("/columns/:col/name", s.renameColumn)
	tbl.POST("/columns/:col/type", s.changeColumnType)
	tbl.POST("/columns/:col/options", s.setColumnOptions)
	tbl.POST("/records/:r/row-suggestion/accept", s.acceptRowSuggestion)
	tbl.POST("/records/:r/row-suggestion/reject", s.rejectRowSuggestion)
}

// columnMenuView loads the table and the column a menu route names.
func (s *Server) columnMenuView(c echo.Context) (views.ColumnMenuView, error) {
	t, err := s.Workbooks.FindTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return views.ColumnMenuView{}, err
	}
	col, ok := t.Columns.ByID(c.Param("col"))
	if !ok {
		return views.ColumnMenuView{}, apperr.New(apperr.NotFound, "Column not found.")
	}
	return views.ColumnMenuView{WorkbookID: t.WorkbookID, Table: t, Column: col, Query: gridQuery(c), CSRFToken: csrfToken(c)}, nil
}

// columnMenu is one column's header menu, for the grid's view in the query.
func (s *Server) columnMenu(c echo.Context) error {
	v, err := s.columnMenuView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ColumnMenu(v))
}

// columnTypePreview says what changing the column to ?type= would do to
// its values. A change that cannot be made at all (a source column, the
// same type) shows why, with a 200: it is an answer, not a failed request.
func (s *Server) columnTypePreview(c echo.Context) error {
	v, err := s.columnMenuView(c)
	if err != nil {
		return err
	}
	p, err := s.Workbooks.PreviewTypeChange(c.Request().Context(), mustUser(c).ID, v.WorkbookID, v.Table.ID, v.Column.ID, values.Type(c.QueryParam("type")))
	out := views.TypePreviewView{Menu: v, Preview: p}
	switch {
	case apperr.Is(err, apperr.Invalid):
		out.Error = apperr.MessageOf(err)
	case err != nil:
		return err
	}
	return render(c, http.StatusOK, views.TypeChangePreview(out))
}

// renameColumn renames a column and comes back to the grid.
func (s *Server) renameColumn(c echo.Context) error {
	t, err := s.Workbooks.RenameColumn(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.Param("col"), c.FormValue("name"))
	if err := s.flashRefusal(c, err, "name"); err != nil {
		return err
	}
	if col, ok := t.Columns.ByID(c.Param("col")); ok {
		s.toast(c, "success", "Renamed the column to “"+col.Name+"”.")
	}
	return redirect(c, s.gridReturnURL(c))
}

// changeColumnType changes a column's type after its preview; clear=true
// empties the values that do not convert.
func (s *Server) changeColumnType(c echo.Context) error {
	to := values.Type(c.FormValue("type"))
	t, p, err := s.Workbooks.ChangeColumnType(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.Param("col"), to,
		c.FormValue("clear") == "true")
	if err := s.flashRefusal(c, err, ""); err != nil {
		return err
	}
	if col, ok := t.Columns.ByID(c.Param("col")); ok {
		msg := fmt.Sprintf("%s is now a %s column.", col.Name, typeLabel(to))
		if p.Failing > 0 {
			msg += fmt.Sprintf(" Emptied %d %s that did not convert.", p.Failing, pluralWord(p.Failing, "value", "values"))
		}
		s.toast(c, "success", msg)
	}
	return redirect(c, s.gridReturnURL(c))
}

func typeLabel(t values.Type) string {
	b := []byte(t)
	for i := range b {
		if b[i] == '_' {
			b[i] = ' '
		}
	}
	return string(b)
}

// setColumnOptions saves a select's options as the menu lists them: each
// option field with the option it was ("" for a new one); an emptied or
// removed row removes its option.
func (s *Server) setColumnOptions(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	opts, was := form["option"], form["was"]
	if len(opts) != len(was) {
		return apperr.New(apperr.Invalid, "The options form is incomplete; open the menu again.")
	}
	edits := make([]workbooks.OptionEdit, len(opts))
	for i := range opts {
		edits[i] = workbooks.OptionEdit{From: was[i], To: opts[i]}
	}
	_, n, err := s.Workbooks.SetColumnOptions(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.Param("col"), edits)
	if err := s.flashRefusal(c, err, "options"); err != nil {
		return err
	}
	if err == nil {
		msg := "Saved the options."
		if n > 0 {
			msg = fmt.Sprintf("Saved the options, and renamed them in %d %s.", n, pluralWord(n, "record", "records"))
		}
		s.toast(c, "success", msg)
	}
	return redirect(c, s.gridReturnURL(c))
}

// acceptRowSuggestion accepts a record's suggested delete (or create) from
// its row: the same decision as the panel's, answered with the row.
func (s *Server) acceptRowSuggestion(c echo.Context) error {
	return s.decideRow(c, s.Workbooks.AcceptSuggestions)
}

// rejectRowSuggestion rejects it: the record stays (a rejected suggested
// record goes).
func (s *Server) rejectRowSuggestion(c echo.Context) error {
	return s.decideRow(c, s.Workbooks.RejectSuggestions)
}

func (s *Server) decideRow(c echo.Context, decide decideFunc) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, rec, err := s.routeRecord(c)
	if err != nil {
		return err
	}
	if rec.SuggestedAction == "" {
		return apperr.New(apperr.Conflict, "This record has no suggested delete or create any more.")
	}
	if _, err := decide(ctx, u.ID, t.WorkbookID, t.ID, workbooks.Selector{RecordIDs: []string{rec.ID}}); err != nil {
		return err
	}
	countersChanged(c)
	rec, err = s.Workbooks.FindRecordIn(ctx, u.ID, t, rec.ID)
	if apperr.Is(err, apperr.NotFound) {
		return render(c, http.StatusOK, views.RemovedGridRow(c.Param("r")))
	}
	if err != nil {
		return err
	}
	return renderRow(c, http.StatusOK, views.NewGridContext(t), rec, views.CellState{})
}
