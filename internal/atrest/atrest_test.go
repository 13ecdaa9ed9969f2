package atrest

import (
	"errors"
	"strings"
	"testing"
)

func mustKey(t *testing.T) *Key {
	t.Helper()
	k, err := ParseKey(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpens(t *testing.T) {
	k := mustKey(t)
	sealed := k.Seal("EAAG-token", "api_accounts/1/accessToken")
	if !strings.HasPrefix(sealed, Prefix) || strings.Contains(sealed, "EAAG-token") {
		t.Fatalf("sealed value %q", sealed)
	}
	if again := k.Seal("EAAG-token", "api_accounts/1/accessToken"); again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if got, err := k.Open(sealed, "api_accounts/1/accessToken"); err != nil || got != "EAAG-token" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if k.Seal(sealed, "x") != sealed {
		t.Fatal("a sealed value was sealed twice")
	}
}

func TestOpenRefuses(t *testing.T) {
	k := mustKey(t)
	sealed := k.Seal("s3cret", "webhooks/1/secret")
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	for name, tt := range map[string]struct {
		key          *Key
		stored, wher string
	}{
		"another key":        {mustKey(t), sealed, "webhooks/1/secret"},
		"another row":        {k, sealed, "webhooks/2/secret"},
		"altered ciphertext": {k, string(tampered), "webhooks/1/secret"},
		"not base64":         {k, Prefix + "%%%", "webhooks/1/secret"},
		"too short":          {k, Prefix + "AAAA", "webhooks/1/secret"},
	} {
		if got, err := tt.key.Open(tt.stored, tt.wher); !errors.Is(err, ErrWrongKey) || got != "" {
			t.Errorf("%s: Open = %q, %v; want ErrWrongKey", name, got, err)
		}
	}
}

func TestPlaintextAndEmptyPassThrough(t *testing.T) {
	k := mustKey(t)
	if got, err := k.Open("legacy-plaintext", "w"); err != nil || got != "legacy-plaintext" {
		t.Fatalf("legacy row: %q, %v", got, err)
	}
	if k.Seal("", "w") != "" {
		t.Fatal("the empty secret was sealed")
	}
}

func TestParseKey(t *testing.T) {
	for _, bad := range []string{"", "not base64!", "c2hvcnQ=", strings.Repeat("A", 64)} {
		if _, err := ParseKey([]byte(bad)); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if _, err := ParseKey([]byte("  " + string(GenerateKey()) + "\n")); err != nil {
		t.Fatalf("a generated key with white space: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := ParseKey(GenerateKey())
	f.Add(k.Seal("x", "w"))
	f.Add(Prefix)
	f.Add("plain")
	f.Fuzz(func(t *testing.T, stored string) {
		got, err := k.Open(stored, "w")
		if err == nil && IsSealed(stored) && got != "x" {
			t.Fatalf("opened %q to %q", stored, got)
		}
	})
}

// TestDerive: a derived key is stable for a key and purpose, differs by
// purpose and by key, and is not the operator's key itself.
func TestDerive(t *testing.T) {
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(i)
	}
	k, err := NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	a, again, b := k.Derive("blobs"), k.Derive("blobs"), k.Derive("media")
	if len(a) != KeySize || string(a) != string(again) {
		t.Fatalf("Derive is not a stable %d-byte key: %x, %x", KeySize, a, again)
	}
	if string(a) == string(b) || string(a) == string(raw) {
		t.Fatal("keys for two purposes, or a derived key and the operator's key, are equal")
	}
	if other := mustKey(t).Derive("blobs"); string(other) == string(a) {
		t.Fatal("two operator keys derive the same key")
	}
}
