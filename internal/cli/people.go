// Package cli is the people's command line (boxwire login, box, token,
// api): a client of a Boxwire server over HTTP, through the public client
// package, that keeps its session and the box keys in the person's config
// directory and does all encryption on this machine.
package cli

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
	"time"

	boxclient "github.com/boxwire/boxwire/client"
	"github.com/boxwire/boxwire/internal/cmdline"
)

// profile is the person signed in on this machine: the session `boxwire
// login` keeps (session.json), and the keys of the boxes this identity can
// read on this server (keys/SERVER/IDENTITY/BOX.json). Keys are kept per
// server and identity and never removed by a login: a box key is
// unrecoverable without its invitation link. Every file is the owner's
// only (0600) and written whole.
type profile struct {
	session
	Boxes map[string]boxKeys // this identity's keys on this server
	dir   string
}

// session is session.json: who is signed in where, and the tokens.
type session struct {
	Server       string    `json:"server"`
	Email        string    `json:"email"`
	IdentityID   string    `json:"identity_id"`
	Token        string    `json:"token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
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
	if v := cmdline.Env("CONFIG_DIR", ""); v != "" {
		return v, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (set --config or BOXWIRE_CONFIG_DIR): %w", err)
	}
	return filepath.Join(d, "boxwire"), nil
}

// signedIn is the profile `boxwire login` saved in the config directory
// (--config, or the default one), with a session renewed if it was about
// to end.
func signedIn(ctx context.Context, configFlag string) (*profile, error) {
	dir, err := configDir(configFlag)
	if err != nil {
		return nil, err
	}
	p, err := loadProfile(dir)
	if err != nil {
		return nil, err
	}
	return p, p.renew(ctx, false)
}

func loadProfile(dir string) (*profile, error) {
	p := &profile{dir: dir}
	if err := migrateProfile(dir); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p.sessionPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("you are not signed in: run boxwire login --server URL")
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &p.session); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v): run boxwire login --server URL again; your box keys are kept apart", p.sessionPath(), err)
	}
	p.Boxes, err = readKeys(p.keysDir())
	return p, err
}

func (p *profile) sessionPath() string { return filepath.Join(p.dir, "session.json") }

// keysDir is where this identity's keys on this server live.
func (p *profile) keysDir() string {
	return filepath.Join(p.dir, "keys", serverDirName(p.Server), p.IdentityID)
}

// serverDirName turns a server URL into one safe directory name.
func serverDirName(server string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, strings.TrimSuffix(server, "/"))
}

// keep stores a box's keys, one file per box, so that no other write (a
// login, another command at the same time) can drop it.
func (p *profile) keep(boxID string, k boxKeys) error {
	b, _ := json.MarshalIndent(k, "", "  ")
	if err := cmdline.WriteFileAtomic(filepath.Join(p.keysDir(), boxID+".json"), b); err != nil {
		return fmt.Errorf("keep the key of box %s: %w", boxID, err)
	}
	p.Boxes[boxID] = k
	return nil
}

func readKeys(dir string) (map[string]boxKeys, error) {
	out := map[string]boxKeys{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var k boxKeys
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("the key file %s is damaged: %w", filepath.Join(dir, e.Name()), err)
		}
		out[id] = k
	}
	return out, nil
}

// saveSession writes session.json whole.
func (p *profile) saveSession() error {
	b, _ := json.MarshalIndent(p.session, "", "  ")
	return cmdline.WriteFileAtomic(p.sessionPath(), b)
}

// migrateProfile moves the single profile.json of earlier versions (one
// session and its keys) into session.json and the key directory.
func migrateProfile(dir string) error {
	old := filepath.Join(dir, "profile.json")
	b, err := os.ReadFile(old)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var v struct {
		session
		Boxes map[string]boxKeys `json:"boxes"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s: %w", old, err)
	}
	p := &profile{session: v.session, dir: dir, Boxes: map[string]boxKeys{}}
	for id, k := range v.Boxes {
		if err := p.keep(id, k); err != nil {
			return err
		}
	}
	if _, err := os.Stat(p.sessionPath()); errors.Is(err, os.ErrNotExist) {
		if err := p.saveSession(); err != nil {
			return err
		}
	}
	return os.Rename(old, old+".migrated")
}

// client calls the server as this profile, renewing the session when
// the server says it has ended (its clock may differ from ours).
func (p *profile) client() *boxclient.Client {
	c := boxclient.New(p.Server)
	c.Token, c.App = p.Token, "boxwire-cli"
	c.Renew = func(ctx context.Context) (string, error) {
		if err := p.renew(ctx, true); err != nil {
			return "", err
		}
		return p.Token, nil
	}
	return c
}

