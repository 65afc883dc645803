package handlers

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz answers as long as the process serves HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database is reachable and its migrations
// are current, so a load balancer sends no traffic to an instance that would
// fail.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		s.Logger.WarnContext(ctx, "not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// MetricsHandler serves reg in the Prometheus text format. With a token,
// only requests that carry it (Authorization: Bearer <token>, what
// Prometheus sends with `authorization: {credentials: …}`) are served and
// others get 401; without one it serves everyone, which is only safe on an
// address nobody else reaches (METRICS_ADDR). Its answers are for scrapers,
// not people, so they do not go through the pages and problem documents of
// handleError.
func MetricsHandler(reg *prometheus.Registry, token string) http.Handler {
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	if token == "" {
		return metrics
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, sent, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(sent)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.", http.StatusUnauthorized)
			return
		}
		metrics.ServeHTTP(w, r)
	})
}

// httpMetrics records request durations by route.
type httpMetrics struct {
	durations *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "scratchpad_http_request_duration_seconds",
		Help:    "HTTP request durations by method, route pattern and status.",
		Buckets: []float64{.002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "status"})}
	reg.MustRegister(m.durations)
	return m
}

func (m *httpMetrics) observe(method, route string, status int, took time.Duration) {
	m.durations.WithLabelValues(method, route, itoa(status)).Observe(took.Seconds())
}
