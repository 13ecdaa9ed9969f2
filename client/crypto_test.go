package client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The vectors files: testdata/tweetnacl_vectors.json is written by
// testdata/gen_vectors.js with tweetnacl, testdata/go_vectors.json by
// TestGoVectors with this package. Both have this shape, and both are
// checked by checkVectors here and by testdata/verify_go.js in Node.
type vectors struct {
	About       string             `json:"about"`
	Generator   string             `json:"generator"`
	Boxes       []boxVector        `json:"boxes"`
	Messages    []messageVector    `json:"messages"`
	Invitations []invitationVector `json:"invitations"`
	Files       []fileVector       `json:"files"`
}

type boxVector struct {
	Name      string `json:"name"`
	PublicKey string `json:"publicKey"`
	SecretKey string `json:"secretKey"`
}

type messageVector struct {
	Name         string `json:"name"`
	BoxPublicKey string `json:"boxPublicKey"`
	BoxSecretKey string `json:"boxSecretKey"`
	Plaintext    string `json:"plaintext"`
	Encrypted    string `json:"encrypted"`
	// Pinned is the randomness tweetnacl was given (std base64), so that
	// Go can reproduce Encrypted exactly.
	Pinned *struct {
		EphemeralSecretKey string `json:"ephemeralSecretKey"`
		Nonce              string `json:"nonce"`
	} `json:"pinned,omitempty"`
}

type invitationVector struct {
	Name           string `json:"name"`
	SecretKey      string `json:"secretKey"`
	ShareOne       string `json:"shareOne"`
	MisakeyShare   string `json:"misakeyShare"`
	OtherShareHash string `json:"otherShareHash"`
}

type fileVector struct {
	Name             string `json:"name"`
	BoxPublicKey     string `json:"boxPublicKey"`
	BoxSecretKey     string `json:"boxSecretKey"`
	FileName         string `json:"fileName"`
	FileType         string `json:"fileType"`
	Data             string `json:"data"`
	EncryptedFile    string `json:"encryptedFile"`
	EncryptedContent string `json:"encryptedContent"`
	Pinned           *struct {
		FileKey            string `json:"fileKey"`
		FileNonce          string `json:"fileNonce"`
		EphemeralSecretKey string `json:"ephemeralSecretKey"`
		MessageNonce       string `json:"messageNonce"`
	} `json:"pinned,omitempty"`
}

const (
	tweetnaclVectorsFile = "testdata/tweetnacl_vectors.json"
	goVectorsFile        = "testdata/go_vectors.json"
)

func loadVectors(tb testing.TB, path string) vectors {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if len(v.Boxes) == 0 || len(v.Messages) == 0 || len(v.Invitations) == 0 || len(v.Files) == 0 {
		tb.Fatalf("%s: a group of vectors is empty", path)
	}
	return v
}

// checkVectors opens every vector with this package's public API.
func checkVectors(t *testing.T, v vectors) {
	for _, b := range v.Boxes {
		t.Run("box/"+b.Name, func(t *testing.T) {
			pub, err := PublicKeyOf(b.SecretKey)
			if err != nil || pub != b.PublicKey {
				t.Fatalf("PublicKeyOf = %q, %v; want %q", pub, err, b.PublicKey)
			}
		})
	}
	for _, m := range v.Messages {
		t.Run("message/"+m.Name, func(t *testing.T) {
			got, err := DecryptText(m.BoxSecretKey, m.Encrypted)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != m.Plaintext {
				t.Fatalf("plaintext = %q, want %q", got, m.Plaintext)
			}
		})
	}
	for _, in := range v.Invitations {
		t.Run("invitation/"+in.Name, func(t *testing.T) {
			sec, err := CombineShares(in.ShareOne, in.MisakeyShare)
			if err != nil || sec != in.SecretKey {
				t.Fatalf("CombineShares = %q, %v; want %q", sec, err, in.SecretKey)
			}
			if err := VerifyShareHash(in.ShareOne, in.OtherShareHash); err != nil {
				t.Fatal(err)
			}
			if h, err := ShareHash(in.ShareOne); err != nil || h != in.OtherShareHash {
				t.Fatalf("ShareHash = %q, %v; want %q", h, err, in.OtherShareHash)
			}
		})
	}
	for _, f := range v.Files {
		t.Run("file/"+f.Name, func(t *testing.T) {
			info, data, err := DecryptFile(f.BoxSecretKey, f.EncryptedContent, mustStd(t, f.EncryptedFile))
			if err != nil {
				t.Fatal(err)
			}
			want := mustStd(t, f.Data)
			if !bytes.Equal(data, want) {
				t.Fatalf("file = %q, want %q", data, want)
			}
			if info.FileName != f.FileName || info.FileType != f.FileType || info.FileSize != int64(len(want)) {
				t.Fatalf("info = %+v, want name %q type %q size %d", info, f.FileName, f.FileType, len(want))
			}
		})
	}
}

