package views

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/a-h/templ"
	templruntime "github.com/a-h/templ/runtime"

	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// The grid's hot path: the 2,000 cells of a page. A cell that shows its
// value (no pending suggestion, no conflict, not being edited) is written
// here straight into the render buffer, as gridCell and cellDisplay would
// write it, byte for byte: the column's constant attributes come
// precomputed and escaped (cellColumn.attrs), text is escaped and cut as it
// is written, and nothing is built as a string in between. The other cells
// (and every other part of a row) render with their templ components.

// cellAttrs is the part of a cell's opening tag that its column decides,
// after its classes.
func cellAttrs(col workbooks.Column) string {
	return `" data-column="` + html.EscapeString(col.Name) +
		`" data-column-id="` + html.EscapeString(col.ID) + `"`
}

// gridCells writes a row's cells.
func gridCells(g GridContext, recURL string, rec workbooks.Record, st CellState) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) (err error) {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf, isBuf := templruntime.GetBuffer(w)
		if !isBuf {
			defer func() {
				if berr := templruntime.ReleaseBuffer(buf); err == nil {
					err = berr
				}
			}()
		}
		for _, col := range g.cells {
			_, suggested := rec.Suggestions[col.ID]
			_, conflicted := rec.Conflicts[col.ID]
			switch {
			case st.Editing && st.ColumnID == col.ID:
				err = cellEditor(g, rec, col.Column, st, col.Pin).Render(ctx, buf)
			case suggested || conflicted || (st.ColumnID == col.ID && st.Conflict != ""):
				err = gridCell(recURL, rec, col, st).Render(ctx, buf)
			default:
				err = writeGridCell(buf, rec, col, !g.withoutHashes)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// writeGridCell writes a cell showing its value, as gridCell does for a cell
// without a suggestion, a conflict with its source or a refused edit; with
// hash false, without its value's hash (GridContext.withoutHashes).
func writeGridCell(buf *templruntime.Buffer, rec workbooks.Record, col cellColumn, hash bool) error {
	v := rec.Fields[col.ID]
	trouble, note := cellTrouble(rec, col.ID)
	buf.WriteString(`<td class="`)
	buf.WriteString(col.Class)
	if slices.Contains(rec.EditedFields, col.ID) {
		buf.WriteString(" edited")
	}
	if trouble != "" {
		buf.WriteString(" ")
		buf.WriteString(trouble)
	}
	buf.WriteString(col.attrs)
	if hash {
		var h [16]byte
		buf.WriteString(` data-hash="`)
		buf.Write(appendBase36(h[:0], hashValue(v)))
		buf.WriteString(`"`)
	}
	buf.WriteString(` tabindex="-1"`)
	if editable(rec, col.Column) {
		buf.WriteString(` data-editable="true"`)
	}
	if note != "" {
		buf.WriteString(` title="`)
		writeEscaped(buf, note)
		buf.WriteString(`"`)
	}
	buf.WriteString(`>`)
	if col.Pin {
		buf.WriteString(`<input type="checkbox" class="select-record" name="record_id" value="`)
		writeEscaped(buf, rec.ID)
		buf.WriteString(`" form="bulk-form" data-testid="select-record" aria-label="Select record">`)
	}
	buf.WriteString(`<span class="cell-value" data-testid="cell-value">`)
	writeCellDisplay(buf, col.Column, v)
	_, err := buf.WriteString(`</span> </td>`)
	return err
}

// cellTrouble returns the class and the note of a cell whose record has a
// problem with it: a publish that failed to write it, or a value a CSV
// import or a pull could not read. They are told apart: a publish error is
// fixed by editing and publishing again, a read problem by fixing the file
// or the source.
func cellTrouble(rec workbooks.Record, columnID string) (class, note string) {
	if msg := rec.PublishErrors[columnID]; msg != "" {
		return "error", "Publish failed: " + msg
	}
	if msg := rec.Problems[columnID]; msg != "" {
		return "problem", "Could not be read: " + msg
	}
	return "", ""
}

// writeCellDisplay writes what cellDisplay renders for v.
func writeCellDisplay(buf *templruntime.Buffer, col workbooks.Column, v any) {
	if v == nil {
		return
	}
	switch col.Type {
	case values.Boolean:
		if v == true {
			buf.WriteString(`<span class="bool-true" title="true" data-value="true">✓</span>`)
		} else {
			buf.WriteString(`<span class="bool-false muted" title="false" data-value="false">✗</span>`)
		}
	case values.Date:
		s := CellText(col, v)
		buf.WriteString(`<time datetime="`)
		writeEscaped(buf, s)
		buf.WriteString(`">`)
		writeEscaped(buf, s)
		buf.WriteString(`</time>`)
	case values.Datetime:
		s := CellText(col, v)
		buf.WriteString(`<time datetime="`)
		writeEscaped(buf, s)
		buf.WriteString(`">`)
		writeEscaped(buf, datetimeLabel(s))
		buf.WriteString(`</time>`)
	case values.Select:
		buf.WriteString(`<span class="badge">`)
		writeEscaped(buf, CellText(col, v))
		buf.WriteString(`</span>`)
	case values.MultiSelect:
		for _, o := range listValues(v) {
			buf.WriteString(`<span class="badge">`)
			writeEscaped(buf, o)
			buf.WriteString(`</span>`)
		}
	case values.JSON:
		buf.WriteString(`<code class="mono">`)
		writeClipped(buf, CellText(col, v), "", cellRunes)
		buf.WriteString(`</code>`)
	default:
		s := cellString(col, v)
		if col.Format == values.FormatURL || col.Format == values.FormatEmail {
			if href, ok := safeLink(col, s); ok {
				buf.WriteString(`<a href="`)
				writeEscaped(buf, string(href))
				buf.WriteString(`" rel="noopener noreferrer nofollow" target="_blank">`)
				writeClipped(buf, s, "", cellRunes)
				buf.WriteString(`</a>`)
				return
			}
		}
		line, more := firstLine(s)
		writeClipped(buf, line, more, cellRunes)
	}
}

// cellString is CellText without building a string for text and numbers.
func cellString(col workbooks.Column, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	}
	return CellText(col, v)
}

// firstLine returns the first non-blank line of s, trimmed, and what
// follows it in the display (" …" when the text goes on), in two parts so a
// cell can write them without joining them into a new string.
func firstLine(s string) (line, more string) {
	if firstBreak(s) < 0 {
		return s, ""
	}
	for s != "" {
		line, rest := s, ""
		if i := firstBreak(s); i >= 0 {
			line, rest = s[:i], s[i+1:]
		}
		if line = strings.TrimSpace(line); line != "" {
			return line, " …"
		}
		s = rest
	}
	return "", ""
}

// firstBreak is the index of the first '\r' or '\n' in s, or -1.
func firstBreak(s string) int {
	i := strings.IndexByte(s, '\n')
	j := strings.IndexByte(s, '\r')
	switch {
	case i < 0:
		return j
	case j < 0 || i < j:
		return i
	}
	return j
}

// writeClipped writes, escaped, clip(a+b, n): the first n runes of a and b
// together and an ellipsis when they run longer.
func writeClipped(buf *templruntime.Buffer, a, b string, n int) {
	if len(a)+len(b) <= n { // never more runes than bytes
		writeEscaped(buf, a)
		writeEscaped(buf, b)
		return
	}
	runes := 0
	for i := range a {
		if runes == n {
			writeEscaped(buf, a[:i])
			buf.WriteString("…")
			return
		}
		runes++
	}
	writeEscaped(buf, a)
	for i := range b {
		if runes == n {
			writeEscaped(buf, b[:i])
			buf.WriteString("…")
			return
		}
		runes++
	}
	writeEscaped(buf, b)
}

// writeEscaped writes s escaped as html.EscapeString (and so templ) escapes
// it, without building the escaped string.
func writeEscaped(buf *templruntime.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '"':
			esc = "&#34;"
		default:
			continue
		}
		buf.WriteString(s[last:i])
		buf.WriteString(esc)
		last = i + 1
	}
	buf.WriteString(s[last:])
}

// appendBase36 appends u as strconv.FormatUint(u, 36) writes it; dividing
// by a constant spares the hardware divisions of strconv's any-base path.
func appendBase36(dst []byte, u uint64) []byte {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var a [13]byte // 36^13 > 2^64
	i := len(a)
	for u >= 36 {
		i--
		a[i] = digits[u%36]
		u /= 36
	}
	i--
	a[i] = digits[u]
	return append(dst, a[i:]...)
}
