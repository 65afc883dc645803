package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
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
	list := views.AdminJobList{State: state, States: jobs.States()}
	for _, j := range found {
		list.Rows = append(list.Rows, views.AdminJobRow{Job: jobView(j), CSRFToken: csrfToken(c)})
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
	return render(c, http.StatusOK, views.AdminJobTableRow(views.AdminJobRow{Job: jobView(j), CSRFToken: csrfToken(c)}))
}

// jobView is what the admin list shows of a job.
func jobView(j jobs.Job) views.JobView {
	return views.JobView{
		ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: j.State, Attempt: j.Attempt,
		MaxAttempts: j.MaxAttempts, Errors: j.Errors, CreatedAt: j.CreatedAt, Cancellable: j.Cancellable(),
	}
}