// TestTweetnaclVectors: Go opens what tweetnacl encrypted.
func TestTweetnaclVectors(t *testing.T) {
	v := loadVectors(t, tweetnaclVectorsFile)
	if !strings.HasPrefix(v.Generator, "tweetnacl ") {
		t.Fatalf("generator = %q, want tweetnacl", v.Generator)
	}
	checkVectors(t, v)
}

// TestSameBytesAsTweetnacl: given tweetnacl's randomness, Go writes the
// very same strings and bytes.
func TestSameBytesAsTweetnacl(t *testing.T) {
	v := loadVectors(t, tweetnaclVectorsFile)
	pinned := 0
	for _, m := range v.Messages {
		if m.Pinned == nil {
			continue
		}
		pinned++
		got, err := encryptTextWith(mustKey(t, m.BoxPublicKey), []byte(m.Plaintext),
			(*[keySize]byte)(mustStdN(t, m.Pinned.EphemeralSecretKey, keySize)),
			(*[nonceSize]byte)(mustStdN(t, m.Pinned.Nonce, nonceSize)))
		if err != nil {
			t.Fatal(err)
		}
		if got != m.Encrypted {
			t.Errorf("message %q:\n go  %s\n js  %s", m.Name, got, m.Encrypted)
		}
	}
	for _, in := range v.Invitations {
		pinned++
		got := splitSecretKeyWith(mustKey(t, in.SecretKey), mustKey(t, in.ShareOne))
		want := InvitationShares{ShareOne: in.ShareOne, MisakeyShare: in.MisakeyShare, OtherShareHash: in.OtherShareHash}
		if got != want {
			t.Errorf("invitation %q:\n go  %+v\n js  %+v", in.Name, got, want)
		}
	}
	for _, f := range v.Files {
		if f.Pinned == nil {
			continue
		}
		pinned++
		var s fileSecrets
		copy(s.fileKey[:], mustStdN(t, f.Pinned.FileKey, keySize))
		copy(s.fileNonce[:], mustStdN(t, f.Pinned.FileNonce, nonceSize))
		copy(s.ephemeralSecret[:], mustStdN(t, f.Pinned.EphemeralSecretKey, keySize))
		copy(s.messageNonce[:], mustStdN(t, f.Pinned.MessageNonce, nonceSize))
		file, content, err := encryptFileWith(mustKey(t, f.BoxPublicKey), f.FileName, f.FileType, mustStd(t, f.Data), &s)
		if err != nil {
			t.Fatal(err)
		}
		if got := base64.StdEncoding.EncodeToString(file); got != f.EncryptedFile {
			t.Errorf("file %q: encrypted file\n go  %s\n js  %s", f.Name, got, f.EncryptedFile)
		}
		if content != f.EncryptedContent {
			t.Errorf("file %q: encrypted content\n go  %s\n js  %s", f.Name, content, f.EncryptedContent)
		}
	}
	if pinned < 5 {
		t.Fatalf("only %d pinned vectors", pinned)
	}
}

