package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/printable"
)

const apiUsage = `usage: boxwire api METHOD PATH [JSON | -]
  Calls the server's API as the user of "boxwire login" and prints the answer.
  Org admins make the messaging admin writes this way, e.g.
    boxwire api POST /apiaccount '{"name":"Lettings","phoneNumber":"+447902111100","channel":"sandbox"}'
    boxwire api PUT /template/ID '{"status":"Approved"}'
  "-" reads the JSON body from standard input.`

// API is `boxwire api`: any call of the API with the saved sign-in, so
// everything the API lets an admin do can be done from a terminal too.
// A non-2xx answer is printed to stderr and makes the command fail.
func API(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	config := fs.String("config", "", "config directory (env BOXWIRE_CONFIG_DIR)")
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", apiUsage); fs.PrintDefaults() }
	if cmdline.HelpAsked(args) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	if err := fs.Parse(interleave(args)); err != nil {
		return cmdline.ErrUsage
	}
	pos := fs.Args()
	if len(pos) < 2 || len(pos) > 3 || !strings.HasPrefix(pos[1], "/") {
		fmt.Fprintln(stderr, apiUsage)
		return cmdline.ErrUsage
	}
	p, err := signedIn(ctx, *config)
	if err != nil {
		return err
	}
	var body io.Reader
	if len(pos) == 3 {
		body = strings.NewReader(pos[2])
		if pos[2] == "-" {
			body = os.Stdin
		}
	}
	return callAPI(ctx, p, strings.ToUpper(pos[0]), pos[1], body, stdout, stderr)
}

func callAPI(ctx context.Context, p *profile, method, path string, body io.Reader, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var payload []byte
	if body != nil {
		var err error
		if payload, err = io.ReadAll(io.LimitReader(body, 64<<20)); err != nil {
			return err
		}
	}
	send := func() (*http.Response, error) {
		var in io.Reader
		if body != nil {
			in = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, p.Server+path, in)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+p.Token)
		req.Header.Set("X-Calling-Application", "boxwire-cli")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return http.DefaultClient.Do(req)
	}
	res, err := send()
	if err == nil && res.StatusCode == http.StatusUnauthorized {
		// The server's clock may end a session before ours does.
		res.Body.Close()
		if err := p.renew(ctx, true); err != nil {
			return err
		}
		res, err = send()
	}
	if err != nil {
		return humanError(p.Server, err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	if _, err := io.Copy(&out, io.LimitReader(res.Body, 64<<20)); err != nil {
		return err
	}
	if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	if res.StatusCode == http.StatusUnauthorized {
		return p.ended()
	}
	if res.StatusCode/100 != 2 {
		fmt.Fprintf(stderr, "%s %s: %s\n%s", method, path, printable.Escape(res.Status), printable.Escape(out.String()))
		return errors.New(printable.Escape(res.Status))
	}
	// JSON escapes C0 controls but not DEL or C1 (CSI), and a server
	// need not send JSON: what reaches the terminal is escaped.
	_, err = io.WriteString(stdout, printable.Escape(out.String()))
	return err
}
