package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// storedBytes is everything the server keeps: for SQLite every file of the
// data directory (database, WAL, blobs); for PostgreSQL every row of every
// table of the test's schema, plus the blobs.
func storedBytes(t *testing.T, sc StoreConfig) []byte {
	t.Helper()
	var all bytes.Buffer
	filepath.Walk(sc.Data, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(path)
			all.Write(b)
		}
		return nil
	})
	if sc.Database == "" {
		return all.Bytes()
	}
	db, err := sql.Open("pgx", sc.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		var text sql.NullString
		if err := db.QueryRow(`SELECT string_agg(t::text, ' ') FROM ` + table + ` t`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		all.WriteString(text.String)
	}
	return all.Bytes()
}

// TestTwoPeopleTalkFromTwoTerminals drives the people's CLI as two users
// would, each with their own config directory, and then searches what the
// server stored for any of the plaintexts.
func TestTwoPeopleTalkFromTwoTerminals(t *testing.T) {
	sc := storeConfig(t)
	ts := startServer(t, sc)
	ts.cli(t, "user", "add", "--email", "ana@example.com", "--password", "ana-password", "--name", "Ana")
	ts.cli(t, "user", "add", "--email", "ben@example.com", "--password", "ben-password", "--name", "Ben")
	anaDir, benDir := t.TempDir(), t.TempDir()
	secret := func(label string) string {
		b := make([]byte, 8)
		rand.Read(b)
		return label + "-" + hex.EncodeToString(b)
	}
	run := func(dir, password string, args ...string) string {
		t.Helper()
		t.Setenv("BOXWIRE_PASSWORD", password)
		var out bytes.Buffer
		if code := Main(context.Background(), append(args, "--config", dir), &out, &out); code != 0 {
			t.Fatalf("boxwire %v: exit %d\n%s", args, code, out.String())
		}
		return out.String()
	}
	run(anaDir, "ana-password", "login", "--server", ts.URL(), "--email", "ana@example.com")
	run(benDir, "ben-password", "login", "--server", ts.URL(), "--email", "ben@example.com")
	if info, err := os.Stat(filepath.Join(anaDir, "session.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the session must be private: %v %v", info.Mode(), err)
	}

	title := secret("title")
	out := run(anaDir, "", "box", "create", "--title", title, "--public")
	boxID := regexp.MustCompile(`[0-9a-f-]{36}`).FindString(out)
	link := regexp.MustCompile(`invitation link: (\S+)`).FindStringSubmatch(out)
	if boxID == "" || link == nil || !strings.Contains(link[1], "#") {
		t.Fatalf("box create printed %q", out)
	}
	if again := strings.TrimSpace(run(anaDir, "", "box", "invite", boxID)); again != link[1] {
		t.Fatalf("box invite printed %q, want the creation link %q", again, link[1])
	}
	if out := run(benDir, "", "box", "join", link[1]); !strings.Contains(out, "joined box") {
		t.Fatalf("box join printed %q", out)
	}
	hello, reply := secret("hello"), secret("reply")
	run(anaDir, "", "box", "send", boxID, hello)
	run(benDir, "", "box", "send", boxID, reply)
	fileText := secret("file-contents") + strings.Repeat(" and more", 20000)
	path := filepath.Join(t.TempDir(), "plans.txt")
	os.WriteFile(path, []byte(fileText), 0o600)
	if out := run(anaDir, "", "box", "send-file", boxID, path); !strings.Contains(out, "sent plans.txt") || !strings.Contains(out, "100%") {
		t.Fatalf("send-file printed %q, want the progress bar and a confirmation", out)
	}

	saved := t.TempDir()
	benSees := run(benDir, "", "box", "read", boxID, "--files", saved)
	for _, want := range []string{"Ana: created the box", "Ben: joined", "Ana: " + hello, "Ben: " + reply, "Ana: sent file plans.txt"} {
		if !strings.Contains(benSees, want) {
			t.Fatalf("ben reads:\n%s\nwant a line with %q", benSees, want)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(saved, "plans.txt")); string(got) != fileText {
		t.Fatalf("ben saved %d bytes, want the %d sent", len(got), len(fileText))
	}
	if anaSees := run(anaDir, "", "box", "read", boxID); !strings.Contains(anaSees, "Ben: "+reply) {
		t.Fatalf("ana reads:\n%s", anaSees)
	}
	if listed := run(benDir, "", "box", "list"); !strings.Contains(listed, boxID) || !strings.Contains(listed, title) || strings.Contains(listed, "(admin)") {
		t.Fatalf("ben's box list:\n%s", listed)
	}
	if listed := run(anaDir, "", "box", "list"); !strings.Contains(listed, title+"  (admin)") || !strings.Contains(listed, "  0 unread") {
		t.Fatalf("ana's box list (she has read everything):\n%s", listed)
	}

	// A third person without the link has no key and no access.
	ts.cli(t, "user", "add", "--email", "eve@example.com", "--password", "eve-password", "--name", "Eve")
	eveDir := t.TempDir()
	run(eveDir, "eve-password", "login", "--server", ts.URL(), "--email", "eve@example.com")
	t.Setenv("BOXWIRE_PASSWORD", "")
	var eveOut bytes.Buffer
	if code := Main(context.Background(), []string{"box", "read", boxID, "--config", eveDir}, &eveOut, &eveOut); code == 0 {
		t.Fatalf("eve read a box she holds no key for: %s", eveOut.String())
	}

	stored := storedBytes(t, sc)
	for _, plain := range []string{hello, reply, fileText[:40]} {
		if bytes.Contains(stored, []byte(plain)) {
			t.Fatalf("the server stored the plaintext %q", plain)
		}
	}
	if !bytes.Contains(stored, []byte(title)) {
		t.Fatal("the search found not even the (plaintext) title: it searched the wrong place")
	}
}
