package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func (ts *testServer) mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, code := ts.cli(t, args...)
	if code != 0 {
		t.Fatalf("boxwire %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func (ts *testServer) loginStatus(t *testing.T, email, password string) (int, string) {
	r := newClient(t, ts.URL()).do("POST", "/oauth/token", map[string]string{"username": email, "password": password}, "X-Calling-Application", "test")
	return r.status, string(r.body)
}

// TestOperatorManagesUsers: the operator lists, re-passwords, disables,
// enables and deletes users from a terminal while the server runs; each
// change that takes access away ends the user's sessions, and a disabled
// or deleted user cannot sign in.
func TestOperatorManagesUsers(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ts.mustCLI(t, "user", "add", "--email", "ana@acme.test", "--password", "ana-password", "--name", "Ana", "--org", "Acme", "--role", "admin")
	ben := ts.user(t, "Ben")

	all := ts.mustCLI(t, "user", "list")
	if !strings.Contains(all, "ana@acme.test") || !strings.Contains(all, "Acme (admin)") || !strings.Contains(all, ben.email) || !strings.Contains(all, ben.id) {
		t.Fatalf("user list:\n%s", all)
	}
	if acme := ts.mustCLI(t, "user", "list", "--org", "Acme"); strings.Contains(acme, ben.email) || !strings.Contains(acme, "ana@acme.test") {
		t.Fatalf("user list --org Acme:\n%s", acme)
	}
	sessionEnds := func(u *user, what string) {
		t.Helper()
		waitFor(t, 10*time.Second, what+" ends the session", func() bool {
			return u.do("GET", "/identities/"+u.id, nil).status == 401
		})
	}

	ts.mustCLI(t, "user", "passwd", "--email", ben.email, "--password", "a new password")
	sessionEnds(ben, "passwd")
	if code, _ := ts.loginStatus(t, ben.email, "Ben-password"); code != 401 {
		t.Fatalf("the old password still signs in: %d", code)
	}
	ben = ts.signIn(t, ben.email, "a new password")

	ts.mustCLI(t, "user", "disable", "--email", ben.email)
	sessionEnds(ben, "disable")
	if code, body := ts.loginStatus(t, ben.email, "a new password"); code != 401 || !strings.Contains(body, "disabled") {
		t.Fatalf("a disabled user signs in: %d %s", code, body)
	}
	if list := ts.mustCLI(t, "user", "list"); !lineHas(list, ben.email, "disabled") {
		t.Fatalf("user list does not show ben disabled:\n%s", list)
	}
	ts.mustCLI(t, "user", "enable", "--email", ben.email)
	ben = ts.signIn(t, ben.email, "a new password")

	box := ben.createBox(t, "Ben's", "public")
	ts.mustCLI(t, "user", "delete", "--email", ben.email, "--yes")
	sessionEnds(ben, "delete")
	if code, _ := ts.loginStatus(t, ben.email, "a new password"); code != 401 {
		t.Fatalf("a deleted user signs in: %d", code)
	}
	list := ts.mustCLI(t, "user", "list")
	if strings.Contains(list, ben.email) || !lineHas(list, "deleted-"+ben.id+"@invalid", "Deleted user") {
		t.Fatalf("user list after delete:\n%s", list)
	}
	// What ben wrote stays in the box, signed "Deleted user"; his address
	// is free for a new account.
	again := ts.user(t, "Ben")
	if again.id == ben.id {
		t.Fatal("the new account reuses the deleted identity")
	}
	expect(t, "join ben's public box", again.post(t, box["id"].(string), map[string]any{"type": "member.join"}), 201)
	if r := again.do("GET", "/boxes/"+box["id"].(string), nil); r.status != 200 || !strings.Contains(string(r.body), "Deleted user") {
		t.Fatalf("the deleted user's box as another sees it: %d %s", r.status, r.body)
	}

	for _, bad := range [][]string{
		{"user", "passwd", "--email", "nobody@acme.test", "--password", "whatever123"},
		{"user", "disable", "--email", "not an address"},
		{"user", "passwd", "--email", again.email, "--password", "short"},
		{"user", "delete", "--email", again.email}, // no --yes, no "yes" typed
	} {
		if out, code := ts.cli(t, bad...); code == 0 {
			t.Fatalf("boxwire %v succeeded: %s", bad, out)
		}
	}
	if code, _ := ts.loginStatus(t, again.email, "Ben-password"); code != 200 {
		t.Fatalf("a refused command changed the user: login %d", code)
	}
}

func lineHas(text, a, b string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, a) && strings.Contains(line, b) {
			return true
		}
	}
	return false
}

// TestOperatorOrgs: organisations listed and created from a terminal.
func TestOperatorOrgs(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	out := ts.mustCLI(t, "org", "create", "Beta Lettings")
	if !strings.Contains(out, "created organisation Beta Lettings") {
		t.Fatalf("org create: %s", out)
	}
	ts.mustCLI(t, "user", "add", "--email", "ada@beta.test", "--password", "ada-password", "--name", "Ada", "--org", "Beta Lettings", "--role", "admin")
	if list := ts.mustCLI(t, "org", "list"); !lineHas(list, "Beta Lettings", "  1 ") {
		t.Fatalf("org list:\n%s", list)
	}
	if out, code := ts.cli(t, "org", "create", "Beta Lettings"); code == 0 || !strings.Contains(out, "already exists") {
		t.Fatalf("a second org of the same name: exit %d %s", code, out)
	}
	if out, code := ts.cli(t, "org", "create", "bad\x01name"); code == 0 {
		t.Fatalf("a name with a control character: %s", out)
	}
}

