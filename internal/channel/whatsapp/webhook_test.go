package whatsapp_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/channel/whatsapp"
	"github.com/boxwire/boxwire/internal/channel/whatsapp/whatsapptest"
)

func TestVerifySignature(t *testing.T) {
	const secret = "app-secret"
	f := whatsapptest.New()
	defer f.Close()
	body, _ := f.InboundMessage(phoneID, ada, "Ada", "hi")
	good := f.Sign(secret, body)
	if err := whatsapp.VerifySignature(secret, good, body); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	hexSum := strings.TrimPrefix(good, "sha256=")
	for name, tc := range map[string]struct {
		secret, header string
		body           []byte
	}{
		"missing":        {secret, "", body},
		"wrong prefix":   {secret, "sha1=" + hexSum, body},
		"no prefix":      {secret, hexSum, body},
		"not hex":        {secret, "sha256=" + strings.Repeat("zz", 32), body},
		"short":          {secret, "sha256=" + hexSum[:32], body},
		"other secret":   {"another-secret", good, body},
		"body changed":   {secret, good, append([]byte(" "), body...)},
		"no secret":      {"", f.Sign("", body), body},
		"upper prefix":   {secret, "SHA256=" + hexSum, body},
		"trailing space": {secret, good + " ", body},
	} {
		t.Run(name, func(t *testing.T) {
			err := whatsapp.VerifySignature(tc.secret, tc.header, tc.body)
			if !errors.Is(err, whatsapp.ErrSignature) {
				t.Fatalf("err = %v, want ErrSignature", err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	q := func(mode, token, challenge string) url.Values {
		return url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}
	}
	if got, ok := whatsapp.Verify(q("subscribe", "s3cret", "1158201444"), "s3cret"); !ok || got != "1158201444" {
		t.Fatalf("Verify = %q, %v; want the challenge", got, ok)
	}
	for name, tc := range map[string]struct {
		query url.Values
		ours  string
	}{
		"wrong token":        {q("subscribe", "guess", "1"), "s3cret"},
		"token prefix":       {q("subscribe", "s3cre", "1"), "s3cret"},
		"wrong mode":         {q("unsubscribe", "s3cret", "1"), "s3cret"},
		"no challenge":       {q("subscribe", "s3cret", ""), "s3cret"},
		"none configured":    {q("subscribe", "", "1"), ""},
		"empty query":        {url.Values{}, "s3cret"},
		"token only in mode": {url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1"}}, "s3cret"},
	} {
		t.Run(name, func(t *testing.T) {
			if got, ok := whatsapp.Verify(tc.query, tc.ours); ok || got != "" {
				t.Fatalf("Verify = %q, %v; want refusal", got, ok)
			}
		})
	}
}
