package handlers_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
)

// liveTimeout bounds every wait for something to arrive over the network.
const liveTimeout = 10 * time.Second

// TestLiveEventsAcrossInstances is the multi-instance story: two instances
// share one database, a person's page streams events from B, and a change an
// admin makes on A reaches them through PostgreSQL NOTIFY and B's listener.
func TestLiveEventsAcrossInstances(t *testing.T) {
	t.Parallel()
	metrics := map[string]string{"METRICS_TOKEN": testMetricsToken}
	a := apptest.MustStart(t, apptest.Options{Env: metrics})
	b := apptest.MustStart(t, apptest.Options{DatabaseURL: a.DatabaseURL, Env: metrics})
	ctx := context.Background()

	onA := a.NewBrowser(t)
	onA.MustSignUp("admin@example.com", "correct horse battery") // the first account: an admin
	onB := b.NewBrowser(t)
	onB.MustSignUp("member@example.com", "another good password")

	stream := mustOpenEventStream(t, onB, b.URL)
	if got := stream.header.Get("Content-Type"); !strings.HasPrefix(got, "text/event-stream") {
		t.Fatalf("Content-Type %q, want text/event-stream", got)
	}
	if got := sseSubscribers(t, b); got != "1" {
		t.Fatalf("B: scratchpad_sse_subscribers %s while connected, want 1", got)
	}
	if got := sseSubscribers(t, a); got != "0" {
		t.Fatalf("A: scratchpad_sse_subscribers %s, want 0 (the stream is on B)", got)
	}

	admin, err := a.App.Accounts.FindUserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	member, err := a.App.Accounts.FindUserByEmail(ctx, "member@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// The change commits through A's pool; only B holds the stream.
	if _, err := a.App.Accounts.ChangeRole(ctx, admin.ID, member.ID, accounts.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	ev := stream.next(t, "toast")
	if !strings.Contains(ev.data, "Your role is now admin") || !strings.Contains(ev.data, `data-testid="toast"`) {
		t.Fatalf("toast data %q, want the rendered toast naming the new role", ev.data)
	}
}

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	name string // "message" when the stream gives no event: field
	data string // the data: lines joined by newlines
}

// eventStream reads an SSE response in the background.
type eventStream struct {
	header http.Header
	events chan sseEvent
	done   chan error // receives the read error when the stream ends
}

// mustOpenEventStream opens GET /events with the browser's cookies and
// reads it until the test ends. It does not use Browser.Get, which reads the
// whole body, nor the browser's client, whose timeout would cut the stream.
func mustOpenEventStream(t *testing.T, br *apptest.Browser, base string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	// Asked for explicitly, gzip is not undone by the client: the stream
	// must arrive uncompressed anyway, event by event.
	req.Header.Set("Accept-Encoding", "gzip")
	client := &http.Client{Jar: br.Client.Jar}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /events: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("GET /events: %d %s", resp.StatusCode, body)
	}
	s := &eventStream{header: resp.Header, events: make(chan sseEvent, 16), done: make(chan error, 1)}
	go s.read(ctx, resp.Body)
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-s.done
	})
	return s
}

// read parses the stream (the subset of the SSE format the broker writes:
// event:, data:, comments and blank lines) and hands each event on.
func (s *eventStream) read(ctx context.Context, body io.Reader) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var name string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				if name == "" {
					name = "message"
				}
				select {
				case s.events <- sseEvent{name: name, data: strings.Join(data, "\n")}:
				case <-ctx.Done():
				}
			}
			name, data = "", nil
		case strings.HasPrefix(line, ":"):
			// A comment, such as the heartbeat.
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	s.done <- sc.Err()
}

// next waits for the next event named name, skipping others.
func (s *eventStream) next(t *testing.T, name string) sseEvent {
	t.Helper()
	timeout := time.After(liveTimeout)
	for {
		select {
		case ev := <-s.events:
			if ev.name == name {
				return ev
			}
			t.Logf("skipping event %q", ev.name)
		case err := <-s.done:
			s.done <- err // for the cleanup
			t.Fatalf("event stream ended before a %q event: %v", name, err)
		case <-timeout:
			t.Fatalf("no %q event within %s", name, liveTimeout)
		}
	}
}

// sseSubscribers reads the scratchpad_sse_subscribers gauge from inst's
// /metrics.
func sseSubscribers(t *testing.T, inst *apptest.Instance) string {
	t.Helper()
	body := mustMetrics(t, inst)
	for line := range strings.Lines(body) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), "scratchpad_sse_subscribers "); ok {
			return value
		}
	}
	t.Fatalf("no scratchpad_sse_subscribers in /metrics:\n%s", body)
	return ""
}
