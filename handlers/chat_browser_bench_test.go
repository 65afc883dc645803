package handlers_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scratchpad/scratchpad/internal/browsertest"
	"github.com/scratchpad/scratchpad/internal/llmfake"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// Browser legs of issue 10's agent targets, measured in Chromium against a
// whole instance and the fake model endpoint. They run only with -bench;
// see the README for figures. Times are compared across the processes on
// the wall clock of the one machine: the fake's time.Now against the page's
// performance.timeOrigin + performance.now().

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func epochMS(t time.Time) float64 { return float64(t.UnixMicro()) / 1000 }

// stamp records the time a scripted reply reaches a point.
type stamp struct {
	mu sync.Mutex
	at time.Time
}

func (s *stamp) set() { s.mu.Lock(); s.at = time.Now(); s.mu.Unlock() }
func (s *stamp) get() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at
}

// BenchmarkAgentFirstTokenToPanel: from the fake model flushing a turn's
// first piece of text to that text visible in the browser's chat panel
// (target p95 ≤ 150 ms). One op is one turn sent from the panel.
func BenchmarkAgentFirstTokenToPanel(b *testing.B) {
	if testing.Short() {
		b.Skip("drives Chromium: run with -bench")
	}
	f := newChatFixture(b, "bench-token@example.com", true)
	f.openPanel(b)
	var lat []float64
	b.ResetTimer()
	for i := range b.N {
		mark := fmt.Sprintf("tok%dx", i)
		var first stamp
		f.fake.Script(llmfake.Stream(llmfake.Turn{Text: []string{mark + " ", "and the rest."}, Delay: 300 * time.Millisecond,
			FirstText: first.set, Prompt: 10, Complete: 2}))
		// The page notes when the mark first shows in the panel's text.
		browsertest.MustEval[bool](b, f.tab, fmt.Sprintf(`window.__seen = new Promise(resolve => {
			const check = () => {
				const el = document.querySelector('[data-testid="chat-stream-text"]');
				if (el && el.textContent.includes(%q)) { resolve(performance.timeOrigin + performance.now()); return true; }
				return false;
			};
			const mo = new MutationObserver(() => { if (check()) { mo.disconnect(); } });
			mo.observe(document.getElementById("chat-panel"), {subtree: true, childList: true, characterData: true});
		}); true`, mark))
		f.send(b, "Say something "+mark)
		seen := awaitEval[float64](b, f.tab, `window.__seen`)
		lat = append(lat, seen-epochMS(first.get()))
		mustWaitEval(b, f.tab, `!document.querySelector('[data-testid="chat-msg-assistant"][data-status="running"]') && !document.querySelector('[data-testid="chat-stop"]')`)
	}
	b.StopTimer()
	b.ReportMetric(percentile(lat, 0.5), "first-token-p50-ms")
	b.ReportMetric(percentile(lat, 0.95), "first-token-p95-ms")
	b.ReportMetric(maxOf(lat), "first-token-max-ms")
}

// BenchmarkAgentSuggest500ToGrid: one tool call suggesting new titles for
// 500 records, from the fake sending the call to every rendered row in the
// grid's view showing the new title as a diff (target ≤ 1 s). One op is one
// turn; each suggests new titles again.
func BenchmarkAgentSuggest500ToGrid(b *testing.B) {
	if testing.Short() {
		b.Skip("drives Chromium: run with -bench")
	}
	f := newChatFixture(b, "bench-suggest@example.com", true)
	ctx := context.Background()
	creates := make([]workbooks.RecordFields, 497) // with the fixture's 3
	for i := range creates {
		creates[i] = workbooks.RecordFields{Fields: map[string]any{"Title": fmt.Sprintf("item %d", i), "Price": 100 + i}}
	}
	if _, err := f.inst.App.Workbooks.BatchRecords(ctx, f.ownerID, f.wb.ID, f.tbl.ID, workbooks.Batch{Creates: creates}); err != nil {
		b.Fatal(err)
	}
	page, err := f.inst.App.Workbooks.FindRecords(ctx, f.ownerID, f.wb.ID, f.tbl.ID, workbooks.RecordQuery{Limit: 500})
	if err != nil {
		b.Fatal(err)
	}
	if len(page.Records) != 500 {
		b.Fatalf("%d records, want 500", len(page.Records))
	}
	browsertest.MustDo(b, f.tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-toggle"]`)))
	f.openPanel(b)
	var lat []float64
	b.ResetTimer()
	for i := range b.N {
		mark := fmt.Sprintf("v%dx", i)
		var ups []any
		for _, r := range page.Records {
			ups = append(ups, map[string]any{"record_id": r.ID, "fields": map[string]any{"Title": mark + " " + r.ID[:8]}})
		}
		var sent stamp
		f.fake.Script(
			llmfake.Stream(llmfake.Turn{Text: []string{"Suggesting."}, Calls: []llmfake.Call{toolCall(fmt.Sprintf("c%d", i), "suggest_updates", map[string]any{"updates": ups})},
				BeforeCalls: sent.set, Prompt: 10, Complete: 2}),
			llmfake.Stream(llmfake.Turn{Text: []string{"Done."}, Prompt: 10, Complete: 2}),
		)
		// The page notes when every rendered row in the grid's view shows
		// this turn's title as a diff.
		browsertest.MustEval[bool](b, f.tab, fmt.Sprintf(`window.__seen = new Promise(resolve => {
			const check = () => {
				const wrap = document.getElementById("grid-wrap").getBoundingClientRect();
				const rows = [...document.querySelectorAll('#grid-body tr[data-record-id]')].filter(tr => {
					const r = tr.getBoundingClientRect(); return r.bottom > wrap.top && r.top < Math.min(wrap.bottom, innerHeight);
				});
				if (rows.length > 0 && rows.every(tr => { const s = tr.querySelector('td[data-column="Title"] [data-testid="suggestion"]'); return s && s.textContent.includes(%q); })) {
					resolve({at: performance.timeOrigin + performance.now(), rows: rows.length}); return;
				}
				requestAnimationFrame(check);
			};
			requestAnimationFrame(check);
		}); true`, mark))
		f.send(b, "Retitle all "+mark)
		got := awaitEval[struct {
			At   float64 `json:"at"`
			Rows int     `json:"rows"`
		}](b, f.tab, `window.__seen`)
		lat = append(lat, got.At-epochMS(sent.get()))
		if i == 0 {
			b.Logf("%d rows in view", got.Rows)
		}
		b.StopTimer()
		for deadline := time.Now().Add(10 * time.Second); ; {
			var running int
			if err := f.inst.Pool.QueryRow(ctx, `SELECT count(*) FROM agent_messages WHERE status = 'running'`).Scan(&running); err != nil {
				b.Fatal(err)
			}
			if running == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("turn %d still running in the database after 10 s", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
		mustWaitEval(b, f.tab, `!document.querySelector('[data-testid="chat-msg-assistant"][data-status="running"]') && !document.querySelector('[data-testid="chat-stop"]')`)
		var n int
		if err := f.inst.Pool.QueryRow(ctx, `SELECT count(*) FROM suggestions WHERE table_id = $1`, f.tbl.ID).Scan(&n); err != nil {
			b.Logf("counting suggestions: %v", err)
		} else if n != 500 {
			b.Fatalf("%d pending suggestions, want 500", n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(percentile(lat, 0.5), "visible-p50-ms")
	b.ReportMetric(maxOf(lat), "visible-max-ms")
}
