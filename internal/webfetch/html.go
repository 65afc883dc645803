package webfetch

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skipped are elements whose content is not part of a page's readable text.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Nav: true, atom.Footer: true, atom.Aside: true, atom.Form: true,
	atom.Svg: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Canvas: true, atom.Select: true, atom.Button: true, atom.Head: true,
	atom.Math: true, atom.Dialog: true,
}

// blocks are elements that start and end a paragraph of text.
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.Header: true, atom.Blockquote: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
	atom.Dt: true, atom.Dd: true, atom.Table: true, atom.Tr: true, atom.Figure: true,
	atom.Figcaption: true, atom.Address: true, atom.Details: true, atom.Summary: true,
	atom.Hr: true, atom.Caption: true, atom.Body: true, atom.Center: true,
}

var headings = map[atom.Atom]int{atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6}

// HTMLText turns an HTML document into its title and readable text:
// headings become "#" lines, list items "- " lines, paragraphs are
// separated by a blank line, preformatted text keeps its layout, and
// scripts, styles, navigation, footers and forms are dropped.
func HTMLText(src string) (title, text string) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return "", ""
	}
	w := &textWriter{}
	var walk func(n *html.Node, pre bool)
	walk = func(n *html.Node, pre bool) {
		switch n.Type {
		case html.TextNode:
			w.text(n.Data, pre)
			return
		case html.ElementNode:
		case html.DocumentNode:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, pre)
			}
			return
		default:
			return
		}
		a := n.DataAtom
		if skipped[a] || hiddenNode(n) {
			return
		}
		switch {
		case headings[a] > 0:
			w.paragraph()
			w.raw(strings.Repeat("#", headings[a]) + " ")
		case a == atom.Li:
			w.line()
			w.raw("- ")
		case a == atom.Br:
			w.line()
			return
		case a == atom.Pre:
			w.paragraph()
			pre = true
		case a == atom.Td || a == atom.Th:
			w.space()
		case a == atom.Img:
			if alt := attr(n, "alt"); strings.TrimSpace(alt) != "" {
				w.text(alt, false)
			}
			return
		case blocks[a]:
			w.paragraph()
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, pre)
		}
		switch {
		case headings[a] > 0, a == atom.Pre, blocks[a]:
			w.paragraph()
		case a == atom.Li:
			w.line()
		}
	}
	walk(doc, false)
	var find func(n *html.Node) bool
	find = func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			title = strings.TrimSpace(nodeText(n))
			return true
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Svg {
			return false
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if find(c) {
				return true
			}
		}
		return false
	}
	find(doc)
	return title, strings.TrimSpace(w.b.String())
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hiddenNode reports an element the page hides from readers.
func hiddenNode(n *html.Node) bool {
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			if a.Val == "true" {
				return true
			}
		case "style":
			s := strings.ReplaceAll(strings.ToLower(a.Val), " ", "")
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
				return true
			}
		}
	}
	return false
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// textWriter collapses whitespace and breaks lines and paragraphs without
// ever writing more than one blank line in a row.
type textWriter struct {
	b strings.Builder
	// pending is the separator owed before the next text: 0 none, 1 a
	// space, 2 a line break, 3 a blank line.
	pending int
}

func (w *textWriter) space()     { w.pending = max(w.pending, 1) }
func (w *textWriter) line()      { w.pending = max(w.pending, 2) }
func (w *textWriter) paragraph() { w.pending = max(w.pending, 3) }

func (w *textWriter) flush() {
	if w.b.Len() > 0 {
		switch w.pending {
		case 1:
			if s := w.b.String(); s[len(s)-1] != ' ' && s[len(s)-1] != '\n' {
				w.b.WriteByte(' ')
			}
		case 2:
			w.b.WriteByte('\n')
		case 3:
			w.b.WriteString("\n\n")
		}
	}
	w.pending = 0
}

func (w *textWriter) raw(s string) {
	w.flush()
	w.b.WriteString(s)
}

func (w *textWriter) text(s string, pre bool) {
	if pre {
		if s == "" {
			return
		}
		w.flush()
		w.b.WriteString(s)
		return
	}
	if strings.TrimSpace(s) == "" {
		if s != "" {
			w.space()
		}
		return
	}
	if s[0] == ' ' || s[0] == '\n' || s[0] == '\t' || s[0] == '\r' {
		w.space()
	}
	w.flush()
	w.b.WriteString(strings.Join(strings.Fields(s), " "))
	if last := s[len(s)-1]; last == ' ' || last == '\n' || last == '\t' || last == '\r' {
		w.space()
	}
}
