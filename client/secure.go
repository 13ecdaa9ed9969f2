package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// ErrDeleted is returned when reading a message that was deleted.
var ErrDeleted = errors.New("the message was deleted")

// CreateEncryptedBox creates a box with a fresh key pair and an invitation
// share. The secret key never leaves the caller; the returned shares'
// ShareOne belongs in invitation links only.
func (c *Client) CreateEncryptedBox(ctx context.Context, title, accessMode string) (Box, KeyPair, InvitationShares, error) {
	kp, err := NewKeyPair()
	if err != nil {
		return Box{}, kp, InvitationShares{}, err
	}
	shares, err := SplitSecretKey(kp.SecretKey)
	if err != nil {
		return Box{}, kp, shares, err
	}
	b, err := c.CreateBox(ctx, NewBox{Title: title, PublicKey: kp.PublicKey, AccessMode: accessMode,
		KeyShare: &KeyShare{MisakeyShare: shares.MisakeyShare, OtherShareHash: shares.OtherShareHash}})
	return b, kp, shares, err
}

// RotateInvitation makes a new invitation share for a box (admin only);
// links made before stop working.
func (c *Client) RotateInvitation(ctx context.Context, boxID, secretKey string) (InvitationShares, error) {
	shares, err := SplitSecretKey(secretKey)
	if err != nil {
		return shares, err
	}
	_, err = c.PostEvent(ctx, boxID, NewEvent{Type: "state.key_share",
		Extra: &KeyShare{MisakeyShare: shares.MisakeyShare, OtherShareHash: shares.OtherShareHash}})
	return shares, err
}

// InvitationLink is a link to a box whose fragment carries the client's
// half of the key: browsers never send fragments to servers.
func InvitationLink(server, boxID, shareOne string) string {
	return strings.TrimRight(server, "/") + "/boxes/" + boxID + "#" + shareOne
}

// ParseInvitationLink splits an invitation link into its parts.
func ParseInvitationLink(link string) (server, boxID, shareOne string, err error) {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", "", fmt.Errorf("invitation link %q is not a URL", link)
	}
	i := strings.LastIndex(u.Path, "/boxes/")
	if i < 0 || u.Fragment == "" {
		return "", "", "", fmt.Errorf("invitation link %q must look like https://server/boxes/<id>#<key share>", link)
	}
	boxID = u.Path[i+len("/boxes/"):]
	server = u.Scheme + "://" + u.Host + u.Path[:i]
	return server, boxID, u.Fragment, nil
}

// JoinByLink joins the box of an invitation link and recovers its secret
// key, checked against the box's public key.
func (c *Client) JoinByLink(ctx context.Context, link string) (Box, string, error) {
	_, boxID, shareOne, err := ParseInvitationLink(link)
	if err != nil {
		return Box{}, "", err
	}
	hash, err := ShareHash(shareOne)
	if err != nil {
		return Box{}, "", err
	}
	if _, err := c.PublicBox(ctx, boxID, hash); err != nil {
		return Box{}, "", fmt.Errorf("invitation: %w", err)
	}
	_, err = c.PostEvent(ctx, boxID, NewEvent{Type: "member.join"})
	var apiErr *Error
	if err != nil && !(errors.As(err, &apiErr) && apiErr.Status == 409 && apiErr.Details["type"] == "conflict") {
		return Box{}, "", fmt.Errorf("join: %w", err)
	}
	share, err := c.KeyShare(ctx, hash)
	if err != nil {
		return Box{}, "", fmt.Errorf("key share: %w", err)
	}
	secret, err := CombineShares(shareOne, share.Share)
	if err != nil {
		return Box{}, "", err
	}
	b, err := c.Box(ctx, boxID)
	if err != nil {
		return b, "", err
	}
	if pub, err := PublicKeyOf(secret); err != nil || pub != b.PublicKey {
		return b, "", errors.New("the invitation's key does not open this box")
	}
	return b, secret, nil
}

// SendText encrypts text for the box and posts it.
func (c *Client) SendText(ctx context.Context, boxID, boxPublicKey, text string) (Event, error) {
	enc, err := EncryptText(boxPublicKey, []byte(text))
	if err != nil {
		return Event{}, err
	}
	return c.PostEvent(ctx, boxID, NewEvent{Type: "msg.text", Content: map[string]string{"encrypted": enc, "public_key": boxPublicKey}})
}

// EditText replaces the text of one of the caller's messages.
func (c *Client) EditText(ctx context.Context, boxID, eventID, boxPublicKey, text string) (Event, error) {
	enc, err := EncryptText(boxPublicKey, []byte(text))
	if err != nil {
		return Event{}, err
	}
	return c.PostEvent(ctx, boxID, NewEvent{Type: "msg.edit", ReferrerID: &eventID,
		Content: map[string]string{"new_encrypted": enc, "new_public_key": boxPublicKey}})
}

// DeleteMessage deletes a message (its author or the box's admin).
func (c *Client) DeleteMessage(ctx context.Context, boxID, eventID string) (Event, error) {
	return c.PostEvent(ctx, boxID, NewEvent{Type: "msg.delete", ReferrerID: &eventID})
}

// ReadText decrypts a msg.text event (its latest edit) with the box's key.
func ReadText(secretKey string, e Event) (string, error) {
	m, err := e.Message()
	if err != nil {
		return "", err
	}
	if m.Deleted != nil {
		return "", ErrDeleted
	}
	b, err := DecryptText(secretKey, m.Encrypted)
	return string(b), err
}

// SendFile encrypts a file for the box and uploads it; progress reports
// the encrypted bytes sent.
func (c *Client) SendFile(ctx context.Context, boxID, boxPublicKey, name, mimeType string, data []byte, progress func(sent, total int64)) (Event, error) {
	encFile, encContent, err := EncryptFile(boxPublicKey, name, mimeType, data)
	if err != nil {
		return Event{}, err
	}
	total := int64(len(encFile))
	report := func(n int64) {
		if progress != nil {
			progress(n, total)
		}
	}
	return c.UploadFile(ctx, boxID, bytes.NewReader(encFile), encContent, boxPublicKey, report)
}

// ReceiveFile downloads and decrypts the file of a msg.file event.
func (c *Client) ReceiveFile(ctx context.Context, secretKey string, e Event) (FileInfo, []byte, error) {
	m, err := e.Message()
	if err != nil {
		return FileInfo{}, nil, err
	}
	if m.Deleted != nil {
		return FileInfo{}, nil, ErrDeleted
	}
	body, err := c.DownloadFile(ctx, m.EncryptedFileID)
	if err != nil {
		return FileInfo{}, nil, err
	}
	defer body.Close()
	enc, err := io.ReadAll(body)
	if err != nil {
		return FileInfo{}, nil, err
	}
	return DecryptFile(secretKey, m.Encrypted, enc)
}

// DecryptFileInfo decrypts only the message of a msg.file event: the
// file's name, type and size, without downloading it.
func DecryptFileInfo(secretKey, encryptedContent string) (FileInfo, error) {
	var info FileInfo
	b, err := DecryptText(secretKey, encryptedContent)
	if err != nil {
		return info, err
	}
	err = json.Unmarshal(b, &info)
	return info, err
}
