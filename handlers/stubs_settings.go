package handlers

import "github.com/labstack/echo/v4"

// Placeholders until the settings pages land.

func (s *Server) settingsPage(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) updateProfile(c echo.Context) error  { return echo.ErrNotFound }
func (s *Server) changePassword(c echo.Context) error { return echo.ErrNotFound }
func (s *Server) createToken(c echo.Context) error    { return echo.ErrNotFound }
func (s *Server) revokeToken(c echo.Context) error    { return echo.ErrNotFound }
