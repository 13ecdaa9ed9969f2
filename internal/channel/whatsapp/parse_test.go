package whatsapp_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/channel/whatsapp"
	"github.com/boxwire/boxwire/internal/channel/whatsapp/whatsapptest"
)

// The three payloads below are copied verbatim from Meta's webhook
// reference (developers.facebook.com/documentation/business-messaging/
// whatsapp/webhooks/reference/messages and …/message_template_status_update).
const (
	metaTextMessage = `{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {
              "display_phone_number": "15550783881",
              "phone_number_id": "106540352242922"
            },
            "contacts": [
              {
                "profile": {
                  "name": "Sheena Nelson"
                },
                "wa_id": "16505551234"
              }
            ],
            "messages": [
              {
                "from": "16505551234",
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "timestamp": "1749416383",
                "type": "text",
                "text": {
                  "body": "Does it come in another color?"
                }
              }
            ]
          },
          "field": "messages"
        }
      ]
    }
  ]
}`
	metaDeliveredStatus = `{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {
              "display_phone_number": "15550783881",
              "phone_number_id": "106540352242922"
            },
            "statuses": [
              {
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
                "status": "delivered",
                "timestamp": "1750263773",
                "recipient_id": "16505551234",
                "conversation": {
                  "id": "6ceb9d929c9bdc4f90e967a32f8639b4",
                  "origin": {
                    "type": "service"
                  }
                },
                "pricing": {
                  "billable": true,
                  "pricing_model": "CBP",
                  "category": "service"
                }
              }
            ]
          },
          "field": "messages"
        }
      ]
    }
  ]
}`
	metaTemplateApproved = `{
  "entry": [
    {
      "id": "102290129340398",
      "time": 1751247548,
      "changes": [
        {
          "value": {
            "event": "APPROVED",
            "message_template_id": 1689556908129832,
            "message_template_name": "order_confirmation",
            "message_template_language": "en-US",
            "reason": "NONE",
            "message_template_category": "UTILITY"
          },
          "field": "message_template_status_update"
        }
      ]
    }
  ],
  "object": "whatsapp_business_account"
}`
)

func parse(t *testing.T, body []byte) channel.Events {
	t.Helper()
	ev, err := whatsapp.ParseWebhook(body)
	if err != nil {
		t.Fatalf("ParseWebhook(%s): %v", body, err)
	}
	return ev
}

func same(t *testing.T, got, want channel.Events) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseMetaDocumentedPayloads(t *testing.T) {
	same(t, parse(t, []byte(metaTextMessage)), channel.Events{Messages: []channel.Inbound{{
		ChannelMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
		From:             "+16505551234",
		Name:             "Sheena Nelson",
		Text:             "Does it come in another color?",
		At:               time.Unix(1749416383, 0).UTC(),
	}}})
	same(t, parse(t, []byte(metaDeliveredStatus)), channel.Events{Statuses: []channel.Status{{
		ChannelMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA",
		Status:           "delivered",
		At:               time.Unix(1750263773, 0).UTC(),
	}}})
	same(t, parse(t, []byte(metaTemplateApproved)), channel.Events{Templates: []channel.TemplateReview{{
		Name: "order_confirmation", Status: "APPROVED",
	}}})
}

func newFakeAt(t *testing.T, at time.Time) *whatsapptest.Fake {
	t.Helper()
	f := whatsapptest.New()
	t.Cleanup(f.Close)
	f.Now = func() time.Time { return at }
	return f
}

