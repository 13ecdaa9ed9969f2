package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime/multipart"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startServerMaxFile starts the real server like startServer, with a chosen
// upload size limit.
func startServerMaxFile(t *testing.T, sc StoreConfig, maxFileSize int64) *testServer {
	t.Helper()
	return startServer(t, sc, func(c *Config) { c.MaxFileSize = maxFileSize })
}

// uploadPart is one field of a multipart upload; file parts carry a file name.
type uploadPart struct {
	name, value string
	file        bool
}

func (u *user) uploadParts(t *testing.T, boxID string, parts ...uploadPart) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		if p.file {
			fw, _ := mw.CreateFormFile(p.name, "blob")
			fw.Write([]byte(p.value))
		} else {
			mw.WriteField(p.name, p.value)
		}
	}
	mw.Close()
	return u.do("POST", "/boxes/"+boxID+"/encrypted-files", body.String(), "Content-Type", mw.FormDataContentType())
}

// headCount answers a HEAD with its X-Total-Count.
func (u *user) headCount(t *testing.T, path string) int {
	t.Helper()
	r := u.do("HEAD", path, nil)
	expect(t, "HEAD "+path, r, 204)
	n, err := strconv.Atoi(r.header.Get("X-Total-Count"))
	if err != nil {
		t.Fatalf("HEAD %s: X-Total-Count %q", path, r.header.Get("X-Total-Count"))
	}
	return n
}

func (u *user) getArray(t *testing.T, path string) []map[string]any {
	t.Helper()
	r := u.do("GET", path, nil)
	expect(t, "GET "+path, r, 200)
	if !bytes.HasPrefix(bytes.TrimSpace(r.body), []byte("[")) {
		t.Fatalf("GET %s: %s is not a JSON array", path, r.body)
	}
	return list(t, r)
}

func (u *user) unreadCount(t *testing.T, boxID string) float64 {
	t.Helper()
	r := u.do("GET", "/boxes/"+boxID, nil)
	expect(t, "get box", r, 200)
	return r.json(t)["events_count"].(float64)
}

func idsOf(items []map[string]any) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, fmt.Sprint(it["id"]))
	}
	return out
}

// shareHash is a fresh other_share_hash (unpadded url-safe base64).
func shareHash() string { return base64.RawURLEncoding.EncodeToString([]byte(randomKey()))[:40] }

// expectOrigin checks a Misakey error's code, origin and one detail.
func expectOrigin(t *testing.T, what string, r response, status int, code, origin, field, reason string) {
	t.Helper()
	expect(t, what, r, status, field, reason)
	m := r.json(t)
	if m["code"] != code || m["origin"] != origin {
		t.Fatalf("%s: code %v origin %v, want %s %s: %s", what, m["code"], m["origin"], code, origin, r.body)
	}
}

// expectConflictOn checks a 409 whose details name a field ending in name
// (other_share_hash, key_share.other_share_hash…) as a conflict.
func expectConflictOn(t *testing.T, what string, r response, name string) {
	t.Helper()
	expect(t, what, r, 409)
	for k, v := range r.fields(t) {
		if strings.HasSuffix(k, name) && v == "conflict" {
			return
		}
	}
	t.Fatalf("%s: details %s, want %s=conflict", what, r.body, name)
}

// blobFiles lists the stored blob files of a data directory, and the files
// left in its tmp/ folder.
func blobFiles(t *testing.T, data string) (stored map[string]bool, tmp []string) {
	t.Helper()
	root := filepath.Join(data, "files")
	stored = map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			tmp = append(tmp, rel)
		} else {
			stored[d.Name()] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return stored, tmp
}

