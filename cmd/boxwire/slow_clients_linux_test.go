package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFullDiskIsInsufficientStorage: an upload that meets a full disk is
// answered 507 with a message that names no path (the path is in the
// log), leaves nothing behind, and the server goes on serving uploads
// that fit. The blob directory is a real 256 KiB tmpfs, so this test
// needs root (CI runs as root).
func TestFullDiskIsInsufficientStorage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts a tmpfs to fill a real disk: run it as root (CI does)")
	}
	sc := storeConfig(t)
	files := filepath.Join(sc.Data, "files")
	if err := os.MkdirAll(files, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", files, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v", files, err)
	}
	t.Cleanup(func() { syscall.Unmount(files, syscall.MNT_DETACH) })
	ts := startServer(t, sc, func(c *Config) { c.MaxFileSize = 4 << 20 })
	alice := ts.user(t, "Alice")
	boxID := alice.createBox(t, "files", "limited")["id"].(string)

	r := alice.upload(t, boxID, bytes.Repeat([]byte("f"), 1<<20))
	if r.status != 507 || misakeyCode(t, r.body) != "insufficient_storage" {
		t.Fatalf("upload onto a full disk: %d %s", r.status, r.body)
	}
	for _, leak := range []string{sc.Data, "/tmp", "upload-", "no space"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("the 507 body reveals %q: %s", leak, r.body)
		}
	}
	if logs := ts.logs.String(); !strings.Contains(logs, filepath.Join(files, "tmp", "upload-")) || !strings.Contains(logs, "no space left on device") {
		t.Fatalf("the log does not name the file that could not be written:\n%s", logs)
	}
	if left := storedFiles(t, ts); len(left) != 0 {
		t.Fatalf("the failed upload left %v on the disk", left)
	}
	if n := len(alice.events(t, boxID)); n != 1 {
		t.Fatalf("the box has %d events, want only its creation", n)
	}
	if r := alice.upload(t, boxID, bytes.Repeat([]byte("s"), 16<<10)); r.status != 201 {
		t.Fatalf("a file that fits, after the full disk: %d %s", r.status, r.body)
	}
}
