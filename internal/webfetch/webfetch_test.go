package webfetch_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/webfetch"
)

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestLoadHTMLAsReadableText(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title> Style  guide </title>
<style>body{color:red}</style><script>alert("x")</script></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<main><h1>Voice</h1><p>Write   short
sentences.</p><p>Use <b>plain</b> words.</p>
<h2>Lists</h2><ul><li>One</li><li>Two</li></ul>
<div hidden>secret</div><pre>a  b
  c</pre></main><footer>© 2026</footer></body></html>`)
	})
	f := webfetch.New(webfetch.Options{AllowLoopback: true})
	p, err := f.Load(context.Background(), srv.URL+"/guide#part")
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Style guide" {
		t.Errorf("title = %q", p.Title)
	}
	want := "# Voice\n\nWrite short sentences.\n\nUse plain words.\n\n## Lists\n\n- One\n- Two\n\na  b\n  c"
	if p.Text != want {
		t.Errorf("text =\n%q\nwant\n%q", p.Text, want)
	}
	for _, bad := range []string{"alert", "color:red", "Home", "About", "secret", "2026"} {
		if strings.Contains(p.Text, bad) {
			t.Errorf("text keeps %q", bad)
		}
	}
	if p.URL != srv.URL+"/guide" || p.Truncated {
		t.Errorf("url %q truncated %v", p.URL, p.Truncated)
	}
}

func TestLoadPlainTextMarkdownAndCharset(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a.md":
			w.Header().Set("Content-Type", "text/markdown")
			fmt.Fprint(w, "# Tone\r\n\r\nBe <b>kind</b>.\r\n")
		case "/a.txt":
			w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
			w.Write([]byte("caf\xe9"))
		case "/a.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			w.Write([]byte("%PDF-1.4"))
		case "/img":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG"))
		}
	})
	f := webfetch.New(webfetch.Options{AllowLoopback: true})
	p, err := f.Load(context.Background(), srv.URL+"/a.md")
	if err != nil || p.Title != "Tone" || p.Text != "# Tone\n\nBe <b>kind</b>." {
		t.Errorf("markdown: %+v %v", p, err)
	}
	p, err = f.Load(context.Background(), srv.URL+"/a.txt")
	if err != nil || p.Text != "café" {
		t.Errorf("latin-1 text: %+v %v", p, err)
	}
	for _, path := range []string{"/a.pdf", "/img"} {
		_, err = f.Load(context.Background(), srv.URL+path)
		if !errors.Is(err, webfetch.ErrUnsupportedType) || !strings.Contains(err.Error(), "Only HTML, Markdown and plain-text") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// The default fetcher refuses every loopback, private, link-local and
// other special address, before any byte is sent.
func TestRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "inside")
	})
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	f := webfetch.New(webfetch.Options{Timeout: 3 * time.Second})
	for _, u := range []string{
		srv.URL,
		fmt.Sprintf("http://127.0.0.1:%d/", port),
		fmt.Sprintf("http://[::1]:%d/", port),
		fmt.Sprintf("http://127.1.2.3:%d/", port),
		"http://10.0.0.1/",
		"http://172.16.5.4/",
		"http://192.168.1.1/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fe80::1]/",
		"http://[fd00::1]/",
		"http://0.0.0.0/",
		"http://[::]/",
		"http://100.64.0.1/",
		"http://224.0.0.1/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:169.254.169.254]/",
	} {
		_, err := f.Load(context.Background(), u)
		if err == nil {
			t.Errorf("%s loaded", u)
			continue
		}
		if !errors.Is(err, webfetch.ErrBlockedAddress) {
			t.Errorf("%s: %v, want a refused address", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server was reached %d times", n)
	}
}

// A name that resolves to loopback is refused after resolution, whatever
// it looks like, and so is one with a public and a private address.
func TestRefusesNamesResolvingToPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	f := webfetch.New(webfetch.Options{LookupIP: func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "rebind.example.com":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		case "mixed.example.com":
			return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.1.2.3")}, nil
		case "metadata.example.com":
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		}
		return nil, errors.New("no such host")
	}})
	for _, host := range []string{"rebind.example.com", "mixed.example.com", "metadata.example.com"} {
		_, err := f.Load(context.Background(), fmt.Sprintf("http://%s:%d/", host, port))
		if !errors.Is(err, webfetch.ErrBlockedAddress) {
			t.Errorf("%s: %v, want a refused address", host, err)
		}
	}
	_, err := f.Load(context.Background(), "http://nowhere.example.com/")
	if !errors.Is(err, webfetch.ErrUnreachable) {
		t.Errorf("unresolvable: %v", err)
	}
	if hits.Load() != 0 {
		t.Error("the loopback server was reached")
	}
}

// With loopback allowed (tests), a redirect to a private address or to
// another scheme is still refused, and redirects are bounded.
func TestRedirectsAreCheckedAndBounded(t *testing.T) {
	var metadataHits atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-private-name":
			http.Redirect(w, r, "http://intranet.example.com/", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/hop":
			http.Redirect(w, r, "/final", http.StatusMovedPermanently)
		case "/final":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "arrived")
		}
	})
	f := webfetch.New(webfetch.Options{AllowLoopback: true, LookupIP: func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "intranet.example.com" {
			metadataHits.Add(1)
			return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
		}
		return nil, errors.New("no such host")
	}})
	for path, want := range map[string]error{
		"/to-metadata":     webfetch.ErrBlockedAddress,
		"/to-private-name": webfetch.ErrBlockedAddress,
		"/to-file":         webfetch.ErrBadURL,
		"/loop":            webfetch.ErrTooManyRedirect,
	} {
		_, err := f.Load(context.Background(), srv.URL+path)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
	}
	if metadataHits.Load() != 1 {
		t.Errorf("the redirect's name was resolved %d times, want 1 (and refused)", metadataHits.Load())
	}
	p, err := f.Load(context.Background(), srv.URL+"/hop")
	if err != nil || p.Text != "arrived" || p.URL != srv.URL+"/final" {
		t.Errorf("hop: %+v %v", p, err)
	}
}

func TestRefusesOtherSchemesAndCredentials(t *testing.T) {
	f := webfetch.New(webfetch.Options{AllowLoopback: true})
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/", "javascript:alert(1)", "gopher://x/", "", "example.com", "http://user:pw@example.com/"} {
		if _, err := f.Load(context.Background(), u); !errors.Is(err, webfetch.ErrBadURL) {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestSizeLimits(t *testing.T) {
	big := strings.Repeat("a", 5000)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Content-Length", "5000")
			fmt.Fprint(w, big)
		case "/chunked":
			// No Content-Length: the limit is found while reading.
			for range 5 {
				fmt.Fprint(w, big[:1000])
				w.(http.Flusher).Flush()
			}
		case "/fits":
			fmt.Fprint(w, strings.Repeat("é", 600)) // 1200 bytes, text cap 1001
		}
	})
	f := webfetch.New(webfetch.Options{AllowLoopback: true, MaxBytes: 4096, MaxText: 1001})
	for _, path := range []string{"/declared", "/chunked"} {
		_, err := f.Load(context.Background(), srv.URL+path)
		if !errors.Is(err, webfetch.ErrTooLarge) || !strings.Contains(err.Error(), "larger than 4 KiB") {
			t.Errorf("%s: %v", path, err)
		}
	}
	p, err := f.Load(context.Background(), srv.URL+"/fits")
	if err != nil || !p.Truncated || len(p.Text) != 1000 || p.Text != strings.Repeat("é", 500) {
		t.Errorf("fits: truncated %v len %d %v", p.Truncated, len(p.Text), err)
	}
}

func TestTimeoutCoversTheWholeLoad(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/slow-body" {
			fmt.Fprint(w, "first part")
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	f := webfetch.New(webfetch.Options{AllowLoopback: true, Timeout: 300 * time.Millisecond})
	for _, path := range []string{"/slow-headers", "/slow-body"} {
		_, err := f.Load(context.Background(), srv.URL+path)
		if !errors.Is(err, webfetch.ErrTimeout) || !strings.Contains(err.Error(), "did not load within") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestHTTPErrorStatus(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	_, err := webfetch.New(webfetch.Options{AllowLoopback: true}).Load(context.Background(), srv.URL)
	if !errors.Is(err, webfetch.ErrStatus) || err.Error() != "The server answered 404 Not Found." {
		t.Errorf("%v", err)
	}
}

func TestBlocked(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": false, "93.184.215.14": false, "2606:4700::1111": false,
		"127.0.0.1": true, "10.1.1.1": true, "169.254.169.254": true, "::1": true, "fe80::1": true,
		"fc00::1": true, "0.0.0.0": true, "255.255.255.255": true, "224.0.0.251": true, "ff02::1": true,
		"100.64.1.1": true, "192.0.2.1": true, "198.18.0.1": true, "64:ff9b::a00:1": true, "::ffff:10.0.0.1": true,
		"2002:a00:1::": true, "240.0.0.1": true,
	} {
		if got := webfetch.Blocked(netip.MustParseAddr(s)); got != want {
			t.Errorf("Blocked(%s) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkHTMLText2MiB turns a page at the size limit into text.
func BenchmarkHTMLText2MiB(b *testing.B) {
	block := `<div class="x"><h2>Title</h2><p>Some <a href="/a">linked</a> text, and <b>more</b>.</p><script>var a = 1;</script><ul><li>one</li><li>two</li></ul></div>`
	src := "<html><head><title>T</title></head><body>" + strings.Repeat(block, webfetch.DefaultMaxBytes/len(block)) + "</body></html>"
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		webfetch.HTMLText(src)
	}
}
