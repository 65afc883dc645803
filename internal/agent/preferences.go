package agent

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// MaxCostWarning bounds the chat cost, in US dollars, a person can ask to
// be warned past.
const MaxCostWarning = 100000

// CostWarning is the cost of a chat, in US dollars, past which the chat
// panel warns userID (0: never): their own setting, else def (the server's
// AGENT_COST_WARNING_USD). own reports whether they set one.
func (s *Service) CostWarning(ctx context.Context, userID string, def float64) (usd float64, own bool, err error) {
	v, err := s.q.GetAgentCostWarning(ctx, userID)
	if db.IsNoRows(err) {
		return def, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("agent: read cost warning: %w", err)
	}
	return v, true, nil
}

// SetCostWarning keeps the amount, as a person typed it ("1", "0.50",
// "$2"), past which a chat's cost warns userID; empty text goes back to
// the server's default. Errors: Invalid.
func (s *Service) SetCostWarning(ctx context.Context, userID, amount string) error {
	amount = strings.TrimPrefix(strings.TrimSpace(amount), "$")
	if amount == "" {
		if err := s.q.ClearAgentCostWarning(ctx, userID); err != nil {
			return fmt.Errorf("agent: clear cost warning: %w", err)
		}
		return nil
	}
	v, err := strconv.ParseFloat(amount, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > MaxCostWarning {
		return apperr.InvalidFields("Please correct the amount.", apperr.FieldError{Field: "cost_warning",
			Message: fmt.Sprintf("must be an amount in US dollars from 0 to %d, such as 1 or 0.50 (0: never warn)", MaxCostWarning)})
	}
	if err := s.q.SetAgentCostWarning(ctx, db.SetAgentCostWarningParams{UserID: userID, CostWarning: math.Round(v*100) / 100}); err != nil {
		return fmt.Errorf("agent: keep cost warning: %w", err)
	}
	return nil
}
