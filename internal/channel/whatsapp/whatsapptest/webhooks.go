package whatsapptest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// catalogue holds Meta's titles and details for the error codes tests
// use, as the Cloud API error-code reference words them.
var catalogue = map[int]struct{ title, details string }{
	100:    {"Invalid parameter", "Invalid parameter"},
	130429: {"Rate limit hit", "Cloud API message throughput has been reached."},
	131000: {"Something went wrong", "Message failed to send due to an unknown error."},
	131026: {"Message undeliverable", "Message Undeliverable."},
	131047: {"Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
	131049: {"This message was not delivered to maintain healthy ecosystem engagement.", "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},
	131056: {"(Business Account, Consumer Account) pair rate limit hit", "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."},
	132001: {"Template name does not exist in the translation", "template name does not exist in the translation"},
}

// displayPhoneNumber is the business number shown in deliveries' metadata.
const displayPhoneNumber = "15550783881"

type obj = map[string]any

// InboundMessage builds the webhook delivery of a text message that
// from ("+" and digits, or digits) sent to the business number
// phoneNumberID, with name as the sender's profile name, and returns it
// with the message's wamid. Sign it with Sign.
func (f *Fake) InboundMessage(phoneNumberID, from, name, text string) (body []byte, msgID string) {
	waID := strings.TrimPrefix(from, "+")
	msgID = newWamid()
	value := f.messagesValue(phoneNumberID)
	value["contacts"] = []any{obj{"profile": obj{"name": name}, "wa_id": waID}}
	value["messages"] = []any{obj{
		"from":      waID,
		"id":        msgID,
		"timestamp": f.timestamp(),
		"type":      "text",
		"text":      obj{"body": text},
	}}
	return f.delivery("messages", value), msgID
}

// StatusUpdate builds the webhook delivery of status ("sent",
// "delivered", "read" or "failed") for the message wamid sent from
// phoneNumberID. A non-zero errCode adds Meta's error object for that
// code (see FailNext), as Meta does for "failed".
func (f *Fake) StatusUpdate(phoneNumberID, wamid, status string, errCode int) []byte {
	st := obj{
		"id":           wamid,
		"status":       status,
		"timestamp":    f.timestamp(),
		"recipient_id": f.recipientOf(wamid),
	}
	if errCode != 0 {
		e := catalogue[errCode]
		st["errors"] = []any{obj{
			"code":       errCode,
			"title":      e.title,
			"message":    e.title,
			"error_data": obj{"details": e.details},
			"href":       "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
		}}
	} else {
		st["conversation"] = obj{"id": "6ceb9d929c9bdc4f90e967a32f8639b4", "origin": obj{"type": "service"}}
		st["pricing"] = obj{"billable": true, "pricing_model": "CBP", "category": "service"}
	}
	value := f.messagesValue(phoneNumberID)
	value["statuses"] = []any{st}
	return f.delivery("messages", value)
}

// TemplateStatus builds the message_template_status_update delivery of
// event ("APPROVED", "REJECTED", "PAUSED"…) for the template name, in
// "en". The reason is "NONE", except for REJECTED: "INVALID_FORMAT" with
// Meta's rejection_info, as in Meta's example.
func (f *Fake) TemplateStatus(name, event string) []byte {
	value := obj{
		"event":                     event,
		"message_template_id":       1689556908129832,
		"message_template_name":     name,
		"message_template_language": "en",
		"reason":                    "NONE",
		"message_template_category": "UTILITY",
	}
	if event == "REJECTED" {
		value["reason"] = "INVALID_FORMAT"
		value["rejection_info"] = obj{
			"reason":         "Your template has parameters placed next to each other (like {{1}}{{2}}) without text or punctuation between them.",
			"recommendation": "Separate parameters with descriptive text and ensure each parameter is clearly contextualized.",
		}
	}
	return f.delivery("message_template_status_update", value)
}

func (f *Fake) messagesValue(phoneNumberID string) obj {
	return obj{
		"messaging_product": "whatsapp",
		"metadata":          obj{"display_phone_number": displayPhoneNumber, "phone_number_id": phoneNumberID},
	}
}

// delivery wraps one change in Meta's envelope.
func (f *Fake) delivery(field string, value obj) []byte {
	entry := obj{"id": f.BusinessAccountID, "changes": []any{obj{"value": value, "field": field}}}
	if field == "message_template_status_update" {
		entry["time"] = f.now().Unix() // only template updates carry it
	}
	b, err := json.Marshal(obj{"object": "whatsapp_business_account", "entry": []any{entry}})
	if err != nil {
		panic(err) // only maps, strings and numbers: cannot happen
	}
	return b
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// timestamp is a delivery's time as Meta writes it: unix seconds, in a string.
func (f *Fake) timestamp() string { return strconv.FormatInt(f.now().Unix(), 10) }

func (f *Fake) recipientOf(wamid string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sends {
		if s.ID == wamid {
			return s.To
		}
	}
	return ""
}

// InboundMedia builds the webhook delivery of a media message of kind
// ("image", "video", "audio", "document" or "sticker") that from sent to
// phoneNumberID, naming the file mediaID (see AddMedia) with its type,
// SHA-256, and the caption and filename given (Meta sends a caption only
// with images, videos and documents, a filename only with documents).
func (f *Fake) InboundMedia(phoneNumberID, from, name, kind, mediaID, caption, filename string) (body []byte, msgID string) {
	waID := strings.TrimPrefix(from, "+")
	msgID = newWamid()
	f.mu.Lock()
	m := f.media[mediaID]
	f.mu.Unlock()
	sum := sha256.Sum256(m.data)
	file := obj{"id": mediaID, "mime_type": m.mimeType, "sha256": hex.EncodeToString(sum[:])}
	if caption != "" {
		file["caption"] = caption
	}
	if filename != "" {
		file["filename"] = filename
	}
	switch kind {
	case "audio":
		file["voice"] = false
	case "sticker":
		file["animated"] = false
	}
	value := f.messagesValue(phoneNumberID)
	value["contacts"] = []any{obj{"profile": obj{"name": name}, "wa_id": waID}}
	value["messages"] = []any{obj{"from": waID, "id": msgID, "timestamp": f.timestamp(), "type": kind, kind: file}}
	return f.delivery("messages", value), msgID
}
