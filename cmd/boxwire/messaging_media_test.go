package main

import (
	"bytes"
	"context"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/blob"
	"github.com/boxwire/boxwire/internal/channel/whatsapp/whatsapptest"
)

// The media tests (issue 16.3, 16.4) run the real server: files come in
// from the WhatsApp fake and go out through it or the sandbox, and are
// downloaded back through GET /media/{id} by the people who may.

// Small files with the right first bytes, so that a sniffed type is right.
var (
	jpegFile = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte("j"), 2000)...)
	pngFile  = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("p"), 1500)...)
	pdfFile  = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("d"), 3000)...)
	mp4File  = append([]byte("\x00\x00\x00\x18ftypmp42"), bytes.Repeat([]byte("v"), 4000)...)
	oggFile  = append([]byte("OggS\x00"), bytes.Repeat([]byte("a"), 1000)...)
	webpFile = append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), bytes.Repeat([]byte("s"), 800)...)
)

// part is one part of a multipart body: a field, or a file when name is set.
type part struct {
	field, value      string // a text field
	name, contentType string // a file part's filename and type ("" sends none)
	data              []byte
}

// multipartBody encodes parts; it returns the body and its Content-Type.
func multipartBody(parts ...part) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.data == nil {
			w.WriteField(p.field, p.value)
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+p.field+`"; filename="`+p.name+`"`)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, _ := w.CreatePart(h)
		pw.Write(p.data)
	}
	w.Close()
	return b.String(), w.FormDataContentType()
}

// postForm sends a multipart request.
func (a *msgClient) postForm(path string, parts ...part) response {
	a.t.Helper()
	body, ct := multipartBody(parts...)
	return a.do("POST", path, body, "Content-Type", ct)
}

// refusedForm checks that a multipart request is refused with status,
// naming field.
func (a *msgClient) refusedForm(path string, status int, field string, parts ...part) {
	a.t.Helper()
	r := a.postForm(path, parts...)
	if r.status != status {
		a.t.Fatalf("POST %s: got %d, want %d: %s", path, r.status, status, r.body)
	}
	if _, ok := r.fields(a.t)[field]; !ok {
		a.t.Fatalf("POST %s: the error does not name %s: %s", path, field, r.body)
	}
}

// download GETs a fileLocation (an absolute URL on the server).
func (a *msgClient) download(base, loc string) response {
	a.t.Helper()
	if !strings.HasPrefix(loc, base+"/media/") {
		a.t.Fatalf("fileLocation %q is not a file URL on %s", loc, base)
	}
	return a.do("GET", strings.TrimPrefix(loc, base), nil)
}

// keptFiles counts the files in the media blob directory (uploads in
// flight under tmp/ aside).
func keptFiles(t *testing.T, data string) int {
	t.Helper()
	n := 0
	root := filepath.Join(data, "media")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(path, filepath.Join(root, "tmp")) {
			n++
		}
		return nil
	})
	return n
}

// tmpFiles counts the uploads left under the media store's tmp/.
func tmpFiles(t *testing.T, data string) int {
	t.Helper()
	es, _ := os.ReadDir(filepath.Join(data, "media", "tmp"))
	return len(es)
}

// newAgentWithoutReach adds an agent in no team: they reach no API account.
func newAgentWithoutReach(t *testing.T, a *acme) *msgClient {
	a.admin.call("POST", "/user", map[string]any{"firstName": "Carl", "lastName": "Loner", "email": "carl@acme.test",
		"password": "battery staple", "role": "agent"}, 201)
	return newAPI(t, a.ts.URL(), "carl@acme.test", "battery staple")
}

