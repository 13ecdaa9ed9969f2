package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/store"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg StoreConfig
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg.flags(fs)
	if err := parse(fs, args, stderr); err != nil || helpAsked(args) {
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

// runUser is `boxwire user add`: it works on the same data as a running
// server (SQLite waits for the write lock; PostgreSQL is shared anyway).
func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: boxwire user add --email E --password P --name \"Display Name\" [--org NAME --role admin|agent]")
		return errUsage
	}
	var (
		cfg  StoreConfig
		u    auth.NewUser
		role string
	)
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	cfg.flags(fs)
	fs.StringVar(&u.Email, "email", "", "e-mail address, the login name")
	fs.StringVar(&u.Password, "password", "", "password (at least 8 characters)")
	fs.StringVar(&u.Name, "name", "", "display name")
	fs.StringVar(&u.Org, "org", "", "organisation to add the user to (created if new)")
	fs.StringVar(&role, "role", "", "role in --org: admin or agent (default agent)")
	if err := parse(fs, args[1:], stderr); err != nil || helpAsked(args) {
		return err
	}
	u.Role = identity.Role(role)
	if err := cfg.Validate(); err != nil {
		return err
	}
	s, err := cfg.Open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	who, err := auth.CreateUser(ctx, s, u)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "created user %s <%s> id %s", who.DisplayName, who.IdentifierValue, who.ID)
	if u.Org != "" {
		fmt.Fprintf(stdout, " in %s as %s", u.Org, u.Role)
	}
	fmt.Fprintln(stdout)
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
