package handlers

import "github.com/labstack/echo/v4"

// Placeholders until the admin pages land.

func (s *Server) adminUsers(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) adminUser(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) adminChangeRole(c echo.Context) error  { return echo.ErrNotFound }
func (s *Server) adminSetDisabled(c echo.Context) error { return echo.ErrNotFound }
func (s *Server) adminJobs(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) adminCancelJob(c echo.Context) error   { return echo.ErrNotFound }
