package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/boxwire/boxwire/internal/atrest"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/postgres"
	"github.com/boxwire/boxwire/internal/store/sqlite"
)

// StoreConfig says where the data lives.
type StoreConfig struct {
	Data     string // data directory: the SQLite file, the encrypted files
	Database string // "" for SQLite in Data, or a postgres:// URL
	// SecretKeyFile holds the key that seals the secrets kept in the
	// database; "" is Data/secret.key, made on first start.
	SecretKeyFile string
}

// Flags defines --data, --database and --secret-key-file into c.
func (c *StoreConfig) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", Env("DATA", "./boxwire-data"), "data directory (env BOXWIRE_DATA)")
	fs.StringVar(&c.Database, "database", Env("DATABASE", ""), "empty for SQLite in the data directory, or postgres://… (env BOXWIRE_DATABASE)")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", Env("SECRET_KEY_FILE", ""), "key sealing the secrets stored in the database (make one with: boxwire secret-key); default DATA/secret.key, created on first start; every node of a cluster needs the same (env BOXWIRE_SECRET_KEY_FILE)")
}

// Validate checks the store configuration.
func (c *StoreConfig) Validate() error {
	if c.Data == "" {
		return errors.New("--data must not be empty")
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return fmt.Errorf("--database must be empty (SQLite) or a postgres:// URL")
	}
	return nil
}

// Open opens the configured store with its secret key, creating and
// migrating it.
func (c *StoreConfig) Open(ctx context.Context, opts store.Options) (*store.Store, error) {
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return nil, err
	}
	path, made, err := c.secretKey(&opts)
	if err != nil {
		return nil, err
	}
	var s *store.Store
	if c.Database != "" {
		s, err = postgres.Open(ctx, c.Database, opts)
	} else {
		s, err = sqlite.Open(ctx, filepath.Join(c.Data, "boxwire.db"), opts)
	}
	if errors.Is(err, store.ErrWrongKey) {
		if made {
			// Keep no key that opens nothing: the next start would
			// find it and report a wrong key instead of a missing one.
			os.Remove(path)
			return nil, fmt.Errorf("this database's secrets are sealed with a key, and there was none at %s: give that key with --secret-key-file (every node of a cluster needs the same one)", path)
		}
		return nil, fmt.Errorf("the secret key in %s is not the one this database's secrets are sealed with: give that key with --secret-key-file (every node of a cluster needs the same one)", path)
	}
	return s, err
}

// secretKey loads the key into opts, or makes one at the default path
// (made reports that). A key file given explicitly must exist: making a
// new one there would only hide a mistyped path.
func (c *StoreConfig) secretKey(opts *store.Options) (path string, made bool, err error) {
	path, _, _ = c.SecretKeyPath()
	text, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && c.SecretKeyFile == "" {
		text, made, err = makeKeyFile(path)
	}
	if err != nil {
		return path, made, fmt.Errorf("--secret-key-file: %w (make a key with: boxwire secret-key --out FILE)", err)
	}
	if opts.SecretKey, err = atrest.ParseKey(text); err != nil {
		return path, made, fmt.Errorf("--secret-key-file %s: %w", path, err)
	}
	return path, made, nil
}

// SecretKeyPath is where the secret key is read from; given reports
// that --secret-key-file named it.
func (c *StoreConfig) SecretKeyPath() (path string, given bool, err error) {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile, true, nil
	}
	return filepath.Join(c.Data, "secret.key"), false, nil
}

// makeKeyFile writes a new key readable by its owner only. It appears
// whole (written aside, then linked into place), and of processes starting
// together one makes it and the others read it.
func makeKeyFile(path string) ([]byte, bool, error) {
	text := atrest.GenerateKey()
	f, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(f.Name())
	if err = f.Chmod(0o600); err == nil {
		if _, err = f.Write(text); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		text, err = os.ReadFile(path)
		return text, false, err
	}
	return text, err == nil, err
}
