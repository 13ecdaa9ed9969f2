// Package operator is the operator's commands on a server's data (boxwire
// migrate, user, org, backup, restore): they run on the server's machine,
// with the --data (or --database) the server uses, while it runs.
package operator

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/blob"
	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/printable"
	"github.com/boxwire/boxwire/internal/store"
)

// openStore opens the data of a server that has run. A command run in the
// wrong directory must say so, not create an empty database there and
// report success.
func openStore(ctx context.Context, cfg cmdline.StoreConfig) (*store.Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Database == "" {
		if _, err := os.Stat(filepath.Join(cfg.Data, "boxwire.db")); errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(cfg.Data)
			return nil, fmt.Errorf("no Boxwire database in %s: give the --data (or --database) your server uses, or make one there on purpose (boxwire migrate --data %s)", abs, cfg.Data)
		}
	}
	return cfg.Open(ctx, store.Options{})
}

// identityFlags are a user command's flags: the data and the address.
func identityFlags(name string, email *string) (*flag.FlagSet, *cmdline.StoreConfig) {
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg.Flags(fs)
	fs.StringVar(email, "email", "", "the user's e-mail address")
	return fs, &cfg
}

// runUserList is `boxwire user list [--org ORG]`.
func runUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	cfg.Flags(fs)
	org := fs.String("org", "", "only the members of this organisation (name or id)")
	if err := cmdline.Parse(fs, args, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	orgID := ""
	if *org != "" {
		if orgID, err = s.OrgID(ctx, *org); err != nil {
			return cliError(err)
		}
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tNAME\tSTATE\tORGANISATIONS\tID")
	n := 0
	err = s.EachIdentity(ctx, orgID, func(i store.IdentityListing) error {
		n++
		var orgs []string
		for _, m := range i.Orgs {
			orgs = append(orgs, m.OrgName+" ("+string(m.Role)+")")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", printable.Escape(i.IdentifierValue), printable.Escape(i.DisplayName),
			identityState(i.Identity), printable.Escape(strings.Join(orgs, ", ")), i.ID)
		return nil
	})
	w.Flush()
	if err == nil && n == 0 {
		fmt.Fprintln(stderr, "no users yet: boxwire user add --email E --password P --name N")
	}
	return err
}

func identityState(i identity.Identity) string {
	switch {
	case i.Disabled():
		return "disabled"
	case i.Verified():
		return "verified"
	}
	return "unverified"
}

// runUserChange is `boxwire user passwd|disable|enable|delete --email E`.
func runUserChange(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var email, password string
	fs, cfg := identityFlags("user "+args[0], &email)
	if args[0] == "passwd" {
		fs.StringVar(&password, "password", "", "the new password (default: BOXWIRE_PASSWORD, or asked)")
	}
	yes := false
	if args[0] == "delete" {
		fs.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	}
	if err := cmdline.Parse(fs, args[1:], stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if email == "" {
		return errors.New("--email is required")
	}
	in := bufio.NewReader(os.Stdin)
	if args[0] == "passwd" && password == "" {
		var err error
		if password, err = cmdline.ReadPassword(in, stderr); err != nil {
			return err
		}
	}
	if args[0] == "delete" && !yes {
		fmt.Fprintf(stderr, "Delete %s? Their sign-in, name and memberships go; what they wrote stays, signed \"Deleted user\". Type yes: ", printable.Escape(email))
		line, _ := in.ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			return errors.New("not deleted")
		}
	}
	s, err := openStore(ctx, *cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	var who identity.Identity
	done := map[string]string{"passwd": "has a new password; their sessions ended", "disable": "is disabled; their sessions ended",
		"enable": "can sign in again", "delete": "is deleted"}[args[0]]
	switch args[0] {
	case "passwd":
		who, err = auth.SetPassword(ctx, s, email, password)
	case "disable", "enable":
		who, err = auth.SetDisabled(ctx, s, email, args[0] == "disable")
	case "delete":
		who, err = auth.Erase(ctx, s, email)
	}
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "%s (%s) %s\n", printable.Escape(strings.ToLower(email)), who.ID, done)
	return nil
}

// runOrgList is `boxwire org list`.
func runOrgList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet("org list", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := cmdline.Parse(fs, args, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	orgs, err := s.Orgs(ctx)
	if err != nil {
		return err
	}
	if len(orgs) == 0 {
		fmt.Fprintln(stderr, "no organisations yet: boxwire org create NAME")
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tADMINS\tAGENTS\tCREATED\tID")
	for _, o := range orgs {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\n", printable.Escape(o.Name), o.Admins, o.Agents, o.CreatedAt.Local().Format("2006-01-02"), o.ID)
	}
	return w.Flush()
}

// runOrgCreate is `boxwire org create NAME`.
func runOrgCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	pos, rest := leading(args)
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet("org create", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := cmdline.Parse(fs, rest, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: boxwire org create NAME")
	}
	name, err := identity.DisplayName("name", pos[0])
	if err != nil {
		return cliError(err)
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	var id string
	err = s.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		id, err = tx.CreateOrg(ctx, name)
		return err
	})
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(stdout, "created organisation %s: %s\nadd its first admin: boxwire user add --org %q --role admin --email E --password P --name N\n", printable.Escape(name), id, name)
	return nil
}

// backupName is the manifest a backup directory holds; restore needs it.
const backupName = "BOXWIRE-BACKUP.txt"

// Backup is `boxwire backup DIR`: a consistent copy of a running
// server's data. SQLite: VACUUM INTO, plus every other file of the data
// directory (the blobs, the secret key). The blobs are copied before and
// after the database, so each file the copied database refers to is in
// the backup (a file is stored before the row naming it commits); a file
// deleted meanwhile makes the copy start again. The manifest records
// built, the version of the binary that made the backup.
func Backup(ctx context.Context, built string, args []string, stdout, stderr io.Writer) error {
	pos, rest := leading(args)
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	cfg.Flags(fs)
	blobs := fs.String("blobs", cmdline.Env("BLOBS", ""), "the server's --blobs, if it keeps files in S3 (they are not copied)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: boxwire backup DIR [--data D | --database URL]\n  copy a running server's data into the new directory DIR\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := cmdline.Parse(fs, rest, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: boxwire backup DIR")
	}
	dir := pos[0]
	if err := emptyDir(dir); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	key, _, err := cfg.SecretKeyPath()
	if err != nil {
		return err
	}
	files, err := snapshot(ctx, s, cfg, dir)
	if err != nil {
		return err
	}
	if err := copyFile(key, filepath.Join(dir, "secret.key")); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("copy the secret key: %w", err) // (in the data directory, it is copied already)
	}
	manifest := fmt.Sprintf("Boxwire backup of %s, %s, by boxwire %s\n", s.Description(), time.Now().UTC().Format(time.RFC3339), built)
	if err := cmdline.WriteFileAtomic(filepath.Join(dir, backupName), []byte(manifest)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s and %d files into %s\n", s.Description(), files, dir)
	fmt.Fprintln(stdout, "secret.key is in the backup: keep it as safe as the server's own.")
	if cfg.Database != "" {
		fmt.Fprintf(stdout, "The database itself is PostgreSQL's: copy it with\n  pg_dump --format=custom --file %s '%s'\nand bring it back with pg_restore --clean --dbname URL.\n",
			filepath.Join(dir, "boxwire.pgdump"), cfg.Database)
	}
	if *blobs != "" {
		fmt.Fprintf(stdout, "Files kept in %s are not copied: back up the bucket with your object store's tools (versioning or replication).\n", *blobs)
	}
	return nil
}

// snapshot copies the database (SQLite) and the data directory's other
// files into dir, and reports how many files it copied.
func snapshot(ctx context.Context, s *store.Store, cfg cmdline.StoreConfig, dir string) (int, error) {
	for attempt := 0; attempt < 5; attempt++ {
		n, err := copyTree(cfg.Data, dir, true)
		if err != nil || cfg.Database != "" {
			return n, err
		}
		db := filepath.Join(dir, "boxwire.db")
		os.Remove(db)
		if err := s.SnapshotInto(ctx, db); err != nil {
			return n, err
		}
		more, err := copyTree(cfg.Data, dir, true)
		if err != nil {
			return n, err
		}
		missing, err := missingFiles(ctx, dir)
		if err != nil || missing == 0 {
			return n + more, err
		}
	}
	return 0, errors.New("files kept disappearing while they were copied: try again when the server is quieter")
}

// missingFiles counts the files the copied database names that the copy
// lacks (deleted between the two passes).
func missingFiles(ctx context.Context, dir string) (int, error) {
	copied, err := (&cmdline.StoreConfig{Data: dir, SecretKeyFile: filepath.Join(dir, "secret.key")}).Open(ctx, store.Options{})
	if err != nil {
		return 0, err
	}
	defer copied.Close()
	blobs, err := blob.Open(filepath.Join(dir, "files"))
	if err != nil {
		return 0, err
	}
	n := 0
	err = copied.EachFileID(ctx, func(id string) error {
		if !blobs.Exists(id) {
			n++
		}
		return nil
	})
	return n, err
}

// Restore is `boxwire restore BACKUP --data NEWDIR`.
func Restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	pos, rest := leading(args)
	var cfg cmdline.StoreConfig
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	cfg.Flags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: boxwire restore BACKUP --data NEWDIR\n  bring a backup back into a new data directory\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := cmdline.Parse(fs, rest, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: boxwire restore BACKUP --data NEWDIR")
	}
	if _, err := os.Stat(filepath.Join(pos[0], backupName)); err != nil {
		return fmt.Errorf("%s is not a Boxwire backup (no %s in it)", pos[0], backupName)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := emptyDir(cfg.Data); err != nil {
		return fmt.Errorf("restore into a new directory: %w", err)
	}
	n, err := copyTree(pos[0], cfg.Data, false)
	if err != nil {
		return err
	}
	os.Remove(filepath.Join(cfg.Data, backupName))
	if cfg.Database != "" {
		fmt.Fprintf(stdout, "restored %d files into %s; bring the database back with pg_restore --clean --dbname '%s' %s\n",
			n, cfg.Data, cfg.Database, filepath.Join(pos[0], "boxwire.pgdump"))
		return nil
	}
	s, err := cfg.Open(ctx, store.Options{})
	if err != nil {
		return fmt.Errorf("the restored database does not open: %w", err)
	}
	defer s.Close()
	fmt.Fprintf(stdout, "restored %s and %d files; start the server with --data %s\n", s.Description(), n, cfg.Data)
	return nil
}

// emptyDir makes dir, refusing one that holds anything.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: give a new directory", dir)
	}
	return os.MkdirAll(dir, 0o700)
}

// copyTree copies the regular files under from into to, but unfinished
// uploads (tmp/), files already copied and, from a live data directory
// (live), the SQLite files, which VACUUM INTO copies; it reports how many
// it copied.
func copyTree(from, to string, live bool) (int, error) {
	n := 0
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			if d.Name() == "tmp" {
				return filepath.SkipDir
			}
			return nil
		}
		if (live && strings.HasPrefix(d.Name(), "boxwire.db")) || strings.HasPrefix(d.Name(), ".") || !d.Type().IsRegular() {
			return nil
		}
		target := filepath.Join(to, rel)
		if _, err := os.Stat(target); err == nil {
			return nil
		}
		if err := copyFile(path, target); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted meanwhile
			}
			return err
		}
		n++
		return nil
	})
	return n, err
}

// copyFile copies one file, readable by its owner only, synced.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err = io.Copy(out, in); err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(to)
	}
	return err
}
