package whatsapptest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/big"
	"mime"
	"net/http"
	"strings"
)

// storedMedia is a file the fake holds: one a contact "sent" (AddMedia)
// or one uploaded to send.
type storedMedia struct {
	phoneNumberID string
	mimeType      string
	data          []byte
}

// Upload is one request the fake received on /{version}/{phone-number-id}/media.
type Upload struct {
	PhoneNumberID string
	Token         string
	Type          string // the "type" field: the file's MIME type
	FileName      string // the file part's filename
	Data          []byte
	Status        int    // the HTTP status answered
	ID            string // the media id answered; empty when refused
}

// AddMedia keeps a file as Meta does when a contact sends one to the
// business number phoneNumberID, and returns its media id: GET
// /{version}/{media-id} with that number's token then answers its URL.
func (f *Fake) AddMedia(phoneNumberID, mimeType string, data []byte) string {
	id := newMediaID()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.media[id] = storedMedia{phoneNumberID: phoneNumberID, mimeType: mimeType, data: append([]byte(nil), data...)}
	return id
}

// Uploads returns a copy of every upload received so far, in order.
func (f *Fake) Uploads() []Upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Upload(nil), f.uploads...)
}

// Downloads counts the file downloads served (failed ones included).
func (f *Fake) Downloads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.downloads
}

// FailDownloads makes the next n downloads of a file answer 500.
func (f *Fake) FailDownloads(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failDownloads = n
}

// MediaURL makes the media query answer url(id) as the file's URL
// instead of the fake's own, e.g. an address inside the server's network.
func (f *Fake) MediaURL(url func(id string) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mediaURL = url
}

// Media returns the bytes of an uploaded (or added) file, nil if unknown.
func (f *Fake) Media(id string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.media[id].data
}

// tokenKnown reports a token of some registered number. Called with f.mu held.
func (f *Fake) tokenKnown(r *http.Request) (string, bool) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	for _, t := range f.tokens {
		if tok != "" && t == tok {
			return tok, true
		}
	}
	return tok, false
}

// serveMediaInfo answers GET /{version}/{media-id}[?phone_number_id=…]
// as Meta documents it: the URL to download the file from (with the
// access token), its type, SHA-256 and size.
func (f *Fake) serveMediaInfo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("media")
	f.mu.Lock()
	_, known := f.tokenKnown(r)
	m, ok := f.media[id]
	phone := r.URL.Query().Get("phone_number_id")
	url := f.URL + "/whatsapp_business/attachments/?mid=" + id + "&ext=" + "1700000000" + "&hash=ATtx"
	if f.mediaURL != nil {
		url = f.mediaURL(id)
	}
	f.mu.Unlock()
	switch {
	case !known:
		writeJSON(w, http.StatusUnauthorized, errorBody(refusal{status: http.StatusUnauthorized, code: 190}))
	case !ok || (phone != "" && phone != m.phoneNumberID):
		writeJSON(w, http.StatusBadRequest, errorBody(refusal{code: 100, title: "Invalid parameter",
			details: "Unsupported get request. Object with ID '" + id + "' does not exist"}))
	default:
		sum := sha256.Sum256(m.data)
		writeJSON(w, http.StatusOK, obj{"messaging_product": "whatsapp", "url": url, "mime_type": m.mimeType,
			"sha256": hex.EncodeToString(sum[:]), "file_size": len(m.data), "id": id})
	}
}

// serveDownload serves a file's bytes to a request with a known token.
func (f *Fake) serveDownload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.downloads++
	_, known := f.tokenKnown(r)
	m, ok := f.media[r.URL.Query().Get("mid")]
	fail := f.failDownloads > 0
	if fail {
		f.failDownloads--
	}
	f.mu.Unlock()
	switch {
	case fail:
		http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
	case !known:
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	case !ok:
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", m.mimeType)
		w.Write(m.data)
	}
}

// serveUpload takes POST /{version}/{phone-number-id}/media: multipart
// with messaging_product "whatsapp", type (the MIME type) and file.
func (f *Fake) serveUpload(w http.ResponseWriter, r *http.Request) {
	u := Upload{PhoneNumberID: r.PathValue("phone")}
	u.Token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	problem := readUpload(r, &u)
	f.mu.Lock()
	tok, ok := f.tokens[u.PhoneNumberID]
	var answer any
	switch {
	case !ok || u.Token == "" || tok != u.Token:
		u.Status, answer = http.StatusUnauthorized, errorBody(refusal{status: http.StatusUnauthorized, code: 190})
	case problem != "":
		u.Status, answer = http.StatusBadRequest, errorBody(invalidParameter(problem))
	default:
		u.Status, u.ID = http.StatusOK, newMediaID()
		f.media[u.ID] = storedMedia{phoneNumberID: u.PhoneNumberID, mimeType: u.Type, data: u.Data}
		answer = obj{"id": u.ID}
	}
	f.uploads = append(f.uploads, u)
	f.mu.Unlock()
	writeJSON(w, u.Status, answer)
}

func readUpload(r *http.Request, u *Upload) string {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return "the body must be multipart/form-data"
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "the multipart body could not be read"
	}
	var product string
	var file bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "the multipart body could not be read"
		}
		b, err := io.ReadAll(io.LimitReader(p, 101<<20))
		if err != nil {
			return "the multipart body could not be read"
		}
		switch p.FormName() {
		case "messaging_product":
			product = string(b)
		case "type":
			u.Type = string(b)
		case "file":
			file, u.FileName, u.Data = true, p.FileName(), b
		default:
			return "unknown field " + p.FormName()
		}
	}
	switch {
	case product != "whatsapp":
		return `messaging_product must be "whatsapp"`
	case !file || len(u.Data) == 0:
		return "file is required"
	case u.Type == "":
		return "type is required"
	}
	return ""
}

// newMediaID returns an id shaped like Meta's media ids: 15 or 16 digits.
func newMediaID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e15))
	return n.Add(n, big.NewInt(1e15)).String()
}
