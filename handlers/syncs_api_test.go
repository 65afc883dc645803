package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// The bodies of the sync API, as a client decodes them.
type (
	syncTableBody struct {
		TableID string `json:"table_id"`
		Phase   string `json:"phase"`
		Done    int64  `json:"done"`
		Created int    `json:"created"`
		Updated int    `json:"updated"`
		Failed  int    `json:"failed"`
	}
	syncBody struct {
		ID     string          `json:"id"`
		Kind   string          `json:"kind"`
		Status string          `json:"status"`
		JobID  string          `json:"job_id"`
		Error  *string         `json:"error"`
		Tables []syncTableBody `json:"tables"`
	}
	syncStartedBody struct {
		Table tableBody `json:"table"`
		Job   struct {
			ID string `json:"id"`
		} `json:"job"`
		Sync syncBody `json:"sync"`
	}
	syncJobBody struct {
		ID    string    `json:"id"`
		State string    `json:"state"`
		Sync  *syncBody `json:"sync"`
	}
)

// mustFinishJob polls GET /jobs/{job} until River has finalized the job,
// and returns its last answer.
func (s wbSession) mustFinishJob(id string) syncJobBody {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var j syncJobBody
		s.MustJSON(http.MethodGet, "/api/v1/jobs/"+id, "", http.StatusOK, &j)
		switch j.State {
		case "completed", "cancelled", "discarded":
			return j
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s did not finish: %+v", id, j)
		}
		time.Sleep(200 * time.Millisecond) // well within the API's rate limit
	}
}

// A table added from a MariaDB data source is pulled, edited, previewed,
// published and listed, all through the JSON API, every request and answer
// checked against openapi.json; the edit reaches MariaDB.
func TestAPIPullEditPublishWithMariaDB(t *testing.T) {
	t.Parallel()
	srcURL, src := testdb.NewMySQL(t)
	for _, q := range []string{
		`CREATE TABLE products (id int AUTO_INCREMENT PRIMARY KEY, title varchar(200) NOT NULL, price decimal(10, 2))`,
		`INSERT INTO products (title, price) VALUES ('Lamp', 19.50), ('Chair', 45.00), ('Desk', 120.00), ('Rug', 80.25)`,
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	u, err := url.Parse(srcURL)
	if err != nil {
		t.Fatal(err)
	}
	remoteTable := "`" + strings.TrimPrefix(u.Path, "/") + "`.`products`"

	inst := apptest.MustStart(t, apptest.Options{})
	_, token := MustUserWithToken(t, inst, "sync@example.com", false, accounts.ScopeRead, accounts.ScopeWrite, accounts.ScopePublish)
	s := wbSession{t: t, api: newAPIClient(t, inst), token: token}
	var ds struct {
		ID string `json:"id"`
	}
	body, _ := json.Marshal(map[string]any{"service": "mysql", "name": "Shop", "credentials": map[string]string{"connection_string": srcURL}})
	s.MustJSON(http.MethodPost, "/api/v1/data-sources", string(body), http.StatusCreated, &ds)

	var wb workbookBody
	s.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Shop"}`, http.StatusCreated, &wb)
	var added syncStartedBody
	s.MustJSON(http.MethodPost, "/api/v1/workbooks/"+wb.ID+"/tables",
		`{"data_source_id": "`+ds.ID+`", "remote_table_id": "`+strings.ReplaceAll(remoteTable, `"`, `\"`)+`"}`, http.StatusAccepted, &added)
	if added.Sync.Kind != "pull" || added.Sync.JobID != added.Job.ID || added.Table.ID == "" {
		t.Fatalf("adding the table answered %+v", added)
	}
	if j := s.mustFinishJob(added.Job.ID); j.State != "completed" || j.Sync == nil || j.Sync.Status != "done" || j.Sync.Tables[0].Created != 4 {
		t.Fatalf("the pull's job ended %+v (sync %+v)", j, j.Sync)
	}

	tablePath := "/api/v1/workbooks/" + wb.ID + "/tables/" + added.Table.ID
	var list recordListBody
	s.MustJSON(http.MethodGet, tablePath+"/records?limit=50", "", http.StatusOK, &list)
	if list.Total != 4 || len(list.Items) != 4 {
		t.Fatalf("the table lists %d of %d records, want 4", len(list.Items), list.Total)
	}
	var chair recordBody
	for _, r := range list.Items {
		if r.Fields["title"] == "Chair" {
			chair = r
		}
	}
	if chair.RemoteID == nil {
		t.Fatalf("no pulled record Chair with a remote id among %+v", list.Items)
	}
	var edited recordBody
	s.MustJSON(http.MethodPatch, tablePath+"/records/"+chair.ID,
		`{"fields": {"title": "Armchair", "price": 49.99}, "version": `+strconv.Itoa(chair.Version)+`}`, http.StatusOK, &edited)
	if edited.State != "updated" {
		t.Fatalf("the edited record is %s, want updated", edited.State)
	}

	var preview struct {
		Tables []struct {
			TableID string `json:"table_id"`
			Creates int    `json:"creates"`
			Updates int    `json:"updates"`
			Deletes int    `json:"deletes"`
		} `json:"tables"`
	}
	s.MustJSON(http.MethodGet, "/api/v1/workbooks/"+wb.ID+"/publish-preview", "", http.StatusOK, &preview)
	if len(preview.Tables) != 1 || preview.Tables[0].Updates != 1 || preview.Tables[0].Creates+preview.Tables[0].Deletes != 0 {
		t.Fatalf("publish preview: %+v, want one update", preview)
	}

	var pub syncStartedBody
	s.MustJSON(http.MethodPost, "/api/v1/workbooks/"+wb.ID+"/publish", `{}`, http.StatusAccepted, &pub)
	if j := s.mustFinishJob(pub.Job.ID); j.State != "completed" || j.Sync == nil || j.Sync.Status != "done" || j.Sync.Tables[0].Updated != 1 {
		t.Fatalf("the publish's job ended %+v (sync %+v)", j, j.Sync)
	}
	var title, price string
	if err := src.QueryRow(`SELECT title, CAST(price AS char) FROM products WHERE id = ?`, *chair.RemoteID).Scan(&title, &price); err != nil {
		t.Fatal(err)
	}
	if title != "Armchair" || price != "49.99" {
		t.Fatalf("MariaDB holds %q at %s, want Armchair at 49.99", title, price)
	}
	var n int
	if err := src.QueryRow(`SELECT count(*) FROM products`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("MariaDB holds %d products (%v), want 4", n, err)
	}
	var rec recordBody
	s.MustJSON(http.MethodGet, tablePath+"/records/"+chair.ID, "", http.StatusOK, &rec)
	if rec.State != "clean" || len(rec.EditedFields) != 0 {
		t.Fatalf("after the publish the record is %s with edits %v, want clean", rec.State, rec.EditedFields)
	}

	var publishes struct {
		Items []syncBody `json:"items"`
	}
	s.MustJSON(http.MethodGet, "/api/v1/workbooks/"+wb.ID+"/publishes", "", http.StatusOK, &publishes)
	if len(publishes.Items) != 1 || publishes.Items[0].ID != pub.Sync.ID || publishes.Items[0].Kind != "publish" ||
		publishes.Items[0].Status != "done" || publishes.Items[0].Tables[0].Updated != 1 {
		t.Fatalf("publishes: %+v, want the one publish, done with one update", publishes.Items)
	}
}
