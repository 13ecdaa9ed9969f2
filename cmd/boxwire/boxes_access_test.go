package main

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"
)

// upload posts an encrypted file to a box as multipart.
func (u *user) upload(t *testing.T, boxID string, data []byte) response {
	t.Helper()
	body, contentType := fileUpload(data)
	return u.do("POST", "/boxes/"+boxID+"/encrypted-files", body.String(), "Content-Type", contentType)
}

// fileUpload is the multipart body of a box file upload holding data.
func fileUpload(data []byte) (*bytes.Buffer, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("msg_encrypted_content", ciphertext("file message"))
	mw.WriteField("msg_public_key", randomKey())
	fw, _ := mw.CreateFormFile("encrypted_file", "blob")
	fw.Write(data)
	mw.Close()
	return &body, mw.FormDataContentType()
}

// TestNoEndpointLeaksABox walks identities × box states × endpoints. Where
// the box must stay hidden, the answer must be the very answer for a box
// that does not exist, and must never carry the box's title.
func TestNoEndpointLeaksABox(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	admin, member, invited, stranger, kicked := ts.user(t, "Ada"), ts.user(t, "Mel"), ts.user(t, "Ivo"), ts.user(t, "Sam"), ts.user(t, "Kim")
	users := map[string]*user{"admin": admin, "member": member, "invited": invited, "stranger": stranger, "kicked": kicked}

	type boxCase struct{ id, title, file, hash string }
	setup := func(state string) boxCase {
		title := "secret-" + state
		hash := strings.TrimRight(randomKey(), "=")
		r := admin.do("POST", "/boxes", map[string]any{"title": title, "public_key": randomKey(),
			"key_share": map[string]string{"misakey_share": ciphertext("s"), "other_share_hash": hash}})
		expect(t, "create "+state, r, 201)
		id := r.json(t)["id"].(string)
		r = admin.batch(t, id, accessAdd("identifier", member.email), accessAdd("identifier", invited.email), accessAdd("identifier", kicked.email))
		expect(t, "accesses "+state, r, 201)
		kickRule := list(t, r)[2]["id"].(string)
		expect(t, "member joins", member.post(t, id, map[string]any{"type": "member.join"}), 201)
		expect(t, "kicked joins", kicked.post(t, id, map[string]any{"type": "member.join"}), 201)
		expect(t, "kick", admin.batch(t, id, ref("access.rm", kickRule, nil)), 201)
		r = admin.upload(t, id, []byte("ciphertext of "+title))
		expect(t, "upload "+state, r, 201)
		file := r.json(t)["content"].(map[string]any)["encrypted_file_id"].(string)
		switch state {
		case "closed":
			expect(t, "close", admin.post(t, id, map[string]any{"type": "state.lifecycle", "content": map[string]string{"state": "closed"}}), 201)
		case "deleted":
			expect(t, "delete", admin.do("DELETE", "/boxes/"+id, map[string]string{"user_confirmation": "delete"}), 204)
		}
		return boxCase{id: id, title: title, file: file, hash: hash}
	}
	boxes := map[string]boxCase{"open": setup("open"), "closed": setup("closed"), "deleted": setup("deleted"),
		"unknown": {id: "8a1d1c3e-3f53-4c1f-9a51-2f5b7d7a0d11", title: "secret-unknown", file: "9b2e2d4f-4064-4d20-8b62-3a6c8e8b1e22", hash: "bm9wZQ"}}

	// visible: who may know the box exists; readable: who may read its content.
	visible := func(who, state string) bool {
		switch state {
		case "open":
			return who == "admin" || who == "member" || who == "invited"
		case "closed":
			return who == "admin"
		}
		return false
	}
	readable := func(who, state string) bool {
		return visible(who, state) && who != "invited"
	}
	type endpoint struct {
		name, method, path string
		body               any
		needs              func(who, state string) bool
	}
	endpoints := func(b boxCase, u *user) []endpoint {
		return []endpoint{
			{"get", "GET", "/boxes/" + b.id, nil, readable},
			{"events", "GET", "/boxes/" + b.id + "/events", nil, readable},
			{"count events", "HEAD", "/boxes/" + b.id + "/events", nil, readable},
			{"files", "GET", "/boxes/" + b.id + "/files", nil, readable},
			{"count files", "HEAD", "/boxes/" + b.id + "/files", nil, readable},
			{"members", "GET", "/boxes/" + b.id + "/members", nil, readable},
			{"accesses", "GET", "/boxes/" + b.id + "/accesses", nil, func(who, state string) bool { return who == "admin" && visible(who, state) }},
			{"post", "POST", "/boxes/" + b.id + "/events", text("x"), visible},
			{"join", "POST", "/boxes/" + b.id + "/events", map[string]any{"type": "member.join", "referrer_id": b.file}, visible}, // refused by a rule: the walk must change nothing
			{"batch", "POST", "/boxes/" + b.id + "/batch-events", map[string]any{"batch_type": "accesses", "events": []any{accessAdd("identifier", "z@example.com")}}, visible},
			{"ack", "PUT", "/boxes/" + b.id + "/new-events-count/ack", map[string]string{"identity_id": u.id}, readable},
			{"get settings", "GET", "/box-users/" + u.id + "/boxes/" + b.id + "/settings", nil, visible},
			{"put settings", "PUT", "/box-users/" + u.id + "/boxes/" + b.id + "/settings", map[string]bool{"muted": true}, visible},
			{"public info", "GET", "/boxes/" + b.id + "/public?other_share_hash=" + b.hash, nil, func(who, state string) bool { return state == "open" || (state == "closed" && who == "admin") }},
			{"key share", "GET", "/box-key-shares/" + b.hash, nil, visible},
			{"download", "GET", "/encrypted-files/" + b.file, nil, readable},
			{"delete", "DELETE", "/boxes/" + b.id, map[string]string{"user_confirmation": "delete"}, func(who, state string) bool { return false }},
		}
	}
	hidden := map[string][]byte{} // the unknown box's answer, per identity and endpoint
	for who, u := range users {
		for _, ep := range endpoints(boxes["unknown"], u) {
			r := u.do(ep.method, ep.path, ep.body)
			want := 403
			if ep.name == "key share" {
				want = 404 // an unknown hash, as Misakey's reference: it names no box
			}
			if r.status != want {
				t.Fatalf("%s %s on an unknown box: %d %s", who, ep.name, r.status, r.body)
			}
			hidden[who+ep.name] = r.body
		}
	}
	for _, state := range []string{"open", "closed", "deleted"} {
		b := boxes[state]
		for who, u := range users {
			for _, ep := range endpoints(b, u) {
				if ep.name == "delete" && who == "admin" {
					continue // the admin may; tested elsewhere
				}
				what := fmt.Sprintf("%s → %s on a %s box", who, ep.name, state)
				r := u.do(ep.method, ep.path, ep.body)
				if strings.Contains(string(r.body), b.title) && !ep.needs(who, state) {
					t.Errorf("%s: the answer holds the box title: %s", what, r.body)
				}
				// The box is hidden from who cannot see it; a share-hash or
				// file lookup is hidden whenever it is refused.
				hide := !visible(who, state)
				if ep.name == "public info" || ep.name == "download" {
					hide = !ep.needs(who, state)
				}
				isHidden := r.status == 403 && bytes.Equal(r.body, hidden[who+ep.name])
				if ep.name == "key share" { // a known hash of a hidden box: the unknown box's 403 (both go through the same access check)
					isHidden = r.status == 403 && bytes.Equal(r.body, hidden[who+"get settings"]) ||
						r.status == 404 && bytes.Equal(r.body, hidden[who+ep.name])
				}
				switch {
				case hide && !isHidden:
					t.Errorf("%s: %d %s, want exactly the unknown box's 403 %s", what, r.status, r.body, hidden[who+ep.name])
				case !hide && isHidden && ep.method != "HEAD": // a HEAD answer has no body to tell them apart
					t.Errorf("%s: answered as if the box did not exist", what)
				case ep.needs(who, state) && (ep.method == "GET" || ep.method == "HEAD" || ep.name == "ack"):
					if r.status >= 300 {
						t.Errorf("%s: %d %s, want success", what, r.status, r.body)
					}
				case !ep.needs(who, state) && !hide && r.status < 400:
					t.Errorf("%s: %d, want a refusal", what, r.status)
				}
			}
		}
	}
}

