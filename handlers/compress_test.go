package handlers_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// rawGet fetches path with br's cookies, asking for gzip itself so that the
// response arrives as sent (Go's client would otherwise decompress it and
// hide the header). It returns the response and its body decompressed.
func rawGet(t *testing.T, br *apptest.Browser, url string, gz bool) (*http.Response, []byte, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	client := &http.Client{Jar: br.Client.Jar, Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := raw
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return resp, body, len(raw)
}

// TestResponsesCompressedAndStaticFilesHashed is issue 9's item 13: pages
// are gzipped for clients that accept it, event streams are not (and still
// stream), and static files are linked under content-hashed names cached
// for a year, while their plain names keep working with a short cache.
func TestResponsesCompressedAndStaticFilesHashed(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	ctx := context.Background()
	admin := inst.NewBrowser(t)
	admin.MustSignUp("admin-gz@example.com", "correct horse battery")
	br := inst.NewBrowser(t)
	br.MustSignUp("gz@example.com", "correct horse battery")
	u := mustFindUser(t, inst, "gz@example.com")

	store := inst.App.Workbooks
	wb, err := store.CreateWorkbook(ctx, u.ID, "Weights")
	if err != nil {
		t.Fatal(err)
	}
	var cols []workbooks.ColumnInput
	for i := range 20 {
		typ := values.Text
		if i%4 == 1 {
			typ = values.Number
		}
		cols = append(cols, workbooks.ColumnInput{Name: fmt.Sprintf("Column %d", i+1), Type: typ})
	}
	tbl, err := store.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Products", Columns: cols})
	if err != nil {
		t.Fatal(err)
	}
	for r := range 100 {
		fields := map[string]any{}
		for i, c := range cols {
			if c.Type == values.Number {
				fields[c.Name] = r*10 + i
			} else {
				fields[c.Name] = fmt.Sprintf("Product %d value %d", r, i)
			}
		}
		if _, err := store.CreateRecord(ctx, u.ID, wb.ID, tbl.ID, fields); err != nil {
			t.Fatal(err)
		}
	}

	gridURL := fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID)
	plainResp, plain, plainBytes := rawGet(t, br, gridURL, false)
	zResp, unzipped, zBytes := rawGet(t, br, gridURL, true)
	if plainResp.StatusCode != http.StatusOK || plainResp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("without Accept-Encoding: %d, Content-Encoding %q", plainResp.StatusCode, plainResp.Header.Get("Content-Encoding"))
	}
	if zResp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(zResp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("with Accept-Encoding gzip: Content-Encoding %q, Vary %q", zResp.Header.Get("Content-Encoding"), zResp.Header.Get("Vary"))
	}
	if !strings.Contains(string(unzipped), "Product 99 value 19") || len(unzipped) < len(plain)*9/10 {
		t.Fatalf("the gzipped page decompresses to %d bytes, the plain one is %d", len(unzipped), len(plain))
	}
	t.Logf("grid page of 100 rows × 20 columns: %d bytes of HTML, %d gzipped (%.1f×)", plainBytes, zBytes, float64(plainBytes)/float64(zBytes))
	if zBytes*4 > plainBytes {
		t.Errorf("gzip saved too little: %d → %d bytes", plainBytes, zBytes)
	}

	// Static files: the page links hashed names, cached for a year.
	links := regexp.MustCompile(`/static/[A-Za-z0-9._/-]+\.[0-9a-f]{10}\.(?:css|js|svg)`).FindAllString(string(plain), -1)
	if len(links) < 5 {
		t.Fatalf("the page links %d hashed static files: %q", len(links), links)
	}
	for _, l := range links {
		resp, body, _ := rawGet(t, br, inst.URL+l, true)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || len(body) == 0 {
			t.Errorf("GET %s: %d, Cache-Control %q, %d bytes", l, resp.StatusCode, resp.Header.Get("Cache-Control"), len(body))
		}
	}
	css := regexp.MustCompile(`/static/app\.[0-9a-f]{10}\.css`).FindString(string(plain))
	_, hashedCSS, _ := rawGet(t, br, inst.URL+css, true)
	resp, plainCSS, _ := rawGet(t, br, inst.URL+"/static/app.css", true)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=300" || string(plainCSS) != string(hashedCSS) {
		t.Errorf("GET /static/app.css: %d, Cache-Control %q, same content %v", resp.StatusCode, resp.Header.Get("Cache-Control"), string(plainCSS) == string(hashedCSS))
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("the stylesheet is not compressed")
	}

	// The event stream is not compressed, and streams.
	stream := mustOpenEventStream(t, br, inst.URL)
	if got := stream.header.Get("Content-Encoding"); got != "" {
		t.Fatalf("the event stream has Content-Encoding %q", got)
	}
	adminUser := mustFindUser(t, inst, "admin-gz@example.com")
	if _, err := inst.App.Accounts.ChangeRole(ctx, adminUser.ID, u.ID, accounts.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if ev := stream.next(t, "toast"); !strings.Contains(ev.data, "Your role is now admin") {
		t.Fatalf("toast %q", ev.data)
	}
}
