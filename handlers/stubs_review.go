package handlers

import "github.com/labstack/echo/v4"

// Placeholders until the review tools land.

func (s *Server) recordPanel(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) saveRecordPanel(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) acceptSuggestions(c echo.Context) error { return echo.ErrNotFound }
func (s *Server) rejectSuggestions(c echo.Context) error { return echo.ErrNotFound }
func (s *Server) findReplace(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) fillColumn(c echo.Context) error        { return echo.ErrNotFound }
