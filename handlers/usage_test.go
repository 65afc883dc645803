package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apptest"
)

// mustAgentTurn writes an ended agent turn with its usage in a new session
// of a new workbook of the owner's, as the agent leaves it.
func mustAgentTurn(t *testing.T, inst *apptest.Instance, ownerID, title, model string, in, out int64, cost float64) string {
	t.Helper()
	ctx := context.Background()
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, ownerID, title+" workbook")
	if err != nil {
		t.Fatal(err)
	}
	se, err := inst.App.Agent.CreateSession(ctx, ownerID, wb.ID, title)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Pool.Exec(ctx, `INSERT INTO agent_messages (session_id, role, model, tokens_in, tokens_out, cost, status, created_at)
		VALUES ($1, 'assistant', $2, $3, $4, $5, 'done', $6)`, se.ID, model, in, out, cost, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	return wb.ID
}

// TestUsagePages: each user sees their own agent usage on /usage, with its
// chart (an SVG with a title and description) and tables; only admins open
// /admin/usage, which lists everyone and filters to one user.
func TestUsagePages(t *testing.T) {
	t.Parallel()
	inst, admin, adminUser := mustAdminInstance(t)
	user := inst.NewBrowser(t)
	user.MustSignUp("usage-user@example.com", adminPassword)
	u := mustFindUser(t, inst, "usage-user@example.com")
	wbID := mustAgentTurn(t, inst, u.ID, "Titles", "fake/model", 1200, 34, 0.25)
	mustAgentTurn(t, inst, adminUser.ID, "Admin's", "fake/big", 5000, 500, 1.5)

	r := user.Get("/usage")
	if r.Status != http.StatusOK {
		t.Fatalf("/usage: %d", r.Status)
	}
	if got := r.TestID("usage-total-cost").Text(); got != "$0.25" {
		t.Errorf("total cost %q, want $0.25 (the user's own only)", got)
	}
	if got := r.TestID("usage-total-in").Text(); got != "1,200" {
		t.Errorf("tokens in %q", got)
	}
	svg := r.TestID("usage-chart").Find("svg")
	if svg.AttrOr("role", "") != "img" || !strings.Contains(svg.Find("title").First().Text(), "cost per day") || svg.Find("desc").Text() == "" {
		t.Errorf("the chart has no accessible title and description")
	}
	if n := r.TestID("usage-bar").Length(); n != 30 {
		t.Errorf("%d bars, want 30 (the default period)", n)
	}
	if rows := r.TestID("usage-session-row"); rows.Length() != 1 || !strings.Contains(rows.Text(), "Titles") ||
		rows.Find("a").AttrOr("href", "") != "/workbooks/"+wbID {
		t.Errorf("session rows: %q", rows.Text())
	}
	if rows := r.TestID("usage-model-row"); rows.Length() != 1 || !strings.Contains(rows.Text(), "fake/model") {
		t.Errorf("model rows: %q", rows.Text())
	}
	if r.TestID("usage-users").Length() != 0 || strings.Contains(r.Body, "admin@example.com") {
		t.Error("a user's page shows other users")
	}
	if r := user.Get("/usage?days=7"); r.TestID("usage-bar").Length() != 7 {
		t.Errorf("?days=7 shows %d bars", r.TestID("usage-bar").Length())
	}

	for _, path := range []string{"/admin/usage", "/admin/usage?user=" + u.ID} {
		if r := user.Get(path); r.Status != http.StatusForbidden {
			t.Errorf("a user GET %s: %d, want 403", path, r.Status)
		}
	}

	all := admin.Get("/admin/usage")
	if all.Status != http.StatusOK {
		t.Fatalf("/admin/usage: %d", all.Status)
	}
	if got := all.TestID("usage-total-cost").Text(); got != "$1.75" {
		t.Errorf("everyone's cost %q, want $1.75", got)
	}
	if rows := all.TestID("usage-user-row"); rows.Length() != 2 || !strings.Contains(rows.First().Text(), "admin@example.com") {
		t.Errorf("user rows: %q", rows.Text())
	}
	one := admin.Get("/admin/usage?user=" + u.ID)
	if got := one.TestID("usage-total-cost").Text(); got != "$0.25" {
		t.Errorf("one user's cost %q, want $0.25", got)
	}
	if !strings.Contains(one.TestID("usage-title").Text(), "usage-user@example.com") {
		t.Errorf("the filtered page does not name the user: %q", one.TestID("usage-title").Text())
	}
	if r := admin.Get("/admin/usage?user=00000000-0000-0000-0000-000000000000"); r.Status != http.StatusNotFound {
		t.Errorf("an unknown user: %d, want 404", r.Status)
	}
}
