package imports

import (
	"context"
	"fmt"
	"io"

	"github.com/scratchpad/scratchpad/internal/db"
)

// chunksPerFetch is how many chunks one query fetches: 4 MiB, so reading a
// file costs a query per 4 MiB and holds at most that much.
const chunksPerFetch = 4

// chunkReader reads an upload's file from its chunks, in order.
type chunkReader struct {
	ctx      context.Context
	q        *db.Queries
	uploadID string
	next     int32 // the next chunk to fetch
	pending  [][]byte
	cur      []byte
	done     bool
}

func (s *Service) openFile(ctx context.Context, uploadID string) *chunkReader {
	return &chunkReader{ctx: ctx, q: s.q, uploadID: uploadID}
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if len(r.pending) > 0 {
			r.cur, r.pending = r.pending[0], r.pending[1:]
			continue
		}
		if r.done {
			return 0, io.EOF
		}
		if err := r.fetch(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func (r *chunkReader) fetch() error {
	rows, err := r.q.ListUploadChunks(r.ctx, db.ListUploadChunksParams{UploadID: r.uploadID, FromSeq: r.next, MaxChunks: chunksPerFetch})
	if err != nil {
		return fmt.Errorf("imports: read chunks: %w", err)
	}
	if len(rows) < chunksPerFetch {
		r.done = true
	}
	for _, row := range rows {
		if row.Seq != r.next {
			return fmt.Errorf("imports: upload %s is missing chunk %d", r.uploadID, r.next)
		}
		r.pending = append(r.pending, row.Data)
		r.next++
	}
	return nil
}
