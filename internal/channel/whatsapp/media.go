package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/boxwire/boxwire/internal/channel"
	"github.com/boxwire/boxwire/internal/netguard"
)

var _ channel.MediaFetcher = (*Client)(nil)

// mediaInfo is Meta's answer to GET /{media-id}: where to download the
// file (for 5 minutes, with the access token) and what it is.
type mediaInfo struct {
	URL      string     `json:"url"`
	MimeType string     `json:"mime_type"`
	SHA256   string     `json:"sha256"`
	FileSize flexNumber `json:"file_size"`
	ID       string     `json:"id"`
}

// flexNumber reads a number Meta writes either bare or in a string.
type flexNumber int64

func (n *flexNumber) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("file_size %s is not a number", b)
	}
	*n = flexNumber(v)
	return nil
}

// FetchMedia asks the Graph API where the file ref names is
// (GET /{media-id}?phone_number_id=…, which also checks that the file was
// sent to this number), then downloads it with the access token through
// MediaHTTP. Errors: a permanent *channel.Error when Meta refuses (the
// file expired after 30 days, the token is bad) or answers something
// unusable; any other error may clear up.
func (c *Client) FetchMedia(ctx context.Context, a channel.Account, ref channel.MediaRef) (channel.Download, error) {
	if err := checkAccount(a); err != nil {
		return channel.Download{}, err
	}
	if !isMediaID(ref.ID) {
		return channel.Download{}, invalid("the media id is not Meta's")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.graphURL(ref.ID)+"?phone_number_id="+url.QueryEscape(a.PhoneNumberID), nil)
	if err != nil {
		return channel.Download{}, fmt.Errorf("whatsapp: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.AccessToken)
	raw, err := c.call(req)
	if err != nil {
		return channel.Download{}, err
	}
	var info mediaInfo
	if err := json.Unmarshal(raw, &info); err != nil || info.URL == "" {
		return channel.Download{}, invalid("WhatsApp answered the media query without a URL")
	}
	sum, err := decodeSum(info.SHA256)
	if err != nil {
		return channel.Download{}, invalid(err.Error())
	}
	u, err := url.Parse(info.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return channel.Download{}, invalid("WhatsApp's media URL is not an http(s) URL")
	}
	return c.download(ctx, a, info, sum)
}

func (c *Client) download(ctx context.Context, a channel.Account, info mediaInfo, sum []byte) (channel.Download, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL, nil)
	if err != nil {
		return channel.Download{}, fmt.Errorf("whatsapp: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.AccessToken)
	hc := c.MediaHTTP
	if hc == nil {
		if hc = c.HTTP; hc == nil {
			hc = defaultHTTP
		}
	}
	resp, err := hc.Do(req)
	var forbidden *netguard.Forbidden
	if errors.As(err, &forbidden) {
		// The URL leads inside the server's network: no retry changes that.
		return channel.Download{}, &channel.Error{Message: "the media URL is refused: " + forbidden.Error(), Permanent: true}
	}
	if err != nil {
		return channel.Download{}, fmt.Errorf("whatsapp: downloading media: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		// 404 and 410: the URL expired or the file is gone; a new query
		// gives a new URL, so only Meta's own answer decides (above).
		return channel.Download{}, &channel.Error{Message: fmt.Sprintf("media download: HTTP %d", resp.StatusCode),
			Permanent: resp.StatusCode >= 300 && resp.StatusCode < 400}
	}
	size := int64(info.FileSize)
	if size <= 0 {
		size = -1
	}
	body := io.ReadCloser(resp.Body)
	if sum != nil {
		body = &checked{r: resp.Body, h: sha256.New(), want: sum}
	}
	return channel.Download{Body: body, ContentType: info.MimeType, Size: size}, nil
}

// decodeSum reads Meta's sha256 of a file, hex or base64; none is no check.
func decodeSum(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == sha256.Size {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == sha256.Size {
		return b, nil
	}
	return nil, errors.New("WhatsApp's media sha256 is not a SHA-256")
}

// errChecksum is what reading a downloaded file ends with when its bytes
// are not the ones Meta announced.
var errChecksum = errors.New("whatsapp: the media does not match its sha256")

// checked hashes what is read and fails at the end on a mismatch, so a
// truncated or altered download is never kept as the file.
type checked struct {
	r    io.ReadCloser
	h    hash.Hash
	want []byte
}

func (c *checked) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && !bytes.Equal(c.h.Sum(nil), c.want) {
		return n, errChecksum
	}
	return n, err
}

func (c *checked) Close() error { return c.r.Close() }

// uploadAnswer is Meta's answer to a media upload.
type uploadAnswer struct {
	ID string `json:"id"`
}

// upload posts the file to /{phone-number-id}/media (multipart:
// messaging_product, type, file), streamed, and returns the media id a
// message then names.
func (c *Client) upload(ctx context.Context, a channel.Account, m *channel.MediaSend) (string, error) {
	if err := checkAccount(a); err != nil {
		return "", err
	}
	if m.Open == nil {
		return "", invalid("the file cannot be read")
	}
	f, err := m.Open()
	if err != nil {
		return "", fmt.Errorf("whatsapp: opening the file: %w", err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeUpload(mw, m, f))
	}()
	defer pr.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.graphURL(a.PhoneNumberID+"/media"), pr)
	if err != nil {
		return "", fmt.Errorf("whatsapp: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.AccessToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	raw, err := c.call(req)
	if err != nil {
		return "", err
	}
	var up uploadAnswer
	if err := json.Unmarshal(raw, &up); err != nil || up.ID == "" {
		return "", &channel.Error{Message: "WhatsApp answered the upload without a media id"}
	}
	return up.ID, nil
}

func writeUpload(mw *multipart.Writer, m *channel.MediaSend, f io.Reader) error {
	if err := mw.WriteField("messaging_product", "whatsapp"); err != nil {
		return err
	}
	if err := mw.WriteField("type", m.ContentType); err != nil {
		return err
	}
	name := m.FileName
	if name == "" {
		name = "file"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", m.ContentType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, f); err != nil {
		return err
	}
	return mw.Close()
}
