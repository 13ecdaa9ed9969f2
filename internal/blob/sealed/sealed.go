// Package sealed keeps blobs encrypted at rest in another blob store
// (the local directory or S3), with a key derived from the operator's
// (--secret-key-file), so a copy of the directory, the bucket or a backup
// of either does not hand out what the server stores in the clear, such
// as the media of the messaging channels.
//
// A sealed blob is a 16-byte magic, a random 32-byte salt, then the
// plaintext in the DARE 2.0 format (github.com/minio/sio): AES-256-GCM
// packages of 64 KiB, each authenticated with its sequence number, the
// last one marked final, so a package altered, reordered, dropped or cut
// off fails to open instead of giving garbage. Each blob has its own key,
// HKDF(key, salt), as DARE asks of a key. Packages let a reader start at
// any one of them, which is how Open's seeking (HTTP ranges) works
// without reading the blob from its start, and how no blob is ever held
// whole in memory, written or read.
//
// A blob without the magic was stored before sealing was turned on: Open
// returns it as it is, so adding a key loses no file. (A client-chosen
// plaintext that starts with the magic can only have been stored that
// way before sealing; it then fails to open, harming only itself.)
package sealed

import (
	"bufio"
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/minio/sio"

	"github.com/boxwire/boxwire/internal/boxservice"
	"github.com/boxwire/boxwire/internal/errs"
)

const (
	magic      = "boxwire-sealed1\n" // 16 bytes; "1" is this format
	saltSize   = 32
	headerSize = len(magic) + saltSize
	// DARE 2.0's package: a 64 KiB payload, a 16-byte header and tag.
	payloadSize = 1 << 16
	packageSize = 16 + payloadSize + 16
)

// ErrWrongKey: a sealed blob does not open with this key. It is sealed
// with another one, or it was altered (every package is authenticated).
var ErrWrongKey = errors.New("the stored file does not open with this key: wrong --secret-key-file, or the stored object was altered")

// Blobs seals what it stores in an inner store. It implements
// boxservice.Blobs and is safe for concurrent use, as the inner store is.
type Blobs struct {
	inner boxservice.Blobs
	key   []byte
}

// New seals blobs in inner with key, a 32-byte key kept for this purpose
// (atrest.Key.Derive).
func New(inner boxservice.Blobs, key []byte) (*Blobs, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealed blobs need a 32-byte key, not %d bytes", len(key))
	}
	return &Blobs{inner: inner, key: key}, nil
}

func (b *Blobs) config(salt []byte, seq uint32) sio.Config {
	key, err := hkdf.Key(sha256.New, b.key, salt, "boxwire sealed blob", 32)
	if err != nil {
		panic(err) // HKDF gives 32 bytes of SHA-256 always
	}
	return sio.Config{Key: key, MinVersion: sio.Version20, MaxVersion: sio.Version20,
		CipherSuites: []byte{sio.AES_256_GCM}, SequenceNumber: seq}
}

// Receive encrypts r as it streams into the inner store. The limit is the
// plaintext's; more is a too_large error naming field, as unsealed.
func (b *Blobs) Receive(r io.Reader, limit int64, field string) (boxservice.Upload, error) {
	salt := make([]byte, saltSize)
	rand.Read(salt)
	plain := &counter{r: io.LimitReader(r, limit+1)}
	enc, err := sio.EncryptReader(plain, b.config(salt, 0))
	if err != nil {
		return nil, errs.Wrap(err, "seal upload")
	}
	// The inner store's limit can never be reached: at most limit+1
	// plaintext bytes are read, and this is their sealed size.
	max, err := sio.EncryptedSize(uint64(limit) + 1)
	if err != nil {
		return nil, errs.Wrap(err, "seal upload")
	}
	header := append([]byte(magic), salt...)
	up, err := b.inner.Receive(io.MultiReader(bytes.NewReader(header), enc), int64(headerSize)+int64(max), field)
	if err != nil {
		return nil, err
	}
	if plain.n > limit {
		up.Discard()
		return nil, &errs.Error{Code: errs.TooLarge, Where: errs.Body, Fields: map[string]string{field: "too_large"},
			Message: fmt.Sprintf("%s is larger than the limit of %d bytes", field, limit)}
	}
	return upload{Upload: up, n: plain.n}, nil
}

