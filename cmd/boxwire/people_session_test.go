package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// terminal runs the people's CLI as one person at one config directory.
type terminal struct {
	t        *testing.T
	dir      string
	password string
}

func (m terminal) try(args ...string) (string, int) {
	m.t.Helper()
	m.t.Setenv("BOXWIRE_PASSWORD", m.password)
	var out bytes.Buffer
	code := Main(context.Background(), append(args, "--config", m.dir), &out, &out)
	return out.String(), code
}

func (m terminal) run(args ...string) string {
	m.t.Helper()
	out, code := m.try(args...)
	if code != 0 {
		m.t.Fatalf("boxwire %v: exit %d\n%s", args, code, out)
	}
	return out
}

// storedSession is session.json as the CLI keeps it (its format is on
// people's disks: read here field by field, not through the CLI's type).
type storedSession struct {
	Token        string    `json:"token"`
	RefreshToken string    `json:"refresh_token"`
	ExpiresAt    time.Time `json:"expires_at"`
}

func (m terminal) session() storedSession {
	m.t.Helper()
	var s storedSession
	b, err := os.ReadFile(filepath.Join(m.dir, "session.json"))
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		m.t.Fatal(err)
	}
	return s
}

var boxIDPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`)

// expectSentence fails if a CLI error reads like a program's output
// rather than words: raw JSON or a Go map.
func expectSentence(t *testing.T, out string, want string) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Fatalf("the CLI said %q, want it to say %q", out, want)
	}
	for _, raw := range []string{"{", "map[", "&{", "%!"} {
		if strings.Contains(out, raw) {
			t.Fatalf("the CLI's error %q shows raw data (%q)", out, raw)
		}
	}
}

// TestLoginKeepsEveryIdentitysKeys: signing in as someone else in the
// same config directory keeps the first person's box keys (they cannot be
// recovered without the invitation link), and an earlier version's
// profile.json is carried over.
func TestLoginKeepsEveryIdentitysKeys(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ana, ben := ts.user(t, "Ana"), ts.user(t, "Ben")
	dir := t.TempDir()
	asAna := terminal{t, dir, "Ana-password"}
	asBen := terminal{t, dir, "Ben-password"}
	asAna.run("login", "--server", ts.URL(), "--email", ana.email)
	boxA := boxIDPattern.FindString(asAna.run("box", "create", "--title", "Ana's plans"))
	asAna.run("box", "send", boxA, "only ana reads this")

	if out := asBen.run("login", "--server", ts.URL(), "--email", ben.email); strings.Contains(out, "box keys here") {
		t.Fatalf("ben's login found keys that are not his: %q", out)
	}
	boxB := boxIDPattern.FindString(asBen.run("box", "create", "--title", "Ben's plans"))
	out, code := asBen.try("box", "read", boxA)
	if code == 0 {
		t.Fatalf("ben read ana's box with her key: %s", out)
	}
	expectSentence(t, out, "no key for box")

	if out := asAna.run("login", "--server", ts.URL(), "--email", ana.email); !strings.Contains(out, "(1 box keys here)") {
		t.Fatalf("ana's second login said %q, want her kept key counted", out)
	}
	if out := asAna.run("box", "read", boxA); !strings.Contains(out, "only ana reads this") {
		t.Fatalf("ana lost her key after ben's login:\n%s", out)
	}
	for _, id := range [][2]string{{ana.id, boxA}, {ben.id, boxB}} {
		matches, _ := filepath.Glob(filepath.Join(dir, "keys", "*", id[0], id[1]+".json"))
		if len(matches) != 1 {
			t.Fatalf("no key file for identity %s box %s under %s/keys", id[0], id[1], dir)
		}
		if info, err := os.Stat(matches[0]); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s must be private: %v %v", matches[0], info.Mode(), err)
		}
	}

	// An earlier version kept one profile.json (session and keys).
	keyFiles, _ := filepath.Glob(filepath.Join(dir, "keys", "*", ana.id, boxA+".json"))
	key, _ := os.ReadFile(keyFiles[0])
	old, _ := json.Marshal(map[string]any{"server": ts.URL(), "token": ana.token(), "identity_id": ana.id, "email": ana.email,
		"boxes": map[string]json.RawMessage{boxA: key}})
	legacy := terminal{t, t.TempDir(), ""}
	os.WriteFile(filepath.Join(legacy.dir, "profile.json"), old, 0o600)
	if out := legacy.run("box", "read", boxA); !strings.Contains(out, "only ana reads this") {
		t.Fatalf("the old profile's key was not carried over:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(legacy.dir, "profile.json.migrated")); err != nil {
		t.Fatalf("the old profile was not set aside: %v", err)
	}
}

// TestCLISessionRenewsItself: the CLI keeps the refresh token and renews
// the session when the server says the access token has ended, also when
// two commands do so at once (the server ends a session whose refresh
// token is used twice); once the session is revoked it says to sign in.
func TestCLISessionRenewsItself(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ana := ts.user(t, "Ana")
	me := terminal{t, t.TempDir(), "Ana-password"}
	me.run("login", "--server", ts.URL(), "--email", ana.email)
	first := me.session()
	if first.RefreshToken == "" || first.ExpiresAt.IsZero() {
		t.Fatalf("login kept no refresh token or expiry: %+v", first)
	}
	box := boxIDPattern.FindString(me.run("box", "create", "--title", "Plans"))

	ts.clock.Advance(16 * time.Minute) // past the access token's 15 minutes
	me.run("box", "send", box, "after the token ended")
	second := me.session()
	if second.Token == first.Token || second.RefreshToken == first.RefreshToken {
		t.Fatal("the session was not renewed, or the new refresh token was not kept")
	}

	ts.clock.Advance(16 * time.Minute)
	var wg sync.WaitGroup
	outs := make([]string, 2)
	codes := make([]int, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			codes[i] = Main(context.Background(), []string{"box", "list", "--config", me.dir}, &out, &out)
			outs[i] = out.String()
		}()
	}
	wg.Wait()
	for i := range outs {
		if codes[i] != 0 || !strings.Contains(outs[i], box) {
			t.Fatalf("command %d of two renewing at once: exit %d\n%s", i, codes[i], outs[i])
		}
	}
	if out := me.run("api", "GET", "/identities/"+ana.id); !strings.Contains(out, ana.id) {
		t.Fatalf("boxwire api after the renewals: %s", out)
	}
	ts.clock.Advance(16 * time.Minute)
	if out := me.run("api", "GET", "/identities/"+ana.id); !strings.Contains(out, ana.id) {
		t.Fatalf("boxwire api did not renew its session: %s", out)
	}

	revoker := newClient(t, ts.URL())
	if r := revoker.do("POST", "/oauth/revoke", map[string]string{"token": me.session().Token}); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	out, code := me.try("box", "list")
	if code == 0 {
		t.Fatalf("a revoked session still lists boxes: %s", out)
	}
	expectSentence(t, out, "your session has ended: run boxwire login --server "+ts.URL()+" --email "+ana.email)
}

// TestBoxInviteByEmail: an admin shares a private box from the CLI: the
// address gets access and the link is printed; the link alone lets no
// one else in, and only the admin can give access.
func TestBoxInviteByEmail(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ana, ben, eve := ts.user(t, "Ana"), ts.user(t, "Ben"), ts.user(t, "Eve")
	asAna := terminal{t, t.TempDir(), "Ana-password"}
	asBen := terminal{t, t.TempDir(), "Ben-password"}
	asEve := terminal{t, t.TempDir(), "Eve-password"}
	for _, p := range []struct {
		m     terminal
		email string
	}{{asAna, ana.email}, {asBen, ben.email}, {asEve, eve.email}} {
		p.m.run("login", "--server", ts.URL(), "--email", p.email)
	}
	box := boxIDPattern.FindString(asAna.run("box", "create", "--title", "Private"))
	out := asAna.run("box", "invite", box, "--email", ben.email)
	link := regexp.MustCompile(`http\S+#\S+`).FindString(out)
	if link == "" || !strings.Contains(out, ben.email+" may now join") {
		t.Fatalf("box invite --email printed %q", out)
	}
	if out := asBen.run("box", "join", link); !strings.Contains(out, "joined box") {
		t.Fatalf("ben could not join with access and the link: %s", out)
	}
	asBen.run("box", "send", box, "hello ana")
	if out := asAna.run("box", "read", box); !strings.Contains(out, "Ben: hello ana") {
		t.Fatalf("ana reads:\n%s", out)
	}

	out, code := asEve.try("box", "join", link)
	if code == 0 {
		t.Fatalf("eve joined a private box with a link alone: %s", out)
	}
	expectSentence(t, out, "the server refused")
	out, code = asBen.try("box", "invite", box, "--email", eve.email)
	if code == 0 {
		t.Fatalf("ben, not the admin, gave eve access: %s", out)
	}
	expectSentence(t, out, "only the box's admin can")
	if out, code := asEve.try("box", "join", link); code == 0 {
		t.Fatalf("eve joined after ben's refused invitation: %s", out)
	}
}

