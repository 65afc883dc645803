package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// availabilityTimeout bounds each wait of the tests that stop the database.
// The event listener backs off while the database is away (up to 30 s
// between attempts), so it is generous; waits end as soon as what they wait
// for happens.
const availabilityTimeout = 45 * time.Second

// owner is a user with an API token and a workbook with one table.
type owner struct {
	user  accounts.User
	token string
	wb    workbooks.Workbook
	table workbooks.Table
}

// mustOwner creates an owner through the services of inst.
func mustOwner(t testing.TB, inst *apptest.Instance, email string) owner {
	t.Helper()
	ctx := context.Background()
	u, err := inst.App.Accounts.CreateUser(ctx, accounts.SignUpInput{Email: email, Password: "correct horse battery"}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := inst.App.Accounts.CreateToken(ctx, u, accounts.TokenInput{Name: "test", Scopes: []accounts.Scope{accounts.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Live")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := inst.App.Workbooks.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Posts", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return owner{user: u, token: token, wb: wb, table: tbl}
}

// sseEvent is one event of a stream: its name and data.
type sseEvent struct{ name, data string }

// mustOpenEvents opens the owner's JSON event stream of the workbook and
// returns its events, read until the stream ends (the channel then closes).
func mustOpenEvents(t testing.TB, inst *apptest.Instance, o owner) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, inst.URL+"/api/v1/workbooks/"+o.wb.ID+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open event stream: %s", resp.Status)
	}
	out := make(chan sseEvent, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		lines := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for lines.Scan() {
			line := lines.Text()
			if v, ok := strings.CutPrefix(line, "event:"); ok {
				ev.name = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "data:"); ok {
				ev.data = strings.TrimSpace(v)
			}
			if line == "" && ev.data != "" {
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return out
}

// mustNextEvent returns the next event named one of names, skipping others,
// and fails if the stream ends or stays silent.
func mustNextEvent(t testing.TB, stream <-chan sseEvent, names ...string) sseEvent {
	t.Helper()
	timeout := time.After(availabilityTimeout)
	for {
		select {
		case ev, ok := <-stream:
			if !ok {
				t.Fatalf("the event stream ended while waiting for %v", names)
			}
			for _, name := range names {
				if ev.name == name {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("no %v event within %s", names, availabilityTimeout)
		}
	}
}

// TestEventStreamsResyncAfterADatabaseRestart restarts PostgreSQL under an
// open event stream: the stream stays open, is told to resync once the
// instance listens again, and carries new events after that.
func TestEventStreamsResyncAfterADatabaseRestart(t *testing.T) {
	t.Parallel()
	server := testdb.NewPrivateServer(t)
	inst := apptest.MustStart(t, apptest.Options{DatabaseURL: server.URL})
	o := mustOwner(t, inst, "restart@example.com")
	stream := mustOpenEvents(t, inst, o)
	ctx := context.Background()
	if _, err := inst.App.Workbooks.CreateRecord(ctx, o.user.ID, o.wb.ID, o.table.ID, map[string]any{"Title": "Before"}); err != nil {
		t.Fatal(err)
	}
	mustNextEvent(t, stream, "record.created")

	stopped := time.Now()
	server.Stop()
	server.Start()
	back := time.Since(stopped)

	// Nothing happened in between here, but a change committed while the
	// listener was away would have been lost: the stream must hear of the gap.
	ev := mustNextEvent(t, stream, "resync", "record.created")
	if ev.name != "resync" {
		t.Fatalf("got %s before the resync", ev.name)
	}
	t.Logf("database stopped and back in %s, resync %s after it stopped",
		back.Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond))
	var resync struct {
		Topic string `json:"topic"`
		Type  string `json:"type"`
		Data  struct {
			Kind string `json:"kind"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(ev.data), &resync); err != nil {
		t.Fatalf("resync data %q: %v", ev.data, err)
	}
	if resync.Topic != "workbook:"+o.wb.ID || resync.Type != "resync" || resync.Data.Kind != "resync" {
		t.Errorf("resync event = %+v", resync)
	}

	// Each pooled connection the restart ended fails once when next used, as
	// a client would see it (503, Retry-After): retry as that client would.
	var rec workbooks.Record
	mustEventually(t, "a record can be created after the restart", func() (err error) {
		rec, err = inst.App.Workbooks.CreateRecord(ctx, o.user.ID, o.wb.ID, o.table.ID, map[string]any{"Title": "After"})
		return err
	})
	ev = mustNextEvent(t, stream, "record.created")
	if !strings.Contains(ev.data, rec.ID) {
		t.Errorf("record.created after the restart is %s, want record %s", ev.data, rec.ID)
	}
}

// mustEventually calls try until it returns nil, for at most
// availabilityTimeout.
func mustEventually(t testing.TB, what string, try func() error) {
	t.Helper()
	deadline := time.Now().Add(availabilityTimeout)
	for {
		err := try()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
