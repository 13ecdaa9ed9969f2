package msgrules_test

import (
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

// The Standard Webhooks test vector, as published with the
// specification's reference libraries (svix/standard-webhooks).
const (
	vecSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTimestamp = 1614265330
	vecPayload   = `{"test": 2432232314}`
	vecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vecTime = time.Unix(vecTimestamp, 0)

func TestSignWebhookKnownAnswer(t *testing.T) {
	got, err := msgrules.SignWebhook(vecSecret, vecID, vecTime, []byte(vecPayload))
	if err != nil || got != vecSignature {
		t.Fatalf("SignWebhook(vector) = %q, %v; want %q", got, err, vecSignature)
	}
	// Sub-second parts are dropped, as the header carries whole seconds.
	got, _ = msgrules.SignWebhook(vecSecret, vecID, vecTime.Add(999*time.Millisecond), []byte(vecPayload))
	if got != vecSignature {
		t.Errorf("signature depends on sub-second time: %q", got)
	}
}

func TestNewWebhookSecret(t *testing.T) {
	a, err := msgrules.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := msgrules.NewWebhookSecret()
	key, err := msgrules.ParseWebhookSecret("secret", a)
	if err != nil || len(key) != 24 || !strings.HasPrefix(a, "whsec_") || a == b {
		t.Errorf("NewWebhookSecret() = %q (key %d bytes, %v), then %q", a, len(key), err, b)
	}
}

func TestParseWebhookSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		secret, reason string
	}{
		{vecSecret, ""},
		{"whsec_" + b64(64), ""},
		{"", errs.Required},
		{"whsec_", errs.Malformed},                                // empty key: anyone could sign
		{"whsec_" + b64(23), errs.Malformed},                      // shorter than the specification allows
		{"whsec_" + b64(65), errs.Malformed},                      // longer
		{strings.TrimPrefix(vecSecret, "whsec_"), errs.Malformed}, // no prefix
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", errs.Malformed},
		{"whsec_" + base64.RawStdEncoding.EncodeToString(make([]byte, 25)), errs.Malformed}, // unpadded
	}
	for _, tt := range tests {
		_, err := msgrules.ParseWebhookSecret("secret", tt.secret)
		if tt.reason == "" {
			wantErr(t, err, "", "", "", "")
			continue
		}
		wantErr(t, err, errs.Invalid, errs.Body, "secret", tt.reason)
	}
	_, err := msgrules.SignWebhook("whsec_", vecID, vecTime, nil)
	wantErr(t, err, errs.Invalid, errs.Body, "secret", errs.Malformed)
	_, err = msgrules.SignWebhook(vecSecret, "", vecTime, nil)
	wantErr(t, err, errs.Invalid, errs.Body, "msgId", errs.Required)
}

func vecHeaders() http.Header {
	h := http.Header{}
	h.Set(msgrules.HeaderWebhookID, vecID)
	h.Set(msgrules.HeaderWebhookTimestamp, strconv.Itoa(vecTimestamp))
	h.Set(msgrules.HeaderWebhookSignature, vecSignature)
	return h
}

