// Package smtpmail sends e-mail through an SMTP server the operator names
// with a URL (--smtp-url): smtp://[user:password@]host[:port]?from=ADDR,
// or smtps:// for TLS from the first byte. Over smtp:// the connection is
// upgraded with STARTTLS whenever the server offers it, and a password is
// only ever sent encrypted or to localhost (net/smtp's PlainAuth rule).
package smtpmail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Sender sends mail through one SMTP server.
type Sender struct {
	addr     string // host:port
	host     string
	implicit bool // smtps://
	auth     smtp.Auth
	from     string
	// Timeout bounds one whole send when the context has no deadline.
	Timeout time.Duration
}

// Parse reads an --smtp-url.
func Parse(raw string) (*Sender, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("--smtp-url must be smtp://[user:password@]host[:port]?from=ADDRESS (or smtps://)")
	}
	from := u.Query().Get("from")
	if a, err := mail.ParseAddress(from); err != nil || a.Address != from {
		return nil, fmt.Errorf("--smtp-url needs ?from=ADDRESS, the sender's e-mail address (got %q)", from)
	}
	s := &Sender{host: u.Hostname(), implicit: u.Scheme == "smtps", from: from, Timeout: 30 * time.Second}
	port := u.Port()
	if port == "" {
		port = map[bool]string{true: "465", false: "25"}[s.implicit]
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, s.host)
	}
	return s, nil
}

// Send sends one plain-text UTF-8 message to one address.
func (s *Sender) Send(ctx context.Context, to, subject, body string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("smtp: connect to %s: %w", s.addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if err := s.converse(c, to, s.message(to, subject, body)); err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	if s.implicit {
		d := tls.Dialer{Config: &tls.Config{ServerName: s.host}}
		return d.DialContext(ctx, "tcp", s.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr)
}

func (s *Sender) converse(c *smtp.Client, to string, msg []byte) error {
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(&tls.Config{ServerName: s.host}); err != nil {
			return err
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message is the RFC 5322 text: CRLF line ends, a Q-encoded subject.
func (s *Sender) message(to, subject, body string) []byte {
	id := make([]byte, 12)
	rand.Read(id)
	var b strings.Builder
	for _, h := range [][2]string{
		{"From", s.from}, {"To", to}, {"Subject", mime.QEncoding.Encode("utf-8", subject)},
		{"Date", time.Now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "@" + s.host + ">"},
		{"MIME-Version", "1.0"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Content-Transfer-Encoding", "8bit"},
	} {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))
	return []byte(b.String())
}