// TestEventListsAndCounts: lists are oldest first and page with
// offset/limit; HEAD counts what GET lists; folded events are neither
// listed nor counted.
func TestEventListsAndCounts(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, sam := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Sam")
	b := alice.createBox(t, "Lists", "limited")
	id := b["id"].(string)
	want := []string{b["last_event"].(map[string]any)["id"].(string)}
	for i := 1; i <= 7; i++ {
		r := alice.post(t, id, text(fmt.Sprintf("message %d", i)))
		expect(t, "post", r, 201)
		want = append(want, r.json(t)["id"].(string))
	}
	events := alice.getArray(t, "/boxes/"+id+"/events")
	if got := idsOf(events); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want oldest first %v", got, want)
	}
	var prev time.Time
	for _, e := range events {
		at, err := time.Parse(time.RFC3339Nano, e["server_event_created_at"].(string))
		if err != nil {
			t.Fatalf("server_event_created_at %v: %v", e["server_event_created_at"], err)
		}
		if at.Before(prev) {
			t.Fatalf("server_event_created_at goes back: %v after %v", at, prev)
		}
		prev = at
	}
	if n := alice.headCount(t, "/boxes/"+id+"/events"); n != len(want) {
		t.Fatalf("X-Total-Count %d, want %d", n, len(want))
	}

	// Pages.
	if got := idsOf(alice.getArray(t, "/boxes/"+id+"/events?offset=2&limit=3")); !reflect.DeepEqual(got, want[2:5]) {
		t.Fatalf("offset 2 limit 3: %v, want %v", got, want[2:5])
	}
	if got := idsOf(alice.getArray(t, "/boxes/"+id+"/events?limit=2")); !reflect.DeepEqual(got, want[:2]) {
		t.Fatalf("limit 2: %v, want %v", got, want[:2])
	}
	if got := idsOf(alice.getArray(t, "/boxes/"+id+"/events?offset=6")); !reflect.DeepEqual(got, want[6:]) {
		t.Fatalf("offset 6: %v, want %v", got, want[6:])
	}
	if got := alice.getArray(t, "/boxes/"+id+"/events?offset=100"); len(got) != 0 {
		t.Fatalf("offset past the end: %v", got)
	}
	for _, q := range []string{"offset=-1", "offset=abc", "limit=-1", "limit=ten", "offset=1.5"} {
		field := strings.SplitN(q, "=", 2)[0]
		for _, path := range []string{"/events", "/files"} {
			r := alice.do("GET", "/boxes/"+id+path+"?"+q, nil)
			expectOrigin(t, path+"?"+q, r, 400, "bad_request", "query", field, "invalid")
		}
	}

	// Folded events are neither listed nor counted; their targets show them.
	edit := map[string]string{"new_encrypted": ciphertext("edited"), "new_public_key": randomKey()}
	expect(t, "edit", alice.post(t, id, ref("msg.edit", want[1], edit)), 201)
	expect(t, "delete", alice.post(t, id, ref("msg.delete", want[2], nil)), 201)
	r := alice.batch(t, id, accessAdd("identifier", bob.email), accessAdd("email_domain", "example.org"))
	expect(t, "accesses", r, 201)
	expect(t, "access.rm", alice.batch(t, id, ref("access.rm", list(t, r)[1]["id"].(string), nil)), 201)
	events = alice.getArray(t, "/boxes/"+id+"/events")
	if got := idsOf(events); !reflect.DeepEqual(got, want) {
		t.Fatalf("after folded events the list is %s %v, want %v", types(events), got, want)
	}
	if n := alice.headCount(t, "/boxes/"+id+"/events"); n != len(want) {
		t.Fatalf("X-Total-Count %d after folded events, want %d", n, len(want))
	}
	if c := events[1]["content"].(map[string]any); c["encrypted"] != edit["new_encrypted"] {
		t.Fatalf("edit not folded: %v", c)
	}
	if c := events[2]["content"].(map[string]any); c["deleted"] == nil {
		t.Fatalf("delete not folded: %v", c)
	}

	// A join is listed and counted; so are files, which /files lists alone.
	r = bob.post(t, id, map[string]any{"type": "member.join"})
	expect(t, "bob joins", r, 201)
	want = append(want, r.json(t)["id"].(string))
	var files []string
	for i, u := range []*user{alice, bob} {
		r := u.upload(t, id, []byte(fmt.Sprintf("file %d", i)))
		expect(t, "upload", r, 201)
		files = append(files, r.json(t)["id"].(string))
		want = append(want, files[i])
	}
	expect(t, "message after files", bob.post(t, id, text("last")), 201)
	events = bob.getArray(t, "/boxes/"+id+"/events")
	if len(events) != len(want)+1 || !reflect.DeepEqual(idsOf(events[:len(want)]), want) {
		t.Fatalf("events %v, want %v then the last message", idsOf(events), want)
	}
	if n := bob.headCount(t, "/boxes/"+id+"/events"); n != len(events) {
		t.Fatalf("X-Total-Count %d, GET lists %d", n, len(events))
	}
	fileList := bob.getArray(t, "/boxes/"+id+"/files")
	if got := idsOf(fileList); !reflect.DeepEqual(got, files) || types(fileList) != "msg.file,msg.file" {
		t.Fatalf("files %s %v, want %v", types(fileList), got, files)
	}
	if n := bob.headCount(t, "/boxes/"+id+"/files"); n != 2 {
		t.Fatalf("files X-Total-Count %d, want 2", n)
	}
	if got := idsOf(bob.getArray(t, "/boxes/"+id+"/files?offset=1&limit=5")); !reflect.DeepEqual(got, files[1:]) {
		t.Fatalf("files offset 1: %v, want %v", got, files[1:])
	}

	// Who may not read may not count either.
	expect(t, "stranger lists", sam.do("GET", "/boxes/"+id+"/events", nil), 403)
	expect(t, "stranger counts", sam.do("HEAD", "/boxes/"+id+"/events", nil), 403)
	expect(t, "stranger lists files", sam.do("GET", "/boxes/"+id+"/files", nil), 403)
	expect(t, "malformed box id", alice.do("GET", "/boxes/not-a-uuid/events", nil), 400, "id", "malformed")
}

