package msgservice_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/auth"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/msgservice"
	"github.com/boxwire/boxwire/internal/store"
	"github.com/boxwire/boxwire/internal/store/storetest"
)

func TestCreateWebhookShowsTheSecretOnce(t *testing.T) {
	svc, admin := webhookService(t)
	created := mustCreateWebhook(t, svc, admin, msgservice.WebhookChange{Type: whPtr("contact"), TargetURL: whPtr("https://example.com/hook")})
	if _, err := msgrules.ParseWebhookSecret("secret", created.Secret); err != nil || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("create returned secret %q: %v", created.Secret, err)
	}
	if !created.IsEnabled || created.FailureCount != 0 || created.IsZapier || created.Type != "contact" {
		t.Fatalf("created %+v: want enabled contact hook, no failures, not Zapier", created)
	}

	got, err := svc.Webhook(admin, created.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := svc.Webhooks(admin, 1)
	if err != nil {
		t.Fatal(err)
	}
	if list.Paging.RecordCount != 1 || len(list.Items) != 1 {
		t.Fatalf("list = %+v, want the one hook", list)
	}
	updated, err := svc.UpdateWebhook(admin, created.WebhookID, msgservice.WebhookChange{})
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]msgrules.Webhook{"get": got, "list": list.Items[0], "update": updated} {
		b, _ := json.Marshal(w)
		if w.Secret != "" || strings.Contains(string(b), "secret") {
			t.Errorf("%s shows the secret: %s", name, b)
		}
	}
}

func TestCreateWebhookEnabledUnlessToldOtherwise(t *testing.T) {
	svc, admin := webhookService(t)
	off := mustCreateWebhook(t, svc, admin, msgservice.WebhookChange{Type: whPtr("message"),
		TargetURL: whPtr("http://203.0.113.9:9/x"), IsEnabled: whPtr(false)})
	if off.IsEnabled {
		t.Fatal("isEnabled: false was ignored")
	}
}

func TestWebhookInputErrorsNameTheFieldAndChangeNothing(t *testing.T) {
	svc, admin := webhookService(t)
	ok := msgservice.WebhookChange{Type: whPtr("contact"), TargetURL: whPtr("https://example.com/hook")}
	for _, tc := range []struct {
		name  string
		in    msgservice.WebhookChange
		field string
	}{
		{"no type", msgservice.WebhookChange{TargetURL: ok.TargetURL}, "type"},
		{"unknown type", msgservice.WebhookChange{Type: whPtr("conversation"), TargetURL: ok.TargetURL}, "type"},
		{"capitalised type", msgservice.WebhookChange{Type: whPtr("Contact"), TargetURL: ok.TargetURL}, "type"},
		{"no target", msgservice.WebhookChange{Type: ok.Type}, "targetUrl"},
		{"empty target", msgservice.WebhookChange{Type: ok.Type, TargetURL: whPtr(" ")}, "targetUrl"},
		{"relative target", msgservice.WebhookChange{Type: ok.Type, TargetURL: whPtr("/hook")}, "targetUrl"},
		{"ftp target", msgservice.WebhookChange{Type: ok.Type, TargetURL: whPtr("ftp://example.com/hook")}, "targetUrl"},
		{"no host", msgservice.WebhookChange{Type: ok.Type, TargetURL: whPtr("https:///hook")}, "targetUrl"},
		{"too long", msgservice.WebhookChange{Type: ok.Type, TargetURL: whPtr("https://example.com/" + strings.Repeat("a", 2048))}, "targetUrl"},
		// Without a WebhookTargets guard, inside addresses are still
		// refused when written as addresses.
		{"loopback target", msgservice.WebhookChange{Type: ok.Type, TargetURL: whPtr("http://0x7f000001:8080/hook")}, "targetUrl"},
		{"localhost target", msgservice.WebhookChange{Type: ok.Type, TargetURL: whPtr("http://localhost/hook")}, "targetUrl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.CreateWebhook(admin, tc.in)
			wantField(t, err, tc.field)
		})
	}
	if list, err := svc.Webhooks(admin, 1); err != nil || list.Paging.RecordCount != 0 {
		t.Fatalf("refused creates left %+v, %v", list.Paging, err)
	}

	hook := mustCreateWebhook(t, svc, admin, ok)
	_, err := svc.UpdateWebhook(admin, hook.WebhookID, msgservice.WebhookChange{IsEnabled: whPtr(false), TargetURL: whPtr("mailto:a@b.c")})
	wantField(t, err, "targetUrl")
	_, err = svc.UpdateWebhook(admin, hook.WebhookID, msgservice.WebhookChange{IsEnabled: whPtr(false), TargetURL: whPtr("http://[::ffff:169.254.169.254]/")})
	wantField(t, err, "targetUrl")
	_, err = svc.UpdateWebhook(admin, hook.WebhookID, msgservice.WebhookChange{IsEnabled: whPtr(false), Type: whPtr("")})
	wantField(t, err, "type")
	if got, _ := svc.Webhook(admin, hook.WebhookID); !got.IsEnabled || got.TargetURL != *ok.TargetURL || got.Type != *ok.Type {
		t.Fatalf("a refused update changed the hook: %+v", got)
	}
	_, err = svc.Webhooks(admin, -1)
	wantField(t, err, "page")
}

