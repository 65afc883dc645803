package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// gridPageSize is how many rows the grid's first page holds: it comes with
// the page (or again after a bulk change) and fills a tall window.
const gridPageSize = 100

// gridScrollPageCells is about how many cells each further page holds, asked
// for as the person scrolls. A page appears once the browser has styled,
// laid out and painted its cells, which costs about the same per cell (in
// Chromium on this 2-core machine some 0.2 ms), so a page's rows are
// counted by the table's visible columns: 25 rows of 20 columns, up to 100
// rows of 5. Even 25 rows cover a window's height.
const gridScrollPageCells = 500

// gridScrollPageSize is the number of rows in a page after the first, for a
// table showing columns columns (gridScrollPageCells).
func gridScrollPageSize(columns int) int {
	return min(gridPageSize, max(25, gridScrollPageCells/max(columns, 1)))
}

var errGridTableNotFound = apperr.New(apperr.NotFound, "Table not found.")

func gridQuery(c echo.Context) views.GridQuery {
	return views.GridQuery{Filter: c.QueryParam("filter"), Sort: c.QueryParam("sort"), Has: c.QueryParam("has"), Search: c.QueryParam("q")}
}

// gridRecordQuery is the store's query for a page of t's grid: its filter
// joined with the search box's (views.EffectiveFilter).
func gridRecordQuery(t workbooks.Table, q views.GridQuery, cursor string) workbooks.RecordQuery {
	return workbooks.RecordQuery{Filter: views.EffectiveFilter(t, q), Sort: q.Sort, Has: q.Has, Cursor: cursor, Limit: gridPageSize}
}

// gridPage shows a table as a grid: the first page of rows for the filter,
// sort and quick filter in the URL. A query the store refuses shows the
// reason (for a filter, with a caret under the position) and no rows.
//
// The workbook comes first (its tabs, and the table itself, which the
// records and the counters are then read from without looking it up
// again); the counters are counted while the records are read.
func (s *Server) gridPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	wb, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb"))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(wb.Tables, func(t workbooks.Table) bool { return t.ID == c.Param("t") })
	if i < 0 {
		return errGridTableNotFound
	}
	t := wb.Tables[i]
	q := gridQuery(c)

	type countersResult struct {
		counters workbooks.TableCounters
		err      error
	}
	counted := make(chan countersResult, 1)
	go func() {
		counters, err := s.Workbooks.CountersIn(ctx, u.ID, t)
		counted <- countersResult{counters, err}
	}()

	v := views.GridView{Workbook: wb, Table: t, Ctx: views.GridPageContext(t), Query: q, CSRFToken: csrfToken(c)}
	status := http.StatusOK
	page, err := s.Workbooks.FindRecordsIn(ctx, u.ID, t, gridRecordQuery(t, q, ""))
	cr := <-counted
	switch {
	case apperr.Is(err, apperr.Invalid):
		status = http.StatusUnprocessableEntity
		v.FilterError, v.QueryError = queryProblem(err, q.Filter)
		if q.Search != "" {
			v.FilterError, v.QueryError = searchProblem(v.FilterError, v.QueryError, q.Filter)
		}
	case err != nil:
		return err
	default:
		v.Records, v.NextCursor, v.Total, v.TotalIsEstimate, v.TotalIsAtLeast = page.Records, page.NextCursor, page.EstimatedTotal, page.TotalIsEstimate, page.TotalIsAtLeast
	}
	if cr.err != nil {
		return cr.err
	}
	v.Counters = cr.counters
	v.Sync = s.syncBarFor(c, t)
	if v.Attention, err = s.attentionFor(c, t); err != nil {
		return err
	}
	if s.Agent != nil {
		v.ChatURL = views.ChatPanelURL(wb.ID, t.ID)
	}
	p := s.page(c, t.Name+" · "+wb.Name, "workbooks")
	p.Wide = true
	return renderGrid(c, status, views.GridPage(p, v))
}

// gridBuffers are the buffers grid pages and row pages render into. A grid
// page is a few hundred kilobytes; growing a fresh buffer to that size for
// every request cost more CPU than any single cell.
var gridBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledGridBuffer keeps an unusually big page's buffer out of the pool.
const maxPooledGridBuffer = 4 << 20

