package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/testdb"
)

// operator runs commands the way a person at a terminal would, against one
// database.
type operator struct {
	t   testing.TB
	env map[string]string
}

func newOperator(t testing.TB) *operator {
	return &operator{t: t, env: map[string]string{"DATABASE_URL": testdb.NewURL(t), "LOG_LEVEL": "warn"}}
}

// Run runs one command line and returns its stdout and error.
func (o *operator) Run(args ...string) (string, error) {
	o.t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return o.env[k] }, &stdout, &stderr)
	return stdout.String(), err
}

// MustRun runs a command line that must succeed.
func (o *operator) MustRun(args ...string) string {
	o.t.Helper()
	out, err := o.Run(args...)
	if err != nil {
		o.t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return out
}

// getJSON calls the API with token and decodes a 200 JSON answer.
func getJSON(t testing.TB, url, token string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s: %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}

var tokenLine = regexp.MustCompile(`^sp_[a-z2-7]+\n$`)

// TestRunOperatorStory is the first-day story of an operator: create an
// admin, mint a CI token, and use it against a running instance.
func TestRunOperatorStory(t *testing.T) {
	t.Parallel()
	op := newOperator(t)

	out := op.MustRun("user", "create", "--email", "ops@example.com", "--password", "correct horse battery", "--name", "Ops", "--admin")
	if !strings.Contains(out, "ops@example.com") || !strings.Contains(out, "role admin") {
		t.Errorf("user create said %q", out)
	}
	token := op.MustRun("token", "create", "--email", "ops@example.com", "--name", "ci", "--scopes", "read,admin")
	if !tokenLine.MatchString(token) {
		t.Fatalf("token create must print only the token, got %q", token)
	}
	token = strings.TrimSpace(token)

	inst := apptest.MustStart(t, apptest.Options{DatabaseURL: op.env["DATABASE_URL"]})
	var me struct{ ID, Email, Name, Role string }
	getJSON(t, inst.URL+"/api/v1/me", token, &me)
	if me.Email != "ops@example.com" || me.Name != "Ops" || me.Role != "admin" {
		t.Errorf("me = %+v", me)
	}
	var list struct {
		Items []struct{ Email string } `json:"items"`
	}
	getJSON(t, inst.URL+"/api/v1/admin/users", token, &list)
	if len(list.Items) != 1 || list.Items[0].Email != "ops@example.com" {
		t.Errorf("admin list with the CI token: %+v", list.Items)
	}
}

func TestRunGrantAdmin(t *testing.T) {
	t.Parallel()
	op := newOperator(t)
	op.MustRun("user", "create", "--email", "first@example.com", "--password", "correct horse battery")
	out := op.MustRun("user", "create", "--email", "plain@example.com", "--password", "correct horse battery")
	if !strings.Contains(out, "role user") {
		t.Fatalf("a user created without --admin (not the first) must be a plain user: %q", out)
	}
	if _, err := op.Run("token", "create", "--email", "plain@example.com", "--name", "x", "--scopes", "admin"); err == nil {
		t.Error("a plain user must not get an admin-scoped token")
	}

	out = op.MustRun("user", "grant-admin", "plain@example.com")
	if !strings.Contains(out, "plain@example.com is now an admin") {
		t.Errorf("grant-admin said %q", out)
	}
	token := strings.TrimSpace(op.MustRun("token", "create", "--email", "plain@example.com", "--name", "x", "--scopes", "read"))
	inst := apptest.MustStart(t, apptest.Options{DatabaseURL: op.env["DATABASE_URL"]})
	var me struct{ Role string }
	getJSON(t, inst.URL+"/api/v1/me", token, &me)
	if me.Role != "admin" {
		t.Errorf("role after grant-admin: %q", me.Role)
	}
	// Granting again is harmless.
	op.MustRun("user", "grant-admin", "plain@example.com")
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	// None of these reach the database, so none is given one.
	env := func(string) string { return "" }
	cases := [][]string{
		{"frobnicate"},
		{"user"},
		{"user", "delete"},
		{"user", "create", "--bogus"},
		{"user", "create", "--admin=maybe"},
		{"user", "grant-admin"},
		{"user", "grant-admin", "a@example.com", "b@example.com"},
		{"token"},
		{"token", "revoke"},
		{"token", "create", "--expires", "soon"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout bytes.Buffer
			err := run(context.Background(), args, env, &stdout, io.Discard)
			var u usageError
			if !errors.As(err, &u) {
				t.Fatalf("want a usage error, got %v", err)
			}
			if !strings.Contains(err.Error(), "usage:") {
				t.Errorf("usage error without usage: %q", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
}

func TestRunDomainErrors(t *testing.T) {
	t.Parallel()
	op := newOperator(t)
	op.MustRun("user", "create", "--email", "taken@example.com", "--password", "correct horse battery")

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"duplicate email", []string{"user", "create", "--email", "taken@example.com", "--password", "another good password"}, "An account with this email already exists.\n  --email is already registered"},
		{"weak password", []string{"user", "create", "--email", "new@example.com", "--password", "short"}, "--password must be at least"},
		{"grant-admin to nobody", []string{"user", "grant-admin", "nobody@example.com"}, `No account with email "nobody@example.com".`},
		{"token for nobody", []string{"token", "create", "--email", "nobody@example.com", "--name", "ci"}, "No account with email"},
		{"unknown scope", []string{"token", "create", "--email", "taken@example.com", "--name", "ci", "--scopes", "read,root"}, "Unknown scope root."},
		{"token without a name", []string{"token", "create", "--email", "taken@example.com"}, "--name is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := op.Run(tc.args...)
			if err == nil {
				t.Fatalf("succeeded: %q", out)
			}
			var u usageError
			if errors.As(err, &u) {
				t.Errorf("a domain error is not a usage error: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
}