func TestRoundTrip(t *testing.T) {
	kp, err := NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	if pub, err := PublicKeyOf(kp.SecretKey); err != nil || pub != kp.PublicKey {
		t.Fatalf("PublicKeyOf = %q, %v; want %q", pub, err, kp.PublicKey)
	}
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	texts := map[string][]byte{
		"ascii":     []byte("hello"),
		"utf-8":     []byte("ça marche 🎉"),
		"empty":     {},
		"all bytes": allBytes,
		"1 MiB":     bytes.Repeat([]byte("0123456789abcdef"), 1<<16),
	}
	for name, plaintext := range texts {
		t.Run("text/"+name, func(t *testing.T) {
			enc, err := EncryptText(kp.PublicKey, plaintext)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecryptText(kp.SecretKey, enc)
			if err != nil || !bytes.Equal(got, plaintext) {
				t.Fatalf("DecryptText = %d bytes, %v; want %d bytes", len(got), err, len(plaintext))
			}
			again, _ := EncryptText(kp.PublicKey, plaintext)
			if again == enc {
				t.Fatal("two encryptions gave the same ciphertext: randomness is not fresh")
			}
		})
	}
	t.Run("invitation", func(t *testing.T) {
		shares, err := SplitSecretKey(kp.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyShareHash(shares.ShareOne, shares.OtherShareHash); err != nil {
			t.Fatal(err)
		}
		sec, err := CombineShares(shares.ShareOne, shares.MisakeyShare)
		if err != nil || sec != kp.SecretKey {
			t.Fatalf("CombineShares = %q, %v; want %q", sec, err, kp.SecretKey)
		}
		if again, _ := SplitSecretKey(kp.SecretKey); again.ShareOne == shares.ShareOne {
			t.Fatal("two splits gave the same shareOne")
		}
	})
	for name, data := range map[string][]byte{"small": []byte("%PDF-1.7 fake"), "empty": {}, "all bytes": allBytes} {
		t.Run("file/"+name, func(t *testing.T) {
			file, content, err := EncryptFile(kp.PublicKey, "a <b> & c.pdf", "application/pdf", data)
			if err != nil {
				t.Fatal(err)
			}
			info, got, err := DecryptFile(kp.SecretKey, content, file)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("DecryptFile = %q, %v; want %q", got, err, data)
			}
			if info.FileName != "a <b> & c.pdf" || info.FileType != "application/pdf" ||
				info.FileSize != int64(len(data)) || info.Encryption.Algorithm != FileAlgorithm {
				t.Fatalf("info = %+v", info)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	kp, other := mustKeyPair(t), mustKeyPair(t)
	enc, err := EncryptText(kp.PublicKey, []byte("for kp only"))
	if err != nil {
		t.Fatal(err)
	}
	shares, err := SplitSecretKey(kp.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	otherShares, err := SplitSecretKey(other.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	file, content, err := EncryptFile(kp.PublicKey, "f.txt", "text/plain", []byte("file body"))
	if err != nil {
		t.Fatal(err)
	}
	tamperedFile := bytes.Clone(file)
	tamperedFile[len(tamperedFile)-1] ^= 1
	fileMessage := func(info string) string {
		s, err := EncryptText(kp.PublicKey, []byte(info))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	zeroKey := url64(make([]byte, keySize))

	for _, c := range []struct {
		name string
		err  error
		is   error  // if set, errors.Is(err, is) must hold
		want string // if set, the message must contain it
	}{
		{"wrong key", errOf(DecryptText(other.SecretKey, enc)), ErrDecrypt, ""},
		{"tampered ciphertext", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { flip(t, c.Ciphertext, 20) }))), ErrDecrypt, ""},
		{"tampered authenticator", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { flip(t, c.Ciphertext, 0) }))), ErrDecrypt, ""},
		{"tampered nonce", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { flip(t, c.Nonce, 3) }))), ErrDecrypt, ""},
		{"other ephemeral key", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) {
			c.EphemeralSenderPublicKey = newBytesField(mustKey(t, other.PublicKey)[:])
		}))), ErrDecrypt, ""},
		{"encrypted empty", errOf(DecryptText(kp.SecretKey, "")), nil, "encrypted: missing"},
		{"encrypted not base64", errOf(DecryptText(kp.SecretKey, "not base64!")), nil, "encrypted: not base64"},
		{"encrypted url-safe base64", errOf(DecryptText(kp.SecretKey, strings.NewReplacer("+", "-", "/", "_").Replace(enc)+"-_")), nil, "encrypted: not base64"},
		{"encrypted not JSON", errOf(DecryptText(kp.SecretKey, std64("hello"))), nil, "encrypted: not a cryptogram JSON object"},
		{"nonce missing", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { c.Nonce = nil }))), nil, "nonce: missing"},
		{"nonce 23 bytes", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { c.Nonce = newBytesField(make([]byte, 23)) }))), nil, "nonce: want 24 bytes, got 23"},
		{"nonce not base64", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { c.Nonce.Value = "***" }))), nil, "nonce: not base64"},
		{"nonce not a Uint8Array", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { c.Nonce.Type = "Buffer" }))), nil, `nonce: want type Uint8Array in base64, got type "Buffer"`},
		{"ephemeral key 31 bytes", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) {
			c.EphemeralSenderPublicKey = newBytesField(make([]byte, 31))
		}))), nil, "ephemeralSenderPublicKey: want 32 bytes, got 31"},
		{"ciphertext too short", errOf(DecryptText(kp.SecretKey, rewrite(t, enc, func(c *cryptogram) { c.Ciphertext = newBytesField(make([]byte, 15)) }))), nil, "ciphertext: want at least 16 bytes, got 15"},
		{"secret key padded", errOf(DecryptText(kp.SecretKey+"=", enc)), nil, "box secret key: not unpadded url-safe base64"},
		{"secret key std alphabet", errOf(DecryptText("+"+kp.SecretKey[1:], enc)), nil, "box secret key: not unpadded url-safe base64"},
		{"secret key short", errOf(DecryptText(kp.SecretKey[:40], enc)), nil, "box secret key: want 32 bytes, got 30"},
		{"public key missing", errOf(EncryptText("", []byte("x"))), nil, "box public key: missing"},
		{"public key short", errOf(EncryptText("AAAA", []byte("x"))), nil, "box public key: want 32 bytes, got 3"},
		{"public key of low order", errOf(EncryptText(zeroKey, []byte("x"))), nil, "box public key: a low-order point"},
		{"PublicKeyOf bad", errOf(PublicKeyOf("!!")), nil, "secret key: not unpadded url-safe base64"},
		{"split bad key", errOf(SplitSecretKey("AAAA")), nil, "secret key: want 32 bytes, got 3"},
		{"wrong share hash", VerifyShareHash(shares.ShareOne, otherShares.OtherShareHash), ErrShareHash, ""},
		{"altered share hash", VerifyShareHash(shares.ShareOne, alterChar(shares.OtherShareHash)), ErrShareHash, ""},
		{"share hash of other share", VerifyShareHash(otherShares.ShareOne, shares.OtherShareHash), ErrShareHash, ""},
		{"share hash bad share", errOf(ShareHash("AAAA")), nil, "shareOne: want 32 bytes, got 3"},
		{"shareOne not base64", errOf(CombineShares("@@@", shares.MisakeyShare)), nil, "shareOne: not unpadded url-safe base64"},
		{"misakey_share not base64", errOf(CombineShares(shares.ShareOne, "@@@@")), nil, "misakey_share: not base64"},
		{"misakey_share url-safe", errOf(CombineShares(shares.ShareOne, shares.ShareOne)), nil, "misakey_share: not base64"},
		{"misakey_share short", errOf(CombineShares(shares.ShareOne, std64("short"))), nil, "misakey_share: want 32 bytes, got 5"},
		{"file, wrong key", errOf3(DecryptFile(other.SecretKey, content, file)), ErrDecrypt, "file message: "},
		{"file tampered", errOf3(DecryptFile(kp.SecretKey, content, tamperedFile)), ErrDecrypt, "encrypted file: "},
		{"file truncated", errOf3(DecryptFile(kp.SecretKey, content, file[:10])), ErrDecrypt, "encrypted file: "},
		{"file of another message", errOf3(DecryptFile(kp.SecretKey, mustEncryptFileContent(t, kp.PublicKey), file)), ErrDecrypt, "encrypted file: "},
		{"file message not JSON", errOf3(DecryptFile(kp.SecretKey, fileMessage("[1,2]"), file)), nil, "file message: not file information JSON"},
		{"file algorithm unknown", errOf3(DecryptFile(kp.SecretKey, fileMessage(`{"encryption":{"algorithm":"aes"}}`), file)), nil,
			`encryption.algorithm: want "com.misakey.secretbox-file-enc", got "aes"`},
		{"file nonce short", errOf3(DecryptFile(kp.SecretKey, fileMessage(`{"encryption":{"algorithm":"com.misakey.secretbox-file-enc","nonce":"AAAA"}}`), file)), nil,
			"encryption.nonce: want 24 bytes, got 3"},
		{"file key not base64", errOf3(DecryptFile(kp.SecretKey, fileMessage(fmt.Sprintf(`{"encryption":{"algorithm":"com.misakey.secretbox-file-enc","nonce":%q,"fileKey":"?"}}`, std64(strings.Repeat("n", 24)))), file)), nil,
			"encryption.fileKey: not base64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("accepted")
			}
			if c.is != nil && !errors.Is(c.err, c.is) {
				t.Errorf("error %q is not %q", c.err, c.is)
			}
			if c.want != "" && !strings.Contains(c.err.Error(), c.want) {
				t.Errorf("error %q does not say %q", c.err, c.want)
			}
		})
	}
}

