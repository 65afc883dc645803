package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/llmfake"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

type chatHTTPFixture struct {
	inst *apptest.Instance
	fake *llmfake.Server
	b    *apptest.Browser
	wb   workbooks.Workbook
	tbl  workbooks.Table
}

func newChatHTTPFixture(t *testing.T, email string) chatHTTPFixture {
	t.Helper()
	fake := llmfake.New()
	t.Cleanup(fake.Close)
	inst := apptest.MustStart(t, apptest.Options{Env: map[string]string{
		"LLM_BASE_URL": fake.BaseURL(), "LLM_API_KEY": llmfake.Key, "LLM_MODELS": "fake/model|8000|1|2",
	}})
	b := inst.NewBrowser(t)
	b.MustSignUp(email, gridPassword)
	u := mustFindUser(t, inst, email)
	ctx := context.Background()
	wb, err := inst.App.Workbooks.CreateWorkbook(ctx, u.ID, "Chat")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := inst.App.Workbooks.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Items", Columns: []workbooks.ColumnInput{{Name: "Title", Type: values.Text}}})
	if err != nil {
		t.Fatal(err)
	}
	return chatHTTPFixture{inst: inst, fake: fake, b: b, wb: wb, tbl: tbl}
}

func (f chatHTTPFixture) chatURL(path string) string {
	return "/workbooks/" + f.wb.ID + "/chat" + path + "?t=" + f.tbl.ID
}

// newSession starts a session through the panel and returns its id.
func (f chatHTTPFixture) newSession(t *testing.T) string {
	t.Helper()
	f.b.Get("/workbooks/" + f.wb.ID + "/tables/" + f.tbl.ID)
	r := f.b.Send(http.MethodPost, f.chatURL("/sessions"), nil, true)
	if r.Status != http.StatusOK {
		t.Fatalf("new session: status %d: %s", r.Status, r.Body)
	}
	id, ok := r.TestID("chat-content").Attr("data-session-id")
	if !ok || id == "" {
		t.Fatalf("the new session's panel names no session: %s", r.Body)
	}
	return id
}

// TestChatPanelIsOwnerScoped: another person's session answers 404 to
// every panel route, with their own workbook's address or the owner's.
func TestChatPanelIsOwnerScoped(t *testing.T) {
	t.Parallel()
	f := newChatHTTPFixture(t, "chat-owner@example.com")
	sid := f.newSession(t)

	other := f.inst.NewBrowser(t)
	other.MustSignUp("chat-other@example.com", gridPassword)
	ou := mustFindUser(t, f.inst, "chat-other@example.com")
	owb, err := f.inst.App.Workbooks.CreateWorkbook(context.Background(), ou.ID, "Mine")
	if err != nil {
		t.Fatal(err)
	}
	for _, wb := range []string{f.wb.ID, owb.ID} {
		base := "/workbooks/" + wb + "/chat/sessions/" + sid
		for _, c := range []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodGet, base, nil},
			{http.MethodPost, base + "/rename", url.Values{"title": {"Mine now"}}},
			{http.MethodPost, base + "/messages", url.Values{"content": {"hello"}}},
			{http.MethodPost, base + "/stop", nil},
			{http.MethodDelete, base, nil},
		} {
			var r *apptest.Response
			if c.method == http.MethodGet {
				r = other.Get(c.path)
			} else {
				r = other.Send(c.method, c.path, c.form, true)
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("%s %s by another person: status %d, want 404", c.method, c.path, r.Status)
			}
		}
	}
	// The other person's panel of the owner's workbook is refused too.
	if r := other.Get("/workbooks/" + f.wb.ID + "/chat"); r.Status != http.StatusNotFound {
		t.Errorf("another person's panel of the workbook: status %d, want 404", r.Status)
	}
	if r := other.Send(http.MethodPost, "/workbooks/"+f.wb.ID+"/chat/sessions", nil, true); r.Status != http.StatusNotFound {
		t.Errorf("another person's new session in the workbook: status %d, want 404", r.Status)
	}
	for _, content := range []string{"", "hello"} {
		if r := other.Send(http.MethodPost, "/workbooks/"+f.wb.ID+"/chat/messages", url.Values{"content": {content}}, true); r.Status != http.StatusNotFound {
			t.Errorf("another person's first message %q in the workbook: status %d, want 404", content, r.Status)
		}
	}
	if r := other.Get("/workbooks/" + f.wb.ID + "/chat/mentions?kind=column&t=" + f.tbl.ID); r.Status != http.StatusNotFound {
		t.Errorf("another person's mentions of the table: status %d, want 404", r.Status)
	}
	// Nothing changed: the owner still has the session, untitled.
	r := f.b.Get(f.chatURL("/sessions/" + sid))
	if r.Status != http.StatusOK || strings.TrimSpace(r.TestID("chat-title").Text()) != "New chat" {
		t.Errorf("the owner's session after the other person's tries: status %d, title %q", r.Status, r.TestID("chat-title").Text())
	}
	if f.fake.Calls() != 0 {
		t.Errorf("the model was called %d times", f.fake.Calls())
	}
}

