package events_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/events"
)

// timeout bounds every wait in these tests; it is generous because waits end
// as soon as what they wait for happens.
const timeout = 15 * time.Second

// TestMain fails the run if goroutines of the broker, the listener, r3labs/sse
// or the test clients outlive the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeakedGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeakedGoroutines returns the stacks of goroutines still running code
// from this package or r3labs/sse after wait, or "" as soon as there are none.
func waitForLeakedGoroutines(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "events_test.TestMain") {
				continue
			}
			if strings.Contains(g, "github.com/r3labs/sse/v2.") ||
				strings.Contains(g, "scratchpad/internal/events.") ||
				strings.Contains(g, "scratchpad/internal/events_test.") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MustDatabaseURL returns TEST_DATABASE_URL, skipping the test when it is not
// set, except on CI where that is a failure.
func MustDatabaseURL(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("TEST_DATABASE_URL must be set on CI")
		}
		tb.Skip("TEST_DATABASE_URL is not set")
	}
	return dsn
}

// MustPool opens a pool whose connections, including the Listener's, carry
// applicationName, so a test can find its own backends in pg_stat_activity.
func MustPool(tb testing.TB, applicationName string) *pgxpool.Pool {
	tb.Helper()
	config, err := pgxpool.ParseConfig(MustDatabaseURL(tb))
	if err != nil {
		tb.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	config.ConnConfig.RuntimeParams["application_name"] = applicationName
	pool, err := pgxpool.NewWithConfig(context.Background(), config)
	if err != nil {
		tb.Fatalf("open pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

var topicCounter atomic.Int64

// UniqueTopic returns a topic no other test uses.
func UniqueTopic(tb testing.TB) string {
	return events.WorkbookTopic(fmt.Sprintf("%s-%d-%d", tb.Name(), os.Getpid(), topicCounter.Add(1)))
}

// testLogger logs to the test's output.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// streamServer serves broker at /events?topic=…&format=html|json, as the web
// and API handlers will after authorizing the request.
type streamServer struct {
	broker *events.Broker
	*httptest.Server
}

// MustStreamServer starts a Broker behind an httptest server. Cleanup closes
// the Broker before the server, as main must before http.Server.Shutdown.
func MustStreamServer(tb testing.TB, opts events.BrokerOptions) *streamServer {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(tb)
	}
	broker := events.NewBroker(opts)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := events.FormatHTML
		if r.URL.Query().Get("format") == "json" {
			format = events.FormatJSON
		}
		broker.ServeHTTP(w, r, r.URL.Query().Get("topic"), format, credentialsOf(r))
	}))
	tb.Cleanup(server.Close)
	tb.Cleanup(broker.Close)
	return &streamServer{broker: broker, Server: server}
}

// credentials is what test streams run on: the user in the query string
// ("user"), whose credentials hold until revoke ends them.
type credentials struct {
	mu      sync.Mutex
	revoked map[string]error
}

var testCredentials = &credentials{revoked: map[string]error{}}

// revoke makes the credentials of user fail their next check.
func (c *credentials) revoke(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked[user] = fmt.Errorf("credentials of %s revoked", user)
}

func (c *credentials) check(user string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked[user]
}

// credentialsOf returns the Credentials of a test stream request: its
// "user", and "expires" as a Unix time in milliseconds.
func credentialsOf(r *http.Request) events.Credentials {
	user := r.URL.Query().Get("user")
	creds := events.Credentials{UserID: user, Check: func(context.Context) error { return testCredentials.check(user) }}
	if ms, err := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64); err == nil {
		creds.ExpiresAt = time.UnixMilli(ms)
	}
	return creds
}

// instance is one process of the application: a pool, a Listener and a
// Broker behind an HTTP server.
type instance struct {
	pool     *pgxpool.Pool
	listener *events.Listener
	*streamServer
}

