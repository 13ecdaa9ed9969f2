// Command boxwire is the Boxwire messaging server and its command line.
//
//	boxwire serve                 run the server
//	boxwire migrate               create or upgrade the database schema
//	boxwire user add --email E --password P --name N [--org O --role admin|agent]
//
// Every flag has a BOXWIRE_* environment equivalent (--public-url is
// BOXWIRE_PUBLIC_URL); a flag given on the command line wins.
//
// This package parses the command line, dispatches, and wires the server
// (serve.go). The other commands live in their own packages: the people's
// CLI in internal/cli, the operator's in internal/operator, the load
// generators in internal/loadgen.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/boxwire/boxwire/internal/cli"
	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/loadgen"
	"github.com/boxwire/boxwire/internal/operator"
	"github.com/boxwire/boxwire/internal/printable"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Boxwire: a self-hosted messaging server.

Usage:
  boxwire serve    [--addr A] [--data DIR] [--database URL] [--public-url URL]
  boxwire migrate  [--data DIR] [--database URL]
  boxwire secret-key [--out FILE]                make a key for --secret-key-file
  boxwire user add --email E --password P --name "Display Name" [--org NAME --role admin|agent]
  boxwire user list|passwd|disable|enable|delete  manage users (boxwire user -h)
  boxwire user verify|unverify --email E        vouch for an address, or take that back
  boxwire org list|create NAME                  organisations
  boxwire org domain add|remove ORG DOMAIN      let ORG's admins create verified users at DOMAIN
  boxwire backup DIR                            copy a running server's data (SQLite + files + key)
  boxwire restore BACKUP --data NEWDIR          bring a backup back into a new directory
  boxwire login --server URL [--email E]        sign in; the token is kept in your config dir
  boxwire box list                              list your boxes (id, unread count, title)
  boxwire box create --title T                  create an end-to-end encrypted box
  boxwire box send BOX "text"                   send an encrypted message
  boxwire box send-file BOX PATH                send an encrypted file
  boxwire box read BOX                          print the conversation, decrypted
  boxwire box invite BOX [--email E]            print an invitation link (the key share is in its #fragment); --email gives E access
  boxwire box join LINK                         join a box from an invitation link
  boxwire token create|list|revoke              API tokens for integrations (long-lived, revocable)
  boxwire api METHOD PATH [JSON]                call the API as the signed-in user (messaging admin writes)
  boxwire bench append --server URL ...         measure durable event appends
  boxwire version

Run "boxwire COMMAND -h" for a command's flags.
`

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = operator.Migrate(ctx, args[1:], stdout, stderr)
	case "secret-key":
		err = runSecretKey(ctx, args[1:], stdout, stderr)
	case "user":
		err = operator.User(ctx, args[1:], stdout, stderr)
	case "org":
		err = operator.Org(ctx, args[1:], stdout, stderr)
	case "backup":
		err = operator.Backup(ctx, version, args[1:], stdout, stderr)
	case "restore":
		err = operator.Restore(ctx, args[1:], stdout, stderr)
	case "login":
		err = cli.Login(ctx, args[1:], stdout, stderr)
	case "box":
		err = cli.Box(ctx, args[1:], stdout, stderr)
	case "api":
		err = cli.API(ctx, args[1:], stdout, stderr)
	case "token":
		err = cli.Token(ctx, args[1:], stdout, stderr)
	case "bench":
		err = loadgen.Run(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "boxwire", versionString())
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "boxwire: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if err != cmdline.ErrUsage {
			// Errors can quote the server's answers: escaped.
			fmt.Fprintln(stderr, "boxwire:", printable.Escape(err.Error()))
		}
		return 1
	}
	return 0
}
