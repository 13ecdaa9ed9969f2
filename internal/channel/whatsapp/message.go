package whatsapp

import (
	"strings"

	"github.com/boxwire/boxwire/internal/channel"
)

// message is the body of POST /{phone-number-id}/messages, for the two
// kinds Boxwire sends: text and template.
type message struct {
	MessagingProduct string    `json:"messaging_product"` // always "whatsapp"
	RecipientType    string    `json:"recipient_type"`    // always "individual"
	To               string    `json:"to"`
	Type             string    `json:"type"`
	Text             *text     `json:"text,omitempty"`
	Template         *template `json:"template,omitempty"`
	Image            *mediaOut `json:"image,omitempty"`
	Video            *mediaOut `json:"video,omitempty"`
	Audio            *mediaOut `json:"audio,omitempty"`
	Document         *mediaOut `json:"document,omitempty"`
	Sticker          *mediaOut `json:"sticker,omitempty"`
}

// mediaOut is the file of a media message, by the id the upload gave.
type mediaOut struct {
	ID       string `json:"id"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type text struct {
	Body string `json:"body"`
}

type template struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	// Components is omitted for a template without placeholders: Meta
	// refuses an empty body component.
	Components []component `json:"components,omitempty"`
}

type component struct {
	Type       string      `json:"type"` // "body"
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type string `json:"type"` // "text"
	Text string `json:"text"`
}

// defaultLanguage is channel.TemplateSend's documented default.
const defaultLanguage = "en"

// maxE164Digits is E.164's limit on country code plus national number.
const maxE164Digits = 15

func buildMessage(m channel.Outgoing) (message, error) {
	to, err := recipient(m.To)
	if err != nil {
		return message{}, err
	}
	msg := message{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
	switch {
	case m.Media != nil && m.Template != nil:
		return message{}, invalid("the message has both a file and a template")
	case m.Media != nil:
		return msg, nil // media: mediaMessage fills it once the file is uploaded
	case m.Text != "" && m.Template != nil:
		return message{}, invalid("the message has both text and template")
	case m.Text != "":
		msg.Type, msg.Text = "text", &text{Body: m.Text}
	case m.Template != nil:
		t, err := buildTemplate(*m.Template)
		if err != nil {
			return message{}, err
		}
		msg.Type, msg.Template = "template", t
	default:
		return message{}, invalid("the message has neither text nor template")
	}
	return msg, nil
}

func buildTemplate(ts channel.TemplateSend) (*template, error) {
	if ts.Name == "" {
		return nil, invalid("the template has no name")
	}
	t := &template{Name: ts.Name}
	t.Language.Code = ts.Language
	if t.Language.Code == "" {
		t.Language.Code = defaultLanguage
	}
	if len(ts.Params) > 0 {
		body := component{Type: "body", Parameters: make([]parameter, len(ts.Params))}
		for i, p := range ts.Params {
			body.Parameters[i] = parameter{Type: "text", Text: p}
		}
		t.Components = []component{body}
	}
	return t, nil
}

// recipient turns an E.164 number into the digits Meta's examples and
// wa_ids use. The number is expected to be normalized already; this
// only refuses what is plainly not one, before it costs a request.
func recipient(e164 string) (string, error) {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok || !isDigits(digits) || len(digits) > maxE164Digits {
		return "", invalid("the recipient is not an E.164 phone number")
	}
	return digits, nil
}

// mediaMessage makes msg the media message of kind for the file Meta
// stored as id, with caption (and a document's file name).
func mediaMessage(msg message, m *channel.MediaSend, id, caption string) (message, error) {
	out := &mediaOut{ID: id, Caption: caption}
	msg.Type = m.Kind
	switch m.Kind {
	case "image":
		msg.Image = out
	case "video":
		msg.Video = out
	case "document":
		out.Filename = m.FileName
		msg.Document = out
	case "audio", "sticker":
		if caption != "" {
			return message{}, invalid("WhatsApp sends no caption with " + m.Kind)
		}
		if m.Kind == "audio" {
			msg.Audio = out
		} else {
			msg.Sticker = out
		}
	default:
		return message{}, invalid("WhatsApp sends no file of kind " + m.Kind)
	}
	return msg, nil
}
