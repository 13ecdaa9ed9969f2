package msgrules

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/printable"
)

// Media kinds: WhatsApp's message types that carry a file.
const (
	MediaImage    = "image"
	MediaVideo    = "video"
	MediaAudio    = "audio"
	MediaDocument = "document"
	MediaSticker  = "sticker"
)

// Media states of a message with a file.
const (
	MediaPending = "pending" // an incoming file is being fetched from the channel
	MediaReady   = "ready"   // fileLocation serves it
	MediaFailed  = "failed"  // it could not be fetched; mediaError says why
)

// mediaTypes are the content types WhatsApp's Cloud API accepts, by
// kind, with its size limit for the kind (Meta's "Supported media
// types"). Boxwire takes the same list both ways: a file it could not
// send on is not one it keeps.
var mediaTypes = map[string]struct {
	kind  string
	limit int64
}{
	"image/jpeg":                    {MediaImage, 5 << 20},
	"image/png":                     {MediaImage, 5 << 20},
	"image/webp":                    {MediaSticker, 500 << 10}, // animated; static ones are 100 KB
	"video/mp4":                     {MediaVideo, 16 << 20},
	"video/3gpp":                    {MediaVideo, 16 << 20},
	"audio/aac":                     {MediaAudio, 16 << 20},
	"audio/amr":                     {MediaAudio, 16 << 20},
	"audio/mpeg":                    {MediaAudio, 16 << 20},
	"audio/mp4":                     {MediaAudio, 16 << 20},
	"audio/ogg":                     {MediaAudio, 16 << 20},
	"text/plain":                    {MediaDocument, 100 << 20},
	"application/pdf":               {MediaDocument, 100 << 20},
	"application/msword":            {MediaDocument, 100 << 20},
	"application/vnd.ms-excel":      {MediaDocument, 100 << 20},
	"application/vnd.ms-powerpoint": {MediaDocument, 100 << 20},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {MediaDocument, 100 << 20},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {MediaDocument, 100 << 20},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {MediaDocument, 100 << 20},
}

// MaxMediaLimit is the largest file any kind takes (a document).
const MaxMediaLimit = 100 << 20

// MaxFileName bounds a file's name, in bytes.
const MaxFileName = 240

// MediaKind returns the kind of a file of contentType (parameters such as
// "; codecs=opus" are ignored) and the largest such file, capped at max
// when max > 0. An unknown or malformed type is an invalid error naming
// field.
func MediaKind(field, contentType string, max int64) (kind, mimeType string, limit int64, err error) {
	mt, _, perr := mime.ParseMediaType(contentType)
	t, ok := mediaTypes[mt]
	if perr != nil || !ok {
		return "", "", 0, errs.Field(errs.Body, field, errs.Invalid_,
			"%s has type %q, which WhatsApp does not take: send JPEG or PNG images, MP4 or 3GPP videos, AAC, AMR, MP3, MP4 or OGG audio, WebP stickers, or PDF, text or Office documents",
			field, printable.Clean(contentType))
	}
	limit = t.limit
	if max > 0 && max < limit {
		limit = max
	}
	return t.kind, mt, limit, nil
}

// TakesCaption reports whether a file of kind may carry text with it:
// WhatsApp sends no caption with audio or stickers.
func TakesCaption(kind string) bool { return kind != MediaAudio && kind != MediaSticker }

// FileName is a file's name made safe to keep and to show: its last
// path element, printable, at most MaxFileName bytes; "" if nothing is
// left.
func FileName(name string) string {
	name = printable.Clean(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	for len(name) > MaxFileName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// Media is a file kept for an organisation's messages: received from a
// channel, or uploaded to be sent. FileLocation is where members who
// reach its API account download it.
type Media struct {
	MediaID      string `json:"mediaId"`
	OrgID        string `json:"-"`
	APIAccountID string `json:"apiAccountId"`
	MediaType    string `json:"mediaType"`
	ContentType  string `json:"contentType"`
	FileName     string `json:"fileName,omitempty"`
	Size         int64  `json:"size"`
	FileLocation string `json:"fileLocation"`
}