// TestChatPanelNeedsCSRF: the panel's changes are refused without the
// session's CSRF token.
func TestChatPanelNeedsCSRF(t *testing.T) {
	t.Parallel()
	f := newChatHTTPFixture(t, "chat-csrf@example.com")
	sid := f.newSession(t)
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, f.chatURL("/sessions")},
		{http.MethodPost, f.chatURL("/messages")},
		{http.MethodPost, f.chatURL("/sessions/" + sid + "/messages")},
		{http.MethodPost, f.chatURL("/sessions/" + sid + "/rename")},
		{http.MethodPost, f.chatURL("/sessions/" + sid + "/stop")},
		{http.MethodDelete, f.chatURL("/sessions/" + sid)},
	} {
		req, err := http.NewRequest(c.method, f.inst.URL+c.path, strings.NewReader(url.Values{"content": {"hi"}, "title": {"x"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		if r := f.b.Do(req); r.Status != http.StatusForbidden {
			t.Errorf("%s %s without the CSRF token: status %d, want 403", c.method, c.path, r.Status)
		}
	}
	r := f.b.Get(f.chatURL(""))
	if n := r.TestID("chat-history-item").Length(); n != 1 {
		t.Errorf("the panel lists %d sessions, want 1", n)
	}
	if f.fake.Calls() != 0 {
		t.Errorf("the model was called %d times", f.fake.Calls())
	}
}

// TestChatPanelExplainsModelErrors: a turn that fails on a rate limit, or
// on a context too large, says so in the panel with what to do.
func TestChatPanelExplainsModelErrors(t *testing.T) {
	t.Parallel()
	f := newChatHTTPFixture(t, "chat-errors@example.com")
	for _, c := range []struct {
		reply      llmfake.Reply
		code, want string
	}{
		{llmfake.Status(http.StatusTooManyRequests, map[string]string{"Retry-After": "0"}, `{"error":{"message":"Rate limit exceeded"}}`), "rate_limited", "rate limiting"},
		{llmfake.Status(http.StatusBadRequest, nil, `{"error":{"message":"This model's maximum context length is 8000 tokens","code":"context_length_exceeded"}}`), "context_too_large", "too long for the model"},
	} {
		f.fake.Script(c.reply)
		sid := f.newSession(t)
		r := f.b.Send(http.MethodPost, f.chatURL("/sessions/"+sid+"/messages"), url.Values{"content": {"Go"}, "scope": {f.tbl.ID}}, true)
		if r.Status != http.StatusOK {
			t.Fatalf("send: status %d: %s", r.Status, r.TestID("chat-error").Text())
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			r = f.b.Get(f.chatURL("/sessions/" + sid))
			if r.TestID("chat-turn-error").Length() > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		e := r.TestID("chat-turn-error")
		if code, _ := e.Attr("data-code"); code != c.code || !strings.Contains(e.Text(), c.want) {
			t.Errorf("the failed turn shows code %q and %q, want %q and %q", code, strings.TrimSpace(e.Text()), c.code, c.want)
		}
	}
}

// TestChatSendRefusalKeepsTheMessage: a refused message (a scope that is
// not a table of the workbook) shows why in the panel and keeps the text.
func TestChatSendRefusalKeepsTheMessage(t *testing.T) {
	t.Parallel()
	f := newChatHTTPFixture(t, "chat-refusal@example.com")
	sid := f.newSession(t)
	r := f.b.Send(http.MethodPost, f.chatURL("/sessions/"+sid+"/messages"), url.Values{"content": {"Keep me"}, "scope": {"not-a-table"}}, true)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.Status)
	}
	if msg := r.TestID("chat-error").Text(); !strings.Contains(msg, "Scope") {
		t.Errorf("the refusal says %q, want it to name the scope", msg)
	}
	if got := r.TestID("chat-input").Text(); got != "Keep me" {
		t.Errorf("the composer holds %q, want the message kept", got)
	}
}

// TestChatSendCarriesModelToolsAndMentions: the panel's form sends the
// model picked, only the tools left on, and the mentions, to the model.
func TestChatSendCarriesModelToolsAndMentions(t *testing.T) {
	t.Parallel()
	f := newChatHTTPFixture(t, "chat-send@example.com")
	f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{"ok"}, Prompt: 10, Complete: 1}))
	sid := f.newSession(t)
	form := url.Values{"content": {"Check $Title"}, "model": {"fake/model"}, "scope": {f.tbl.ID},
		"tools": {"fetch_records", "suggest_updates"}, "columns": {"Title"}}
	if r := f.b.Send(http.MethodPost, f.chatURL("/sessions/"+sid+"/messages"), form, true); r.Status != http.StatusOK {
		t.Fatalf("send: status %d: %s", r.Status, r.TestID("chat-error").Text())
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.fake.Calls() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	bodies := f.fake.Bodies()
	if len(bodies) == 0 {
		t.Fatal("the model was not called")
	}
	if m := bodies[0]["model"]; m != "fake/model" {
		t.Errorf("model %v, want fake/model", m)
	}
	var names []string
	tools, _ := bodies[0]["tools"].([]any)
	for _, tl := range tools {
		fn, _ := tl.(map[string]any)["function"].(map[string]any)
		names = append(names, fmt.Sprint(fn["name"]))
	}
	if strings.Join(names, ",") != "fetch_records,suggest_updates" {
		t.Errorf("tools offered to the model: %v, want fetch_records and suggest_updates", names)
	}
	if !strings.Contains(fmt.Sprint(bodies[0]["messages"]), "Title") {
		t.Error("the mentioned column is not in the model's context")
	}
}