func TestParseFakeDeliveries(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f := newFakeAt(t, at)

	body, id := f.InboundMessage(phoneID, ada, "Ada Lovelace", "hello")
	same(t, parse(t, body), channel.Events{Messages: []channel.Inbound{{
		ChannelMessageID: id, From: ada, Name: "Ada Lovelace", Text: "hello", At: at,
	}}})

	same(t, parse(t, f.StatusUpdate(phoneID, "wamid.A", "read", 0)), channel.Events{
		Statuses: []channel.Status{{ChannelMessageID: "wamid.A", Status: "read", At: at}},
	})

	same(t, parse(t, f.StatusUpdate(phoneID, "wamid.B", "failed", 131047)), channel.Events{
		Statuses: []channel.Status{{ChannelMessageID: "wamid.B", Status: "failed", At: at,
			Reason: "131047 Re-engagement message: Message failed to send because more than 24 hours " +
				"have passed since the customer last replied to this number."}},
	})

	same(t, parse(t, f.TemplateStatus("welcome", "APPROVED")), channel.Events{
		Templates: []channel.TemplateReview{{Name: "welcome", Status: "APPROVED"}},
	})
	rejected := parse(t, f.TemplateStatus("welcome", "REJECTED"))
	if r := rejected.Templates; len(r) != 1 || r[0].Status != "REJECTED" ||
		!strings.HasPrefix(r[0].Reason, "INVALID_FORMAT: Your template has parameters") {
		t.Errorf("rejected: %+v", rejected)
	}
}

func TestParseChangesRoutesByPhoneNumber(t *testing.T) {
	// Two numbers' changes in one delivery, as Meta may batch them.
	body := `{"object":"whatsapp_business_account","entry":[
	 {"id":"waba1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"111"},
	   "messages":[{"from":"16505551234","id":"wamid.1","timestamp":"1","type":"text","text":{"body":"a"}}]}}]},
	 {"id":"waba2","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"222"},
	   "messages":[{"from":"16505551235","id":"wamid.2","timestamp":"2","type":"text","text":{"body":"b"}}]}}]}]}`
	changes, err := whatsapp.ParseChanges([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 ||
		changes[0].PhoneNumberID != "111" || changes[0].BusinessAccountID != "waba1" ||
		changes[0].Events.Messages[0].ChannelMessageID != "wamid.1" ||
		changes[1].PhoneNumberID != "222" || changes[1].Events.Messages[0].From != "+16505551235" {
		t.Errorf("changes = %+v", changes)
	}
	merged := parse(t, []byte(body))
	if len(merged.Messages) != 2 {
		t.Errorf("ParseWebhook merged %d messages, want 2", len(merged.Messages))
	}
}

// inboundOf wraps one message object in a messages delivery.
func inboundOf(message string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
	 "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
	 "contacts":[{"profile":{"name":"Ada"},"wa_id":"16505551234"}],
	 "messages":[` + message + `]}}]}]}`)
}

func TestParseNonTextMessagesAreNotDropped(t *testing.T) {
	const head = `"from":"16505551234","id":"wamid.X","timestamp":"1749416383",`
	for want, msg := range map[string]string{
		"look at this":              `{` + head + `"type":"image","image":{"caption":"look at this","mime_type":"image/jpeg","id":"1"}}`,
		"Yes, please":               `{` + head + `"type":"button","button":{"payload":"YES","text":"Yes, please"}}`,
		"Tuesday":                   `{` + head + `"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"t","title":"Tuesday"}}}`,
		"Confirm":                   `{` + head + `"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"c","title":"Confirm"}}}`,
		"[reaction: 👍]":             `{` + head + `"type":"reaction","reaction":{"message_id":"wamid.Y","emoji":"👍"}}`,
		"[reaction removed]":        `{` + head + `"type":"reaction","reaction":{"message_id":"wamid.Y"}}`,
		"[location: Home (1.5, 2)]": `{` + head + `"type":"location","location":{"latitude":1.5,"longitude":2,"name":"Home"}}`,
		"[unsupported]":             `{` + head + `"type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]}`,
		"[contacts]":                `{` + head + `"type":"contacts","contacts":[{"name":{"formatted_name":"Bob"}}]}`,
	} {
		t.Run(want, func(t *testing.T) {
			ev := parse(t, inboundOf(msg))
			if len(ev.Messages) != 1 || ev.Messages[0].Text != want || ev.Messages[0].Name != "Ada" {
				t.Fatalf("events %+v, want one message %q from Ada", ev, want)
			}
		})
	}
}

