package smtpmail_test

import (
	"context"
	"mime"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/smtpmail"
	"github.com/boxwire/boxwire/internal/smtpmail/smtptest"
)

func TestSendDeliversThroughARealServer(t *testing.T) {
	srv := smtptest.Start(t)
	s, err := smtpmail.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	body := "Your code is ABCD-EFGH\n.\nA line that is only a dot must survive.\n"
	if err := s.Send(context.Background(), "ann@a.test", "Vérification", body); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages("ann@a.test")
	if len(got) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(got))
	}
	m := got[0]
	if m.From != "boxwire@smtptest.local" || m.Header.Get("To") != "ann@a.test" {
		t.Errorf("envelope from %q, To %q", m.From, m.Header.Get("To"))
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil || subj != "Vérification" {
		t.Errorf("subject %q (%v)", subj, err)
	}
	if strings.ReplaceAll(m.Body, "\r\n", "\n") != body {
		t.Errorf("body %q, want %q", m.Body, body)
	}
}

func TestParseRefusesWhatCannotSend(t *testing.T) {
	for _, u := range []string{"", "http://mail.test", "smtp://", "smtp://mail.test", "smtp://mail.test?from=not-an-address",
		"smtp://mail.test?from=a@b.test%0d%0aBcc:%20x@y.test"} {
		if _, err := smtpmail.Parse(u); err == nil {
			t.Errorf("Parse(%q) accepted", u)
		}
	}
	if _, err := smtpmail.Parse("smtps://user:pw@mail.test?from=boxwire@mail.test"); err != nil {
		t.Errorf("a valid smtps URL: %v", err)
	}
}