// TestChatCostWarningIsThePersonsOwn: the amount saved in settings is the
// one the chat panel warns past (the server's until then); a nonsense
// amount is refused on its field and echoed back to correct.
func TestChatCostWarningIsThePersonsOwn(t *testing.T) {
	t.Parallel()
	f := newChatHTTPFixture(t, "chat-spending@example.com")
	warning := func() string {
		t.Helper()
		r := f.b.Get(f.chatURL(""))
		if r.Status != http.StatusOK {
			t.Fatalf("chat panel: %d", r.Status)
		}
		return r.Doc.Find("[data-cost-warning]").AttrOr("data-cost-warning", "none")
	}
	if got := warning(); got != "1" {
		t.Fatalf("before any setting the panel warns past %q, want the server's 1", got)
	}
	r := f.b.Send(http.MethodPost, "/settings/spending", url.Values{"cost_warning": {"a lot"}}, true)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "a lot") || r.Doc.Find(`#cost-warning[aria-invalid="true"]`).Length() != 1 {
		t.Fatalf("nonsense amount: %d %s", r.Status, r.Body)
	}
	r = f.b.Send(http.MethodPost, "/settings/spending", url.Values{"cost_warning": {"$2.5"}}, true)
	if r.Status != http.StatusOK || r.TestID("spending-saved").Length() != 1 || r.TestID("cost-warning-input").AttrOr("value", "") != "2.50" {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	if got := warning(); got != "2.5" {
		t.Fatalf("after saving $2.5 the panel warns past %q", got)
	}
	if r = f.b.Send(http.MethodPost, "/settings/spending", url.Values{"cost_warning": {""}}, true); r.Status != http.StatusOK {
		t.Fatalf("clear: %d", r.Status)
	}
	if got := warning(); got != "1" {
		t.Fatalf("emptied, the panel warns past %q, want the server's 1 again", got)
	}
}
