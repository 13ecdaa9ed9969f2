package messaging_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/api/httpx"
	apimessaging "github.com/boxwire/boxwire/internal/api/messaging"
	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

// TestWebhookRoutes drives /webhook and its /webhooks alias through the
// real handler, as a client would.
func TestWebhookRoutes(t *testing.T) {
	call := webhookAPI(t)

	status, created := call("POST", "/webhook", `{"type":"contact","targetUrl":"https://example.com/hook"}`)
	if status != http.StatusCreated || !strings.HasPrefix(fmt.Sprint(created["secret"]), "whsec_") || created["isEnabled"] != true {
		t.Fatalf("POST /webhook = %d %v, want 201 with an enabled hook and its secret", status, created)
	}
	id := fmt.Sprint(created["webhookId"])

	for _, path := range []string{"/webhook/" + id, "/webhooks/" + id} {
		status, got := call("GET", path, "")
		if status != http.StatusOK || got["webhookId"] != id || got["type"] != "contact" {
			t.Fatalf("GET %s = %d %v", path, status, got)
		}
		if _, shown := got["secret"]; shown {
			t.Fatalf("GET %s shows the secret", path)
		}
	}
	status, list := call("GET", "/webhooks?page=1", "")
	items, _ := list["items"].([]any)
	paging, _ := list["paging"].(map[string]any)
	if status != http.StatusOK || len(items) != 1 || paging["recordCount"] != 1.0 || paging["pages"] != 1.0 {
		t.Fatalf("GET /webhooks = %d %v", status, list)
	}
	if _, shown := items[0].(map[string]any)["secret"]; shown {
		t.Fatal("the list shows the secret")
	}

	status, updated := call("PUT", "/webhooks/"+id, `{"isEnabled":false}`)
	if status != http.StatusOK || updated["isEnabled"] != false || updated["targetUrl"] != "https://example.com/hook" {
		t.Fatalf("PUT = %d %v, want 200 with only isEnabled changed", status, updated)
	}
	if _, shown := updated["secret"]; shown {
		t.Fatal("the update shows the secret")
	}

	if status, _ := call("DELETE", "/webhook/"+id, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE = %d, want 204", status)
	}
	if status, _ := call("GET", "/webhook/"+id, ""); status != http.StatusNotFound {
		t.Fatalf("GET after DELETE = %d, want 404", status)
	}
}

func TestWebhookRoutesRefuseBadInput(t *testing.T) {
	call := webhookAPI(t)
	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", "/webhook", `{"type":"nope","targetUrl":"https://example.com/hook"}`, "type"},
		{"POST", "/webhooks", `{"type":"contact","targetUrl":"example.com"}`, "targetUrl"},
		{"POST", "/webhook", `{"type":"contact","targetUrl":"https://example.com","isEnabled":"yes"}`, "isEnabled"},
		{"GET", "/webhook?page=0", "", "page"},
		{"GET", "/webhooks?page=-2", "", "page"},
		{"GET", "/webhook/not-a-uuid", "", "id"},
	} {
		status, problem := call(tc.method, tc.path, tc.body)
		list, _ := problem["errors"].([]any)
		var named bool
		for _, e := range list {
			named = named || e.(map[string]any)["field"] == tc.field
		}
		if status != http.StatusBadRequest || !named {
			t.Errorf("%s %s %s = %d %v, want 400 naming %s", tc.method, tc.path, tc.body, status, problem, tc.field)
		}
	}
}

// webhookAPI serves the messaging surface for a signed-in org admin and
// returns a function that makes one call and decodes its JSON answer.
func webhookAPI(t *testing.T) func(method, path, body string) (int, map[string]any) {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t, store.Options{})
	authn, err := auth.New(ctx, s, auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.CreateUser(ctx, s, auth.NewUser{Email: "admin@acme.example", Password: "correct horse battery",
		Name: "Admin", Org: "acme", Role: identity.Admin}); err != nil {
		t.Fatal(err)
	}
	tokens, err := authn.Login(ctx, "admin@acme.example", "correct horse battery", "tests", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	mux := httpx.NewMux()
	(&apimessaging.Handler{Auth: authn, Store: s, Business: &msgservice.Service{Store: s}}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	return func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var v map[string]any
		if len(b) > 0 {
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%s %s answered %d with %q: %v", method, path, res.StatusCode, b, err)
			}
		}
		return res.StatusCode, v
	}
}
