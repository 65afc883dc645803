package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/views"
)

// adminJobs lists the most recent background jobs, optionally in one state.
func (s *Server) adminJobs(c echo.Context) error {
	state := c.QueryParam("state")
	found, err := s.Jobs.FindJobs(c.Request().Context(), jobs.JobFilter{State: state, Limit: 100})
	if err != nil {
		return err
	}
	uploads, err := s.uploadsOf(c, found)
	if err != nil {
		return err
	}
	list := views.AdminJobList{State: state, States: jobs.States()}
	for _, j := range found {
		list.Rows = append(list.Rows, views.AdminJobRow{Job: describeJob(jobView(j), j, uploads), CSRFToken: csrfToken(c)})
	}
	return render(c, http.StatusOK, views.AdminJobsPage(s.page(c, "Jobs", "admin-jobs"), list))
}

// adminCancelJob cancels a job and answers with its row (htmx) or a
// redirect back to the list.
func (s *Server) adminCancelJob(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "Job not found.")
	}
	j, err := s.Jobs.CancelJob(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Job "+strconv.FormatInt(j.ID, 10)+" is "+j.State+".")
		return redirect(c, "/admin/jobs")
	}
	uploads, err := s.uploadsOf(c, []jobs.Job{j})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AdminJobTableRow(views.AdminJobRow{Job: describeJob(jobView(j), j, uploads), CSRFToken: csrfToken(c)}))
}

// jobView is what the admin list shows of a job.
func jobView(j jobs.Job) views.JobView {
	return views.JobView{
		ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: j.State, Attempt: j.Attempt,
		MaxAttempts: j.MaxAttempts, Errors: j.Errors, CreatedAt: j.CreatedAt, Cancellable: j.Cancellable(),
	}
}

// jobNames are the kinds of job as people call them.
var jobNames = map[string]string{
	"import_csv":          "CSV import",
	"pull":                "Pull from a data source",
	"publish":             "Publish to a data source",
	"build_record_index":  "Index for sorting and filtering",
	"drop_record_indexes": "Removal of unused indexes",
	"purge_expired":       "Clean-up of expired data",
}

// indexKindNames name the kinds of on-demand index.
var indexKindNames = map[string]string{"asc": "ascending sort and filters", "desc": "descending sort", "trgm": "text search"}

// uploadsOf reads the uploads of the import jobs among found, in one query.
func (s *Server) uploadsOf(c echo.Context, found []jobs.Job) (map[int64]imports.Upload, error) {
	if s.Imports == nil {
		return nil, nil
	}
	var ids []int64
	for _, j := range found {
		if j.Kind == "import_csv" {
			ids = append(ids, j.ID)
		}
	}
	return s.Imports.FindUploadsOfJobs(c.Request().Context(), ids)
}

// describeJob gives v a name and a line of detail from the job's arguments
// (and, for an import, its upload in uploads). Detail that cannot be read
// is left out: the kind and the id still identify the job.
func describeJob(v views.JobView, j jobs.Job, uploads map[int64]imports.Upload) views.JobView {
	v.Name = jobNames[j.Kind]
	if v.Name == "" {
		v.Name = strings.ReplaceAll(j.Kind, "_", " ")
	}
	var args struct {
		TableID  string `json:"table_id"`
		ColumnID string `json:"column_id"`
		Kind     string `json:"kind"`
		SyncID   string `json:"sync_id"`
	}
	_ = json.Unmarshal(j.Args, &args)
	switch j.Kind {
	case "import_csv":
		if u, ok := uploads[j.ID]; ok {
			v.Detail = fmt.Sprintf("%s (%s): %d rows imported, %d rejected; import %s", u.Filename, imports.ByteSize(u.SizeBytes), u.RowsImported, u.RowsRejected, u.Status)
		}
	case "build_record_index":
		v.Detail = fmt.Sprintf("Column %s of table %s, for %s", args.ColumnID, args.TableID, indexKindNames[args.Kind])
	case "pull", "publish":
		if args.SyncID != "" {
			v.Detail = "Sync " + args.SyncID
		}
	}
	return v
}
