// Package markdown renders untrusted Markdown (record values, prompt
// assets, the agent's replies) to HTML that is safe to put in a page.
//
// Two layers, each enough on its own for what it is sure of:
//   - goldmark parses CommonMark plus GitHub's tables, strikethrough and
//     bare links, with raw HTML omitted, and an AST pass keeps only http(s),
//     mailto and relative link destinations and turns images into links
//     (an image a model writes can carry data out in its URL the moment it
//     loads; a link needs a click);
//   - bluemonday then allows only the elements and attributes that
//     rendering makes, the same URL schemes, and gives every link
//     rel="nofollow noopener" and external ones target="_blank".
package markdown

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxSource is the most Markdown rendered; beyond it the text is cut (a
// rune boundary kept), so a huge value cannot make a page slow.
const MaxSource = 512 << 10

var md = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkFilter{}, 100))),
	// No html.WithUnsafe: raw HTML blocks and inline HTML are omitted.
)

var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
		"em", "strong", "del", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// Render turns src into sanitised HTML.
func Render(src string) template.HTML {
	return template.HTML(RenderString(src)) //nolint:gosec // sanitised by policy
}

// RenderString is Render as a string.
func RenderString(src string) string {
	if len(src) > MaxSource {
		src = strings.ToValidUTF8(src[:MaxSource], "")
	}
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return template.HTMLEscapeString(src)
	}
	return policy.Sanitize(buf.String())
}

// linkFilter allows known-good link schemes instead of refusing known-bad
// ones (goldmark's own check), turns links with any other destination into
// their text, and images into links to them labelled with their alt text.
type linkFilter struct{}

func (linkFilter) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	type swap struct{ old, new ast.Node }
	var swaps []swap
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := n.(type) {
		case *ast.Link:
			if !SafeURL(string(v.Destination)) {
				swaps = append(swaps, swap{v, textOf(v, src)})
				return ast.WalkSkipChildren, nil
			}
		case *ast.Image:
			alt := strings.TrimSpace(string(nodeText(v, src)))
			if alt == "" {
				alt = "image"
			}
			if !SafeURL(string(v.Destination)) || isMailto(string(v.Destination)) {
				swaps = append(swaps, swap{v, ast.NewString([]byte(alt))})
			} else {
				l := ast.NewLink()
				l.Destination = v.Destination
				l.AppendChild(l, ast.NewString([]byte("🖼 "+alt)))
				swaps = append(swaps, swap{v, l})
			}
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			if v.AutoLinkType != ast.AutoLinkEmail && !SafeURL(string(v.URL(src))) {
				swaps = append(swaps, swap{v, ast.NewString(v.Label(src))})
			}
		}
		return ast.WalkContinue, nil
	})
	for _, s := range swaps {
		s.old.Parent().ReplaceChild(s.old.Parent(), s.old, s.new)
	}
}

// textOf is a link's label as plain text.
func textOf(n ast.Node, src []byte) ast.Node {
	return ast.NewString(nodeText(n, src))
}

func nodeText(n ast.Node, src []byte) []byte {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Value(src))
		case *ast.String:
			b.Write(t.Value)
		case *ast.CodeSpan:
			for cc := t.FirstChild(); cc != nil; cc = cc.NextSibling() {
				if tt, ok := cc.(*ast.Text); ok {
					b.Write(tt.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.Bytes()
}

func isMailto(u string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(u)), "mailto:")
}

// SafeURL reports whether a link destination is relative or uses http,
// https or mailto. Control characters and spaces are ignored the way
// browsers ignore them when reading a scheme.
func SafeURL(u string) bool {
	clean := strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, u)
	colon := strings.IndexByte(clean, ':')
	if colon < 0 || strings.ContainsAny(clean[:colon], "/?#") {
		return true // relative
	}
	switch strings.ToLower(clean[:colon]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}