// TestEveryCommandHelpsItself: "boxwire COMMAND -h" prints that
// command's own flags and succeeds.
func TestEveryCommandHelpsItself(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "-h"}, "-public-url"},
		{[]string{"migrate", "-h"}, "-database"},
		{[]string{"secret-key", "-h"}, "-out"},
		{[]string{"user", "-h"}, "user add"},
		{[]string{"user", "add", "-h"}, "-password"},
		{[]string{"user", "verify", "-h"}, "-email"},
		{[]string{"org", "-h"}, "org domain add"},
		{[]string{"org", "domain", "add", "-h"}, "-data"},
		{[]string{"login", "-h"}, "-server"},
		{[]string{"box", "-h"}, "box send-file"},
		{[]string{"box", "list", "-h"}, "-config"},
		{[]string{"box", "create", "-h"}, "-title"},
		{[]string{"box", "send", "-h"}, "send an encrypted message"},
		{[]string{"box", "send-file", "-h"}, "send an encrypted file"},
		{[]string{"box", "read", "-h"}, "-files"},
		{[]string{"box", "invite", "-h"}, "-email"},
		{[]string{"box", "join", "--help"}, "LINK"},
		{[]string{"api", "-h"}, "METHOD PATH"},
		{[]string{"token", "-h"}, "token create NAME"},
		{[]string{"token", "create", "-h"}, "-config"},
		{[]string{"backup", "-h"}, "usage: boxwire backup DIR"},
		{[]string{"restore", "-h"}, "usage: boxwire restore BACKUP"},
		{[]string{"user", "list", "-h"}, "-org"},
		{[]string{"user", "passwd", "-h"}, "-password"},
		{[]string{"org", "create", "-h"}, "-data"},
		{[]string{"bench", "-h"}, "bench append"},
		{[]string{"bench", "append", "-h"}, "-conns"},
		{[]string{"bench", "fanout", "-h"}, "-subscribers"},
	} {
		var out bytes.Buffer
		code := Main(context.Background(), tc.args, &out, &out)
		if code != 0 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("boxwire %s: exit %d, want 0 and %q in:\n%s", strings.Join(tc.args, " "), code, tc.want, out.String())
		}
	}
}

// TestCLIErrorsAreSentences: what goes wrong is said in words a person
// can act on.
func TestCLIErrorsAreSentences(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ana := ts.user(t, "Ana")
	me := terminal{t, t.TempDir(), "wrong password"}
	out, code := me.try("login", "--server", ts.URL(), "--email", ana.email)
	if code == 0 {
		t.Fatal("a wrong password signed in")
	}
	expectSentence(t, out, "the e-mail or the password is wrong")

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	out, _ = me.try("login", "--server", closed, "--email", ana.email)
	expectSentence(t, out, "could not reach the server at "+closed+": is it running?")

	out, _ = terminal{t, t.TempDir(), ""}.try("box", "list")
	expectSentence(t, out, "you are not signed in: run boxwire login")

	me.password = "Ana-password"
	me.run("login", "--server", ts.URL(), "--email", ana.email)
	out, code = me.try("box", "create", "--title", strings.Repeat("x", 300))
	if code == 0 {
		t.Fatalf("a 300-character title was taken: %s", out)
	}
	expectSentence(t, out, "the server refused the request")
	if !strings.Contains(out, "title") {
		t.Fatalf("the refusal does not name the field: %q", out)
	}
}
