package handlers

import (
	"encoding/gob"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/scratchpad/scratchpad/static"
	"github.com/scratchpad/scratchpad/views"
)

// routes lists every route of the app in one place.
func (s *Server) routes(e *echo.Echo) {
	gob.Register([]views.Flash{})

	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(requestID, s.accessLog, s.recoverPanics, s.securityHeaders())

	// Probes and metrics: no session, no CSRF.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", static.Handler())))

	// The JSON API authenticates with bearer tokens only.
	api := e.Group("/api/v1", middleware.BodyLimit(sizeString(s.Config.MaxBodyBytes)))
	s.apiRoutes(api)

	// Browser routes: sessions, CSRF, the current user.
	web := e.Group("", middleware.BodyLimit(sizeString(s.Config.MaxBodyBytes)),
		echo.WrapMiddleware(s.Sessions.LoadAndSave), inSession, s.csrf(), s.loadUser, noStore)

	web.GET("/signup", s.signUpPage)
	web.POST("/signup", s.signUp)
	web.GET("/signin", s.signInPage)
	web.POST("/signin", s.signIn)
	web.POST("/signout", s.signOut)

	app := web.Group("", requireUser)
	app.GET("/", s.home)
	app.GET("/events", s.userEvents)

	app.GET("/settings", s.settingsPage)
	app.POST("/settings/profile", s.updateProfile)
	app.POST("/settings/password", s.changePassword)
	app.POST("/settings/tokens", s.createToken)
	app.DELETE("/settings/tokens/:id", s.revokeToken)

	admin := web.Group("/admin", requireAdmin)
	admin.GET("/users", s.adminUsers)
	admin.GET("/users/:id", s.adminUser)
	admin.POST("/users/:id/role", s.adminChangeRole)
	admin.POST("/users/:id/disabled", s.adminSetDisabled)
	admin.GET("/jobs", s.adminJobs)
	admin.POST("/jobs/:id/cancel", s.adminCancelJob)

	web.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// apiRoutes lists the JSON API, documented in openapi.json.
func (s *Server) apiRoutes(api *echo.Group) {
	api.GET("/openapi.json", s.openAPIDocument)
	api.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })

	authed := api.Group("", s.apiAuth, s.apiRateLimit)
	authed.GET("/me", s.apiMe, s.scope("read"))
	authed.POST("/tokens", s.apiCreateToken, s.scope("write"))

	admin := authed.Group("/admin", s.scope("admin"))
	admin.GET("/users", s.apiAdminUsers)
	admin.GET("/users/:id", s.apiAdminUser)
	admin.PATCH("/users/:id", s.apiAdminUpdateUser)
}

func sizeString(n int64) string { return itoa(int(n)) }
