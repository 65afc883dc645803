package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/testdb"
)

// editor edits one record over the API, again and again, and keeps what
// the server last confirmed: the value of an answered edit, or after an
// unanswered one, the value a read showed.
type editor struct {
	t                 testing.TB
	base, token, path string
	version           int
	confirmed         string
	statuses          map[int]int
	transportFailures int
}

// record is the part of a record the editors read.
type record struct {
	Version int            `json:"version"`
	Fields  map[string]any `json:"fields"`
}

func (e *editor) do(method string, body any) (int, record) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+"/api/v1"+e.path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		e.transportFailures++
		return 0, record{}
	}
	defer resp.Body.Close()
	e.statuses[resp.StatusCode]++
	var r record
	if resp.StatusCode == http.StatusOK {
		_ = json.NewDecoder(resp.Body).Decode(&r)
	}
	return resp.StatusCode, r
}

// run edits until stop is closed. Each edit writes a new value; a failed
// one is followed by reads until one answers, so the next edit carries the
// version the server has.
func (e *editor) run(stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		value := fmt.Sprintf("edit %d", i)
		st, r := e.do(http.MethodPatch, map[string]any{"fields": map[string]any{"title": value}, "version": e.version})
		if st == http.StatusOK {
			e.version, e.confirmed = r.Version, value
			continue
		}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if st, r := e.do(http.MethodGet, nil); st == http.StatusOK {
				e.version, e.confirmed = r.Version, fmt.Sprint(r.Fields["title"])
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// streamEvents reads a JSON event stream and sends each event's type with
// the time it arrived.
type streamEvent struct {
	Type string
	At   time.Time
}

func openStream(t testing.TB, base, token, wb string) <-chan streamEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/workbooks/"+wb+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("open the event stream: %v", err)
	}
	out := make(chan streamEvent, 4096)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				select {
				case out <- streamEvent{Type: name, At: time.Now()}:
				default:
				}
			}
		}
	}()
	return out
}

// A PostgreSQL restart under load (an import running, editors editing, a
// live stream open) loses nothing that was confirmed, leaves no job stuck,
// duplicates no row, answers 503 (never another 5xx) meanwhile, and tells the
// stream to resync, after which its events flow again.
func TestPostgresRestartUnderLoad(t *testing.T) {
	t.Parallel()
	srv := testdb.NewPrivateServer(t)
	pool := mustPool(t, srv.URL)
	o := mustOwner(t, pool)
	a := mustStartChild(t, srv.URL, nil)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Restart"}, &wb)
	small := mustUploadCSV(t, a.URL, o.Token, wb.ID, "edited", catalogue(8), "")
	waitFor(t, 30*time.Second, "the small import", func() bool { return mustImport(t, pool, small.Import.ID).Status == "done" })
	var page struct {
		Items []struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		} `json:"items"`
	}
	api(t, a.URL, o.Token, http.MethodGet, "/workbooks/"+wb.ID+"/tables/"+small.Table.ID+"/records", nil, &page)
	events := openStream(t, a.URL, o.Token, wb.ID)

	const rows = 300_000
	big := mustUploadCSV(t, a.URL, o.Token, wb.ID, "catalogue", catalogue(rows), "sku")
	waitFor(t, 30*time.Second, "the import's first batches", func() bool { return mustImport(t, pool, big.Import.ID).Imported > 0 })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	editors := make([]*editor, len(page.Items))
	for i, r := range page.Items {
		e := &editor{t: t, base: a.URL, token: o.Token, path: "/workbooks/" + wb.ID + "/tables/" + small.Table.ID + "/records/" + r.ID,
			version: r.Version, statuses: map[int]int{}}
		editors[i] = e
		wg.Go(func() { e.run(stop) })
	}
	time.Sleep(500 * time.Millisecond)
	srv.Stop()
	time.Sleep(time.Second)
	srv.Start()
	restarted := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	statuses := map[int]int{}
	for _, e := range editors {
		for st, n := range e.statuses {
			statuses[st] += n
		}
	}
	for st, n := range statuses {
		if st >= 500 && st != http.StatusServiceUnavailable {
			t.Errorf("%d answers were %d: only 503 may answer while the database is away", n, st)
		}
	}
	if statuses[http.StatusOK] == 0 {
		t.Fatalf("no edit went through: %v", statuses)
	}

	// Every value the server confirmed is the value it holds.
	for _, e := range editors {
		var st int
		var r record
		waitFor(t, 20*time.Second, "a read of "+e.path, func() bool {
			st, r = e.do(http.MethodGet, nil)
			return st == http.StatusOK
		})
		if got := fmt.Sprint(r.Fields["title"]); got != e.confirmed {
			t.Errorf("%s holds %q, but the last confirmed value was %q", e.path, got, e.confirmed)
		}
	}

	waitFor(t, 90*time.Second, "the import to finish", func() bool { return mustImport(t, pool, big.Import.ID).Status != "importing" })
	if end := mustImport(t, pool, big.Import.ID); end.Status != "done" || end.Imported != rows {
		t.Fatalf("import ended %+v, want done with %d rows", end, rows)
	}
	if n, keys := tableCounts(t, pool, big.Table.ID); n != rows || keys != rows {
		t.Fatalf("table holds %d records with %d distinct keys, want %d", n, keys, rows)
	}
	noStuckJobs(t, pool)

	// The stream was told to resync after the restart, and events flow on.
	next := func(what string, match func(streamEvent) bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("the event stream ended while waiting for %s", what)
				}
				if match(ev) {
					return
				}
			case <-deadline:
				t.Fatalf("the event stream carried no %s", what)
			}
		}
	}
	next("resync after the restart", func(ev streamEvent) bool { return ev.Type == "resync" && ev.At.After(restarted.Add(-time.Second)) })
	edited := time.Now()
	e := editors[0]
	if st, _ := e.do(http.MethodPatch, map[string]any{"fields": map[string]any{"title": "after"}, "version": e.version}); st != http.StatusOK {
		t.Fatalf("an edit after the restart: %d", st)
	}
	next("event after the resync", func(ev streamEvent) bool { return ev.Type != "resync" && ev.At.After(edited) })
}
