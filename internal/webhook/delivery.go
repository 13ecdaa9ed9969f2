package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/journal"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// maxDrain bounds how much of a receiver's answer is read: only its
// status matters, and reading a short body lets the connection be reused.
const maxDrain = 64 << 10

// delivery is the body of a webhook: the journal entry's type and time,
// and the record in its API shape.
type delivery struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"` // RFC 3339
	Data      json.RawMessage `json:"data"`
}

// deliveryBody is built once per entry, so every retry carries the same
// bytes under the same webhook-id, and receivers can deduplicate.
func deliveryBody(e journal.Entry) ([]byte, error) {
	b, err := json.Marshal(delivery{Type: e.Type, Timestamp: e.At.UTC(), Data: json.RawMessage(e.Payload)})
	return b, errs.Wrap(err, "encode webhook %s", e.ID)
}

// post makes one attempt. Any 2xx answered within the timeout is a
// delivery; everything else is a failure, returned to be counted.
func (d *Dispatcher) post(ctx context.Context, h msgrules.Webhook, msgID string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	ts := d.now()
	sig, err := msgrules.SignWebhook(h.Secret, msgID, ts, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.TargetURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "boxwire-webhooks")
	req.Header.Set(msgrules.HeaderWebhookID, msgID)
	req.Header.Set(msgrules.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(msgrules.HeaderWebhookSignature, sig)
	resp, err := d.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}

func (d *Dispatcher) client() *http.Client {
	d.httpOnce.Do(func() {
		g := d.Guard
		if g == nil {
			g = &Guard{}
		}
		d.http = g.Client()
	})
	return d.http
}

func (d *Dispatcher) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultTimeout
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
