package msgrules

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
)

// Standard Webhooks (https://www.standardwebhooks.com/) header names.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// The specification's secret format and sizes: "whsec_" followed by the
// standard base64 of 24 to 64 random bytes.
const (
	webhookSecretPrefix = "whsec_"
	webhookKeyMin       = 24
	webhookKeyMax       = 64
)

// DefaultWebhookTolerance is how far a webhook's timestamp may be from
// the receiver's clock, the specification's five minutes: enough for
// clock skew, short enough to limit replays.
const DefaultWebhookTolerance = 5 * time.Minute

// NewWebhookSecret returns a fresh secret of the specification's
// minimum size (24 bytes).
func NewWebhookSecret() (string, error) {
	key := make([]byte, webhookKeyMin)
	if _, err := rand.Read(key); err != nil {
		return "", errs.Wrap(err, "generating a webhook secret")
	}
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseWebhookSecret returns the key of a secret. The prefix is required
// because every secret is issued by NewWebhookSecret; an empty or short
// key is refused because anyone could forge its signatures.
func ParseWebhookSecret(field, secret string) ([]byte, error) {
	if secret == "" {
		return nil, errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	b64, ok := strings.CutPrefix(secret, webhookSecretPrefix)
	key, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(key) < webhookKeyMin || len(key) > webhookKeyMax {
		return nil, errs.Field(errs.Body, field, errs.Malformed,
			"%s must be whsec_ followed by the base64 of %d to %d bytes", field, webhookKeyMin, webhookKeyMax)
	}
	return key, nil
}

// SignWebhook returns the webhook-signature header value for a delivery:
// "v1," and the base64 HMAC-SHA256 of "{id}.{timestamp}.{payload}", the
// timestamp in whole Unix seconds as sent in webhook-timestamp.
func SignWebhook(secret, msgID string, ts time.Time, payload []byte) (string, error) {
	key, err := ParseWebhookSecret("secret", secret)
	if err != nil {
		return "", err
	}
	if msgID == "" {
		return "", errs.Field(errs.Body, "msgId", errs.Required, "a webhook message id is required")
	}
	return "v1," + base64.StdEncoding.EncodeToString(webhookMAC(key, msgID, ts.Unix(), payload)), nil
}

func webhookMAC(key []byte, msgID string, unix int64, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(unix, 10) + "."))
	m.Write(payload)
	return m.Sum(nil)
}

// VerifyWebhook checks a delivery's Standard Webhooks headers against
// secret. Missing or malformed headers are Invalid (400) naming the
// header; a timestamp outside tolerance of now (replay protection) or no
// matching signature is Unauthorized (401). tolerance <= 0 means
// DefaultWebhookTolerance, since zero would refuse every real delivery.
func VerifyWebhook(secret string, headers http.Header, payload []byte, now time.Time, tolerance time.Duration) error {
	key, err := ParseWebhookSecret("secret", secret)
	if err != nil {
		return err
	}
	msgID, unix, sigs, err := webhookHeaders(headers)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	if secondsApart(unix, now.Unix()) > uint64(tolerance/time.Second) {
		return unauthorized(HeaderWebhookTimestamp, "the webhook timestamp is too far from the current time")
	}
	want := webhookMAC(key, msgID, unix, payload)
	for _, sig := range strings.Fields(sigs) {
		// Entries are "version,base64"; versions other than v1 (such as
		// the asymmetric v1a) are skipped, as the specification says.
		b64, ok := strings.CutPrefix(sig, "v1,")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return unauthorized(HeaderWebhookSignature, "no webhook signature matches")
}

// secondsApart is |a-b| without overflow: the header's timestamp is
// anything a sender wrote, up to the largest int64.
func secondsApart(a, b int64) uint64 {
	if a >= b {
		return uint64(a) - uint64(b)
	}
	return uint64(b) - uint64(a)
}

// webhookHeaders reads the three headers. Every webhook-signature value
// is read, since a proxy may split a list into several header lines.
func webhookHeaders(h http.Header) (msgID string, unix int64, sigs string, err error) {
	msgID = h.Get(HeaderWebhookID)
	ts := h.Get(HeaderWebhookTimestamp)
	sigs = strings.Join(h.Values(HeaderWebhookSignature), " ")
	for _, hv := range [][2]string{{HeaderWebhookID, msgID}, {HeaderWebhookTimestamp, ts}, {HeaderWebhookSignature, sigs}} {
		if strings.TrimSpace(hv[1]) == "" {
			return "", 0, "", errs.Field(errs.Headers, hv[0], errs.Required, "the %s header is required", hv[0])
		}
	}
	unix, perr := strconv.ParseInt(ts, 10, 64)
	if perr != nil || ts[0] == '+' || ts[0] == '-' {
		return "", 0, "", errs.Field(errs.Headers, HeaderWebhookTimestamp, errs.Malformed,
			"the %s header must be whole Unix seconds", HeaderWebhookTimestamp)
	}
	return msgID, unix, sigs, nil
}

func unauthorized(header, msg string) error {
	return &errs.Error{Code: errs.Unauthorized, Message: msg, Where: errs.Headers,
		Fields: map[string]string{header: errs.Invalid_}}
}