// MustInstance starts an instance and waits until its Listener listens.
func MustInstance(tb testing.TB, applicationName string, opts events.BrokerOptions) *instance {
	tb.Helper()
	pool := MustPool(tb, applicationName)
	server := MustStreamServer(tb, opts)
	listener := events.NewListener(pool, server.broker, testLogger(tb))

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- listener.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			tb.Errorf("Listener.Run: %v", err)
		}
	})

	select {
	case <-listener.Ready():
	case err := <-stopped:
		tb.Fatalf("Listener.Run returned before listening: %v", err)
	case <-time.After(timeout):
		tb.Fatal("Listener did not start listening")
	}
	return &instance{pool: pool, listener: listener, streamServer: server}
}

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	Name string
	Data string
}

// sseClient reads one event stream line by line.
type sseClient struct {
	events   chan sseEvent
	comments chan string
	ended    chan struct{} // closed when the stream ends
	body     io.ReadCloser
}

// MustSubscribe opens the stream of topic in format ("html" or "json") and
// returns once the server has answered, which is after the subscriber is
// registered, so everything published from then on reaches it.
func MustSubscribe(tb testing.TB, server *streamServer, topic, format string) *sseClient {
	tb.Helper()
	return MustSubscribeWith(tb, server, url.Values{"topic": {topic}, "format": {format}})
}

// MustSubscribeWith is MustSubscribe with the whole query: topic, format
// and the stream's credentials (see credentialsOf).
func MustSubscribeWith(tb testing.TB, server *streamServer, query url.Values) *sseClient {
	tb.Helper()
	resp := mustOpenStreamWith(tb, server, query)
	c := &sseClient{
		events:   make(chan sseEvent, 1000),
		comments: make(chan string, 1000),
		ended:    make(chan struct{}),
		body:     resp.Body,
	}
	go c.read()
	tb.Cleanup(func() {
		c.body.Close()
		<-c.ended
	})
	return c
}

// mustOpenStream sends the subscription request and checks the answer.
func mustOpenStream(tb testing.TB, server *streamServer, topic, format string) *http.Response {
	tb.Helper()
	return mustOpenStreamWith(tb, server, url.Values{"topic": {topic}, "format": {format}})
}

func mustOpenStreamWith(tb testing.TB, server *streamServer, query url.Values) *http.Response {
	tb.Helper()
	resp, err := server.Client().Get(server.URL + "/events?" + query.Encode())
	if err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		tb.Fatalf("subscribe: status %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		resp.Body.Close()
		tb.Fatalf("subscribe: Content-Type %q", ct)
	}
	return resp
}

// read parses the stream as the EventSource algorithm does (for the fields
// the server sends) until it ends.
func (c *sseClient) read() {
	defer close(c.ended)
	r := bufio.NewReader(c.body)
	var name string
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data != nil {
				c.events <- sseEvent{Name: name, Data: strings.Join(data, "\n")}
			}
			name, data = "", nil
		case strings.HasPrefix(line, ":"):
			select {
			case c.comments <- strings.TrimSpace(strings.TrimPrefix(line, ":")):
			default:
			}
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

// MustNext returns the next event, failing if the stream ends or stays
// silent.
func (c *sseClient) MustNext(tb testing.TB) sseEvent {
	tb.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-c.ended:
		// The stream may have ended right after its last event.
		select {
		case ev := <-c.events:
			return ev
		default:
		}
		tb.Fatal("stream ended while waiting for an event")
	case <-time.After(timeout):
		tb.Fatal("no event within the timeout")
	}
	return sseEvent{}
}

// MustEnd waits for the stream to end.
func (c *sseClient) MustEnd(tb testing.TB) {
	tb.Helper()
	select {
	case <-c.ended:
	case <-time.After(timeout):
		tb.Fatal("stream did not end")
	}
}

// MustEventually waits until cond holds, checking it every few milliseconds,
// for state that has no channel to wait on.
func MustEventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
