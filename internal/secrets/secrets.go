// Package secrets seals every secret Scratchpad stores (data sources'
// credentials; users' LLM keys later) with AES-256-GCM.
//
// A Keyring holds the current key, which seals, and older keys, which only
// open. Each sealed value starts with a version byte and the id of the key
// that sealed it (the first 8 bytes of the key's SHA-256, which says which
// key without revealing it), so keys can be rotated: start with the new key
// as ENCRYPTION_KEY and the old one in ENCRYPTION_OLD_KEYS, run
// `scratchpad secrets rotate`, then drop the old key.
//
// Every value is sealed for a purpose (for example "data_source:<id>"),
// bound in as GCM's additional data: a sealed value copied onto another row
// does not open there.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key: 32 bytes, for AES-256.
const KeySize = 32

const (
	version = 1
	idSize  = 8
	// header is the version byte and the key id.
	header = 1 + idSize
)

// ErrUnknownKey means a value was sealed by a key the keyring does not
// hold: ENCRYPTION_OLD_KEYS is missing the key it was sealed with.
var ErrUnknownKey = errors.New("secrets: sealed by a key this server does not have (is ENCRYPTION_OLD_KEYS missing it?)")

// ErrCorrupt means a value is not something a keyring sealed, was altered,
// or was sealed for another purpose.
var ErrCorrupt = errors.New("secrets: the sealed value is damaged or belongs elsewhere")

type key struct {
	id   [idSize]byte
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with any of its keys.
type Keyring struct {
	current key
	all     map[[idSize]byte]key
}

// ParseKey decodes a base64 key (standard or URL alphabet, padded or not)
// of exactly 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("a key must be %d bytes, base64-encoded; this one is %d bytes", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("a key must be base64 (make one with `openssl rand -base64 32`)")
}

// NewKey returns a fresh random key, base64-encoded.
func NewKey() string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(b)
}

// NewKeyring returns a keyring that seals with current and also opens
// values sealed with any of old.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k, err := newKey(current)
	if err != nil {
		return nil, err
	}
	r := &Keyring{current: k, all: map[[idSize]byte]key{k.id: k}}
	for _, o := range old {
		ok, err := newKey(o)
		if err != nil {
			return nil, err
		}
		if _, dup := r.all[ok.id]; !dup {
			r.all[ok.id] = ok
		}
	}
	return r, nil
}

func newKey(b []byte) (key, error) {
	if len(b) != KeySize {
		return key{}, fmt.Errorf("secrets: a key must be %d bytes, not %d", KeySize, len(b))
	}
	block, err := aes.NewCipher(b)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	sum := sha256.Sum256(b)
	var k key
	copy(k.id[:], sum[:idSize])
	k.aead = aead
	return k, nil
}

// CurrentKeyID is the id of the key that seals, in hex, for logs.
func (r *Keyring) CurrentKeyID() string { return hex.EncodeToString(r.current.id[:]) }

// Seal encrypts plaintext for purpose with the current key.
func (r *Keyring) Seal(purpose string, plaintext []byte) []byte {
	nonceSize := r.current.aead.NonceSize()
	out := make([]byte, header+nonceSize, header+nonceSize+len(plaintext)+r.current.aead.Overhead())
	out[0] = version
	copy(out[1:header], r.current.id[:])
	_, _ = rand.Read(out[header:])
	return r.current.aead.Seal(out, out[header:header+nonceSize], plaintext, aad(purpose, out[:header]))
}

// Open decrypts what Seal sealed for the same purpose. Errors: ErrUnknownKey,
// ErrCorrupt.
func (r *Keyring) Open(purpose string, sealed []byte) ([]byte, error) {
	if len(sealed) < header || sealed[0] != version {
		return nil, ErrCorrupt
	}
	var id [idSize]byte
	copy(id[:], sealed[1:header])
	k, ok := r.all[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	nonceSize := k.aead.NonceSize()
	if len(sealed) < header+nonceSize+k.aead.Overhead() {
		return nil, ErrCorrupt
	}
	plain, err := k.aead.Open(nil, sealed[header:header+nonceSize], sealed[header+nonceSize:], aad(purpose, sealed[:header]))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// Current reports whether sealed was sealed by the current key, so
// rotation can skip it.
func (r *Keyring) Current(sealed []byte) bool {
	return len(sealed) >= header && sealed[0] == version && bytes.Equal(sealed[1:header], r.current.id[:])
}

// Reseal opens sealed and seals it again with the current key.
func (r *Keyring) Reseal(purpose string, sealed []byte) ([]byte, error) {
	plain, err := r.Open(purpose, sealed)
	if err != nil {
		return nil, err
	}
	return r.Seal(purpose, plain), nil
}

func aad(purpose string, hdr []byte) []byte {
	return append(append([]byte(purpose), 0), hdr...)
}

// LoadOrCreateKeyFile reads the key in path, or, when there is none,
// writes a new random one there (mode 0600) and reports created. It is how
// `make run` works with nothing configured; a deployment sets
// ENCRYPTION_KEY instead.
func LoadOrCreateKeyFile(path string) (k []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("secrets: %s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	s := NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	k, _ = ParseKey(s)
	return k, true, nil
}
