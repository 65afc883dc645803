package syncs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestPullLeavesABigTableReady is issue 9's item 11 for pulls: a first pull
// that makes a table big ends with the table's indexes built (by the index
// queue's worker, which the fixture's River client runs), so its first
// sorted pages use them, with autovacuum off as on the test server.
func TestPullLeavesABigTableReady(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := mustFixture(t, 3000)
	f.store.SetIndexThreshold(2000)
	tbl := f.mustAddProducts(t)
	idx, err := f.store.FindRecordIndexes(ctx, f.wb, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) == 0 {
		t.Fatal("the pull left the big table without indexes")
	}
	for _, ri := range idx {
		if ri.Status != "ready" {
			t.Errorf("index %+v not ready when the pull said done", ri)
		}
	}
	for _, q := range []workbooks.RecordQuery{{Sort: "-price", Limit: 100}, {Sort: "title", Limit: 100}} {
		plan, err := f.store.ExplainFindRecords(ctx, f.owner, f.wb, tbl.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, " ri_") {
			t.Errorf("the first page %+v after the pull uses no index of the table:\n%s", q, plan)
		}
	}
}