// TestJoinedBoxes: the caller's boxes, newest activity first, paged; left,
// kicked, deleted and (for non-admins) closed boxes drop out.
func TestJoinedBoxes(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob := ts.user(t, "Alice"), ts.user(t, "Bob")
	var boxIDs []string // oldest first
	for i := 0; i < 12; i++ {
		boxIDs = append(boxIDs, alice.createBox(t, fmt.Sprintf("Box %02d", i), "")["id"].(string))
	}
	newestFirst := func(ids ...string) []string {
		out := []string{}
		for i := len(ids) - 1; i >= 0; i-- {
			out = append(out, ids[i])
		}
		return out
	}
	all := newestFirst(boxIDs...)
	joined := alice.getArray(t, "/boxes/joined")
	if got := idsOf(joined); !reflect.DeepEqual(got, all[:10]) {
		t.Fatalf("joined boxes %v, want the 10 newest %v", got, all[:10])
	}
	if n := alice.headCount(t, "/boxes/joined"); n != 12 {
		t.Fatalf("X-Total-Count %d, want 12", n)
	}
	for _, b := range joined {
		for _, k := range []string{"id", "server_created_at", "public_key", "title", "access_mode", "owner_org_id", "lifecycle", "creator", "last_event", "events_count"} {
			if _, ok := b[k]; !ok {
				t.Fatalf("a joined box lacks %s: %v", k, b)
			}
		}
	}
	r := alice.do("GET", "/boxes/"+boxIDs[11], nil)
	expect(t, "get box", r, 200)
	if one := r.json(t); !reflect.DeepEqual(joined[0], one) {
		t.Fatalf("joined item %v differs from GET /boxes/{id} %v", joined[0], one)
	}

	// Activity in the oldest box moves it to the front.
	r = alice.post(t, boxIDs[0], text("bump"))
	expect(t, "post in the oldest box", r, 201)
	bump := r.json(t)["id"].(string)
	joined = alice.getArray(t, "/boxes/joined")
	order := append([]string{boxIDs[0]}, all[:11]...)
	if got := idsOf(joined); !reflect.DeepEqual(got, order[:10]) {
		t.Fatalf("after a post: %v, want %v", got, order[:10])
	}
	if last := joined[0]["last_event"].(map[string]any); last["id"] != bump {
		t.Fatalf("last_event %v, want the new message %s", last, bump)
	}
	if got := idsOf(alice.getArray(t, "/boxes/joined?offset=1&limit=3")); !reflect.DeepEqual(got, order[1:4]) {
		t.Fatalf("offset 1 limit 3: %v, want %v", got, order[1:4])
	}
	if got := idsOf(alice.getArray(t, "/boxes/joined?offset=10")); !reflect.DeepEqual(got, order[10:12]) {
		t.Fatalf("offset 10: %v, want %v", got, order[10:12])
	}
	if got := alice.getArray(t, "/boxes/joined?limit=20"); len(got) != 12 {
		t.Fatalf("limit 20 lists %d, want 12", len(got))
	}
	if got := alice.getArray(t, "/boxes/joined?offset=50"); len(got) != 0 {
		t.Fatalf("offset past the end: %v", idsOf(got))
	}
	expectOrigin(t, "negative offset", alice.do("GET", "/boxes/joined?offset=-1", nil), 400, "bad_request", "query", "offset", "invalid")
	expectOrigin(t, "negative limit", alice.do("GET", "/boxes/joined?limit=-5", nil), 400, "bad_request", "query", "limit", "invalid")
	expectOrigin(t, "non-numeric limit", alice.do("GET", "/boxes/joined?limit=all", nil), 400, "bad_request", "query", "limit", "invalid")

	// Bob's list: what he created or joined and may still read.
	join := func(id string) string {
		t.Helper()
		r := bob.post(t, id, map[string]any{"type": "member.join"})
		expect(t, "bob joins", r, 201)
		return r.json(t)["id"].(string)
	}
	if got := bob.getArray(t, "/boxes/joined"); len(got) != 0 {
		t.Fatalf("bob has no box yet: %v", idsOf(got))
	}
	pub := alice.createBox(t, "Public", "public")["id"].(string)
	join(pub)
	left := alice.createBox(t, "Left", "public")["id"].(string)
	join(left)
	expect(t, "bob leaves", bob.post(t, left, map[string]any{"type": "member.leave"}), 201)
	kicked := alice.createBox(t, "Kicked", "limited")["id"].(string)
	r = alice.batch(t, kicked, accessAdd("identifier", bob.email))
	expect(t, "access for bob", r, 201)
	join(kicked)
	expect(t, "kick bob", alice.batch(t, kicked, ref("access.rm", list(t, r)[0]["id"].(string), nil)), 201)
	deleted := alice.createBox(t, "Deleted", "public")["id"].(string)
	join(deleted)
	expect(t, "delete box", alice.do("DELETE", "/boxes/"+deleted, map[string]string{"user_confirmation": "delete"}), 204)
	closed := alice.createBox(t, "Closed", "public")["id"].(string)
	join(closed)
	expect(t, "close box", alice.post(t, closed, map[string]any{"type": "state.lifecycle", "content": map[string]string{"state": "closed"}}), 201)
	alice.createBox(t, "Not joined", "public")
	own := bob.createBox(t, "Bob's own", "")["id"].(string)
	expect(t, "post in pub", alice.post(t, pub, text("latest")), 201)

	if got := idsOf(bob.getArray(t, "/boxes/joined")); !reflect.DeepEqual(got, []string{pub, own}) {
		t.Fatalf("bob's boxes %v, want [public %s, own %s]", got, pub, own)
	}
	if n := bob.headCount(t, "/boxes/joined"); n != 2 {
		t.Fatalf("bob's X-Total-Count %d, want 2", n)
	}
	// Alice administers the closed box, so it stays in her list; the
	// deleted one is gone for everyone.
	aliceBoxes := alice.getArray(t, "/boxes/joined?limit=50")
	byID := map[string]map[string]any{}
	for _, b := range aliceBoxes {
		byID[b["id"].(string)] = b
	}
	if byID[deleted] != nil {
		t.Fatalf("a deleted box is listed")
	}
	if byID[closed] == nil || byID[closed]["lifecycle"] != "closed" {
		t.Fatalf("the admin's closed box: %v", byID[closed])
	}
	if len(aliceBoxes) != 17 || alice.headCount(t, "/boxes/joined") != 17 {
		t.Fatalf("alice lists %d boxes, want 12 + public, left, kicked, closed, not joined = 17", len(aliceBoxes))
	}
}