// TestWhatsAppIncomingMedia: every kind of file a customer sends is
// fetched from the Cloud API in the background (the callback is answered
// at once), kept, and served at fileLocation to the members who reach the
// account; its caption is the bodyText. Others get 404.
func TestWhatsAppIncomingMedia(t *testing.T) {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	// The fake listens on loopback, which the outbound guard refuses
	// unless the operator allows it, as for a webhook on the premises.
	w := setUpWhatsAppVia(t, fake, fake.URL, allowPrivateHooks)
	base := w.ts.URL()
	hook := newHookReceiver(t, 0)
	secret := w.admin.call("POST", "/webhook", map[string]any{"type": "message", "targetUrl": hook.URL}, 201)["secret"].(string)

	for _, tc := range []struct {
		kind, mime, caption, filename string
		data                          []byte
	}{
		{"image", "image/jpeg", "the leak under the sink", "", jpegFile},
		{"video", "video/mp4", "it drips", "", mp4File},
		{"audio", "audio/ogg; codecs=opus", "", "", oggFile},
		{"document", "application/pdf", "my contract", "contract 2024.pdf", pdfFile},
		{"sticker", "image/webp", "", "", webpFile},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			id := fake.AddMedia(waPhoneNumberID, tc.mime, tc.data)
			body, wamid := fake.InboundMedia(waPhoneNumberID, "+447700900123", "Ann", tc.kind, id, tc.caption, tc.filename)
			w.deliver(body)
			var msg map[string]any
			waitFor(t, 15*time.Second, tc.kind+" fetched", func() bool {
				for _, m := range w.admin.items("/message?apiAccountId=" + w.account) {
					if m["mediaType"] == tc.kind && m["mediaStatus"] == "ready" && m["bodyText"] == tc.caption {
						msg = m
						return true
					}
				}
				return false
			})
			_ = wamid
			if msg["messageDirection"] != "incoming" || msg["mediaError"] != nil {
				t.Fatalf("the message: %v", msg)
			}
			loc := msg["fileLocation"].(string)
			for name, c := range map[string]*msgClient{"admin": w.admin, "agent of the account's team": w.agent} {
				r := c.download(base, loc)
				if r.status != 200 || !bytes.Equal(r.body, tc.data) {
					t.Fatalf("%s downloads %s: %d, %d bytes", name, loc, r.status, len(r.body))
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(tc.mime, ct) {
					t.Errorf("Content-Type %q, want %q", ct, tc.mime)
				}
				if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") ||
					(tc.filename != "" && !strings.Contains(cd, tc.filename)) {
					t.Errorf("Content-Disposition %q", cd)
				}
				if r.header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("served without nosniff")
				}
			}
			if tc.filename != "" && msg["fileName"] != tc.filename {
				t.Errorf("fileName %v, want %q", msg["fileName"], tc.filename)
			}
			// The webhook's message.updated carries the fileLocation.
			hook.waitEvent(t, secret, "message.updated", func(d map[string]any) bool {
				return d["messageId"] == msg["messageId"] && d["fileLocation"] == loc
			})
		})
	}

	// The attackers: another organisation's admin, an agent of this one
	// who reaches no account, and no one at all.
	msgs := w.admin.items("/message?apiAccountId=" + w.account)
	loc := msgs[0]["fileLocation"].(string)
	if r := w.outsider.download(base, loc); r.status != 404 {
		t.Fatalf("another organisation's admin downloads a file: %d %s", r.status, r.body)
	}
	if r := newAgentWithoutReach(t, w.acme).download(base, loc); r.status != 404 {
		t.Fatalf("an agent without reach downloads a file: %d %s", r.status, r.body)
	}
	if r := newClient(t, base).do("GET", strings.TrimPrefix(loc, base), nil); r.status != 401 {
		t.Fatalf("an anonymous download: %d", r.status)
	}
}

