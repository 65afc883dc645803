package handlers

import "github.com/labstack/echo/v4"

// Placeholders until CSV import and export land.

func (s *Server) uploadPage(c echo.Context) error           { return echo.ErrNotFound }
func (s *Server) uploadCSV(c echo.Context) error            { return echo.ErrNotFound }
func (s *Server) apiCreateTable(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) importPreview(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) startImport(c echo.Context) error          { return echo.ErrNotFound }
func (s *Server) exportCSV(c echo.Context) error            { return echo.ErrNotFound }
func (s *Server) importSuggestions(c echo.Context) error    { return echo.ErrNotFound }
func (s *Server) apiExportCSV(c echo.Context) error         { return echo.ErrNotFound }
func (s *Server) apiImportSuggestions(c echo.Context) error { return echo.ErrNotFound }