// TestUnreadCountsAndAck: events_count is the caller's unread count: what
// others posted since the caller's last acknowledgement.
func TestUnreadCountsAndAck(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, sam := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Sam")
	id := alice.createBox(t, "Unread", "limited")["id"].(string)
	expect(t, "access for bob", alice.batch(t, id, accessAdd("identifier", bob.email)), 201)
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	if n := bob.unreadCount(t, id); n != 0 {
		t.Fatalf("bob's unread count right after joining is %v, want 0", n)
	}
	expect(t, "alice acks", alice.do("PUT", "/boxes/"+id+"/new-events-count/ack", map[string]string{"identity_id": alice.id}), 204)
	if n := alice.unreadCount(t, id); n != 0 {
		t.Fatalf("alice's count after her ack is %v", n)
	}
	for i := 0; i < 3; i++ {
		expect(t, "alice posts", alice.post(t, id, text(fmt.Sprint("m", i))), 201)
	}
	if n := bob.unreadCount(t, id); n != 3 {
		t.Fatalf("bob's unread count is %v, want 3 (alice's messages)", n)
	}
	if n := alice.unreadCount(t, id); n != 0 {
		t.Fatalf("alice's own messages are unread for her: %v", n)
	}
	for _, b := range bob.getArray(t, "/boxes/joined") {
		if b["id"] == id && b["events_count"] != 3.0 {
			t.Fatalf("bob's joined list shows events_count %v, want 3", b["events_count"])
		}
	}

	expect(t, "bob acks", bob.do("PUT", "/boxes/"+id+"/new-events-count/ack", map[string]string{"identity_id": bob.id}), 204)
	if n := bob.unreadCount(t, id); n != 0 {
		t.Fatalf("bob's count after his ack is %v", n)
	}
	expect(t, "alice posts again", alice.post(t, id, text("one more")), 201)
	if n := bob.unreadCount(t, id); n != 1 {
		t.Fatalf("bob's count after one more message is %v, want 1", n)
	}
	expect(t, "bob posts", bob.post(t, id, text("reply")), 201)
	if n, m := bob.unreadCount(t, id), alice.unreadCount(t, id); n != 1 || m != 1 {
		t.Fatalf("after bob's reply: bob %v (want 1), alice %v (want 1)", n, m)
	}

	expect(t, "stranger acks", sam.do("PUT", "/boxes/"+id+"/new-events-count/ack", map[string]string{"identity_id": sam.id}), 403)
	expect(t, "ack an unknown box", bob.do("PUT", "/boxes/8a1d1c3e-3f53-4c1f-9a51-2f5b7d7a0d11/new-events-count/ack", map[string]string{"identity_id": bob.id}), 403)
	expect(t, "ack a malformed id", bob.do("PUT", "/boxes/nope/new-events-count/ack", map[string]string{"identity_id": bob.id}), 400, "id", "malformed")
	if n := bob.unreadCount(t, id); n != 1 {
		t.Fatalf("refused acks changed bob's count to %v", n)
	}
}