// TestGoVectors writes testdata/go_vectors.json when
// BOXWIRE_WRITE_GO_VECTORS=1, and always checks that Go still opens it.
// `node testdata/verify_go.js` checks it with tweetnacl.
func TestGoVectors(t *testing.T) {
	if os.Getenv("BOXWIRE_WRITE_GO_VECTORS") == "1" {
		writeVectors(t, goVectorsFile, makeGoVectors(t))
	}
	v := loadVectors(t, goVectorsFile)
	if !strings.HasPrefix(v.Generator, "boxwire client") {
		t.Fatalf("generator = %q, want the Go client", v.Generator)
	}
	checkVectors(t, v)
}

// TestTweetnaclDecryptsGo: tweetnacl opens fresh Go ciphertexts.
func TestTweetnaclDecryptsGo(t *testing.T) {
	node := needNode(t)
	file := filepath.Join(t.TempDir(), "go_vectors.json")
	writeVectors(t, file, makeGoVectors(t))
	runNode(t, node, "testdata/verify_go.js", file)
}

// TestTweetnaclVectorsUpToDate: gen_vectors.js, run again, writes the
// committed file byte for byte, so that file is tweetnacl's true output.
func TestTweetnaclVectorsUpToDate(t *testing.T) {
	node := needNode(t)
	file := filepath.Join(t.TempDir(), "tweetnacl_vectors.json")
	runNode(t, node, "testdata/gen_vectors.js", file)
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(tweetnaclVectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("gen_vectors.js writes a different %s: regenerate it (cd client/testdata && node gen_vectors.js)", tweetnaclVectorsFile)
	}
}

