package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/jobs"
)

// apiJob is a background job as the user who started it sees it.
type apiJob struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	State       string   `json:"state"`
	Attempt     int      `json:"attempt"`
	MaxAttempts int      `json:"max_attempts"`
	CreatedAt   string   `json:"created_at"`
	AttemptedAt *string  `json:"attempted_at"`
	FinalizedAt *string  `json:"finalized_at"`
	Errors      []string `json:"errors"`
	// Progress is null for kinds that do not report it.
	Progress *apiJobProgress `json:"progress"`
	// Result is null until the job's work has ended (an import's upload is
	// done, failed or cancelled, which can precede the River state by a
	// moment), and for kinds without one.
	Result *apiImportResult `json:"result"`
	// Sync is a pull or publish job's sync; null for other kinds.
	Sync *apiSync `json:"sync"`
}

// apiJobProgress is how far a job has got: done of total units.
type apiJobProgress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit"`
	// Rows is the number of rows imported so far; imports only.
	Rows *int64 `json:"rows,omitempty"`
}

// apiImportResult is what became of a finished import.
type apiImportResult struct {
	Status       string       `json:"status"`
	UploadID     string       `json:"upload_id"`
	WorkbookID   string       `json:"workbook_id"`
	TableID      string       `json:"table_id"`
	RowsImported int64        `json:"rows_imported"`
	RowsRejected int64        `json:"rows_rejected"`
	CellErrors   int64        `json:"cell_errors"`
	Error        *string      `json:"error"`
	Problems     []apiProblem `json:"problems"`
}

func newAPIJob(j jobs.OwnedJob) apiJob {
	out := apiJob{
		ID: strconv.FormatInt(j.ID, 10), Kind: j.Kind, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		CreatedAt: apiTime(j.CreatedAt), AttemptedAt: apiTimeOrNull(j.AttemptedAt), FinalizedAt: apiTimeOrNull(j.FinalizedAt),
		Errors: j.Errors,
	}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	if p, ok := j.Progress(); ok {
		out.Progress = &apiJobProgress{Done: p.Done, Total: p.Total, Unit: p.Unit}
		if j.Import != nil {
			rows := j.Import.RowsImported
			out.Progress.Rows = &rows
		}
	}
	if j.Import != nil && j.Import.Finished() {
		out.Result = newAPIImportResult(*j.Import)
	}
	if j.Sync != nil {
		sy := newAPISync(*j.Sync)
		out.Sync = &sy
	}
	return out
}

func newAPIImportResult(imp imports.Upload) *apiImportResult {
	out := &apiImportResult{
		Status: imp.Status, UploadID: imp.ID, WorkbookID: imp.WorkbookID, TableID: imp.TableID,
		RowsImported: imp.RowsImported, RowsRejected: imp.RowsRejected, CellErrors: imp.CellErrors,
		Problems: newAPIProblems(imp.Problems),
	}
	if imp.Error != "" {
		out.Error = &imp.Error
	}
	return out
}

// apiJobList is one page of the caller's jobs.
type apiJobList struct {
	Items      []apiJob `json:"items"`
	NextCursor *string  `json:"next_cursor"`
}

// apiListJobs lists the jobs the caller started, newest first. System jobs
// (index builds, purges) are no one's and never listed.
func (s *Server) apiListJobs(c echo.Context) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	page, err := s.Jobs.FindOwnedJobs(c.Request().Context(), mustUser(c).ID, jobs.OwnedJobFilter{Cursor: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := apiJobList{Items: make([]apiJob, 0, len(page.Jobs))}
	for _, j := range page.Jobs {
		out.Items = append(out.Items, newAPIJob(j))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiGetJob shows one of the caller's jobs with its progress and result.
func (s *Server) apiGetJob(c echo.Context) error {
	j, err := s.Jobs.FindOwnedJob(c.Request().Context(), mustUser(c).ID, c.Param("job"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIJob(j))
}

// apiCancelJob cancels one of the caller's jobs and shows it as it is then:
// cancelled when it was waiting, still running when it was told to stop.
func (s *Server) apiCancelJob(c echo.Context) error {
	j, err := s.Jobs.CancelOwnedJob(c.Request().Context(), mustUser(c).ID, c.Param("job"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIJob(j))
}
