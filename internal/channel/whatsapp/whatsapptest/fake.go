// Package whatsapptest is a local fake of the WhatsApp Cloud API for
// tests: a Graph API server that takes sends and records them, refuses
// them the way Meta does when told to, and builds the signed webhook
// deliveries Meta would post back. Its payloads are written from Meta's
// documentation, independently of package whatsapp, so a test that
// passes against it checks the client against the documented shapes.
package whatsapptest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Send is one request the fake received on /{version}/{phone-number-id}/messages.
type Send struct {
	PhoneNumberID string
	Token         string // the bearer token presented
	To            string // as sent; the fake requires digits without "+"
	Type          string // "text" or "template"
	Text          string // text.body
	Template      string // template.name
	Language      string // template.language.code
	Params        []string
	Body          []byte // the request body as received
	Status        int    // the HTTP status the fake answered
	ID            string // the wamid answered; empty when refused
	// A media message (Type image, video, audio, document or sticker):
	// the uploaded file's id, its caption and a document's filename.
	MediaID  string
	Caption  string
	Filename string
}

// Fake is a running fake Graph API. Create it with New and Close it
// when done. Its methods are safe for concurrent use.
type Fake struct {
	URL string // the base URL, for whatsapp.Client.BaseURL
	// BusinessAccountID is the entry id of the webhook deliveries built.
	BusinessAccountID string
	// Now dates webhook deliveries; time.Now when nil. Set it before use.
	Now func() time.Time

	srv *httptest.Server

	mu       sync.Mutex
	tokens   map[string]string // phone number id → access token
	sends    []Send
	failures []refusal
	closed   map[string]bool // recipients (digits) outside the 24-hour window

	media         map[string]storedMedia // media id → file
	uploads       []Upload
	downloads     int // downloads served
	failDownloads int // the next downloads answer 500
	mediaURL      func(id string) string
}

// refusal is an error answer: an HTTP status and Meta's error object.
type refusal struct {
	status  int
	code    int
	title   string
	details string
}

// New starts a fake that knows no phone number yet: see AddNumber.
func New() *Fake {
	f := &Fake{
		BusinessAccountID: "102290129340398",
		tokens:            map[string]string{},
		closed:            map[string]bool{},
		media:             map[string]storedMedia{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{phone}/messages", f.serveSend)
	mux.HandleFunc("POST /{version}/{phone}/media", f.serveUpload)
	mux.HandleFunc("GET /{version}/{media}", f.serveMediaInfo)
	mux.HandleFunc("GET /whatsapp_business/attachments/", f.serveDownload)
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	return f
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// AddNumber registers a business phone number and the access token that
// may send from it. Sends with any other token are refused with Meta's
// 401, code 190.
func (f *Fake) AddNumber(phoneNumberID, accessToken string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[phoneNumberID] = accessToken
}

// Sends returns a copy of every send request received so far, refused
// ones included, in order.
func (f *Fake) Sends() []Send {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Send(nil), f.sends...)
}

// FailNext makes the next n send requests fail with the HTTP status and
// Meta error code given, whatever they hold (the token is not checked):
// e.g. FailNext(1, 500, 131000, "Something went wrong") for a transient
// failure, FailNext(1, 400, 131047, "Re-engagement message") for a
// closed window. message is the error's title; known codes get Meta's
// details text.
func (f *Fake) FailNext(n, status, code int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := refusal{status: status, code: code, title: message, details: catalogue[code].details}
	if r.details == "" {
		r.details = message
	}
	for range n {
		f.failures = append(f.failures, r)
	}
}

// ReengagementFor closes the 24-hour window of recipient to ("+" and
// digits, or digits): text sends to it are refused with 400, code
// 131047, as Meta does; template sends still go through.
func (f *Fake) ReengagementFor(to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed[strings.TrimPrefix(to, "+")] = true
}

func (f *Fake) serveSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s := Send{PhoneNumberID: r.PathValue("phone"), Body: body}
	s.Token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	answer := f.decide(&s, r.Header.Get("Content-Type"))
	// Written after decide has released the lock: never hold a lock
	// while writing to a connection.
	writeJSON(w, s.Status, answer)
}

// decide records s and returns the answer to send.
func (f *Fake) decide(s *Send, contentType string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var answer any
	if ref, ok := f.refuse(s, contentType); ok {
		s.Status, answer = ref.status, errorBody(ref)
	} else {
		s.Status, s.ID = http.StatusOK, newWamid()
		answer = map[string]any{
			"messaging_product": "whatsapp",
			"contacts":          []any{map[string]any{"input": s.To, "wa_id": s.To}},
			"messages":          []any{map[string]any{"id": s.ID}},
		}
	}
	f.sends = append(f.sends, *s)
	return answer
}

// refuse says whether and how Meta would refuse s, in Meta's order:
// injected failures, then authentication, then the request, then the
// recipient's window. Called with f.mu held.
func (f *Fake) refuse(s *Send, contentType string) (refusal, bool) {
	if len(f.failures) > 0 {
		r := f.failures[0]
		f.failures = f.failures[1:]
		parseRequest(s) // still record what was sent
		return r, true
	}
	if tok, ok := f.tokens[s.PhoneNumberID]; !ok || s.Token == "" || tok != s.Token {
		parseRequest(s)
		return refusal{status: http.StatusUnauthorized, code: 190}, true
	}
	problem := parseRequest(s)
	if !strings.HasPrefix(contentType, "application/json") {
		problem = "the body must be application/json"
	}
	if problem != "" {
		return invalidParameter(problem), true
	}
	if s.Type == "text" && f.closed[s.To] {
		return refusal{status: http.StatusBadRequest, code: 131047, title: "Re-engagement message",
			details: catalogue[131047].details}, true
	}
	return refusal{}, false
}

func invalidParameter(details string) refusal {
	return refusal{status: http.StatusBadRequest, code: 100, title: "Invalid parameter", details: details}
}

// sendRequest is the documented body of a text or template send. The
// fake is stricter than Meta in one way: "to" must be digits only.
type sendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             *struct {
		Body       string `json:"body"`
		PreviewURL bool   `json:"preview_url"`
	} `json:"text"`
	Template *struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string `json:"type"`
			Parameters []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
	Image    *mediaObject `json:"image"`
	Video    *mediaObject `json:"video"`
	Audio    *mediaObject `json:"audio"`
	Document *mediaObject `json:"document"`
	Sticker  *mediaObject `json:"sticker"`
}

