package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	boxclient "github.com/boxwire/boxwire/client"
)

// profile is what `boxwire login` keeps in the user's config directory:
// the session, and the keys of the boxes this user can read. The secret
// keys never leave this file (mode 0600).
type profile struct {
	Server     string             `json:"server"`
	Token      string             `json:"token"`
	IdentityID string             `json:"identity_id"`
	Email      string             `json:"email"`
	Boxes      map[string]boxKeys `json:"boxes"`
	path       string
}

type boxKeys struct {
	PublicKey string `json:"public_key"`
	SecretKey string `json:"secret_key"`
	ShareOne  string `json:"share_one,omitempty"` // the link half, to print invitations again
}

// configDir is --config, BOXWIRE_CONFIG_DIR, or the OS's user config dir.
func configDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := env("CONFIG_DIR", ""); v != "" {
		return v, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (set --config or BOXWIRE_CONFIG_DIR): %w", err)
	}
	return filepath.Join(d, "boxwire"), nil
}

// signedIn is the profile `boxwire login` saved in the config directory
// (--config, or the default one).
func signedIn(configFlag string) (*profile, error) {
	dir, err := configDir(configFlag)
	if err != nil {
		return nil, err
	}
	return loadProfile(dir)
}

func loadProfile(dir string) (*profile, error) {
	p := &profile{path: filepath.Join(dir, "profile.json"), Boxes: map[string]boxKeys{}}
	b, err := os.ReadFile(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("not signed in: run boxwire login --server URL")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("%s: %w", p.path, err)
	}
	if p.Boxes == nil {
		p.Boxes = map[string]boxKeys{}
	}
	return p, nil
}

// save writes the profile atomically, readable by its owner only.
func (p *profile) save() error {
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	tmp := p.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p.path)
}

func (p *profile) client() *boxclient.Client {
	c := boxclient.New(p.Server)
	c.Token, c.App = p.Token, "boxwire-cli"
	return c
}

func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	server := fs.String("server", env("SERVER", ""), "server URL, e.g. http://127.0.0.1:8080 (env BOXWIRE_SERVER)")
	email := fs.String("email", env("EMAIL", ""), "your e-mail address (asked if missing)")
	config := fs.String("config", "", "config directory (env BOXWIRE_CONFIG_DIR)")
	if err := parse(fs, args, stderr); err != nil || helpAsked(args) {
		return err
	}
	if *server == "" {
		return errors.New("--server is required")
	}
	in := bufio.NewReader(os.Stdin)
	if *email == "" {
		fmt.Fprint(stderr, "E-mail: ")
		line, _ := in.ReadString('\n')
		*email = strings.TrimSpace(line)
	}
	password, err := readPassword(in, stderr)
	if err != nil {
		return err
	}
	c := boxclient.New(*server)
	c.App = "boxwire-cli"
	tok, err := c.Login(ctx, *email, password)
	if err != nil {
		return err
	}
	dir, err := configDir(*config)
	if err != nil {
		return err
	}
	p, err := loadProfile(dir)
	if err != nil || p.Server != c.BaseURL || !strings.EqualFold(p.Email, *email) {
		p = &profile{path: filepath.Join(dir, "profile.json"), Boxes: map[string]boxKeys{}} // keys belong to one account
	}
	p.Server, p.Token, p.Email = c.BaseURL, tok.AccessToken, strings.ToLower(*email)
	p.IdentityID, err = subjectOf(tok.AccessToken)
	if err != nil {
		return err
	}
	if err := p.save(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed in to %s as %s (token valid until %s)\n", p.Server, p.Email, tok.ExpiresAt.Local().Format("15:04"))
	return nil
}

// readPassword takes BOXWIRE_PASSWORD, or asks without echo on a terminal,
// or reads a line from piped standard input.
func readPassword(in *bufio.Reader, stderr io.Writer) (string, error) {
	if v := env("PASSWORD", ""); v != "" {
		return v, nil
	}
	fmt.Fprint(stderr, "Password: ")
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// subjectOf reads the identity id (sub) of a JWT the server just gave us;
// the server checks the signature on every call, so we need not.
func subjectOf(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("the server returned a malformed token")
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	b, err := base64URL(parts[1])
	if err == nil {
		err = json.Unmarshal(b, &claims)
	}
	if err != nil || claims.Sub == "" {
		return "", errors.New("the server returned a token without a subject")
	}
	return claims.Sub, nil
}
