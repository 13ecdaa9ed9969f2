package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/printable"
)

const tokenUsage = `usage: boxwire token create NAME    make an API token for an integration (printed once)
       boxwire token list           your API tokens: id, name, created, last used
       boxwire token revoke ID      end a token at once
An API token is a bearer token on every surface (boxes, messaging, the
Box-compatible stream) that lives until revoked; signed in as with boxwire login.`

// Token is `boxwire token …`: the signed-in person's API tokens.
func Token(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cmdline.GroupHelp(args, tokenUsage, stdout) {
		return nil
	}
	want := map[string]int{"create": 1, "list": 0, "revoke": 1}
	n, ok := want[first(args)]
	if !ok {
		fmt.Fprintln(stderr, tokenUsage)
		return cmdline.ErrUsage
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	config := fs.String("config", "", "config directory (env BOXWIRE_CONFIG_DIR)")
	fs.SetOutput(stderr)
	if cmdline.HelpAsked(args[1:]) {
		fmt.Fprintln(stdout, tokenUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	}
	if err := fs.Parse(interleave(args[1:])); err != nil {
		return cmdline.ErrUsage
	}
	if fs.NArg() != n {
		fmt.Fprintln(stderr, tokenUsage)
		return cmdline.ErrUsage
	}
	p, err := signedIn(ctx, *config)
	if err != nil {
		return err
	}
	c := p.client()
	switch args[0] {
	case "create":
		t, err := c.CreateAPIToken(ctx, fs.Arg(0))
		if err != nil {
			return p.explain(err)
		}
		fmt.Fprintf(stdout, "%s\n", t.Token)
		fmt.Fprintf(stderr, "API token %q (%s): copy it now, it is not shown again. Revoke it with: boxwire token revoke %s\n", printable.Escape(t.Name), t.ID, t.ID)
	case "list":
		list, err := c.APITokens(ctx)
		if err != nil {
			return p.explain(err)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED")
		for _, t := range list {
			used := "never"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, printable.Escape(t.Name), t.CreatedAt.Local().Format("2006-01-02 15:04"), used)
		}
		return w.Flush()
	case "revoke":
		if err := c.RevokeAPIToken(ctx, fs.Arg(0)); err != nil {
			return p.explain(err)
		}
		fmt.Fprintf(stdout, "revoked %s\n", printable.Escape(fs.Arg(0)))
	}
	return nil
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
