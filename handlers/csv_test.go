package handlers_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// csvFixture is a signed-in browser whose user owns an empty workbook.
type csvFixture struct {
	inst    *apptest.Instance
	browser *apptest.Browser
	user    accounts.User
	wb      workbooks.Workbook
}

func mustCSVFixture(t *testing.T, email string) csvFixture {
	t.Helper()
	inst := apptest.MustStart(t, apptest.Options{})
	return mustCSVUser(t, inst, email)
}

func mustCSVUser(t *testing.T, inst *apptest.Instance, email string) csvFixture {
	t.Helper()
	b := inst.NewBrowser(t)
	b.MustSignUp(email, "correct horse battery")
	ctx := context.Background()
	u, err := inst.App.Accounts.FindUserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Imports")
	if err != nil {
		t.Fatal(err)
	}
	return csvFixture{inst: inst, browser: b, user: u, wb: wb}
}

// multipartBody builds a multipart form: fields in order, then the file.
func multipartBody(t testing.TB, fields [][2]string, filename, content string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, content) //nolint:errcheck // a bytes.Buffer
	mw.Close()
	return buf.String(), mw.FormDataContentType()
}

// upload posts a file the way the page's htmx form does.
func (f csvFixture) upload(t *testing.T, wbID, filename, content string) *apptest.Response {
	t.Helper()
	body, ct := multipartBody(t, nil, filename, content)
	req, err := http.NewRequest(http.MethodPost, f.inst.URL+"/workbooks/"+wbID+"/imports", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", f.browser.CSRF())
	return f.browser.Do(req)
}

// mustWaitImport waits for the import job to finish.
func (f csvFixture) mustWaitImport(t *testing.T, uploadID string) imports.Upload {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		u, err := f.inst.App.Imports.FindUpload(context.Background(), f.user.ID, f.wb.ID, uploadID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Finished() {
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("import still %s after 20s: %+v", u.Status, u)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const pageCSV = "\ufeffTitle;Price;Notes;Internal\r\n" +
	"Lamp;12.50;\"Bright\nand \"\"warm\"\"\";x\r\n" +
	"Desk;abc;plain;y\r\n" +
	"Chair;7;bad \"quote;z\r\n" +
	"\"<script>alert(1)</script>\";0;\"\"\"><img src=x onerror=alert(1)>\";w\r\n"

func TestCSVUploadPreviewImportExport(t *testing.T) {
	t.Parallel()
	f := mustCSVFixture(t, "csv@example.com")
	b := f.browser

	if r := b.Get("/workbooks/" + f.wb.ID + "/imports/new"); r.Status != http.StatusOK || r.TestID("upload-form").Length() != 1 {
		t.Fatalf("upload page: %d", r.Status)
	}
	r := f.upload(t, f.wb.ID, "products.csv", pageCSV)
	previewURL := r.Header.Get("HX-Redirect")
	if r.Status != http.StatusNoContent || !strings.HasPrefix(previewURL, "/workbooks/"+f.wb.ID+"/imports/") {
		t.Fatalf("upload: %d %q %s", r.Status, previewURL, r.Body)
	}
	uploadID := strings.TrimPrefix(previewURL, "/workbooks/"+f.wb.ID+"/imports/")

	r = b.Get(previewURL)
	if r.Status != http.StatusOK {
		t.Fatalf("preview: %d", r.Status)
	}
	if facts := r.TestID("file-facts").Text(); !strings.Contains(facts, "semicolons") || !strings.Contains(facts, "byte order mark") {
		t.Fatalf("file facts %q", facts)
	}
	if got := r.TestID("preview-problem").First().Text(); !strings.Contains(got, "row 4, column 3 (Notes)") {
		t.Fatalf("problem %q, want it to name row 4, column 3", got)
	}
	if n := r.TestID("preview-row").Length(); n != 3 {
		t.Fatalf("%d preview rows", n)
	}
	if strings.Contains(r.Body, "<script>alert(1)") || strings.Contains(r.Body, `"><img src=x`) {
		t.Fatal("a value reached the page unescaped")
	}
	if !strings.Contains(r.TestID("preview-table").Text(), "<script>alert(1)</script>") {
		t.Fatal("the value is not shown as text")
	}

	// Rename Title, make Price a number, skip Internal.
	r = b.PostForm(previewURL, url.Values{
		"table_name": {"Products"},
		"col_name_0": {"Product"}, "col_type_0": {"text:plain"},
		"col_name_1": {"Price"}, "col_type_1": {"number"},
		"col_name_2": {"Notes"}, "col_type_2": {"text:markdown"},
		"col_name_3": {"Internal"}, "col_type_3": {"text:plain"}, "col_skip_3": {"1"},
	})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != previewURL {
		t.Fatalf("start import: %d %s", r.Status, r.Header.Get("Location"))
	}
	up := f.mustWaitImport(t, uploadID)
	if up.Status != imports.StatusDone || up.RowsImported != 3 || up.RowsRejected != 1 || up.CellErrors != 1 {
		t.Fatalf("import %+v", up)
	}
	r = b.Get(previewURL)
	if got := r.TestID("import-status").Text(); !strings.Contains(got, "Done: 3 rows imported") {
		t.Fatalf("status %q", got)
	}
	if r.TestID("import-problem").Length() != 2 || r.TestID("open-table").Length() != 1 {
		t.Fatalf("problems %q", r.TestID("import-problems").Text())
	}

	table, err := f.inst.App.Workbooks.FindTable(context.Background(), f.user.ID, f.wb.ID, up.TableID)
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range table.Columns {
		cols = append(cols, c.Name+":"+string(c.Type)+":"+c.Format)
	}
	if strings.Join(cols, " ") != "Product:text:plain Price:number: Notes:text:markdown" {
		t.Fatalf("columns %v", cols)
	}

	exportURL := "/workbooks/" + f.wb.ID + "/tables/" + table.ID + "/export.csv"
	r = b.Get(exportURL)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		r.Header.Get("Content-Disposition") != `attachment; filename="Products.csv"; filename*=UTF-8''Products.csv` {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	want := "Product,Price,Notes\n" +
		"Lamp,12.50,\"Bright\nand \"\"warm\"\"\"\n" +
		"Desk,,plain\n" +
		"<script>alert(1)</script>,0,\"\"\"><img src=x onerror=alert(1)>\"\n"
	if r.Body != want {
		t.Fatalf("export:\n%s\nwant:\n%s", r.Body, want)
	}
	r = b.Get(exportURL + "?filter=" + url.QueryEscape("Price >= 7"))
	if r.Body != "Product,Price,Notes\nLamp,12.50,\"Bright\nand \"\"warm\"\"\"\n" {
		t.Fatalf("filtered export:\n%s", r.Body)
	}
	if r = b.Get(exportURL + "?filter=" + url.QueryEscape("Price >")); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad filter: %d", r.Status)
	}

	// Someone else sees none of it.
	other := mustCSVUser(t, f.inst, "other@example.com")
	for _, path := range []string{previewURL, exportURL, "/workbooks/" + f.wb.ID + "/imports/new"} {
		if r := other.browser.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s by another user: %d, want 404", path, r.Status)
		}
	}
	if r := other.upload(t, f.wb.ID, "x.csv", "a\n1\n"); r.Status != http.StatusNotFound {
		t.Errorf("upload to another user's workbook: %d", r.Status)
	}
	if r := other.browser.PostForm(previewURL, url.Values{"table_name": {"x"}}); r.Status != http.StatusNotFound {
		t.Errorf("start another user's import: %d", r.Status)
	}
}

func TestCSVHostileUploadsAreExplained(t *testing.T) {
	t.Parallel()
	f := mustCSVFixture(t, "hostile@example.com")
	cases := map[string]struct{ content, want string }{
		"utf16.csv":     {"\xff\xfeT\x00i\x00t\x00l\x00e\x00\n\x00", "UTF-16"},
		"book.xlsx":     {xlsxPrefix, "spreadsheet"},
		"export.csv.gz": {gzipped(t, "Title,Price\nLamp,12\n"), "compressed with gzip"},
	}
	for name, tc := range cases {
		r := f.upload(t, f.wb.ID, name, tc.content)
		loc := r.Header.Get("HX-Redirect")
		if loc == "" {
			t.Fatalf("%s: upload %d", name, r.Status)
		}
		r = f.browser.Get(loc)
		if got := r.TestID("file-error").Text(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: file error %q, want %q", name, got, tc.want)
		}
	}
	r := f.upload(t, f.wb.ID, "empty.csv", "")
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.TestID("form-error").Text(), "empty") {
		t.Fatalf("empty upload: %d %s", r.Status, r.Body)
	}
}

// xlsxPrefix is how an .xlsx file starts: a ZIP entry named
// [Content_Types].xml.
const xlsxPrefix = "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x13\x00\x00\x00[Content_Types].xml"

// gzipped compresses content with gzip.
func gzipped(t testing.TB, content string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, content) //nolint:errcheck // a bytes.Buffer
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestCSVUploadLimit(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"MAX_UPLOAD_BYTES": "2097152"}})
	f := mustCSVUser(t, inst, "limit@example.com")
	// Bigger than the ordinary body limit (1 MiB) but within the upload limit.
	if r := f.upload(t, f.wb.ID, "ok.csv", "a\n"+strings.Repeat("x\n", 700_000)); r.Status != http.StatusNoContent {
		t.Fatalf("1.4 MB upload: %d %s", r.Status, r.TestID("form-error").Text())
	}
	r := f.upload(t, f.wb.ID, "big.csv", "a\n"+strings.Repeat("x\n", 1_200_000))
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("2.4 MB upload: %d %s", r.Status, r.Body)
	}
	var n int
	if err := inst.Pool.QueryRow(context.Background(), "SELECT count(*) FROM uploads WHERE filename = 'big.csv'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused upload was kept: %d %v", n, err)
	}
}