func TestUpdateWebhookIsPartial(t *testing.T) {
	svc, admin := webhookService(t)
	hook := mustCreateWebhook(t, svc, admin, msgservice.WebhookChange{Type: whPtr("contact"), TargetURL: whPtr("https://example.com/a")})

	got, err := svc.UpdateWebhook(admin, hook.WebhookID, msgservice.WebhookChange{TargetURL: whPtr("https://example.com/b")})
	if err != nil {
		t.Fatal(err)
	}
	if got.TargetURL != "https://example.com/b" || got.Type != "contact" || !got.IsEnabled {
		t.Fatalf("after changing the target: %+v", got)
	}
	got, err = svc.UpdateWebhook(admin, hook.WebhookID, msgservice.WebhookChange{Type: whPtr("broadcast"), IsEnabled: whPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if got.TargetURL != "https://example.com/b" || got.Type != "broadcast" || got.IsEnabled {
		t.Fatalf("after changing type and enabled: %+v", got)
	}
	if read, _ := svc.Webhook(admin, hook.WebhookID); read != got {
		t.Fatalf("stored %+v, update returned %+v", read, got)
	}
}

// TestReenablingAWebhookClearsItsFailuresAndKeepsItsPosition: the count
// starts again, and the backlog since it was disabled is still due.
func TestReenablingAWebhookClearsItsFailuresAndKeepsItsPosition(t *testing.T) {
	svc, admin := webhookService(t)
	hook := mustCreateWebhook(t, svc, admin, msgservice.WebhookChange{Type: whPtr("contact"), TargetURL: whPtr("https://example.com/a")})
	before := storedWebhook(t, svc, hook)
	// As the dispatcher does after its last allowed failure.
	if err := svc.Store.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		return tx.WebhookFailed(ctx, hook.WebhookID, 5, true)
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Webhook(admin, hook.WebhookID); got.IsEnabled || got.FailureCount != 5 {
		t.Fatalf("after the failures: %+v", got)
	}

	got, err := svc.UpdateWebhook(admin, hook.WebhookID, msgservice.WebhookChange{IsEnabled: whPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsEnabled || got.FailureCount != 0 {
		t.Fatalf("re-enabled: %+v, want enabled with no failures", got)
	}
	if after := storedWebhook(t, svc, hook); after.Position != before.Position {
		t.Fatalf("re-enabling moved the position from %d to %d", before.Position, after.Position)
	}
}

func TestDeleteWebhook(t *testing.T) {
	svc, admin := webhookService(t)
	hook := mustCreateWebhook(t, svc, admin, msgservice.WebhookChange{Type: whPtr("inbox"), TargetURL: whPtr("https://example.com/a")})
	if err := svc.DeleteWebhook(admin, hook.WebhookID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Webhook(admin, hook.WebhookID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("get after delete: %v, want not found", err)
	}
	if err := svc.DeleteWebhook(admin, hook.WebhookID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("second delete: %v, want not found", err)
	}
}

func TestWebhooksAreForTheirOrganisationsAdminsOnly(t *testing.T) {
	svc, admin := webhookService(t)
	hook := mustCreateWebhook(t, svc, admin, msgservice.WebhookChange{Type: whPtr("contact"), TargetURL: whPtr("https://example.com/a")})
	agent := webhookCaller(t, svc.Store, "agent@acme.example", "acme", identity.Agent)
	outsider := webhookCaller(t, svc.Store, "admin@globex.example", "globex", identity.Admin)
	outsiderHook := mustCreateWebhook(t, svc, outsider, msgservice.WebhookChange{Type: whPtr("contact"), TargetURL: whPtr("https://example.com/g")})

	calls := map[string]func(ctx context.Context) error{
		"list": func(ctx context.Context) error { _, err := svc.Webhooks(ctx, 1); return err },
		"get":  func(ctx context.Context) error { _, err := svc.Webhook(ctx, hook.WebhookID); return err },
		"create": func(ctx context.Context) error {
			_, err := svc.CreateWebhook(ctx, msgservice.WebhookChange{Type: whPtr("contact"), TargetURL: whPtr("https://example.com/x")})
			return err
		},
		"update": func(ctx context.Context) error {
			_, err := svc.UpdateWebhook(ctx, hook.WebhookID, msgservice.WebhookChange{IsEnabled: whPtr(false)})
			return err
		},
		"delete": func(ctx context.Context) error { return svc.DeleteWebhook(ctx, hook.WebhookID) },
	}
	for name, call := range calls {
		if err := call(agent); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("agent %s: %v, want forbidden", name, err)
		}
		if err := call(context.Background()); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("anonymous %s: %v, want unauthorized", name, err)
		}
	}
	for _, name := range []string{"get", "update", "delete"} {
		if err := calls[name](outsider); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("another organisation's admin, %s: %v, want not found", name, err)
		}
	}
	if list, err := svc.Webhooks(outsider, 1); err != nil || len(list.Items) != 1 || list.Items[0].WebhookID != outsiderHook.WebhookID {
		t.Fatalf("the other organisation lists %+v, %v; want only its own hook", list, err)
	}
	if got, err := svc.Webhook(admin, hook.WebhookID); err != nil || !got.IsEnabled {
		t.Fatalf("refused calls changed the hook: %+v, %v", got, err)
	}
}

func webhookService(t *testing.T) (*msgservice.Service, context.Context) {
	t.Helper()
	s := storetest.Open(t, store.Options{})
	return &msgservice.Service{Store: s}, webhookCaller(t, s, "admin@acme.example", "acme", identity.Admin)
}

func webhookCaller(t *testing.T, s *store.Store, email, org string, role identity.Role) context.Context {
	t.Helper()
	who, err := auth.CreateUser(context.Background(), s, auth.NewUser{Email: email, Password: "correct horse battery",
		Name: "Someone", Org: org, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithCaller(context.Background(), auth.Caller{Identity: who})
}

func mustCreateWebhook(t *testing.T, svc *msgservice.Service, ctx context.Context, in msgservice.WebhookChange) msgrules.Webhook {
	t.Helper()
	w, err := svc.CreateWebhook(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// storedWebhook reads the hook as the dispatcher sees it, position included.
func storedWebhook(t *testing.T, svc *msgservice.Service, w msgrules.Webhook) msgrules.Webhook {
	t.Helper()
	got, err := svc.Store.Webhook(context.Background(), w.OrgID, w.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Code != errs.Invalid || e.Fields[field] == "" {
		t.Fatalf("error %v, want invalid naming %s", err, field)
	}
}

// whPtr makes the optional fields of a WebhookChange.
func whPtr[T any](v T) *T { return &v }
