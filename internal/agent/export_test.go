package agent

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetBeforeCommit makes every step run fn right before its commit.
func (s *Service) SetBeforeCommit(fn func(ctx context.Context, tx pgx.Tx) error) { s.beforeCommit = fn }
