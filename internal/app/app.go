// Package app wires Scratchpad together: the pool, the domain services, the
// River client, the live-event listener and broker, and the HTTP handler.
// main uses it to serve; tests use it to run whole instances.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/scratchpad/scratchpad/handlers"
	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/internal/assets"
	"github.com/scratchpad/scratchpad/internal/clerkauth"
	"github.com/scratchpad/scratchpad/internal/config"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/connectors/mysql"
	"github.com/scratchpad/scratchpad/internal/connectors/postgres"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/idempotency"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/joblease"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/llmkeys"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/internal/sessionstore"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/webfetch"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/migrations"
)

// App is one running Scratchpad instance.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	Pool     *pgxpool.Pool
	Accounts *accounts.Service
	Jobs     *jobs.Service
	// Workbooks is the record store.
	Workbooks *workbooks.Service
	// Imports moves CSV files in and out of the record store.
	Imports *imports.Service
	// DataSources keeps connections to the systems content lives in.
	DataSources *datasources.Service
	// Syncs pulls tables from data sources and publishes changes back.
	Syncs *syncs.Service
	// LLM is the client of the model endpoint (LLM_BASE_URL).
	LLM *llm.Client
	// Provisioner manages per-user keys when LLM_PROVISIONING_KEY is set;
	// nil otherwise.
	Provisioner *llm.Provisioner
	// Agent runs the AI agent's sessions and turns.
	Agent *agent.Service
	// Assets are the users' prompt assets; LLMKeys picks the key that pays
	// for a user's model calls; WebFetch loads web pages as text, safely.
	Assets   *assets.Service
	LLMKeys  *llmkeys.Service
	WebFetch *webfetch.Fetcher
	River    *jobs.Client
	Broker   *events.Broker
	Handler  http.Handler

	listener *events.Listener
	// rescuer hands back long jobs whose process died; every instance runs
	// one.
	rescuer *jobs.Rescuer
	// metrics serves /metrics on METRICS_ADDR, when that is set.
	metrics  http.Handler
	migrated atomic.Bool
	sessions *scs.SessionManager
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Options tunes New for tests.
type Options struct {
	// ClerkAPIURL and HTTPClient point Clerk at a local fake in tests.
	ClerkHTTPClient *http.Client
	// Connectors replaces the services data sources can use (tests add
	// fakes of SaaS services); nil means Connectors().
	Connectors *connectors.Registry
	// ConnectorHTTPClient is the HTTP client of SaaS connectors.
	ConnectorHTTPClient *http.Client
	// NoPeriodicJobs leaves periodic jobs out.
	NoPeriodicJobs bool
	// AgentPages, AgentAssets and AgentKeys replace the agent's web pages,
	// prompt assets and users' own model keys (nil: the app's own, over
	// internal/webfetch, internal/assets and internal/llmkeys).
	AgentPages  agent.PageLoader
	AgentAssets agent.AssetSource
	AgentKeys   agent.KeySource
	// FetchLoopback lets the web page loader (prompt-asset import, the
	// agent's load-URL tool) fetch from 127.0.0.1, so browser tests can
	// import from an httptest server. Tests only: every other private
	// address stays refused.
	FetchLoopback bool
	// ProvisioningHTTPClient is the HTTP client of the key-provisioning
	// API; nil means a default one.
	ProvisioningHTTPClient *http.Client
}

