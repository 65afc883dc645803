package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// pickTablesShown is how many of a data source's tables the picker lists.
const pickTablesShown = 100

// recentSyncsLooked is how many of a workbook's latest syncs the grid looks
// through for its table's last outcome.
const recentSyncsLooked = 10

// publishHistoryShown is how many past publishes the publish page lists.
const publishHistoryShown = 20

// addFromSourcePage picks one of the person's data sources (the first, or
// ?data_source_id=) and lists its tables to add to the workbook.
func (s *Server) addFromSourcePage(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	wb, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb"))
	if err != nil {
		return err
	}
	list, err := s.DataSources.List(ctx, u.ID)
	if err != nil {
		return err
	}
	v := views.AddFromSourceView{Workbook: wb, DataSources: list, CSRFToken: csrfToken(c)}
	if len(list) > 0 {
		dsID := c.QueryParam("data_source_id")
		if dsID == "" {
			dsID = list[0].ID
		}
		v.Tables = s.remoteTables(c, dsID, c.QueryParam("search"))
	}
	return render(c, http.StatusOK, views.AddFromSourcePage(s.page(c, "Add a table · "+wb.Name, "workbooks"), v))
}

// remoteTablesFragment is the list of a data source's tables whose name
// contains ?search=, which the picker asks for as the person types.
func (s *Server) remoteTablesFragment(c echo.Context) error {
	if _, err := s.Workbooks.FindWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb")); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.PickTables(s.remoteTables(c, c.QueryParam("data_source_id"), c.QueryParam("search"))))
}

// remoteTables lists a data source's tables for the picker; a data source
// that fails says why in the list rather than failing the page.
func (s *Server) remoteTables(c echo.Context, dsID, search string) views.PickTablesView {
	v := views.PickTablesView{WorkbookID: c.Param("wb"), DataSourceID: dsID, Search: search, CSRFToken: csrfToken(c)}
	tables, err := s.DataSources.Tables(c.Request().Context(), mustUser(c).ID, dsID, search, pickTablesShown)
	if err != nil {
		v.Error = apperr.MessageOf(err)
		if apperr.KindOf(err) == apperr.Internal {
			c.Logger().Error(err)
			v.Error = "The tables could not be listed. Try again in a moment."
		}
		return v
	}
	v.Tables = tables
	return v
}

// addTableFromSource adds the chosen remote table to the workbook and opens
// its grid, where the pull that just started shows its progress.
func (s *Server) addTableFromSource(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	if _, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb")); err != nil {
		return err
	}
	t, _, err := s.Syncs.AddTable(ctx, u.ID, c.Param("wb"), syncs.AddTableInput{
		DataSourceID: c.FormValue("data_source_id"), RemoteTableID: c.FormValue("remote_table_id")})
	if err != nil {
		// The workbook is theirs: anything not found now is the data
		// source or its table, which the picker shows again.
		if k := apperr.KindOf(err); k != apperr.Invalid && k != apperr.Unavailable && k != apperr.NotFound {
			return err
		}
		s.flash(c, "error", "The table could not be added: "+apperr.MessageOf(err))
		return redirect(c, views.AddFromSourceURL(c.Param("wb"))+"?data_source_id="+c.FormValue("data_source_id"))
	}
	return redirect(c, views.TableURL(t.WorkbookID, t.ID))
}

// syncBarFor is the sync bar of a table from a data source: its source's
// name and the pull or publish that holds it now, if any.
func (s *Server) syncBarFor(c echo.Context, t workbooks.Table) *views.SyncBarView {
	if !t.Sourced() {
		return nil
	}
	ctx := c.Request().Context()
	u := mustUser(c)
	v := &views.SyncBarView{WorkbookID: t.WorkbookID, TableID: t.ID, Service: t.Source, LastPulledAt: t.LastPulledAt,
		ReadOnly: t.RemoteReadOnly, CSRFToken: csrfToken(c)}
	if t.DataSourceID != "" {
		if ds, err := s.DataSources.Get(ctx, u.ID, t.DataSourceID); err == nil {
			v.SourceName = ds.Name
		}
	}
	if t.SyncID != "" {
		if sy, err := s.Syncs.FindSync(ctx, u.ID, t.SyncID); err == nil {
			v.Status = views.SyncStatusOf(sy, t.ID)
		}
		return v
	}
	// Otherwise the outcome of its latest pull or publish, if recent
	// enough to be among the workbook's last few.
	if recent, err := s.Syncs.FindSyncs(ctx, u.ID, t.WorkbookID, "", recentSyncsLooked); err == nil {
		for _, sy := range recent {
			if slices.ContainsFunc(sy.Tables, func(st syncs.SyncTable) bool { return st.TableID == t.ID }) {
				v.Status = views.SyncStatusOf(sy, t.ID)
				break
			}
		}
	}
	return v
}