type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// upload is the inner upload, whose length is the plaintext's.
type upload struct {
	boxservice.Upload
	n int64
}

func (u upload) Len() int64 { return u.n }

// Remove deletes a blob; a missing one is not an error.
func (b *Blobs) Remove(id string) error { return b.inner.Remove(id) }

// Open gives a stored blob's plaintext, seekable. The first package is
// opened here, so a wrong key is an error before any byte is served.
func (b *Blobs) Open(id string) (io.ReadSeekCloser, error) {
	f, err := b.inner.Open(id)
	if err != nil {
		return nil, err
	}
	r, err := b.open(f)
	if err != nil {
		f.Close()
		return nil, errs.Wrap(err, "open blob %s", id)
	}
	return r, nil
}

func (b *Blobs) open(f io.ReadSeekCloser) (io.ReadSeekCloser, error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	header := make([]byte, headerSize)
	n, err := io.ReadFull(f, header)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	if n < len(magic) || string(header[:len(magic)]) != magic {
		// Stored before sealing: the plaintext, from its start.
		_, err := f.Seek(0, io.SeekStart)
		return f, err
	}
	if n < headerSize {
		return nil, ErrWrongKey // cut inside the header
	}
	plainSize := uint64(0)
	if size > int64(headerSize) {
		if plainSize, err = sio.DecryptedSize(uint64(size) - uint64(headerSize)); err != nil {
			return nil, ErrWrongKey // not a whole number of packages: cut off
		}
	}
	r := &reader{f: f, b: b, salt: header[len(magic):], size: int64(plainSize)}
	if r.size > 0 {
		if err := r.reposition(0); err != nil {
			return nil, err
		}
		if _, err := r.dec.Peek(1); err != nil {
			return nil, sioError(err)
		}
	}
	return r, nil
}

// reader reads a sealed blob's plaintext. It decrypts from the package
// holding its position, and starts again there after a Seek elsewhere.
type reader struct {
	f    io.ReadSeekCloser
	b    *Blobs
	salt []byte
	size int64 // of the plaintext

	pos    int64         // where the next Read reads
	dec    *bufio.Reader // the plaintext from decPos, nil before the first Read
	decPos int64
}

func (r *reader) reposition(pos int64) error {
	pkg := pos / payloadSize
	if _, err := r.f.Seek(int64(headerSize)+pkg*packageSize, io.SeekStart); err != nil {
		return err
	}
	dec, err := sio.DecryptReader(r.f, r.b.config(r.salt, uint32(pkg)))
	if err != nil {
		return err
	}
	if r.dec == nil {
		r.dec = bufio.NewReaderSize(dec, payloadSize)
	} else {
		r.dec.Reset(dec)
	}
	r.decPos = pkg * payloadSize
	skip := pos - r.decPos
	if _, err := r.dec.Discard(int(skip)); err != nil {
		return sioError(err)
	}
	r.decPos = pos
	return nil
}

func (r *reader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if r.dec == nil || r.decPos != r.pos {
		if err := r.reposition(r.pos); err != nil {
			return 0, err
		}
	}
	if rest := r.size - r.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.dec.Read(p)
	r.pos += int64(n)
	r.decPos = r.pos
	if err == io.EOF && r.pos < r.size {
		err = ErrWrongKey // ended before its final package
	}
	if err == nil && r.pos == r.size {
		// The end of the plaintext must be DARE's final package: one
		// cut off at a package's end would otherwise read as shorter.
		if _, err = r.dec.Peek(1); err == nil {
			err = ErrWrongKey
		}
	}
	return n, sioError(err)
}

func (r *reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	default:
		return r.pos, errors.New("sealed: invalid whence")
	}
	if offset < 0 {
		return r.pos, errors.New("sealed: negative position")
	}
	r.pos = offset
	return offset, nil
}

func (r *reader) Close() error { return r.f.Close() }

// sioError names a package that does not open for what it is.
func sioError(err error) error {
	var se sio.Error
	if errors.As(err, &se) {
		return fmt.Errorf("%w (%v)", ErrWrongKey, se)
	}
	if err == io.ErrUnexpectedEOF {
		return ErrWrongKey
	}
	return err
}
