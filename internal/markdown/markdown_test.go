package markdown_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/scratchpad/scratchpad/internal/markdown"
)

func doc(t *testing.T, src string) (*goquery.Document, string) {
	t.Helper()
	out := markdown.RenderString(src)
	d, err := goquery.NewDocumentFromReader(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return d, out
}

func TestRendersMarkdown(t *testing.T) {
	d, out := doc(t, "# Title\n\nSome **bold** and *em* and ~~gone~~ and `code`.\n\n- one\n- two\n\n3. three\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote\n\n```\nx < y\n```\n")
	for sel, want := range map[string]string{
		"h1": "Title", "strong": "bold", "em": "em", "del": "gone", "p code": "code",
		"ul li:first-child": "one", "td:last-child": "2", "blockquote": "quote", "pre code": "x < y\n",
	} {
		if got := d.Find(sel).First().Text(); strings.TrimSpace(got) != strings.TrimSpace(want) {
			t.Errorf("%s = %q, want %q\n%s", sel, got, want, out)
		}
	}
	if v, _ := d.Find("ol").Attr("start"); v != "3" {
		t.Errorf("ol start = %q", v)
	}
}

func TestLinksAreSafeAndOpenApart(t *testing.T) {
	d, out := doc(t, "[site](https://example.com/a?b=1) and https://bare.example.org and [rel](/workbooks/1) and <mailto:a@b.c>")
	a := d.Find(`a[href="https://example.com/a?b=1"]`)
	if a.Length() != 1 {
		t.Fatalf("link missing: %s", out)
	}
	if rel, _ := a.Attr("rel"); !strings.Contains(rel, "nofollow") || !strings.Contains(rel, "noopener") {
		t.Errorf("rel = %q", rel)
	}
	if tg, _ := a.Attr("target"); tg != "_blank" {
		t.Errorf("target = %q", tg)
	}
	if d.Find(`a[href="https://bare.example.org"]`).Length() != 1 {
		t.Errorf("bare link not linked: %s", out)
	}
	if d.Find(`a[href="/workbooks/1"]`).Length() != 1 {
		t.Errorf("relative link dropped: %s", out)
	}
}

// Hostile input comes out as text: no element that runs script, loads
// anything, or carries a handler, and no link with another scheme.
func TestHostileInputIsNeutralised(t *testing.T) {
	hostile := strings.Join([]string{
		`<script>alert(1)</script>`,
		`<img src=x onerror="alert(2)">`,
		`<a href="javascript:alert(3)">raw link</a>`,
		`[click](javascript:alert(4))`,
		`[click2](JaVaScRiPt:alert(5))`,
		"[tab](java\tscript:alert(6))",
		`[vb](vbscript:msgbox(7))`,
		`[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==)`,
		`![pixel](data:image/png;base64,iVBORw0KGgo=)`,
		`![svg](data:image/svg+xml,<svg onload=alert(9)>)`,
		`![tracker](https://evil.example/x.png?secret=1)`,
		`<javascript:alert(10)>`,
		`<div onclick="alert(11)">div</div>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<style>body{display:none}</style>`,
		`<svg><script>alert(12)</script></svg>`,
		`[x](https://ok.example "title\" onmouseover=\"alert(13)")`,
		`<form action="https://evil.example"><input name=a></form>`,
		"<details open ontoggle=alert(14)>",
	}, "\n\n")
	d, out := doc(t, hostile)
	for _, sel := range []string{"script", "img", "iframe", "style", "svg", "form", "input", "div", "details", "object", "embed"} {
		if n := d.Find(sel).Length(); n != 0 {
			t.Errorf("%d <%s> in output:\n%s", n, sel, out)
		}
	}
	d.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") || k == "style" || k == "src" || k == "title" && strings.Contains(a.Val, "alert") {
				t.Errorf("attribute %s=%q kept on <%s>", a.Key, a.Val, s.Nodes[0].Data)
			}
			if k == "href" {
				v := strings.ToLower(a.Val)
				if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "mailto:") && !strings.HasPrefix(v, "/") {
					t.Errorf("href %q kept", a.Val)
				}
			}
		}
	})
	// What is left of hostile markup is text, never a tag.
	if strings.Contains(strings.ToLower(out), "<script") || strings.Contains(out, "<a href=\"javascript") {
		t.Errorf("markup kept:\n%s", out)
	}
	// The link texts stay readable as text.
	for _, txt := range []string{"click", "click2", "vb", "pixel", "tracker"} {
		if !strings.Contains(d.Text(), txt) {
			t.Errorf("text %q lost:\n%s", txt, out)
		}
	}
	// A remote image becomes a link to it: nothing loads by itself.
	if d.Find(`a[href="https://evil.example/x.png?secret=1"]`).Length() != 1 {
		t.Errorf("remote image not turned into a link:\n%s", out)
	}
}

// Escaped text and code stay text.
func TestEscapedTextStaysText(t *testing.T) {
	out := markdown.RenderString("a &lt;b&gt; `<i>x</i>` 5 < 6 & 7 > 3")
	if strings.Contains(out, "<i>") || strings.Contains(out, "<b>") {
		t.Errorf("markup from text: %s", out)
	}
	if !strings.Contains(out, "&lt;i&gt;x&lt;/i&gt;") {
		t.Errorf("code not escaped: %s", out)
	}
}

func TestLargeInputIsCut(t *testing.T) {
	src := strings.Repeat("word ", markdown.MaxSource/5+1000)
	out := markdown.RenderString(src)
	if len(out) > markdown.MaxSource+100 {
		t.Errorf("output %d bytes for input %d", len(out), len(src))
	}
}

// BenchmarkRender200KB renders a prompt asset at its size cap, as the
// asset editor's preview does on each pause in typing.
func BenchmarkRender200KB(b *testing.B) {
	para := "## Heading\n\nSome **bold** text with a [link](https://example.com) and `code`.\n\n- item one\n- item two\n\n"
	src := strings.Repeat(para, 200<<10/len(para))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		markdown.RenderString(src)
	}
}