// TestWhatsAppIncomingMediaFailures: a file that cannot be fetched leaves
// the message with an empty fileLocation, mediaStatus "failed" and
// mediaError saying why (and a log line); a passing failure is retried.
func TestWhatsAppIncomingMediaFailures(t *testing.T) {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	w := setUpWhatsAppVia(t, fake, fake.URL, allowPrivateHooks, func(c *Config) { c.MaxMediaSize = 64 << 10 })
	send := func(kind, mime string, data []byte, caption string) string {
		t.Helper()
		id := "999000111222333" // unknown to Meta
		if data != nil {
			id = fake.AddMedia(waPhoneNumberID, mime, data)
		}
		body, _ := fake.InboundMedia(waPhoneNumberID, "+447700900124", "Ben", kind, id, caption, "")
		w.deliver(body)
		return caption
	}
	outcome := func(caption string) map[string]any {
		t.Helper()
		var msg map[string]any
		waitFor(t, 20*time.Second, caption, func() bool {
			for _, m := range w.admin.items("/message?apiAccountId=" + w.account) {
				if m["bodyText"] == caption && m["mediaStatus"] != "pending" {
					msg = m
					return true
				}
			}
			return false
		})
		return msg
	}

	// Two failed downloads, then the file: kept, after retries.
	fake.FailDownloads(2)
	if m := outcome(send("image", "image/png", pngFile, "retried")); m["mediaStatus"] != "ready" || m["fileLocation"] == "" {
		t.Fatalf("after two failed downloads: %v", m)
	}
	if n := fake.Downloads(); n < 3 {
		t.Fatalf("%d downloads, want 3 (two failed)", n)
	}

	for _, tc := range []struct {
		caption, kind, mime, why string
		data                     []byte
	}{
		{"expired", "image", "", "Object with ID", nil},
		{"a zip", "document", "application/zip", "type", []byte("PK\x03\x04zip")},
		{"too big", "image", "image/jpeg", "larger than the limit", bytes.Repeat([]byte("x"), 70<<10)},
	} {
		m := outcome(send(tc.kind, tc.mime, tc.data, tc.caption))
		if m["mediaStatus"] != "failed" || m["fileLocation"] != "" || !strings.Contains(m["mediaError"].(string), tc.why) {
			t.Errorf("%s: %v, want failed with mediaError about %q", tc.caption, m, tc.why)
		}
	}
	if !strings.Contains(w.ts.logs.String(), "message file could not be fetched") {
		t.Errorf("the failures were not logged")
	}

	// A media URL inside the server's network (here the cloud metadata
	// address, refused even with --webhook-allow-private) is never
	// connected to: the outbound guard refuses it.
	fake.MediaURL(func(id string) string { return "http://169.254.169.254/latest/meta-data/?mid=" + id })
	before := fake.Downloads()
	m := outcome(send("image", "image/png", pngFile, "metadata"))
	if m["mediaStatus"] != "failed" || !strings.Contains(m["mediaError"].(string), "cloud metadata") {
		t.Fatalf("a media URL to the metadata address: %v", m)
	}
	if fake.Downloads() != before {
		t.Fatalf("the fake was asked for a download")
	}
	if n := keptFiles(t, w.ts.store.Data); n != 1 {
		t.Fatalf("%d files kept, want the one fetched", n)
	}
}

// TestWhatsAppMediaGuardRefusesLoopback: without the operator's
// allowance, a media URL on loopback is refused at once, not retried.
func TestWhatsAppMediaGuardRefusesLoopback(t *testing.T) {
	w := setUpWhatsApp(t)
	id := w.fake.AddMedia(waPhoneNumberID, "image/png", pngFile)
	body, _ := w.fake.InboundMedia(waPhoneNumberID, "+447700900125", "Cid", "image", id, "inside", "")
	w.deliver(body)
	m := w.admin.waitField("/message/"+w.admin.items("/message?apiAccountId=" + w.account)[0]["messageId"].(string), "mediaStatus", "failed")
	if !strings.Contains(m["mediaError"].(string), "loopback") || w.fake.Downloads() != 0 {
		t.Fatalf("a loopback media URL: %v, %d downloads", m, w.fake.Downloads())
	}
}

