package handlers

import "github.com/labstack/echo/v4"

// Placeholders until the workbook API lands.

func (s *Server) apiListWorkbooks(c echo.Context) error      { return echo.ErrNotFound }
func (s *Server) apiCreateWorkbook(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) apiGetWorkbook(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) apiUpdateWorkbook(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) apiDeleteWorkbook(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) apiWorkbookEvents(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) apiGetTable(c echo.Context) error           { return echo.ErrNotFound }
func (s *Server) apiUpdateTable(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) apiDeleteTable(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) apiAddColumn(c echo.Context) error          { return echo.ErrNotFound }
func (s *Server) apiListRecords(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) apiCreateRecord(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) apiBatchRecords(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) apiGetRecord(c echo.Context) error          { return echo.ErrNotFound }
func (s *Server) apiUpdateRecord(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) apiDeleteRecord(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) apiListSuggestions(c echo.Context) error    { return echo.ErrNotFound }
func (s *Server) apiProposeSuggestions(c echo.Context) error { return echo.ErrNotFound }
func (s *Server) apiAcceptSuggestions(c echo.Context) error  { return echo.ErrNotFound }
func (s *Server) apiRejectSuggestions(c echo.Context) error  { return echo.ErrNotFound }