// mediaObject is the file of a media message: an uploaded file's id (or
// a link, which the fake does not serve).
type mediaObject struct {
	ID       string `json:"id"`
	Link     string `json:"link"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

// file is the media object of the message's type, if it has one.
func (r sendRequest) file() *mediaObject {
	return map[string]*mediaObject{"image": r.Image, "video": r.Video, "audio": r.Audio,
		"document": r.Document, "sticker": r.Sticker}[r.Type]
}

// parseRequest fills s from its body and returns what is wrong with the
// request, if anything. Unknown keys are refused, as Meta does, so a
// misspelt key fails the test that sends it.
func parseRequest(s *Send) (problem string) {
	var req sendRequest
	dec := json.NewDecoder(strings.NewReader(string(s.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return "the body is not a valid message: " + err.Error()
	}
	s.To, s.Type = req.To, req.Type
	if req.Text != nil {
		s.Text = req.Text.Body
	}
	if m := req.file(); m != nil {
		s.MediaID, s.Caption, s.Filename = m.ID, m.Caption, m.Filename
	}
	if t := req.Template; t != nil {
		s.Template, s.Language = t.Name, t.Language.Code
		for _, c := range t.Components {
			for _, p := range c.Parameters {
				s.Params = append(s.Params, p.Text)
			}
		}
	}
	return checkRequest(req)
}

func checkRequest(req sendRequest) string {
	switch {
	case req.MessagingProduct != "whatsapp":
		return `messaging_product must be "whatsapp"`
	case req.RecipientType != "" && req.RecipientType != "individual":
		return `recipient_type must be "individual"`
	case !digits(req.To):
		return "to must be the recipient's number, digits only"
	case req.Type == "text" && (req.Text == nil || req.Text.Body == "" || req.Template != nil):
		return "a text message needs text.body and nothing else"
	case req.Type == "template":
		return checkTemplate(req)
	case mediaKinds[req.Type]:
		return checkMedia(req)
	case req.Type != "text":
		return "type must be text, template, image, video, audio, document or sticker"
	}
	return ""
}

var mediaKinds = map[string]bool{"image": true, "video": true, "audio": true, "document": true, "sticker": true}

// checkMedia checks a media message: one object, of its type, naming a
// file by id; no caption on audio or stickers, a filename only on documents.
func checkMedia(req sendRequest) string {
	n := 0
	for _, m := range []*mediaObject{req.Image, req.Video, req.Audio, req.Document, req.Sticker} {
		if m != nil {
			n++
		}
	}
	m := req.file()
	switch {
	case m == nil || n != 1 || req.Text != nil || req.Template != nil:
		return "a " + req.Type + " message needs " + req.Type + " and nothing else"
	case m.ID == "" || m.Link != "":
		return req.Type + ".id is required (the fake serves no links)"
	case m.Caption != "" && (req.Type == "audio" || req.Type == "sticker"):
		return req.Type + " takes no caption"
	case m.Filename != "" && req.Type != "document":
		return "only a document has a filename"
	}
	return ""
}

func checkTemplate(req sendRequest) string {
	t := req.Template
	switch {
	case t == nil || req.Text != nil:
		return "a template message needs template and nothing else"
	case t.Name == "" || t.Language.Code == "":
		return "template.name and template.language.code are required"
	}
	for _, c := range t.Components {
		if c.Type != "body" || len(c.Parameters) == 0 {
			return "a component must be a body with parameters"
		}
		for _, p := range c.Parameters {
			if p.Type != "text" {
				return "parameters must be of type text"
			}
		}
	}
	return ""
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// errorBody is Meta's error answer for r.
func errorBody(r refusal) any {
	e := map[string]any{
		"type":       "OAuthException",
		"code":       r.code,
		"fbtrace_id": "AbCdEfGhIjKlMnOpQrStUvW",
	}
	if r.code == 190 {
		e["message"] = "Invalid OAuth access token - Cannot parse access token"
		return map[string]any{"error": e}
	}
	e["message"] = fmt.Sprintf("(#%d) %s", r.code, r.title)
	e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": r.details}
	return map[string]any{"error": e}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newWamid returns a fresh message id shaped like Meta's: "wamid." and
// padded base64, so callers that mishandle "=", "+" or "/" find out.
func newWamid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails: crypto/rand panics instead
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the X-Hub-Signature-256 header value Meta would send with
// body for the app whose secret is appSecret.
func (f *Fake) Sign(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
