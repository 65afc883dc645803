package app_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/config"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// TestServeShutsDownGracefully starts a real server with an open SSE stream
// and checks that cancelling the context closes the stream, stops River and
// returns well within the shutdown budget.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	url := testdb.NewURL(t)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATABASE_URL": url, "SHUTDOWN_TIMEOUT": "10s", "ENCRYPTION_KEY": secrets.NewKey()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := db.Connect(context.Background(), url, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	a, err := app.New(cfg, pool, apptest.Logger(t), app.Options{NoPeriodicJobs: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	// Sign up to get a session, then hold the live-events stream open.
	inst := &apptest.Instance{URL: base}
	b := inst.NewBrowser(t)
	b.MustSignUp("shutdown@example.com", "correct horse battery")
	req, _ := http.NewRequest(http.MethodGet, base+"/events", nil)
	client := &http.Client{Jar: b.Client.Jar}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events content type %q", resp.Header.Get("Content-Type"))
	}
	streamEnded := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
		}
		close(streamEnded)
	}()

	start := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	select {
	case <-streamEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("the SSE stream stayed open after shutdown")
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("shutdown took %s", took)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}
