// Package llmkeys decides which key pays for a user's model calls and keeps
// the keys users have: the one a user adds in settings, and the one
// provisioned for them through OpenRouter's key-provisioning API when
// LLM_PROVISIONING_KEY is set, whose monthly credit limit an admin
// changes. Keys are sealed at rest (llm.SealUserKey, bound to the user) and
// never leave this package except to make a call (KeyFor): people see only
// a hint.
package llmkeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/internal/secrets"
)

// Where a key came from, as KeyFor reports it.
const (
	SourceUser        = "user"
	SourceProvisioned = "provisioned"
	SourceServer      = "server"
)

// MaxKeyLen caps a key a user adds, in bytes.
const MaxKeyLen = 512

// DefaultMonthlyLimit is the monthly credit limit, in US dollars, of a key
// provisioned for a user before an admin sets one.
const DefaultMonthlyLimit = 5.0

// Options configures a Service.
type Options struct {
	// ServerKey is LLM_API_KEY, used when a user has no key of their own
	// and nothing is provisioned.
	ServerKey string
	// Provisioner, when set, gives every user a key of their own.
	Provisioner *llm.Provisioner
	// MonthlyLimit is the limit of newly provisioned keys; 0 means
	// DefaultMonthlyLimit.
	MonthlyLimit float64
	Logger       *slog.Logger
}

// Service keeps users' model keys.
type Service struct {
	q    *db.Queries
	keys *secrets.Keyring
	opts Options
}

