package syncs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/recordindex"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// TestPullLeavesABigTableReady is issue 9's item 11 for pulls: a first pull
// that makes a table big asks for the table's indexes before it says done
// (it does not wait for them: a pull is held to 3× a COPY of its rows), the
// index queue's worker (the fixture's River client) builds them moments
// later, and the first sorted pages then use them, with autovacuum off as
// on the test server.
func TestPullLeavesABigTableReady(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := mustFixture(t, 3000)
	f.store.SetIndexThreshold(2000)
	tbl := f.mustAddProducts(t)
	idx, err := f.store.Indexes().Find(ctx, f.wb, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) == 0 {
		t.Fatal("the pull left the big table without its indexes asked for")
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if idx, err = f.store.Indexes().Find(ctx, f.wb, tbl.ID); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(idx, func(ri recordindex.Index) bool { return ri.Status != "ready" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexes not built 30 s after the pull: %+v", idx)
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
