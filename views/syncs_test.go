package views

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/syncs"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestGridRowSyncStates: a conflicted cell shows both values (escaped) and
// its two choices; a record deleted at the source shows its banner; a
// record the last publish refused says why.
func TestGridRowSyncStates(t *testing.T) {
	cols := []workbooks.Column{{ID: "c_title", Name: "title", Type: values.Text}, {ID: "c_price", Name: "price", Type: values.Number}}
	g := GridContext{WorkbookID: "wb1", TableID: "t1", Columns: cols, cells: cellColumns(cols)}
	rec := workbooks.Record{ID: "r1", State: workbooks.StateUpdated, EditedFields: []string{"c_title"},
		Fields:        map[string]any{"c_title": "Mine <b>", "c_price": json.Number("2")},
		Conflicts:     map[string]any{"c_title": "Theirs <i>"},
		SourceDeleted: true, PublishErrors: map[string]string{"": "duplicate <key>", "c_price": "too big"}}
	var buf bytes.Buffer
	if err := GridRow(g, rec, CellState{}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`data-testid="conflict-mine">Mine &lt;b&gt;</span>`,
		`data-testid="conflict-theirs">Theirs &lt;i&gt;</span>`,
		`hx-post="/workbooks/wb1/tables/t1/records/r1/cells/c_title/resolve"`,
		`data-testid="keep-mine"`, `data-testid="take-theirs"`,
		`class="source-deleted"`, `hx-post="/workbooks/wb1/tables/t1/records/r1/source-deleted"`,
		`publish failed: duplicate &lt;key&gt;`,
		`title="Publish failed: too big"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("row lacks %s:\n%s", want, html)
		}
	}
	if strings.Count(html, `data-testid="conflict-cell"`) != 1 {
		t.Errorf("want exactly one conflicted cell:\n%s", html)
	}
}

// TestSyncStatusWords: the phase and the outcome in words.
func TestSyncStatusWords(t *testing.T) {
	sy := syncs.Sync{ID: "s1", WorkbookID: "wb1", Kind: syncs.KindPublish, Status: syncs.StatusRunning,
		Tables: []syncs.SyncTable{{TableID: "t1", Phase: "updating", Done: 3, Total: 12}}}
	v := SyncStatusOf(sy, "t1")
	if got := v.phaseText(); got != "Publishing: updating records at the source (3 of 12 done)…" {
		t.Errorf("phase %q", got)
	}
	if v.percent() != 25 {
		t.Errorf("percent %d", v.percent())
	}
	sy.Status, sy.Tables[0].Phase, sy.Tables[0].Updated, sy.Tables[0].Failed = syncs.StatusDone, "done", 2, 1
	var buf bytes.Buffer
	if err := SyncStatus(SyncStatusOf(sy, "t1")).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "Publish finished: 0 created, 2 updated, 0 deleted at the source.") ||
		!strings.Contains(s, "1 record failed; it is kept for a retry.") || strings.Contains(s, "hx-get") {
		t.Errorf("ended status %s", s)
	}
}
