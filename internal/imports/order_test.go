package imports

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestImportKeepsFileOrderAcrossBlocksAndBatches imports more rows than a
// block carries, in batches that end mid-block, and checks that records
// follow the file and their ids grow with it.
func TestImportKeepsFileOrderAcrossBlocksAndBatches(t *testing.T) {
	t.Parallel()
	const rows = 3*blockRows + 17
	f := MustFixture(t, Options{BatchRows: blockRows + 44})
	var b strings.Builder
	b.WriteString("n,label\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "%d,row %d\n", i, i)
	}
	up := f.MustUpload(t, "n.csv", b.String())
	p, err := f.svc.Preview(context.Background(), f.owner, f.wbID, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, table := f.MustStart(t, up.ID, ImportInput{TableName: "Numbers", Columns: DefaultChoices(p)})
	if u = f.MustRun(t, u); u.Status != StatusDone || u.RowsImported != rows || u.LastRow != rows+1 || u.BytesDone != u.SizeBytes {
		t.Fatalf("import %+v", u)
	}
	n := colID(t, table, "n")
	var prev string
	for i, r := range f.records(t, table.ID) {
		if got := fmt.Sprint(r.Fields[n]); got != strconv.Itoa(i+1) {
			t.Fatalf("record %d has n = %s", i+1, got)
		}
		if r.ID <= prev {
			t.Fatalf("record %d id %s does not follow %s", i+1, r.ID, prev)
		}
		prev = r.ID
	}
}
