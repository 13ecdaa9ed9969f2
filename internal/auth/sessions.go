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

// sessionCache remembers live sessions for sessionTTL. Checking a session
// costs a database read on every request; this makes it one per second per
// session.
type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

type cachedSession struct {
	who     identity.Identity
	checked time.Time
}

func (c *sessionCache) get(sid, subject string, now time.Time) (identity.Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[sid]
	// A clock moved backwards (tests) or a stale entry means: ask the store.
	if !ok || e.who.ID != subject || now.Before(e.checked) || now.Sub(e.checked) >= sessionTTL {
		return identity.Identity{}, false
	}
	return e.who, true
}

func (c *sessionCache) put(sid string, who identity.Identity, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedSessions {
		c.m = map[string]cachedSession{}
	}
	c.m[sid] = cachedSession{who: who, checked: now}
}

func (c *sessionCache) forget(sid string) {
	c.mu.Lock()
	delete(c.m, sid)
	c.mu.Unlock()
}

// maxCachedTokens bounds the token cache; past it, it is emptied.
const maxCachedTokens = 10_000

// tokenCache remembers access tokens whose signature and claims were
// verified: a client sends the same token on every request, and checking
// the HMAC and decoding the claims cost about a tenth of an append's CPU.
// Expiry is still checked on every use; revocation is the session
// cache's business.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]*claims
}

func (c *tokenCache) get(token string, now time.Time) (*claims, bool) {
	c.mu.Lock()
	cl, ok := c.m[token]
	c.mu.Unlock()
	if !ok || cl.ExpiresAt == nil || !now.Before(cl.ExpiresAt.Time) {
		return nil, false
	}
	return cl, true
}

func (c *tokenCache) put(token string, cl *claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = map[string]*claims{}
	}
	c.m[token] = cl
}