// TestEncryptedFiles: uploads, downloads, limits and removal of files.
func TestEncryptedFiles(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, sam := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Sam")
	id := alice.createBox(t, "Files", "limited")["id"].(string)
	expect(t, "access for bob", alice.batch(t, id, accessAdd("identifier", bob.email)), 201)
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)

	data := make([]byte, 300<<10)
	rand.Read(data)
	encContent, msgKey := ciphertext("report.pdf"), randomKey()
	r := alice.uploadParts(t, id, uploadPart{name: "msg_encrypted_content", value: encContent}, uploadPart{name: "msg_public_key", value: msgKey},
		uploadPart{name: "encrypted_file", value: string(data), file: true})
	expect(t, "upload", r, 201)
	ev := r.json(t)
	content := ev["content"].(map[string]any)
	fileID, _ := content["encrypted_file_id"].(string)
	if ev["type"] != "msg.file" || ev["box_id"] != id || fileID == "" || content["encrypted"] != encContent || content["public_key"] != msgKey ||
		ev["sender"].(map[string]any)["id"] != alice.id {
		t.Fatalf("msg.file event %v", ev)
	}
	if stored, _ := blobFiles(t, ts.store.Data); !stored[fileID] {
		t.Fatalf("the blob %s is not stored: %v", fileID, stored)
	}
	if listed := find(bob.events(t, id), ev["id"].(string)); listed == nil || listed["content"].(map[string]any)["encrypted_file_id"] != fileID {
		t.Fatalf("the msg.file event is not listed as created: %v", listed)
	}
	for name, u := range map[string]*user{"uploader": alice, "member": bob} {
		r := u.do("GET", "/encrypted-files/"+fileID, nil)
		expect(t, name+" downloads", r, 200)
		if !bytes.Equal(r.body, data) {
			t.Fatalf("%s downloaded %d bytes that differ from the %d uploaded", name, len(r.body), len(data))
		}
		if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Fatalf("%s download Content-Type %q", name, ct)
		}
	}
	expect(t, "stranger downloads", sam.do("GET", "/encrypted-files/"+fileID, nil), 403)
	expect(t, "unknown file", alice.do("GET", "/encrypted-files/9b2e2d4f-4064-4d20-8b62-3a6c8e8b1e22", nil), 403)
	expect(t, "malformed file id", alice.do("GET", "/encrypted-files/not-a-file", nil), 400, "id", "malformed")

	// Refused uploads store nothing.
	files := alice.headCount(t, "/boxes/"+id+"/files")
	storedBefore, _ := blobFiles(t, ts.store.Data)
	msgParts := []uploadPart{{name: "msg_encrypted_content", value: ciphertext("x")}, {name: "msg_public_key", value: randomKey()}}
	fileP := uploadPart{name: "encrypted_file", value: "ciphertext", file: true}
	expect(t, "no encrypted_file", alice.uploadParts(t, id, msgParts...), 400, "encrypted_file", "required")
	expect(t, "bad msg_public_key", alice.uploadParts(t, id, msgParts[0], uploadPart{name: "msg_public_key", value: "not a key"}, fileP), 400, "msg_public_key", "malformed")
	expect(t, "no msg_public_key", alice.uploadParts(t, id, msgParts[0], fileP), 400, "msg_public_key", "required")
	expect(t, "no msg_encrypted_content", alice.uploadParts(t, id, msgParts[1], fileP), 400, "msg_encrypted_content", "required")
	r = alice.do("POST", "/boxes/"+id+"/encrypted-files", map[string]string{"encrypted_file": "x"})
	expectOrigin(t, "JSON body", r, 400, "bad_request", "headers", "Content-Type", "invalid")
	expect(t, "stranger uploads", sam.uploadParts(t, id, append(msgParts, fileP)...), 403)
	if n := alice.headCount(t, "/boxes/"+id+"/files"); n != files {
		t.Fatalf("refused uploads changed the file count %d → %d", files, n)
	}
	if stored, tmp := blobFiles(t, ts.store.Data); !reflect.DeepEqual(stored, storedBefore) || len(tmp) != 0 {
		t.Fatalf("refused uploads left files: stored %v (before %v), tmp %v", stored, storedBefore, tmp)
	}

	// Deleting the msg.file event removes the file.
	expect(t, "bob deletes alice's file", bob.post(t, id, ref("msg.delete", ev["id"].(string), nil)), 403)
	expect(t, "alice deletes her file", alice.post(t, id, ref("msg.delete", ev["id"].(string), nil)), 201)
	expect(t, "download a deleted file", alice.do("GET", "/encrypted-files/"+fileID, nil), 403)
	expect(t, "member downloads a deleted file", bob.do("GET", "/encrypted-files/"+fileID, nil), 403)
	waitFor(t, 10*time.Second, "the deleted file's blob to go", func() bool {
		stored, _ := blobFiles(t, ts.store.Data)
		return !stored[fileID]
	})
	if listed := find(alice.events(t, id), ev["id"].(string)); listed["content"].(map[string]any)["encrypted_file_id"] != nil {
		t.Fatalf("a deleted file event still names its file: %v", listed)
	}

	// A closed box takes no upload, not even from its admin.
	expect(t, "close", alice.post(t, id, map[string]any{"type": "state.lifecycle", "content": map[string]string{"state": "closed"}}), 201)
	expect(t, "upload to a closed box", alice.upload(t, id, []byte("late")), 409, "lifecycle", "conflict")

	// The size limit, on a server that allows 1024 bytes.
	small := startServerMaxFile(t, storeConfig(t), 1024)
	ada := small.user(t, "Ada")
	sid := ada.createBox(t, "Small", "")["id"].(string)
	expect(t, "upload at the limit", ada.upload(t, sid, make([]byte, 1024)), 201)
	before := ada.headCount(t, "/boxes/"+sid+"/files")
	storedBefore, _ = blobFiles(t, small.store.Data)
	big := make([]byte, 2000)
	rand.Read(big)
	r = ada.upload(t, sid, big)
	expect(t, "upload over the limit", r, 413, "encrypted_file", "too_large")
	if code := r.json(t)["code"]; code != "request_entity_too_large" {
		t.Fatalf("413 code %v", code)
	}
	if n := ada.headCount(t, "/boxes/"+sid+"/files"); n != before {
		t.Fatalf("a refused upload changed the file count %d → %d", before, n)
	}
	if n := ada.headCount(t, "/boxes/"+sid+"/events"); n != 2 {
		t.Fatalf("events after a refused upload: %d, want create + one file", n)
	}
	if stored, tmp := blobFiles(t, small.store.Data); !reflect.DeepEqual(stored, storedBefore) || len(stored) != 1 || len(tmp) != 0 {
		t.Fatalf("a refused upload left files: stored %v (before %v), tmp %v", stored, storedBefore, tmp)
	}
}