// New builds an instance over pool. Nothing runs until Start.
func New(cfg config.Config, pool *pgxpool.Pool, logger *slog.Logger, opts Options) (*App, error) {
	a := &App{Config: cfg, Logger: logger, Pool: pool}
	a.Accounts = accounts.NewService(pool)
	a.Workbooks = workbooks.NewService(pool)
	lease := joblease.Timing{Lease: cfg.JobLease}
	imp, err := imports.NewService(pool, a.Workbooks, imports.Options{Logger: logger, Lease: lease})
	if err != nil {
		return nil, err
	}
	a.Imports = imp

	if cfg.EncryptionKey == nil {
		return nil, errors.New("app: no encryption key: set ENCRYPTION_KEY (32 bytes, base64; `openssl rand -base64 32`)")
	}
	keys, err := secrets.NewKeyring(cfg.EncryptionKey, cfg.EncryptionOldKeys...)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	registry := opts.Connectors
	if registry == nil {
		registry = Connectors()
	}
	a.DataSources = datasources.NewService(pool, keys, registry, datasources.Options{Logger: logger, HTTPClient: opts.ConnectorHTTPClient})
	a.Syncs, err = syncs.NewService(pool, a.Workbooks, a.DataSources, syncs.Options{Logger: logger, Lease: lease})
	if err != nil {
		return nil, err
	}

	models := make([]llm.Model, 0, len(cfg.LLMModels))
	for _, m := range cfg.LLMModels {
		models = append(models, llm.ConfiguredModel(m.ID, m.ContextLength, m.PromptPerMTok, m.CompletionPerMTok))
	}
	a.LLM = llm.New(llm.Options{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey, DefaultModel: cfg.LLMDefaultModel, Models: models, MaxRetries: 2})
	a.WebFetch = webfetch.New(webfetch.Options{AllowLoopback: opts.FetchLoopback})
	a.Assets = assets.NewService(pool, a.WebFetch)
	keyOpts := llmkeys.Options{ServerKey: cfg.LLMAPIKey, Logger: logger}
	if cfg.LLMProvisioningKey != "" {
		keyOpts.Provisioner = llm.NewProvisioner(cfg.LLMBaseURL, cfg.LLMProvisioningKey, opts.ProvisioningHTTPClient)
	}
	a.Provisioner = keyOpts.Provisioner
	a.LLMKeys = llmkeys.NewService(pool, keys, keyOpts)
	agentOpts := agent.Options{Logger: logger, Lease: lease, Pages: opts.AgentPages, Assets: opts.AgentAssets, Keys: opts.AgentKeys}
	if agentOpts.Pages == nil {
		agentOpts.Pages = agentPages{a.WebFetch}
	}
	if agentOpts.Assets == nil {
		agentOpts.Assets = agentAssets{a.Assets}
	}
	if agentOpts.Keys == nil {
		agentOpts.Keys = agentKeys{a.LLMKeys}
	}
	a.Agent, err = agent.NewService(pool, a.Workbooks, a.LLM, agentOpts)
	if err != nil {
		return nil, err
	}

	idem := idempotency.NewStore(pool)
	jobOpts := jobs.Options{
		Queues: cfg.JobQueues, Logger: logger, Accounts: a.Accounts, Imports: a.Imports, Workbooks: a.Workbooks, Idempotency: idem,
		NoPeriodic: opts.NoPeriodicJobs, Lease: lease, Syncs: a.Syncs, Agent: a.Agent,
	}
	river, err := jobs.NewClient(pool, jobOpts)
	if err != nil {
		return nil, err
	}
	a.River = river
	a.rescuer = jobs.NewRescuer(pool, jobOpts)
	a.Jobs = jobs.NewService(river, pool, a.Imports, a.rescuer).WithSyncs(a.Syncs)

	a.Broker = events.NewBroker(events.BrokerOptions{Renderer: handlers.EventRenderer(handlers.EventRendererDeps{Logger: logger, Workbooks: a.Workbooks, Extra: []func(context.Context, events.Event) ([]events.Message, bool){handlers.RenderImportEvent, handlers.RenderSyncEvent, handlers.LiveRenderers().Render}}), Logger: logger})
	a.listener = events.NewListener(pool, a.Broker, logger)

	var clerk *clerkauth.Client
	if cfg.ClerkEnabled() {
		clerk, err = clerkauth.New(clerkauth.Config{
			SecretKey: cfg.ClerkSecretKey, PublishableKey: cfg.ClerkPublishableKey,
			APIURL: cfg.ClerkAPIURL, HTTPClient: opts.ClerkHTTPClient,
		})
		if err != nil {
			return nil, fmt.Errorf("app: clerk: %w", err)
		}
	}

	a.sessions = scs.New()
	// The purge job cleans up expired and ended sessions. A request that
	// changes nothing but a session's idle expiry writes it at most once
	// per slack (sessionstore), not on every page and fragment.
	a.sessions.Store = sessionstore.New(
		sessionstore.NewPostgres(pool, a.sessions.Codec, handlers.SessionUserKey),
		a.sessions.Codec, sessionstore.SlackFor(cfg.SessionIdleTimeout))
	a.sessions.Lifetime = cfg.SessionLifetime
	a.sessions.IdleTimeout = cfg.SessionIdleTimeout
	a.sessions.Cookie.Name = "sp_session"
	a.sessions.Cookie.HttpOnly = true
	a.sessions.Cookie.SameSite = http.SameSiteStrictMode
	a.sessions.Cookie.Secure = cfg.SecureCookies()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scratchpad_sse_subscribers", Help: "Open server-sent event streams on this instance.",
	}, func() float64 { return float64(a.Broker.Subscribers()) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "scratchpad_sse_dropped_total", Help: "Server-sent event streams dropped because their client could not keep up.",
	}, func() float64 { return float64(a.Broker.Dropped()) }))
	reg.MustRegister(&jobStateCollector{jobs: a.Jobs, logger: logger})
	a.metrics = handlers.MetricsHandler(reg, cfg.MetricsToken)

	e := handlers.New(handlers.Deps{
		Config: cfg, Logger: logger, Accounts: a.Accounts, Jobs: a.Jobs, Workbooks: a.Workbooks, Imports: a.Imports, Idempotency: idem, Broker: a.Broker,
		DataSources: a.DataSources, Syncs: a.Syncs, Agent: a.Agent, Assets: a.Assets, LLMKeys: a.LLMKeys, LLM: a.LLM,
		Clerk: clerk, Sessions: a.sessions, Registry: reg, Ready: a.ready, DatabaseUnavailable: db.IsUnavailable,
	})
	// The session middleware cannot load or save sessions while the
	// database is down: it answers like every other failed request (a
	// 503 page or toast then), through the handlers' one error handler.
	a.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		e.HTTPErrorHandler(err, e.NewContext(r, w))
	}
	a.Handler = e
	return a, nil
}

