package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// apiSync is a pull or a publish with its tables' progress.
type apiSync struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind"`
	Status     string         `json:"status"`
	WorkbookID string         `json:"workbook_id"`
	JobID      string         `json:"job_id"`
	Error      *string        `json:"error"`
	CreatedAt  string         `json:"created_at"`
	StartedAt  *string        `json:"started_at"`
	FinishedAt *string        `json:"finished_at"`
	Tables     []apiSyncTable `json:"tables"`
}

// apiSyncTable is one table of a sync.
type apiSyncTable struct {
	TableID   string  `json:"table_id"`
	TableName string  `json:"table_name"`
	Phase     string  `json:"phase"`
	Done      int64   `json:"done"`
	Total     *int64  `json:"total"`
	Created   int     `json:"created"`
	Updated   int     `json:"updated"`
	Deleted   int     `json:"deleted"`
	Conflicts int     `json:"conflicts"`
	Failed    int     `json:"failed"`
	Error     *string `json:"error"`
}

func newAPISync(sy syncs.Sync) apiSync {
	out := apiSync{ID: sy.ID, Kind: sy.Kind, Status: sy.Status, WorkbookID: sy.WorkbookID, JobID: strconv.FormatInt(sy.JobID, 10),
		Error: nullString(sy.Error), CreatedAt: apiTime(sy.CreatedAt), StartedAt: apiTimeOrNull(sy.StartedAt),
		FinishedAt: apiTimeOrNull(sy.FinishedAt), Tables: make([]apiSyncTable, 0, len(sy.Tables))}
	for _, t := range sy.Tables {
		at := apiSyncTable{TableID: t.TableID, TableName: t.TableName, Phase: t.Phase, Done: t.Done, Created: t.Created,
			Updated: t.Updated, Deleted: t.Deleted, Conflicts: t.Conflicts, Failed: t.Failed, Error: nullString(t.Error)}
		if t.Total >= 0 {
			total := t.Total
			at.Total = &total
		}
		out.Tables = append(out.Tables, at)
	}
	return out
}

// apiSyncStarted is the 202 that starts a pull or a publish.
type apiSyncStarted struct {
	Job  apiImportJob `json:"job"`
	Sync apiSync      `json:"sync"`
}

func newAPISyncStarted(sy syncs.Sync) apiSyncStarted {
	return apiSyncStarted{Job: apiImportJob{ID: strconv.FormatInt(sy.JobID, 10), Kind: sy.Kind}, Sync: newAPISync(sy)}
}

// apiAddTableFromSource adds a table of a data source to a workbook and
// starts its pull: the JSON form of POST /workbooks/{wb}/tables.
func (s *Server) apiAddTableFromSource(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var req struct {
			DataSourceID  string `json:"data_source_id" required:"true"`
			RemoteTableID string `json:"remote_table_id" required:"true"`
		}
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		t, sy, err := s.Syncs.AddTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"),
			syncs.AddTableInput{DataSourceID: req.DataSourceID, RemoteTableID: req.RemoteTableID})
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusAccepted, struct {
			Table apiTable `json:"table"`
			apiSyncStarted
		}{Table: newAPITable(t), apiSyncStarted: newAPISyncStarted(sy)})
	})(c)
}

// tableIDsRequest names some tables of a workbook; none means all of its
// tables from data sources.
type tableIDsRequest struct {
	TableIDs []string `json:"table_ids"`
}

// apiStartPull starts pulling tables of a workbook.
func (s *Server) apiStartPull(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var req tableIDsRequest
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		sy, err := s.Syncs.StartPull(c.Request().Context(), mustUser(c).ID, c.Param("wb"), req.TableIDs)
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusAccepted, newAPISyncStarted(sy))
	})(c)
}

// apiStartPublish starts publishing the changes of tables of a workbook.
func (s *Server) apiStartPublish(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var req tableIDsRequest
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		sy, err := s.Syncs.StartPublish(c.Request().Context(), mustUser(c).ID, c.Param("wb"), req.TableIDs)
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusAccepted, newAPISyncStarted(sy))
	})(c)
}

// apiPublishPreview is what a publish would do, per table.
type apiPublishPreview struct {
	Tables []apiTablePreview `json:"tables"`
}

type apiTablePreview struct {
	TableID       string             `json:"table_id"`
	TableName     string             `json:"table_name"`
	ReadOnly      *string            `json:"read_only"`
	Busy          bool               `json:"busy"`
	Creates       int                `json:"creates"`
	Updates       int                `json:"updates"`
	Deletes       int                `json:"deletes"`
	Conflicts     int                `json:"conflicts"`
	SourceDeleted int                `json:"source_deleted"`
	Failed        int                `json:"failed"`
	Items         apiTablePreviewSet `json:"items"`
}

// apiTablePreviewSet lists the first changes of each kind.
type apiTablePreviewSet struct {
	Creates   []apiRecord        `json:"creates"`
	Updates   []apiPreviewUpdate `json:"updates"`
	Deletes   []apiRecord        `json:"deletes"`
	Attention []apiRecord        `json:"attention"`
}

