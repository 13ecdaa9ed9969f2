// Package auth signs people in and tells who a request is from: password
// logins, JWT access tokens backed by revocable sessions, rotating refresh
// tokens, CSRF tokens for cookie-authenticated requests, and the throttle
// that slows down password guessing.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/realtime"
	"github.com/boxwire/boxwire/internal/store"
)

// Config tunes the service. Zero values take the defaults.
type Config struct {
	AccessTTL  time.Duration // access token lifetime, default 15 minutes
	SessionTTL time.Duration // refresh token lifetime, default 30 days
	Now        func() time.Time
	// OnLoginFailure, if set, hears each refused sign-in's reason:
	// "wrong_credentials", "throttled" or "disabled" (metrics).
	OnLoginFailure func(reason string)
}

func (a *Service) loginFailed(reason string) {
	if a.cfg.OnLoginFailure != nil {
		a.cfg.OnLoginFailure(reason)
	}
}

// Scope is the scope of every access token: the whole API of the user.
const Scope = "api"

const issuer = "boxwire"

// Service is the authentication service.
type Service struct {
	store *store.Store
	key   []byte
	cfg   Config
	// pairs counts failures per (username, address), addrs per
	// address: an attacker hammering a username from elsewhere slows
	// down only itself, never its owner (issue 13.7).
	pairs     *Throttle
	addrs     *Throttle
	dummyPwd  string
	sessions  sessionCache
	tokens    tokenCache
	apiTokens apiTokenCache
}

// New loads the signing key from the store, creating it on first start,
// so tokens survive restarts and are shared by every node.
func New(ctx context.Context, s *store.Store, cfg Config) (*Service, error) {
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	secret, err := s.Secret(ctx, "jwt_signing_key", func() (string, error) {
		return randomString(32)
	})
	if err != nil {
		return nil, err
	}
	key, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil {
		return nil, errs.Wrap(err, "decode signing key")
	}
	return &Service{
		store: s, key: key, cfg: cfg, dummyPwd: dummyHash,
		pairs: &Throttle{Free: 5, Window: 15 * time.Minute, MaxKeys: 100_000, Now: cfg.Now},
		addrs: &Throttle{Free: 50, Window: 15 * time.Minute, MaxKeys: 100_000, Now: cfg.Now},
	}, nil
}

// AddressKey is what the login throttle counts an address under: an
// IPv6 client's /64, which one subscriber usually holds whole (so a new
// address per guess is still the same key); an IPv4 address as it is.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// Tokens is what a successful login or refresh hands out.
type Tokens struct {
	AccessToken      string
	ExpiresAt        time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	Scope            string
	SessionID        string
}

// AccessTTL is the lifetime of access tokens.
func (a *Service) AccessTTL() time.Duration { return a.cfg.AccessTTL }

// Login checks a username (the e-mail identifier) and password and opens
// a session for the calling application.
func (a *Service) Login(ctx context.Context, username, password, app, addr string) (Tokens, error) {
	if err := requireApp(app); err != nil {
		return Tokens{}, err
	}
	if strings.TrimSpace(username) == "" {
		return Tokens{}, errs.Field(errs.Body, "username", errs.Required, "please supply a valid username and password")
	}
	if password == "" {
		return Tokens{}, errs.Field(errs.Body, "password", errs.Required, "please supply a valid username and password")
	}
	userKey, addrKey := strings.ToLower(strings.TrimSpace(username)), AddressKey(addr)
	pairKey := userKey + "\x00" + addrKey
	if wait := max(a.pairs.Wait(pairKey), a.addrs.Wait(addrKey)); wait > 0 {
		a.loginFailed("throttled")
		return Tokens{}, &errs.Error{Code: errs.RateLimited, RetryAfter: wait,
			Message: "too many failed logins; try again later"}
	}
	who, err := a.store.IdentityByIdentifier(ctx, userKey)
	if err != nil && errs.CodeOf(err) != errs.NotFound {
		return Tokens{}, err
	}
	hash := who.PasswordHash
	if err != nil {
		hash = a.dummyPwd // same work whether or not the user exists
	}
	if !CheckPassword(hash, password) || err != nil {
		a.loginFailed("wrong_credentials")
		a.pairs.Fail(pairKey)
		a.addrs.Fail(addrKey)
		return Tokens{}, errs.E(errs.Unauthorized, "wrong username or password")
	}
	a.pairs.Reset(pairKey)
	if err := refuseDisabled(who); err != nil {
		a.loginFailed("disabled")
		return Tokens{}, err
	}

	var out Tokens
	err = a.store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		secret, err := randomString(32)
		if err != nil {
			return err
		}
		sess := &store.Session{ID: uuid.NewString(), IdentityID: who.ID, CallingApp: app,
			RefreshHash: hashSecret(secret), ExpiresAt: tx.Now().Add(a.cfg.SessionTTL)}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		out, err = a.issue(sess, secret, tx.Now())
		return err
	})
	return out, err
}

