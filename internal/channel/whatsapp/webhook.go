package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrSignature is wrapped by every VerifySignature failure, so the
// handler can answer them all the same way.
var ErrSignature = errors.New("whatsapp: bad webhook signature")

const signaturePrefix = "sha256="

// VerifySignature checks the X-Hub-Signature-256 header Meta sends with
// every webhook POST: "sha256=" and the hex HMAC-SHA256 of the raw body
// keyed with the app secret. body must be the bytes as received: Meta
// signs its own encoding, which re-encoding the JSON would not reproduce.
func VerifySignature(appSecret, header string, body []byte) error {
	if appSecret == "" {
		// An empty key would make anyone's signature easy to forge.
		return fmt.Errorf("%w: no app secret is configured", ErrSignature)
	}
	hexSum, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: the header does not start with %q", ErrSignature, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: the header is not a hex SHA-256", ErrSignature)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: mismatch", ErrSignature)
	}
	return nil
}

// Verify answers Meta's subscription handshake, a GET with hub.mode,
// hub.verify_token and hub.challenge: when the mode is subscribe and the
// token is ours, the handler must answer 200 with the challenge as the
// whole body (text/plain: it is caller-supplied text); otherwise 403.
func Verify(query url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || query.Get("hub.mode") != "subscribe" {
		return "", false
	}
	token := query.Get("hub.verify_token")
	if subtle.ConstantTimeCompare([]byte(token), []byte(verifyToken)) != 1 {
		return "", false
	}
	challenge = query.Get("hub.challenge")
	return challenge, challenge != ""
}
