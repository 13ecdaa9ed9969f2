// Package atrest seals secrets stored in the database (WhatsApp tokens
// and app secrets, webhook signing secrets, the token signing key) with a
// key the operator keeps outside it, so a copy of the database or of a
// backup does not hand them out.
//
// A sealed value is "enc:v1:" followed by the standard base64 of a random
// 12-byte nonce and the AES-256-GCM ciphertext. The caller names where the
// value lives (table, row, field) as additional data, so a sealed value
// copied into another row or field no longer opens. Values without the
// prefix are plaintext rows written before sealing existed: Open returns
// them as they are, and the store seals them at its next start.
//
// The package does no I/O besides reading randomness.
package atrest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// Prefix starts every sealed value; "v1" is this format, so a later one
// can be told apart and old values still opened.
const Prefix = "enc:v1:"

// ErrWrongKey is returned for a sealed value that does not open: sealed
// with another key, or altered (GCM authenticates it).
var ErrWrongKey = errors.New("the secret does not open with this key: wrong --secret-key-file, or the stored value was altered")

// Key seals and opens values. It is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
	raw  []byte // for Derive
}

// NewKey makes a key from KeySize random bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("a secret key is %d bytes, not %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Key{aead: aead, raw: append([]byte(nil), raw...)}, nil
}

// Derive returns a KeySize-byte key for one purpose (such as
// "boxwire blobs v1"), made from the operator's key with HKDF-SHA256.
// Keys for different purposes are unrelated, so a key used to seal files
// never also seals the database's secrets.
func (k *Key) Derive(purpose string) []byte {
	out, err := hkdf.Key(sha256.New, k.raw, nil, purpose, KeySize)
	if err != nil {
		panic(err) // only for a length HKDF cannot give; KeySize it can
	}
	return out
}

// ParseKey reads a key file's content: the standard base64 of KeySize
// bytes, surrounding white space ignored.
func ParseKey(text []byte) (*Key, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, errors.New("a secret key file holds the base64 of 32 random bytes (make one with: boxwire secret-key)")
	}
	return NewKey(raw)
}

// GenerateKey returns a new key file's content: KeySize random bytes in
// standard base64 and a newline.
func GenerateKey() []byte {
	raw := make([]byte, KeySize)
	rand.Read(raw) // never fails (crypto/rand, Go 1.24+)
	return []byte(base64.StdEncoding.EncodeToString(raw) + "\n")
}

// IsSealed says whether a stored value is sealed (else it is plaintext).
func IsSealed(stored string) bool { return strings.HasPrefix(stored, Prefix) }

// Seal seals plain for the place named by where. The empty string, which
// means "no secret", stays empty, and a value already sealed is kept.
func (k *Key) Seal(plain, where string) string {
	if plain == "" || IsSealed(plain) {
		return plain
	}
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(where))
	return Prefix + base64.StdEncoding.EncodeToString(out)
}

// Open returns the plaintext of stored, which was sealed for where. A
// plaintext (legacy) value is returned as it is; a sealed one that does
// not open is ErrWrongKey, never garbage.
func (k *Key) Open(stored, where string) (string, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	data, err := base64.StdEncoding.DecodeString(stored[len(Prefix):])
	n := k.aead.NonceSize()
	if err != nil || len(data) < n+k.aead.Overhead() {
		return "", ErrWrongKey
	}
	plain, err := k.aead.Open(nil, data[:n], data[n:], []byte(where))
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}
