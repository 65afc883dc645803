package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/testdb"
)

// mustFreePort returns a port nobody listens on right now.
func mustFreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// mustServe runs `scratchpad serve` with env until the test ends.
func mustServe(t testing.TB, env map[string]string) {
	t.Helper()
	if env["DATA_DIR"] == "" {
		// Without ENCRYPTION_KEY, serve keeps a key under DATA_DIR.
		env["DATA_DIR"] = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
}

// mustGet waits until url answers and returns its status.
func mustGet(t testing.TB, url string, header http.Header) int {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return resp.StatusCode
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// refused reports whether nothing accepts connections at addr.
func refused(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
	}
	return err != nil
}

func TestServeBindsListenAddr(t *testing.T) {
	t.Parallel()
	port := strconv.Itoa(mustFreePort(t))
	mustServe(t, map[string]string{
		"DATABASE_URL": testdb.NewURL(t), "LOG_LEVEL": "warn", "LISTEN_ADDR": "127.0.0.1:" + port,
	})
	if got := mustGet(t, "http://127.0.0.1:"+port+"/healthz", nil); got != http.StatusOK {
		t.Fatalf("/healthz on LISTEN_ADDR: %d", got)
	}
	// The whole of 127.0.0.0/8 reaches a server bound to every interface;
	// one bound to 127.0.0.1 alone does not answer on 127.0.0.2.
	if !refused("127.0.0.2:" + port) {
		t.Errorf("the server answers on 127.0.0.2:%s: it is not bound to 127.0.0.1 alone", port)
	}
}

func TestServeMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-0123456789"
	tests := []struct {
		name        string
		token       string
		wantNoToken int
	}{
		{"open on its address", "", http.StatusOK},
		{"behind the token on its address", token, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			port, metricsPort := strconv.Itoa(mustFreePort(t)), strconv.Itoa(mustFreePort(t))
			mustServe(t, map[string]string{
				"DATABASE_URL": testdb.NewURL(t), "LOG_LEVEL": "warn",
				"LISTEN_ADDR": "127.0.0.1:" + port, "METRICS_ADDR": "127.0.0.1:" + metricsPort, "METRICS_TOKEN": tt.token,
			})
			metrics := "http://127.0.0.1:" + metricsPort + "/metrics"
			if got := mustGet(t, metrics, nil); got != tt.wantNoToken {
				t.Errorf("GET %s without a token: %d, want %d", metrics, got, tt.wantNoToken)
			}
			if got := mustGet(t, metrics, http.Header{"Authorization": {"Bearer " + token}}); got != http.StatusOK {
				t.Errorf("GET %s with the token: %d", metrics, got)
			}
			// Given an address of their own, metrics leave the main port.
			if got := mustGet(t, "http://127.0.0.1:"+port+"/metrics", http.Header{"Authorization": {"Bearer " + token}}); got != http.StatusNotFound {
				t.Errorf("/metrics on the main port: %d, want 404", got)
			}
		})
	}
}
