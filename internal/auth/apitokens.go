package auth

import (
	"context"
	"crypto/hmac"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
)

// API tokens are long-lived, named, revocable bearer tokens for
// integrations (a script, a Box SDK, a CI job). Each is a session without
// a refresh token: revoking it, a password change and disabling the user
// end it, and its live streams, like any session. Its text is
// TokenPrefix + session id + "." + secret; only the secret's hash is kept.

// TokenPrefix starts every API token, so it is told from a JWT at a glance
// (and by secret scanners).
const TokenPrefix = "bwt_"

// MaxAPITokens bounds the live tokens of one identity.
const MaxAPITokens = 50

// apiTokenLife is an API token's session lifetime: until revoked.
const apiTokenLife = 100 * 365 * 24 * time.Hour

// APIToken is an API token as its owner lists it; Token is set only in
// the answer that creates it.
type APIToken struct {
	ID         string
	Name       string
	Token      string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// CreateAPIToken makes a token for the caller. A caller signed in with an
// API token cannot make more: a leaked token must not mint others.
func (a *Service) CreateAPIToken(ctx context.Context, name string) (APIToken, error) {
	c, ok := CallerFrom(ctx)
	if !ok {
		return APIToken{}, errs.E(errs.Unauthorized, "authentication required")
	}
	if c.APIToken {
		return APIToken{}, errs.E(errs.Forbidden, "an API token cannot create API tokens: sign in with your password")
	}
	name, err := identity.DisplayName("name", name)
	if err != nil {
		return APIToken{}, err
	}
	secret, err := randomString(32)
	if err != nil {
		return APIToken{}, err
	}
	var out APIToken
	err = a.store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if n, err := tx.CountAPITokens(ctx, c.Identity.ID); err != nil {
			return err
		} else if n >= MaxAPITokens {
			return errs.Field(errs.Body, "name", errs.Invalid_, "you have %d API tokens, the most one user may hold: revoke one first", n)
		}
		sess := &store.Session{ID: uuid.NewString(), IdentityID: c.Identity.ID, CallingApp: "api-token",
			RefreshHash: hashSecret(secret), ExpiresAt: tx.Now().Add(apiTokenLife), TokenName: name}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		out = APIToken{ID: sess.ID, Name: name, Token: TokenPrefix + sess.ID + "." + secret, CreatedAt: sess.CreatedAt}
		return nil
	})
	return out, err
}

// APITokens lists the caller's live API tokens, without their secrets.
func (a *Service) APITokens(ctx context.Context) ([]APIToken, error) {
	c, ok := CallerFrom(ctx)
	if !ok {
		return nil, errs.E(errs.Unauthorized, "authentication required")
	}
	list, err := a.store.APITokens(ctx, c.Identity.ID)
	out := make([]APIToken, len(list))
	for i, s := range list {
		out[i] = APIToken{ID: s.ID, Name: s.TokenName, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt}
	}
	return out, err
}

// RevokeAPIToken ends one of the caller's API tokens; another's, or one
// that is no API token, is not found.
func (a *Service) RevokeAPIToken(ctx context.Context, id string) error {
	c, ok := CallerFrom(ctx)
	if !ok {
		return errs.E(errs.Unauthorized, "authentication required")
	}
	notFound := errs.E(errs.NotFound, "no such API token")
	if uuid.Validate(id) != nil {
		return notFound
	}
	return a.store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		sess, err := tx.SessionByID(ctx, id)
		if errs.CodeOf(err) == errs.NotFound || (err == nil && (sess.IdentityID != c.Identity.ID || sess.TokenName == "" || !sess.RevokedAt.IsZero())) {
			return notFound
		} else if err != nil {
			return err
		}
		return a.revoke(ctx, tx, id, c.Identity.ID)
	})
}

// apiTokenCache remembers API tokens whose secret was checked, as the
// token cache does for JWTs; the session cache still decides whether the
// session lives.
type apiTokenCache struct {
	boundedMap[string] // token → session id + "\x00" + identity id
	touchMu            sync.Mutex
	touched            map[string]time.Time // session id → last use recorded
}

// authenticateAPIToken is Authenticate for a token with TokenPrefix.
func (a *Service) authenticateAPIToken(ctx context.Context, token string) (Caller, error) {
	unauthorized := errs.E(errs.Unauthorized, "the API token is invalid or revoked")
	now := a.cfg.Now()
	key, ok := a.apiTokens.load(token)
	if !ok {
		sid, secret, ok := strings.Cut(strings.TrimPrefix(token, TokenPrefix), ".")
		if !ok || uuid.Validate(sid) != nil {
			return Caller{}, unauthorized
		}
		sess, err := a.store.Session(ctx, sid)
		if errs.CodeOf(err) == errs.NotFound {
			return Caller{}, unauthorized
		} else if err != nil {
			return Caller{}, err
		}
		if sess.TokenName == "" || !hmac.Equal([]byte(hashSecret(secret)), []byte(sess.RefreshHash)) {
			return Caller{}, unauthorized
		}
		key = sid + "\x00" + sess.IdentityID
		a.apiTokens.store(token, key, maxCachedTokens)
	}
	sid, subject, _ := strings.Cut(key, "\x00")
	who, ok := a.sessions.get(sid, subject, now)
	if !ok {
		var err error
		if who, err = a.store.SessionIdentity(ctx, sid, subject, now); err != nil {
			return Caller{}, unauthorized
		}
		a.sessions.put(sid, who, now)
	}
	if err := a.touchAPIToken(ctx, sid, now); err != nil {
		return Caller{}, err
	}
	return Caller{Identity: who, SessionID: sid, App: "api-token", APIToken: true}, nil
}

// touchAPIToken records a token's use, at most once a minute per node.
func (a *Service) touchAPIToken(ctx context.Context, sid string, now time.Time) error {
	a.apiTokens.touchMu.Lock()
	if a.apiTokens.touched == nil || len(a.apiTokens.touched) > maxCachedTokens {
		a.apiTokens.touched = map[string]time.Time{}
	}
	last := a.apiTokens.touched[sid]
	fresh := now.Sub(last) < time.Minute
	if !fresh {
		a.apiTokens.touched[sid] = now
	}
	a.apiTokens.touchMu.Unlock()
	if fresh {
		return nil
	}
	return a.store.Write(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.TouchAPIToken(ctx, sid) })
}
