package httpx

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
)

func TestJSONTextProblem(t *testing.T) {
	for body, field := range map[string]string{
		`{"title":"ok","n":1,"a":[1,"x"],"o":{"k":"v"}}`: "",
		`{"t":"caf\u00e9 \ud83d\ude00"}`:                 "", // a surrogate pair is one character
		`{"t":"\\u0000 is text"}`:                        "", // an escaped backslash, not a NUL
		`{"t":"a\u0000"}`:                                "t",
		`{"o":{"k":"\u0000"}}`:                           "o.k",
		`{"a":["ok","\ud800"]}`:                          "a",
		`{"t":"\udc00"}`:                                 "t",
		`{"t":"\ud800\u0041"}`:                           "t",
		"{\"t\":\"\xff\"}":                               "t",
		`{"x":1,"k\u0000":1}`:                            "body",
		`["\u0000"]`:                                     "body",
		`{"o":{"a":1},"t":"\u0000"}`:                     "t",
	} {
		err := jsonTextProblem([]byte(body))
		if field == "" {
			if err != nil {
				t.Errorf("%s: %v, want accepted", body, err)
			}
			continue
		}
		if e := errs.As(err); err == nil || e.Fields[field] != errs.Malformed || e.Where != errs.Body {
			t.Errorf("%s: %v, want %s malformed", body, err, field)
		}
	}
}

func FuzzJSONTextProblem(f *testing.F) {
	f.Add([]byte(`{"a":"\ud800","b":["\u0000"]}`))
	f.Fuzz(func(t *testing.T, b []byte) { jsonTextProblem(b) })
}

func TestClientAddr(t *testing.T) {
	trusted := Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tt := range []struct {
		peer, header, value, want string
	}{
		{"203.0.113.1:5000", "X-Forwarded-For", "198.51.100.1", "203.0.113.1"}, // an untrusted peer's word is not taken
		{"10.0.0.2:5000", "X-Forwarded-For", "198.51.100.1", "198.51.100.1"},
		{"10.0.0.2:5000", "X-Forwarded-For", "1.1.1.1, 198.51.100.1, 10.0.0.9", "198.51.100.1"},
		{"10.0.0.2:5000", "X-Forwarded-For", "unknown", "10.0.0.2"},
		{"10.0.0.2:5000", "X-Forwarded-For", "", "10.0.0.2"},
		{"10.0.0.2:5000", "Forwarded", `for="[2001:db8::7]:41"`, "2001:db8::7"},
		{"[::1]:5000", "Forwarded", "for=192.0.2.9;proto=https, for=10.1.1.1", "192.0.2.9"},
		{"[::ffff:10.0.0.3]:1", "X-Forwarded-For", "192.0.2.10", "192.0.2.10"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		if tt.value != "" {
			r.Header.Set(tt.header, tt.value)
		}
		if got := trusted.client(r); got != tt.want {
			t.Errorf("peer %s, %s: %q: %s, want %s", tt.peer, tt.header, tt.value, got, tt.want)
		}
	}
}
