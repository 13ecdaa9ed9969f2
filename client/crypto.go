package client

// The boxes' end-to-end crypto, done on the client: the server stores only
// what these functions produce. The formats are those of Misakey's tweetnacl
// web client, byte for byte (testdata/ holds tweetnacl's own vectors).

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
)

// FileAlgorithm is the FileEncryption.Algorithm of files encrypted with
// nacl.secretbox under their own key.
const FileAlgorithm = "com.misakey.secretbox-file-enc"

const (
	keySize   = 32 // X25519 keys, secretbox keys and link shares
	nonceSize = 24 // box and secretbox nonces
)

var (
	// ErrDecrypt is returned when a ciphertext does not open: a wrong key,
	// or a ciphertext or nonce that was altered.
	ErrDecrypt = errors.New("decryption failed: wrong key or altered ciphertext")
	// ErrShareHash is returned by VerifyShareHash when the share does not
	// match the hash the server knows it by.
	ErrShareHash = errors.New("other_share_hash does not match shareOne")
)

// KeyPair is a box's X25519 (NaCl box) key pair, each key in unpadded
// url-safe base64.
type KeyPair struct {
	PublicKey string
	SecretKey string
}

// NewKeyPair returns a fresh random box key pair.
func NewKeyPair() (KeyPair, error) {
	pub, sec, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("box key pair: %w", err)
	}
	return KeyPair{PublicKey: url64(pub[:]), SecretKey: url64(sec[:])}, nil
}

// PublicKeyOf returns the public key that goes with a box secret key.
func PublicKeyOf(secretKey string) (string, error) {
	sec, err := decodeKey("secret key", secretKey)
	if err != nil {
		return "", err
	}
	pub, err := curve25519.X25519(sec[:], curve25519.Basepoint)
	if err != nil {
		return "", fmt.Errorf("secret key: %w", err)
	}
	return url64(pub), nil
}

// EncryptText encrypts a message for the box whose public key is given,
// with a fresh ephemeral sender key and nonce. The result is the message's
// `encrypted` field.
func EncryptText(boxPublicKey string, plaintext []byte) (string, error) {
	pub, err := decodeKey("box public key", boxPublicKey)
	if err != nil {
		return "", err
	}
	var ephemeralSecret [keySize]byte
	var nonce [nonceSize]byte
	if err := randomFill(ephemeralSecret[:], nonce[:]); err != nil {
		return "", err
	}
	return encryptTextWith(pub, plaintext, &ephemeralSecret, &nonce)
}

