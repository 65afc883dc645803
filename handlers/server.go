// Package handlers is Scratchpad's HTTP layer: every route in one place
// (routes.go), middleware, the single mapping of domain errors to pages,
// htmx fragments and problem+json, and one file per resource. Handlers are
// thin: parse input, call one domain method, render a view or JSON.
package handlers

import (
	"context"
	"log/slog"
	"net"
	"net/netip"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/assets"
	"github.com/scratchpad/scratchpad/internal/clerkauth"
	"github.com/scratchpad/scratchpad/internal/config"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/idempotency"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/llmkeys"
	"github.com/scratchpad/scratchpad/internal/ratelimit"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// Deps are the parts the HTTP layer calls into. main (through internal/app)
// builds them once.
type Deps struct {
	Config   config.Config
	Logger   *slog.Logger
	Accounts *accounts.Service
	Jobs     *jobs.Service
	// Workbooks is the record store: workbooks, tables, records, suggestions.
	Workbooks *workbooks.Service
	// Idempotency keeps the first response to API requests that carry an
	// Idempotency-Key.
	Idempotency *idempotency.Store
	// Imports is CSV upload, import and export.
	Imports *imports.Service
	// Syncs adds tables from data sources, pulls and publishes.
	Syncs *syncs.Service
	// Agent is the AI agent: sessions, messages, turns (nil: not set up).
	Agent *agent.Service
	// LLM is the model endpoint's client: the chat panel lists its models.
	LLM *llm.Client
	// DataSources keeps the connections to where content lives.
	DataSources *datasources.Service
	// Assets are the users' prompt assets; LLMKeys their model keys.
	Assets  *assets.Service
	LLMKeys *llmkeys.Service
	Broker  *events.Broker
	// Clerk is nil unless Clerk sign-in is configured.
	Clerk    *clerkauth.Client
	Sessions *scs.SessionManager
	// Registry receives the HTTP metrics; /metrics serves it (see
	// MetricsHandler and config.Config.MetricsOnMainPort).
	Registry *prometheus.Registry
	// Ready reports whether the instance can serve: database reachable and
	// migrations current.
	Ready func(ctx context.Context) error
	// DatabaseUnavailable reports whether an error means the database
	// cannot be reached right now (db.IsUnavailable, passed in because
	// handlers do not import the database layer); such requests answer 503.
	DatabaseUnavailable func(error) bool
}

// Server holds the dependencies every handler uses.
type Server struct {
	Deps
	limiter *ratelimit.Limiter
	metrics *httpMetrics
}

// New returns the Echo instance with every route and middleware installed.
func New(d Deps) *echo.Echo {
	s := &Server{
		Deps:    d,
		limiter: ratelimit.New(d.Config.APIRateLimit, d.Config.APIRateBurst),
		metrics: newHTTPMetrics(d.Registry),
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientIPExtractor(d.Config.TrustedProxies)
	s.routes(e)
	return e
}

// clientIPExtractor decides what c.RealIP() is. With no trusted proxy it is
// the TCP peer, since any client can write X-Forwarded-For. With trusted
// proxies it is the last address in X-Forwarded-For that none of them owns,
// read from the right as each proxy appends; Echo's default trust of
// loopback, link-local and private ranges is turned off, so only the
// configured ranges count as proxies.
func clientIPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{
			IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
		}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
