package handlers

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/agent"
	"github.com/scratchpad/scratchpad/views"
)

// defaultUsageDays is the period the usage page opens with.
const defaultUsageDays = 30

// usageDays reads ?days=, one of the periods the page offers.
func usageDays(c echo.Context) int {
	d, err := strconv.Atoi(c.QueryParam("days"))
	if err != nil || !slices.Contains(agent.UsagePeriods, d) {
		return defaultUsageDays
	}
	return d
}

// usagePage shows the signed-in user's agent usage: tokens and cost by
// day, model and session.
func (s *Server) usagePage(c echo.Context) error {
	if s.Agent == nil {
		return echo.ErrNotFound
	}
	days := usageDays(c)
	r, err := s.Agent.Usage(c.Request().Context(), agent.UsageQuery{OwnerID: mustUser(c).ID, Days: days})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.UsagePage(s.page(c, "Agent usage", "usage"), views.UsageView{Report: r, Days: days}))
}

// adminUsage shows everyone's agent usage, or one user's (?user=), to
// admins (the route's middleware turns others away).
func (s *Server) adminUsage(c echo.Context) error {
	if s.Agent == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	days := usageDays(c)
	v := views.UsageView{Days: days, Admin: true}
	if id := c.QueryParam("user"); id != "" {
		u, err := s.Accounts.FindUserByID(ctx, id)
		if err != nil {
			return err
		}
		v.UserID, v.UserEmail = u.ID, u.Email
	}
	r, err := s.Agent.Usage(ctx, agent.UsageQuery{OwnerID: v.UserID, All: true, Days: days})
	if err != nil {
		return err
	}
	v.Report = r
	return render(c, http.StatusOK, views.UsagePage(s.page(c, "Agent usage", "admin-usage"), v))
}
