package httpx

import (
	"net/http"
	"strings"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
)

// Authenticator resolves the caller of a request and puts it in the
// request's context, where the services below read it.
type Authenticator struct {
	Auth *auth.Service
	// Cookies also accepts the boxes surface's cookie pair
	// accesstoken + tokentype=bearer; unsafe methods then need X-CSRF-Token.
	Cookies bool
}

// Require answers 401 (or 403 for a missing or wrong CSRF token) in the surface's
// shape unless the request is authenticated.
func (a Authenticator) Require(render Renderer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.caller(r)
		if err != nil {
			render(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithCaller(r.Context(), c)))
	})
}

func (a Authenticator) caller(r *http.Request) (auth.Caller, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return auth.Caller{}, unauthorized(errs.Headers, "Authorization", errs.Malformed, "the Authorization header must be \"Bearer <token>\"")
		}
		return a.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
	}
	if !a.Cookies {
		return auth.Caller{}, unauthorized(errs.Headers, "Authorization", errs.Required, "authentication required: send Authorization: Bearer <token>")
	}
	access, err := r.Cookie("accesstoken")
	if err != nil || access.Value == "" {
		return auth.Caller{}, unauthorized(errs.Cookies, "accesstoken", errs.Required, "authentication required: a bearer token or the accesstoken cookie")
	}
	kind, err := r.Cookie("tokentype")
	if err != nil || kind.Value == "" {
		return auth.Caller{}, unauthorized(errs.Cookies, "tokentype", errs.Required, "the tokentype cookie is required with accesstoken")
	}
	if !strings.EqualFold(kind.Value, "bearer") {
		return auth.Caller{}, unauthorized(errs.Cookies, "tokentype", errs.Invalid_, "the tokentype cookie must be bearer")
	}
	c, err := a.Auth.Authenticate(r.Context(), access.Value)
	if err != nil {
		return c, err
	}
	if safeMethod(r.Method) {
		return c, nil
	}
	// As Misakey's reference (echo's CSRF middleware v4.1.16 and its
	// bubble needle): a missing header and a wrong one are the same
	// refusal, 403 with details {csrf_token: invalid}, origin not_defined.
	if !a.Auth.CheckCSRF(c, r.Header.Get("X-CSRF-Token")) {
		return c, &errs.Error{Code: errs.Forbidden, Where: errs.NotDefined, Fields: map[string]string{"csrf_token": errs.Invalid_},
			Message: "invalid csrf token: cookie-authenticated requests must send X-CSRF-Token (from GET /csrf)"}
	}
	return c, nil
}

func unauthorized(where errs.Where, field, reason, msg string) error {
	return &errs.Error{Code: errs.Unauthorized, Message: msg, Where: where, Fields: map[string]string{field: reason}}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
