// Package apptest runs whole Scratchpad instances for tests: a fresh
// migrated database per test (internal/testdb), the real handler, River and
// the event listener, served over httptest, plus a browser-like HTTP client
// that keeps cookies and sends CSRF tokens the way forms do.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/config"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// Instance is one running app on its own test server.
type Instance struct {
	URL  string
	App  *app.App
	Pool *pgxpool.Pool
	// DatabaseURL is the test database, so a second instance can share it.
	DatabaseURL string
	// Server serves the app; CloseClientConnections cuts every open
	// connection, event streams included, as a restart would.
	Server *httptest.Server
}

// Options tweaks an instance.
type Options struct {
	// DatabaseURL reuses an existing test database (a second instance);
	// empty creates a fresh one.
	DatabaseURL string
	// Env overrides configuration variables.
	Env map[string]string
	// AppOptions is passed to app.New.
	AppOptions app.Options
	// Log, when set, receives every log line of the instance as text at
	// debug level, so a test can look through them.
	Log io.Writer
}

// MustStart starts an instance and stops it when the test ends.
func MustStart(t testing.TB, opts Options) *Instance {
	t.Helper()
	dbURL := opts.DatabaseURL
	if dbURL == "" {
		dbURL = testdb.NewURL(t)
	}
	env := map[string]string{"DATABASE_URL": dbURL, "JOB_QUEUES": "default:2,imports:1", "ENCRYPTION_KEY": secrets.NewKey()}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("apptest: config: %v", err)
	}
	ctx := context.Background()
	pool, err := db.Connect(ctx, dbURL, 10)
	if err != nil {
		t.Fatalf("apptest: %v", err)
	}
	opts.AppOptions.NoPeriodicJobs = true
	logger := Logger(t)
	if opts.Log != nil {
		logger = slog.New(slog.NewTextHandler(opts.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(cfg, pool, logger, opts.AppOptions)
	if err != nil {
		pool.Close()
		t.Fatalf("apptest: app: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		pool.Close()
		t.Fatalf("apptest: start: %v", err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		a.Broker.Close()
		srv.Close()
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Stop(stopCtx)
		pool.Close()
	})
	select {
	case <-a.EventsReady():
	case <-time.After(15 * time.Second):
		t.Fatal("apptest: event listener not ready")
	}
	return &Instance{URL: srv.URL, App: a, Pool: pool, DatabaseURL: dbURL, Server: srv}
}

// Logger returns a logger that writes to the test log when -v is set and
// discards otherwise, so failing tests stay readable.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("APPTEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Browser is an HTTP client that behaves like a browser without
// JavaScript: it keeps cookies, does not follow redirects (tests assert
// them), and posts forms with the page's CSRF token.
type Browser struct {
	t      testing.TB
	base   string
	Client *http.Client
	csrf   string
	// Header is added to every request, as a proxy in front of the app adds
	// X-Forwarded-For.
	Header http.Header
}

// NewBrowser returns a fresh browser (no cookies) for inst.
func (inst *Instance) NewBrowser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, base: inst.URL, Client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a read response with its parsed HTML.
type Response struct {
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// TestID returns the elements with data-testid=id.
func (r *Response) TestID(id string) *goquery.Selection {
	return r.Doc.Find(`[data-testid="` + id + `"]`)
}

// Get fetches path and remembers the page's CSRF token.
func (b *Browser) Get(path string) *Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Do(req)
}

// Do sends req and reads the response.
func (b *Browser) Do(req *http.Request) *Response {
	b.t.Helper()
	for name, values := range b.Header {
		req.Header[name] = values
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		b.csrf = tok
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Doc: doc}
}

// CSRF returns the token from the last page that carried one, loading "/"'s
// sign-in page first when none was seen.
func (b *Browser) CSRF() string {
	b.t.Helper()
	if b.csrf == "" {
		b.Get("/signin")
	}
	return b.csrf
}

// PostForm submits a form like a browser does, with the CSRF token.
func (b *Browser) PostForm(path string, form url.Values) *Response {
	b.t.Helper()
	return b.Send(http.MethodPost, path, form, false)
}

// Send submits form with method; htmx marks it as an htmx request (with
// the CSRF header, as the layout's hx-headers does).
func (b *Browser) Send(method, path string, form url.Values, htmx bool) *Response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	tok := b.CSRF()
	if !htmx {
		form.Set("_csrf", tok)
	}
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if htmx {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", tok)
	}
	return b.Do(req)
}

// MustSignUp creates an account through the sign-up form and leaves the
// browser signed in, on the page it was sent to.
func (b *Browser) MustSignUp(email, password string) {
	b.t.Helper()
	b.Get("/signup")
	r := b.PostForm("/signup", url.Values{"email": {email}, "password": {password}, "name": {""}})
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("sign up %s: status %d: %s", email, r.Status, r.TestID("form-error").Text())
	}
	b.Get(r.Header.Get("Location"))
}

// MustSignIn signs in through the sign-in form and, like a browser, loads
// the page it is sent to, which carries the CSRF token of the new session.
func (b *Browser) MustSignIn(email, password string) {
	b.t.Helper()
	b.Get("/signin")
	r := b.PostForm("/signin", url.Values{"email": {email}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("sign in %s: status %d: %s", email, r.Status, r.TestID("form-error").Text())
	}
	b.Get(r.Header.Get("Location"))
}