func TestVerifyWebhook(t *testing.T) {
	other, _ := msgrules.NewWebhookSecret()
	otherSig, _ := msgrules.SignWebhook(other, vecID, vecTime, []byte(vecPayload))
	tol := msgrules.DefaultWebhookTolerance
	with := func(name, value string) http.Header { h := vecHeaders(); h.Set(name, value); return h }
	without := func(name string) http.Header { h := vecHeaders(); h.Del(name); return h }
	tests := []struct {
		name    string
		secret  string
		headers http.Header
		payload string
		now     time.Time
		tol     time.Duration
		code    errs.Code // "" = verified
		field   string
		reason  string
	}{
		{name: "vector", headers: vecHeaders(), now: vecTime},
		{name: "4m59s late", headers: vecHeaders(), now: vecTime.Add(tol - time.Second)},
		{name: "exactly 5m late", headers: vecHeaders(), now: vecTime.Add(tol)},
		{name: "5m early", headers: vecHeaders(), now: vecTime.Add(-tol)},
		{name: "zero tolerance means the default", headers: vecHeaders(), now: vecTime.Add(tol), tol: -1},
		{name: "rotation: another secret's signature first", headers: with(msgrules.HeaderWebhookSignature, otherSig+" "+vecSignature), now: vecTime},
		{name: "asymmetric v1a entries skipped", headers: with(msgrules.HeaderWebhookSignature, "v1a,AAAA "+vecSignature), now: vecTime},
		{name: "signatures on several header lines", headers: func() http.Header {
			h := with(msgrules.HeaderWebhookSignature, otherSig)
			h.Add(msgrules.HeaderWebhookSignature, vecSignature)
			return h
		}(), now: vecTime},

		{name: "5m01s late", headers: vecHeaders(), now: vecTime.Add(tol + time.Second),
			code: errs.Unauthorized, field: msgrules.HeaderWebhookTimestamp, reason: errs.Invalid_},
		{name: "5m01s early", headers: vecHeaders(), now: vecTime.Add(-tol - time.Second),
			code: errs.Unauthorized, field: msgrules.HeaderWebhookTimestamp, reason: errs.Invalid_},
		{name: "custom tolerance", headers: vecHeaders(), now: vecTime.Add(2 * time.Second), tol: time.Second,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookTimestamp, reason: errs.Invalid_},
		{name: "far-future timestamp", headers: with(msgrules.HeaderWebhookTimestamp, strconv.FormatInt(math.MaxInt64, 10)), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookTimestamp, reason: errs.Invalid_},
		{name: "timestamp shifted by one second", headers: with(msgrules.HeaderWebhookTimestamp, strconv.Itoa(vecTimestamp+1)), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookSignature, reason: errs.Invalid_},
		{name: "altered payload", headers: vecHeaders(), payload: `{"test": 2432232315}`, now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookSignature, reason: errs.Invalid_},
		{name: "altered id", headers: with(msgrules.HeaderWebhookID, "msg_other"), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookSignature, reason: errs.Invalid_},
		{name: "other secret", secret: other, headers: vecHeaders(), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookSignature, reason: errs.Invalid_},
		{name: "signature without version", headers: with(msgrules.HeaderWebhookSignature, strings.TrimPrefix(vecSignature, "v1,")), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookSignature, reason: errs.Invalid_},
		{name: "v2 version", headers: with(msgrules.HeaderWebhookSignature, "v2,"+strings.TrimPrefix(vecSignature, "v1,")), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookSignature, reason: errs.Invalid_},
		{name: "truncated signature", headers: with(msgrules.HeaderWebhookSignature, vecSignature[:20]), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookSignature, reason: errs.Invalid_},

		{name: "no id", headers: without(msgrules.HeaderWebhookID), now: vecTime,
			code: errs.Invalid, field: msgrules.HeaderWebhookID, reason: errs.Required},
		{name: "no timestamp", headers: without(msgrules.HeaderWebhookTimestamp), now: vecTime,
			code: errs.Invalid, field: msgrules.HeaderWebhookTimestamp, reason: errs.Required},
		{name: "no signature", headers: without(msgrules.HeaderWebhookSignature), now: vecTime,
			code: errs.Invalid, field: msgrules.HeaderWebhookSignature, reason: errs.Required},
		{name: "blank signature", headers: with(msgrules.HeaderWebhookSignature, "  "), now: vecTime,
			code: errs.Invalid, field: msgrules.HeaderWebhookSignature, reason: errs.Required},
		{name: "timestamp in milliseconds", headers: with(msgrules.HeaderWebhookTimestamp, "1614265330000"), now: vecTime,
			code: errs.Unauthorized, field: msgrules.HeaderWebhookTimestamp, reason: errs.Invalid_},
		{name: "signed timestamp", headers: with(msgrules.HeaderWebhookTimestamp, "+1614265330"), now: vecTime,
			code: errs.Invalid, field: msgrules.HeaderWebhookTimestamp, reason: errs.Malformed},
		{name: "RFC 3339 timestamp", headers: with(msgrules.HeaderWebhookTimestamp, "2021-02-26T03:02:10Z"), now: vecTime,
			code: errs.Invalid, field: msgrules.HeaderWebhookTimestamp, reason: errs.Malformed},
		{name: "fractional timestamp", headers: with(msgrules.HeaderWebhookTimestamp, "1614265330.5"), now: vecTime,
			code: errs.Invalid, field: msgrules.HeaderWebhookTimestamp, reason: errs.Malformed},
		{name: "bad secret", secret: "whsec_", headers: vecHeaders(), now: vecTime,
			code: errs.Invalid, field: "secret", reason: errs.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, payload, tolerance := vecSecret, vecPayload, tol
			if tt.secret != "" {
				secret = tt.secret
			}
			if tt.payload != "" {
				payload = tt.payload
			}
			if tt.tol != 0 {
				tolerance = max(tt.tol, 0)
			}
			err := msgrules.VerifyWebhook(secret, tt.headers, []byte(payload), tt.now, tolerance)
			if tt.code == "" {
				wantErr(t, err, "", "", "", "")
				return
			}
			where := errs.Headers
			if tt.field == "secret" {
				where = errs.Body
			}
			wantErr(t, err, tt.code, where, tt.field, tt.reason)
		})
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		count, max int
		delivered  bool
		want       int
		disable    bool
	}{
		{0, 5, true, 0, false},
		{4, 5, true, 0, false}, // a success resets the count
		{0, 5, false, 1, false},
		{3, 5, false, 4, false},
		{4, 5, false, 5, true}, // the fifth consecutive failure disables
		{9, 5, false, 10, true},
		{0, 1, false, 1, true},
		{100, 0, false, 101, false}, // 0: never disable
		{100, -1, false, 101, false},
		{-3, 5, false, 1, false},                    // a corrupt count restarts
		{math.MaxInt, 0, false, math.MaxInt, false}, // no wrap-around
	}
	for _, tt := range tests {
		got, disable := msgrules.WebhookFailures(tt.count, tt.max, tt.delivered)
		if got != tt.want || disable != tt.disable {
			t.Errorf("WebhookFailures(%d, %d, %v) = %d, %v; want %d, %v",
				tt.count, tt.max, tt.delivered, got, disable, tt.want, tt.disable)
		}
	}
}

