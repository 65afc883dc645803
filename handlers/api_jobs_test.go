package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/jobs"
)

// The bodies of the jobs API, as a client decodes them.
type (
	jobProgressBody struct {
		Done  int64  `json:"done"`
		Total int64  `json:"total"`
		Unit  string `json:"unit"`
		Rows  *int64 `json:"rows"`
	}
	importResultBody struct {
		Status       string  `json:"status"`
		UploadID     string  `json:"upload_id"`
		WorkbookID   string  `json:"workbook_id"`
		TableID      string  `json:"table_id"`
		RowsImported int64   `json:"rows_imported"`
		RowsRejected int64   `json:"rows_rejected"`
		CellErrors   int64   `json:"cell_errors"`
		Error        *string `json:"error"`
		Problems     []struct {
			Row        int    `json:"row"`
			Column     int    `json:"column"`
			ColumnName string `json:"column_name"`
			Message    string `json:"message"`
		} `json:"problems"`
	}
	jobBody struct {
		ID          string            `json:"id"`
		Kind        string            `json:"kind"`
		State       string            `json:"state"`
		Attempt     int               `json:"attempt"`
		MaxAttempts int               `json:"max_attempts"`
		CreatedAt   string            `json:"created_at"`
		AttemptedAt *string           `json:"attempted_at"`
		FinalizedAt *string           `json:"finalized_at"`
		Errors      []string          `json:"errors"`
		Progress    *jobProgressBody  `json:"progress"`
		Result      *importResultBody `json:"result"`
	}
	jobListBody struct {
		Items      []jobBody `json:"items"`
		NextCursor *string   `json:"next_cursor"`
	}
)

// startedImport is what POST /workbooks/{wb}/tables answers for a CSV.
type startedImport struct {
	Table  struct{ ID string } `json:"table"`
	Import struct {
		ID        string `json:"id"`
		SizeBytes int64  `json:"size_bytes"`
	} `json:"import"`
	Job struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	} `json:"job"`
}

func (s startedImport) jobPath() string { return "/api/v1/jobs/" + s.Job.ID }

// MustStartCSVImport creates a table in wbID from a CSV through the API.
func (s wbSession) MustStartCSVImport(wbID string, fields [][2]string, filename, content string) startedImport {
	s.t.Helper()
	body, ct := multipartBody(s.t, fields, filename, content)
	var out startedImport
	MustDecode(s.t, s.api.Do(s.t, apiCall{method: http.MethodPost, path: "/api/v1/workbooks/" + wbID + "/tables", token: s.token, body: body, contentType: ct}),
		http.StatusAccepted, &out)
	if out.Job.ID == "" || out.Job.Kind != "import_csv" {
		s.t.Fatalf("started import %+v", out)
	}
	return out
}

