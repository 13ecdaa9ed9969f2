package whatsapp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxwire/boxwire/internal/channel"
)

func TestFetchMedia(t *testing.T) {
	f, c := newFake(t)
	data := []byte("%PDF-1.4 the lease")
	id := f.AddMedia(phoneID, "application/pdf", data)
	dl, err := c.FetchMedia(context.Background(), account, channel.MediaRef{ID: id, Kind: "document"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(dl.Body)
	dl.Body.Close()
	if err != nil || !bytes.Equal(got, data) || dl.ContentType != "application/pdf" || dl.Size != int64(len(data)) {
		t.Fatalf("download %q %q %d, %v", got, dl.ContentType, dl.Size, err)
	}

	// A file Meta does not have (expired after 30 days) is a permanent refusal.
	_, err = c.FetchMedia(context.Background(), account, channel.MediaRef{ID: "123456789012345"})
	channelError(t, err, 100, true)
	// A media id that is not digits never reaches a URL.
	_, err = c.FetchMedia(context.Background(), account, channel.MediaRef{ID: "../me"})
	channelError(t, err, 0, true)
	// A failing download is passing: retried.
	f.FailDownloads(1)
	_, err = c.FetchMedia(context.Background(), account, channel.MediaRef{ID: id})
	channelError(t, err, 0, false)
}

// TestFetchMediaChecksTheSum: bytes that are not the ones Meta announced
// fail at the end of the read, so they are never kept as the file.
func TestFetchMediaChecksTheSum(t *testing.T) {
	f, c := newFake(t)
	id := f.AddMedia(phoneID, "image/png", []byte("the real picture"))
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "something else")
	}))
	defer evil.Close()
	f.MediaURL(func(string) string { return evil.URL + "/x" })
	dl, err := c.FetchMedia(context.Background(), account, channel.MediaRef{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	if _, err := io.ReadAll(dl.Body); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("a mismatching download read with %v", err)
	}
}

func TestSendMediaUploadsThenSendsByID(t *testing.T) {
	f, c := newFake(t)
	data := []byte("\x89PNG plan")
	m := &channel.MediaSend{Kind: "image", ContentType: "image/png", FileName: "plan.png", Size: int64(len(data)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	if _, err := c.Send(context.Background(), account, channel.Outgoing{To: ada, Text: "the plan", Media: m}); err != nil {
		t.Fatal(err)
	}
	ups, s := f.Uploads(), onlySend(t, f)
	if len(ups) != 1 || ups[0].Type != "image/png" || ups[0].FileName != "plan.png" || !bytes.Equal(ups[0].Data, data) {
		t.Fatalf("uploads %+v", ups)
	}
	if s.Type != "image" || s.MediaID != ups[0].ID || s.Caption != "the plan" || s.Status != 200 {
		t.Fatalf("send %+v", s)
	}
	// Audio takes no caption: refused before anything is sent.
	m.Kind, m.ContentType = "audio", "audio/ogg"
	_, err := c.Send(context.Background(), account, channel.Outgoing{To: ada, Text: "words", Media: m})
	channelError(t, err, 0, true)
	if n := len(f.Sends()); n != 1 {
		t.Fatalf("%d sends", n)
	}
	// A refused upload (bad token) is Meta's 190, permanent.
	_, err = c.Send(context.Background(), channel.Account{PhoneNumberID: phoneID, AccessToken: "wrong"},
		channel.Outgoing{To: ada, Media: m})
	channelError(t, err, 190, true)
}