// DecryptText opens a message's `encrypted` field with the box's secret key.
func DecryptText(boxSecretKey, encrypted string) ([]byte, error) {
	sec, err := decodeKey("box secret key", boxSecretKey)
	if err != nil {
		return nil, err
	}
	if encrypted == "" {
		return nil, errors.New("encrypted: missing")
	}
	raw, err := decodeStd("encrypted", encrypted, -1)
	if err != nil {
		return nil, err
	}
	var c cryptogram
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("encrypted: not a cryptogram JSON object: %v", err)
	}
	ephemeral, err := c.EphemeralSenderPublicKey.decode("ephemeralSenderPublicKey", keySize)
	if err != nil {
		return nil, err
	}
	nonce, err := c.Nonce.decode("nonce", nonceSize)
	if err != nil {
		return nil, err
	}
	ciphertext, err := c.Ciphertext.decode("ciphertext", -1)
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < box.Overhead {
		return nil, fmt.Errorf("ciphertext: want at least %d bytes, got %d", box.Overhead, len(ciphertext))
	}
	plaintext, ok := box.Open([]byte{}, ciphertext, (*[nonceSize]byte)(nonce), (*[keySize]byte)(ephemeral), sec)
	if !ok {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

// encryptTextWith is EncryptText with its randomness given, so that tests
// can reproduce tweetnacl's output exactly.
func encryptTextWith(boxPublicKey *[keySize]byte, plaintext []byte, ephemeralSecret *[keySize]byte, nonce *[nonceSize]byte) (string, error) {
	ephemeralPublic, err := curve25519.X25519(ephemeralSecret[:], curve25519.Basepoint)
	if err != nil {
		return "", fmt.Errorf("ephemeral key: %w", err)
	}
	// box.Seal would accept a low-order public key and encrypt under an
	// all-zero shared key that anyone can compute; X25519 refuses it.
	if _, err := curve25519.X25519(ephemeralSecret[:], boxPublicKey[:]); err != nil {
		return "", errors.New("box public key: a low-order point, which is no one's key")
	}
	c := cryptogram{
		EphemeralSenderPublicKey: newBytesField(ephemeralPublic),
		Nonce:                    newBytesField(nonce[:]),
		Ciphertext:               newBytesField(box.Seal(nil, plaintext, nonce, boxPublicKey, ephemeralSecret)),
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encrypted: %w", err)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// cryptogram is the JSON inside an `encrypted` field, with its keys in the
// order tweetnacl's client writes them. Fields are pointers so that a
// missing one can be told from an empty one.
type cryptogram struct {
	EphemeralSenderPublicKey *bytesField `json:"ephemeralSenderPublicKey"`
	Nonce                    *bytesField `json:"nonce"`
	Ciphertext               *bytesField `json:"ciphertext"`
}

// bytesField is how Misakey's client serialises a Uint8Array.
type bytesField struct {
	Type     string `json:"type"`
	Encoding string `json:"encoding"`
	Value    string `json:"value"`
}

func newBytesField(b []byte) *bytesField {
	return &bytesField{Type: "Uint8Array", Encoding: "base64", Value: base64.StdEncoding.EncodeToString(b)}
}

// decode returns the field's bytes, checking that there are n of them
// unless n is negative.
func (f *bytesField) decode(what string, n int) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("%s: missing", what)
	}
	if f.Type != "Uint8Array" || f.Encoding != "base64" {
		return nil, fmt.Errorf("%s: want type Uint8Array in base64, got type %q encoding %q", what, f.Type, f.Encoding)
	}
	return decodeStd(what, f.Value, n)
}

// InvitationShares are the two halves of a box secret key that an
// invitation link splits it into, and the hash the server files the second
// half under.
type InvitationShares struct {
	// ShareOne goes in the link's URL fragment (unpadded url-safe base64).
	ShareOne string
	// MisakeyShare is stored on the server as misakey_share (std base64).
	MisakeyShare string
	// OtherShareHash is SHA-512(ShareOne), unpadded url-safe base64: the
	// server looks MisakeyShare up by it.
	OtherShareHash string
}

// SplitSecretKey splits a box secret key for an invitation link, with a
// fresh random ShareOne.
func SplitSecretKey(secretKey string) (InvitationShares, error) {
	sec, err := decodeKey("secret key", secretKey)
	if err != nil {
		return InvitationShares{}, err
	}
	var shareOne [keySize]byte
	if err := randomFill(shareOne[:]); err != nil {
		return InvitationShares{}, err
	}
	return splitSecretKeyWith(sec, &shareOne), nil
}

// splitSecretKeyWith is SplitSecretKey with ShareOne given.
func splitSecretKeyWith(secretKey, shareOne *[keySize]byte) InvitationShares {
	var misakeyShare [keySize]byte
	subtle.XORBytes(misakeyShare[:], secretKey[:], shareOne[:])
	return InvitationShares{
		ShareOne:       url64(shareOne[:]),
		MisakeyShare:   base64.StdEncoding.EncodeToString(misakeyShare[:]),
		OtherShareHash: shareHash(shareOne[:]),
	}
}

// CombineShares rebuilds a box secret key from the link's shareOne and the
// server's misakey_share. The result cannot be checked here: check
// shareOne first with VerifyShareHash, and the key against the box's
// public key with PublicKeyOf.
func CombineShares(shareOne, misakeyShare string) (secretKey string, err error) {
	one, err := decodeKey("shareOne", shareOne)
	if err != nil {
		return "", err
	}
	two, err := decodeStd("misakey_share", misakeyShare, keySize)
	if err != nil {
		return "", err
	}
	var sec [keySize]byte
	subtle.XORBytes(sec[:], one[:], two)
	return url64(sec[:]), nil
}

// ShareHash returns other_share_hash for a link's shareOne.
func ShareHash(shareOne string) (string, error) {
	one, err := decodeKey("shareOne", shareOne)
	if err != nil {
		return "", err
	}
	return shareHash(one[:]), nil
}

// VerifyShareHash checks that shareOne is the share that otherShareHash
// names, returning ErrShareHash if it is not.
func VerifyShareHash(shareOne, otherShareHash string) error {
	want, err := ShareHash(shareOne)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(otherShareHash)) != 1 {
		return ErrShareHash
	}
	return nil
}

func shareHash(shareOne []byte) string {
	sum := sha512.Sum512(shareOne)
	return url64(sum[:])
}

// FileInfo is the message that accompanies an encrypted file: what the
// file is, and the key that opens it.
type FileInfo struct {
	FileName   string         `json:"fileName"`
	FileSize   int64          `json:"fileSize"`
	FileType   string         `json:"fileType"` // MIME type
	Encryption FileEncryption `json:"encryption"`
}

