package client

import (
	"context"
	"time"
)

// APIToken is a long-lived, revocable bearer token for an integration.
// Token, the secret, is only in the answer of CreateAPIToken.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Token      string     `json:"token,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// CreateAPIToken makes an API token for the signed-in identity. Use its
// Token as Client.Token (it needs no renewal) until it is revoked.
func (c *Client) CreateAPIToken(ctx context.Context, name string) (APIToken, error) {
	var t APIToken
	_, err := c.do(ctx, "POST", "/oauth/tokens", map[string]string{"name": name}, &t)
	return t, err
}

// APITokens lists the signed-in identity's API tokens, without secrets.
func (c *Client) APITokens(ctx context.Context) ([]APIToken, error) {
	var page struct {
		Items []APIToken `json:"items"`
	}
	_, err := c.do(ctx, "GET", "/oauth/tokens", nil, &page)
	return page.Items, err
}

// RevokeAPIToken ends an API token at once, and its live streams.
func (c *Client) RevokeAPIToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, "DELETE", "/oauth/tokens/"+id, nil, nil)
	return err
}
