// Package crashtest is the crash suite: it runs Scratchpad as real child
// processes, kills them with SIGKILL in the middle of their work, and checks
// that what they left is consistent and that another instance finishes the
// work exactly once. It has no code of its own outside its tests.
package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/scratchpad/scratchpad/internal/secrets"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/app"
	"github.com/scratchpad/scratchpad/internal/config"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/reqlog"
)

// childEnv marks the test binary started as an app instance.
const childEnv = "SCRATCHPAD_CRASHTEST_CHILD"

// crashKey is the encryption key every child of one test run shares, so a
// survivor opens the credentials its dead sibling sealed.
var crashKey = secrets.NewKey()

// indexThresholdEnv lowers the big-table threshold in a child, so that a
// small table gets on-demand indexes.
const indexThresholdEnv = "CRASHTEST_INDEX_THRESHOLD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild serves the app as cmd/scratchpad does, on a port of its own
// choosing, which it prints with its River client id for the parent.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logger := reqlog.New(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	pool, err := db.Connect(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	a, err := app.New(cfg, pool, logger, app.Options{NoPeriodicJobs: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if n, err := strconv.ParseInt(os.Getenv(indexThresholdEnv), 10, 64); err == nil {
		a.Workbooks.SetIndexThreshold(n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("LISTENING http://%s %s\n", ln.Addr(), a.River.ID())
	if err := a.Serve(ctx, ln); err != nil {
		logger.Error("serve", "err", err)
		return 1
	}
	return 0
}

// child is one app instance running in a process of its own.
type child struct {
	t   testing.TB
	cmd *exec.Cmd
	// URL is where it serves; RiverID is its River client's id, which
	// river_job.attempted_by records.
	URL     string
	RiverID string
	logs    *syncBuffer
	done    chan struct{}
}

// syncBuffer collects a child's log lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustStartChild starts an instance over dbURL with env added to a quiet
// configuration: a two-second job lease, so that the rescue of a killed
// job takes seconds. It is killed when the test ends, before the test's
// database is dropped (register it after testdb.NewURL).
func mustStartChild(t testing.TB, dbURL string, env map[string]string) *child {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "DATABASE_URL="+dbURL, "ENCRYPTION_KEY="+crashKey, "LOG_LEVEL=warn",
		"JOB_QUEUES=default:2,imports:1", "JOB_LEASE=2s", "DB_MAX_CONNS=8")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := &child{t: t, cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("child %d logs:\n%s", cmd.Process.Pid, c.logs.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				lines <- rest
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-lines:
		c.URL, c.RiverID, _ = strings.Cut(l, " ")
	case <-c.done:
		t.Fatalf("child exited before serving:\n%s", c.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("child did not start:\n%s", c.logs.String())
	}
	waitFor(t, 15*time.Second, "child ready", func() bool {
		resp, err := http.Get(c.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return c
}

// kill ends the child with SIGKILL, as a crash or an OOM kill would, and
// waits for it to be gone.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// owner is a user with an API token that may read, write and publish,
// made straight in the database.
type owner struct {
	ID    string
	Token string
}

func mustOwner(t testing.TB, pool *pgxpool.Pool) owner {
	t.Helper()
	ctx := context.Background()
	acc := accounts.NewService(pool)
	u, err := acc.CreateUser(ctx, accounts.SignUpInput{Email: "crash@example.com", Name: "Crash", Password: "correct horse battery"}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := acc.CreateToken(ctx, u, accounts.TokenInput{Name: "crash", Scopes: []accounts.Scope{accounts.ScopeRead, accounts.ScopeWrite, accounts.ScopePublish}})
	if err != nil {
		t.Fatal(err)
	}
	return owner{ID: u.ID, Token: secret}
}

// mustPool connects the test itself to dbURL.
func mustPool(t testing.TB, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.Connect(context.Background(), dbURL, 6)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// api sends one API request and decodes a JSON answer into out (when not
// nil); it returns the status.
func api(t testing.TB, base, token, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+"/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// upload is the 202 answer that starts a CSV import.
type upload struct {
	Table struct {
		ID string `json:"id"`
	} `json:"table"`
	Import struct {
		ID string `json:"id"`
	} `json:"import"`
	Job struct {
		ID string `json:"id"`
	} `json:"job"`
}

// mustUploadCSV adds a table to workbook wb from a CSV file and returns the
// import's answer.
func mustUploadCSV(t testing.TB, base, token, wb, name string, csv []byte, keyColumn string) upload {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("name", name)
	if keyColumn != "" {
		_ = mw.WriteField("key_column", keyColumn)
	}
	fw, err := mw.CreateFormFile("file", name+".csv")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(csv)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/workbooks/"+wb+"/tables", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload: %d %s", resp.StatusCode, raw)
	}
	var out upload
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// catalogue returns a CSV of n products keyed by a unique sku.
func catalogue(n int) []byte {
	var b bytes.Buffer
	b.WriteString("sku,title,price,body\n")
	for i := range n {
		fmt.Fprintf(&b, "SKU-%07d,Product %d,%d.%02d,A sturdy thing of many uses and some weight number %d\n", i, i, i%500, i%100, i)
	}
	return b.Bytes()
}

// jobRow is a River job as the crash tests read it.
type jobRow struct {
	State       string
	Attempt     int
	AttemptedBy []string
	Rescues     int
}

func mustJob(t testing.TB, pool *pgxpool.Pool, id string) jobRow {
	t.Helper()
	var j jobRow
	err := pool.QueryRow(context.Background(), `SELECT state::text, attempt, coalesce(attempted_by, '{}'),
		coalesce((metadata ->> 'lease_rescues')::int, 0) FROM river_job WHERE id = $1`, id).
		Scan(&j.State, &j.Attempt, &j.AttemptedBy, &j.Rescues)
	if err != nil {
		t.Fatalf("job %s: %v", id, err)
	}
	return j
}

// runningOn returns the child whose River client runs job id now.
func runningOn(t testing.TB, pool *pgxpool.Pool, id string, children ...*child) *child {
	t.Helper()
	var found *child
	waitFor(t, 20*time.Second, "the job to start", func() bool {
		j := mustJob(t, pool, id)
		if j.State != "running" || len(j.AttemptedBy) == 0 {
			return false
		}
		by := j.AttemptedBy[len(j.AttemptedBy)-1]
		for _, c := range children {
			if c.RiverID == by {
				found = c
			}
		}
		return found != nil
	})
	return found
}

// noStuckJobs fails the test if any job is still running or waiting.
func noStuckJobs(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	// A job whose work has ended may still be finishing (a job records its
	// outcome, then River completes it); one that is stuck never does.
	var n int
	deadline := time.Now().Add(time.Minute)
	for {
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE state IN ('running', 'available', 'retryable', 'scheduled')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs are left running or waiting a minute after their work ended", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
