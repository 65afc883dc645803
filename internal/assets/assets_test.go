package assets_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/assets"
	"github.com/scratchpad/scratchpad/internal/testdb"
	"github.com/scratchpad/scratchpad/internal/webfetch"
)

type fixture struct {
	svc        *assets.Service
	alice, bob string
}

func newFixture(t *testing.T, fetch *webfetch.Fetcher) *fixture {
	t.Helper()
	pool := testdb.New(t)
	if fetch == nil {
		fetch = webfetch.New(webfetch.Options{})
	}
	f := &fixture{svc: assets.NewService(pool, fetch)}
	acc := accounts.NewService(pool)
	for who, id := range map[string]*string{"alice": &f.alice, "bob": &f.bob} {
		u, err := acc.CreateUser(context.Background(), accounts.SignUpInput{
			Email: who + "@example.com", Name: who, Password: "correct horse battery"}, false)
		if err != nil {
			t.Fatal(err)
		}
		*id = u.ID
	}
	return f
}

func TestCreateEditListDelete(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	a, err := f.svc.Create(ctx, f.alice, assets.Input{Name: "  Style   guide ", Body: "# Voice\r\n\r\nShort.", AutoInclude: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Style guide" || a.Body != "# Voice\n\nShort." || !a.AutoInclude || a.SourceURL != "" {
		t.Errorf("created %+v", a)
	}
	b, err := f.svc.Create(ctx, f.alice, assets.Input{Name: "a glossary", Body: "terms"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.List(ctx, f.alice)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("list = %+v %v", list, err)
	}
	name, off := "Voice", false
	up, err := f.svc.Update(ctx, f.alice, a.ID, assets.Patch{Name: &name, AutoInclude: &off})
	if err != nil || up.Name != "Voice" || up.AutoInclude || up.Body != a.Body {
		t.Errorf("update = %+v %v", up, err)
	}
	if err := f.svc.Delete(ctx, f.alice, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.alice, a.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("get deleted: %v", err)
	}
	if err := f.svc.Delete(ctx, f.alice, a.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("delete twice: %v", err)
	}
}

func TestLimitsAreChecked(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	for _, in := range []assets.Input{
		{Name: "", Body: "x"},
		{Name: strings.Repeat("n", assets.MaxName+1), Body: "x"},
		{Name: "big", Body: strings.Repeat("x", assets.MaxBody+1)},
		{Name: "nul", Body: "a\x00b"},
		{Name: "bad", Body: "\xff\xfe"},
	} {
		_, err := f.svc.Create(ctx, f.alice, in)
		if !apperr.Is(err, apperr.Invalid) || len(apperr.FieldsOf(err)) == 0 {
			t.Errorf("%.20q: %v", in.Name, err)
		}
	}
	if _, err := f.svc.Create(ctx, f.alice, assets.Input{Name: "fits", Body: strings.Repeat("x", assets.MaxBody)}); err != nil {
		t.Errorf("largest body refused: %v", err)
	}
}

func TestAnotherUsersAssetIsNotFound(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	a, err := f.svc.Create(ctx, f.alice, assets.Input{Name: "mine", Body: "secret guide", AutoInclude: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.bob, a.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("get: %v", err)
	}
	x := "stolen"
	if _, err := f.svc.Update(ctx, f.bob, a.ID, assets.Patch{Name: &x}); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("update: %v", err)
	}
	if err := f.svc.Delete(ctx, f.bob, a.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("delete: %v", err)
	}
	if list, _ := f.svc.List(ctx, f.bob); len(list) != 0 {
		t.Errorf("bob lists %d", len(list))
	}
	inc, _, err := f.svc.ForMessage(ctx, f.bob, []string{a.ID}, 1000)
	if err != nil || len(inc) != 0 {
		t.Errorf("bob's message includes %+v %v", inc, err)
	}
	if _, err := f.svc.Get(ctx, f.alice, "not-a-uuid"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("bad id: %v", err)
	}
}

func TestForMessagePicksAutoIncludesAndBudget(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	mk := func(name, body string, auto bool) string {
		a, err := f.svc.Create(ctx, f.alice, assets.Input{Name: name, Body: body, AutoInclude: auto})
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	auto := mk("A auto", strings.Repeat("auto line\n", 10), true) // 100 bytes
	picked := mk("Z picked", "picked body", false)
	mk("M neither", "never", false)
	auto2 := mk("B auto", "second auto", true)

	inc, omitted, err := f.svc.ForMessage(ctx, f.alice, []string{picked, "junk"}, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range inc {
		got = append(got, fmt.Sprintf("%s:%v:%v", i.Name, i.Auto, i.Truncated))
	}
	if strings.Join(got, ",") != "Z picked:false:false,A auto:true:false,B auto:true:false" || omitted != 0 {
		t.Errorf("included %v omitted %d", got, omitted)
	}
	// A budget that ends inside the second asset cuts it at a line and
	// leaves the third out.
	inc, omitted, err = f.svc.ForMessage(ctx, f.alice, []string{picked}, len("picked body")+55)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc) != 2 || inc[1].ID != auto || !inc[1].Truncated || inc[1].Body != strings.TrimSuffix(strings.Repeat("auto line\n", 5), "\n") || omitted != 1 {
		t.Errorf("budgeted: %+v omitted %d", inc, omitted)
	}
	total := 0
	for _, i := range inc {
		total += len(i.Body)
	}
	if total > len("picked body")+55 {
		t.Errorf("over budget: %d", total)
	}
	_ = auto2
}

func TestImportFromURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/guide":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<title>House style</title><h1>Tone</h1><p>Be brief.</p><script>x()</script>`)
		case "/empty":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<title>t</title><script>x()</script>`)
		case "/pdf":
			w.Header().Set("Content-Type", "application/pdf")
		}
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, webfetch.New(webfetch.Options{AllowLoopback: true}))
	ctx := context.Background()
	a, err := f.svc.Import(ctx, f.alice, assets.ImportInput{URL: srv.URL + "/guide", AutoInclude: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "House style" || a.Body != "# Tone\n\nBe brief." || a.SourceURL != srv.URL+"/guide" || !a.AutoInclude {
		t.Errorf("imported %+v", a)
	}
	a, err = f.svc.Import(ctx, f.alice, assets.ImportInput{URL: srv.URL + "/guide", Name: "Mine"})
	if err != nil || a.Name != "Mine" {
		t.Errorf("named import %+v %v", a, err)
	}
	for _, c := range []struct{ url, want string }{
		{srv.URL + "/pdf", "Only HTML, Markdown and plain-text"},
		{srv.URL + "/empty", "no text"},
		{"ftp://example.com/x", "Only http:// and https://"},
		{"", "Give the address"},
		{"http://169.254.169.254/latest/meta-data/", "private or special network addresses"},
	} {
		_, err := f.svc.Import(ctx, f.alice, assets.ImportInput{URL: c.url})
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), c.want) {
			t.Errorf("%s: %v", c.url, err)
		}
	}
}

// The default fetcher (the one the app uses) refuses loopback, so an
// import cannot read the app's own or a neighbour's local services.
func TestImportRefusesLoopbackByDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "internal") }))
	t.Cleanup(srv.Close)
	f := newFixture(t, nil)
	_, err := f.svc.Import(context.Background(), f.alice, assets.ImportInput{URL: srv.URL})
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "private or special") {
		t.Errorf("%v", err)
	}
}

func TestPromptText(t *testing.T) {
	if got := assets.PromptText(nil, 0); got != "" {
		t.Errorf("empty: %q", got)
	}
	got := assets.PromptText([]assets.Included{
		{Name: "Picked", Body: "be brief"},
		{Name: "Always", Body: "no jargon", Auto: true, Truncated: true},
	}, 1)
	for _, want := range []string{"=== Picked ===\nbe brief\n", "=== Always (always included) ===\nno jargon\n[… the rest of this asset was cut to fit]", "[1 more asset was left out to fit]"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}
