package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	boxclient "github.com/boxwire/boxwire/client"
)

// TestEncryptedConversationEndToEnd runs a whole conversation through the
// real server and the public client package, checking each step from both
// sides: create, invite by link, join, messages, a file, edit, delete,
// kick, close.
func TestEncryptedConversationEndToEnd(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t, storeConfig(t))
	ts.cli(t, "user", "add", "--email", "olga@example.com", "--password", "olga-password", "--name", "Olga")
	ts.cli(t, "user", "add", "--email", "paul@example.com", "--password", "paul-password", "--name", "Paul")
	olga, paul := boxclient.New(ts.URL()), boxclient.New(ts.URL())
	if _, err := olga.Login(ctx, "olga@example.com", "olga-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := paul.Login(ctx, "paul@example.com", "paul-password"); err != nil {
		t.Fatal(err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	status := func(err error) int {
		var e *boxclient.Error
		if errors.As(err, &e) {
			return e.Status
		}
		return 0
	}

	// Olga creates a limited box and lets Paul in by his identifier.
	b, keys, shares, err := olga.CreateEncryptedBox(ctx, "Holiday plans", "limited")
	must("create", err)
	link := boxclient.InvitationLink(ts.URL(), b.ID, shares.ShareOne)
	if _, _, err := paul.JoinByLink(ctx, link); status(err) != 403 {
		t.Fatalf("joining a limited box without access: %v", err)
	}
	_, err = olga.BatchEvents(ctx, b.ID, "accesses", []boxclient.NewEvent{{Type: "access.add",
		Content: map[string]string{"restriction_type": "identifier", "value": "paul@example.com"}}})
	must("access", err)
	joined, paulSecret, err := paul.JoinByLink(ctx, link)
	must("join by link", err)
	if paulSecret != keys.SecretKey || joined.Title != "Holiday plans" {
		t.Fatal("the link did not give Paul the box's key")
	}
	members, err := olga.Members(ctx, b.ID)
	must("members", err)
	if len(members) != 2 {
		t.Fatalf("olga sees %d members", len(members))
	}

	// Messages both ways, each read by the other.
	hi, err := olga.SendText(ctx, b.ID, b.PublicKey, "Hi Paul, Lisbon in May?")
	must("olga sends", err)
	re, err := paul.SendText(ctx, b.ID, joined.PublicKey, "Yes! 🇵🇹")
	must("paul sends", err)
	readAll := func(c *boxclient.Client, secret string) map[string]string {
		t.Helper()
		events, err := c.Events(ctx, b.ID, 0, 0)
		must("events", err)
		out := map[string]string{}
		for _, e := range events {
			if e.Type == "msg.text" {
				text, err := boxclient.ReadText(secret, e)
				if errors.Is(err, boxclient.ErrDeleted) {
					text = "(deleted)"
				} else {
					must("decrypt", err)
				}
				out[e.ID] = text
			}
		}
		return out
	}
	if got := readAll(paul, paulSecret); got[hi.ID] != "Hi Paul, Lisbon in May?" || got[re.ID] != "Yes! 🇵🇹" {
		t.Fatalf("paul reads %v", got)
	}
	if got := readAll(olga, keys.SecretKey); got[re.ID] != "Yes! 🇵🇹" {
		t.Fatalf("olga reads %v", got)
	}
	pb, _ := paul.Box(ctx, b.ID)
	if pb.EventsCount != 1 {
		t.Fatalf("paul's unread count %d, want 1 (olga's message)", pb.EventsCount)
	}
	must("ack", paul.AckNewEvents(ctx, paulID(t, paul), b.ID))

	// A file from Olga, downloaded and decrypted by Paul.
	photo := make([]byte, 200_000)
	rand.Read(photo)
	var progressed int64
	fileEv, err := olga.SendFile(ctx, b.ID, b.PublicKey, "tickets.pdf", "application/pdf", photo, func(sent, total int64) { progressed = sent })
	must("send file", err)
	if progressed < int64(len(photo)) {
		t.Fatalf("progress reached %d of %d bytes", progressed, len(photo))
	}
	files, err := paul.Files(ctx, b.ID, 0, 0)
	must("files", err)
	if len(files) != 1 || files[0].ID != fileEv.ID {
		t.Fatalf("paul sees files %v", files)
	}
	info, data, err := paul.ReceiveFile(ctx, paulSecret, files[0])
	must("receive file", err)
	if info.FileName != "tickets.pdf" || info.FileType != "application/pdf" || !bytes.Equal(data, photo) {
		t.Fatalf("paul received %s (%s), %d bytes", info.FileName, info.FileType, len(data))
	}

	// Edit and delete, seen from the other side.
	_, err = paul.EditText(ctx, b.ID, re.ID, joined.PublicKey, "Yes! Booking now.")
	must("paul edits", err)
	if _, err := olga.EditText(ctx, b.ID, re.ID, b.PublicKey, "hijack"); status(err) != 403 {
		t.Fatalf("olga edited paul's message: %v", err)
	}
	if got := readAll(olga, keys.SecretKey); got[re.ID] != "Yes! Booking now." {
		t.Fatalf("olga reads the edit as %q", got[re.ID])
	}
	_, err = olga.DeleteMessage(ctx, b.ID, fileEv.ID)
	must("olga deletes the file", err)
	if _, _, err := paul.ReceiveFile(ctx, paulSecret, fileEv); status(err) != 403 {
		t.Fatalf("a deleted file can still be downloaded: %v", err)
	}
	files, _ = paul.Files(ctx, b.ID, 0, 0)
	if m, _ := files[0].Message(); m.Deleted == nil || m.Deleted.ByIdentifierID != joinedCreatorID(b) {
		t.Fatalf("paul sees the file event as %s", files[0].Content)
	}

	// Olga removes Paul's access: he is kicked and sees nothing more.
	rules, err := olga.Accesses(ctx, b.ID)
	must("accesses", err)
	rm := rules[0].ID
	out, err := olga.BatchEvents(ctx, b.ID, "accesses", []boxclient.NewEvent{{Type: "access.rm", ReferrerID: &rm}})
	must("remove access", err)
	if len(out) != 2 || out[1].Type != "member.kick" || out[1].Sender.ID != paulID(t, paul) {
		t.Fatalf("batch answer %v", out)
	}
	if _, err := paul.Events(ctx, b.ID, 0, 0); status(err) != 403 {
		t.Fatalf("a kicked member still reads: %v", err)
	}
	if _, err := paul.SendText(ctx, b.ID, joined.PublicKey, "hello?"); status(err) != 403 {
		t.Fatalf("a kicked member still posts: %v", err)
	}
	notes, err := paul.Notifications(ctx, paulID(t, paul), 0, 0)
	must("notifications", err)
	if len(notes) == 0 || notes[0].Type != "member.kick" {
		t.Fatalf("paul's notifications %v", notes)
	}

	// Olga closes the box: read-only for her, invisible for others.
	_, err = olga.PostEvent(ctx, b.ID, boxclient.NewEvent{Type: "state.lifecycle", Content: map[string]string{"state": "closed"}})
	must("close", err)
	if _, err := olga.SendText(ctx, b.ID, b.PublicKey, "anyone?"); status(err) != 409 {
		t.Fatalf("posting to a closed box: %v", err)
	}
	closed, err := olga.Box(ctx, b.ID)
	must("olga reads the closed box", err)
	if closed.Lifecycle != "closed" {
		t.Fatalf("lifecycle %q", closed.Lifecycle)
	}
	if _, err := paul.Box(ctx, b.ID); status(err) != 403 {
		t.Fatalf("paul sees the closed box: %v", err)
	}
	n, err := olga.CountEvents(ctx, b.ID)
	must("count", err)
	events, _ := olga.Events(ctx, b.ID, 0, 0)
	if n != len(events) {
		t.Fatalf("HEAD says %d events, the list has %d", n, len(events))
	}
}

func joinedCreatorID(b boxclient.Box) string { return b.Creator.ID }

func paulID(t *testing.T, c *boxclient.Client) string { return claimsOf(t, c.Token).Subject }
