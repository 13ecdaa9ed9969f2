package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// user is a signed-in identity with a bearer client.
type user struct {
	*client
	id    string
	email string
}

func (ts *testServer) user(t *testing.T, name string) *user {
	t.Helper()
	email := strings.ToLower(name) + "@example.com"
	if out, code := ts.cli(t, "user", "add", "--email", email, "--password", name+"-password", "--name", name); code != 0 {
		t.Fatalf("user add %s: %s", name, out)
	}
	return ts.signIn(t, email, name+"-password")
}

func (ts *testServer) signIn(t *testing.T, email, password string) *user {
	t.Helper()
	c := newClient(t, ts.URL())
	tok := c.login(email, password)
	c.http.Jar = nil
	c.hdr.Set("Authorization", "Bearer "+tok)
	return &user{client: c, id: claimsOf(t, tok).Subject, email: email}
}

func randomKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func ciphertext(s string) string { return base64.StdEncoding.EncodeToString([]byte("sealed:" + s)) }

func text(s string) map[string]any {
	return map[string]any{"type": "msg.text", "content": map[string]string{"encrypted": ciphertext(s), "public_key": randomKey()}}
}

func (u *user) createBox(t *testing.T, title, mode string) map[string]any {
	t.Helper()
	r := u.do("POST", "/boxes", map[string]string{"title": title, "public_key": randomKey(), "access_mode": mode})
	if r.status != 201 {
		t.Fatalf("create box: %d %s", r.status, r.body)
	}
	return r.json(t)
}

// expect checks a status and, for errors, the detail of each named field.
func expect(t *testing.T, what string, r response, status int, fields ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	if len(fields) == 0 {
		return
	}
	got := r.fields(t)
	for i := 0; i+1 < len(fields); i += 2 {
		if got[fields[i]] != fields[i+1] {
			t.Fatalf("%s: details %v, want %s=%s", what, got, fields[i], fields[i+1])
		}
	}
}

func (u *user) post(t *testing.T, boxID string, ev map[string]any) response {
	t.Helper()
	return u.do("POST", "/boxes/"+boxID+"/events", ev)
}

func (u *user) batch(t *testing.T, boxID string, events ...map[string]any) response {
	t.Helper()
	return u.do("POST", "/boxes/"+boxID+"/batch-events", map[string]any{"batch_type": "accesses", "events": events})
}

func accessAdd(kind, value string) map[string]any {
	return map[string]any{"type": "access.add", "content": map[string]string{"restriction_type": kind, "value": value}}
}

func ref(typ, id string, content any) map[string]any {
	return map[string]any{"type": typ, "referrer_id": id, "content": content}
}

func list(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("body %s is not a list: %v", r.body, err)
	}
	return out
}

func (u *user) events(t *testing.T, boxID string) []map[string]any {
	t.Helper()
	r := u.do("GET", "/boxes/"+boxID+"/events", nil)
	expect(t, "list events", r, 200)
	return list(t, r)
}

func find(events []map[string]any, id string) map[string]any {
	for _, e := range events {
		if e["id"] == id {
			return e
		}
	}
	return nil
}

func types(events []map[string]any) string {
	var ts []string
	for _, e := range events {
		ts = append(ts, fmt.Sprint(e["type"]))
	}
	return strings.Join(ts, ",")
}
