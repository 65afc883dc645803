package handlers

import "github.com/labstack/echo/v4"

// Placeholders until the API endpoints land.

func (s *Server) openAPIDocument(c echo.Context) error    { return echo.ErrNotFound }
func (s *Server) apiMe(c echo.Context) error              { return echo.ErrNotFound }
func (s *Server) apiCreateToken(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) apiAdminUsers(c echo.Context) error      { return echo.ErrNotFound }
func (s *Server) apiAdminUser(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) apiAdminUpdateUser(c echo.Context) error { return echo.ErrNotFound }