// TestKeySharesAndInvitationPage: the server's half of an invitation link,
// and the invitation page it unlocks.
func TestKeySharesAndInvitationPage(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, carol := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Carol")
	share := map[string]string{"misakey_share": ciphertext("misakey half"), "other_share_hash": shareHash(),
		"encrypted_invitation_key_share": ciphertext("invitation half")}
	r := alice.do("POST", "/boxes", map[string]any{"title": "Invitations", "public_key": randomKey(), "key_share": share})
	expect(t, "create with a key share", r, 201)
	id := r.json(t)["id"].(string)
	h := share["other_share_hash"]

	// The invitation page: any signed-in identity holding the hash.
	for name, u := range map[string]*user{"creator": alice, "stranger": bob} {
		r := u.do("GET", "/boxes/"+id+"/public?other_share_hash="+h, nil)
		expect(t, name+" reads the invitation page", r, 200)
		info := r.json(t)
		creator := info["creator"].(map[string]any)
		wantID := ""
		if u == alice {
			wantID = alice.email
		}
		if info["title"] != "Invitations" || creator["id"] != alice.id || creator["display_name"] != "Alice" || creator["identifier_value"] != wantID {
			t.Fatalf("%s's invitation page %v", name, info)
		}
		if u != alice && creator["identifier_kind"] != "" {
			t.Fatalf("the creator's identifier kind shows to a stranger: %v", creator)
		}
	}
	expect(t, "invitation page, wrong hash", bob.do("GET", "/boxes/"+id+"/public?other_share_hash="+shareHash(), nil), 403)
	r = bob.do("GET", "/boxes/"+id+"/public", nil)
	expectOrigin(t, "invitation page, no hash", r, 400, "bad_request", "query", "other_share_hash", "required")
	other := alice.do("POST", "/boxes", map[string]any{"title": "Other", "public_key": randomKey(),
		"key_share": map[string]string{"misakey_share": ciphertext("o"), "other_share_hash": shareHash()}})
	expect(t, "another box", other, 201)
	otherID := other.json(t)["id"].(string)
	expect(t, "a hash of another box", bob.do("GET", "/boxes/"+otherID+"/public?other_share_hash="+h, nil), 403)
	expectConflictOn(t, "reused hash", alice.do("POST", "/boxes", map[string]any{"title": "Dup", "public_key": randomKey(),
		"key_share": map[string]string{"misakey_share": ciphertext("d"), "other_share_hash": h}}), "other_share_hash")
	expect(t, "padded hash", alice.do("POST", "/boxes", map[string]any{"title": "Bad", "public_key": randomKey(),
		"key_share": map[string]string{"misakey_share": ciphertext("d"), "other_share_hash": h + "="}}), 400, "key_share.other_share_hash", "malformed")
	expect(t, "non-base64 misakey share", alice.do("POST", "/boxes", map[string]any{"title": "Bad", "public_key": randomKey(),
		"key_share": map[string]string{"misakey_share": "%%%", "other_share_hash": shareHash()}}), 400, "key_share.misakey_share", "malformed")

	// The key share: identities with access only.
	getShare := func(u *user, h string) response { return u.do("GET", "/box-key-shares/"+h, nil) }
	r = getShare(alice, h)
	expect(t, "admin reads the key share", r, 200)
	want := map[string]any{"box_id": id, "share": share["misakey_share"], "other_share_hash": h}
	if got := r.json(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("key share %v, want %v", got, want)
	}
	expect(t, "stranger reads the key share", getShare(bob, h), 403)
	expectOrigin(t, "unknown hash", getShare(alice, shareHash()), 404, "not_found", "path", "other_share_hash", "not_found")
	expect(t, "malformed hash", getShare(alice, "not+url+safe"), 400, "other_share_hash", "malformed")
	expect(t, "access for bob", alice.batch(t, id, accessAdd("identifier", bob.email)), 201)
	r = getShare(bob, h)
	expect(t, "bob with access reads the key share", r, 200)
	if got := r.json(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("bob's key share %v, want %v", got, want)
	}
	expect(t, "carol has no access", getShare(carol, h), 403)
	pubShare := map[string]string{"misakey_share": ciphertext("p"), "other_share_hash": shareHash()}
	expect(t, "public box with a share", alice.do("POST", "/boxes", map[string]any{"title": "Open", "public_key": randomKey(),
		"access_mode": "public", "key_share": pubShare}), 201)
	r = getShare(carol, pubShare["other_share_hash"])
	expect(t, "anyone reads a public box's share", r, 200)
	if got := r.json(t); got["share"] != pubShare["misakey_share"] {
		t.Fatalf("public box's key share %v", got)
	}

	// A new key share replaces the old one: old links stop working.
	next := map[string]string{"misakey_share": ciphertext("new half"), "other_share_hash": shareHash()}
	expect(t, "member replaces the share", bob.post(t, id, map[string]any{"type": "state.key_share", "extra": next}), 403)
	expect(t, "admin replaces the share", alice.post(t, id, map[string]any{"type": "state.key_share", "extra": next}), 201)
	expect(t, "old hash, key share", getShare(alice, h), 404, "other_share_hash", "not_found")
	expect(t, "old hash, invitation page", bob.do("GET", "/boxes/"+id+"/public?other_share_hash="+h, nil), 403)
	r = getShare(bob, next["other_share_hash"])
	expect(t, "new hash, key share", r, 200)
	if got := r.json(t); got["share"] != next["misakey_share"] || got["box_id"] != id {
		t.Fatalf("new key share %v", got)
	}
	r = carol.do("GET", "/boxes/"+id+"/public?other_share_hash="+next["other_share_hash"], nil)
	expect(t, "new hash, invitation page", r, 200)
	if r.json(t)["title"] != "Invitations" {
		t.Fatalf("invitation page %s", r.body)
	}
}