// apiPreviewUpdate is one field an update would write.
type apiPreviewUpdate struct {
	RecordID string `json:"record_id"`
	RemoteID string `json:"remote_id"`
	Field    string `json:"field"`
	Pulled   any    `json:"pulled"`
	Now      any    `json:"now"`
}

// maxTableIDs caps the tables one publish preview names.
const maxTableIDs = 100

// apiPublishPreview answers GET /workbooks/{wb}/publish-preview.
func (s *Server) apiPublishPreview(c echo.Context) error {
	var tableIDs []string
	if v := c.QueryParam("table_ids"); v != "" {
		tableIDs = strings.Split(v, ",")
		if len(tableIDs) > maxTableIDs || slices.Contains(tableIDs, "") {
			return apperr.InvalidFields("List table ids separated by commas.",
				apperr.FieldError{Field: "table_ids", Message: fmt.Sprintf("must be 1 to %d table ids separated by commas", maxTableIDs)})
		}
	}
	items, err := optionalLimit(c, "limit", syncs.DefaultPreviewItems, 1000)
	if err != nil {
		return err
	}
	p, err := s.Syncs.Preview(c.Request().Context(), mustUser(c).ID, c.Param("wb"), tableIDs, items)
	if err != nil {
		return err
	}
	out := apiPublishPreview{Tables: make([]apiTablePreview, 0, len(p.Tables))}
	for _, tp := range p.Tables {
		t := tp.Table
		at := apiTablePreview{TableID: t.ID, TableName: t.Name, ReadOnly: nullString(tp.ReadOnly), Busy: tp.Busy,
			Creates: tp.Creates, Updates: tp.Updates, Deletes: tp.Deletes, Conflicts: tp.Conflicts,
			SourceDeleted: tp.SourceDeleted, Failed: tp.Failed,
			Items: apiTablePreviewSet{Creates: newAPIRecords(t, tp.CreateRecords), Updates: []apiPreviewUpdate{},
				Deletes: newAPIRecords(t, tp.DeleteRecords), Attention: newAPIRecords(t, tp.Attention)}}
		for _, u := range tp.UpdateCells {
			at.Items.Updates = append(at.Items.Updates, apiPreviewUpdate{RecordID: u.Record.ID, RemoteID: u.Record.RemoteID,
				Field: u.Column.Name, Pulled: u.Pulled, Now: u.Now})
		}
		out.Tables = append(out.Tables, at)
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiListPublishes lists a workbook's publishes, newest first.
func (s *Server) apiListPublishes(c echo.Context) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.Workbooks.FindWorkbook(ctx, mustUser(c).ID, c.Param("wb")); err != nil {
		return err
	}
	list, err := s.Syncs.FindSyncs(ctx, mustUser(c).ID, c.Param("wb"), syncs.KindPublish, limit)
	if err != nil {
		return err
	}
	out := struct {
		Items      []apiSync `json:"items"`
		NextCursor *string   `json:"next_cursor"`
	}{Items: make([]apiSync, 0, len(list))}
	for _, sy := range list {
		out.Items = append(out.Items, newAPISync(sy))
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiRevertPublish proposes, as suggestions, the values a publish
// overwrote at the source.
func (s *Server) apiRevertPublish(c echo.Context) error {
	n, err := s.Syncs.RevertPublish(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("p"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPISuggestionCounts(n))
}

// apiResolveConflicts settles conflicts of a table: keep mine or take
// theirs.
func (s *Server) apiResolveConflicts(c echo.Context) error {
	var req struct {
		All   bool         `json:"all"`
		Cells []apiCellRef `json:"cells"`
		Keep  string       `json:"keep" required:"true"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	keepMine, err := keepChoice(req.Keep)
	if err != nil {
		return err
	}
	sel := workbooks.ConflictSelector{All: req.All}
	for _, cell := range req.Cells {
		sel.Cells = append(sel.Cells, workbooks.Cell{RecordID: cell.RecordID, Field: cell.Field})
	}
	n, err := s.Workbooks.ResolveConflicts(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), sel, keepMine)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, map[string]int{"resolved": n})
}

// apiCellRef names one cell.
type apiCellRef struct {
	RecordID string `json:"record_id" required:"true"`
	Field    string `json:"field" required:"true"`
}

// apiResolveSourceDeleted settles records the source deleted while they
// were edited here: re-create them on the next publish, or drop them.
func (s *Server) apiResolveSourceDeleted(c echo.Context) error {
	var req struct {
		All       bool     `json:"all"`
		RecordIDs []string `json:"record_ids"`
		Action    string   `json:"action" required:"true"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	recreate, err := recreateChoice(req.Action)
	if err != nil {
		return err
	}
	n, err := s.Workbooks.ResolveSourceDeleted(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), req.RecordIDs, req.All, recreate)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, map[string]int{"resolved": n})
}
