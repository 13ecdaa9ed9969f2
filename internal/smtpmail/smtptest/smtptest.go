// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// on a loopback port for tests, and keeps what it receives: a mailbox
// that tests read the way a person reads their mail.
package smtptest

import (
	"io"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one delivered e-mail.
type Message struct {
	From, To string
	Header   mail.Header
	Body     string
}

// Server is an SMTP server that accepts every message.
type Server struct {
	Addr string // host:port
	mu   sync.Mutex
	msgs []Message
}

// Start starts a server; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String()}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "smtptest.local"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is the --smtp-url that sends through this server.
func (s *Server) URL() string { return "smtp://" + s.Addr + "?from=boxwire@smtptest.local" }

// Messages returns what was delivered to to, oldest first.
func (s *Server) Messages(to string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs {
		if strings.EqualFold(m.To, to) {
			out = append(out, m)
		}
	}
	return out
}

var codePattern = regexp.MustCompile(`\b[A-Z2-9]{4}-[A-Z2-9]{4}\b`)

// WaitCode waits for the n-th message to to (1-based) and returns the
// verification code in it.
func (s *Server) WaitCode(t testing.TB, to string, n int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ms := s.Messages(to); len(ms) >= n {
			code := codePattern.FindString(ms[n-1].Body)
			if code == "" {
				t.Fatalf("message to %s has no code: %q", to, ms[n-1].Body)
			}
			return code
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no message %d to %s within 10s (have %d)", n, to, len(s.Messages(to)))
	return ""
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s     *Server
	from  string
	rcpts []string
}

func (x *session) Reset()        { x.from, x.rcpts = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.rcpts = append(x.rcpts, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	for _, to := range x.rcpts {
		x.s.msgs = append(x.s.msgs, Message{From: x.from, To: to, Header: m.Header, Body: string(body)})
	}
	return nil
}
