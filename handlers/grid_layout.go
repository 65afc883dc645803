package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// searchProblem adjusts a refused query whose filter was joined with the
// search box's (filter.And): a caret in the person's own filter moves back
// to where they wrote it; one past it (the search part, which only a
// filter that leaves no room for it can upset) loses its caret.
func searchProblem(p *views.FilterProblem, msg, source string) (*views.FilterProblem, string) {
	if p == nil {
		return nil, msg
	}
	p.Source = source
	if source == "" || p.Pos < filter.AndOffset || p.Pos-filter.AndOffset >= utf8.RuneCountInString(source) {
		p.Pos = -1
		return p, msg
	}
	p.Pos -= filter.AndOffset
	return p, msg
}

// setTableLayout changes the grid's layout of a table: widths
// (width_<column id>=px, 0 for the default), order (order=<id>, repeated),
// a column moved one place (move_up or move_down=<id>) and row_height.
// grid_layout.js sends it with htmx and gets 204; the Columns menu's form
// comes back to the grid.
func (s *Server) setTableLayout(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	var ch workbooks.LayoutChange
	for key, vals := range form {
		col, ok := strings.CutPrefix(key, "width_")
		if !ok || len(vals) == 0 {
			continue
		}
		w, err := strconv.Atoi(vals[0])
		if err != nil {
			return apperr.InvalidFields("Please correct the layout.", apperr.FieldError{Field: "width", Message: "must be a number of pixels"})
		}
		if ch.Widths == nil {
			ch.Widths = map[string]int{}
		}
		ch.Widths[col] = w
	}
	if order, ok := form["order"]; ok {
		ch.Order = order
	}
	switch {
	case form.Get("move_up") != "":
		ch.Move, ch.By = form.Get("move_up"), -1
	case form.Get("move_down") != "":
		ch.Move, ch.By = form.Get("move_down"), 1
	}
	ch.RowHeight = form.Get("row_height")
	_, err = s.Workbooks.SetTableLayout(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), ch)
	if c.Request().Header.Get("HX-Request") == "true" {
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
	if err := s.flashRefusal(c, err, "layout"); err != nil {
		return err
	}
	return redirect(c, s.gridReturnURL(c))
}

// tableLayoutCSS is the stylesheet of a table's column widths, linked from
// its grid with the widths' hash in the address (views.LayoutCSSURL): a
// stylesheet rather than style attributes, which the CSP refuses.
func (s *Server) tableLayoutCSS(c echo.Context) error {
	t, err := s.Workbooks.FindTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	if c.QueryParam("v") != "" {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(views.LayoutCSS(t)))
}
