package blob_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/boxwire/boxwire/internal/blob"
)

// TestSweep removes, on the directory and on S3, the blobs the database
// does not refer to and the uploads never kept, once older than the
// grace period; referenced blobs stay, and so does everything younger.
func TestSweep(t *testing.T) {
	root := t.TempDir()
	d, err := blob.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("dir", func(t *testing.T) {
		sweepCases(t, dirStore{d}, d, func() int {
			left, _ := os.ReadDir(filepath.Join(root, "tmp"))
			return len(left)
		})
	})
	t.Run("s3", func(t *testing.T) {
		st := fakeS3(t)
		// The client's upload that died half-way: a multipart upload
		// never completed, invisible but holding storage.
		core := minio.Core{Client: st.Client()}
		if _, err := core.NewMultipartUpload(context.Background(), "files", "tmp/ee000000-0000-4000-8000-000000000005", minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		sweepCases(t, s3Store{st}, st, func() int {
			n := 0
			for o := range st.Client().ListObjectsIter(context.Background(), "files", minio.ListObjectsOptions{Prefix: "tmp/", Recursive: true}) {
				if o.Err == nil {
					n++
				}
			}
			for u := range st.Client().ListIncompleteUploads(context.Background(), "files", "tmp/", true) {
				if u.Err == nil {
					n++
				}
			}
			return n
		})
	})
}

// Blob ids as Boxwire makes them (uuid.NewString).
const (
	referenced = "aa000000-0000-4000-8000-000000000001"
	orphan1    = "bb000000-0000-4000-8000-000000000002"
	orphan2    = "cc000000-0000-4000-8000-000000000003"
)

func sweepCases(t *testing.T, s store, sw blob.Sweepable, unfinished func() int) {
	ctx := context.Background()
	for _, id := range []string{referenced, orphan1, orphan2} {
		keep(t, s, id, []byte("bytes of "+id))
	}
	// Not named as Boxwire names blobs: someone else's, never swept.
	keep(t, s, "ff-put-there-by-hand.txt", []byte("the operator's"))
	keep(t, s, "DD000000-0000-4000-8000-000000000004", []byte("not the canonical spelling"))
	// A crash between Receive and Keep.
	if _, err := s.receive(bytes.NewReader([]byte("never kept")), 100); err != nil {
		t.Fatal(err)
	}
	if unfinished() == 0 {
		t.Fatal("no unfinished upload to sweep")
	}
	var asked []string
	unreferenced := func(_ context.Context, ids []string) ([]string, error) {
		asked = append(asked, ids...)
		var out []string
		for _, id := range ids {
			if id != referenced {
				out = append(out, id)
			}
		}
		return out, nil
	}

	// Everything is younger than the grace period: nothing goes.
	swept, err := blob.Sweep(ctx, sw, unreferenced, time.Now().Add(-time.Hour))
	if err != nil || swept != (blob.Swept{}) || len(asked) != 0 {
		t.Fatalf("a sweep of young blobs: %+v, %v, asked about %v", swept, err, asked)
	}
	if !s.Exists(orphan1) || unfinished() == 0 {
		t.Fatal("a young orphan or upload was removed")
	}

	swept, err = blob.Sweep(ctx, sw, unreferenced, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(asked)
	if !slices.Equal(asked, []string{referenced, orphan1, orphan2}) {
		t.Fatalf("asked the database about %v, want the kept blobs named by a UUID only", asked)
	}
	if swept.Orphans != 2 || swept.Unfinished == 0 {
		t.Fatalf("swept %+v, want 2 orphans and the unfinished uploads", swept)
	}
	if !s.Exists(referenced) || s.Exists(orphan1) || s.Exists(orphan2) {
		t.Fatal("the sweep kept an orphan or removed a referenced blob")
	}
	if !s.Exists("ff-put-there-by-hand.txt") || !s.Exists("DD000000-0000-4000-8000-000000000004") {
		t.Fatal("the sweep removed an object Boxwire did not name")
	}
	if n := unfinished(); n != 0 {
		t.Fatalf("%d unfinished uploads left after the sweep", n)
	}
	if got, err := readAll(t, s, referenced); err != nil || string(got) != "bytes of "+referenced {
		t.Fatalf("the referenced blob reads %q, %v", got, err)
	}
}
