package whatsapp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/channel/whatsapp"
	"github.com/boxwire/boxwire/internal/channel/whatsapp/whatsapptest"
)

const (
	phoneID = "106540352242922"
	token   = "EAAJB-test-token"
	ada     = "+16505551234"
)

var account = channel.Account{ID: "acc1", PhoneNumber: "+15550783881", PhoneNumberID: phoneID, AccessToken: token}

// newFake starts a fake that knows account's number, and a client for it.
func newFake(t *testing.T) (*whatsapptest.Fake, *whatsapp.Client) {
	t.Helper()
	f := whatsapptest.New()
	t.Cleanup(f.Close)
	f.AddNumber(phoneID, token)
	return f, &whatsapp.Client{BaseURL: f.URL}
}

func onlySend(t *testing.T, f *whatsapptest.Fake) whatsapptest.Send {
	t.Helper()
	sends := f.Sends()
	if len(sends) != 1 {
		t.Fatalf("the fake received %d sends, want 1: %+v", len(sends), sends)
	}
	return sends[0]
}

// channelError asserts err is a *channel.Error with the given code and
// permanence.
func channelError(t *testing.T, err error, code int, permanent bool) {
	t.Helper()
	var ce *channel.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want *channel.Error", err, err)
	}
	if ce.Code != code || ce.Permanent != permanent {
		t.Fatalf("err = %+v, want code %d permanent %v", ce, code, permanent)
	}
}

func TestSendText(t *testing.T) {
	f, c := newFake(t)
	id, err := c.Send(context.Background(), account, channel.Outgoing{To: ada, Text: "Does it come in blue?"})
	if err != nil {
		t.Fatal(err)
	}
	s := onlySend(t, f)
	if id == "" || id != s.ID || !strings.HasPrefix(id, "wamid.") {
		t.Errorf("id = %q, the fake answered %q", id, s.ID)
	}
	if s.PhoneNumberID != phoneID || s.Token != token || s.To != "16505551234" ||
		s.Type != "text" || s.Text != "Does it come in blue?" {
		t.Errorf("the fake received %+v", s)
	}
	if !strings.Contains(string(s.Body), `"recipient_type":"individual"`) {
		t.Errorf("body %s lacks recipient_type", s.Body)
	}
}

func TestSendTemplateWithParams(t *testing.T) {
	f, c := newFake(t)
	tpl := &channel.TemplateSend{Name: "order_update", Language: "pt_BR", Params: []string{"Ada", "#42"}}
	if _, err := c.Send(context.Background(), account, channel.Outgoing{To: ada, Template: tpl}); err != nil {
		t.Fatal(err)
	}
	s := onlySend(t, f)
	if s.Type != "template" || s.Template != "order_update" || s.Language != "pt_BR" ||
		!slices.Equal(s.Params, []string{"Ada", "#42"}) {
		t.Errorf("the fake received %+v", s)
	}
}

func TestSendTemplateWithoutParams(t *testing.T) {
	f, c := newFake(t)
	out := channel.Outgoing{To: ada, Template: &channel.TemplateSend{Name: "hello_world"}}
	if _, err := c.Send(context.Background(), account, out); err != nil {
		t.Fatal(err)
	}
	s := onlySend(t, f)
	if s.Language != "en" {
		t.Errorf("language = %q, want the default en", s.Language)
	}
	if strings.Contains(string(s.Body), "components") {
		t.Errorf("body %s has components for a template without params", s.Body)
	}
}

func TestSendBadTokenIsPermanent(t *testing.T) {
	f, c := newFake(t)
	bad := account
	bad.AccessToken = "expired"
	_, err := c.Send(context.Background(), bad, channel.Outgoing{To: ada, Text: "hi"})
	channelError(t, err, 190, true)
	if s := onlySend(t, f); s.Status != http.StatusUnauthorized {
		t.Errorf("the fake answered %d, want 401", s.Status)
	}
}

func TestSendReengagementIsPermanent(t *testing.T) {
	f, c := newFake(t)
	f.ReengagementFor(ada)
	_, err := c.Send(context.Background(), account, channel.Outgoing{To: ada, Text: "are you there?"})
	channelError(t, err, channel.CodeReengagement, true)
	if !strings.Contains(err.Error(), "24 hours") || strings.Contains(err.Error(), "(#131047)") {
		t.Errorf("err = %q: want Meta's details without the (#code) prefix", err)
	}
	// A template is how a business reopens the window: it must go.
	out := channel.Outgoing{To: ada, Template: &channel.TemplateSend{Name: "hello_world"}}
	if _, err := c.Send(context.Background(), account, out); err != nil {
		t.Fatalf("template to a closed window: %v", err)
	}
}

