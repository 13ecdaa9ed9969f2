package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3Server runs a real S3-protocol server (gofakes3, in memory) on a
// loopback port with one bucket, and returns the --blobs URL for it.
func s3Server(t *testing.T) (string, *s3mem.Backend) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("files"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gofakes3.New(backend).Server()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	t.Setenv("AWS_ACCESS_KEY_ID", "boxwire")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "boxwire-secret")
	return "s3://files?endpoint=http://" + ln.Addr().String() + "&region=us-east-1", backend
}

// objects lists the keys the bucket holds.
func objects(t *testing.T, b *s3mem.Backend) []string {
	t.Helper()
	list, err := b.ListBucket("files", nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	return keys
}

// TestTwoNodesShareOneBlobStore: two nodes on one database, NATS and one
// S3 store. A file uploaded through A downloads byte-identical through B;
// deleted through B, its object is gone from the store.
func TestTwoNodesShareOneBlobStore(t *testing.T) {
	ns := startNATS(t)
	blobs, bucket := s3Server(t)
	sc := clusterStore(t)
	shared := func(c *Config) { c.NATS = ns.ClientURL(); c.Blobs = blobs }
	nodeA := startServer(t, sc, shared)
	nodeB := startServer(t, sc, shared)
	alice := nodeA.user(t, "Alice")
	aliceB := nodeB.signIn(t, alice.email, "Alice-password")
	id := alice.createBox(t, "Files", "limited")["id"].(string)

	data := make([]byte, 3<<20)
	rand.Read(data)
	r := alice.upload(t, id, data)
	expect(t, "upload through A", r, 201)
	ev := r.json(t)
	fileID := ev["content"].(map[string]any)["encrypted_file_id"].(string)
	if keys := objects(t, bucket); len(keys) != 1 || keys[0] != fileID {
		t.Fatalf("the store holds %v, want only the file %s (no temporary object)", keys, fileID)
	}
	got := aliceB.do("GET", "/encrypted-files/"+fileID, nil)
	expect(t, "download through B", got, 200)
	if !bytes.Equal([]byte(got.body), data) {
		t.Fatalf("node B served %d bytes that differ from the %d uploaded", len(got.body), len(data))
	}
	if strings.Contains(nodeA.logs.String()+nodeB.logs.String(), "shared blob store") {
		t.Fatal("nodes with a shared blob store warned that they have none")
	}

	expect(t, "delete through B", aliceB.post(t, id, ref("msg.delete", ev["id"].(string), nil)), 201)
	waitFor(t, 5*time.Second, "the object removed from the store", func() bool { return len(objects(t, bucket)) == 0 })
	expect(t, "download after delete, through A", alice.do("GET", "/encrypted-files/"+fileID, nil), 403) // unknown and forbidden files look alike
}

// TestNodeWithLocalBlobsWarns: a node started with --nats and no shared
// blob store says at start-up that files will not reach other nodes.
func TestNodeWithLocalBlobsWarns(t *testing.T) {
	ns := startNATS(t)
	node := startServer(t, storeConfig(t), func(c *Config) { c.NATS = ns.ClientURL() })
	if logs := node.logs.String(); !strings.Contains(logs, "several nodes need a shared blob store") || !strings.Contains(logs, `"level":"WARN"`) {
		t.Fatalf("no start-up warning about local blobs under --nats:\n%s", logs)
	}
	alone := startServer(t, storeConfig(t))
	if strings.Contains(alone.logs.String(), "shared blob store") {
		t.Fatal("a single node without --nats warned about blobs")
	}
}

// TestMediaBlobsSealedAtRest: what goes through Server.MediaBlobs (the
// messaging media) is stored sealed with the operator's key, on the
// directory and on S3, and reads back; a file stored before sealing reads
// as it was. Box files, which clients encrypt, are stored as they come.
func TestMediaBlobsSealedAtRest(t *testing.T) {
	t.Run("dir", func(t *testing.T) { mediaSealed(t, "") })
	t.Run("s3", func(t *testing.T) {
		url, _ := s3Server(t)
		mediaSealed(t, url)
	})
}

func mediaSealed(t *testing.T, blobsURL string) {
	ts := startServer(t, storeConfig(t), func(c *Config) { c.Blobs = blobsURL })
	raw, err := openBlobs(context.Background(), ts.Config)
	if err != nil {
		t.Fatal(err)
	}
	rawMedia, err := openMediaBlobs(context.Background(), ts.Config, raw) // DATA/media, or media/ in the bucket
	if err != nil {
		t.Fatal(err)
	}
	photo := bytes.Repeat([]byte("a customer's photo, in the clear to the server. "), 4000)
	up, err := ts.MediaBlobs.Receive(bytes.NewReader(photo), int64(len(photo)), "file")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Keep("c0ffee-media"); err != nil {
		t.Fatal(err)
	}
	stored := readBlob(t, rawMedia, "c0ffee-media")
	if bytes.Contains(stored, []byte("a customer's photo")) {
		t.Fatal("the stored media holds its plaintext")
	}
	if got := readBlob(t, ts.MediaBlobs, "c0ffee-media"); !bytes.Equal(got, photo) {
		t.Fatalf("media read back %d bytes that differ from the %d stored", len(got), len(photo))
	}

	before := []byte("a photo stored before the files were sealed")
	up, err = rawMedia.Receive(bytes.NewReader(before), 100, "file")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Keep("01d-media"); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, ts.MediaBlobs, "01d-media"); !bytes.Equal(got, before) {
		t.Fatalf("media stored before sealing reads %q", got)
	}

	// Box files: the bytes the client sent are the bytes stored.
	alice := ts.user(t, "Alice")
	box := alice.createBox(t, "Files", "limited")["id"].(string)
	r := alice.upload(t, box, []byte("client ciphertext"))
	expect(t, "upload", r, 201)
	fileID := r.json(t)["content"].(map[string]any)["encrypted_file_id"].(string)
	if got := readBlob(t, raw, fileID); string(got) != "client ciphertext" {
		t.Fatalf("a box file is stored as %q, want the client's bytes", got)
	}
}

func readBlob(t *testing.T, b interface {
	Open(string) (io.ReadSeekCloser, error)
}, id string) []byte {
	t.Helper()
	f, err := b.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
