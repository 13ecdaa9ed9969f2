package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	boxclient "github.com/boxwire/boxwire/client"
	"github.com/boxwire/boxwire/internal/cmdline"
	"github.com/boxwire/boxwire/internal/printable"
)

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// boxCommand is one `boxwire box` command: its arguments, what it does,
// the flags it takes beyond --config, and the function that runs it.
type boxCommand struct {
	args, about string
	flags       func(*flag.FlagSet, *boxArgs)
	run         func(context.Context, *profile, boxArgs, io.Writer, io.Writer) error
}

var boxCommands = map[string]boxCommand{
	"list": {"", "list your boxes: id, unread count, title", nil, boxList},
	"create": {"--title T [--public]", "create an end-to-end encrypted box and print its invitation link", func(fs *flag.FlagSet, a *boxArgs) {
		fs.StringVar(&a.title, "title", "", "the box's title (seen by the server)")
		fs.BoolVar(&a.public, "public", false, "any signed-in identity with the link may join; default: only those given access")
	}, boxCreate},
	"send":      {`BOX "text"`, "send an encrypted message", nil, boxSend},
	"send-file": {"BOX PATH", "send an encrypted file", nil, boxSendFile},
	"read": {"BOX [--files DIR]", "print the conversation, decrypted", func(fs *flag.FlagSet, a *boxArgs) {
		fs.StringVar(&a.files, "files", "", "save the files sent in the box into this directory")
	}, boxRead},
	"invite": {"BOX [--email ADDRESS]...", "print the invitation link (the key share is in its #fragment); --email first gives that person access", func(fs *flag.FlagSet, a *boxArgs) {
		fs.Func("email", "give this e-mail address access to the box (repeatable; box admins only)", func(v string) error {
			a.emails = append(a.emails, v)
			return nil
		})
	}, boxInvite},
	"join": {"LINK", "join a box from an invitation link and keep its key", nil, boxJoin},
}

var boxOrder = []string{"list", "create", "send", "send-file", "read", "invite", "join"}

func boxUsage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, name := range boxOrder {
		c := boxCommands[name]
		fmt.Fprintf(&b, "  boxwire box %-34s %s\n", strings.TrimSpace(name+" "+c.args), c.about)
	}
	b.WriteString("Every command takes --config DIR; BOX is a box id. \"boxwire box COMMAND -h\" shows a command's flags.")
	return b.String()
}

// Box dispatches the people's box commands. Each loads the profile
// written by `boxwire login`, and does all encryption on this machine.
func Box(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || cmdline.HelpAsked(args[:1]) {
		if len(args) > 0 {
			fmt.Fprintln(stdout, boxUsage())
			return nil
		}
		fmt.Fprintln(stderr, boxUsage())
		return cmdline.ErrUsage
	}
	cmd, ok := boxCommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "unknown box command %q\n%s\n", args[0], boxUsage())
		return cmdline.ErrUsage
	}
	var a boxArgs
	fs := flag.NewFlagSet("box "+args[0], flag.ContinueOnError)
	config := fs.String("config", "", "config directory (env BOXWIRE_CONFIG_DIR)")
	if cmd.flags != nil {
		cmd.flags(fs, &a)
	}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: boxwire box %s %s\n  %s\n\nFlags:\n", args[0], cmd.args, cmd.about)
		fs.PrintDefaults()
	}
	if cmdline.HelpAsked(args[1:]) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	if err := fs.Parse(interleave(args[1:])); err != nil {
		return cmdline.ErrUsage
	}
	p, err := signedIn(ctx, *config)
	if err != nil {
		return err
	}
	a.pos = fs.Args()
	if err := cmd.run(ctx, p, a, stdout, stderr); err != nil {
		return p.explain(err)
	}
	return nil
}

