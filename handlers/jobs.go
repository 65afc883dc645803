package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/jobs"
	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/views"
)

// ownJobView is what the Jobs page shows of one of the person's jobs.
func ownJobView(j jobs.OwnedJob, csrf string) views.OwnJobView {
	v := views.OwnJobView{
		ID: j.ID, What: j.Kind, State: j.State, AttemptErrors: j.Errors,
		CreatedAt: j.CreatedAt, StartedAt: j.AttemptedAt, FinishedAt: j.FinalizedAt,
		Cancellable: j.Cancellable(), Retryable: j.Retryable(), CSRFToken: csrf,
	}
	if p, ok := j.Progress(); ok {
		v.HasProgress, v.Done, v.Total, v.Unit = true, p.Done, p.Total, p.Unit
	}
	switch {
	case j.Import != nil:
		v.What, v.Subject, v.WorkbookID, v.State, v.Error = "Import", j.Import.Filename, j.Import.WorkbookID, j.Import.Status, j.Import.Error
		if j.Import.FinishedAt != nil {
			v.FinishedAt = j.Import.FinishedAt
		}
	case j.Sync != nil:
		sy := j.Sync
		v.What = "Pull"
		if sy.Kind == syncs.KindPublish {
			v.What = "Publish"
		}
		names := make([]string, 0, len(sy.Tables))
		for _, t := range sy.Tables {
			names = append(names, t.TableName)
		}
		v.Subject, v.WorkbookID, v.State, v.Error = strings.Join(names, ", "), sy.WorkbookID, sy.Status, sy.Error
		if sy.StartedAt != nil {
			v.StartedAt = sy.StartedAt
		}
		if sy.FinishedAt != nil {
			v.FinishedAt = sy.FinishedAt
		}
	}
	return v
}

// jobsPage lists the person's own jobs, newest first.
func (s *Server) jobsPage(c echo.Context) error {
	page, err := s.Jobs.FindOwnedJobs(c.Request().Context(), mustUser(c).ID, jobs.OwnedJobFilter{Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	l := views.OwnJobsList{NextCursor: page.NextCursor}
	for _, j := range page.Jobs {
		l.Jobs = append(l.Jobs, ownJobView(j, csrfToken(c)))
	}
	return render(c, http.StatusOK, views.JobsPage(s.page(c, "Jobs", "jobs"), l))
}

// cancelOwnJob cancels one of the person's jobs and answers with its item
// (htmx) or the list.
func (s *Server) cancelOwnJob(c echo.Context) error {
	j, err := s.Jobs.CancelOwnedJob(c.Request().Context(), mustUser(c).ID, c.Param("job"))
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Job "+strconv.FormatInt(j.ID, 10)+" is "+ownJobView(j, "").State+".")
		return redirect(c, "/jobs")
	}
	return render(c, http.StatusOK, views.OwnJobItem(ownJobView(j, csrfToken(c))))
}

// retryOwnJob starts a failed pull or publish again as a new job.
func (s *Server) retryOwnJob(c echo.Context) error {
	j, err := s.Jobs.RetryOwnedJob(c.Request().Context(), mustUser(c).ID, c.Param("job"))
	if err != nil {
		return err
	}
	s.flash(c, "success", ownJobView(j, "").What+" started again as job "+strconv.FormatInt(j.ID, 10)+".")
	return redirect(c, "/jobs")
}