// MustFinishedJob polls a job until it reaches a final state.
func (s wbSession) MustFinishedJob(path string) jobBody {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var j jobBody
		s.MustJSON(http.MethodGet, path, "", http.StatusOK, &j)
		if j.FinalizedAt != nil {
			return j
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job still %s after 20 s", j.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jobIDs(l jobListBody) []string {
	out := []string{}
	for _, j := range l.Items {
		out = append(out, j.ID)
	}
	return out
}

func TestAPIJobsShowTheOwnersImports(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	api := newAPIClient(t, inst)
	ada, adaToken := MustUserWithToken(t, inst, "jobs-ada@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	adaRead := wbSession{t: t, api: api, token: MustToken(t, inst, ada, accounts.TokenInput{Name: "read", Scopes: []accounts.Scope{accounts.ScopeRead}})}
	_, bobToken := MustUserWithToken(t, inst, "jobs-bob@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	a := wbSession{t: t, api: api, token: adaToken}
	b := wbSession{t: t, api: api, token: bobToken}

	var wb, bobWB workbookBody
	a.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Data"}`, http.StatusCreated, &wb)
	b.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Bob's"}`, http.StatusCreated, &bobWB)
	const csv = "email,name,age\nada@example.com,Ada,36\nbob@example.com,Bob,41\nada@example.com,Dup,1\n"
	started := a.MustStartCSVImport(wb.ID, [][2]string{{"name", "People"}, {"key_column", "email"}}, "people.csv", csv)
	bobs := b.MustStartCSVImport(bobWB.ID, [][2]string{{"name", "Bob's"}}, "bob.csv", "a\n1\n")
	// A system job, scheduled for later so it stays put.
	system, err := inst.App.River.Insert(ctx, jobs.PurgeExpiredArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	systemPath := "/api/v1/jobs/" + strconv.FormatInt(system.Job.ID, 10)

	j := a.MustFinishedJob(started.jobPath())
	if j.ID != started.Job.ID || j.Kind != "import_csv" || j.State != "completed" ||
		j.Attempt != 1 || j.MaxAttempts != 5 || j.AttemptedAt == nil || len(j.Errors) != 0 {
		t.Fatalf("finished job %+v", j)
	}
	created := mustUTC(t, "created_at", j.CreatedAt)
	if finalized := mustUTC(t, "finalized_at", *j.FinalizedAt); finalized.Before(created) {
		t.Errorf("finalized %s before created %s", finalized, created)
	}
	size := int64(len(csv))
	if p := j.Progress; p == nil || p.Done != size || p.Total != size || p.Unit != "bytes" || p.Rows == nil || *p.Rows != 3 {
		t.Fatalf("progress %+v, want all %d bytes and 3 rows", p, size)
	}
	// The repeated key is an error on its record, which is still imported.
	r := j.Result
	if r == nil || r.Status != "done" || r.UploadID != started.Import.ID || r.WorkbookID != wb.ID || r.TableID != started.Table.ID ||
		r.RowsImported != 3 || r.RowsRejected != 0 || r.CellErrors != 1 || r.Error != nil || len(r.Problems) != 1 || r.Problems[0].Row != 4 {
		t.Fatalf("result %+v", r)
	}
	var readOnly jobBody
	adaRead.MustJSON(http.MethodGet, started.jobPath(), "", http.StatusOK, &readOnly)
	if readOnly.ID != j.ID {
		t.Fatalf("read-only token's view %+v", readOnly)
	}

	var list jobListBody
	a.MustJSON(http.MethodGet, "/api/v1/jobs", "", http.StatusOK, &list)
	if got := jobIDs(list); len(got) != 1 || got[0] != j.ID || list.NextCursor != nil {
		t.Fatalf("ada's jobs %v (next %v), want only %s", got, list.NextCursor, j.ID)
	}
	if list.Items[0].Result == nil || list.Items[0].Result.TableID != started.Table.ID {
		t.Fatalf("listed job %+v", list.Items[0])
	}
	b.MustJSON(http.MethodGet, "/api/v1/jobs", "", http.StatusOK, &list)
	if got := jobIDs(list); len(got) != 1 || got[0] != bobs.Job.ID {
		t.Fatalf("bob's jobs %v", got)
	}

	notFound := []struct{ name, path string }{
		{"another user's job", bobs.jobPath()},
		{"a system job", systemPath},
		{"an unknown id", "/api/v1/jobs/987654321"},
		{"a malformed id", "/api/v1/jobs/abc"},
		{"a uuid", "/api/v1/jobs/" + wb.ID},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			a := wbSession{t: t, api: api, token: adaToken}
			MustProblem(t, a.call(http.MethodGet, tc.path, ""), http.StatusNotFound, "not_found")
			MustProblem(t, a.call(http.MethodPost, tc.path+"/cancel", ""), http.StatusNotFound, "not_found")
		})
	}
	if row, err := inst.App.River.JobGet(ctx, system.Job.ID); err != nil || row.State != "scheduled" {
		t.Fatalf("system job after refused cancel: %v %v", row.State, err)
	}

	MustProblem(t, adaRead.call(http.MethodPost, started.jobPath()+"/cancel", ""), http.StatusForbidden, "forbidden")
	MustProblem(t, a.call(http.MethodPost, started.jobPath()+"/cancel", ""), http.StatusConflict, "conflict")
}

func TestAPICancelQueuedImportAndPaging(t *testing.T) {
	t.Parallel()
	// No worker takes imports, so they wait in their queue.
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"JOB_QUEUES": "default:1"}})
	ctx := context.Background()
	api := newAPIClient(t, inst)
	ada, token := MustUserWithToken(t, inst, "jobs-queue@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	a := wbSession{t: t, api: api, token: token}
	readOnly := wbSession{t: t, api: api, token: MustToken(t, inst, ada, accounts.TokenInput{Name: "read", Scopes: []accounts.Scope{accounts.ScopeRead}})}
	var wb workbookBody
	a.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Queue"}`, http.StatusCreated, &wb)
	var started []startedImport
	for _, name := range []string{"one.csv", "two.csv", "three.csv"} {
		started = append(started, a.MustStartCSVImport(wb.ID, [][2]string{{"name", name}}, name, "title\n"+name+"\n"))
	}
	id := func(i int) string { return started[i].Job.ID }

	var page jobListBody
	a.MustJSON(http.MethodGet, "/api/v1/jobs?limit=2", "", http.StatusOK, &page)
	if got := jobIDs(page); len(got) != 2 || got[0] != id(2) || got[1] != id(1) || page.NextCursor == nil {
		t.Fatalf("first page %v (next %v), want [%s %s] and a cursor", got, page.NextCursor, id(2), id(1))
	}
	for _, j := range page.Items {
		if j.State != "available" || j.Attempt != 0 || j.AttemptedAt != nil || j.FinalizedAt != nil || j.Result != nil ||
			j.Progress == nil || j.Progress.Done != 0 || j.Progress.Total == 0 || j.Progress.Rows == nil || *j.Progress.Rows != 0 {
			t.Fatalf("queued job %+v, progress %+v", j, j.Progress)
		}
	}
	a.MustJSON(http.MethodGet, "/api/v1/jobs?limit=2&cursor="+url.QueryEscape(*page.NextCursor), "", http.StatusOK, &page)
	if got := jobIDs(page); len(got) != 1 || got[0] != id(0) || page.NextCursor != nil {
		t.Fatalf("second page %v (next %v), want [%s] and no cursor", got, page.NextCursor, id(0))
	}
	p := MustProblem(t, a.call(http.MethodGet, "/api/v1/jobs?cursor=not-ours", ""), http.StatusUnprocessableEntity, "invalid_input")
	if fieldNames(p) != "cursor" {
		t.Errorf("bad cursor names %q", fieldNames(p))
	}
	MustProblem(t, api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/jobs?limit=501", token: token, offSpec: true}), http.StatusUnprocessableEntity, "invalid_input")

	MustProblem(t, readOnly.call(http.MethodPost, started[0].jobPath()+"/cancel", ""), http.StatusForbidden, "forbidden")
	var j jobBody
	a.MustJSON(http.MethodGet, started[0].jobPath(), "", http.StatusOK, &j)
	if j.State != "available" {
		t.Fatalf("job after a refused cancel: %s", j.State)
	}

	a.MustJSON(http.MethodPost, started[1].jobPath()+"/cancel", "", http.StatusOK, &j)
	if j.ID != id(1) || j.State != "cancelled" || j.FinalizedAt == nil || j.Result == nil ||
		j.Result.Status != "cancelled" || j.Result.RowsImported != 0 || j.Result.TableID != started[1].Table.ID {
		t.Fatalf("cancelled job %+v, result %+v", j, j.Result)
	}
	up, err := inst.App.Imports.FindUpload(ctx, ada.ID, wb.ID, started[1].Import.ID)
	if err != nil || up.Status != imports.StatusCancelled {
		t.Fatalf("upload after cancel: %+v %v", up, err)
	}
	MustProblem(t, a.call(http.MethodPost, started[1].jobPath()+"/cancel", ""), http.StatusConflict, "conflict")
	// The others still wait.
	a.MustJSON(http.MethodGet, "/api/v1/jobs", "", http.StatusOK, &page)
	states := map[string]string{}
	for _, j := range page.Items {
		states[j.ID] = j.State
	}
	if states[id(0)] != "available" || states[id(1)] != "cancelled" || states[id(2)] != "available" {
		t.Fatalf("states after one cancel: %v", states)
	}
}
