package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/assets"
	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/llmfake"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// chatFixture is a grid of three products, its owner signed in in a
// browser, and the app talking to a scripted fake model endpoint.
type chatFixture struct {
	inst    *apptest.Instance
	fake    *llmfake.Server
	tab     context.Context
	ownerID string
	wb      workbooks.Workbook
	tbl     workbooks.Table
	recs    []workbooks.Record
	gridURL string
}

func newChatFixture(t testing.TB, email string, withKey bool) chatFixture {
	t.Helper()
	fake := llmfake.New()
	t.Cleanup(fake.Close)
	env := map[string]string{"LLM_BASE_URL": fake.BaseURL(), "LLM_MODELS": "fake/model|8000|1|2,fake/big|200000|3|15", "AGENT_COST_WARNING_USD": "0.5"}
	if withKey {
		env["LLM_API_KEY"] = llmfake.Key
	}
	inst, tab, u := mustSignedInTab(t, apptest.Options{Env: env}, email)
	ctx := context.Background()
	store := inst.App.Workbooks
	wb, err := store.CreateWorkbook(ctx, u.ID, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := store.CreateTable(ctx, u.ID, wb.ID, workbooks.TableInput{Name: "Products", Columns: []workbooks.ColumnInput{
		{Name: "Title", Type: values.Text}, {Name: "Price", Type: values.Number},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []workbooks.Record
	for i, title := range []string{"Red shoe", "Blue hat", "Green scarf"} {
		r, err := store.CreateRecord(ctx, u.ID, wb.ID, tbl.ID, map[string]any{"Title": title, "Price": 10 + i})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	f := chatFixture{inst: inst, fake: fake, tab: tab, ownerID: u.ID, wb: wb, tbl: tbl, recs: recs,
		gridURL: fmt.Sprintf("%s/workbooks/%s/tables/%s", inst.URL, wb.ID, tbl.ID)}
	browsertest.MustDo(t, tab, chromedp.Navigate(f.gridURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-toggle"]`)))
	return f
}

func (f chatFixture) openPanel(t testing.TB) {
	t.Helper()
	browsertest.MustDo(t, f.tab, chromedp.Click(chromedp.CSS(`[data-testid="chat-toggle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-input"]`)))
	// The panel's stream listeners are registered with the workbook's
	// stream once its content is processed.
	mustWaitEval(t, f.tab, `document.activeElement && document.activeElement.id === "chat-input"`)
}

func (f chatFixture) send(t testing.TB, text string) {
	t.Helper()
	browsertest.MustDo(t, f.tab, chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), text), chromedp.KeyEvent(kb.Enter))
}

func toolCall(id, name string, args any) llmfake.Call {
	b, _ := json.Marshal(args)
	return llmfake.Call{ID: id, Name: name, Arguments: string(b)}
}

// TestBrowserChatPanel is issue 10's chat panel: open it beside the grid,
// start a session with a message, see the agent's text stream in, its tool
// call collapsed with arguments and result, its suggestion appear in the
// grid as a diff, the cost and the context meter; accept all with a slash
// command; stop a run that never ends; and the panel's layout at desktop
// and phone sizes.
func TestBrowserChatPanel(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, "chat-panel@example.com", true)
	tab := f.tab
	red := f.recs[0]

	// The first turn streams text slowly, then suggests a new title for
	// the selected record; the second step says it is done.
	f.fake.Script(
		llmfake.Stream(llmfake.Turn{Text: []string{"Looking ", "at **Red ", "shoe**", " now."}, Delay: 250 * time.Millisecond,
			Calls: []llmfake.Call{toolCall("c1", "suggest_updates", map[string]any{"updates": []any{
				map[string]any{"record_id": red.ID, "fields": map[string]any{"Title": "Crimson running shoe"}}}})},
			Prompt: 1200, Complete: 40, Cost: "0.3"}),
		llmfake.Stream(llmfake.Turn{Text: []string{"I suggested a *better* title."}, Prompt: 1500, Complete: 20, Cost: "0.3"}),
	)

	// The record is ticked in the grid: the scope badge follows.
	clickJS(t, tab, fmt.Sprintf(`tr[data-record-id="%s"] input.select-record`, red.ID))
	f.openPanel(t)
	browsertest.WaitText(t, tab, `[data-testid="chat-scope-records"]`, "1 selected record")
	browsertest.WaitText(t, tab, `[data-testid="chat-empty"]`, "Ask the agent")
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('#chat-model option').length`); n != 2 {
		t.Errorf("the model picker offers %d models, want 2", n)
	}
	browsertest.WaitText(t, tab, `#chat-model`, "$1.00 / $2.00 per M tokens")
	shoot(t, tab, "chat-open-empty")

	f.send(t, "Rewrite the title of the selected record")
	// Text streams in before the turn ends (the fake takes a second).
	browsertest.WaitText(t, tab, `[data-testid="chat-stream-text"]`, "Looking at")
	if browsertest.MustEval[bool](t, tab, `!!document.querySelector('[data-testid="chat-msg-assistant"][data-status="done"]')`) {
		t.Error("the turn had ended when its text first showed: nothing streamed")
	}
	browsertest.WaitText(t, tab, `[data-testid="chat-stream-text"] strong`, "Red shoe")
	shoot(t, tab, "chat-streaming")
	// The person goes back to the grid while the agent works: the end of
	// the turn leaves the focus there.
	blue := f.recs[1]
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="Price"]`, blue.ID))))
	mustWaitEval(t, tab, `!!document.activeElement.closest("#grid-body")`)
	// The suggestion shows in the grid as a diff.
	mustWaitEval(t, tab, fmt.Sprintf(`!!document.querySelector('tr[data-record-id="%s"] td[data-column="Title"] [data-testid="suggestion"]')`, red.ID))
	browsertest.WaitText(t, tab, fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="Title"] [data-testid="suggestion"]`, red.ID), "Crimson running shoe")

	// The turn ends: the panel shows it as Markdown, the tool call
	// collapsed, with its arguments and result.
	mustWaitEval(t, tab, `!!document.querySelector('[data-testid="chat-msg-assistant"][data-status="done"]')`)
	browsertest.WaitText(t, tab, `[data-testid="chat-msg-assistant"] .chat-md strong`, "Red shoe")
	if !browsertest.MustEval[bool](t, tab, `!!document.activeElement.closest("#grid-body")`) {
		t.Error("the end of the turn took the focus from the grid")
	}
	browsertest.WaitText(t, tab, `[data-testid="chat-msg-assistant"] .chat-md em`, "better")
	if open := browsertest.MustEval[bool](t, tab, `document.querySelector('[data-testid="chat-tool"][data-tool="suggest_updates"]').open`); open {
		t.Error("the tool call is open, want it collapsed")
	}
	clickJS(t, tab, `[data-testid="chat-tool"] summary`)
	browsertest.WaitText(t, tab, `[data-testid="chat-tool-args"]`, "Crimson running shoe")
	browsertest.WaitText(t, tab, `[data-testid="chat-tool-result"]`, "")
	// The fake reported 0.3 + 0.3: over the 0.5 warning.
	browsertest.WaitText(t, tab, `[data-testid="chat-cost"]`, "$0.60")
	mustWaitEval(t, tab, `!document.querySelector('[data-testid="chat-cost-warning"]').hidden`)
	browsertest.WaitText(t, tab, `[data-testid="chat-usage"]`, "2700 in / 60 out · $0.60")
	// The meter shows the last step's prompt (1500) of the model's 8000.
	browsertest.WaitText(t, tab, `[data-testid="chat-context-text"]`, "1k / 8k")
	mustWaitEval(t, tab, `document.querySelector('[data-testid="chat-context-meter"]').value === 1500 && document.querySelector('[data-testid="chat-context-meter"]').max === 8000`)
	// The request carried the scope: the table and the ticked record.
	bodies := f.fake.Bodies()
	if len(bodies) < 1 || !strings.Contains(fmt.Sprint(bodies[0]["messages"]), red.ID) {
		t.Errorf("the model's first request does not name the selected record %s", red.ID)
	}
	shoot(t, tab, "chat-done")

	// /accept-all accepts the suggestion through the suggestions endpoint.
	f.send(t, "/accept-all")
	browsertest.WaitText(t, tab, `[data-testid="chat-note"]`, "Accepted 1 suggestion")
	browsertest.WaitText(t, tab, fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="Title"]`, red.ID), "Crimson running shoe")
	mustWaitEval(t, tab, fmt.Sprintf(`!document.querySelector('tr[data-record-id="%s"] [data-testid="suggestion"]')`, red.ID))

	// A run that never ends, stopped with the Stop button.
	f.fake.Script(llmfake.Forever(50 * time.Millisecond))
	f.send(t, "Keep going forever")
	browsertest.WaitText(t, tab, `[data-testid="chat-stream-text"]`, "and on")
	browsertest.MustDo(t, tab, chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-stop"]`)))
	shoot(t, tab, "chat-running")
	clickJS(t, tab, `[data-testid="chat-stop"]`)
	browsertest.MustDo(t, tab, chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-stopped"]`)))
	mustWaitEval(t, tab, `!document.querySelector('[data-testid="chat-stop"]') && !document.querySelector('[data-status="running"]')`)
	calls := f.fake.Calls()
	time.Sleep(300 * time.Millisecond)
	if f.fake.Calls() != calls {
		t.Error("the model was called again after Stop")
	}

	// History, rename, /new.
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`.chat-more > summary`)))
	browsertest.MustDo(t, tab, chromedp.SetValue(chromedp.CSS(`[data-testid="chat-rename-input"]`), "Titles"),
		chromedp.Click(chromedp.CSS(`[data-testid="chat-rename-submit"]`)))
	browsertest.WaitText(t, tab, `[data-testid="chat-title"]`, "Titles")
	f.send(t, "/new")
	browsertest.WaitText(t, tab, `[data-testid="chat-title"]`, "New chat")
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`.chat-history > summary`)))
	browsertest.WaitText(t, tab, `[data-testid="chat-history-list"]`, "Titles")
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('[data-testid="chat-history-item"]').length`); n != 2 {
		t.Errorf("history lists %d chats, want 2", n)
	}
	clickJS(t, tab, `[data-testid="chat-history-item"]:not([aria-current])`)
	browsertest.WaitText(t, tab, `[data-testid="chat-title"]`, "Titles")
	browsertest.WaitText(t, tab, `[data-testid="chat-messages"]`, "Keep going forever")

	// Delete the chat from its menu: the panel shows none open, and the
	// history keeps the other one.
	browsertest.MustDo(t, tab, chromedp.Click(chromedp.CSS(`.chat-more > summary`)))
	clickJS(t, tab, `[data-testid="chat-delete"]`)
	browsertest.WaitText(t, tab, `[data-testid="chat-title"]`, "Agent")
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('[data-testid="chat-history-item"]').length`); n != 1 {
		t.Errorf("history lists %d chats after the delete, want 1", n)
	}

	// /clear deletes the open chat and starts an empty one.
	clickJS(t, tab, `[data-testid="chat-history-item"]`)
	browsertest.WaitText(t, tab, `[data-testid="chat-title"]`, "New chat")
	before := browsertest.MustEval[string](t, tab, `document.getElementById("chat-content").dataset.sessionId`)
	f.send(t, "/clear")
	mustWaitEval(t, tab, `(document.getElementById("chat-content").dataset.sessionId || "") !== "" && document.getElementById("chat-content").dataset.sessionId !== `+fmt.Sprintf("%q", before))
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('[data-testid="chat-history-item"]').length`); n != 1 {
		t.Errorf("history lists %d chats after /clear, want 1", n)
	}

	// Escape closes the panel and gives focus back to its button.
	browsertest.MustDo(t, tab, chromedp.Focus(chromedp.CSS(`[data-testid="chat-input"]`)), chromedp.KeyEvent(kb.Escape))
	mustWaitEval(t, tab, `document.getElementById("chat-panel").hidden && document.activeElement.dataset.testid === "chat-toggle"`)
	// Alt+A opens it again, into the message box.
	browsertest.MustDo(t, tab, chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierAlt)))
	mustWaitEval(t, tab, `!document.getElementById("chat-panel").hidden && document.activeElement.id === "chat-input"`)
}

// TestBrowserChatMentionsAndNoKey: with no model key anywhere the panel
// says so at once, and @ offers the person's prompt assets, inserting the
// one picked with the keyboard.
func TestBrowserChatMentionsAndNoKey(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, "chat-mentions@example.com", false)
	tab := f.tab
	if _, err := f.inst.App.Assets.Create(context.Background(), f.ownerID, assets.Input{Name: "Style guide", Body: "Write in short sentences."}); err != nil {
		t.Fatal(err)
	}
	f.openPanel(t)
	browsertest.WaitText(t, tab, `[data-testid="chat-no-key"]`, "No model key is set up.")
	shoot(t, tab, "chat-no-key")

	browsertest.MustDo(t, tab, chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "Follow @sty"))
	browsertest.WaitText(t, tab, `[data-testid="chat-mentions"]`, "Style guide")
	mustWaitEval(t, tab, `document.getElementById("chat-input").getAttribute("aria-expanded") === "true"`)
	shoot(t, tab, "chat-mentions")
	browsertest.MustDo(t, tab, chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, tab, `document.getElementById("chat-input").value === "Follow @Style guide "`)
	mustWaitEval(t, tab, `document.getElementById("chat-mentions").hidden`)

	// $ offers columns, # records by their title.
	browsertest.MustDo(t, tab, chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "in $Pri"))
	browsertest.WaitText(t, tab, `[data-testid="chat-mentions"]`, "Price")
	browsertest.MustDo(t, tab, chromedp.KeyEvent(kb.Tab))
	browsertest.MustDo(t, tab, chromedp.SendKeys(chromedp.CSS(`[data-testid="chat-input"]`), "of #blue"))
	browsertest.WaitText(t, tab, `[data-testid="chat-mentions"]`, "Blue hat")
	browsertest.MustDo(t, tab, chromedp.KeyEvent(kb.Enter))
	mustWaitEval(t, tab, `document.getElementById("chat-input").value === "Follow @Style guide in $Price of #Blue hat "`)

	// Sending says again that there is no key, and keeps the message.
	browsertest.MustDo(t, tab, chromedp.KeyEvent(kb.Enter))
	browsertest.WaitText(t, tab, `[data-testid="chat-error"]`, "key")
	mustWaitEval(t, tab, `document.getElementById("chat-input").value.indexOf("Follow @Style guide") === 0`)
	if n := f.fake.Calls(); n != 0 {
		t.Errorf("the model was called %d times without a key", n)
	}
}
