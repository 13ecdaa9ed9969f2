// Package whatsapp speaks the WhatsApp Cloud API (Meta's Graph API):
// Client sends messages, and the webhook functions check and decode what
// Meta posts back (inbound messages, delivery statuses, template reviews).
// Payload shapes follow Meta's documentation; whatsapptest is a local
// fake of the Graph API built from the same documentation.
package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/channel"
)

// Defaults for Client's zero fields.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v21.0"
)

// maxResponse bounds what is read of a Graph API answer: real ones are
// a few hundred bytes, and a misbehaving proxy must not exhaust memory.
const maxResponse = 1 << 20

// defaultHTTP has a timeout because http.DefaultClient has none, and a
// send stuck forever would hold its message back even if ctx has no
// deadline.
var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// Client sends messages through the Cloud API. The zero value talks to
// Meta; tests point BaseURL at whatsapptest.Fake.
type Client struct {
	BaseURL string       // default DefaultBaseURL
	Version string       // default DefaultVersion
	HTTP    *http.Client // default: a client with a 30s timeout
	// MediaHTTP downloads incoming files from the URL Meta's answer
	// names: that URL is data, not the operator's setting, so this
	// client should refuse the server's own network (a guarded client).
	// Default: HTTP.
	MediaHTTP *http.Client
}

var _ channel.Sender = (*Client)(nil)

// Send posts m to {BaseURL}/{Version}/{a.PhoneNumberID}/messages and
// returns the wamid Meta assigned. Errors:
//   - *channel.Error with Permanent set: Meta refused the message for
//     good (4xx: bad token 190, re-engagement 131047, undeliverable
//     131026, template errors 132xxx…), or the message or account is
//     invalid before anything is sent;
//   - *channel.Error without Permanent: Meta is failing or throttling
//     (5xx, 429, and the throughput and rate-limit codes);
//   - any other error: the request did not complete (network, ctx).
//
// Only the permanent ones mean the message will never go; the caller
// retries the others.
func (c *Client) Send(ctx context.Context, a channel.Account, m channel.Outgoing) (string, error) {
	payload, err := buildMessage(m)
	if err != nil {
		return "", err
	}
	if err := checkAccount(a); err != nil {
		return "", err
	}
	if m.Media != nil {
		id, err := c.upload(ctx, a, m.Media)
		if err != nil {
			return "", err
		}
		if payload, err = mediaMessage(payload, m.Media, id, m.Text); err != nil {
			return "", err
		}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("whatsapp: encoding message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.messagesURL(a.PhoneNumberID), bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("whatsapp: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

func (c *Client) do(req *http.Request) (string, error) {
	raw, err := c.call(req)
	if err != nil {
		return "", err
	}
	return messageID(raw)
}

// call makes a Graph API request and returns the answer of a 2xx, or
// the refusal.
func (c *Client) call(req *http.Request) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("whatsapp: sending: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		// The answer was cut short: whether Meta took the message is
		// unknown, and not knowing is not a refusal.
		return nil, fmt.Errorf("whatsapp: reading the answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, refusal(resp.StatusCode, raw)
	}
	return raw, nil
}

func (c *Client) messagesURL(phoneNumberID string) string {
	return c.graphURL(phoneNumberID + "/messages")
}

// graphURL is the Graph API's URL of path (which the caller has checked).
func (c *Client) graphURL(path string) string {
	base, version := c.BaseURL, c.Version
	if base == "" {
		base = DefaultBaseURL
	}
	if version == "" {
		version = DefaultVersion
	}
	return strings.TrimRight(base, "/") + "/" + version + "/" + path
}

// sendResponse is Meta's answer to a successful send.
type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// messageID reads the wamid. A 2xx answer without one is treated as a
// permanent failure: Meta most likely accepted the message, and a retry
// could deliver it to the customer twice.
func messageID(raw []byte) (string, error) {
	var r sendResponse
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Messages) == 0 || r.Messages[0].ID == "" {
		return "", &channel.Error{Message: "WhatsApp answered without a message id", Permanent: true}
	}
	return r.Messages[0].ID, nil
}

func checkAccount(a channel.Account) error {
	switch {
	case a.AccessToken == "":
		return invalid("the account has no WhatsApp access token")
	case !isDigits(a.PhoneNumberID):
		// Digits only also keeps the id from changing the URL's path.
		return invalid("the account's WhatsApp phone number id must be digits")
	}
	return nil
}

func invalid(msg string) error { return &channel.Error{Message: msg, Permanent: true} }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