// Connectors is the registry of services data sources can use, in the
// order the service picker shows them.
func Connectors() *connectors.Registry {
	return connectors.NewRegistry(postgres.Service(), mysql.Service())
}

// ready reports whether the database answers and has every migration.
func (a *App) ready(ctx context.Context) error {
	if err := a.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	// Migrations only move forward, so once they are current this instance
	// stops asking goose on every probe.
	if a.migrated.Load() {
		return nil
	}
	db := stdlib.OpenDBFromPool(a.Pool)
	defer db.Close()
	pending, err := migrations.Pending(ctx, db)
	if err != nil {
		return fmt.Errorf("checking migrations: %w", err)
	}
	if pending {
		return errors.New("migrations pending: run `scratchpad migrate`")
	}
	a.migrated.Store(true)
	return nil
}

// Start runs the background parts: the LISTEN connection and River.
func (a *App) Start(ctx context.Context) error {
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.listener.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.Logger.Error("event listener stopped", "err", err)
		}
	}()
	if err := a.River.Start(ctx); err != nil {
		a.cancel()
		return fmt.Errorf("app: start river: %w", err)
	}
	a.wg.Go(func() { a.rescuer.Run(ctx) })
	return nil
}

// Stop shuts the background parts down: SSE streams close, River stops
// softly (running jobs finish) and, when ctx runs out, hard (they are
// cancelled and retried later), then the listener ends.
func (a *App) Stop(ctx context.Context) {
	a.Broker.Close()
	soft, cancel := context.WithTimeout(ctx, softStopShare(ctx))
	defer cancel()
	if err := a.River.Stop(soft); err != nil {
		a.Logger.Warn("river soft stop timed out; cancelling running jobs", "err", err)
		if err := a.River.StopAndCancel(ctx); err != nil {
			a.Logger.Error("river hard stop", "err", err)
		}
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
}

// softStopShare gives River's soft stop two thirds of the time left.
func softStopShare(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl) * 2 / 3
	}
	return 10 * time.Second
}

// Serve runs the HTTP server on ln, and the metrics server on METRICS_ADDR
// when that is set, until ctx is done, then drains them: no new
// connections, SSE streams closed, in-flight requests finished, background
// parts stopped. The caller closes the pool afterwards.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	var metricsLn net.Listener
	if a.Config.MetricsAddr != "" {
		var err error
		if metricsLn, err = net.Listen("tcp", a.Config.MetricsAddr); err != nil {
			return fmt.Errorf("app: metrics: %w", err)
		}
	}
	if err := a.Start(ctx); err != nil {
		if metricsLn != nil {
			metricsLn.Close()
		}
		return err
	}
	srv := a.httpServer(a.Handler)
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	a.Logger.Info("serving", "addr", ln.Addr().String(), "url", a.Config.BaseURL)
	var metricsSrv *http.Server
	switch {
	case metricsLn != nil:
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics)
		metricsSrv = a.httpServer(mux)
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
		a.Logger.Info("serving metrics", "addr", metricsLn.Addr().String(), "token", a.Config.MetricsToken != "")
	case a.Config.MetricsOnMainPort():
		a.Logger.Info("serving metrics behind METRICS_TOKEN", "path", "/metrics")
	default:
		a.Logger.Info("not serving metrics: set METRICS_ADDR or METRICS_TOKEN")
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	a.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	a.Broker.Close() // SSE streams would otherwise hold Shutdown open
	if err := srv.Shutdown(shutdownCtx); err != nil {
		a.Logger.Warn("http shutdown", "err", err)
	}
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutdownCtx); err != nil {
			a.Logger.Warn("metrics shutdown", "err", err)
		}
	}
	a.Stop(shutdownCtx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}

// httpServer returns a server for h with the app's timeouts and logger.
func (a *App) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
}

// jobStateCollector exports the number of jobs in each state at scrape time.
type jobStateCollector struct {
	jobs   *jobs.Service
	logger *slog.Logger
}

var jobStateDesc = prometheus.NewDesc("scratchpad_jobs", "Background jobs by state.", []string{"state"}, nil)

func (c *jobStateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobStateDesc }

func (c *jobStateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.jobs.CountByState(ctx)
	if err != nil {
		c.logger.Warn("metrics: count jobs", "err", err)
		return
	}
	for _, st := range jobs.States() {
		ch <- prometheus.MustNewConstMetric(jobStateDesc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}

// EventsReady is closed once this instance listens for live events, so tests
// can wait for it instead of sleeping.
func (a *App) EventsReady() <-chan struct{} { return a.listener.Ready() }