// TestCSVImportProgressOverSSE follows an import on the workbook's event
// stream: progress renders as the import-{id} fragment, ending in done.
func TestCSVImportProgressOverSSE(t *testing.T) {
	t.Parallel()
	f := mustCSVFixture(t, "live-import@example.com")
	var content strings.Builder
	content.WriteString("n,label\n")
	for i := range 12000 {
		content.WriteString(strings.Repeat("x", i%7) + ",row\n")
	}
	r := f.upload(t, f.wb.ID, "live.csv", content.String())
	previewURL := r.Header.Get("HX-Redirect")
	uploadID := previewURL[strings.LastIndex(previewURL, "/")+1:]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.inst.URL+"/workbooks/"+f.wb.ID+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{Jar: f.browser.Client.Jar}).Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", err, resp)
	}
	defer resp.Body.Close()
	got := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var name string
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if name == "import-"+uploadID {
					got <- strings.Join(data, "\n")
				}
				name, data = "", nil
			case strings.HasPrefix(line, "event:"):
				name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			}
		}
		close(got)
	}()
	time.Sleep(200 * time.Millisecond) // the subscription is in place

	r = f.browser.PostForm(previewURL, url.Values{"table_name": {"Live"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("start: %d", r.Status)
	}
	var fragments []string
	timeout := time.After(20 * time.Second)
	for {
		select {
		case d, ok := <-got:
			if !ok {
				t.Fatalf("stream ended after %d fragments", len(fragments))
			}
			fragments = append(fragments, d)
			if strings.Contains(d, `data-status="done"`) {
				if !strings.Contains(d, "Done: 12000 rows imported") || len(fragments) < 3 {
					t.Fatalf("fragments %d, last %s", len(fragments), d)
				}
				return
			}
		case <-timeout:
			t.Fatalf("no done fragment; got %d", len(fragments))
		}
	}
}

func TestCSVImportSuggestionsPage(t *testing.T) {
	t.Parallel()
	f := mustCSVFixture(t, "suggest@example.com")
	ctx := context.Background()
	table, err := f.inst.App.Workbooks.CreateTable(ctx, f.user.ID, f.wb.ID, workbooks.TableInput{Name: "Items",
		Columns: []workbooks.ColumnInput{{Name: "sku", Type: values.Text}, {Name: "title", Type: values.Text}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sku := range []string{"A", "B"} {
		if _, err := f.inst.App.Workbooks.CreateRecord(ctx, f.user.ID, f.wb.ID, table.ID, map[string]any{"sku": sku, "title": "old " + sku}); err != nil {
			t.Fatal(err)
		}
	}
	body, ct := multipartBody(t, [][2]string{{"key_column", "sku"}}, "s.csv", "sku,title\nA,new <b>A</b>\nB,old B\nZ,zed\n")
	req, _ := http.NewRequest(http.MethodPost, f.inst.URL+"/workbooks/"+f.wb.ID+"/tables/"+table.ID+"/import-suggestions", strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", f.browser.CSRF())
	r := f.browser.Do(req)
	if r.Status != http.StatusOK {
		t.Fatalf("import suggestions: %d %s", r.Status, r.Body)
	}
	if got := r.TestID("suggestion-import-summary").Text(); got != "1 suggestions for 1 records from 2 matched rows; 1 rows matched no record." {
		t.Fatalf("summary %q", got)
	}
	if got := r.TestID("unmatched-keys").Text(); !strings.Contains(got, "Z") {
		t.Fatalf("unmatched %q", got)
	}
}

func TestCSVAPI(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	u, token := MustUserWithToken(t, inst, "api-csv@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	s := wbSession{t: t, api: newAPIClient(t, inst), token: token}
	var wb workbookBody
	s.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Data"}`, http.StatusCreated, &wb)
	tablesPath := "/api/v1/workbooks/" + wb.ID + "/tables"

	body, ct := multipartBody(t, [][2]string{{"name", "People"}, {"key_column", "email"}}, "people.csv",
		"email,name,age\nada@example.com,Ada,36\nbob@example.com,<script>x</script>,41\nada@example.com,Dup,1\n")
	var created struct {
		Table  struct{ ID, Name string } `json:"table"`
		Import struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"import"`
		Job struct{ ID string } `json:"job"`
	}
	MustDecode(t, s.api.Do(t, apiCall{method: http.MethodPost, path: tablesPath, token: token, body: body, contentType: ct}), http.StatusAccepted, &created)
	if created.Table.Name != "People" || created.Import.Status != "importing" || created.Job.ID == "" {
		t.Fatalf("created %+v", created)
	}
	f := csvFixture{inst: inst, user: u, wb: workbooks.Workbook{ID: wb.ID}}
	up := f.mustWaitImport(t, created.Import.ID)
	if up.RowsImported != 3 || up.CellErrors != 1 {
		t.Fatalf("import %+v (the repeated key is an error on its record)", up)
	}

	tablePath := tablesPath + "/" + created.Table.ID
	r := s.call(http.MethodGet, tablePath+"/export.csv?sort=-age", "")
	if r.Status != http.StatusOK || string(r.Body) != "email,name,age\nbob@example.com,<script>x</script>,41\nada@example.com,Ada,36\nada@example.com,Dup,1\n" {
		t.Fatalf("export %d:\n%s", r.Status, r.Body)
	}

	body, ct = multipartBody(t, [][2]string{{"key_column", "email"}, {"create_unmatched", "true"}}, "update.csv",
		"email,age\nada@example.com,37\ncyd@example.com,20\n")
	var rep struct {
		Matched, Suggestions, Unmatched, Created int
		UnmatchedKeys                            []string `json:"unmatched_keys"`
	}
	MustDecode(t, s.api.Do(t, apiCall{method: http.MethodPost, path: tablePath + "/import-suggestions", token: token, body: body, contentType: ct}), http.StatusOK, &rep)
	// Both Ada records match her key: each gets the new age.
	if rep.Matched != 1 || rep.Suggestions != 2 || rep.Unmatched != 1 || rep.Created != 1 || rep.UnmatchedKeys[0] != "cyd@example.com" {
		t.Fatalf("report %+v", rep)
	}

	body, ct = multipartBody(t, [][2]string{{"key_column", "nope"}}, "update.csv", "email,age\n")
	MustProblem(t, s.api.Do(t, apiCall{method: http.MethodPost, path: tablePath + "/import-suggestions", token: token, body: body, contentType: ct}), http.StatusUnprocessableEntity, "invalid_input")

	// A file that stores fine but cannot become the table asked for leaves
	// no upload behind.
	body, ct = multipartBody(t, [][2]string{{"name", "Bad key"}, {"key_column", "nope"}}, "bad-key.csv", "email,age\nx@example.com,1\n")
	MustProblem(t, s.api.Do(t, apiCall{method: http.MethodPost, path: tablesPath, token: token, body: body, contentType: ct}), http.StatusUnprocessableEntity, "invalid_input")
	var kept int
	if err := inst.Pool.QueryRow(context.Background(), "SELECT count(*) FROM uploads WHERE filename = 'bad-key.csv'").Scan(&kept); err != nil || kept != 0 {
		t.Fatalf("uploads kept after a failed create: %d %v", kept, err)
	}

	// A JSON body adds a table from a data source, which must be one of
	// the user's.
	p := MustProblem(t, s.call(http.MethodPost, tablesPath, `{"data_source_id": "x", "remote_table_id": "y"}`), http.StatusNotFound, "not_found")
	if !strings.Contains(p.Detail, "Data source not found") {
		t.Fatalf("detail %q", p.Detail)
	}

	_, otherToken := MustUserWithToken(t, inst, "api-other@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	o := wbSession{t: t, api: s.api, token: otherToken}
	MustProblem(t, o.call(http.MethodGet, tablePath+"/export.csv", ""), http.StatusNotFound, "not_found")
	body, ct = multipartBody(t, [][2]string{{"name", "X"}}, "x.csv", "a\n1\n")
	MustProblem(t, o.api.Do(t, apiCall{method: http.MethodPost, path: tablesPath, token: otherToken, body: body, contentType: ct}), http.StatusNotFound, "not_found")
	var _ = json.Marshal
}

// TestUploadRoutesRefuseBeforeReadingTheFile checks that an upload from
// another site, or without a token, is refused by CSRF from its header alone:
// the multipart body is never parsed (which would spill it to temporary
// files) and nothing is stored.
func TestUploadRoutesRefuseBeforeReadingTheFile(t *testing.T) {
	t.Parallel()
	f := mustCSVFixture(t, "uploader@example.com")
	inst, b, wb := f.inst, f.browser, f.wb
	body := "--XX\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + b.CSRF() +
		"\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\ntitle\nx\n\r\n--XX--\r\n"
	for name, site := range map[string]string{"no token, cross-site": "cross-site", "form token only": ""} {
		req, _ := http.NewRequest(http.MethodPost, inst.URL+"/workbooks/"+wb.ID+"/imports", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		if r := b.Do(req); r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d", name, r.Status)
		}
	}
	var uploads int
	if err := inst.Pool.QueryRow(context.Background(), `SELECT count(*) FROM uploads`).Scan(&uploads); err != nil || uploads != 0 {
		t.Fatalf("uploads stored: %d %v", uploads, err)
	}
}
