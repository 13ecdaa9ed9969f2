package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/boxwire/boxwire/internal/atrest"
	"github.com/boxwire/boxwire/internal/cmdline"
)

// runSecretKey is `boxwire secret-key [--out FILE]`: it makes a key for
// --secret-key-file, to give every node of a cluster the same one.
func runSecretKey(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	fset := flag.NewFlagSet("secret-key", flag.ContinueOnError)
	fset.StringVar(&out, "out", "", "write the key to this new file (mode 0600) instead of standard output")
	if err := cmdline.Parse(fset, args, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	key := atrest.GenerateKey()
	if out == "" {
		_, err := stdout.Write(key)
		return err
	}
	// Never overwrite: replacing a key loses every secret sealed with it.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("--out %s exists; a key is never overwritten (the secrets sealed with it would be lost)", out)
	}
	if err != nil {
		return err
	}
	if _, err = f.Write(key); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintf(stdout, "secret key written to %s; give it to every node with --secret-key-file\n", out)
	}
	return err
}