// renewBefore is how long before its end a session is renewed.
const renewBefore = 2 * time.Minute

// renew exchanges the refresh token for new tokens when the access token
// ends within renewBefore (or now, if force). The server rotates refresh
// tokens and ends a session whose old one is used again, so two commands
// run at once must not both renew: the lock makes the second one read
// what the first saved.
func (p *profile) renew(ctx context.Context, force bool) error {
	if p.RefreshToken == "" || (!force && (p.ExpiresAt.IsZero() || time.Until(p.ExpiresAt) > renewBefore)) {
		return nil
	}
	unlock, err := lockFile(filepath.Join(p.dir, "session.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	before := p.Token
	fresh, err := loadProfile(p.dir)
	if err == nil && fresh.Server == p.Server && fresh.IdentityID == p.IdentityID && fresh.Token != before {
		p.session = fresh.session // renewed by another command meanwhile
		return nil
	}
	c := p.client()
	tok, err := c.Refresh(ctx, p.RefreshToken)
	if err != nil {
		var e *boxclient.Error
		if errors.As(err, &e) && e.Status < 500 {
			return p.ended()
		}
		return humanError(p.Server, err)
	}
	p.Token, p.RefreshToken, p.ExpiresAt = tok.AccessToken, tok.RefreshToken, tok.ExpiresAt
	return p.saveSession()
}

// ended is the error of a session the server no longer accepts.
func (p *profile) ended() error {
	return fmt.Errorf("your session has ended: run boxwire login --server %s --email %s", p.Server, p.Email)
}

// lockFile takes a lock shared by the processes of this user (a file
// created exclusively), waiting up to 10 s; a lock older than 30 s is
// left from a killed process and taken over.
func lockFile(path string) (unlock func(), err error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if info, serr := os.Stat(path); serr == nil && time.Since(info.ModTime()) > 30*time.Second {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("another boxwire command holds %s; if none runs, remove that file", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Login is `boxwire login`: it signs in and keeps the session in the
// config directory, beside the keys of the boxes this identity reads.
func Login(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	server := fs.String("server", cmdline.Env("SERVER", ""), "server URL, e.g. http://127.0.0.1:8080 (env BOXWIRE_SERVER)")
	email := fs.String("email", cmdline.Env("EMAIL", ""), "your e-mail address (asked if missing)")
	config := fs.String("config", "", "config directory (env BOXWIRE_CONFIG_DIR)")
	if err := cmdline.Parse(fs, args, stderr); err != nil || cmdline.HelpAsked(args) {
		return err
	}
	if *server == "" {
		return errors.New("--server is required, e.g. --server http://127.0.0.1:8080")
	}
	in := bufio.NewReader(os.Stdin)
	if *email == "" {
		fmt.Fprint(stderr, "E-mail: ")
		line, _ := in.ReadString('\n')
		*email = strings.TrimSpace(line)
	}
	password, err := cmdline.ReadPassword(in, stderr)
	if err != nil {
		return err
	}
	c := boxclient.New(*server)
	c.App = "boxwire-cli"
	tok, err := c.Login(ctx, *email, password)
	if err != nil {
		return loginError(c.BaseURL, err)
	}
	dir, err := configDir(*config)
	if err != nil {
		return err
	}
	if err := migrateProfile(dir); err != nil {
		return err
	}
	p := &profile{dir: dir, session: session{Server: c.BaseURL, Email: strings.ToLower(*email),
		Token: tok.AccessToken, RefreshToken: tok.RefreshToken, ExpiresAt: tok.ExpiresAt}}
	if p.IdentityID, err = cmdline.SubjectOf(tok.AccessToken); err != nil {
		return err
	}
	if err := p.saveSession(); err != nil {
		return err
	}
	keys, err := readKeys(p.keysDir())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed in to %s as %s", p.Server, p.Email)
	if len(keys) > 0 {
		fmt.Fprintf(stdout, " (%d box keys here)", len(keys))
	}
	fmt.Fprintln(stdout)
	return nil
}

// loginError says why a sign-in failed, in words.
func loginError(server string, err error) error {
	var e *boxclient.Error
	if !errors.As(err, &e) {
		return humanError(server, err)
	}
	switch {
	case e.Status == 429:
		return errors.New("too many failed sign-ins: wait a minute and try again")
	case e.Status == 401 || e.Status == 403 || (e.Status == 400 && e.Code != "bad_request"):
		return errors.New("the e-mail or the password is wrong")
	}
	return humanError(server, err)
}
