package whatsapp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/channel/whatsapp"
	"github.com/boxwire/boxwire/internal/channel/whatsapp/whatsapptest"
)

// A callback may carry several changes. The account is looked up once,
// and the events of every change for its number reach Apply in one call;
// a change for another number of the same Meta app is left out.
func TestACallbackIsAppliedOnceWithEveryChangeForItsNumber(t *testing.T) {
	const secret, number = "app-secret", "106540352242922"
	change := func(phoneNumberID, from, text string) string {
		return `{"field": "messages", "value": {"messaging_product": "whatsapp",
			"metadata": {"display_phone_number": "15550783881", "phone_number_id": "` + phoneNumberID + `"},
			"contacts": [{"profile": {"name": "Sheena"}, "wa_id": "` + from + `"}],
			"messages": [{"from": "` + from + `", "id": "wamid.` + text + `", "timestamp": "1749416383",
				"type": "text", "text": {"body": "` + text + `"}}]}}`
	}
	body := `{"object": "whatsapp_business_account", "entry": [
		{"id": "1", "changes": [` + change(number, "16505551234", "first") + `, ` + change("999", "16505551234", "elsewhere") + `]},
		{"id": "1", "changes": [` + change(number, "16505559999", "second") + `]}]}`

	lookups := 0
	var applied []channel.Events
	c := whatsapp.Callbacks[string]{
		Account: func(_ context.Context, id string) (whatsapp.Secrets, string, error) {
			lookups++
			return whatsapp.Secrets{AppSecret: secret, PhoneNumberID: number}, id, nil
		},
		Apply: func(_ context.Context, _ string, ev channel.Events) error {
			applied = append(applied, ev)
			return nil
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whatsapp/{id}", c.Receive)
	req := httptest.NewRequest(http.MethodPost, "/whatsapp/acct", strings.NewReader(body))
	fake := whatsapptest.New()
	defer fake.Close()
	req.Header.Set("X-Hub-Signature-256", fake.Sign(secret, []byte(body)))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)

	if rec.Code != http.StatusOK || lookups != 1 || len(applied) != 1 {
		t.Fatalf("status %d, %d account lookups, %d Apply calls: want 200, 1, 1", rec.Code, lookups, len(applied))
	}
	var texts []string
	for _, m := range applied[0].Messages {
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, ",") != "first,second" {
		t.Errorf("applied messages %q, want first and second, not the other number's", texts)
	}
}