// TestWhatsAppSendMedia: a file sent with POST /message is uploaded to
// /{phone-number-id}/media and sent by its id as the matching message
// type, with the caption (and a document's filename).
func TestWhatsAppSendMedia(t *testing.T) {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	w := setUpWhatsAppVia(t, fake, fake.URL, allowPrivateHooks)
	// The customer writes in with a photo: the window opens.
	id := fake.AddMedia(waPhoneNumberID, "image/jpeg", jpegFile)
	body, _ := fake.InboundMedia(waPhoneNumberID, "+447700900126", "Dee", "image", id, "see", "")
	w.deliver(body)
	in := w.admin.waitField("/message/"+w.admin.items("/message?apiAccountId=" + w.account)[0]["messageId"].(string), "mediaStatus", "ready")
	contact := w.contactOn("+447700900126")["contactId"].(string)

	r := w.agent.postForm("/message", part{field: "apiAccountId", value: w.account}, part{field: "contactId", value: contact},
		part{field: "message", value: "signed copy"}, part{field: "file", name: "lease.pdf", contentType: "application/pdf", data: pdfFile})
	if r.status != 201 {
		t.Fatalf("POST /message with a document: %d %s", r.status, r.body)
	}
	doc := r.json(t)
	w.agent.waitField("/message/"+doc["messageId"].(string), "isSent", true)
	// The customer's own photo, sent back by its fileLocation.
	photo := w.agent.call("POST", "/message", map[string]any{"apiAccountId": w.account, "contactId": contact,
		"fileLocation": in["fileLocation"]}, 201)
	w.agent.waitField("/message/"+photo["messageId"].(string), "isSent", true)

	ups, sends := fake.Uploads(), sendsTo(fake, "447700900126")
	if len(ups) != 2 || len(sends) != 2 {
		t.Fatalf("uploads %+v, sends %+v", ups, sends)
	}
	if u, s := ups[0], sends[0]; u.Type != "application/pdf" || u.FileName != "lease.pdf" || !bytes.Equal(u.Data, pdfFile) ||
		s.Type != "document" || s.MediaID != u.ID || s.Caption != "signed copy" || s.Filename != "lease.pdf" {
		t.Fatalf("the document: upload %+v, send %+v", u, s)
	}
	if u, s := ups[1], sends[1]; u.Type != "image/jpeg" || !bytes.Equal(u.Data, jpegFile) || s.Type != "image" || s.MediaID != u.ID || s.Caption != "" {
		t.Fatalf("the photo: upload %+v, send %+v", u, s)
	}
	// Meta's statuses follow the message as for text.
	w.deliver(fake.StatusUpdate(waPhoneNumberID, sends[0].ID, "read", 0))
	w.agent.waitField("/message/"+doc["messageId"].(string), "isRead", true)

	// The window closes: a file is refused as text is, and nothing kept.
	files := keptFiles(t, w.ts.store.Data)
	w.admin.call("POST", "/_test/clock", map[string]any{"advance": "25h"}, 200)
	w.agent.refusedForm("/message", 409, "contactId", part{field: "apiAccountId", value: w.account},
		part{field: "contactId", value: contact}, part{field: "file", name: "x.png", contentType: "image/png", data: pngFile})
	if n := keptFiles(t, w.ts.store.Data); n != files {
		t.Fatalf("a refused file was kept: %d files, was %d", n, files)
	}
}