// FileEncryption says how a file was encrypted: Algorithm is FileAlgorithm,
// Nonce and FileKey are std base64.
type FileEncryption struct {
	Algorithm string `json:"algorithm"`
	Nonce     string `json:"nonce"`
	FileKey   string `json:"fileKey"`
}

// EncryptFile encrypts a file under a fresh key and encrypts the FileInfo
// that carries that key for the box. encryptedFile is the upload's
// encrypted_file and encryptedContent its msg_encrypted_content.
func EncryptFile(boxPublicKey string, name, mimeType string, data []byte) (encryptedFile []byte, encryptedContent string, err error) {
	pub, err := decodeKey("box public key", boxPublicKey)
	if err != nil {
		return nil, "", err
	}
	var s fileSecrets
	if err := randomFill(s.fileKey[:], s.fileNonce[:], s.ephemeralSecret[:], s.messageNonce[:]); err != nil {
		return nil, "", err
	}
	return encryptFileWith(pub, name, mimeType, data, &s)
}

// fileSecrets is the randomness of one EncryptFile.
type fileSecrets struct {
	fileKey         [keySize]byte
	fileNonce       [nonceSize]byte
	ephemeralSecret [keySize]byte
	messageNonce    [nonceSize]byte
}

// encryptFileWith is EncryptFile with its randomness given.
func encryptFileWith(boxPublicKey *[keySize]byte, name, mimeType string, data []byte, s *fileSecrets) ([]byte, string, error) {
	info := FileInfo{
		FileName: name,
		FileSize: int64(len(data)),
		FileType: mimeType,
		Encryption: FileEncryption{
			Algorithm: FileAlgorithm,
			Nonce:     base64.StdEncoding.EncodeToString(s.fileNonce[:]),
			FileKey:   base64.StdEncoding.EncodeToString(s.fileKey[:]),
		},
	}
	// JSON.stringify leaves <, > and & alone; so must we, to write the
	// same bytes as the web client.
	var msg bytes.Buffer
	enc := json.NewEncoder(&msg)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(info); err != nil {
		return nil, "", fmt.Errorf("file message: %w", err)
	}
	content, err := encryptTextWith(boxPublicKey, bytes.TrimSuffix(msg.Bytes(), []byte("\n")), &s.ephemeralSecret, &s.messageNonce)
	if err != nil {
		return nil, "", err
	}
	return secretbox.Seal(nil, data, &s.fileNonce, &s.fileKey), content, nil
}

// DecryptFile opens a file's msg_encrypted_content with the box's secret
// key, then the file with the key found there.
func DecryptFile(boxSecretKey, encryptedContent string, encryptedFile []byte) (FileInfo, []byte, error) {
	msg, err := DecryptText(boxSecretKey, encryptedContent)
	if err != nil {
		return FileInfo{}, nil, fmt.Errorf("file message: %w", err)
	}
	var info FileInfo
	if err := json.Unmarshal(msg, &info); err != nil {
		return FileInfo{}, nil, fmt.Errorf("file message: not file information JSON: %v", err)
	}
	if info.Encryption.Algorithm != FileAlgorithm {
		return FileInfo{}, nil, fmt.Errorf("encryption.algorithm: want %q, got %q", FileAlgorithm, info.Encryption.Algorithm)
	}
	nonce, err := decodeStd("encryption.nonce", info.Encryption.Nonce, nonceSize)
	if err != nil {
		return FileInfo{}, nil, err
	}
	key, err := decodeStd("encryption.fileKey", info.Encryption.FileKey, keySize)
	if err != nil {
		return FileInfo{}, nil, err
	}
	data, ok := secretbox.Open([]byte{}, encryptedFile, (*[nonceSize]byte)(nonce), (*[keySize]byte)(key))
	if !ok {
		return FileInfo{}, nil, fmt.Errorf("encrypted file: %w", ErrDecrypt)
	}
	return info, data, nil
}

// randomFill fills each buffer from crypto/rand.
func randomFill(bufs ...[]byte) error {
	for _, b := range bufs {
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("random bytes: %w", err)
		}
	}
	return nil
}

func url64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decodeKey decodes a 32-byte key or share in unpadded url-safe base64.
func decodeKey(what, s string) (*[keySize]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%s: missing", what)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not unpadded url-safe base64: %v", what, err)
	}
	if len(b) != keySize {
		return nil, fmt.Errorf("%s: want %d bytes, got %d", what, keySize, len(b))
	}
	return (*[keySize]byte)(b), nil
}

// decodeStd decodes padded std base64, checking that it holds n bytes
// unless n is negative.
func decodeStd(what, s string, n int) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not base64: %v", what, err)
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("%s: want %d bytes, got %d", what, n, len(b))
	}
	return b, nil
}