// lastGridResponse is the size of the last grid response, which a buffer new
// from the pool grows to at once: the pool loses its buffers at every
// other garbage collection, and growing a fresh buffer by doubling to a
// page's few hundred kilobytes allocated and copied twice that per page.
var lastGridResponse atomic.Int64

// renderGrid is render with a pooled buffer, for the grid's big responses.
// Like render, it writes nothing until the whole component has rendered.
func renderGrid(c echo.Context, status int, comp templ.Component) error {
	buf := gridBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	if hint := int(lastGridResponse.Load()); buf.Cap() < hint {
		buf.Grow(min(hint+hint/8, maxPooledGridBuffer))
	}
	defer func() {
		if buf.Cap() <= maxPooledGridBuffer {
			gridBuffers.Put(buf)
		}
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	lastGridResponse.Store(int64(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}

// filterPosition reads the position from the store's filter message
// ("at 12: …"), for errors that do not carry the *filter.Error.
var filterPosition = regexp.MustCompile(`^at (\d+): (.*)$`)

// queryProblem splits a refused query into a filter error with its position
// and a message for anything else.
func queryProblem(err error, source string) (*views.FilterProblem, string) {
	p, msg := filterProblem(err, source)
	if p != nil {
		p.Hint = filterHint(p.Message, source)
	}
	return p, msg
}

// quotedText finds the first double-quoted text of a filter.
var quotedText = regexp.MustCompile(`"((?:[^"]|"")*)"`)

// filterHint explains the usual cause of a filter error: text written in
// double quotes, which the filter language reads as a column name.
func filterHint(message, source string) string {
	if !strings.HasPrefix(message, "unknown column") {
		return ""
	}
	m := quotedText.FindStringSubmatch(source)
	if m == nil {
		return ""
	}
	text := strings.ReplaceAll(strings.ReplaceAll(m[1], `""`, `"`), "'", "''")
	return `Double quotes name a column. To compare with text, write it in single quotes: '` + text + `'.`
}

func filterProblem(err error, source string) (*views.FilterProblem, string) {
	var fe *filter.Error
	if errors.As(err, &fe) {
		return &views.FilterProblem{Source: source, Message: fe.Msg, Pos: fe.Pos, Len: fe.Len}, ""
	}
	for _, f := range apperr.FieldsOf(err) {
		if f.Field != "filter" {
			continue
		}
		p := &views.FilterProblem{Source: source, Message: f.Message, Pos: -1, Len: 1}
		if m := filterPosition.FindStringSubmatch(f.Message); m != nil {
			p.Pos, _ = strconv.Atoi(m[1])
			p.Message = m[2]
		}
		return p, ""
	}
	return nil, apperr.MessageOf(err)
}

// gridRows is the next page of rows, asked for by the row at the bottom of
// the grid when it scrolls into view, and the first page again after a bulk
// change.
func (s *Server) gridRows(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	q := gridQuery(c)
	rq := gridRecordQuery(t, q, c.QueryParam("cursor"))
	rq.WithoutTotal = true // the rows come without the count above the grid
	g := views.GridPageContext(t)
	if rq.Cursor != "" {
		rq.Limit = gridScrollPageSize(len(g.Columns))
	}
	page, err := s.Workbooks.FindRecordsIn(ctx, u.ID, t, rq)
	if err != nil {
		return err
	}
	return renderGrid(c, http.StatusOK, views.GridRows(g, q, page.Records, page.NextCursor))
}

// gridCounters are the table's counters, fetched again after every change.
func (s *Server) gridCounters(c echo.Context) error {
	counters, err := s.Workbooks.Counters(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.GridCounterBadges(counters))
}

// renameTable renames a table and comes back to its grid.
func (s *Server) renameTable(c echo.Context) error {
	t, err := s.Workbooks.RenameTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.FormValue("name"))
	if err := s.flashRefusal(c, err, "name"); err != nil {
		return err
	}
	if t.ID != "" {
		s.flash(c, "success", "Renamed the table to “"+t.Name+"”.")
	}
	return redirect(c, views.TableURL(c.Param("wb"), c.Param("t")))
}

// setTableHidden hides a table (going to the workbook's first visible one)
// or shows it again (going to it).
func (s *Server) setTableHidden(c echo.Context) error {
	hidden := c.FormValue("hidden") == "true"
	if _, err := s.Workbooks.SetTableHidden(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), hidden); err != nil {
		return err
	}
	if hidden {
		return redirect(c, views.WorkbookURL(c.Param("wb")))
	}
	return redirect(c, views.TableURL(c.Param("wb"), c.Param("t")))
}

// moveTable moves a table's tab to ?position=.
func (s *Server) moveTable(c echo.Context) error {
	pos, perr := strconv.Atoi(c.FormValue("position"))
	if perr != nil {
		return apperr.InvalidFields("Choose a position.", apperr.FieldError{Field: "position", Message: "must be a number"})
	}
	if _, err := s.Workbooks.MoveTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), pos); err != nil {
		return err
	}
	return redirect(c, views.TableURL(c.Param("wb"), c.Param("t")))
}