func FuzzDecryptText(f *testing.F) {
	v := loadVectors(f, tweetnaclVectorsFile)
	for _, m := range v.Messages {
		f.Add(m.BoxSecretKey, m.Encrypted)
	}
	sec := v.Boxes[0].SecretKey
	f.Add(sec, "")
	f.Add(sec, std64("null"))
	f.Add(sec, std64(`{"nonce":{"type":"Uint8Array","encoding":"base64","value":""}}`))
	f.Add("", "e30=")
	f.Fuzz(func(t *testing.T, secretKey, encrypted string) {
		plaintext, err := DecryptText(secretKey, encrypted)
		if (err == nil) != (plaintext != nil) {
			t.Fatalf("DecryptText = %q, %v: want a plaintext or an error", plaintext, err)
		}
	})
}

// makeGoVectors encrypts, splits and uploads the way a Go client does, with
// fresh keys and randomness.
func makeGoVectors(t *testing.T) vectors {
	t.Helper()
	a, b := mustKeyPair(t), mustKeyPair(t)
	var long strings.Builder
	for i := 0; long.Len() < 5120; i++ {
		fmt.Fprintf(&long, "line %03d: Portez ce vieux whisky au juge blond qui fume.\n", i)
	}
	v := vectors{
		About:     "Made by the Go client (BOXWIRE_WRITE_GO_VECTORS=1 go test -run TestGoVectors ./client/); checked by testdata/verify_go.js with tweetnacl.",
		Generator: "boxwire client (Go, golang.org/x/crypto/nacl)",
		Boxes:     []boxVector{{"box A", a.PublicKey, a.SecretKey}, {"box B", b.PublicKey, b.SecretKey}},
	}
	for _, m := range []struct {
		name      string
		box       KeyPair
		plaintext string
	}{
		{"ascii", a, "Hello from Go: the quick brown fox jumps over the lazy dog."},
		{"utf-8 with accents and emoji", a, "Bonjour Élodie, ça va ? « Déjà vu » 日本語 👋🏽🎉 <b>&amp;</b>"},
		{"empty", a, ""},
		{"long (5 KB)", a, long.String()[:5120]},
		{"to box B", b, "another box"},
	} {
		enc, err := EncryptText(m.box.PublicKey, []byte(m.plaintext))
		if err != nil {
			t.Fatal(err)
		}
		v.Messages = append(v.Messages, messageVector{Name: m.name, BoxPublicKey: m.box.PublicKey, BoxSecretKey: m.box.SecretKey, Plaintext: m.plaintext, Encrypted: enc})
	}
	for _, box := range v.Boxes {
		s, err := SplitSecretKey(box.SecretKey)
		if err != nil {
			t.Fatal(err)
		}
		v.Invitations = append(v.Invitations, invitationVector{box.Name, box.SecretKey, s.ShareOne, s.MisakeyShare, s.OtherShareHash})
	}
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	for _, f := range []struct {
		name, fileName, fileType string
		data                     []byte
	}{
		{"small text file", "Compte-rendu & <notes> réunion.txt", "text/plain", []byte("Ordre du jour :\n1. Budget — 12 500 €\n")},
		{"empty file", "empty.bin", "application/octet-stream", []byte{}},
		{"all byte values", "bytes.bin", "application/octet-stream", allBytes},
	} {
		file, content, err := EncryptFile(b.PublicKey, f.fileName, f.fileType, f.data)
		if err != nil {
			t.Fatal(err)
		}
		v.Files = append(v.Files, fileVector{
			Name: f.name, BoxPublicKey: b.PublicKey, BoxSecretKey: b.SecretKey,
			FileName: f.fileName, FileType: f.fileType, Data: base64.StdEncoding.EncodeToString(f.data),
			EncryptedFile: base64.StdEncoding.EncodeToString(file), EncryptedContent: content,
		})
	}
	return v
}

