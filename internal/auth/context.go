package auth

import (
	"context"
	"time"

	"github.com/boxwire/boxwire/internal/identity"
)

// Caller is who a request acts as.
type Caller struct {
	Identity  identity.Identity
	SessionID string
	App       string // the X-Calling-Application the session was opened with
	// ExpiresAt is when the access token expires: live streams end then.
	// Zero for an API token, which lives until revoked.
	ExpiresAt time.Time
	// APIToken: the caller authenticated with an API token.
	APIToken bool
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the authenticated caller, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
