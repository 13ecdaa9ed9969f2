package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestAdminWritesFromTheCLI: an org admin signed in with `boxwire login`
// makes the messaging admin writes with `boxwire api`; an agent's attempt
// fails with the API's 403, and nothing is created.
func TestAdminWritesFromTheCLI(t *testing.T) {
	a := setUpAcme(t)
	adminDir, agentDir := t.TempDir(), t.TempDir()
	run := func(dir, password string, args ...string) (string, string, int) {
		t.Helper()
		t.Setenv("BOXWIRE_PASSWORD", password)
		var out, errOut bytes.Buffer
		code := Main(context.Background(), append(args, "--config", dir), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	if _, e, code := run(adminDir, "correct horse", "login", "--server", a.ts.URL(), "--email", "ada@acme.test"); code != 0 {
		t.Fatalf("admin login: %s", e)
	}
	if _, e, code := run(agentDir, "battery staple", "login", "--server", a.ts.URL(), "--email", "bob@acme.test"); code != 0 {
		t.Fatalf("agent login: %s", e)
	}
	out, e, code := run(adminDir, "", "api", "POST", "/apiaccount", `{"name":"Support","phoneNumber":"+447902111177","channel":"sandbox"}`)
	var acc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &acc) != nil || acc["phoneNumber"] != "+447902111177" {
		t.Fatalf("boxwire api POST /apiaccount: exit %d, %s %s", code, out, e)
	}
	_, e, code = run(agentDir, "", "api", "post", "/apiaccount", `{"name":"Mine","phoneNumber":"+447902111178","channel":"sandbox"}`)
	if code == 0 || !strings.Contains(e, "403") {
		t.Fatalf("an agent's admin write: exit %d, %s", code, e)
	}
	_, e, code = run(adminDir, "", "api", "POST", "/apiaccount", `{"name":"Bad","phoneNumber":"12","channel":"sandbox"}`)
	if code == 0 || !strings.Contains(e, "phoneNumber") {
		t.Fatalf("a bad admin write: exit %d, %s", code, e)
	}
	if got := len(a.admin.items("/apiaccount")); got != 3 {
		t.Fatalf("%d API accounts, want 3 (2 + the CLI's)", got)
	}
	if _, e, code := run(adminDir, "", "api", "GET"); code != 1 || !strings.Contains(e, "usage: boxwire api") {
		t.Fatalf("usage error: exit %d", code)
	}
}
