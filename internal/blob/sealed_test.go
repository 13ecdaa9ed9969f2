package blob_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/blob"
	"github.com/boxwire/boxwire/internal/blob/sealed"
	"github.com/boxwire/boxwire/internal/errs"
)

// TestSealed runs the cases only sealing has on the local directory and
// on S3: what is stored does not hold the plaintext, another key fails
// clearly, altered or cut blobs fail, seeking serves HTTP ranges, and
// blobs stored before sealing still open.
func TestSealed(t *testing.T) {
	d, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("dir", func(t *testing.T) { sealedCases(t, dirStore{d}) })
	t.Run("s3", func(t *testing.T) { sealedCases(t, s3Store{fakeS3(t)}) })
}

// plaintext is recognisable anywhere: a line that names its own offset,
// over several DARE packages (64 KiB each) and a partial last one.
func plaintext(n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "a photo sent on WhatsApp, byte %09d\n", b.Len())
	}
	return b.Bytes()[:n]
}

func keep(t *testing.T, s store, id string, data []byte) {
	t.Helper()
	u, err := s.receive(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Keep(id); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, s store, id string) ([]byte, error) {
	t.Helper()
	f, err := s.Open(id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func sealedCases(t *testing.T, inner store) {
	s := sealedOver(t, inner, testKey(1))
	data := plaintext(5<<16 + 1234)
	keep(t, s, "aa-photo", data)

	raw, err := readAll(t, inner, "aa-photo")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("a photo sent on WhatsApp")) {
		t.Fatal("the stored object holds the plaintext")
	}
	if got, err := readAll(t, s, "aa-photo"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), want the %d stored", len(got), err, len(data))
	}

	t.Run("another key fails clearly", func(t *testing.T) {
		other := sealedOver(t, inner, testKey(2))
		_, err := other.Open("aa-photo")
		if !errors.Is(err, sealed.ErrWrongKey) {
			t.Fatalf("opening with another key: %v, want ErrWrongKey", err)
		}
	})

	t.Run("ranges", func(t *testing.T) {
		// http.ServeContent seeks for Range requests, as the download
		// endpoints do; ranges cross package boundaries.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, err := s.Open("aa-photo")
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			http.ServeContent(w, r, "photo", time.Time{}, f)
		}))
		defer srv.Close()
		for _, rg := range [][2]int{{0, 0}, {65530, 65545}, {3 * 65536, 3*65536 + 70000}, {len(data) - 10, len(data) - 1}, {131072, 131072}} {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", rg[0], rg[1]))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 206 || !bytes.Equal(body, data[rg[0]:rg[1]+1]) {
				t.Fatalf("range %d-%d: %d, %d bytes, want 206 and the %d bytes there", rg[0], rg[1], res.StatusCode, len(body), rg[1]-rg[0]+1)
			}
		}
		f, err := s.Open("aa-photo")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
			t.Fatalf("size by seeking to the end: %d, %v; want %d", end, err, len(data))
		}
	})

	t.Run("altered or cut", func(t *testing.T) {
		flipped := bytes.Clone(raw)
		flipped[len(flipped)/2] ^= 1
		keep(t, inner, "ab-flipped", flipped)
		if _, err := readAll(t, s, "ab-flipped"); !errors.Is(err, sealed.ErrWrongKey) {
			t.Fatalf("an altered byte: %v, want ErrWrongKey", err)
		}
		// Cut after two whole packages: the plaintext would read as
		// shorter but for DARE's final package.
		keep(t, inner, "ac-cut", raw[:48+2*(65536+32)])
		if _, err := readAll(t, s, "ac-cut"); !errors.Is(err, sealed.ErrWrongKey) {
			t.Fatalf("a blob cut at a package's end: %v, want ErrWrongKey", err)
		}
		keep(t, inner, "ad-cut", raw[:len(raw)-7])
		if _, err := readAll(t, s, "ad-cut"); !errors.Is(err, sealed.ErrWrongKey) {
			t.Fatalf("a blob cut inside a package: %v, want ErrWrongKey", err)
		}
	})

	t.Run("stored before sealing", func(t *testing.T) {
		old := []byte("stored before the operator had a key")
		keep(t, inner, "ae-old", old)
		if got, err := readAll(t, s, "ae-old"); err != nil || !bytes.Equal(got, old) {
			t.Fatalf("a blob stored unsealed reads %q (%v), want it as stored", got, err)
		}
	})

	t.Run("a client that stops sending", func(t *testing.T) {
		tooSlow := &errs.Error{Code: errs.Timeout, Message: "the body arrived too slowly"}
		_, err := s.receive(io.MultiReader(bytes.NewReader(data[:100000]), failing{tooSlow}), int64(len(data)))
		if !errors.Is(err, tooSlow) {
			t.Fatalf("Receive gave %v, want the body reader's own error", err)
		}
	})

	t.Run("empty", func(t *testing.T) {
		keep(t, s, "af-empty", nil)
		if got, err := readAll(t, s, "af-empty"); err != nil || len(got) != 0 {
			t.Fatalf("an empty blob reads %q, %v", got, err)
		}
	})
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }
