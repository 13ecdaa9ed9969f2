package auth_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

var ctx = context.Background()

// clock is a settable clock shared by the store and the service.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func setup(t *testing.T) (*auth.Service, *store.Store, *clock, identity.Identity) {
	t.Helper()
	c := &clock{}
	s := storetest.Open(t, store.Options{Now: c.Now})
	a, err := auth.New(ctx, s, auth.Config{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	who, err := auth.CreateUser(ctx, s, auth.NewUser{Email: "Dana@Example.com", Password: "correct horse", Name: "Dana"})
	if err != nil {
		t.Fatal(err)
	}
	return a, s, c, who
}

func TestPasswordHash(t *testing.T) {
	h, err := auth.HashPassword("s3cret-pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=") {
		t.Fatalf("hash %q is not argon2id PHC", h)
	}
	if !auth.CheckPassword(h, "s3cret-pass") {
		t.Fatal("right password refused")
	}
	for _, bad := range []string{"s3cret-Pass", "", "s3cret-pass "} {
		if auth.CheckPassword(h, bad) {
			t.Fatalf("wrong password %q accepted", bad)
		}
	}
	for _, garbage := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA", strings.Replace(h, "v=19", "v=18", 1)} {
		if auth.CheckPassword(garbage, "s3cret-pass") {
			t.Fatalf("malformed hash %q accepted", garbage)
		}
	}
	h2, _ := auth.HashPassword("s3cret-pass")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := &auth.Throttle{Free: 3, Window: time.Minute, MaxKeys: 10, Now: func() time.Time { return now }}
	for range 3 {
		th.Fail("k")
	}
	if w := th.Wait("k"); w != 0 {
		t.Fatalf("free failures already wait %v", w)
	}
	th.Fail("k")
	if w := th.Wait("k"); w != time.Second {
		t.Fatalf("first wait %v, want 1s", w)
	}
	th.Fail("k")
	if w := th.Wait("k"); w != 2*time.Second {
		t.Fatalf("second wait %v, want 2s: waits double", w)
	}
	if w := th.Wait("other"); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	for range 30 {
		th.Fail("k")
	}
	if w := th.Wait("k"); w != time.Minute {
		t.Fatalf("wait %v, want capped at the window", w)
	}
	now = now.Add(2 * time.Minute)
	th.Fail("k") // after a quiet window the count starts again
	if w := th.Wait("k"); w != 0 {
		t.Fatalf("wait %v after the window passed", w)
	}
	th.Reset("k")
	for i := range 50 { // memory stays bounded under many keys
		th.Fail(string(rune('a' + i)))
	}
}

func TestLoginAndAuthenticate(t *testing.T) {
	a, _, _, who := setup(t)
	tok, err := a.Login(ctx, "dana@example.COM", "correct horse", "tests", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Authenticate(ctx, tok.AccessToken)
	if err != nil || c.Identity.ID != who.ID || c.App != "tests" {
		t.Fatalf("authenticate: %+v, %v", c, err)
	}
	// The access token is a JWT whose exp a client can read.
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, &claims); err != nil || claims.ExpiresAt == nil ||
		!claims.ExpiresAt.Time.Equal(tok.ExpiresAt.Truncate(time.Second)) {
		t.Fatalf("exp claim %v, expires_at %v (%v)", claims.ExpiresAt, tok.ExpiresAt, err)
	}

	cases := []struct {
		name, user, pass, app string
		code                  errs.Code
		field                 string
	}{
		{"wrong password", "dana@example.com", "wrong horse", "tests", errs.Unauthorized, ""},
		{"unknown user", "nobody@example.com", "correct horse", "tests", errs.Unauthorized, ""},
		{"no username", "", "x", "tests", errs.Invalid, "username"},
		{"no password", "dana@example.com", "", "tests", errs.Invalid, "password"},
		{"no application", "dana@example.com", "correct horse", "", errs.Invalid, "X-Calling-Application"},
	}
	for _, tc := range cases {
		_, err := a.Login(ctx, tc.user, tc.pass, tc.app, "10.0.0.2")
		e := errs.As(err)
		if e.Code != tc.code || (tc.field != "" && e.Fields[tc.field] == "") {
			t.Errorf("%s: got %v, want %s naming %q", tc.name, err, tc.code, tc.field)
		}
	}
}

func TestTokensThatMustNotAuthenticate(t *testing.T) {
	a, _, clk, _ := setup(t)
	tok, err := a.Login(ctx, "dana@example.com", "correct horse", "tests", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// Accepted once, so remembered: neither the tampered copies below nor
	// the token itself once expired may ride on that.
	if _, err := a.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	forgedKey := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "sid": tok.SessionID, "iss": "boxwire", "exp": time.Now().Add(time.Hour).Unix()})
	forged, _ := forgedKey.SignedString([]byte("not the server's key"))
	unsigned, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sid": tok.SessionID, "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(tok.AccessToken, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	for name, bad := range map[string]string{"forged": forged, "alg none": unsigned, "tampered": tampered, "garbage": "abc", "refresh token": tok.RefreshToken} {
		if _, err := a.Authenticate(ctx, bad); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("%s token: %v, want unauthorized", name, err)
		}
	}

	clk.Advance(a.AccessTTL() + time.Second)
	if _, err := a.Authenticate(ctx, tok.AccessToken); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("expired token: %v", err)
	}
}

