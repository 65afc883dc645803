package clerkauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
)

const (
	// jwksTTL is how long a fetched key set is trusted before it is fetched
	// again. Clerk rotates keys rarely and a rotation brings a new kid, which
	// triggers a refetch anyway.
	jwksTTL = time.Hour
	// jwksMinRefetch bounds how often a token with an unknown kid can make us
	// refetch, so garbage tokens cannot turn into a stream of Backend API
	// calls.
	jwksMinRefetch = time.Minute
)

// keyCache holds the instance's JSON Web Keys by kid. Keys are fetched with
// clerk-sdk-go's jwks client on first use, again after jwksTTL, and again
// when a token names a kid we do not have (at most once per jwksMinRefetch).
// When a refresh fails, keys from the previous fetch keep working, so a
// short Backend API outage does not sign everybody out.
type keyCache struct {
	client *jwks.Client
	now    func() time.Time

	// fetching serializes fetches, so a burst of requests after expiry
	// makes one call, not one each.
	fetching sync.Mutex

	mu        sync.Mutex // guards keys and fetchedAt
	keys      map[string]*clerk.JSONWebKey
	fetchedAt time.Time // of the last successful fetch; zero before it
}

func newKeyCache(client *jwks.Client, now func() time.Time) *keyCache {
	return &keyCache{client: client, now: now}
}

// get returns the key with the given kid. It returns an error wrapping
// ErrInvalidSession when the instance does not publish that kid, and a
// plain error when the key set could not be fetched and no earlier copy of
// the key is at hand.
func (kc *keyCache) get(ctx context.Context, kid string) (*clerk.JSONWebKey, error) {
	if kid == "" {
		return nil, fmt.Errorf("%w: missing kid header", ErrInvalidSession)
	}
	if key, fresh := kc.lookup(kid); key != nil && fresh {
		return key, nil
	}

	kc.fetching.Lock()
	defer kc.fetching.Unlock()
	// Another request may have refreshed while we waited.
	key, fresh := kc.lookup(kid)
	if key != nil && fresh {
		return key, nil
	}
	if key == nil && kc.fetchedRecently() {
		return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidSession, kid)
	}

	fetchErr := kc.refresh(ctx)
	if key, _ := kc.lookup(kid); key != nil {
		return key, nil // fresh after a refresh, or the previous copy when it failed
	}
	if fetchErr != nil {
		return nil, fetchErr
	}
	return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidSession, kid)
}

// lookup returns the cached key for kid, if any, and whether the key set it
// came from is still within its TTL.
func (kc *keyCache) lookup(kid string) (*clerk.JSONWebKey, bool) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	return kc.keys[kid], !kc.fetchedAt.IsZero() && kc.now().Sub(kc.fetchedAt) < jwksTTL
}

func (kc *keyCache) fetchedRecently() bool {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	return !kc.fetchedAt.IsZero() && kc.now().Sub(kc.fetchedAt) < jwksMinRefetch
}

// refresh fetches the key set and replaces the cached one. On failure the
// cached set is left as it was.
func (kc *keyCache) refresh(ctx context.Context) error {
	set, err := kc.client.Get(ctx, &jwks.GetParams{})
	if err != nil {
		return fmt.Errorf("clerkauth: fetch JWKS: %w", err)
	}
	keys := make(map[string]*clerk.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k != nil && k.KeyID != "" && k.Key != nil {
			keys[k.KeyID] = k
		}
	}
	if len(keys) == 0 {
		return errors.New("clerkauth: fetch JWKS: no usable keys in the response")
	}
	kc.mu.Lock()
	defer kc.mu.Unlock()
	kc.keys = keys
	kc.fetchedAt = kc.now()
	return nil
}