// NewService returns the keys service over pool, sealing with keys.
func NewService(pool *pgxpool.Pool, keys *secrets.Keyring, opts Options) *Service {
	if opts.MonthlyLimit <= 0 {
		opts.MonthlyLimit = DefaultMonthlyLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{q: db.New(pool), keys: keys, opts: opts}
}

// Provisioning reports whether per-user keys are provisioned.
func (s *Service) Provisioning() bool { return s.opts.Provisioner != nil }

// HasServerKey reports whether LLM_API_KEY is set.
func (s *Service) HasServerKey() bool { return s.opts.ServerKey != "" }

// SetOwnKey stores apiKey as userID's own key, replacing any before, and
// returns its hint.
func (s *Service) SetOwnKey(ctx context.Context, userID, apiKey string) (string, error) {
	if len(apiKey) > MaxKeyLen {
		return "", apperr.InvalidFields("That is too long for an API key.", apperr.FieldError{Field: "api_key", Message: fmt.Sprintf("must be at most %d characters", MaxKeyLen)})
	}
	sealed, err := llm.SealUserKey(s.keys, userID, apiKey)
	if err != nil {
		msg := "Paste the API key."
		if apiKey != "" {
			msg = "An API key has no spaces or line breaks; paste it again."
		}
		return "", apperr.InvalidFields(msg, apperr.FieldError{Field: "api_key", Message: msg})
	}
	opened, err := llm.OpenUserKey(s.keys, userID, sealed)
	if err != nil {
		return "", err
	}
	hint := llm.KeyHint(opened)
	if err := s.q.SetUserLLMKey(ctx, db.SetUserLLMKeyParams{UserID: userID, SealedKey: sealed, Hint: hint}); err != nil {
		return "", err
	}
	return hint, nil
}

// OwnKeyHint returns the hint of userID's own key, "" when there is none.
func (s *Service) OwnKeyHint(ctx context.Context, userID string) (string, error) {
	r, err := s.q.GetUserLLMKey(ctx, userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return r.Hint, nil
}

// DeleteOwnKey removes userID's own key; removing none is not an error.
func (s *Service) DeleteOwnKey(ctx context.Context, userID string) error {
	_, err := s.q.DeleteUserLLMKey(ctx, userID)
	return err
}

// KeyFor returns the key that pays for userID's model calls and where it
// came from: the user's own key, else the key provisioned for them
// (created now if they have none yet), else the server's key. With none
// of them it returns llm.ErrNoKey (an *llm.Error of KindNoKey).
func (s *Service) KeyFor(ctx context.Context, userID string) (key, source string, err error) {
	r, err := s.q.GetUserLLMKey(ctx, userID)
	switch {
	case err == nil:
		k, err := llm.OpenUserKey(s.keys, userID, r.SealedKey)
		if err != nil {
			return "", "", fmt.Errorf("llmkeys: opening %s's key: %w", userID, err)
		}
		return k, SourceUser, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return "", "", err
	}
	if s.opts.Provisioner != nil {
		k, err := s.provisioned(ctx, userID, s.opts.MonthlyLimit)
		if err != nil {
			return "", "", err
		}
		return k, SourceProvisioned, nil
	}
	if s.opts.ServerKey != "" {
		return s.opts.ServerKey, SourceServer, nil
	}
	return "", "", llm.ErrNoKey
}

// provisioned opens userID's provisioned key, provisioning one with limit
// when there is none. Of two requests provisioning at once, the first row
// stays and the other deletes the key it made.
func (s *Service) provisioned(ctx context.Context, userID string, limit float64) (string, error) {
	r, err := s.q.GetProvisionedLLMKey(ctx, userID)
	if err == nil {
		return llm.OpenUserKey(s.keys, userID, r.SealedKey)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", err
	}
	pk, secret, err := s.opts.Provisioner.Create(ctx, "scratchpad user "+userID, limit)
	if err != nil {
		return "", fmt.Errorf("llmkeys: provisioning a key: %w", err)
	}
	sealed, err := llm.SealUserKey(s.keys, userID, secret)
	if err != nil {
		return "", err
	}
	n, err := s.q.InsertProvisionedLLMKey(ctx, db.InsertProvisionedLLMKeyParams{UserID: userID, KeyHash: pk.Hash, SealedKey: sealed, Hint: llm.KeyHint(secret)})
	if err != nil || n == 0 {
		// Not stored (an error, or another request won): the key must not
		// live on unowned at the provider.
		if derr := s.opts.Provisioner.Delete(context.WithoutCancel(ctx), pk.Hash); derr != nil {
			s.opts.Logger.Error("deleting an unused provisioned key", "hash", pk.Hash, "err", derr)
		}
		if err != nil {
			return "", err
		}
		return s.provisioned(ctx, userID, limit)
	}
	return secret, nil
}

// Provisioned describes a user's provisioned key for admins.
type Provisioned struct {
	Hint string
	// Limit is the monthly credit limit in US dollars; nil means none.
	Limit *float64
	// UsageMonthly is what was spent this month, in US dollars.
	UsageMonthly float64
	Disabled     bool
}

// ProvisionedKey describes userID's provisioned key as the provisioning API
// reports it; ok is false when the user has none yet.
func (s *Service) ProvisionedKey(ctx context.Context, userID string) (p Provisioned, ok bool, err error) {
	if s.opts.Provisioner == nil || !ids.ValidUUID(userID) {
		return Provisioned{}, false, nil
	}
	r, err := s.q.GetProvisionedLLMKey(ctx, userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Provisioned{}, false, nil
	}
	if err != nil {
		return Provisioned{}, false, err
	}
	k, err := s.opts.Provisioner.Get(ctx, r.KeyHash)
	if err != nil {
		return Provisioned{Hint: r.Hint}, true, fmt.Errorf("llmkeys: reading the provisioned key: %w", err)
	}
	return Provisioned{Hint: r.Hint, Limit: k.Limit, UsageMonthly: k.UsageMonthly, Disabled: k.Disabled}, true, nil
}

// SetMonthlyLimit sets the monthly credit limit (US dollars) of userID's
// provisioned key, provisioning one with that limit when there is none,
// and records the change in the audit log as actorID's.
func (s *Service) SetMonthlyLimit(ctx context.Context, actorID, userID string, limit float64) error {
	if s.opts.Provisioner == nil {
		return apperr.New(apperr.Conflict, "Keys are not provisioned: LLM_PROVISIONING_KEY is not set.")
	}
	if !(limit >= 0 && limit <= 1e6) {
		return apperr.InvalidFields("A monthly limit is between $0 and $1,000,000.", apperr.FieldError{Field: "monthly_limit", Message: "must be between 0 and 1000000"})
	}
	r, err := s.q.GetProvisionedLLMKey(ctx, userID)
	var before any
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := s.provisioned(ctx, userID, limit); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if k, err := s.opts.Provisioner.Get(ctx, r.KeyHash); err == nil && k.Limit != nil {
			before = *k.Limit
		}
		if _, err := s.opts.Provisioner.SetLimit(ctx, r.KeyHash, limit); err != nil {
			return fmt.Errorf("llmkeys: setting the monthly limit: %w", err)
		}
	}
	b, _ := json.Marshal(map[string]any{"monthly_limit": before})
	a, _ := json.Marshal(map[string]any{"monthly_limit": limit})
	var actor *string
	if actorID != "" {
		actor = &actorID
	}
	return s.q.InsertAuditEntry(ctx, db.InsertAuditEntryParams{ActorID: actor, TargetUserID: &userID, Action: "user.llm_limit_changed", Before: b, After: a})
}

// Rotate seals every stored key again with the keyring's current key and
// returns how many it resealed: `scratchpad secrets rotate` runs it with
// the data sources' rotation.
func (s *Service) Rotate(ctx context.Context) (int, error) {
	n := 0
	for _, kind := range []string{SourceUser, SourceProvisioned} {
		after := "00000000-0000-0000-0000-000000000000"
		for {
			var rows []db.UserLLMKeysToRotateRow
			var err error
			if kind == SourceUser {
				rows, err = s.q.UserLLMKeysToRotate(ctx, after)
			} else {
				var prov []db.ProvisionedLLMKeysToRotateRow
				prov, err = s.q.ProvisionedLLMKeysToRotate(ctx, after)
				for _, p := range prov {
					rows = append(rows, db.UserLLMKeysToRotateRow(p))
				}
			}
			if err != nil {
				return n, err
			}
			if len(rows) == 0 {
				break
			}
			for _, r := range rows {
				after = r.UserID
				if s.keys.Current(r.SealedKey) {
					continue
				}
				sealed, err := s.keys.Reseal(llm.KeyPurpose(r.UserID), r.SealedKey)
				if err != nil {
					return n, fmt.Errorf("%s key of user %s: %w", kind, r.UserID, err)
				}
				if kind == SourceUser {
					err = s.q.ResealUserLLMKey(ctx, db.ResealUserLLMKeyParams{UserID: r.UserID, SealedKey: sealed, OldSealedKey: r.SealedKey})
				} else {
					err = s.q.ResealProvisionedLLMKey(ctx, db.ResealProvisionedLLMKeyParams{UserID: r.UserID, SealedKey: sealed, OldSealedKey: r.SealedKey})
				}
				if err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}