func TestParseWebhookType(t *testing.T) {
	for _, s := range []string{"message", "contact", "inbox", "apiaccount", "broadcast", "template"} {
		got, err := msgrules.ParseWebhookType(s)
		wantErr(t, err, "", "", "", "")
		if got != s {
			t.Errorf("ParseWebhookType(%q) = %q", s, got)
		}
	}
	for _, s := range []string{"", "Message", "apiAccount", "conversation", "messages"} {
		_, err := msgrules.ParseWebhookType(s)
		wantErr(t, err, errs.Invalid, errs.Body, "type", errs.Invalid_)
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add(vecID, strconv.Itoa(vecTimestamp), vecSignature, []byte(vecPayload), int64(vecTimestamp))
	f.Add("", "", "", []byte{}, int64(0))
	f.Add("a.b", "-1", "v1,==== v1a,x v1,", []byte("\x00"), int64(-1))
	f.Add("x", "99999999999999999999", "v1,"+strings.Repeat("A", 44), []byte("{}"), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, id, ts, sig string, payload []byte, now int64) {
		h := http.Header{}
		h.Set(msgrules.HeaderWebhookID, id)
		h.Set(msgrules.HeaderWebhookTimestamp, ts)
		h.Set(msgrules.HeaderWebhookSignature, sig)
		err := msgrules.VerifyWebhook(vecSecret, h, payload, time.Unix(now, 0), 0)
		if code := errs.CodeOf(err); code != "" && code != errs.Invalid && code != errs.Unauthorized {
			t.Fatalf("VerifyWebhook: unexpected %v", err)
		}
		// Whatever SignWebhook signs verifies at the time it was signed.
		at := time.Unix(now, 0)
		good, err := msgrules.SignWebhook(vecSecret, id, at, payload)
		if err != nil {
			return // empty id
		}
		h.Set(msgrules.HeaderWebhookTimestamp, strconv.FormatInt(now, 10))
		h.Set(msgrules.HeaderWebhookSignature, good)
		if strings.TrimSpace(id) == "" || now < 0 {
			return // refused as a missing id, or as a signed timestamp
		}
		if err := msgrules.VerifyWebhook(vecSecret, h, payload, at, 0); err != nil {
			t.Fatalf("VerifyWebhook(SignWebhook(%q, %d)) = %v", id, now, err)
		}
	})
}
