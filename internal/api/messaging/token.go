package messaging

import (
	"bufio"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/boxwire/boxwire/internal/api/httpx"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
)

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	RefreshToken string `json:"refresh_token"`
}

// token is POST /oauth/token: a password login (seed 004's JSON body), or
// grant_type=refresh_token with the refreshToken cookie (or a
// refresh_token field), which rotates the refresh token. Form-encoded
// bodies are accepted too, as OAuth clients send them.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	in, err := readTokenRequest(w, r)
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	app := r.Header.Get("X-Calling-Application")
	var t auth.Tokens
	switch in.GrantType {
	case "", "password":
		t, err = h.Auth.Login(r.Context(), in.Username, in.Password, app, httpx.ClientAddr(r))
	case "refresh_token":
		if in.RefreshToken == "" {
			if c, cerr := r.Cookie("refreshToken"); cerr == nil {
				in.RefreshToken = c.Value
			}
		}
		t, err = h.Auth.Refresh(r.Context(), in.RefreshToken, app)
	default:
		err = errs.Field(errs.Body, "grant_type", errs.Invalid_, "grant_type must be password or refresh_token")
	}
	if err != nil {
		httpx.Problem(w, r, err)
		return
	}
	h.setCookies(w, t)
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, map[string]string{
		"access_token": t.AccessToken, "token_type": "Bearer", "scope": t.Scope,
		"expires_at": t.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

// revoke is POST /oauth/revoke (RFC 7009): ends the session of the given
// token, or of the request's cookies, and clears the cookies.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := readBody(w, r, &in, func(get func(string) string) { in.Token = get("token") }); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	for _, name := range []string{"accesstoken", "refreshToken"} {
		if in.Token != "" {
			break
		}
		if c, err := r.Cookie(name); err == nil {
			in.Token = c.Value
		}
	}
	if in.Token == "" {
		httpx.Problem(w, r, errs.Field(errs.Body, "token", errs.Required, "the token to revoke is required"))
		return
	}
	if err := h.Auth.Revoke(r.Context(), in.Token); err != nil {
		httpx.Problem(w, r, err)
		return
	}
	h.clearCookies(w)
	w.WriteHeader(http.StatusOK)
}

func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, error) {
	var in tokenRequest
	err := readBody(w, r, &in, func(get func(string) string) {
		in = tokenRequest{GrantType: get("grant_type"), Username: get("username"),
			Password: get("password"), RefreshToken: get("refresh_token")}
	})
	// A refresh needs no body beyond the cookie.
	if errs.As(err).Fields["body"] == errs.Required && r.URL.Query().Get("grant_type") == "refresh_token" {
		return tokenRequest{GrantType: "refresh_token"}, nil
	}
	return in, err
}

// readBody decodes JSON, or a form when the Content-Type says so.
func readBody(w http.ResponseWriter, r *http.Request, dst any, fromForm func(get func(string) string)) error {
	if !isForm(r) {
		return httpx.DecodeJSON(w, r, dst)
	}
	if jsonAsForm(w, r) {
		return httpx.DecodeJSON(w, r, dst)
	}
	if err := httpx.ParseForm(r); err != nil {
		return err
	}
	fromForm(r.PostForm.Get)
	return nil
}

// decodeJSON reads a JSON body, also when it comes labelled as a form,
// as `curl -d '{…}'` sends it.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if isForm(r) {
		jsonAsForm(w, r)
	}
	return httpx.DecodeJSON(w, r, dst)
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// jsonAsForm reports a form-labelled body that starts with "{", and then
// drops the label so the body is read as the JSON it is.
func jsonAsForm(w http.ResponseWriter, r *http.Request) bool {
	br := bufio.NewReader(http.MaxBytesReader(w, r.Body, httpx.MaxJSONBody))
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	if first, _ := br.Peek(1); len(first) == 1 && first[0] == '{' {
		r.Header.Del("Content-Type")
		return true
	}
	return false
}

func (h *Handler) setCookies(w http.ResponseWriter, t auth.Tokens) {
	http.SetCookie(w, &http.Cookie{Name: "refreshToken", Value: t.RefreshToken, Path: "/oauth",
		Expires: t.RefreshExpiresAt, HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteStrictMode})
	// The boxes surface's cookie pair, so a browser client is signed in too.
	http.SetCookie(w, &http.Cookie{Name: "accesstoken", Value: t.AccessToken, Path: "/",
		Expires: t.ExpiresAt, HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: "tokentype", Value: "bearer", Path: "/",
		Expires: t.ExpiresAt, HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearCookies(w http.ResponseWriter) {
	for name, path := range map[string]string{"refreshToken": "/oauth", "accesstoken": "/", "tokentype": "/"} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true,
			Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
}
