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
	e.Use(requestID, s.accessLog, s.recoverPanics, s.securityHeaders(), compress())

	// Probes and metrics: no session, no CSRF. Metrics are served here only
	// behind METRICS_TOKEN, and not when METRICS_ADDR gives them an address
	// of their own (app.Serve).
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if s.Config.MetricsOnMainPort() {
		e.GET("/metrics", echo.WrapHandler(MetricsHandler(s.Registry, s.Config.MetricsToken)))
	}
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", static.Handler())))

	// The JSON API authenticates with bearer tokens only.
	api := e.Group("/api/v1", s.limitBody)
	s.apiRoutes(api)

	// Browser routes: sessions, CSRF, the current user.
	web := e.Group("", s.limitBody, refuseUnstorableQuery, sessionClient,
		echo.WrapMiddleware(s.Sessions.LoadAndSave), inSession, s.csrf(), s.loadUser, noStore)

	web.GET("/signup", s.signUpPage)
	web.POST("/signup", s.signUp)
	web.GET("/signin", s.signInPage)
	web.POST("/signin", s.signIn)
	web.POST("/signout", s.signOut)

	app := web.Group("", requireUser)
	app.GET("/", s.home)
	app.GET("/events", s.userEvents)
	app.GET("/help/filters", s.filterHelp)

	// Workbooks and the grid (workbooks.go, grid.go, records.go).
	app.POST("/workbooks", s.createWorkbook)
	app.GET("/workbooks/:wb", s.workbookPage)
	app.POST("/workbooks/:wb/rename", s.renameWorkbook)
	app.DELETE("/workbooks/:wb", s.deleteWorkbook)
	app.GET("/workbooks/:wb/events", s.workbookEvents)
	// The agent's chat panel beside the grid (chat.go).
	if s.Agent != nil {
		chat := app.Group("/workbooks/:wb/chat")
		chat.GET("", s.chatPanel)
		chat.GET("/mentions", s.chatMentions)
		chat.POST("/messages", s.sendChatMessage)
		chat.POST("/sessions", s.createChatSession)
		chat.GET("/sessions/:s", s.chatSession)
		chat.POST("/sessions/:s/rename", s.renameChatSession)
		chat.DELETE("/sessions/:s", s.deleteChatSession)
		chat.POST("/sessions/:s/messages", s.sendChatMessage)
		chat.POST("/sessions/:s/stop", s.stopChatTurn)
	}
	tbl := app.Group("/workbooks/:wb/tables/:t")
	tbl.GET("", s.gridPage)
	tbl.GET("/rows", s.gridRows)
	tbl.GET("/counters", s.gridCounters)
	tbl.POST("/rename", s.renameTable)
	tbl.POST("/hidden", s.setTableHidden)
	tbl.POST("/move", s.moveTable)
	tbl.DELETE("", s.deleteTable)
	tbl.POST("/columns", s.addScratchColumn)
	tbl.DELETE("/columns/:col", s.removeColumn)
	tbl.POST("/hidden-columns", s.setHiddenColumns)
	s.gridColumnRoutes(tbl)
	tbl.POST("/layout", s.setTableLayout)
	tbl.GET("/layout.css", s.tableLayoutCSS)
	tbl.POST("/records", s.addRecord)
	tbl.DELETE("/records/:r", s.deleteRecord)
	tbl.POST("/records/:r/restore", s.restoreRecord)
	tbl.GET("/records/:r/row", s.gridRow)
	tbl.GET("/records/:r/cells/:col", s.cellEditor)
	tbl.PUT("/records/:r/cells/:col", s.saveCell)
	tbl.POST("/cells", s.editCells)
	tbl.GET("/cells", s.gridCellValues)
	tbl.POST("/records/:r/cells/:col/accept", s.acceptCell)
	tbl.POST("/records/:r/cells/:col/reject", s.rejectCell)

	// Review: the record panel and bulk actions (review.go).
	tbl.GET("/records/:r", s.recordPanel)
	tbl.PUT("/records/:r", s.saveRecordPanel)
	tbl.POST("/suggestions/accept", s.acceptSuggestions)
	tbl.POST("/suggestions/reject", s.rejectSuggestions)
	tbl.POST("/find-replace", s.findReplace)
	tbl.POST("/fill", s.fillColumn)

	// Tables from data sources: adding one, pulls, conflicts, publishes and
	// reverts (syncs.go).
	app.GET("/workbooks/:wb/add-from-source", s.addFromSourcePage)
	app.GET("/workbooks/:wb/add-from-source/tables", s.remoteTablesFragment)
	app.POST("/workbooks/:wb/add-from-source", s.addTableFromSource)
	app.GET("/workbooks/:wb/syncs/:sync", s.syncFragment)
	app.GET("/workbooks/:wb/publish", s.publishPage)
	app.POST("/workbooks/:wb/publish", s.startPublish)
	app.POST("/workbooks/:wb/publishes/:p/revert", s.revertPublish)
	tbl.POST("/pull", s.startTablePull)
	tbl.GET("/attention", s.gridAttention)
	tbl.POST("/conflicts/resolve", s.resolveAllConflicts)
	tbl.POST("/source-deleted/resolve", s.resolveAllSourceDeleted)
	tbl.POST("/records/:r/cells/:col/resolve", s.resolveCellConflict)
	tbl.POST("/records/:r/source-deleted", s.resolveRecordSourceDeleted)

	// CSV in and out (csv.go). Uploads stream past the ordinary body limit.
	app.GET("/workbooks/:wb/imports/new", s.uploadPage)
	app.POST("/workbooks/:wb/imports", s.uploadCSV)
	app.GET("/workbooks/:wb/imports/:upload", s.importPreview)
	app.POST("/workbooks/:wb/imports/:upload", s.startImport)
	app.POST("/workbooks/:wb/imports/:upload/cancel", s.cancelImport)
	tbl.GET("/export.csv", s.exportCSV)
	tbl.POST("/import-suggestions", s.importSuggestions)

	// Data sources (datasources.go) and the person's own jobs (jobs.go).
	app.GET("/data-sources", s.dataSourcesPage)
	app.GET("/data-sources/new", s.newDataSourcePage)
	app.POST("/data-sources", s.createDataSource)
	app.GET("/data-sources/:ds", s.dataSourcePage)
	app.POST("/data-sources/:ds/rename", s.renameDataSource)
	app.POST("/data-sources/:ds/credentials", s.replaceDataSourceCredentials)
	app.POST("/data-sources/:ds/test", s.testDataSource)
	app.GET("/data-sources/:ds/tables", s.dataSourceTables)
	app.POST("/data-sources/:ds/delete", s.deleteDataSource)
	app.GET("/jobs", s.jobsPage)

	// Prompt assets (assets.go).
	app.GET("/assets", s.assetsPage)
	app.GET("/assets/new", s.newAssetPage)
	app.POST("/assets", s.createAsset)
	app.POST("/assets/import", s.importAsset)
	app.POST("/assets/preview", s.previewAsset)
	app.GET("/assets/:asset", s.assetPage)
	app.POST("/assets/:asset", s.updateAsset)
	app.POST("/assets/:asset/delete", s.deleteAsset)
	app.POST("/jobs/:job/cancel", s.cancelOwnJob)
	app.POST("/jobs/:job/retry", s.retryOwnJob)

	app.GET("/settings", s.settingsPage)
	app.GET("/usage", s.usagePage)
	app.POST("/settings/profile", s.updateProfile)
	app.POST("/settings/password", s.changePassword)
	app.POST("/settings/tokens", s.createToken)
	app.DELETE("/settings/tokens/:id", s.revokeToken)
	app.POST("/settings/sessions/sign-out-others", s.endOtherSessions)
	app.POST("/settings/llm-key", s.saveLLMKey)
	app.POST("/settings/spending", s.saveSpending)
	app.POST("/settings/llm-key/delete", s.deleteLLMKey)
	app.DELETE("/settings/sessions/:id", s.endSession)

	admin := web.Group("/admin", requireAdmin)
	admin.GET("/users", s.adminUsers)
	admin.GET("/users/:id", s.adminUser)
	admin.POST("/users/:id/role", s.adminChangeRole)
	admin.POST("/users/:id/disabled", s.adminSetDisabled)
	admin.POST("/users/:id/llm-limit", s.adminSetLLMLimit)
	admin.GET("/jobs", s.adminJobs)
	admin.GET("/usage", s.adminUsage)
	admin.POST("/jobs/:id/cancel", s.adminCancelJob)

	web.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// apiRoutes lists the JSON API, documented in openapi.json.
