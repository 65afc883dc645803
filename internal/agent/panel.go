package agent

import "context"

// CheckKey reports whether ownerID has a model key to run turns with: nil,
// or the NoModelKey error SendMessage would return. The chat panel says so
// before anyone writes a message.
func (s *Service) CheckKey(ctx context.Context, ownerID string) error {
	return s.checkKey(ctx, ownerID)
}
