package whatsapp

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/printable"
)

// inbound is one entry of "messages": something a WhatsApp user sent.
// Its content sits under a key named by Type; only the parts that can
// be shown as text are decoded.
type inbound struct {
	From      string      `json:"from"` // the sender's wa_id: digits, no "+"
	ID        string      `json:"id"`
	Timestamp unixSeconds `json:"timestamp"`
	Type      string      `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *media `json:"image"`
	Video    *media `json:"video"`
	Document *media `json:"document"`
	Audio    *media `json:"audio"`
	Sticker  *media `json:"sticker"`
	Button   *struct {
		Text string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		ButtonReply *struct {
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Reaction *struct {
		Emoji string `json:"emoji"`
	} `json:"reaction"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	System *struct {
		Body string `json:"body"`
	} `json:"system"`
}

// media is the file of an image, video, audio, document or sticker
// message: Meta keeps it under ID for 30 days, to be fetched.
type media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

// file is m's media object, with its kind, when m carries a file.
func (m inbound) file() (*media, string) {
	for _, c := range []struct {
		md   *media
		kind string
	}{{m.Image, "image"}, {m.Video, "video"}, {m.Audio, "audio"}, {m.Document, "document"}, {m.Sticker, "sticker"}} {
		if m.Type == c.kind && c.md != nil && c.md.ID != "" {
			return c.md, c.kind
		}
	}
	return nil, ""
}

func (m inbound) toInbound() (channel.Inbound, error) {
	switch {
	case m.ID == "":
		return channel.Inbound{}, errors.New("a message without an id")
	case !isDigits(m.From):
		return channel.Inbound{}, fmt.Errorf("message %s: sender %q is not a wa_id", m.ID, m.From)
	case time.Time(m.Timestamp).IsZero():
		return channel.Inbound{}, fmt.Errorf("message %s without a timestamp", m.ID)
	}
	in := channel.Inbound{
		ChannelMessageID: m.ID,
		From:             "+" + m.From,
		Text:             m.text(),
		At:               time.Time(m.Timestamp),
	}
	if md, kind := m.file(); md != nil {
		// The file is fetched later; its caption is the text.
		in.Text = md.Caption
		in.Media = &channel.MediaRef{ID: md.ID, Kind: kind, MimeType: md.MimeType, FileName: md.Filename}
		if !isMediaID(md.ID) {
			return channel.Inbound{}, fmt.Errorf("message %s: media id %q is not Meta's", m.ID, md.ID)
		}
	}
	// A NUL (\u0000) cannot be stored as text on PostgreSQL: such a
	// message is left out, so that the others of the callback are kept
	// and acknowledged instead of Meta redelivering them all forever.
	for field, v := range map[string]string{"id": in.ChannelMessageID, "text": in.Text} {
		if why := printable.Storable(v); why != "" {
			return channel.Inbound{}, fmt.Errorf("message %q: its %s %s", m.ID, field, why)
		}
	}
	return in, nil
}

// text is what the conversation shows for m. Boxwire keeps text only,
// so other kinds become a bracketed description rather than vanishing:
// the agent at least sees that the contact sent something.
func (m inbound) text() string {
	if s := m.content(); s != "" {
		return s
	}
	if m.Type == "" {
		return "[message]"
	}
	return "[" + m.Type + "]"
}

func (m inbound) content() string {
	switch m.Type {
	case "text":
		if m.Text != nil {
			return m.Text.Body
		}
	case "image", "video":
		return m.caption()
	case "document":
		if c := m.caption(); c != "" || m.Document == nil || m.Document.Filename == "" {
			return c
		}
		return "[document: " + m.Document.Filename + "]"
	case "button":
		if m.Button != nil {
			return m.Button.Text
		}
	case "interactive":
		return m.reply()
	case "reaction":
		return m.reaction()
	case "location":
		return m.location()
	case "system":
		if m.System != nil {
			return m.System.Body
		}
	}
	return ""
}

// isMediaID reports a media id as Meta writes them, digits; it goes into
// a URL's path, so nothing else is taken.
func isMediaID(id string) bool { return isDigits(id) && len(id) <= 64 }

func (m inbound) caption() string {
	for _, md := range []*media{m.Image, m.Video, m.Document} {
		if md != nil && md.Caption != "" {
			return md.Caption
		}
	}
	return ""
}

func (m inbound) reply() string {
	switch i := m.Interactive; {
	case i == nil:
		return ""
	case i.ButtonReply != nil:
		return i.ButtonReply.Title
	case i.ListReply != nil:
		return i.ListReply.Title
	}
	return ""
}

func (m inbound) reaction() string {
	if m.Reaction == nil || m.Reaction.Emoji == "" {
		// An empty emoji is how WhatsApp reports a removed reaction.
		return "[reaction removed]"
	}
	return "[reaction: " + m.Reaction.Emoji + "]"
}

func (m inbound) location() string {
	l := m.Location
	if l == nil {
		return ""
	}
	where := strings.TrimSpace(strings.Join([]string{l.Name, l.Address}, " "))
	if where != "" {
		where += " "
	}
	return fmt.Sprintf("[location: %s(%g, %g)]", where, l.Latitude, l.Longitude)
}
