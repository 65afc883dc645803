package handlers

import "github.com/labstack/echo/v4"

// Placeholders until the workbook and grid pages land.

func (s *Server) createWorkbook(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) workbookPage(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) renameWorkbook(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) deleteWorkbook(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) workbookEvents(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) gridPage(c echo.Context) error         { return echo.ErrNotFound }
func (s *Server) gridRows(c echo.Context) error         { return echo.ErrNotFound }
func (s *Server) gridCounters(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) renameTable(c echo.Context) error      { return echo.ErrNotFound }
func (s *Server) setTableHidden(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) moveTable(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) deleteTable(c echo.Context) error      { return echo.ErrNotFound }
func (s *Server) addScratchColumn(c echo.Context) error { return echo.ErrNotFound }
func (s *Server) removeColumn(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) setHiddenColumns(c echo.Context) error { return echo.ErrNotFound }
func (s *Server) addRecord(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) deleteRecord(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) restoreRecord(c echo.Context) error    { return echo.ErrNotFound }
func (s *Server) gridRow(c echo.Context) error          { return echo.ErrNotFound }
func (s *Server) cellEditor(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) saveCell(c echo.Context) error         { return echo.ErrNotFound }
func (s *Server) acceptCell(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) rejectCell(c echo.Context) error       { return echo.ErrNotFound }
