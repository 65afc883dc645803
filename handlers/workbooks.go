package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/views"
)

// createWorkbook makes a workbook and opens it; a refused name shows the
// list again with the error next to the field.
func (s *Server) createWorkbook(c echo.Context) error {
	name := c.FormValue("name")
	wb, err := s.Workbooks.CreateWorkbook(c.Request().Context(), mustUser(c).ID, name)
	if apperr.Is(err, apperr.Invalid) {
		return s.renderWorkbookList(c, http.StatusUnprocessableEntity, name, wbInvalidFields(err, "name"))
	}
	if err != nil {
		return err
	}
	return redirect(c, views.WorkbookURL(wb.ID))
}

// workbookPage opens a workbook at its first visible table; a workbook
// without one shows its empty state and the hidden tables.
func (s *Server) workbookPage(c echo.Context) error {
	wb, err := s.Workbooks.FindWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb"))
	if err != nil {
		return err
	}
	for _, t := range wb.Tables {
		if !t.Hidden {
			return c.Redirect(http.StatusSeeOther, views.TableURL(wb.ID, t.ID))
		}
	}
	v := views.WorkbookView{Workbook: wb, CSRFToken: csrfToken(c)}
	return render(c, http.StatusOK, views.WorkbookPage(s.page(c, wb.Name, "workbooks"), v))
}

// renameWorkbook renames in place: htmx gets the list row back (with the
// reason when the name is refused), a plain form goes back to the list.
func (s *Server) renameWorkbook(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	name := c.FormValue("name")
	wb, err := s.Workbooks.RenameWorkbook(ctx, u.ID, c.Param("wb"), name)
	refused := apperr.Is(err, apperr.Invalid)
	if err != nil && !refused {
		return err
	}
	if !isHTMX(c) {
		if refused {
			s.flash(c, "error", wbFieldMessage(err, "name"))
		} else {
			s.flash(c, "success", "Renamed to “"+wb.Name+"”.")
		}
		return redirect(c, "/")
	}
	if !refused {
		return render(c, http.StatusOK, views.WorkbookRow(views.WorkbookRowData{Workbook: wb, CSRFToken: csrfToken(c)}))
	}
	current, ferr := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb"))
	if ferr != nil {
		return ferr
	}
	row := views.WorkbookRowData{Workbook: current, CSRFToken: csrfToken(c), Name: name, Error: wbFieldMessage(err, "name")}
	return render(c, http.StatusUnprocessableEntity, views.WorkbookRow(row))
}

// deleteWorkbook deletes a workbook; the list row that asked disappears.
func (s *Server) deleteWorkbook(c echo.Context) error {
	if err := s.Workbooks.DeleteWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb")); err != nil {
		return err
	}
	if isHTMX(c) {
		return c.HTML(http.StatusOK, "") // the row is replaced by nothing
	}
	s.flash(c, "success", "Workbook deleted.")
	return redirect(c, "/")
}

// workbookEvents is the live stream of one workbook, for its owner only.
func (s *Server) workbookEvents(c echo.Context) error {
	wb, err := s.Workbooks.FindWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb"))
	if err != nil {
		return err
	}
	s.Broker.ServeHTTP(c.Response(), c.Request(), events.WorkbookTopic(wb.ID), events.FormatHTML, s.streamCredentials(c))
	return nil
}

// invalidFields maps an Invalid error to form errors, putting a message
// without a field under fallback.
func wbInvalidFields(err error, fallback string) map[string]string {
	errs := fieldMap(apperr.FieldsOf(err))
	if len(errs) == 0 {
		errs = map[string]string{fallback: apperr.MessageOf(err)}
	}
	return errs
}

// fieldMessage is the message for field in an Invalid error, as a sentence.
func wbFieldMessage(err error, field string) string {
	if msg, ok := fieldMap(apperr.FieldsOf(err))[field]; ok {
		return wbCapitalize(field) + " " + msg + "."
	}
	return apperr.MessageOf(err)
}

func wbCapitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
