package imports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// A file of several fetches reads back byte for byte, whether chunks are
// fetched on demand or ahead, and a reader whose context ends stops with
// its error instead of hanging on the fetch under way.
func TestChunkReaderReadsTheWholeFile(t *testing.T) {
	t.Parallel()
	f := MustFixture(t, Options{})
	var b strings.Builder
	b.WriteString("n,text\n")
	for i := 0; b.Len() < (2*chunksPerFetch+1)*ChunkBytes+12345; i++ {
		fmt.Fprintf(&b, "%d,row %d of a file that spans several fetches of chunks\n", i, i)
	}
	want := b.String()
	up := f.MustUpload(t, "big.csv", want)

	for name, open := range map[string]func(context.Context, string) *chunkReader{
		"on demand": f.svc.openFile, "ahead": f.svc.openFileAhead,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := io.ReadAll(open(context.Background(), up.ID))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(want)) {
				t.Fatalf("read %d bytes, want the %d uploaded", len(got), len(want))
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r := f.svc.openFileAhead(ctx, up.ID)
		if _, err := io.ReadFull(r, make([]byte, ChunkBytes)); err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err := io.Copy(io.Discard, r)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("reading after cancel: %v, want context.Canceled", err)
		}
	})
}