// A media message carries its caption as text and the file to fetch
// (issue 16.3): Meta's id, kind, type and a document's name.
func TestParseMediaMessages(t *testing.T) {
	const head = `"from":"16505551234","id":"wamid.X","timestamp":"1749416383",`
	for _, tc := range []struct {
		msg, text, kind, mime, name string
	}{
		{`{` + head + `"type":"image","image":{"caption":"look","mime_type":"image/jpeg","sha256":"x","id":"1001"}}`, "look", "image", "image/jpeg", ""},
		{`{` + head + `"type":"image","image":{"mime_type":"image/png","id":"1002"}}`, "", "image", "image/png", ""},
		{`{` + head + `"type":"video","video":{"caption":"clip","mime_type":"video/mp4","id":"1003"}}`, "clip", "video", "video/mp4", ""},
		{`{` + head + `"type":"document","document":{"filename":"invoice.pdf","mime_type":"application/pdf","id":"1004"}}`, "", "document", "application/pdf", "invoice.pdf"},
		{`{` + head + `"type":"audio","audio":{"id":"1005","mime_type":"audio/ogg; codecs=opus","voice":true}}`, "", "audio", "audio/ogg; codecs=opus", ""},
		{`{` + head + `"type":"sticker","sticker":{"id":"1006","mime_type":"image/webp","animated":false}}`, "", "sticker", "image/webp", ""},
	} {
		t.Run(tc.kind+tc.text, func(t *testing.T) {
			ev := parse(t, inboundOf(tc.msg))
			if len(ev.Messages) != 1 {
				t.Fatalf("events %+v, want one message", ev)
			}
			m := ev.Messages[0]
			if m.Text != tc.text || m.Media == nil || m.Media.Kind != tc.kind || m.Media.MimeType != tc.mime ||
				m.Media.FileName != tc.name || m.Media.ID == "" {
				t.Errorf("message %+v media %+v, want text %q, %s %s %q", m, m.Media, tc.text, tc.kind, tc.mime, tc.name)
			}
		})
	}
	// A media id goes into a URL's path: anything but digits is refused.
	ev, err := whatsapp.ParseWebhook(inboundOf(`{` + head + `"type":"image","image":{"mime_type":"image/png","id":"../../me"}}`))
	if err == nil || len(ev.Messages) != 0 {
		t.Errorf("a media id with a path was read: %+v, %v", ev, err)
	}
	// Without an id there is no file to fetch: a marker, as before.
	ev = parse(t, inboundOf(`{`+head+`"type":"image","image":{"mime_type":"image/png"}}`))
	if len(ev.Messages) != 1 || ev.Messages[0].Media != nil || ev.Messages[0].Text != "[image]" {
		t.Errorf("image without id: %+v", ev)
	}
}

func TestParseSkipsWhatItDoesNotCarry(t *testing.T) {
	for name, body := range map[string]string{
		"other field": `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
		  {"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]}`,
		"system error only": `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
		  {"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
		   "errors":[{"code":130429,"title":"Rate limit hit"}]}}]}]}`,
		"played status": `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
		  {"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"played","timestamp":"1"}]}}]}]}`,
		"no entries": `{"object":"whatsapp_business_account","entry":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			same(t, parse(t, []byte(body)), channel.Events{})
		})
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	const head = `"from":"16505551234","id":"wamid.X","timestamp":"1",`
	for name, body := range map[string][]byte{
		"not json":         []byte(`{"object":`),
		"empty":            nil,
		"array":            []byte(`[]`),
		"wrong object":     []byte(`{"object":"page","entry":[]}`),
		"no object":        []byte(`{"entry":[]}`),
		"null value":       []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":null}]}]}`),
		"no value":         []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}]}]}`),
		"message no id":    inboundOf(`{"from":"16505551234","timestamp":"1","type":"text","text":{"body":"x"}}`),
		"sender with plus": inboundOf(`{"from":"+16505551234","id":"wamid.X","timestamp":"1","type":"text"}`),
		"no timestamp":     inboundOf(`{"from":"16505551234","id":"wamid.X","type":"text"}`),
		"bad timestamp":    inboundOf(`{"from":"16505551234","id":"wamid.X","timestamp":"yesterday","type":"text"}`),
		"text not object":  inboundOf(`{` + head + `"type":"text","text":"hi"}`),
		"status no id": []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[
		  {"field":"messages","value":{"statuses":[{"status":"read","timestamp":"1"}]}}]}]}`),
		"status no time": []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[
		  {"field":"messages","value":{"statuses":[{"id":"wamid.A","status":"read"}]}}]}]}`),
		"template no name": []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[
		  {"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}`),
	} {
		t.Run(name, func(t *testing.T) {
			if ev, err := whatsapp.ParseWebhook(body); err == nil {
				t.Fatalf("ParseWebhook = %+v, nil; want an error", ev)
			}
		})
	}
}

