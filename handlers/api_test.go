package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
)

// problemBody is the problem+json document every API error carries.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// MustProblem asserts r is a problem+json error with status and code.
func MustProblem(t testing.TB, r *apiResponse, status int, code string) problemBody {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p problemBody
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, r.Body)
	}
	if p.Code != code || p.Status != status {
		t.Errorf("problem code %q status %d, want %q %d", p.Code, p.Status, code, status)
	}
	return p
}

// MustDecode asserts r has status and decodes its JSON body into v.
func MustDecode(t testing.TB, r *apiResponse, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body: %v: %s", err, r.Body)
	}
}

// mustUTC asserts s is an RFC 3339 timestamp in UTC.
func mustUTC(t testing.TB, name, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Errorf("%s %q is not an RFC 3339 UTC timestamp", name, s)
	}
	return at
}

type meBody struct {
	ID, Email, Name, Role string
}

type adminUserBody struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"created_at"`
}

type userListBody struct {
	Items      []adminUserBody `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func TestAPIMe(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	api := newAPIClient(t, inst)
	u, token := MustUserWithToken(t, inst, "me@example.com", true, accounts.ScopeRead)

	r := api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/me", token: token})
	var me meBody
	MustDecode(t, r, http.StatusOK, &me)
	if me != (meBody{ID: u.ID, Email: "me@example.com", Name: "", Role: "admin"}) {
		t.Errorf("me = %+v", me)
	}
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if r.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
}

