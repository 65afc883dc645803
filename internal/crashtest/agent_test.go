package crashtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/llmfake"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// An agent turn whose process is killed after a step proposed new records,
// while the model streams its next reply, is rescued by the survivor and
// resumed from that step: the model is asked again with the step's tool
// result, the turn ends done, and each suggested record exists once.
func TestAgentTurnKilledMidwayWritesItsSuggestionsOnce(t *testing.T) {
	t.Parallel()
	fake := llmfake.New()
	t.Cleanup(fake.Close)
	creates, _ := json.Marshal(map[string]any{"records": []any{
		map[string]any{"fields": map[string]any{"Title": "Drafted one"}},
		map[string]any{"fields": map[string]any{"Title": "Drafted two"}},
	}})
	var resumedWithResult atomic.Bool
	fake.ScriptFunc(func(n int, body map[string]any) llmfake.Reply {
		switch n {
		case 0:
			return llmfake.Stream(llmfake.Turn{Calls: []llmfake.Call{{ID: "create-1", Name: "suggest_creates", Arguments: string(creates)}}, Prompt: 50, Complete: 20})
		case 1:
			// The worker is killed while this streams.
			return llmfake.Forever(20 * time.Millisecond)
		}
		msgs, _ := body["messages"].([]any)
		if last, ok := msgs[len(msgs)-1].(map[string]any); ok && last["role"] == "tool" && strings.Contains(last["content"].(string), `"creates_suggested":2`) {
			resumedWithResult.Store(true)
		}
		return llmfake.Stream(llmfake.Turn{Text: []string{"Two drafts suggested."}, Prompt: 80, Complete: 5})
	})

	dbURL := testdb.NewURL(t)
	pool := mustPool(t, dbURL)
	o := mustOwner(t, pool)
	env := map[string]string{"LLM_BASE_URL": fake.BaseURL(), "LLM_API_KEY": llmfake.Key, "LLM_MODELS": "fake/model|128000|1|2", "JOB_QUEUES": "default:2,imports:1,agent:2"}
	a := mustStartChild(t, dbURL, env)
	b := mustStartChild(t, dbURL, env)

	var wb struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks", map[string]string{"name": "Crash"}, &wb)
	tbl, err := workbooks.NewService(pool).CreateTable(context.Background(), o.ID, wb.ID, workbooks.TableInput{Name: "Products",
		Columns: []workbooks.ColumnInput{{Name: "Title", Type: values.Text}}})
	if err != nil {
		t.Fatal(err)
	}
	var se struct{ ID string }
	api(t, a.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/agent/sessions", map[string]string{}, &se)
	var started struct {
		Turn struct{ ID string }
		Job  struct{ ID string }
	}
	if st := api(t, a.URL, o.Token, http.MethodPost, "/workbooks/"+wb.ID+"/agent/sessions/"+se.ID+"/messages",
		map[string]string{"content": "Draft two products", "scope": tbl.ID}, &started); st != http.StatusAccepted {
		t.Fatalf("send message: %d", st)
	}
	worker := runningOn(t, pool, started.Job.ID, a, b)
	survivor := survivorOf(worker, a, b)
	waitFor(t, 30*time.Second, "the second model call", func() bool { return fake.Calls() >= 2 })
	if n := count1(t, pool, `SELECT count(*) FROM suggestions WHERE table_id = $1 AND action = 'create'`, tbl.ID); n != 2 {
		t.Fatalf("%d drafts before the kill, want the first step's 2", n)
	}
	worker.kill()
	killed := time.Now()
	rescue := waitRescued(t, pool, started.Job.ID, survivor, killed)

	var status, content string
	var steps int
	waitFor(t, 60*time.Second, "the turn to end on the survivor", func() bool {
		if err := pool.QueryRow(context.Background(), `SELECT status, content, jsonb_array_length(steps) FROM agent_messages WHERE id = $1`, started.Turn.ID).
			Scan(&status, &content, &steps); err != nil {
			t.Fatal(err)
		}
		return status != "running"
	})
	if status != "done" || content != "Two drafts suggested." || steps != 2 {
		t.Fatalf("turn ended %s with %d steps: %q", status, steps, content)
	}
	if !resumedWithResult.Load() {
		t.Error("the resumed turn did not send the committed step's tool result to the model")
	}
	if n := count1(t, pool, `SELECT count(*) FROM suggestions WHERE table_id = $1 AND action = 'create'`, tbl.ID); n != 2 {
		t.Fatalf("%d suggested records after the rescue, want 2", n)
	}
	if n := count1(t, pool, `SELECT count(*) FROM records WHERE table_id = $1`, tbl.ID); n != 2 {
		t.Fatalf("%d draft records after the rescue, want 2", n)
	}
	if j := mustFinishedJob(t, pool, started.Job.ID); j.State != "completed" || j.Rescues != 1 {
		t.Fatalf("job ended %+v, want completed after one rescue", j)
	}
	t.Logf("killed in step 2; rescued on the survivor %s after the kill", rescue.Round(time.Millisecond))
	noStuckJobs(t, pool)
}