func TestParseFailedStatusReasons(t *testing.T) {
	status := func(errors string) []byte {
		return []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
		 "statuses":[{"id":"wamid.A","status":"failed","timestamp":"1","recipient_id":"1","errors":` + errors + `}]}}]}]}`)
	}
	for want, errs := range map[string]string{
		"131026 Message undeliverable: Message Undeliverable.": `[{"code":131026,"title":"Message undeliverable","message":"Message undeliverable","error_data":{"details":"Message Undeliverable."}}]`,
		"131000 Something went wrong":                          `[{"code":131000,"title":"Something went wrong"}]`,
		"131049 no title":                                      `[{"code":131049,"message":"no title"}]`,
		"1 a; 2 b":                                             `[{"code":1,"title":"a"},{"code":2,"title":"b"}]`,
		"":                                                     `[]`, // the service keeps its own "no reason" text
	} {
		t.Run(fmt.Sprintf("%q", want), func(t *testing.T) {
			ev := parse(t, status(errs))
			if len(ev.Statuses) != 1 || ev.Statuses[0].Reason != want {
				t.Fatalf("statuses %+v, want reason %q", ev.Statuses, want)
			}
		})
	}
}

func FuzzParseWebhook(f *testing.F) {
	fake := whatsapptest.New()
	defer fake.Close()
	in, _ := fake.InboundMessage(phoneID, ada, "Ada", "hi")
	for _, seed := range [][]byte{
		[]byte(metaTextMessage), []byte(metaDeliveredStatus), []byte(metaTemplateApproved), in,
		fake.StatusUpdate(phoneID, "wamid.A", "failed", 131047), fake.TemplateStatus("t", "REJECTED"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := whatsapp.ParseWebhook(body)
		if err != nil {
			return
		}
		for _, m := range ev.Messages {
			if m.ChannelMessageID == "" || !strings.HasPrefix(m.From, "+") || m.Text == "" || m.At.IsZero() {
				t.Errorf("accepted a message Boxwire cannot store: %+v", m)
			}
		}
		for _, s := range ev.Statuses {
			if s.ChannelMessageID == "" || s.At.IsZero() {
				t.Errorf("accepted a status Boxwire cannot apply: %+v", s)
			}
		}
	})
}

// TestOneBadItemDoesNotCostTheOthers: Meta does not send an acknowledged
// body again, so an item that cannot be read is reported and left out,
// and the rest of the body is still returned.
func TestOneBadItemDoesNotCostTheOthers(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"111"},
		"contacts":[{"profile":{"name":"Jack"},"wa_id":"447902111123"}],
		"messages":[{"from":"447902111123","id":"wamid.GOOD","timestamp":"1700000000","type":"text","text":{"body":"hello"}},
		            {"from":"not digits","id":"wamid.BAD","timestamp":"1700000000","type":"text","text":{"body":"x"}}],
		"statuses":[{"id":"wamid.S","status":"delivered","timestamp":"1700000001","recipient_id":"447902111123"}]}}]}]}`)
	ev, err := whatsapp.ParseWebhook(body)
	if err == nil {
		t.Fatal("the unreadable message is not reported")
	}
	if len(ev.Messages) != 1 || ev.Messages[0].ChannelMessageID != "wamid.GOOD" || len(ev.Statuses) != 1 {
		t.Fatalf("the readable items were lost: %+v", ev)
	}
}