// attentionFor counts what waits on the person in a table from a data
// source: conflicts, records deleted at the source, failed publishes.
func (s *Server) attentionFor(c echo.Context, t workbooks.Table) (*views.AttentionView, error) {
	if !t.Sourced() {
		return nil, nil
	}
	p, err := s.Syncs.Preview(c.Request().Context(), mustUser(c).ID, t.WorkbookID, []string{t.ID}, 1)
	if err != nil {
		return nil, err
	}
	v := &views.AttentionView{WorkbookID: t.WorkbookID, TableID: t.ID, CSRFToken: csrfToken(c)}
	for _, tp := range p.Tables {
		v.Conflicts, v.SourceDeleted, v.Failed = tp.Conflicts, tp.SourceDeleted, tp.Failed
	}
	return v, nil
}

// gridAttention is a table's attention bar, fetched again as the table
// changes.
func (s *Server) gridAttention(c echo.Context) error {
	t, err := s.Workbooks.FindTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	v, err := s.attentionFor(c, t)
	if err != nil {
		return err
	}
	if v == nil {
		return c.HTML(http.StatusOK, "")
	}
	return render(c, http.StatusOK, views.SyncAttention(*v))
}

// startTablePull pulls one table again; htmx gets the table's sync status
// back, which live events then move along.
func (s *Server) startTablePull(c echo.Context) error {
	sy, err := s.Syncs.StartPull(c.Request().Context(), mustUser(c).ID, c.Param("wb"), []string{c.Param("t")})
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "info", "Pull started.")
		return redirect(c, views.TableURL(c.Param("wb"), c.Param("t")))
	}
	return render(c, http.StatusAccepted, views.SyncStatus(views.SyncStatusOf(sy, c.Param("t"))))
}

// syncFragment is a pull or publish as it stands, with its counts: with
// ?table=, that table's status (the grid's); without, the whole sync (the
// publish page's), and once it has ended the publish page reloads so its
// preview and history show what it did.
func (s *Server) syncFragment(c echo.Context) error {
	sy, err := s.Syncs.FindSync(c.Request().Context(), mustUser(c).ID, c.Param("sync"))
	if err != nil {
		return err
	}
	if sy.WorkbookID != c.Param("wb") {
		return apperr.New(apperr.NotFound, "Pull or publish not found.")
	}
	if table := c.QueryParam("table"); table != "" {
		status := views.SyncStatus(views.SyncStatusOf(sy, table))
		if !sy.Finished() {
			return render(c, http.StatusOK, status)
		}
		// The grid that asked saw it running: its rows and counters reload
		// now (sync-ended), once per viewer, and its record count and last
		// pull come along out of band. After-Swap, because htmx raises it
		// on the body when the element that asked was swapped away
		// meanwhile (by a live event), where plain HX-Trigger is lost.
		c.Response().Header().Set("HX-Trigger-After-Swap", "sync-ended, counters-changed")
		return s.renderSyncEnd(c, table, status)
	}
	if sy.Finished() {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return render(c, http.StatusOK, views.SyncRun(sy, false))
}

// renderSyncEnd answers a grid's status of an ended pull or publish with
// the table's last pull and its record count for the grid's view (read
// from the page's address), as out-of-band swaps.
func (s *Server) renderSyncEnd(c echo.Context, tableID string, status templ.Component) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), tableID)
	if err != nil {
		return render(c, http.StatusOK, status)
	}
	q := views.GridQuery{}
	if cur, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil {
		v := cur.Query()
		q = views.GridQuery{Filter: v.Get("filter"), Sort: v.Get("sort"), Has: v.Get("has"), Search: v.Get("q")}
	}
	rq := gridRecordQuery(t, q, "")
	rq.Limit = 1
	parts := []templ.Component{status, views.LastPulled(t.ID, t.LastPulledAt, true)}
	if page, err := s.Workbooks.FindRecordsIn(ctx, u.ID, t, rq); err == nil {
		parts = append(parts, views.RecordTotal(page.EstimatedTotal, page.TotalIsEstimate, page.TotalIsAtLeast, true))
	}
	return render(c, http.StatusOK, templ.Join(parts...))
}

