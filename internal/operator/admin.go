package operator

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/printable"
	"github.com/boxwire/boxwire/internal/store"
)

// Migrate is `boxwire migrate`: it creates or upgrades the database schema.
func Migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := cmdline.Parse(fs, args, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	s, err := cfg.Open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: schema at version %d\n", s.Description(), v)
	return nil
}

const userUsage = `usage: boxwire user add --email E --password P --name "Display Name" [--org NAME --role admin|agent]
       boxwire user list [--org NAME]     every user: address, name, state, organisations
       boxwire user passwd --email E      set a new password (asked, or --password); their sessions end
       boxwire user disable --email E     they cannot sign in; their sessions end (enable: undo)
       boxwire user delete --email E      erase their account; what they wrote stays, as "Deleted user"
       boxwire user verify --email E      vouch for an address (its owner proved it to you)
       boxwire user unverify --email E    take that back: the address matches no box access rule
Every command takes the server's --data (or --database).`

// User is `boxwire user …`: it works on the same data as a running
// server (SQLite waits for the write lock; PostgreSQL is shared anyway).
func User(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cmdline.GroupHelp(args, userUsage, stdout) {
		return nil
	}
	if len(args) > 0 {
		switch args[0] {
		case "verify", "unverify":
			return runUserVerify(ctx, args, stdout, stderr)
		case "list":
			return runUserList(ctx, args[1:], stdout, stderr)
		case "passwd", "disable", "enable", "delete":
			return runUserChange(ctx, args, stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, userUsage)
		return cmdline.ErrUsage
	}
	var (
		cfg  cmdline.StoreConfig
		u    auth.NewUser
		role string
	)
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	cfg.Flags(fs)
	fs.StringVar(&u.Email, "email", "", "e-mail address, the login name")
	fs.StringVar(&u.Password, "password", "", "password (at least 8 characters)")
	fs.StringVar(&u.Name, "name", "", "display name")
	fs.StringVar(&u.Org, "org", "", "organisation to add the user to (created if new)")
	fs.StringVar(&role, "role", "", "role in --org: admin or agent (default agent)")
	if err := cmdline.Parse(fs, args[1:], stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	u.Role = identity.Role(role)
	u.Verified = true // the operator vouches for the addresses it adds
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	who, err := auth.CreateUser(ctx, s, u)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "created user %s <%s> id %s", printable.Escape(who.DisplayName), printable.Escape(who.IdentifierValue), who.ID)
	if u.Org != "" {
		fmt.Fprintf(stdout, " in %s as %s", u.Org, u.Role)
	}
	fmt.Fprintf(stdout, "\nwritten to %s\n", s.Description())
	return nil
}

// cliError phrases a domain error for a terminal: flags, not body fields.
func cliError(err error) error {
	e := errs.As(err)
	if e.Code == errs.Internal {
		return err
	}
	for field := range e.Fields {
		if field == "identifier_value" {
			field = "email"
		}
		return fmt.Errorf("--%s: %s", field, e.Message)
	}
	return fmt.Errorf("%s", e.Message)
}

// runUserVerify is `boxwire user verify|unverify --email E`.
func runUserVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		cfg   cmdline.StoreConfig
		email string
	)
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	cfg.Flags(fs)
	fs.StringVar(&email, "email", "", "the identity's e-mail address")
	if err := cmdline.Parse(fs, args[1:], stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	who, err := auth.SetVerified(ctx, s, email, args[0] == "verify")
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "%s <%s>: address %sverified\n", printable.Escape(who.DisplayName), printable.Escape(who.IdentifierValue), map[bool]string{true: "", false: "no longer "}[args[0] == "verify"])
	return nil
}

const orgUsage = `usage: boxwire org list                          every organisation, with its admins and agents
       boxwire org create NAME                   a new organisation (then: boxwire user add --org NAME --role admin)
       boxwire org domain add ORG DOMAIN      the org's admins may create verified users at DOMAIN
       boxwire org domain remove ORG DOMAIN
       boxwire org domain list ORG
ORG is the organisation's name or id.`

// Org is `boxwire org domain add|remove|list`: the operator grants an
// organisation the addresses of a domain it owns.
func Org(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cmdline.GroupHelp(args, orgUsage, stdout) {
		return nil
	}
	if len(args) > 0 && args[0] == "list" {
		return runOrgList(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "create" {
		return runOrgCreate(ctx, args[1:], stdout, stderr)
	}
	want := map[string]int{"add": 2, "remove": 2, "list": 1}
	if len(args) < 2 || args[0] != "domain" || want[args[1]] == 0 {
		fmt.Fprintln(stderr, orgUsage)
		return cmdline.ErrUsage
	}
	op, n := args[1], want[args[1]]
	pos, rest := leading(args[2:])
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet("org domain "+op, flag.ContinueOnError)
	cfg.Flags(fs)
	if err := cmdline.Parse(fs, rest, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if len(pos) != n {
		fmt.Fprintln(stderr, orgUsage)
		return cmdline.ErrUsage
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	org, err := s.OrgID(ctx, pos[0])
	if err != nil {
		return cliError(err)
	}
	if op == "list" {
		domains, err := s.OrgDomains(ctx, org)
		for _, d := range domains {
			fmt.Fprintln(stdout, d)
		}
		return err
	}
	domain, err := auth.GrantDomain(ctx, s, org, pos[1], op == "add")
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "%s: %s %s\n", pos[0], map[bool]string{true: "granted", false: "no longer granted"}[op == "add"], domain)
	return nil
}

// leading splits args into the positional arguments before the first
// flag and the rest.
func leading(args []string) (pos, rest []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			return args[:i], args[i:]
		}
	}
	return args, nil
}
