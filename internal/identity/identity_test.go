package identity

import (
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/errs"
)

// wantFieldErr asserts err is an Invalid error naming field with reason.
func wantFieldErr(t *testing.T, err error, field, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s on %q", reason, field)
	}
	e := errs.As(err)
	if e.Code != errs.Invalid {
		t.Errorf("code = %q, want %q (err: %v)", e.Code, errs.Invalid, err)
	}
	if e.Where != errs.Body {
		t.Errorf("where = %q, want %q", e.Where, errs.Body)
	}
	if got := e.Fields[field]; got != reason {
		t.Errorf("Fields[%q] = %q, want %q (fields: %v)", field, got, reason, e.Fields)
	}
	if len(e.Fields) != 1 {
		t.Errorf("Fields = %v, want exactly one entry", e.Fields)
	}
}

// addr builds an address of exactly n bytes ending in "@example.com".
func addr(n int) string {
	const domain = "@example.com"
	return strings.Repeat("a", n-len(domain)) + domain
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string // when reason == ""
		reason string // expected Fields[field], "" means accepted
	}{
		{name: "plain", in: "alice@example.com", want: "alice@example.com"},
		{name: "lower-cased", in: "Alice@Example.COM", want: "alice@example.com"},
		{name: "trimmed", in: "  bob@example.org\t\n", want: "bob@example.org"},
		{name: "trimmed and lower-cased", in: " Bob.Smith+tag@Sub.Example.Org ", want: "bob.smith+tag@sub.example.org"},
		{name: "254 bytes is the limit", in: addr(254), want: addr(254)},

		{name: "empty", in: "", reason: errs.Required},
		{name: "only spaces", in: "   \t ", reason: errs.Required},
		{name: "no at sign", in: "a", reason: errs.Malformed},
		{name: "no dot in domain", in: "a@b", reason: errs.Malformed},
		{name: "dot only in local part", in: "a.b@c", reason: errs.Malformed},
		{name: "display-name form", in: "A <a@b.com>", reason: errs.Malformed},
		{name: "angle-addr form", in: "<a@b.com>", reason: errs.Malformed},
		{name: "two addresses", in: "a@b.com, c@d.com", reason: errs.Malformed},
		{name: "missing local part", in: "@b.com", reason: errs.Malformed},
		{name: "missing domain", in: "a@", reason: errs.Malformed},
		{name: "inner space", in: "a b@c.com", reason: errs.Malformed},
		{name: "over 254 bytes", in: addr(255), reason: errs.Malformed},
		{name: "far over 254 bytes", in: addr(1000), reason: errs.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Email("email", tt.in)
			if tt.reason != "" {
				wantFieldErr(t, err, "email", tt.reason)
				if got != "" {
					t.Errorf("got %q alongside an error, want \"\"", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Email(%q) = %v, want accepted", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Email(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEmailNamesTheGivenField(t *testing.T) {
	_, err := Email("new_email", "")
	wantFieldErr(t, err, "new_email", errs.Required)
	if !strings.Contains(errs.As(err).Message, "new_email") {
		t.Errorf("message %q does not name the field", errs.As(err).Message)
	}
	_, err = Email("login", "nope")
	wantFieldErr(t, err, "login", errs.Malformed)
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{
		"", " ", "a", "a@b", "a@b.com", "A@B.COM", " x@y.z ", "A <a@b.com>",
		"<a@b.com>", `"a b"@c.com`, `"a@b"@c.com`, "a@[1.2.3.4]", "é@é.fr",
		"a@b.c.", "a..b@c.com", addr(254), addr(255),
		// 254 bytes as given, but U+023A (2 bytes) lowers to U+2C65
		// (3 bytes): the canonical form would be 255 bytes.
		"\u023a" + addr(252),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Email("email", s) // must not panic
		if err != nil {
			e := errs.As(err)
			if e.Code != errs.Invalid {
				t.Fatalf("Email(%q): code %q, want %q", s, e.Code, errs.Invalid)
			}
			if r := e.Fields["email"]; r != errs.Required && r != errs.Malformed {
				t.Fatalf("Email(%q): reason %q", s, r)
			}
			return
		}
		if got != strings.ToLower(got) {
			t.Fatalf("Email(%q) = %q, not lower case", s, got)
		}
		if len(got) > 254 {
			t.Fatalf("Email(%q) = %q, longer than 254 bytes", s, got)
		}
		again, err := Email("email", got)
		if err != nil {
			t.Fatalf("Email(%q) = %q, which does not re-validate: %v", s, got, err)
		}
		if again != got {
			t.Fatalf("Email(%q) = %q, re-validates to %q", s, got, again)
		}
	})
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		reason string
	}{
		{name: "plain", in: "Alice", want: "Alice"},
		{name: "trimmed", in: "  Alice Smith \n", want: "Alice Smith"},
		{name: "case kept", in: "aLiCe", want: "aLiCe"},
		{name: "one rune", in: "A", want: "A"},
		{name: "64 ascii", in: strings.Repeat("a", 64), want: strings.Repeat("a", 64)},
		{name: "64 two-byte runes", in: strings.Repeat("é", 64), want: strings.Repeat("é", 64)},
		{name: "64 four-byte runes", in: strings.Repeat("😀", 64), want: strings.Repeat("😀", 64)},
		{name: "spaces around 64 runes do not count", in: "  " + strings.Repeat("é", 64) + "  ", want: strings.Repeat("é", 64)},

		{name: "empty", in: "", reason: errs.Required},
		{name: "only whitespace", in: " \t\n ", reason: errs.Required},
		{name: "65 ascii", in: strings.Repeat("a", 65), reason: errs.TooLong},
		{name: "65 two-byte runes", in: strings.Repeat("é", 65), reason: errs.TooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DisplayName("display_name", tt.in)
			if tt.reason != "" {
				wantFieldErr(t, err, "display_name", tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("DisplayName(%q) = %v, want accepted", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("DisplayName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{name: "8 ascii", in: "12345678"},
		{name: "long", in: "correct horse battery staple"},
		{name: "8 multibyte runes", in: strings.Repeat("é", 8)},
		{name: "1024 bytes", in: strings.Repeat("a", 1024)},
		{name: "spaces are kept and count", in: "    1234"},

		{name: "empty", in: "", reason: errs.Required},
		{name: "7 ascii", in: "1234567", reason: errs.Invalid_},
		{name: "7 multibyte runes (14 bytes)", in: strings.Repeat("é", 7), reason: errs.Invalid_},
		{name: "1025 bytes", in: strings.Repeat("a", 1025), reason: errs.TooLong},
		{name: "600 runes but 1200 bytes", in: strings.Repeat("é", 600), reason: errs.TooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Password("password", tt.in)
			if tt.reason != "" {
				wantFieldErr(t, err, "password", tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("Password(%d bytes) = %v, want accepted", len(tt.in), err)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in   string
		want Role
		ok   bool
	}{
		{in: "admin", want: Admin, ok: true},
		{in: "agent", want: Agent, ok: true},
		{in: ""},
		{in: "Admin"},
		{in: "AGENT"},
		{in: " admin"},
		{in: "owner"},
		{in: "superadmin"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRole(tt.in)
			if !tt.ok {
				wantFieldErr(t, err, "role", errs.Invalid_)
				if got != "" {
					t.Errorf("got role %q alongside an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRole(%q) = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseRole(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAvatarURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/"))
	tests := []struct {
		name   string
		in     string
		want   string
		reason string
	}{
		{name: "empty means none", in: "", want: ""},
		{name: "blank means none", in: "   ", want: ""},
		{name: "https", in: "https://example.com/a.png", want: "https://example.com/a.png"},
		{name: "http", in: "http://example.com/a.png", want: "http://example.com/a.png"},
		{name: "trimmed", in: "  https://example.com/a.png\n", want: "https://example.com/a.png"},
		{name: "with query and port", in: "https://cdn.example.com:8443/a.png?s=64", want: "https://cdn.example.com:8443/a.png?s=64"},
		{name: "2048 bytes", in: long, want: long},

		{name: "javascript", in: "javascript:alert(1)", reason: errs.Malformed},
		{name: "javascript slashes", in: "javascript://example.com/%0aalert(1)", reason: errs.Malformed},
		{name: "data", in: "data:image/png;base64,AAAA", reason: errs.Malformed},
		{name: "relative path", in: "/avatars/a.png", reason: errs.Malformed},
		{name: "relative name", in: "a.png", reason: errs.Malformed},
		{name: "scheme-relative", in: "//example.com/a.png", reason: errs.Malformed},
		{name: "ftp", in: "ftp://example.com/a.png", reason: errs.Malformed},
		{name: "no host", in: "https:///a.png", reason: errs.Malformed},
		{name: "unparsable", in: "https://exa mple.com/%zz", reason: errs.Malformed},
		{name: "over 2048 bytes", in: long + "a", reason: errs.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AvatarURL("avatar_url", tt.in)
			if tt.reason != "" {
				wantFieldErr(t, err, "avatar_url", tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("AvatarURL(%q) = %v, want accepted", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("AvatarURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