func (s *Server) apiRoutes(api *echo.Group) {
	api.GET("/openapi.json", s.openAPIDocument)
	api.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })

	authed := api.Group("", s.apiAuth, s.apiRateLimit, refuseUnstorableQuery)
	authed.GET("/me", s.apiMe, s.scope("read"))
	authed.POST("/tokens", s.apiCreateToken, s.scope("write"))

	// Workbooks, tables, records and suggestions (api_workbooks.go, api_records.go).
	authed.GET("/workbooks", s.apiListWorkbooks, s.scope("read"))
	authed.POST("/workbooks", s.apiCreateWorkbook, s.scope("write"))
	authed.GET("/workbooks/:wb", s.apiGetWorkbook, s.scope("read"))
	authed.PATCH("/workbooks/:wb", s.apiUpdateWorkbook, s.scope("write"))
	authed.DELETE("/workbooks/:wb", s.apiDeleteWorkbook, s.scope("write"))
	authed.GET("/workbooks/:wb/events", s.apiWorkbookEvents, s.scope("read"))
	authed.POST("/workbooks/:wb/tables", s.apiCreateTable, s.scope("write")) // csv_api.go
	at := authed.Group("/workbooks/:wb/tables/:t")
	at.GET("", s.apiGetTable, s.scope("read"))
	at.PATCH("", s.apiUpdateTable, s.scope("write"))
	at.DELETE("", s.apiDeleteTable, s.scope("write"))
	at.POST("/columns", s.apiAddColumn, s.scope("write"))
	at.GET("/records", s.apiListRecords, s.scope("read"))
	at.POST("/records", s.apiCreateRecord, s.scope("write"))
	at.POST("/records/batch", s.apiBatchRecords, s.scope("write"))
	at.GET("/records/:r", s.apiGetRecord, s.scope("read"))
	at.PATCH("/records/:r", s.apiUpdateRecord, s.scope("write"))
	at.DELETE("/records/:r", s.apiDeleteRecord, s.scope("write"))
	at.GET("/suggestions", s.apiListSuggestions, s.scope("read"))
	at.POST("/suggestions", s.apiProposeSuggestions, s.scope("write"))
	at.POST("/suggestions/accept", s.apiAcceptSuggestions, s.scope("write"))
	at.POST("/suggestions/reject", s.apiRejectSuggestions, s.scope("write"))
	// CSV over the API (csv_api.go).
	at.GET("/export.csv", s.apiExportCSV, s.scope("read"))
	at.POST("/import-suggestions", s.apiImportSuggestions, s.scope("write"))

	// Pulls and publishes (syncs_api.go).
	authed.POST("/workbooks/:wb/pull", s.apiStartPull, s.scope("write"))
	authed.GET("/workbooks/:wb/publish-preview", s.apiPublishPreview, s.scope("read"))
	authed.POST("/workbooks/:wb/publish", s.apiStartPublish, s.scope("publish"))
	authed.GET("/workbooks/:wb/publishes", s.apiListPublishes, s.scope("read"))
	authed.POST("/workbooks/:wb/publishes/:p/revert", s.apiRevertPublish, s.scope("write"))
	at.POST("/conflicts/resolve", s.apiResolveConflicts, s.scope("write"))
	at.POST("/source-deleted/resolve", s.apiResolveSourceDeleted, s.scope("write"))

	// The agent (agent_api.go).
	ag := authed.Group("/workbooks/:wb/agent/sessions")
	if s.Agent != nil {
		ag.GET("", s.apiListAgentSessions, s.scope("read"))
		ag.POST("", s.apiCreateAgentSession, s.scope("write"))
		ag.GET("/:s", s.apiGetAgentSession, s.scope("read"))
		ag.PATCH("/:s", s.apiUpdateAgentSession, s.scope("write"))
		ag.DELETE("/:s", s.apiDeleteAgentSession, s.scope("write"))
		ag.POST("/:s/messages", s.apiSendAgentMessage, s.scope("write"))
		ag.POST("/:s/stop", s.apiStopAgentTurn, s.scope("write"))
	} else {
		ag.Any("*", agentUnavailable)
	}

	// Data sources and the services they connect (api_datasources.go).
	authed.GET("/services", s.apiListServices, s.scope("read"))
	authed.GET("/data-sources", s.apiListDataSources, s.scope("read"))
	authed.POST("/data-sources", s.apiCreateDataSource, s.scope("write"))
	authed.GET("/data-sources/:ds", s.apiGetDataSource, s.scope("read"))
	authed.PATCH("/data-sources/:ds", s.apiUpdateDataSource, s.scope("write"))
	authed.DELETE("/data-sources/:ds", s.apiDeleteDataSource, s.scope("write"))
	authed.POST("/data-sources/:ds/test", s.apiTestDataSource, s.scope("write"))
	authed.GET("/data-sources/:ds/tables", s.apiDataSourceTables, s.scope("read"))

	// Prompt assets (api_assets.go).
	authed.GET("/assets", s.apiListAssets, s.scope("read"))
	authed.POST("/assets", s.apiCreateAsset, s.scope("write"))
	authed.POST("/assets/import", s.apiImportAsset, s.scope("write"))
	authed.GET("/assets/:asset", s.apiGetAsset, s.scope("read"))
	authed.PATCH("/assets/:asset", s.apiUpdateAsset, s.scope("write"))
	authed.DELETE("/assets/:asset", s.apiDeleteAsset, s.scope("write"))

	// The caller's own background jobs (api_jobs.go).
	authed.GET("/jobs", s.apiListJobs, s.scope("read"))
	authed.GET("/jobs/:job", s.apiGetJob, s.scope("read"))
	authed.POST("/jobs/:job/cancel", s.apiCancelJob, s.scope("write"))

	admin := authed.Group("/admin", s.scope("admin"))
	admin.GET("/users", s.apiAdminUsers)
	admin.GET("/users/:id", s.apiAdminUser)
	admin.PATCH("/users/:id", s.apiAdminUpdateUser)
}

func sizeString(n int64) string { return itoa(int(n)) }