func TestRefreshRotatesAndReuseRevokes(t *testing.T) {
	a, _, _, _ := setup(t)
	first, err := a.Login(ctx, "dana@example.com", "correct horse", "tests", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, first.RefreshToken, ""); errs.As(err).Fields["X-Calling-Application"] == "" {
		t.Fatalf("refresh without application: %v", err)
	}
	second, err := a.Refresh(ctx, first.RefreshToken, "tests")
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.SessionID != first.SessionID {
		t.Fatal("refresh did not rotate the refresh token within the session")
	}
	if _, err := a.Authenticate(ctx, second.AccessToken); err != nil {
		t.Fatalf("new access token: %v", err)
	}
	// Presenting the rotated-away token again means it leaked: end the session.
	if _, err := a.Refresh(ctx, first.RefreshToken, "tests"); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("reused refresh token: %v", err)
	}
	if _, err := a.Authenticate(ctx, second.AccessToken); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("access token after reuse detection: %v", err)
	}
	if _, err := a.Refresh(ctx, second.RefreshToken, "tests"); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("latest refresh token after reuse detection: %v", err)
	}
	for _, bad := range []string{"nodot", "not-a-uuid.x", "00000000-0000-0000-0000-000000000000.x"} {
		if _, err := a.Refresh(ctx, bad, "tests"); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("refresh %q: %v", bad, err)
		}
	}
}

func TestRevokeAndCSRF(t *testing.T) {
	a, _, _, _ := setup(t)
	one, _ := a.Login(ctx, "dana@example.com", "correct horse", "tests", "10.0.0.1")
	two, _ := a.Login(ctx, "dana@example.com", "correct horse", "tests", "10.0.0.1")
	c1, err := a.Authenticate(ctx, one.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := a.Authenticate(ctx, two.AccessToken)
	if !a.CheckCSRF(c1, a.CSRFToken(c1)) || a.CheckCSRF(c1, a.CSRFToken(c2)) || a.CheckCSRF(c1, "") {
		t.Fatal("CSRF tokens must be per session")
	}
	// A refresh token with a wrong secret revokes nothing.
	sid, _, _ := strings.Cut(one.RefreshToken, ".")
	if err := a.Revoke(ctx, sid+".wrong"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, one.AccessToken); err != nil {
		t.Fatalf("session ended by a guessed refresh token: %v", err)
	}
	if err := a.Revoke(ctx, one.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, one.AccessToken); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := a.Authenticate(ctx, two.AccessToken); err != nil {
		t.Fatalf("another session was revoked too: %v", err)
	}
	if err := a.Revoke(ctx, two.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, two.AccessToken); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("revoked by refresh token: %v", err)
	}
}

func TestThrottledLogin(t *testing.T) {
	a, _, _, _ := setup(t)
	var last error
	for range 6 {
		_, last = a.Login(ctx, "dana@example.com", "guess", "tests", "10.0.0.9")
	}
	if errs.CodeOf(last) != errs.Unauthorized {
		t.Fatalf("6th wrong guess: %v", last)
	}
	_, err := a.Login(ctx, "dana@example.com", "correct horse", "tests", "10.0.0.9")
	if e := errs.As(err); e.Code != errs.RateLimited || e.RetryAfter <= 0 {
		t.Fatalf("login right after 6 failures: %v, want rate_limited with a retry delay", err)
	}
}

func TestCreateUserValidates(t *testing.T) {
	_, s, _, _ := setup(t)
	cases := map[string]struct {
		u     auth.NewUser
		field string
	}{
		"bad email":      {auth.NewUser{Email: "not-an-email", Password: "longenough", Name: "X"}, "email"},
		"no name":        {auth.NewUser{Email: "x@example.com", Password: "longenough", Name: " "}, "name"},
		"short password": {auth.NewUser{Email: "x@example.com", Password: "short", Name: "X"}, "password"},
		"bad role":       {auth.NewUser{Email: "x@example.com", Password: "longenough", Name: "X", Org: "O", Role: "boss"}, "role"},
		"role, no org":   {auth.NewUser{Email: "x@example.com", Password: "longenough", Name: "X", Role: "admin"}, "org"},
		"duplicate":      {auth.NewUser{Email: "DANA@example.com", Password: "longenough", Name: "X"}, "identifier_value"},
	}
	for name, tc := range cases {
		_, err := auth.CreateUser(ctx, s, tc.u)
		if e := errs.As(err); e.Fields[tc.field] == "" || e.Code == errs.Internal {
			t.Errorf("%s: %v, want an error naming %s", name, err, tc.field)
		}
	}
	if _, err := s.IdentityByIdentifier(ctx, "x@example.com"); errs.CodeOf(err) != errs.NotFound {
		t.Fatal("a refused user was stored")
	}
}

// The constant that keeps logins of unknown users as slow as wrong
// passwords must be a real argon2id hash with the current parameters.
func TestDummyHashCostsAsMuchAsARealOne(t *testing.T) {
	real, _ := auth.HashPassword("x")
	if !strings.HasPrefix(auth.DummyHash, real[:strings.LastIndex(real[:len(real)-44], "$")]) {
		t.Fatalf("dummy hash %q does not use the parameters of %q", auth.DummyHash, real)
	}
	if auth.CheckPassword(auth.DummyHash, "") || auth.CheckPassword(auth.DummyHash, "not-it") {
		t.Fatal("the dummy hash accepts a password")
	}
}
