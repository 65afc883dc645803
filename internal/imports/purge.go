package imports

import (
	"context"
	"fmt"
	"time"
)

// PurgeAbandoned deletes, with their chunks, the uploads that were never
// imported and have not changed for olderThan: a preview nobody confirmed
// (the browser was closed, an API client gave up) or an upload cut off by a
// crash. Uploads being imported, and finished ones, are kept. It returns how
// many uploads it deleted; the periodic purge job calls it.
func (s *Service) PurgeAbandoned(ctx context.Context, olderThan time.Duration) (int64, error) {
	n, err := s.q.DeleteAbandonedUploads(ctx, time.Now().Add(-olderThan))
	if err != nil {
		return 0, fmt.Errorf("imports: purge abandoned uploads: %w", err)
	}
	if n > 0 {
		s.logger.InfoContext(ctx, "imports: purged abandoned uploads", "uploads", n)
	}
	return n, nil
}