// TestMessagingSendMediaSandbox: the sandbox takes files too; a file can
// be uploaded first (POST /media) and sent by its fileLocation; realtime
// frames and webhooks carry fileLocation; bad input is a 4xx naming the
// field and keeps nothing.
func TestMessagingSendMediaSandbox(t *testing.T) {
	a := setUpAcme(t, allowPrivateHooks, func(c *Config) { c.MaxMediaSize = 64 << 10 })
	base := a.ts.URL()
	hook := newHookReceiver(t, 0)
	secret := a.admin.call("POST", "/webhook", map[string]any{"type": "message", "targetUrl": hook.URL}, 201)["secret"].(string)
	bob := &user{client: a.agent.client, id: a.agentID}
	ws, _ := bob.dialWS(t, "")
	a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hi"}, 201)
	acct, contact := part{field: "apiAccountId", value: a.account}, part{field: "contactId", value: a.contact}

	// A file with no Content-Type of its own: its bytes say PNG.
	r := a.agent.postForm("/message", acct, contact, part{field: "message", value: "the plan"},
		part{field: "file", name: "plan.png", data: pngFile})
	if r.status != 201 {
		t.Fatalf("POST /message with a file: %d %s", r.status, r.body)
	}
	sent := r.json(t)
	if sent["mediaType"] != "image" || sent["bodyText"] != "the plan" || sent["fileName"] != "plan.png" {
		t.Fatalf("the message: %v", sent)
	}
	loc := sent["fileLocation"].(string)
	if got := a.agent.download(base, loc); got.status != 200 || !bytes.Equal(got.body, pngFile) || got.header.Get("Content-Type") != "image/png" {
		t.Fatalf("download: %d %s", got.status, got.header.Get("Content-Type"))
	}
	a.agent.waitField("/message/"+sent["messageId"].(string), "isDelivered", true)
	ws.waitFor(t, "the file's frame", func(frames []frame) bool {
		return hasObject(frames, "message.created", "fileLocation", loc)
	})
	hook.waitEvent(t, secret, "message.created", func(d map[string]any) bool { return d["fileLocation"] == loc })

	// Upload first, then send by fileLocation; audio goes without caption.
	up := a.agent.postForm("/media", acct, part{field: "file", name: "note.ogg", contentType: "audio/ogg", data: oggFile})
	if up.status != 201 {
		t.Fatalf("POST /media: %d %s", up.status, up.body)
	}
	audio := up.json(t)
	if audio["mediaType"] != "audio" || audio["size"] != float64(len(oggFile)) {
		t.Fatalf("the upload: %v", audio)
	}
	note := a.agent.call("POST", "/message", map[string]any{"apiAccountId": a.account, "contactId": a.contact,
		"fileLocation": audio["fileLocation"]}, 201)
	if note["fileLocation"] != audio["fileLocation"] || note["mediaType"] != "audio" || note["bodyText"] != "" {
		t.Fatalf("sent by fileLocation: %v", note)
	}
	a.agent.waitField("/message/"+note["messageId"].(string), "isDelivered", true)

	// Another organisation's file: its admin uploads one to their own account.
	theirs := a.outsider.call("POST", "/apiaccount", map[string]any{"name": "Other", "phoneNumber": "+447902111177", "channel": "sandbox"}, 201)["apiAccountId"].(string)
	their := a.outsider.postForm("/media", part{field: "apiAccountId", value: theirs}, part{field: "file", name: "x.png", contentType: "image/png", data: pngFile})
	if their.status != 201 {
		t.Fatalf("the other organisation's upload: %d %s", their.status, their.body)
	}
	theirLoc := their.json(t)["fileLocation"].(string)
	if got := a.admin.download(base, theirLoc); got.status != 404 {
		t.Fatalf("Acme's admin downloads another organisation's file: %d", got.status)
	}
	if got := a.outsider.download(base, loc); got.status != 404 {
		t.Fatalf("the other organisation downloads Acme's file: %d", got.status)
	}

	// The sandbox's customer sends a file too (admins inject it).
	inbound := "/apiaccount/" + a.account + "/sandbox/inbound"
	r = a.admin.postForm(inbound, part{field: "mobileNumber", value: "+447902111123"},
		part{field: "file", name: "scan.pdf", contentType: "application/pdf", data: pdfFile})
	if r.status != 201 {
		t.Fatalf("sandbox inbound with a file: %d %s", r.status, r.body)
	}
	scan := r.json(t)
	if scan["messageDirection"] != "incoming" || scan["mediaType"] != "document" || scan["mediaStatus"] != "ready" || scan["bodyText"] != "" {
		t.Fatalf("the incoming file: %v", scan)
	}
	if got := a.agent.download(base, scan["fileLocation"].(string)); got.status != 200 || !bytes.Equal(got.body, pdfFile) {
		t.Fatalf("the agent downloads the customer's file: %d", got.status)
	}

	messages, files := len(a.admin.items("/message")), keptFiles(t, a.ts.store.Data)
	r = a.agent.postForm(inbound, part{field: "mobileNumber", value: "+447902111123"},
		part{field: "file", name: "scan.pdf", contentType: "application/pdf", data: pdfFile})
	if r.status != 403 {
		t.Fatalf("an agent injects a file: %d %s", r.status, r.body)
	}
	a.admin.refusedForm(inbound, 400, "mobileNumber", part{field: "file", name: "scan.pdf", contentType: "application/pdf", data: pdfFile})
	a.admin.refusedForm(inbound, 400, "message", part{field: "mobileNumber", value: "+447902111123"})
	body := func(extra map[string]any) map[string]any {
		m := map[string]any{"apiAccountId": a.account, "contactId": a.contact}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	a.admin.refused("POST", "/message", body(map[string]any{"fileLocation": theirLoc}), 400, "fileLocation")
	a.admin.refusedForm("/message", 400, "fileLocation", acct, contact, part{field: "fileLocation", value: theirLoc})
	a.admin.refused("POST", "/message", body(map[string]any{"fileLocation": "http://elsewhere.example/x.png"}), 400, "fileLocation")
	a.admin.refused("POST", "/message", body(map[string]any{"fileLocation": audio["fileLocation"], "message": "words"}), 400, "message")
	a.agent.refusedForm("/message", 400, "file", acct, contact, part{field: "file", name: "a.zip", contentType: "application/zip", data: []byte("PK\x03\x04")})
	a.agent.refusedForm("/message", 400, "file", acct, contact, part{field: "file", name: "a.bin", data: []byte("\x01\x02\x03 no known type")})
	a.agent.refusedForm("/message", 413, "file", acct, contact, part{field: "file", name: "big.jpg", contentType: "image/jpeg", data: bytes.Repeat([]byte("x"), 70<<10)})
	a.agent.refusedForm("/message", 400, "message", acct, contact)
	a.agent.refusedForm("/message", 400, "file", acct, contact, part{field: "file", name: "empty.png", contentType: "image/png", data: []byte{}})
	a.agent.refusedForm("/message", 400, "fileLocation", acct, contact, part{field: "fileLocation", value: loc},
		part{field: "file", name: "p.png", contentType: "image/png", data: pngFile})
	a.agent.refusedForm("/media", 400, "file", acct)
	a.agent.refusedForm("/media", 400, "apiAccountId", part{field: "apiAccountId", value: theirs}, part{field: "file", name: "p.png", contentType: "image/png", data: pngFile})
	a.agent.refusedForm("/media", 400, "apiAccountId", part{field: "apiAccountId", value: a.other}, part{field: "file", name: "p.png", contentType: "image/png", data: pngFile})
	if n := len(a.admin.items("/message")); n != messages {
		t.Fatalf("refused requests stored messages: %d, was %d", n, messages)
	}
	if n := keptFiles(t, a.ts.store.Data); n != files {
		t.Fatalf("refused requests kept files: %d, was %d", n, files)
	}
	if n := tmpFiles(t, a.ts.store.Data); n != 0 {
		t.Fatalf("%d uploads left in tmp/", n)
	}
}

// TestMessagingMultipartTextTheStoresDisagreeOn: the text fields of a
// multipart POST /message or POST /media holding a NUL byte or invalid
// UTF-8 get a 400 naming the field, as a JSON body's would, on both
// engines (PostgreSQL would answer 500 where the text reached it).
func TestMessagingMultipartTextTheStoresDisagreeOn(t *testing.T) {
	a := setUpAcme(t)
	a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hi"}, 201)
	file := part{field: "file", name: "p.png", contentType: "image/png", data: pngFile}
	for _, bad := range []string{"a\x00b", "\xff"} {
		for _, field := range []string{"apiAccountId", "contactId", "message", "fileLocation"} {
			parts := []part{{field: "apiAccountId", value: a.account}, {field: "contactId", value: a.contact}}
			for i := range parts {
				if parts[i].field == field {
					parts[i].value = bad
				}
			}
			if field == "message" || field == "fileLocation" {
				parts = append(parts, part{field: field, value: bad})
			}
			if field != "fileLocation" {
				parts = append(parts, file)
			}
			a.admin.refusedForm("/message", 400, field, parts...)
		}
		a.admin.refusedForm("/media", 400, "apiAccountId", part{field: "apiAccountId", value: bad}, file)
	}
	if n := keptFiles(t, a.ts.store.Data); n != 0 {
		t.Fatalf("%d files kept", n)
	}
}

// TestWhatsAppCallbackDoesNotWaitForTheFile: Meta's callback is answered
// while the file's download is still hanging; the message is there,
// pending, and gets its file once the download completes.
func TestWhatsAppCallbackDoesNotWaitForTheFile(t *testing.T) {
	fake := whatsapptest.New()
	t.Cleanup(fake.Close)
	w := setUpWhatsAppVia(t, fake, fake.URL, allowPrivateHooks)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			rw.Write(pngFile)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	fake.MediaURL(func(string) string { return slow.URL + "/file" })
	id := fake.AddMedia(waPhoneNumberID, "image/png", pngFile)
	body, _ := fake.InboundMedia(waPhoneNumberID, "+447700900127", "Eve", "image", id, "slow one", "")
	w.deliver(body) // fails the test unless answered 200
	msg := w.admin.items("/message?apiAccountId=" + w.account)[0]
	if msg["mediaStatus"] != "pending" || msg["fileLocation"] != "" || msg["bodyText"] != "slow one" {
		t.Fatalf("while the download hangs: %v", msg)
	}
	close(release)
	got := w.admin.waitField("/message/"+msg["messageId"].(string), "mediaStatus", "ready")
	if r := w.admin.download(w.ts.URL(), got["fileLocation"].(string)); r.status != 200 || !bytes.Equal(r.body, pngFile) {
		t.Fatalf("download: %d", r.status)
	}
}

// TestMediaOnS3KeepsItsOwnPrefix: with --blobs s3://…, messages' files go
// to the same bucket under media/, apart from the boxes' files, and
// download from there.
func TestMediaOnS3KeepsItsOwnPrefix(t *testing.T) {
	blobs, backend := s3Server(t)
	a := setUpAcme(t, func(c *Config) { c.Blobs = blobs })
	a.admin.call("POST", "/apiaccount/"+a.account+"/sandbox/inbound", map[string]any{"mobileNumber": "+447902111123", "message": "hi"}, 201)
	r := a.agent.postForm("/message", part{field: "apiAccountId", value: a.account}, part{field: "contactId", value: a.contact},
		part{field: "file", name: "plan.png", contentType: "image/png", data: pngFile})
	if r.status != 201 {
		t.Fatalf("POST /message with a file: %d %s", r.status, r.body)
	}
	loc := r.json(t)["fileLocation"].(string)
	if got := a.agent.download(a.ts.URL(), loc); got.status != 200 || !bytes.Equal(got.body, pngFile) {
		t.Fatalf("download from S3: %d", got.status)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	keys := objects(t, backend)
	if !slices.Contains(keys, "media/"+id) {
		t.Fatalf("the bucket holds %v, want media/%s", keys, id)
	}
	if n := keptFiles(t, a.ts.store.Data); n != 0 {
		t.Fatalf("%d files in the local media directory", n)
	}

	// The sweeps after a crash: an orphan under media/ goes, the message's
	// file stays, and the sweep of the boxes' files leaves media/ alone.
	ctx := context.Background()
	raw, err := openBlobs(ctx, a.ts.Config)
	if err != nil {
		t.Fatal(err)
	}
	media, _ := openMediaBlobs(ctx, a.ts.Config, raw)
	orphan := uuid.NewString()
	up, err := media.Receive(bytes.NewReader(pngFile), int64(len(pngFile)), "file")
	if err == nil {
		err = up.Keep(orphan)
	}
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute) // everything stored counts as old enough
	for _, st := range []blob.Sweepable{raw, media.(blob.Sweepable)} {
		if _, err := blob.Sweep(ctx, st, a.ts.Store.UnreferencedBlobs, later); err != nil {
			t.Fatal(err)
		}
	}
	keys = objects(t, backend)
	if slices.Contains(keys, "media/"+orphan) || !slices.Contains(keys, "media/"+id) {
		t.Fatalf("after the sweeps the bucket holds %v: want media/%s gone and media/%s kept", keys, orphan, id)
	}
}