func TestAPIUnauthorized(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	api := newAPIClient(t, inst)
	ctx := context.Background()
	admin, _ := MustUserWithToken(t, inst, "admin@example.com", true, accounts.ScopeRead)

	revokedTok, revoked, err := inst.App.Accounts.CreateToken(ctx, admin, accounts.TokenInput{Name: "revoked", Scopes: []accounts.Scope{accounts.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Accounts.RevokeToken(ctx, admin.ID, revokedTok.ID); err != nil {
		t.Fatal(err)
	}

	expiredTok, expired, err := inst.App.Accounts.CreateToken(ctx, admin, accounts.TokenInput{Name: "expired", Scopes: []accounts.Scope{accounts.ScopeRead}, ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// Expire it in the database's clock, which is the one that decides.
	if _, err := inst.Pool.Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, expiredTok.ID); err != nil {
		t.Fatal(err)
	}

	disabledUser, ofDisabled := MustUserWithToken(t, inst, "gone@example.com", false, accounts.ScopeRead)
	if _, err := inst.App.Accounts.SetDisabled(ctx, admin.ID, disabledUser.ID, true); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		header string
	}{
		{"no token", ""},
		{"not a bearer token", "Basic bWU6cGFzc3dvcmQ="},
		{"empty bearer token", "Bearer "},
		{"unknown token", "Bearer sp_thisisnotatoken"},
		{"not our token format", "Bearer abc"},
		{"revoked token", "Bearer " + revoked},
		{"expired token", "Bearer " + expired},
		{"token of a disabled user", "Bearer " + ofDisabled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Only a well-formed bearer token satisfies the document.
			scheme, secret, _ := strings.Cut(tc.header, " ")
			offSpec := scheme != "Bearer" || secret == ""
			r := api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/me", authorization: tc.header, offSpec: offSpec})
			MustProblem(t, r, http.StatusUnauthorized, "unauthorized")
			if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
}

func TestAPIForbidden(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	api := newAPIClient(t, inst)
	ctx := context.Background()
	admin, readOnly := MustUserWithToken(t, inst, "admin@example.com", true, accounts.ScopeRead)
	_, writeOnly := MustUserWithToken(t, inst, "writer@example.com", false, accounts.ScopeWrite)
	demoted, demotedAdminToken := MustUserWithToken(t, inst, "demoted@example.com", true, accounts.ScopeRead, accounts.ScopeAdmin)
	if _, err := inst.App.Accounts.ChangeRole(ctx, admin.ID, demoted.ID, accounts.RoleUser); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, token, method, path, body string
	}{
		{"read token on the admin API, even an admin's", readOnly, http.MethodGet, "/api/v1/admin/users", ""},
		{"read token patching a user", readOnly, http.MethodPatch, "/api/v1/admin/users/" + admin.ID, `{"role":"user"}`},
		{"read token creating a token", readOnly, http.MethodPost, "/api/v1/tokens", `{"name":"x","scopes":["read"]}`},
		{"write token reading me", writeOnly, http.MethodGet, "/api/v1/me", ""},
		{"write token granting a scope it lacks", writeOnly, http.MethodPost, "/api/v1/tokens", `{"name":"x","scopes":["read"]}`},
		{"admin token of a user demoted since", demotedAdminToken, http.MethodGet, "/api/v1/admin/users", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := api.Do(t, apiCall{method: tc.method, path: tc.path, token: tc.token, body: tc.body})
			MustProblem(t, r, http.StatusForbidden, "forbidden")
		})
	}
	// The refusals changed nothing.
	if u, err := inst.App.Accounts.FindUserByID(ctx, admin.ID); err != nil || u.Role != accounts.RoleAdmin {
		t.Errorf("admin after refused patch: %+v %v", u, err)
	}
}

func TestAPICreateToken(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	api := newAPIClient(t, inst)
	_, token := MustUserWithToken(t, inst, "maker@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)

	type newToken struct {
		ID        string   `json:"id"`
		Name      string   `json:"name"`
		Prefix    string   `json:"prefix"`
		Scopes    []string `json:"scopes"`
		ExpiresAt *string  `json:"expires_at"`
		CreatedAt string   `json:"created_at"`
		Token     string   `json:"token"`
	}

	var made newToken
	MustDecode(t, api.Do(t, apiCall{method: http.MethodPost, path: "/api/v1/tokens", token: token,
		body: `{"name":" ci ","scopes":["read"],"expires_in_hours":24}`}), http.StatusCreated, &made)
	if made.Name != "ci" || strings.Join(made.Scopes, ",") != "read" || !strings.HasPrefix(made.Token, made.Prefix) || !strings.HasPrefix(made.Token, "sp_") {
		t.Errorf("made %+v", made)
	}
	created := mustUTC(t, "created_at", made.CreatedAt)
	if made.ExpiresAt == nil {
		t.Fatal("expires_at is null for a token with expires_in_hours")
	}
	if exp := mustUTC(t, "expires_at", *made.ExpiresAt); exp.Sub(created).Round(time.Minute) != 24*time.Hour {
		t.Errorf("expires_at %s is not 24h after created_at %s", exp, created)
	}

	// The secret works at once, with exactly its scopes.
	var me meBody
	MustDecode(t, api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/me", token: made.Token}), http.StatusOK, &me)
	if me.Email != "maker@example.com" {
		t.Errorf("new token's user: %+v", me)
	}
	MustProblem(t, api.Do(t, apiCall{method: http.MethodPost, path: "/api/v1/tokens", token: made.Token,
		body: `{"name":"x","scopes":["read"]}`}), http.StatusForbidden, "forbidden")

	var forever newToken
	MustDecode(t, api.Do(t, apiCall{method: http.MethodPost, path: "/api/v1/tokens", token: token,
		body: `{"name":"forever","scopes":["write","read","read"]}`}), http.StatusCreated, &forever)
	if forever.ExpiresAt != nil || strings.Join(forever.Scopes, ",") != "read,write" {
		t.Errorf("forever %+v", forever)
	}

	invalid := []struct {
		name, body, field string
		offSpec           bool
	}{
		{"blank name", `{"name":"  ","scopes":["read"]}`, "name", false},
		{"no scopes", `{"name":"x","scopes":[]}`, "scopes", true},
		{"unknown scope", `{"name":"x","scopes":["root"]}`, "scopes", true},
		{"zero lifetime", `{"name":"x","scopes":["read"],"expires_in_hours":0}`, "expires_in_hours", true},
		{"fractional lifetime", `{"name":"x","scopes":["read"],"expires_in_hours":1.5}`, "expires_in_hours", true},
		{"unknown field", `{"name":"x","scopes":["read"],"expires":"1h"}`, "expires", true},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			r := api.Do(t, apiCall{method: http.MethodPost, path: "/api/v1/tokens", token: token, body: tc.body, offSpec: tc.offSpec})
			p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
			if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Errorf("errors %+v, want field %s", p.Errors, tc.field)
			}
		})
	}
}

func TestAPIAdminUsers(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	api := newAPIClient(t, inst)
	admin, token := MustUserWithToken(t, inst, "root@example.com", true, accounts.ScopeAdmin)
	plain, _ := MustUserWithToken(t, inst, "plain@example.com", false, accounts.ScopeRead)
	MustUserWithToken(t, inst, "other@example.com", false, accounts.ScopeRead)
	get := func(path string) apiCall { return apiCall{method: http.MethodGet, path: path, token: token} }

	t.Run("list", func(t *testing.T) {
		var list userListBody
		MustDecode(t, api.Do(t, get("/api/v1/admin/users")), http.StatusOK, &list)
		if len(list.Items) != 3 || list.NextCursor != nil {
			t.Fatalf("list: %d items, next %v", len(list.Items), list.NextCursor)
		}
		for _, u := range list.Items {
			mustUTC(t, "created_at", u.CreatedAt)
		}
	})

	t.Run("pages follow next_cursor to the end", func(t *testing.T) {
		seen := map[string]bool{}
		path := "/api/v1/admin/users?limit=2"
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			var list userListBody
			MustDecode(t, api.Do(t, get(path)), http.StatusOK, &list)
			for _, u := range list.Items {
				if seen[u.ID] {
					t.Errorf("user %s on two pages", u.Email)
				}
				seen[u.ID] = true
			}
			if list.NextCursor == nil {
				break
			}
			path = "/api/v1/admin/users?limit=2&cursor=" + url.QueryEscape(*list.NextCursor)
		}
		if len(seen) != 3 {
			t.Errorf("saw %d users over the pages, want 3", len(seen))
		}
	})

	t.Run("search", func(t *testing.T) {
		var list userListBody
		MustDecode(t, api.Do(t, get("/api/v1/admin/users?q=PLAIN")), http.StatusOK, &list)
		if len(list.Items) != 1 || list.Items[0].ID != plain.ID {
			t.Errorf("q=PLAIN: %+v", list.Items)
		}
	})

	t.Run("invalid paging", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=501", "limit=ten", "limit=-1"} {
			r := api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/admin/users?" + q, token: token, offSpec: true})
			p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
			if len(p.Errors) != 1 || p.Errors[0].Field != "limit" {
				t.Errorf("%s: errors %+v", q, p.Errors)
			}
		}
		p := MustProblem(t, api.Do(t, get("/api/v1/admin/users?cursor=bogus")), http.StatusUnprocessableEntity, "invalid_input")
		if len(p.Errors) != 1 || p.Errors[0].Field != "cursor" {
			t.Errorf("bad cursor: errors %+v", p.Errors)
		}
	})

	t.Run("get", func(t *testing.T) {
		var u adminUserBody
		MustDecode(t, api.Do(t, get("/api/v1/admin/users/"+plain.ID)), http.StatusOK, &u)
		if u.ID != plain.ID || u.Email != "plain@example.com" || u.Role != "user" || u.Disabled {
			t.Errorf("get: %+v", u)
		}
		for _, id := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid"} {
			MustProblem(t, api.Do(t, get("/api/v1/admin/users/"+id)), http.StatusNotFound, "not_found")
		}
	})

	t.Run("patch", func(t *testing.T) {
		patch := func(id, body string) *apiResponse {
			return api.Do(t, apiCall{method: http.MethodPatch, path: "/api/v1/admin/users/" + id, token: token, body: body})
		}
		var u adminUserBody
		MustDecode(t, patch(plain.ID, `{"role":"admin"}`), http.StatusOK, &u)
		if u.Role != "admin" || u.Disabled {
			t.Errorf("promoted: %+v", u)
		}
		MustDecode(t, patch(plain.ID, `{"role":"user","disabled":true}`), http.StatusOK, &u)
		if u.Role != "user" || !u.Disabled {
			t.Errorf("demoted and disabled: %+v", u)
		}
		MustDecode(t, patch(plain.ID, `{"disabled":false}`), http.StatusOK, &u)
		if u.Disabled {
			t.Errorf("re-enabled: %+v", u)
		}
		MustProblem(t, patch("00000000-0000-0000-0000-000000000000", `{"disabled":true}`), http.StatusNotFound, "not_found")

		// The only admin can neither step down nor disable themselves.
		MustProblem(t, patch(admin.ID, `{"role":"user"}`), http.StatusConflict, "conflict")
		MustProblem(t, patch(admin.ID, `{"role":"user","disabled":true}`), http.StatusConflict, "conflict")
		if got, _ := inst.App.Accounts.FindUserByID(context.Background(), admin.ID); got.Role != accounts.RoleAdmin || got.Disabled() {
			t.Errorf("refused changes must change nothing: %+v", got)
		}
	})
}

