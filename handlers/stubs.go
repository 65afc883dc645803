package handlers

import "github.com/labstack/echo/v4"

// Placeholders replaced as each page lands.

func (s *Server) settingsPage(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) updateProfile(c echo.Context) error      { return echo.ErrNotFound }
func (s *Server) changePassword(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) createToken(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) revokeToken(c echo.Context) error        { return echo.ErrNotFound }
func (s *Server) adminUsers(c echo.Context) error         { return echo.ErrNotFound }
func (s *Server) adminUser(c echo.Context) error          { return echo.ErrNotFound }
func (s *Server) adminChangeRole(c echo.Context) error    { return echo.ErrNotFound }
func (s *Server) adminSetDisabled(c echo.Context) error   { return echo.ErrNotFound }
func (s *Server) adminJobs(c echo.Context) error          { return echo.ErrNotFound }
func (s *Server) adminCancelJob(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) openAPIDocument(c echo.Context) error    { return echo.ErrNotFound }
func (s *Server) apiMe(c echo.Context) error              { return echo.ErrNotFound }
func (s *Server) apiCreateToken(c echo.Context) error     { return echo.ErrNotFound }
func (s *Server) apiAdminUsers(c echo.Context) error      { return echo.ErrNotFound }
func (s *Server) apiAdminUser(c echo.Context) error       { return echo.ErrNotFound }
func (s *Server) apiAdminUpdateUser(c echo.Context) error { return echo.ErrNotFound }