func writeVectors(t *testing.T, path string, v vectors) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// needNode returns the path of node, with tweetnacl installed in testdata.
// Without them the test is skipped on a developer's machine, but fails in
// CI, which must prove interoperability every time.
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat("testdata/node_modules/tweetnacl/package.json")
	}
	if err != nil {
		msg := fmt.Sprintf("node and tweetnacl are needed (%v): install Node.js, then run: cd client/testdata && npm ci", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

func runNode(t *testing.T, node string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), node, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Log(lines[len(lines)-1])
}

// rewrite decodes an `encrypted` string, lets change alter it, and encodes
// it again.
func rewrite(t *testing.T, encrypted string, change func(*cryptogram)) string {
	t.Helper()
	var c cryptogram
	if err := json.Unmarshal(mustStd(t, encrypted), &c); err != nil {
		t.Fatal(err)
	}
	change(&c)
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// flip flips one bit of the i-th byte of a field.
func flip(t *testing.T, f *bytesField, i int) {
	t.Helper()
	b := mustStd(t, f.Value)
	b[i] ^= 1
	f.Value = base64.StdEncoding.EncodeToString(b)
}

func alterChar(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func mustEncryptFileContent(t *testing.T, boxPublicKey string) string {
	t.Helper()
	_, content, err := EncryptFile(boxPublicKey, "other.txt", "text/plain", []byte("other"))
	if err != nil {
		t.Fatal(err)
	}
	return content
}

func mustKeyPair(t *testing.T) KeyPair {
	t.Helper()
	kp, err := NewKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func mustKey(t *testing.T, s string) *[keySize]byte {
	t.Helper()
	k, err := decodeKey("key", s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustStd(t *testing.T, s string) []byte {
	t.Helper()
	return mustStdN(t, s, -1)
}

func mustStdN(t *testing.T, s string, n int) []byte {
	t.Helper()
	b, err := decodeStd("test value", s, n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func std64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func errOf[T any](_ T, err error) error { return err }

func errOf3[T, U any](_ T, _ U, err error) error { return err }
