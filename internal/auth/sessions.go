package auth

import (
	"sync"
	"time"

	"github.com/boxwire/boxwire/internal/identity"
)

// sessionTTL is how long a checked session is trusted without asking the
// store again. A revocation on this node takes effect at once (forget);
// on another node of a cluster, within sessionTTL.
const sessionTTL = time.Second

// maxCachedSessions bounds the cache; past it, it is emptied.
const maxCachedSessions = 100_000

// boundedMap is a map for many goroutines that empties itself when it
// reaches its bound: it only caches what the store or a signature can tell
// again, so forgetting everything is safe and keeps memory bounded.
type boundedMap[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (b *boundedMap[V]) load(k string) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

func (b *boundedMap[V]) store(k string, v V, bound int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil || len(b.m) >= bound {
		b.m = map[string]V{}
	}
	b.m[k] = v
}

func (b *boundedMap[V]) delete(k string) {
	b.mu.Lock()
	delete(b.m, k)
	b.mu.Unlock()
}

// sessionCache remembers live sessions for sessionTTL. Checking a session
// costs a database read on every request; this makes it one per second per
// session.
type sessionCache struct{ boundedMap[cachedSession] }

type cachedSession struct {
	who     identity.Identity
	checked time.Time
}

func (c *sessionCache) get(sid, subject string, now time.Time) (identity.Identity, bool) {
	e, ok := c.load(sid)
	// A clock moved backwards (tests) or a stale entry means: ask the store.
	if !ok || e.who.ID != subject || now.Before(e.checked) || now.Sub(e.checked) >= sessionTTL {
		return identity.Identity{}, false
	}
	return e.who, true
}

func (c *sessionCache) put(sid string, who identity.Identity, now time.Time) {
	c.store(sid, cachedSession{who: who, checked: now}, maxCachedSessions)
}

func (c *sessionCache) forget(sid string) { c.delete(sid) }

// forgetIdentity drops every session of an identity (rare: revocations).
func (c *sessionCache) forgetIdentity(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sid, e := range c.m {
		if e.who.ID == id {
			delete(c.m, sid)
		}
	}
}

// maxCachedTokens bounds the token cache; past it, it is emptied.
const maxCachedTokens = 10_000

// tokenCache remembers access tokens whose signature and claims were
// verified: a client sends the same token on every request, and checking
// the HMAC and decoding the claims cost about a tenth of an append's CPU.
// Expiry is still checked on every use; revocation is the session
// cache's business.
type tokenCache struct{ boundedMap[*claims] }

func (c *tokenCache) get(token string, now time.Time) (*claims, bool) {
	cl, ok := c.load(token)
	if !ok || cl.ExpiresAt == nil || !now.Before(cl.ExpiresAt.Time) {
		return nil, false
	}
	return cl, true
}

func (c *tokenCache) put(token string, cl *claims) { c.store(token, cl, maxCachedTokens) }
