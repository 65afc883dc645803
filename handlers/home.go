package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/views"
)

// home is where a signed-in person lands.
func (s *Server) home(c echo.Context) error {
	return render(c, http.StatusOK, views.HomePage(s.page(c, "Workbooks", "workbooks")))
}
