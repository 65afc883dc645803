package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// home is where a signed-in person lands: their workbooks, sorted by
// ?sort= (name, updated or created).
func (s *Server) home(c echo.Context) error {
	return s.renderWorkbookList(c, http.StatusOK, "", nil)
}

// renderWorkbookList renders the workbooks page, with a refused create's
// name and errors when there are any.
func (s *Server) renderWorkbookList(c echo.Context, status int, name string, errs map[string]string) error {
	sort := workbookSort(c.QueryParam("sort"))
	list, err := s.Workbooks.FindWorkbooks(c.Request().Context(), mustUser(c).ID, sort)
	if err != nil {
		return err
	}
	l := views.WorkbookList{Sort: string(sort), Workbooks: list, CSRFToken: csrfToken(c), Name: name, Errors: errs}
	return render(c, status, views.WorkbooksPage(s.page(c, "Workbooks", "workbooks"), l))
}

func workbookSort(raw string) workbooks.WorkbookSort {
	switch s := workbooks.WorkbookSort(raw); s {
	case workbooks.SortByName, workbooks.SortByUpdated, workbooks.SortByCreated:
		return s
	}
	return workbooks.SortByName
}
