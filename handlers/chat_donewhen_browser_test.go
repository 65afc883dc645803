package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/llmfake"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// gated holds a scripted reply until gate is closed, so a test sees the
// state of a turn between two of its model calls.
func gated(gate <-chan struct{}, r llmfake.Reply) llmfake.Reply {
	return func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-gate:
		case <-req.Context().Done():
			return
		}
		r(w, req)
	}
}

// TestBrowserAgentDoneWhen is issue 10's "done when" browser test: with a
// filter set in the grid, ask the agent to rewrite the titles of the
// filtered records; the suggestions appear live in the grid as diffs while
// the agent works; accept some and reject the rest, in the grid; start a
// long run and stop it. The tokens and cost shown in the panel and on the
// usage page equal what the fake reported.
func TestBrowserAgentDoneWhen(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, "chat-donewhen@example.com", true)
	tab := f.tab
	ctx := context.Background()
	// Two more products; the filter keeps the four priced 11 and up.
	recs := f.recs
	for i, title := range []string{"Yellow sock", "Black belt"} {
		r, err := f.inst.App.Workbooks.CreateRecord(ctx, f.ownerID, f.wb.ID, f.tbl.ID, map[string]any{"Title": title, "Price": 13 + i})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	const filter = "Price >= 11"
	filtered := recs[1:] // Blue hat, Green scarf, Yellow sock, Black belt
	newTitle := map[string]string{
		filtered[0].ID: "Blue wool hat", filtered[1].ID: "Green silk scarf",
		filtered[2].ID: "Yellow cotton sock", filtered[3].ID: "Black leather belt",
	}
	suggest := func(id string, rs ...workbooks.Record) llmfake.Call {
		var ups []any
		for _, r := range rs {
			ups = append(ups, map[string]any{"record_id": r.ID, "fields": map[string]any{"Title": newTitle[r.ID]}})
		}
		return toolCall(id, "suggest_updates", map[string]any{"updates": ups})
	}
	// The turn's three model calls and the usage each reports; the second
	// waits for the test to look at the grid in between.
	steps := []llmfake.Turn{
		{Text: []string{"Rewriting the titles ", "of the 4 filtered records."}, Calls: []llmfake.Call{suggest("c1", filtered[0], filtered[1])},
			Prompt: 1000, Complete: 50, Cost: "0.12", Delay: 50 * time.Millisecond},
		{Text: []string{"Two more."}, Calls: []llmfake.Call{suggest("c2", filtered[2], filtered[3])}, Prompt: 1400, Complete: 60, Cost: "0.25"},
		{Text: []string{"Done: 4 new titles to review."}, Prompt: 1800, Complete: 20, Cost: "0.05"},
	}
	const wantIn, wantOut, wantCost = 4200, 130, "$0.42"
	gate := make(chan struct{})
	f.fake.Script(llmfake.Stream(steps[0]), gated(gate, llmfake.Stream(steps[1])), llmfake.Stream(steps[2]))

	browsertest.MustDo(t, tab, chromedp.Navigate(f.gridURL+"?filter="+url.QueryEscape(filter)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-toggle"]`)))
	if n := browsertest.MustEval[int](t, tab, `document.querySelectorAll('#grid-body tr[data-record-id]').length`); n != 4 {
		t.Fatalf("the filtered grid shows %d records, want 4", n)
	}
	f.openPanel(t)
	browsertest.WaitText(t, tab, `[data-testid="chat-scope"]`, "Table, filtered: "+filter)
	f.send(t, "Rewrite the titles of the filtered records")

	titleCell := func(id string) string { return fmt.Sprintf(`tr[data-record-id="%s"] td[data-column="Title"]`, id) }
	hasDiff := func(id string) string {
		return fmt.Sprintf(`!!document.querySelector('%s [data-testid="suggestion"]')`, titleCell(id))
	}
	// While the agent works: the first two suggestions are diffs in the
	// grid, the turn is still running, the last two are not there yet.
	mustWaitEval(t, tab, hasDiff(filtered[0].ID)+" && "+hasDiff(filtered[1].ID))
	browsertest.WaitText(t, tab, titleCell(filtered[0].ID)+` [data-testid="suggestion"]`, "Blue wool hat")
	if !browsertest.MustEval[bool](t, tab, `!!document.querySelector('[data-testid="chat-msg-assistant"][data-status="running"]')`) {
		t.Error("the turn had ended when its first suggestions showed: they did not come live")
	}
	if browsertest.MustEval[bool](t, tab, hasDiff(filtered[2].ID)+" || "+hasDiff(filtered[3].ID)) {
		t.Error("the second step's suggestions showed before the model made them")
	}
	// The diff marks what changes: the old and the new words.
	if !browsertest.MustEval[bool](t, tab, fmt.Sprintf(`!!document.querySelector('%s [data-testid="suggestion"] ins') && !!document.querySelector('%s [data-testid="suggestion"] del, %s [data-testid="suggestion"] ins')`,
		titleCell(filtered[0].ID), titleCell(filtered[0].ID), titleCell(filtered[0].ID))) {
		t.Error("the suggestion is not shown as a diff")
	}
	shoot(t, tab, "agent-donewhen-live")
	close(gate)
	mustWaitEval(t, tab, hasDiff(filtered[2].ID)+" && "+hasDiff(filtered[3].ID))
	mustWaitEval(t, tab, `!!document.querySelector('[data-testid="chat-msg-assistant"][data-status="done"]')`)
	// The model was asked with the grid's filter.
	if bodies := f.fake.Bodies(); len(bodies) == 0 || !strings.Contains(fmt.Sprint(bodies[0]["messages"]), filter) {
		t.Error("the model's first request does not carry the grid's filter")
	}

	// Accept the first two in their cells, reject the other two.
	for i, r := range filtered {
		btn := "accept-cell"
		if i >= 2 {
			btn = "reject-cell"
		}
		clickJS(t, tab, fmt.Sprintf(`%s [data-testid="%s"]`, titleCell(r.ID), btn))
		mustWaitEval(t, tab, "!"+hasDiff(r.ID))
	}
	browsertest.WaitText(t, tab, titleCell(filtered[0].ID), "Blue wool hat")
	browsertest.WaitText(t, tab, titleCell(filtered[3].ID), "Black belt")
	title, _ := f.tbl.Columns.Lookup("Title")
	for i, r := range filtered {
		got, err := f.inst.App.Workbooks.FindRecord(ctx, f.ownerID, f.wb.ID, f.tbl.ID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := r.Fields[title.ID]
		if i < 2 {
			want = newTitle[r.ID]
		}
		if got.Fields[title.ID] != want || len(got.Suggestions) != 0 {
			t.Errorf("record %d in the database: title %v, suggestions %v; want %v and none", i, got.Fields[title.ID], got.Suggestions, want)
		}
	}

	// A run that never ends, stopped from the panel.
	f.fake.Script(llmfake.Forever(50 * time.Millisecond))
	f.send(t, "Now rewrite them all again, forever")
	browsertest.WaitText(t, tab, `[data-testid="chat-stream-text"]`, "and on")
	clickJS(t, tab, `[data-testid="chat-stop"]`)
	browsertest.MustDo(t, tab, chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-stopped"]`)))
	mustWaitEval(t, tab, `!document.querySelector('[data-testid="chat-stop"]') && !document.querySelector('[data-status="running"]') && !!document.querySelector('[data-testid="chat-msg-assistant"][data-status="stopped"]')`)

	// The panel's figures are what the fake reported.
	browsertest.WaitText(t, tab, `[data-testid="chat-msg-assistant"][data-status="done"] [data-testid="chat-usage"]`,
		fmt.Sprintf("%d in / %d out · %s", wantIn, wantOut, wantCost))
	browsertest.WaitText(t, tab, `[data-testid="chat-cost"]`, wantCost)
	shoot(t, tab, "agent-donewhen-stopped")

	// And so are the usage page's.
	browsertest.MustDo(t, tab, chromedp.Navigate(f.inst.URL+"/usage"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="usage-chart"]`)))
	for sel, want := range map[string]string{
		`[data-testid="usage-total-cost"]`: wantCost, `[data-testid="usage-total-in"]`: "4,200", `[data-testid="usage-total-out"]`: "130",
		`[data-testid="usage-total-turns"]`: "2",
	} {
		if got := browsertest.MustEval[string](t, tab, fmt.Sprintf(`document.querySelector(%q).textContent.trim()`, sel)); got != want {
			t.Errorf("usage page %s = %q, want %q", sel, got, want)
		}
	}
	row := browsertest.MustEval[string](t, tab, `document.querySelector('[data-testid="usage-session-row"]').textContent`)
	for _, want := range []string{"Shop", "4,200", "130", wantCost} {
		if !strings.Contains(row, want) {
			t.Errorf("the session's usage row %q lacks %q", row, want)
		}
	}
	shoot(t, tab, "usage-page")
	browsertest.MustEval[bool](t, tab, `document.querySelector('[data-testid="usage-sessions"]').scrollIntoView(); true`)
	if _, err := browsertest.Screenshot(t, tab, "usage-page-tables"); err != nil {
		t.Error(err)
	}
	// The first account is an admin: everyone's usage, by user.
	browsertest.MustDo(t, tab, chromedp.Navigate(f.inst.URL+"/admin/usage"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="usage-users"]`)))
	browsertest.WaitText(t, tab, `[data-testid="usage-user-row"]`, "chat-donewhen@example.com")
	browsertest.MustEval[bool](t, tab, `document.querySelector('[data-testid="usage-users"]').scrollIntoView(); true`)
	if _, err := browsertest.Screenshot(t, tab, "admin-usage-tables"); err != nil {
		t.Error(err)
	}
}

// TestBrowserChatQuickTurnsEnd: turns that end at once, one after another,
// each show as done in the panel. The end of a turn used to be lost when it
// came while the panel was still loading the session (the reload it asked
// for was dropped, or a response from before the end was swapped in after
// it), leaving "Working..." and a Stop button for good.
func TestBrowserChatQuickTurnsEnd(t *testing.T) {
	t.Parallel()
	f := newChatFixture(t, "chat-quick@example.com", true)
	f.openPanel(t)
	for i := range 12 {
		f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{fmt.Sprintf("Answer %d.", i)}, Calls: []llmfake.Call{
			suggestTitle(fmt.Sprintf("q%d", i), f.recs[i%3].ID, fmt.Sprintf("Title %d", i))}, Prompt: 10, Complete: 1}),
			llmfake.Stream(llmfake.Turn{Text: []string{"Done."}, Prompt: 10, Complete: 1}))
		f.send(t, fmt.Sprintf("Quick %d", i))
		mustWaitEval(t, f.tab, fmt.Sprintf(`document.querySelectorAll('[data-testid="chat-msg-assistant"][data-status="done"]').length === %d && !document.querySelector('[data-testid="chat-stop"]')`, i+1))
	}
}

func suggestTitle(id, recordID, title string) llmfake.Call {
	return toolCall(id, "suggest_updates", map[string]any{"updates": []any{
		map[string]any{"record_id": recordID, "fields": map[string]any{"Title": title}}}})
}
