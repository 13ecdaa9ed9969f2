package cmdline

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"
)

// WriteFileAtomic writes a file readable by its owner only: aside, synced,
// then renamed into place, so a crash leaves the old file or the new one.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err = f.Chmod(0o600); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename itself survives a crash (not supported everywhere)
		d.Close()
	}
	return nil
}

// ReadPassword takes BOXWIRE_PASSWORD, or asks without echo on a terminal,
// or reads a line from piped standard input.
func ReadPassword(in *bufio.Reader, stderr io.Writer) (string, error) {
	if v := Env("PASSWORD", ""); v != "" {
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

// SubjectOf reads the identity id (sub) of a JWT the server just gave us;
// the server checks the signature on every call, so we need not.
func SubjectOf(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("the server returned a malformed token")
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(b, &claims)
	}
	if err != nil || claims.Sub == "" {
		return "", errors.New("the server returned a token without a subject")
	}
	return claims.Sub, nil
}
