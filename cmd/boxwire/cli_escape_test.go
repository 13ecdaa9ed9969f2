package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestTheCLIEscapesTextFromTheServer: what others write (an end-to-end
// encrypted message the server cannot vet, a message an integration
// posted) reaches the terminal with its control characters escaped, so
// it cannot clear the screen, retitle the window or overwrite a line.
func TestTheCLIEscapesTextFromTheServer(t *testing.T) {
	ts := startServer(t, storeConfig(t))
	ts.cli(t, "user", "add", "--email", "ana@example.com", "--password", "ana-password", "--name", "Ana", "--org", "acme", "--role", "admin")
	ts.cli(t, "user", "add", "--email", "ben@example.com", "--password", "ben-password", "--name", "Ben")
	anaDir, benDir := t.TempDir(), t.TempDir()
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
	out := run(anaDir, "", "box", "create", "--title", "Plans", "--public")
	boxID := regexp.MustCompile(`[0-9a-f-]{36}`).FindString(out)
	link := regexp.MustCompile(`invitation link: (\S+)`).FindStringSubmatch(out)
	run(benDir, "", "box", "join", link[1])

	hostile := "\x1b]0;owned\x07\x1b[2Jhello\rfake\u009b31m\x7f"
	run(benDir, "", "box", "send", boxID, hostile)
	anaSees := run(anaDir, "", "box", "read", boxID)
	if strings.ContainsAny(anaSees, "\x1b\x07\r\x7f\u009b") {
		t.Fatalf("box read printed raw control characters: %q", anaSees)
	}
	if want := `Ben: \u001b]0;owned\u0007\u001b[2Jhello\u000dfake\u009b31m\u007f`; !strings.Contains(anaSees, want) {
		t.Fatalf("box read printed %q, want a line with %q", anaSees, want)
	}
	if list := run(anaDir, "", "box", "list"); !strings.Contains(list, "Plans") {
		t.Fatalf("box list: %q", list)
	}

	// JSON escapes C0 controls, not DEL or C1 (CSI): `boxwire api` does.
	acc := run(anaDir, "", "api", "POST", "/apiaccount", `{"name":"Lettings","phoneNumber":"+447902111100","channel":"sandbox"}`)
	var a map[string]any
	if err := json.Unmarshal([]byte(acc), &a); err != nil {
		t.Fatalf("api POST /apiaccount printed %q: %v", acc, err)
	}
	run(anaDir, "", "api", "POST", "/apiaccount/"+a["apiAccountId"].(string)+"/sandbox/inbound",
		`{"mobileNumber":"+447902111123","message":"red\u009b31m\u007f"}`)
	msgs := run(anaDir, "", "api", "GET", "/message")
	if strings.ContainsAny(msgs, "\u009b\x7f") || !strings.Contains(msgs, `red\u009b31m\u007f`) {
		t.Fatalf("api GET /message printed %q", msgs)
	}
	var page map[string]any
	if err := json.Unmarshal([]byte(msgs), &page); err != nil {
		t.Fatalf("the escaped answer is no longer JSON: %v", err)
	}
}