func TestSendRefusals(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status, code int
		permanent    bool
	}{
		{"server error", 500, 131000, false},
		{"unavailable", 503, 133004, false},
		{"throughput", 400, 130429, false},
		{"pair rate limit", 400, 131056, false},
		{"too many requests", 429, 4, false},
		{"undeliverable", 400, 131026, true},
		{"template missing", 404, 132001, true},
		{"window closed", 400, 131047, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t)
			f.FailNext(1, tc.status, tc.code, "injected")
			out := channel.Outgoing{To: ada, Text: "hi"}
			_, err := c.Send(context.Background(), account, out)
			channelError(t, err, tc.code, tc.permanent)
			// FailNext(1, …) refuses one send only: the retry goes.
			if _, err := c.Send(context.Background(), account, out); err != nil {
				t.Fatalf("second send: %v", err)
			}
		})
	}
}

func TestSendNonMetaAnswers(t *testing.T) {
	for _, tc := range []struct {
		status    int
		body      string
		permanent bool
	}{
		{http.StatusBadGateway, "<html>bad gateway</html>", false},
		{http.StatusNotFound, "<html>not found</html>", true},
		{http.StatusOK, `{"messages":[]}`, true}, // accepted, maybe: never resend
		{http.StatusOK, "not json", true},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := &whatsapp.Client{BaseURL: srv.URL}
			_, err := c.Send(context.Background(), account, channel.Outgoing{To: ada, Text: "hi"})
			channelError(t, err, 0, tc.permanent)
		})
	}
}

func TestSendRefusesInvalidInputWithoutARequest(t *testing.T) {
	tpl := &channel.TemplateSend{Name: "hello_world"}
	noToken, badID := account, account
	noToken.AccessToken = ""
	badID.PhoneNumberID = "../me"
	for name, tc := range map[string]struct {
		a channel.Account
		m channel.Outgoing
	}{
		"neither":       {account, channel.Outgoing{To: ada}},
		"both":          {account, channel.Outgoing{To: ada, Text: "hi", Template: tpl}},
		"no + in to":    {account, channel.Outgoing{To: "16505551234", Text: "hi"}},
		"letters in to": {account, channel.Outgoing{To: "+1650FLOWERS", Text: "hi"}},
		"template name": {account, channel.Outgoing{To: ada, Template: &channel.TemplateSend{}}},
		"no token":      {noToken, channel.Outgoing{To: ada, Text: "hi"}},
		"phone id":      {badID, channel.Outgoing{To: ada, Text: "hi"}},
	} {
		t.Run(name, func(t *testing.T) {
			f, c := newFake(t)
			_, err := c.Send(context.Background(), tc.a, tc.m)
			channelError(t, err, 0, true)
			if n := len(f.Sends()); n != 0 {
				t.Errorf("the fake received %d sends, want none", n)
			}
		})
	}
}

func TestSendStopsWhenContextIsCancelled(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release // hold the answer until the client has given up
	}))
	defer srv.Close()
	defer close(release) // before srv.Close, which waits for the handler
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		c := &whatsapp.Client{BaseURL: srv.URL}
		_, err := c.Send(ctx, account, channel.Outgoing{To: ada, Text: "hi"})
		done <- err
	}()
	<-arrived
	cancel()
	err := <-done
	var ce *channel.Error
	if !errors.Is(err, context.Canceled) || errors.As(err, &ce) {
		t.Fatalf("err = %v, want context.Canceled and no *channel.Error (so it is retried)", err)
	}
}

func TestSendUsesVersionAndPath(t *testing.T) {
	var path, auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, auth = r.Method+" "+r.URL.Path, r.Header.Get("Authorization")
		_, _ = w.Write([]byte(`{"messages":[{"id":"wamid.X"}]}`))
	}))
	defer srv.Close()
	for version, want := range map[string]string{"": "v21.0", "v23.0": "v23.0"} {
		c := &whatsapp.Client{BaseURL: srv.URL + "/", Version: version}
		if _, err := c.Send(context.Background(), account, channel.Outgoing{To: ada, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		if want := "POST /" + want + "/" + phoneID + "/messages"; path != want || auth != "Bearer "+token {
			t.Errorf("version %q: request %q with %q, want %q with the bearer token", version, path, auth, want)
		}
	}
}