// interleave moves flags before positional arguments, so that
// `box send BOX "text" --config D` parses like `box send --config D BOX "text"`.
func interleave(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--public" || a == "-public":
			flags = append(flags, a)
		case strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

// boxArgs are a box command's positional arguments and the flag values.
type boxArgs struct {
	pos    []string
	title  string   // --title (create)
	public bool     // --public (create)
	files  string   // --files (read)
	emails []string // --email (invite)
}

// want checks the number of positional arguments.
func (a boxArgs) want(n int, usage string) ([]string, error) {
	if len(a.pos) != n {
		return nil, fmt.Errorf("usage: boxwire box %s", usage)
	}
	return a.pos, nil
}

// boxList prints the caller's boxes, newest activity first, marking those
// this profile holds no key for (it cannot read them here).
func boxList(ctx context.Context, p *profile, a boxArgs, stdout, stderr io.Writer) error {
	if _, err := a.want(0, "list"); err != nil {
		return err
	}
	c := p.client()
	var all []boxclient.Box
	for offset := 0; ; offset += 100 {
		page, err := c.JoinedBoxes(ctx, offset, 100)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if len(page) < 100 {
			break
		}
	}
	if len(all) == 0 {
		fmt.Fprintln(stdout, "no boxes yet: boxwire box create --title T")
		return nil
	}
	for _, b := range all {
		note := ""
		if _, ok := p.Boxes[b.ID]; !ok {
			note = "  (no key here)"
		}
		if b.Lifecycle == "closed" {
			note += "  (closed)"
		}
		if b.Creator.ID == p.IdentityID {
			note += "  (admin)"
		}
		fmt.Fprintf(stdout, "%s  %3d unread  %s%s\n", printable.Escape(b.ID), b.EventsCount, printable.Escape(b.Title), note)
	}
	return nil
}

func boxCreate(ctx context.Context, p *profile, a boxArgs, stdout, stderr io.Writer) error {
	_, err := a.want(0, "create --title T [--public]")
	if err != nil {
		return err
	}
	mode := "limited"
	if a.public {
		mode = "public"
	}
	b, kp, shares, err := p.client().CreateEncryptedBox(ctx, a.title, mode)
	if err != nil {
		return err
	}
	if err := p.keep(b.ID, boxKeys{PublicKey: kp.PublicKey, SecretKey: kp.SecretKey, ShareOne: shares.ShareOne}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created box %q: %s\ninvitation link: %s\n", b.Title, b.ID, boxclient.InvitationLink(p.Server, b.ID, shares.ShareOne))
	return nil
}

// keysOf returns the keys of a box this profile holds.
func (p *profile) keysOf(boxID string) (boxKeys, error) {
	if uuid.Validate(boxID) != nil {
		return boxKeys{}, fmt.Errorf("%q is not a box id", boxID)
	}
	k, ok := p.Boxes[boxID]
	if !ok {
		return k, fmt.Errorf("no key for box %s here: create it or join it with an invitation link first", boxID)
	}
	return k, nil
}

func boxSend(ctx context.Context, p *profile, a boxArgs, stdout, stderr io.Writer) error {
	pos, err := a.want(2, `send BOX "text"`)
	if err != nil {
		return err
	}
	k, err := p.keysOf(pos[0])
	if err != nil {
		return err
	}
	ev, err := p.client().SendText(ctx, pos[0], k.PublicKey, pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent %s\n", ev.ID)
	return nil
}

// maxSendFile bounds what send-file encrypts: NaCl secretbox seals a file
// in one piece, in memory.
const maxSendFile = 1 << 30

func boxSendFile(ctx context.Context, p *profile, a boxArgs, stdout, stderr io.Writer) error {
	pos, err := a.want(2, "send-file BOX PATH")
	if err != nil {
		return err
	}
	k, err := p.keysOf(pos[0])
	if err != nil {
		return err
	}
	st, err := os.Stat(pos[1])
	if err != nil {
		return err
	}
	if st.Size() > maxSendFile {
		return fmt.Errorf("%s is larger than %d bytes", pos[1], maxSendFile)
	}
	data, err := os.ReadFile(pos[1])
	if err != nil {
		return err
	}
	name := filepath.Base(pos[1])
	kind := mime.TypeByExtension(filepath.Ext(name))
	if kind == "" {
		kind = "application/octet-stream"
	}
	bar := &progressBar{out: stderr, label: name}
	ev, err := p.client().SendFile(ctx, pos[0], k.PublicKey, name, kind, data, bar.update)
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sent %s (%d bytes, encrypted) as %s\n", name, len(data), ev.ID)
	return nil
}

// progressBar draws "name [#####-----]  45%  12.0/27.0 MiB" on one line.
type progressBar struct {
	out   io.Writer
	label string
	last  time.Time
	shown bool
}

func (b *progressBar) update(sent, total int64) {
	if time.Since(b.last) < 100*time.Millisecond && sent < total {
		return
	}
	b.last, b.shown = time.Now(), true
	const width = 30
	filled := int(float64(width) * float64(sent) / float64(max(total, 1)))
	fmt.Fprintf(b.out, "\r%s [%s%s] %3d%% %.1f/%.1f MiB", b.label, strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		sent*100/max(total, 1), float64(sent)/(1<<20), float64(total)/(1<<20))
}

func (b *progressBar) done() {
	if b.shown {
		fmt.Fprintln(b.out)
	}
}

func boxRead(ctx context.Context, p *profile, a boxArgs, stdout, stderr io.Writer) error {
	pos, err := a.want(1, "read BOX [--files DIR]")
	if err != nil {
		return err
	}
	k, err := p.keysOf(pos[0])
	if err != nil {
		return err
	}
	c := p.client()
	events, err := c.Events(ctx, pos[0], 0, 0)
	if err != nil {
		return err
	}
	for _, e := range events {
		line, err := describe(ctx, c, k, e, a.files)
		if err != nil {
			line = fmt.Sprintf("(cannot decrypt: %v)", err)
		}
		// The sender's name and the decrypted text are anyone's: escaped,
		// they cannot rewrite the terminal.
		fmt.Fprintf(stdout, "%s %s: %s\n", e.ServerEventCreatedAt.Local().Format("2006-01-02 15:04"),
			printable.Escape(e.Sender.DisplayName), printable.Escape(line))
	}
	return c.AckNewEvents(ctx, p.IdentityID, pos[0])
}

// describe renders one event as a line of the conversation.
func describe(ctx context.Context, c *boxclient.Client, k boxKeys, e boxclient.Event, filesDir string) (string, error) {
	switch e.Type {
	case "create":
		return "created the box", nil
	case "member.join":
		return "joined", nil
	case "member.leave":
		return "left", nil
	case "member.kick":
		return "was removed", nil
	case "state.lifecycle":
		return "closed the box", nil
	case "msg.text":
		text, err := boxclient.ReadText(k.SecretKey, e)
		if errors.Is(err, boxclient.ErrDeleted) {
			return "(deleted)", nil
		}
		if m, _ := e.Message(); err == nil && m.LastEditedAt != nil {
			text += " (edited)"
		}
		return text, err
	case "msg.file":
		return describeFile(ctx, c, k, e, filesDir)
	}
	return e.Type, nil
}

func describeFile(ctx context.Context, c *boxclient.Client, k boxKeys, e boxclient.Event, filesDir string) (string, error) {
	if m, _ := e.Message(); m.Deleted != nil {
		return "(deleted file)", nil
	}
	if filesDir == "" {
		m, _ := e.Message()
		info, err := boxclient.DecryptFileInfo(k.SecretKey, m.Encrypted)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("sent file %s (%d bytes; --files DIR to save it)", info.FileName, info.FileSize), nil
	}
	info, data, err := c.ReceiveFile(ctx, k.SecretKey, e)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filesDir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(filesDir, filepath.Base(info.FileName))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", err
	}
	return fmt.Sprintf("sent file %s (%d bytes), saved to %s", info.FileName, len(data), path), nil
}

func boxInvite(ctx context.Context, p *profile, a boxArgs, stdout, stderr io.Writer) error {
	pos, err := a.want(1, "invite BOX [--email ADDRESS]...")
	if err != nil {
		return err
	}
	k, err := p.keysOf(pos[0])
	if err != nil {
		return err
	}
	if len(a.emails) > 0 {
		rules := make([]boxclient.NewEvent, len(a.emails))
		for i, email := range a.emails {
			rules[i] = boxclient.NewEvent{Type: "access.add", Content: map[string]string{"restriction_type": "identifier", "value": email}}
		}
		if _, err := p.client().BatchEvents(ctx, pos[0], "accesses", rules); err != nil {
			return fmt.Errorf("give access (only the box's admin can): %w", p.explain(err))
		}
		for _, email := range a.emails {
			fmt.Fprintf(stderr, "%s may now join with the link\n", printable.Escape(email))
		}
	}
	if k.ShareOne == "" {
		shares, err := p.client().RotateInvitation(ctx, pos[0], k.SecretKey)
		if err != nil {
			return fmt.Errorf("make a new invitation (only the box's admin can): %w", p.explain(err))
		}
		k.ShareOne = shares.ShareOne
		if err := p.keep(pos[0], k); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, boxclient.InvitationLink(p.Server, pos[0], k.ShareOne))
	return nil
}

func boxJoin(ctx context.Context, p *profile, a boxArgs, stdout, stderr io.Writer) error {
	pos, err := a.want(1, "join LINK")
	if err != nil {
		return err
	}
	_, _, shareOne, err := boxclient.ParseInvitationLink(pos[0])
	if err != nil {
		return err
	}
	b, secret, err := p.client().JoinByLink(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := p.keep(b.ID, boxKeys{PublicKey: b.PublicKey, SecretKey: secret, ShareOne: shareOne}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "joined box %q: %s\n", b.Title, b.ID)
	return nil
}
