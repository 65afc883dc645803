package handlers_test

import (
	"net/http"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
)

// The tests in this file pin down what TestAPIWalkRefusesHostileRequests
// found, each where it is easy to read and to debug.

// TestQueryTextMustBeStorable checks that query parameters PostgreSQL
// cannot compare (NUL characters, invalid UTF-8) are invalid input, in the
// API and on pages, rather than a failed query.
func TestQueryTextMustBeStorable(t *testing.T) {
	t.Parallel()
	inst, browser, _ := mustAdminInstance(t)
	api := newAPIClient(t, inst)
	_, token := MustUserWithToken(t, inst, "search@example.com", true, accounts.ScopeAdmin)
	for _, q := range []string{"%00", "a%FFb"} {
		p := MustProblem(t, api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/admin/users?q=" + q, token: token}),
			http.StatusUnprocessableEntity, "invalid_input")
		if fieldNames(p) != "q" {
			t.Errorf("q=%s: errors %+v", q, p.Errors)
		}
		if r := browser.Get("/admin/users?q=" + q); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("admin page with q=%s: status %d", q, r.Status)
		}
	}
}