// TestContactCreatesBoxAtomically: POST /box-users/{id}/contact creates a
// box, its key share, an access and a crypto action at once, or nothing.
func TestContactCreatesBoxAtomically(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, carol := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Carol")

	// Public keys.
	pubkey, nonIdent := randomKey(), randomKey()
	expect(t, "bob sets his keys", bob.do("PATCH", "/identities/"+bob.id, map[string]string{"pubkey": pubkey, "non_identified_pubkey": nonIdent}), 204)
	expect(t, "alice sets bob's keys", alice.do("PATCH", "/identities/"+bob.id, map[string]string{"pubkey": randomKey()}), 403)
	expect(t, "bad pubkey", bob.do("PATCH", "/identities/"+bob.id, map[string]string{"pubkey": "not/url+safe"}), 400, "pubkey", "malformed")
	r := alice.do("GET", "/identities/"+bob.id+"/profile", nil)
	expect(t, "bob's profile", r, 200)
	profile := r.json(t)
	if profile["id"] != bob.id || profile["display_name"] != "Bob" || profile["pubkey"] != pubkey || profile["non_identified_pubkey"] != nonIdent {
		t.Fatalf("bob's profile %v", profile)
	}
	if profile["identifier_value"] != "" || strings.Contains(string(r.body), bob.email) { // unless bob shares it
		t.Fatalf("bob's public profile shows his identifier: %s", r.body)
	}
	r = alice.do("GET", "/identities/pubkey?identifier_value="+bob.email, nil)
	expect(t, "pubkey lookup", r, 200)
	if got := stringList(t, r); !reflect.DeepEqual(got, []string{pubkey}) {
		t.Fatalf("bob's public keys %v, want [%s]", got, pubkey)
	}
	if got := stringList(t, alice.do("GET", "/identities/pubkey?identifier_value=nobody@example.com", nil)); len(got) != 0 {
		t.Fatalf("an unknown identifier has keys %v", got)
	}
	expectOrigin(t, "malformed identifier", alice.do("GET", "/identities/pubkey?identifier_value=bob", nil), 400, "bad_request", "query", "identifier_value", "malformed")
	carolKey := randomKey()
	expect(t, "carol sets her key", carol.do("PATCH", "/identities/"+carol.id, map[string]string{"pubkey": carolKey}), 204)

	invitation := ciphertext("box secret for bob")
	body := func(changes map[string]any) map[string]any {
		b := map[string]any{"contacted_identity_id": bob.id,
			"box":             map[string]string{"title": "Alice & Bob", "public_key": randomKey()},
			"key_share":       map[string]string{"misakey_share": ciphertext("half"), "other_share_hash": shareHash(), "encrypted_invitation_key_share": ciphertext("inv")},
			"invitation_data": map[string]string{nonIdent: invitation}}
		for k, v := range changes {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	contact := func(u *user, pathID string, b map[string]any) response {
		return u.do("POST", "/box-users/"+pathID+"/contact", b)
	}
	// Refusals, which must change nothing. A taken other_share_hash fails
	// inside the transaction, after the box row is written.
	takenHash := shareHash()
	expect(t, "a box holding a hash", alice.do("POST", "/boxes", map[string]any{"title": "Taken", "public_key": randomKey(),
		"key_share": map[string]string{"misakey_share": ciphertext("t"), "other_share_hash": takenHash}}), 201)
	joinedBefore := alice.headCount(t, "/boxes/joined")
	expect(t, "contact as someone else", contact(alice, bob.id, body(nil)), 403)
	expect(t, "contact without contacted_identity_id", contact(alice, alice.id, body(map[string]any{"contacted_identity_id": nil})), 400, "contacted_identity_id", "required")
	expect(t, "contact a malformed id", contact(alice, alice.id, body(map[string]any{"contacted_identity_id": "bob"})), 400, "contacted_identity_id", "malformed")
	expect(t, "contact an unknown identity", contact(alice, alice.id, body(map[string]any{"contacted_identity_id": "8a1d1c3e-3f53-4c1f-9a51-2f5b7d7a0d11"})), 404, "contacted_identity_id", "not_found")
	expect(t, "contact oneself", contact(alice, alice.id, body(map[string]any{"contacted_identity_id": alice.id})), 400, "contacted_identity_id", "invalid")
	expect(t, "invitation for a key that is not bob's", contact(alice, alice.id, body(map[string]any{"invitation_data": map[string]string{randomKey(): invitation}})), 400, "invitation_data", "invalid")
	expect(t, "invitation for carol's key", contact(alice, alice.id, body(map[string]any{"invitation_data": map[string]string{carolKey: invitation}})), 400, "invitation_data", "invalid")
	expect(t, "invitation not base64", contact(alice, alice.id, body(map[string]any{"invitation_data": map[string]string{nonIdent: "%%%"}})), 400, "invitation_data", "malformed")
	expect(t, "contact without key_share", contact(alice, alice.id, body(map[string]any{"key_share": nil})), 400, "key_share", "required")
	expect(t, "contact without a box title", contact(alice, alice.id, body(map[string]any{"box": map[string]string{"public_key": randomKey()}})), 400, "box.title", "required")
	expectConflictOn(t, "contact with a taken hash", contact(alice, alice.id, body(map[string]any{"key_share": map[string]string{"misakey_share": ciphertext("half"), "other_share_hash": takenHash}})), "other_share_hash")
	if n := alice.headCount(t, "/boxes/joined"); n != joinedBefore {
		t.Fatalf("refused contacts created boxes: %d → %d", joinedBefore, n)
	}
	if got := bob.getArray(t, "/identities/"+bob.id+"/crypto/actions"); len(got) != 0 {
		t.Fatalf("refused contacts left crypto actions: %v", got)
	}
	if got := bob.getArray(t, "/identities/"+bob.id+"/notifications"); len(got) != 0 {
		t.Fatalf("refused contacts left notifications: %v", got)
	}

	// The contact.
	b := body(nil)
	r = contact(alice, alice.id, b)
	expect(t, "contact bob", r, 201)
	view := r.json(t)
	id := view["id"].(string)
	if view["access_mode"] != "limited" || view["title"] != "Alice & Bob" || view["lifecycle"] != "open" ||
		view["creator"].(map[string]any)["id"] != alice.id || view["public_key"] != b["box"].(map[string]string)["public_key"] {
		t.Fatalf("contact box view %v", view)
	}
	if n := alice.headCount(t, "/boxes/joined"); n != joinedBefore+1 {
		t.Fatalf("alice's boxes %d, want %d", n, joinedBefore+1)
	}
	accesses := alice.getArray(t, "/boxes/"+id+"/accesses")
	if len(accesses) != 1 || accesses[0]["content"].(map[string]any)["value"] != bob.email {
		t.Fatalf("the contact box's accesses %v", accesses)
	}
	r = bob.do("GET", "/box-key-shares/"+b["key_share"].(map[string]string)["other_share_hash"], nil)
	expect(t, "bob reads the key share", r, 200)
	if r.json(t)["box_id"] != id {
		t.Fatalf("key share %s", r.body)
	}
	expect(t, "bob sees the box's door", bob.do("GET", "/boxes/"+id, nil), 403, "reason", "not_member")
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	expect(t, "bob reads the box", bob.do("GET", "/boxes/"+id, nil), 200)
	expect(t, "carol is not invited", carol.do("GET", "/boxes/"+id, nil), 403)

	// Bob's crypto action.
	actions := bob.getArray(t, "/identities/"+bob.id+"/crypto/actions")
	if len(actions) != 1 || actions[0]["box_id"] != id || actions[0]["encrypted"] != invitation || actions[0]["encryption_public_key"] != nonIdent {
		t.Fatalf("bob's crypto actions %v", actions)
	}
	action := actions[0]["id"].(string)
	expect(t, "alice reads bob's crypto actions", alice.do("GET", "/identities/"+bob.id+"/crypto/actions", nil), 403)
	expect(t, "alice deletes bob's crypto action", alice.do("DELETE", "/identities/"+bob.id+"/crypto/actions/"+action, nil), 403)
	expect(t, "bob deletes it through alice's path", bob.do("DELETE", "/identities/"+alice.id+"/crypto/actions/"+action, nil), 403)
	expect(t, "bob consumes his crypto action", bob.do("DELETE", "/identities/"+bob.id+"/crypto/actions/"+action, nil), 204)
	if got := bob.getArray(t, "/identities/"+bob.id+"/crypto/actions"); len(got) != 0 {
		t.Fatalf("crypto actions after deletion %v", got)
	}
	expect(t, "delete twice", bob.do("DELETE", "/identities/"+bob.id+"/crypto/actions/"+action, nil), 404)

	// Bob's notification.
	notes := bob.getArray(t, "/identities/"+bob.id+"/notifications")
	var invite map[string]any
	for _, n := range notes {
		if n["type"] == "box.auto_invite" {
			invite = n
		}
	}
	if invite == nil || invite["details"].(map[string]any)["box_id"] != id || invite["acknowledged_at"] != nil {
		t.Fatalf("bob's notifications %v", notes)
	}
	expect(t, "alice reads bob's notifications", alice.do("GET", "/identities/"+bob.id+"/notifications", nil), 403)
	expect(t, "alice acks bob's notifications", alice.do("PUT", "/identities/"+bob.id+"/notifications/acknowledgement", nil), 403)
	if got := bob.getArray(t, "/identities/"+bob.id+"/notifications"); got[0]["acknowledged_at"] != nil {
		t.Fatalf("a refused ack acknowledged bob's notifications: %v", got)
	}
	expect(t, "bob acks", bob.do("PUT", "/identities/"+bob.id+"/notifications/acknowledgement", nil), 204)
	for _, n := range bob.getArray(t, "/identities/"+bob.id+"/notifications") {
		if n["acknowledged_at"] == nil {
			t.Fatalf("a notification is not acknowledged: %v", n)
		}
	}

	// identity_id is accepted for contacted_identity_id.
	r = contact(alice, alice.id, body(map[string]any{"contacted_identity_id": nil, "identity_id": carol.id,
		"invitation_data": map[string]string{carolKey: ciphertext("for carol")}}))
	expect(t, "contact by identity_id", r, 201)
	carolBox := r.json(t)["id"].(string)
	expect(t, "carol, invited, sees the door", carol.do("GET", "/boxes/"+carolBox, nil), 403, "reason", "not_member")
	if got := carol.getArray(t, "/identities/"+carol.id+"/crypto/actions"); len(got) != 1 || got[0]["box_id"] != carolBox {
		t.Fatalf("carol's crypto actions %v", got)
	}
	expect(t, "bob cannot read carol's box", bob.do("GET", "/boxes/"+carolBox, nil), 403)
}

// stringList decodes a JSON array of strings.
func stringList(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal(r.body, &out); err != nil || !bytes.HasPrefix(r.body, []byte("[")) {
		t.Fatalf("body %s is not a list of strings: %v", r.body, err)
	}
	return out
}

// TestMuteSettings: per-identity, per-box settings.
func TestMuteSettings(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, sam := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Sam")
	id := alice.createBox(t, "Quiet", "limited")["id"].(string)
	expect(t, "access for bob", alice.batch(t, id, accessAdd("identifier", bob.email)), 201)
	path := func(u *user) string { return "/box-users/" + u.id + "/boxes/" + id + "/settings" }
	get := func(u *user) map[string]any {
		t.Helper()
		r := u.do("GET", path(u), nil)
		expect(t, "get settings", r, 200)
		return r.json(t)
	}
	want := map[string]any{"identity_id": bob.id, "box_id": id, "muted": false}
	if got := get(bob); !reflect.DeepEqual(got, want) {
		t.Fatalf("default settings %v, want %v", got, want)
	}
	expect(t, "bob mutes", bob.do("PUT", path(bob), map[string]bool{"muted": true}), 204)
	want["muted"] = true
	if got := get(bob); !reflect.DeepEqual(got, want) {
		t.Fatalf("settings after muting %v, want %v", got, want)
	}
	if got := get(alice); got["muted"] != false || got["identity_id"] != alice.id {
		t.Fatalf("bob's mute changed alice's settings: %v", got)
	}
	expect(t, "muted not a boolean", bob.do("PUT", path(bob), map[string]any{"muted": "no"}), 400, "muted", "malformed")
	expect(t, "alice reads bob's settings", alice.do("GET", path(bob), nil), 403)
	expect(t, "alice mutes for bob", alice.do("PUT", path(bob), map[string]bool{"muted": false}), 403)
	expect(t, "no access, read", sam.do("GET", path(sam), nil), 403)
	expect(t, "no access, write", sam.do("PUT", path(sam), map[string]bool{"muted": true}), 403)
	expect(t, "malformed box id", bob.do("GET", "/box-users/"+bob.id+"/boxes/nope/settings", nil), 400, "bid", "malformed")
	if got := get(bob); got["muted"] != true {
		t.Fatalf("refused changes altered bob's settings: %v", got)
	}
	expect(t, "bob unmutes: no muted means false, as the reference", bob.do("PUT", path(bob), map[string]any{}), 204)
	if got := get(bob); got["muted"] != false {
		t.Fatalf("settings after unmuting %v", got)
	}
}
