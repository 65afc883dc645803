package imports

import (
	"context"
	"fmt"
	"io"

	"github.com/scratchpad/scratchpad/internal/db"
)

// chunksPerFetch is how many chunks one query of a whole-file read fetches:
// 4 MiB, so reading a file costs a query per 4 MiB and holds at most twice
// that (one fetch read ahead). A preview, which reads the file's first
// rows, fetches one chunk at a time.
const chunksPerFetch = 4

// chunkReader reads an upload's file from its chunks, in order.
type chunkReader struct {
	ctx      context.Context
	q        *db.Queries
	uploadID string
	next     int32 // the next chunk to read
	pending  [][]byte
	cur      []byte
	done     bool
	// perFetch is how many chunks a query fetches.
	perFetch int32
	// readAhead fetches the next chunks while the caller works through
	// the current ones; ahead then holds the fetch under way.
	readAhead bool
	ahead     chan fetched
}

// fetched is the result of one query for chunks.
type fetched struct {
	rows []db.ListUploadChunksRow
	err  error
}

// openFile reads an upload's file a chunk at a time as the reader needs
// it: for reading a little of it (a preview, the header when an import
// starts).
func (s *Service) openFile(ctx context.Context, uploadID string) *chunkReader {
	return &chunkReader{ctx: ctx, q: s.q, uploadID: uploadID, perFetch: 1}
}

// openFileAhead reads an upload's whole file, each query for chunks running
// while the reader parses the chunks before them: an import's reader
// otherwise stood still for each query, a sixth of its time on a 100 MB
// file. A fetch under way when the reader stops ends with ctx.
func (s *Service) openFileAhead(ctx context.Context, uploadID string) *chunkReader {
	return &chunkReader{ctx: ctx, q: s.q, uploadID: uploadID, perFetch: chunksPerFetch, readAhead: true}
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

// fetch makes the next chunks pending: those of the fetch under way, or of
// a query run now; when reading ahead, it starts fetching the ones after.
func (r *chunkReader) fetch() error {
	var f fetched
	if r.ahead != nil {
		f = <-r.ahead
		r.ahead = nil
	} else {
		f = r.query(r.next)
	}
	if f.err != nil {
		return f.err
	}
	if len(f.rows) < int(r.perFetch) {
		r.done = true
	}
	for _, row := range f.rows {
		if row.Seq != r.next {
			return fmt.Errorf("imports: upload %s is missing chunk %d", r.uploadID, r.next)
		}
		r.pending = append(r.pending, row.Data)
		r.next++
	}
	if r.readAhead && !r.done {
		// Buffered: the query's goroutine ends once it has run, read or not.
		ahead, from := make(chan fetched, 1), r.next
		go func() { ahead <- r.query(from) }()
		r.ahead = ahead
	}
	return nil
}

// query fetches up to perFetch chunks from the chunk numbered from.
func (r *chunkReader) query(from int32) fetched {
	rows, err := r.q.ListUploadChunks(r.ctx, db.ListUploadChunksParams{UploadID: r.uploadID, FromSeq: from, MaxChunks: r.perFetch})
	if err != nil {
		return fetched{err: fmt.Errorf("imports: read chunks: %w", err)}
	}
	return fetched{rows: rows}
}