// Refresh exchanges a refresh token for new tokens and rotates it. A
// refresh token that was already rotated away is a sign of theft: the
// whole session is revoked.
func (a *Service) Refresh(ctx context.Context, refreshToken, app string) (Tokens, error) {
	if err := requireApp(app); err != nil {
		return Tokens{}, err
	}
	if refreshToken == "" {
		return Tokens{}, errs.Field(errs.Cookies, "refreshToken", errs.Required, "a refresh token is required")
	}
	unauthorized := errs.E(errs.Unauthorized, "the refresh token is invalid or expired")
	sid, secret, ok := strings.Cut(refreshToken, ".")
	if !ok || uuid.Validate(sid) != nil {
		return Tokens{}, unauthorized
	}
	var (
		out    Tokens
		reused bool
	)
	err := a.store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		sess, err := tx.SessionByID(ctx, sid)
		if errs.CodeOf(err) == errs.NotFound {
			return unauthorized
		} else if err != nil {
			return err
		}
		h := hashSecret(secret)
		switch {
		case !sess.RevokedAt.IsZero(), sess.TokenName != "": // an API token is never refreshed
			return unauthorized
		case h != sess.RefreshHash && sess.PrevRefreshHash != "" && hmac.Equal([]byte(h), []byte(sess.PrevRefreshHash)):
			reused = true
			return a.revoke(ctx, tx, sid, sess.IdentityID)
		case !hmac.Equal([]byte(h), []byte(sess.RefreshHash)), !tx.Now().Before(sess.ExpiresAt):
			return unauthorized
		}
		fresh, err := randomString(32)
		if err != nil {
			return err
		}
		sess.ExpiresAt = tx.Now().Add(a.cfg.SessionTTL)
		if err := tx.RotateRefresh(ctx, sid, sess.RefreshHash, hashSecret(fresh), sess.ExpiresAt); err != nil {
			return err
		}
		out, err = a.issue(&sess, fresh, tx.Now())
		return err
	})
	if err == nil && reused {
		err = errs.E(errs.Unauthorized, "the refresh token was already used; the session is revoked")
	}
	return out, err
}

// Revoke ends the session behind an access token or a refresh token (the
// current one or the one it replaced). Unknown or invalid tokens are
// ignored, as RFC 7009 asks.
func (a *Service) Revoke(ctx context.Context, token string) error {
	if c, err := a.parse(token, jwt.WithoutClaimsValidation()); err == nil {
		return a.store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			return a.revoke(ctx, tx, c.SessionID, c.Subject)
		})
	}
	sid, secret, ok := strings.Cut(strings.TrimPrefix(token, TokenPrefix), ".")
	if !ok || uuid.Validate(sid) != nil {
		return nil
	}
	return a.store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		sess, err := tx.SessionByID(ctx, sid)
		if errs.CodeOf(err) == errs.NotFound {
			return nil
		} else if err != nil {
			return err
		}
		h := []byte(hashSecret(secret))
		if !hmac.Equal(h, []byte(sess.RefreshHash)) && !hmac.Equal(h, []byte(sess.PrevRefreshHash)) {
			return nil
		}
		return a.revoke(ctx, tx, sid, sess.IdentityID)
	})
}

// revoke ends a session and journals it (session.revoked), so that every
// node ends the session's live streams and forgets it from its cache.
func (a *Service) revoke(ctx context.Context, tx *store.Tx, sid, identityID string) error {
	a.sessions.forget(sid)
	if err := tx.RevokeSession(ctx, sid); err != nil {
		return err
	}
	_, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(identityID), Type: realtime.SessionRevoked,
		ActorID: identityID, Payload: revocation(realtime.RevocationPayload{SessionID: sid})})
	return err
}

// RevokeSessions ends every session of an identity but except (the one
// that changed the password; "" for none) and journals it
// (identity.sessions_revoked): their refresh tokens stop working at once,
// their access tokens and live streams on every node.
func RevokeSessions(ctx context.Context, tx *store.Tx, identityID, except string) error {
	if err := tx.RevokeSessions(ctx, identityID, except); err != nil {
		return err
	}
	_, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(identityID), Type: realtime.SessionsRevoked,
		Payload: revocation(realtime.RevocationPayload{Except: except})})
	return err
}

