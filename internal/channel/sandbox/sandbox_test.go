package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/channel/sandbox"
)

func TestSendReturnsFreshIDs(t *testing.T) {
	var s channel.Sender = sandbox.Sender{}
	seen := map[string]bool{}
	for _, m := range []channel.Outgoing{
		{To: "+447902111123", Text: "hello"},
		{To: "+447902111123", Template: &channel.TemplateSend{Name: "welcome", Params: []string{"Ada"}}},
		{To: "+447902111123", Text: "hello"},
	} {
		id, err := s.Send(context.Background(), channel.Account{}, m)
		if err != nil {
			t.Fatalf("Send(%+v): %v", m, err)
		}
		if !strings.HasPrefix(id, "sandbox.") || len(id) <= len("sandbox.") {
			t.Errorf("id %q: want sandbox.<uuid>", id)
		}
		if seen[id] {
			t.Errorf("id %q returned twice", id)
		}
		seen[id] = true
	}
}

func TestSendRefusesInvalidOutgoing(t *testing.T) {
	for name, m := range map[string]channel.Outgoing{
		"neither":       {To: "+447902111123"},
		"both":          {To: "+447902111123", Text: "hi", Template: &channel.TemplateSend{Name: "welcome"}},
		"no recipient":  {Text: "hi"},
		"template name": {To: "+447902111123", Template: &channel.TemplateSend{}},
	} {
		t.Run(name, func(t *testing.T) {
			id, err := sandbox.Sender{}.Send(context.Background(), channel.Account{}, m)
			var ce *channel.Error
			if !errors.As(err, &ce) || !ce.Permanent {
				t.Fatalf("Send = %q, %v; want a permanent *channel.Error", id, err)
			}
		})
	}
}

func TestSendHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sandbox.Sender{}.Send(ctx, channel.Account{}, channel.Outgoing{To: "+447902111123", Text: "hi"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestProgressIsDeliveredThenRead(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	got := sandbox.Progress("sandbox.x", at)
	want := []string{"delivered", "read"}
	if len(got) != len(want) {
		t.Fatalf("Progress = %+v, want %v", got, want)
	}
	for i, st := range got {
		if st.Status != want[i] || st.ChannelMessageID != "sandbox.x" || !st.At.Equal(at) || st.Reason != "" {
			t.Errorf("status %d = %+v, want %s of sandbox.x at %v", i, st, want[i], at)
		}
	}
}