func TestAPIInvalidJSON(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{})
	api := newAPIClient(t, inst)
	_, token := MustUserWithToken(t, inst, "admin@example.com", true, accounts.ScopeAdmin, accounts.ScopeWrite)
	target, _ := MustUserWithToken(t, inst, "target@example.com", false, accounts.ScopeRead)
	userPath := "/api/v1/admin/users/" + target.ID

	cases := []struct {
		name, method, path, body, contentType string
		// field is the field the errors list must name, if any.
		field string
		// docMisses marks the bodies kin-openapi cannot fault: trailing
		// data (its decoder stops after the first JSON value, as
		// encoding/json does) and NUL characters, which JSON allows.
		docMisses bool
	}{
		{"truncated JSON", http.MethodPatch, userPath, `{"role":`, "", "", false},
		{"not JSON", http.MethodPost, "/api/v1/tokens", `name=ci`, "", "", false},
		{"unknown field", http.MethodPatch, userPath, `{"rol":"admin"}`, "", "rol", false},
		{"wrong type", http.MethodPatch, userPath, `{"disabled":"yes"}`, "", "disabled", false},
		{"unknown role", http.MethodPatch, userPath, `{"role":"owner"}`, "", "role", false},
		{"nothing to change", http.MethodPatch, userPath, `{}`, "", "role", false},
		{"trailing data", http.MethodPatch, userPath, `{"disabled":true} {"disabled":false}`, "", "", true},
		{"form instead of JSON", http.MethodPatch, userPath, `disabled=true`, "application/x-www-form-urlencoded", "", false},
		{"array instead of object", http.MethodPost, "/api/v1/tokens", `[]`, "", "", false},
		// encoding/json takes null for "absent": the role would stay and
		// the user be disabled, though the document forbids a null role.
		{"null is not absent", http.MethodPatch, userPath, `{"role": null, "disabled": true}`, "", "role", false},
		{"null body", http.MethodPatch, userPath, `null`, "", "", false},
		// PostgreSQL stores no NUL character: the insert used to fail as a 500.
		{"NUL in a string", http.MethodPost, "/api/v1/tokens", `{"name": "ci\u0000", "scopes": ["write"]}`, "", "name", true},
		{"NUL in a key", http.MethodPatch, userPath, `{"disabled\u0000": true}`, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := api.Do(t, apiCall{method: tc.method, path: tc.path, token: token, body: tc.body, contentType: tc.contentType, offSpec: !tc.docMisses})
			p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Errorf("errors %+v, want one for %s", p.Errors, tc.field)
			}
			if p.Detail == "" || strings.Contains(p.Detail, "json:") {
				t.Errorf("detail %q should explain without Go internals", p.Detail)
			}
		})
	}
	if got, _ := inst.App.Accounts.FindUserByID(context.Background(), target.ID); got.Disabled() || got.IsAdmin() {
		t.Errorf("invalid requests changed the user: %+v", got)
	}
}

func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{"API_RATE_LIMIT": "60", "API_RATE_BURST": "3"}})
	api := newAPIClient(t, inst)
	u, token := MustUserWithToken(t, inst, "busy@example.com", true, accounts.ScopeRead)
	me := apiCall{method: http.MethodGet, path: "/api/v1/me", token: token}

	for want := 2; want >= 0; want-- {
		r := api.Do(t, me)
		if r.Status != http.StatusOK {
			t.Fatalf("request with %d left: %d %s", want+1, r.Status, r.Body)
		}
		if r.Header.Get("RateLimit-Limit") != "3" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(want) {
			t.Errorf("limit %q remaining %q, want 3 and %d", r.Header.Get("RateLimit-Limit"), r.Header.Get("RateLimit-Remaining"), want)
		}
	}
	r := api.Do(t, me)
	MustProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("RateLimit-Remaining %q on 429", r.Header.Get("RateLimit-Remaining"))
	}

	// The bucket is per token: another token of the same user still works.
	other := MustToken(t, inst, u, accounts.TokenInput{Name: "other", Scopes: []accounts.Scope{accounts.ScopeRead}})
	if r := api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/me", token: other}); r.Status != http.StatusOK {
		t.Errorf("another token: %d", r.Status)
	}
}
