// Package client is the Go client of Boxwire's boxes API (seeds 000–002):
// typed calls for every endpoint, and the end-to-end crypto that keeps the
// server from ever seeing a plaintext (crypto.go).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Client calls one Boxwire server as one identity.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string // the bearer access token
	// App is sent as X-Calling-Application when signing in.
	App  string
	HTTP *http.Client
	// Renew, if set, is called once when the server answers 401: it
	// returns a new access token (say, from a refresh token), and the
	// request is sent again with it. Streamed uploads are not resent.
	Renew func(ctx context.Context) (string, error)
}

// New returns a client for the server at baseURL.
func New(baseURL string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), App: "boxwire-go-client", HTTP: &http.Client{Timeout: 5 * time.Minute}}
}

// Error is an error answered by the server, in the boxes surface's shape.
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Origin  string            `json:"origin"`
	Desc    string            `json:"desc"`
	Details map[string]string `json:"details"`
}

func (e *Error) Error() string {
	if f := e.Fields(); f != "" {
		return fmt.Sprintf("%d %s: %s (%s)", e.Status, e.Code, e.Desc, f)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Desc)
}

// Fields names the fields at fault, "field: reason, …", in a stable order.
func (e *Error) Fields() string {
	names := make([]string, 0, len(e.Details))
	for k := range e.Details {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		names[i] = k + ": " + e.Details[k]
	}
	return strings.Join(names, ", ")
}

// Token is the answer of a sign-in.
type Token struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	Scope        string    `json:"scope"`
	ExpiresAt    time.Time `json:"expires_at"`
	RefreshToken string    `json:"-"` // from the refreshToken cookie
}

// Login signs in with an e-mail and password and keeps the access token.
func (c *Client) Login(ctx context.Context, email, password string) (Token, error) {
	return c.token(ctx, map[string]string{"username": email, "password": password})
}

// Refresh exchanges a refresh token for new tokens and keeps the access
// token. The server rotates refresh tokens: keep the new one, as the old
// one used again ends the session.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	return c.token(ctx, map[string]string{"grant_type": "refresh_token", "refresh_token": refreshToken})
}

func (c *Client) token(ctx context.Context, in map[string]string) (Token, error) {
	var t Token
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, "POST", c.BaseURL+"/oauth/token", bytes.NewReader(body))
	if err != nil {
		return t, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Calling-Application", c.App)
	res, err := c.HTTP.Do(req)
	if err != nil {
		return t, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return t, errorOf(res)
	}
	if err := json.NewDecoder(res.Body).Decode(&t); err != nil {
		return t, fmt.Errorf("sign in: %w", err)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "refreshToken" {
			t.RefreshToken = ck.Value
		}
	}
	c.Token = t.AccessToken
	return t, nil
}

// errorOf reads an error answer: the boxes surface's shape, the
// messaging surface's problem+json (detail, errors[]), or plain text.
func errorOf(res *http.Response) *Error {
	e := &Error{Status: res.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var problem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Field, Reason string
		} `json:"errors"`
	}
	switch {
	case json.Unmarshal(b, e) == nil && e.Code != "":
	case json.Unmarshal(b, &problem) == nil && (problem.Detail != "" || problem.Title != ""):
		e.Code, e.Desc = problem.Title, problem.Detail
		if e.Desc == "" {
			e.Desc = problem.Title
		}
		for _, f := range problem.Errors {
			if e.Details == nil {
				e.Details = map[string]string{}
			}
			e.Details[f.Field] = f.Reason
		}
	default:
		e.Desc = strings.TrimSpace(string(b))
	}
	return e
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

func (c *Client) send(req *http.Request, out any) (http.Header, error) {
	res, err := c.roundTrip(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return res.Header, errorOf(res)
	}
	if out != nil && res.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.Header, fmt.Errorf("%s %s: decode: %w", req.Method, req.URL.Path, err)
		}
	}
	return res.Header, nil
}

// roundTrip sends req with the access token, renewing it once on a 401
// when c.Renew is set and the body can be sent again.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	res, err := c.HTTP.Do(req)
	if err != nil || res.StatusCode != http.StatusUnauthorized || c.Renew == nil || (req.Body != nil && req.GetBody == nil) {
		return res, err
	}
	res.Body.Close()
	token, err := c.Renew(req.Context())
	if err != nil {
		return nil, err
	}
	c.Token = token
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	again.Header.Set("Authorization", "Bearer "+c.Token)
	return c.HTTP.Do(again)
}

func pageQuery(offset, limit int) string {
	v := url.Values{}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// count sends a HEAD request and reads X-Total-Count.
func (c *Client) count(ctx context.Context, path string) (int, error) {
	h, err := c.do(ctx, "HEAD", path, nil, nil)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(h.Get("X-Total-Count"))
}