// AccessChanged journals that an identity lost access (removed from an
// organisation or a team): its live streams end on every node, and the
// client reconnects to see only what it may see now.
func AccessChanged(ctx context.Context, tx *store.Tx, identityID string) error {
	_, err := tx.Append(ctx, journal.Entry{Scope: journal.IdentityScope(identityID), Type: realtime.AccessChanged,
		Payload: json.RawMessage(`{}`)})
	return err
}

func revocation(p realtime.RevocationPayload) json.RawMessage {
	b, _ := json.Marshal(p)
	return b
}

// Forget drops what this node's cache knows of an identity's sessions:
// the next request asks the store. The hub calls it for every revocation
// it follows, so a session revoked on another node stops at once here too.
func (a *Service) Forget(identityID string) { a.sessions.forgetIdentity(identityID) }

// Live asks the store, not the cache, whether the caller's session still
// holds (a stream checks it once it is subscribed).
func (a *Service) Live(ctx context.Context, c Caller) error {
	_, err := a.store.SessionIdentity(ctx, c.SessionID, c.Identity.ID, a.cfg.Now())
	return err
}

// Authenticate returns the caller an access token stands for. Forged,
// expired and revoked tokens are Unauthorized.
func (a *Service) Authenticate(ctx context.Context, accessToken string) (Caller, error) {
	if strings.HasPrefix(accessToken, TokenPrefix) {
		return a.authenticateAPIToken(ctx, accessToken)
	}
	now := a.cfg.Now()
	c, ok := a.tokens.get(accessToken, now)
	if !ok {
		var err error
		if c, err = a.parse(accessToken); err != nil {
			return Caller{}, errs.E(errs.Unauthorized, "the access token is invalid or expired")
		}
		a.tokens.put(accessToken, c)
	}
	if who, ok := a.sessions.get(c.SessionID, c.Subject, now); ok {
		return Caller{Identity: who, SessionID: c.SessionID, App: c.App, ExpiresAt: c.ExpiresAt.Time}, nil
	}
	who, err := a.store.SessionIdentity(ctx, c.SessionID, c.Subject, now)
	if err != nil {
		return Caller{}, err
	}
	a.sessions.put(c.SessionID, who, now)
	return Caller{Identity: who, SessionID: c.SessionID, App: c.App, ExpiresAt: c.ExpiresAt.Time}, nil
}

// CSRFToken is the token a cookie-authenticated caller sends back in
// X-CSRF-Token. It is derived from the session, so it needs no storage and
// dies with the session.
func (a *Service) CSRFToken(c Caller) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte("csrf\x00" + c.SessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether token is the caller's CSRF token.
func (a *Service) CheckCSRF(c Caller, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(a.CSRFToken(c)))
}

type claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Scope     string `json:"scope"`
	App       string `json:"app,omitempty"`
}

func (a *Service) issue(sess *store.Session, refreshSecret string, now time.Time) (Tokens, error) {
	exp := now.Add(a.cfg.AccessTTL)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: sess.IdentityID, ID: uuid.NewString(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		SessionID: sess.ID, Scope: Scope, App: sess.CallingApp,
	})
	signed, err := tok.SignedString(a.key)
	if err != nil {
		return Tokens{}, errs.Wrap(err, "sign token")
	}
	return Tokens{AccessToken: signed, ExpiresAt: exp, Scope: Scope, SessionID: sess.ID,
		RefreshToken: sess.ID + "." + refreshSecret, RefreshExpiresAt: sess.ExpiresAt}, nil
}

func (a *Service) parse(token string, opts ...jwt.ParserOption) (*claims, error) {
	opts = append(opts, jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer),
		jwt.WithTimeFunc(a.cfg.Now), jwt.WithExpirationRequired())
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil }, opts...)
	if err != nil {
		return nil, err
	}
	if c.SessionID == "" || c.Subject == "" {
		return nil, jwt.ErrTokenInvalidClaims
	}
	return &c, nil
}

func requireApp(app string) error {
	switch {
	case strings.TrimSpace(app) == "":
		return errs.Field(errs.Headers, "X-Calling-Application", errs.Required,
			"the X-Calling-Application header is required: name your application")
	case len(app) > 200:
		return errs.Field(errs.Headers, "X-Calling-Application", errs.TooLong,
			"the X-Calling-Application header must be at most 200 bytes")
	case !utf8.ValidString(app):
		// It is stored with the session; PostgreSQL refuses invalid UTF-8.
		return errs.Field(errs.Headers, "X-Calling-Application", errs.Malformed,
			"the X-Calling-Application header must be valid UTF-8")
	}
	return nil
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", errs.Wrap(err, "random")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