// TestIdentifiersStayPrivate: identifiers show only to the box creator and
// to the identity itself.
func TestIdentifiersStayPrivate(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	alice, bob, carol := ts.user(t, "Alice"), ts.user(t, "Bob"), ts.user(t, "Carol")
	id := alice.createBox(t, "Team", "public")["id"].(string)
	expect(t, "bob joins", bob.post(t, id, map[string]any{"type": "member.join"}), 201)
	expect(t, "carol joins", carol.post(t, id, map[string]any{"type": "member.join"}), 201)
	expect(t, "carol posts", carol.post(t, id, text("hi")), 201)
	identifiers := func(viewer *user) map[string]string {
		r := viewer.do("GET", "/boxes/"+id+"/members", nil)
		expect(t, "members", r, 200)
		out := map[string]string{}
		for _, m := range list(t, r) {
			out[m["id"].(string)] = m["identifier_value"].(string)
		}
		return out
	}
	if got := identifiers(alice); got[bob.id] != "bob@example.com" || got[carol.id] != "carol@example.com" || got[alice.id] != "alice@example.com" {
		t.Fatalf("the creator sees every identifier: %v", got)
	}
	if got := identifiers(bob); got[bob.id] != "bob@example.com" || got[carol.id] != "" || got[alice.id] != "" || len(got) != 3 {
		t.Fatalf("a member sees only their own identifier: %v", got)
	}
	for _, e := range bob.events(t, id) {
		s := e["sender"].(map[string]any)
		if s["id"] != bob.id && (s["identifier_value"] != "" || s["identifier_kind"] != "") {
			t.Fatalf("event sender shows another's identifier to bob: %v", s)
		}
	}
	box := bob.do("GET", "/boxes/"+id, nil).json(t)
	if box["creator"].(map[string]any)["identifier_value"] != "" {
		t.Fatalf("the creator's identifier leaks to a member: %v", box["creator"])
	}
}
