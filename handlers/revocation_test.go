package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
)

// memberPassword is the password of every account these tests create.
const memberPassword = "correct horse battery"

func TestDisablingRevokesAPITokensForGood(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	admin := inst.NewBrowser(t)
	admin.MustSignUp("admin@example.com", memberPassword)
	api := newAPIClient(t, inst)
	u, secret := MustUserWithToken(t, inst, "tokens@example.com", false, accounts.ScopeRead)
	me := func(token string) int {
		return api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/me", token: token}).Status
	}
	if got := me(secret); got != http.StatusOK {
		t.Fatalf("before disabling: %d", got)
	}
	setDisabled := func(disabled string) {
		t.Helper()
		admin.Get("/admin/users")
		if r := admin.Send(http.MethodPost, "/admin/users/"+u.ID+"/disabled", url.Values{"disabled": {disabled}}, true); r.Status != http.StatusOK {
			t.Fatalf("disabled=%s: %d", disabled, r.Status)
		}
	}
	setDisabled("true")
	if got := me(secret); got != http.StatusUnauthorized {
		t.Fatalf("while disabled: %d", got)
	}
	setDisabled("false")
	if got := me(secret); got != http.StatusUnauthorized {
		t.Fatalf("after re-enabling: the old token answered %d, want 401", got)
	}
	if tokens, err := inst.App.Accounts.ListTokens(context.Background(), u.ID); err != nil || len(tokens) != 0 {
		t.Errorf("tokens listed after re-enabling: %v %v", tokens, err)
	}
	if got := me(MustToken(t, inst, u, accounts.TokenInput{Name: "new", Scopes: []accounts.Scope{accounts.ScopeRead}})); got != http.StatusOK {
		t.Errorf("a token made after re-enabling: %d", got)
	}
	log, err := inst.App.Accounts.AuditLog(context.Background(), u.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(log, func(e accounts.AuditEntry) bool { return e.Action == "user.credentials_revoked" })
	if i < 0 || log[i].After["api_tokens"] != float64(1) || log[i].ActorEmail != "admin@example.com" {
		t.Errorf("no audit entry for the revoked token: %+v", log)
	}
}