// TestOperatorCommandsRefuseAnEmptyDirectory: a command given a directory
// where no server ran says so, and creates no database there.
func TestOperatorCommandsRefuseAnEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"user", "add", "--email", "a@x.test", "--password", "long enough", "--name", "A"},
		{"user", "list"}, {"org", "list"}, {"user", "verify", "--email", "a@x.test"}, {"backup", t.TempDir() + "/b"},
	} {
		var out bytes.Buffer
		code := Main(context.Background(), append(args, "--data", dir), &out, &out)
		if code == 0 || !strings.Contains(out.String(), "no Boxwire database in") {
			t.Fatalf("boxwire %v in an empty directory: exit %d %s", args, code, out.String())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the refused commands left %d files in the directory", len(entries))
	}
	ts := startServer(t, StoreConfig{Data: dir})
	if out := ts.mustCLI(t, "user", "add", "--email", "a@x.test", "--password", "long enough", "--name", "A"); !strings.Contains(out, "written to sqlite "+dir) {
		t.Fatalf("user add does not say where it wrote: %s", out)
	}
}

// TestBackupAndRestore: a backup taken while the server takes writes,
// restored into a new directory, serves everything acknowledged before
// the backup began: identities, boxes, events and files, byte for byte.
func TestBackupAndRestore(t *testing.T) {
	sc := StoreConfig{Data: t.TempDir()}
	ts := startServer(t, sc)
	ana := ts.user(t, "Ana")
	box := ana.createBox(t, "Plans", "limited")["id"].(string)
	files := map[string][]byte{}
	for i := 0; i < 3; i++ {
		data := make([]byte, 40000+i)
		rand.Read(data)
		r := ana.upload(t, box, data)
		expect(t, "upload", r, 201)
		files[r.json(t)["content"].(map[string]any)["encrypted_file_id"].(string)] = data
	}
	for i := 0; i < 20; i++ {
		expect(t, "post", ana.post(t, box, text("before the backup")), 201)
	}
	before := len(ana.events(t, box))

	// Writes go on during the backup.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var during atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ana.post(t, box, text("during the backup")).status == 201 {
				during.Add(1)
			}
		}
	}()
	dir := filepath.Join(t.TempDir(), "backup")
	out := ts.mustCLI(t, "backup", dir)
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "backed up sqlite") || !strings.Contains(out, "secret.key") {
		t.Fatalf("backup said %q", out)
	}
	if out, code := ts.cli(t, "backup", dir); code == 0 || !strings.Contains(out, "not empty") {
		t.Fatalf("a backup into a used directory: exit %d %s", code, out)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	var buf bytes.Buffer
	if code := Main(context.Background(), []string{"restore", dir, "--data", restored}, &buf, &buf); code != 0 || !strings.Contains(buf.String(), "start the server with --data") {
		t.Fatalf("restore: exit %d %s", code, buf.String())
	}
	buf.Reset()
	if code := Main(context.Background(), []string{"restore", dir, "--data", restored}, &buf, &buf); code == 0 {
		t.Fatalf("a restore over a restored directory succeeded: %s", buf.String())
	}
	buf.Reset()
	if code := Main(context.Background(), []string{"restore", t.TempDir(), "--data", t.TempDir()}, &buf, &buf); code == 0 || !strings.Contains(buf.String(), "is not a Boxwire backup") {
		t.Fatalf("a restore from a directory that is no backup: exit %d %s", code, buf.String())
	}

	second := startServer(t, StoreConfig{Data: restored})
	back := second.signIn(t, ana.email, "Ana-password")
	events := back.events(t, box)
	if len(events) < before || len(events) > before+int(during.Load()) {
		t.Fatalf("the restored box holds %d events; %d were acknowledged before the backup, %d during", len(events), before, during.Load())
	}
	for id, data := range files {
		r := back.do("GET", "/encrypted-files/"+id, nil)
		if r.status != 200 || !bytes.Equal(r.body, data) {
			t.Fatalf("restored file %s: %d, %d bytes (want %d)", id, r.status, len(r.body), len(data))
		}
	}
	if r := back.post(t, box, text("after the restore")); r.status != 201 {
		t.Fatalf("the restored server does not take writes: %d %s", r.status, r.body)
	}
}

// TestBackupSaysWhatItCopied: on either engine the backup holds the key
// and the manifest; on PostgreSQL the database is PostgreSQL's to copy,
// and the command says how.
func TestBackupSaysWhatItCopied(t *testing.T) {
	sc := storeConfig(t)
	ts := startServer(t, sc)
	ts.user(t, "Ana")
	dir := filepath.Join(t.TempDir(), "backup")
	out := ts.mustCLI(t, "backup", dir)
	explains := strings.Contains(out, "pg_dump --format=custom") && strings.Contains(out, "pg_restore")
	if explains != (sc.Database != "") {
		t.Fatalf("backup on %s said %q", map[bool]string{true: "PostgreSQL", false: "SQLite"}[sc.Database != ""], out)
	}
	// The manifest's name is on disk in every backup made so far: restore
	// looks for it.
	for _, name := range []string{"secret.key", "BOXWIRE-BACKUP.txt"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("the backup lacks %s: %v", name, err)
		}
	}
	if manifest, _ := os.ReadFile(filepath.Join(dir, "BOXWIRE-BACKUP.txt")); !strings.Contains(string(manifest), "by boxwire "+version+"\n") {
		t.Fatalf("the manifest %q does not name the binary's version %s", manifest, version)
	}
	if _, err := os.Stat(filepath.Join(dir, "boxwire.db")); (err == nil) != (sc.Database == "") {
		t.Fatalf("boxwire.db in the backup: %v (database %q)", err, sc.Database)
	}
}