// resolveCellConflict keeps mine or takes theirs for one cell and answers
// with its row.
func (s *Server) resolveCellConflict(c echo.Context) error {
	ct, err := s.findCell(c)
	if err != nil {
		return err
	}
	keepMine, err := keepChoice(c.FormValue("keep"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := mustUser(c)
	sel := workbooks.ConflictSelector{Cells: []workbooks.Cell{{RecordID: c.Param("r"), Field: ct.column.ID}}}
	if _, err := s.Workbooks.ResolveConflicts(ctx, u.ID, ct.table.WorkbookID, ct.table.ID, sel, keepMine); err != nil {
		return err
	}
	rec, err := s.Workbooks.FindRecordIn(ctx, u.ID, ct.table, c.Param("r"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("HX-Trigger", "counters-changed")
	return renderRow(c, http.StatusOK, ct.ctx, rec, views.CellState{})
}

func keepChoice(keep string) (bool, error) {
	switch keep {
	case "mine":
		return true, nil
	case "theirs":
		return false, nil
	}
	return false, apperr.InvalidFields("Say which value to keep.", apperr.FieldError{Field: "keep", Message: `must be "mine" or "theirs"`})
}

// resolveAllConflicts keeps mine or takes theirs in every conflict of a
// table and goes back to its grid.
func (s *Server) resolveAllConflicts(c echo.Context) error {
	keepMine, err := keepChoice(c.FormValue("keep"))
	if err != nil {
		return err
	}
	n, err := s.Workbooks.ResolveConflicts(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"),
		workbooks.ConflictSelector{All: true}, keepMine)
	if err != nil {
		return err
	}
	how := "took the source’s values"
	if keepMine {
		how = "kept your values; they are published next time"
	}
	s.flash(c, "success", "Settled "+strconv.Itoa(n)+" "+pluralWord(n, "conflict", "conflicts")+": "+how+".")
	return redirect(c, views.TableURL(c.Param("wb"), c.Param("t")))
}

func recreateChoice(action string) (bool, error) {
	switch action {
	case "recreate":
		return true, nil
	case "drop":
		return false, nil
	}
	return false, apperr.InvalidFields("Say what to do with the record.", apperr.FieldError{Field: "action", Message: `must be "recreate" or "drop"`})
}

// resolveRecordSourceDeleted re-creates at the source, or drops, one record
// the source deleted while it was edited here, and answers with its row
// (an empty one once dropped).
func (s *Server) resolveRecordSourceDeleted(c echo.Context) error {
	recreate, err := recreateChoice(c.FormValue("action"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := mustUser(c)
	t, err := s.Workbooks.FindTable(ctx, u.ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	if _, err := s.Workbooks.ResolveSourceDeleted(ctx, u.ID, t.WorkbookID, t.ID, []string{c.Param("r")}, false, recreate); err != nil {
		return err
	}
	c.Response().Header().Set("HX-Trigger", "counters-changed")
	rec, err := s.Workbooks.FindRecordIn(ctx, u.ID, t, c.Param("r"))
	if apperr.Is(err, apperr.NotFound) {
		return render(c, http.StatusOK, views.RemovedGridRow(c.Param("r")))
	}
	if err != nil {
		return err
	}
	return renderRow(c, http.StatusOK, views.NewGridContext(t), rec, views.CellState{})
}

// resolveAllSourceDeleted settles every record of a table deleted at the
// source while edited here, and goes back to its grid.
func (s *Server) resolveAllSourceDeleted(c echo.Context) error {
	recreate, err := recreateChoice(c.FormValue("action"))
	if err != nil {
		return err
	}
	n, err := s.Workbooks.ResolveSourceDeleted(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), nil, true, recreate)
	if err != nil {
		return err
	}
	how := "dropped"
	if recreate {
		how = "to be created again at the source on the next publish"
	}
	s.flash(c, "success", strconv.Itoa(n)+" "+pluralWord(n, "record", "records")+" "+how+".")
	return redirect(c, views.TableURL(c.Param("wb"), c.Param("t")))
}

// publishPage shows what a publish of the workbook would do, the publish
// named by ?sync= as it runs, and the past publishes.
//
// Publishing needs what the API's publish scope grants a token; a person
// signed in to the browser holds every scope of their own workbooks (the
// store refuses anyone else's), so ownership is the check.
func (s *Server) publishPage(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	wb, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb"))
	if err != nil {
		return err
	}
	v := views.PublishView{Workbook: wb, CSRFToken: csrfToken(c)}
	if v.Preview, err = s.Syncs.Preview(ctx, u.ID, wb.ID, nil, syncs.DefaultPreviewItems); err != nil {
		return err
	}
	if id := c.QueryParam("sync"); id != "" {
		if sy, err := s.Syncs.FindSync(ctx, u.ID, id); err == nil && sy.WorkbookID == wb.ID {
			v.Running = &sy
		}
	}
	if v.History, err = s.Syncs.FindSyncs(ctx, u.ID, wb.ID, syncs.KindPublish, publishHistoryShown); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.PublishPage(s.page(c, "Publish · "+wb.Name, "workbooks"), v))
}

// startPublish publishes the changes of every table of the workbook that
// can be published, and follows it on the publish page.
func (s *Server) startPublish(c echo.Context) error {
	sy, err := s.Syncs.StartPublish(c.Request().Context(), mustUser(c).ID, c.Param("wb"), nil)
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Locked) {
		s.flash(c, "error", apperr.MessageOf(err))
		return redirect(c, views.PublishURL(c.Param("wb")))
	}
	if err != nil {
		return err
	}
	return redirect(c, views.PublishURL(c.Param("wb"))+"?sync="+sy.ID)
}

// revertPublish proposes, as suggestions, the values a publish overwrote
// at the source, and says where to review them.
func (s *Server) revertPublish(c echo.Context) error {
	n, err := s.Syncs.RevertPublish(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("p"))
	if apperr.Is(err, apperr.Conflict) {
		s.flash(c, "error", apperr.MessageOf(err))
		return redirect(c, views.PublishURL(c.Param("wb")))
	}
	if err != nil {
		return err
	}
	total := n.Updates + n.Creates + n.Deletes
	if total == 0 {
		s.flash(c, "info", "Nothing to revert: the records this publish changed are gone.")
	} else {
		s.flash(c, "success", "Proposed "+strconv.Itoa(total)+" "+pluralWord(total, "suggestion", "suggestions")+
			" that undo this publish. Review them in the grid (accept them), then publish again.")
	}
	return redirect(c, views.PublishURL(c.Param("wb")))
}

// RenderSyncEvent renders a pull's or publish's progress on a workbook's
// topic: per table, its status for the grids (sync-table-{table}), and the
// whole sync for the publish page (sync-{sync}). Once it has ended, the
// status each viewer is shown fetches itself whole (syncFragment), which
// reloads that viewer's rows and counters. It reports
// false for other events (the owner's copy of the event is left to other
// renderers). Plug it into EventRendererDeps.Extra.
func RenderSyncEvent(ctx context.Context, ev events.Event) ([]events.Message, bool) {
	if ev.Type != syncs.EventProgress || !isWorkbookTopic(ev.Topic) {
		return nil, false
	}
	p, err := syncs.ProgressFromEvent(ev.Data)
	if err != nil || p.SyncID == "" {
		return nil, true
	}
	var msgs []events.Message
	sy := syncs.Sync{ID: p.SyncID, WorkbookID: p.WorkbookID, Kind: p.Kind, Status: p.Status, Error: p.Error}
	for _, tp := range p.Tables {
		sy.Tables = append(sy.Tables, syncs.SyncTable{TableID: tp.TableID, Phase: tp.Phase, Done: tp.Done, Total: tp.Total,
			Conflicts: tp.Conflicts, Failed: tp.Failed})
		frag, err := renderFragment(ctx, views.SyncStatus(views.SyncStatusFromProgress(p, tp.TableID)))
		if err != nil {
			continue
		}
		msgs = append(msgs, events.Message{Name: views.SyncTableEventName(tp.TableID), Data: frag})
	}
	if frag, err := renderFragment(ctx, views.SyncRun(sy, true)); err == nil {
		msgs = append(msgs, events.Message{Name: views.SyncEventName(p.SyncID), Data: frag})
	}
	return msgs, true
}

func isWorkbookTopic(topic string) bool { return strings.HasPrefix(topic, "workbook:") }