// deleteTable deletes a table and goes to the workbook.
func (s *Server) deleteTable(c echo.Context) error {
	if err := s.Workbooks.DeleteTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t")); err != nil {
		return err
	}
	s.flash(c, "success", "Table deleted.")
	return redirect(c, views.WorkbookURL(c.Param("wb")))
}

// addScratchColumn adds a local-only column and comes back to the grid:
// at the end, or left or right (side) of the column beside.
func (s *Server) addScratchColumn(c echo.Context) error {
	typ := values.Type(c.FormValue("type"))
	t, err := s.Workbooks.InsertScratchColumn(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.FormValue("name"), typ,
		c.FormValue("beside"), c.FormValue("side") != "left")
	if err := s.flashRefusal(c, err, "name"); err != nil {
		return err
	}
	if t.ID != "" {
		s.toast(c, "success", "Added the column "+strings.TrimSpace(c.FormValue("name"))+".")
	}
	return redirect(c, s.gridReturnURL(c))
}

// removeColumn removes a scratch column with its values.
func (s *Server) removeColumn(c echo.Context) error {
	_, err := s.Workbooks.RemoveColumn(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.Param("col"))
	if err := s.flashRefusal(c, err, "column"); err != nil {
		return err
	}
	return redirect(c, s.gridReturnURL(c))
}

// setHiddenColumns saves which columns the table shows: the form lists the
// visible ones, every other column is hidden.
func (s *Server) setHiddenColumns(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	visible := form["visible"]
	hidden := []string{}
	for _, col := range t.Columns {
		if !slices.Contains(visible, col.ID) {
			hidden = append(hidden, col.ID)
		}
	}
	_, err = s.Workbooks.SetHiddenColumns(ctx, u.ID, t.WorkbookID, t.ID, hidden)
	if err := s.flashRefusal(c, err, "columns"); err != nil {
		return err
	}
	return redirect(c, s.gridReturnURL(c))
}

// flashRefusal turns an Invalid error into an error flash for the next page
// and passes any other error on.
func (s *Server) flashRefusal(c echo.Context, err error, field string) error {
	switch {
	case err == nil:
		return nil
	case apperr.Is(err, apperr.Invalid):
		s.flash(c, "error", wbFieldMessage(err, field))
		return nil
	}
	return err
}

// gridReturnURL is where a grid form goes back to: the view it was sent
// from (form field next, or the page htmx reports), when that is this
// table's grid.
func (s *Server) gridReturnURL(c echo.Context) string {
	base := views.TableURL(c.Param("wb"), c.Param("t"))
	next := c.FormValue("next")
	if next == "" {
		if u, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil {
			next = u.RequestURI()
		}
	}
	next = safeNext(next)
	if next == base || strings.HasPrefix(next, base+"?") {
		return next
	}
	return base
}

// filterHelp is the page explaining the filter language, linked from every
// filter error.
func (s *Server) filterHelp(c echo.Context) error {
	return render(c, http.StatusOK, views.FilterHelpPage(s.page(c, "Filter syntax", "")))
}
