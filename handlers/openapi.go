package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIJSON is the hand-written OpenAPI 3 description of /api/v1. Tests
// check real responses against it and every route against its paths, so it
// cannot drift from what the server does.
//
//go:embed openapi.json
var openAPIJSON []byte

// openAPIDocument serves the API description; it needs no token, so tools
// can discover the API before they have one.
func (s *Server) openAPIDocument(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIJSON)
}
