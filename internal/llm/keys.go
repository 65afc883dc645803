package llm

import (
	"errors"
	"strings"

	"github.com/scratchpad/scratchpad/internal/secrets"
)

// KeyPurpose is the purpose a user's model key is sealed for: bound to the
// user, so a sealed key copied onto another user's row does not open.
func KeyPurpose(userID string) string { return "llm_key:" + userID }

// SealUserKey encrypts a user's API key (one they added, or one provisioned
// for them) for storage. Stored keys are never shown again: the settings
// page shows only KeyHint.
func SealUserKey(kr *secrets.Keyring, userID, apiKey string) ([]byte, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, errors.New("llm: the API key is empty")
	}
	if strings.ContainsAny(apiKey, " \t\r\n") {
		return nil, errors.New("llm: an API key has no spaces or line breaks; paste it again")
	}
	return kr.Seal(KeyPurpose(userID), []byte(apiKey)), nil
}

// OpenUserKey decrypts what SealUserKey sealed for the same user.
func OpenUserKey(kr *secrets.Keyring, userID string, sealed []byte) (string, error) {
	b, err := kr.Open(KeyPurpose(userID), sealed)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// KeyHint is what may be shown of a key once stored: its prefix and last
// four characters, such as "sk-or-v1-…a1b2".
func KeyHint(apiKey string) string {
	if len(apiKey) < 12 {
		return "…"
	}
	prefix := ""
	if i := strings.LastIndex(apiKey[:min(len(apiKey)-4, 10)], "-"); i >= 0 {
		prefix = apiKey[:i+1]
	}
	return prefix + "…" + apiKey[len(apiKey)-4:]
}
