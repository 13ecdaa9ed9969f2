package boxrules

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// Event types.
const (
	TypeCreate     = "create"
	TypeMsgText    = "msg.text"
	TypeMsgFile    = "msg.file"
	TypeMsgEdit    = "msg.edit"
	TypeMsgDelete  = "msg.delete"
	TypeJoin       = "member.join"
	TypeLeave      = "member.leave"
	TypeKick       = "member.kick"
	TypeLifecycle  = "state.lifecycle"
	TypeAccessMode = "state.access_mode"
	TypeKeyShare   = "state.key_share"
	TypeAccessAdd  = "access.add"
	TypeAccessRm   = "access.rm"
)

// CanonicalType maps seed 000's spelling msg.txt to msg.text.
func CanonicalType(t string) string {
	if t == "msg.txt" {
		return TypeMsgText
	}
	return t
}

// Listed reports whether events of type t appear in event lists; edits,
// deletions and access rules are folded into their targets instead.
func Listed(t string) bool {
	switch t {
	case TypeMsgEdit, TypeMsgDelete, TypeAccessAdd, TypeAccessRm:
		return false
	}
	return true
}

// Input is an event as a client posts it.
type Input struct {
	Type       string          `json:"type"`
	Content    json.RawMessage `json:"content"`
	ReferrerID *string         `json:"referrer_id"`
	Extra      json.RawMessage `json:"extra"`

	// text is a msg.text content Validate already parsed and normalised,
	// so that Check, inside the one committer, need not do it again.
	text json.RawMessage
}

// Target is the event an input's referrer_id points at.
type Target struct {
	ID       string
	Type     string
	SenderID string
	Deleted  bool // a msg deleted, or an access.add removed
}

// Actor is who posts: an identity and its active join, if any.
type Actor struct {
	Identity    identity.Identity
	JoinEventID string // "" when not joined
}

// Member reports whether the actor is a member: the admin always is.
func (a Actor) Member(s State) bool { return a.JoinEventID != "" || s.IsAdmin(a.Identity.ID) }

// Decision is an accepted event, ready to store.
type Decision struct {
	Type       string
	Content    json.RawMessage // normalised; "null" for none
	ReferrerID string
	KeyShare   *KeyShare // state.key_share: the new share
	// Invitation is what an access.add with auto_invite leaves for the
	// identity its rule names.
	Invitation *Invitation
}

// Invitation is the box key, encrypted by the admin to one public key of
// the identity an identifier rule names (a crypto action for it).
type Invitation struct {
	Identifier string
	PublicKey  string
	Encrypted  string
}

// KeyShare is the server's half of an invitation link's split key.
type KeyShare struct {
	MisakeyShare                string `json:"misakey_share"`
	OtherShareHash              string `json:"other_share_hash"`
	EncryptedInvitationKeyShare string `json:"encrypted_invitation_key_share,omitempty"`
}

// Validate checks a key share's encodings.
func (k *KeyShare) Validate(prefix string) error {
	var invitation error
	if k.EncryptedInvitationKeyShare != "" {
		invitation = StdBase64(prefix+"encrypted_invitation_key_share", k.EncryptedInvitationKeyShare, 4096)
	}
	return errs.Faults(
		StdBase64(prefix+"misakey_share", k.MisakeyShare, 1024),
		URLSafe(prefix+"other_share_hash", k.OtherShareHash),
		invitation)
}

// Route says through which endpoint an input arrived.
type Route int

const (
	Single Route = iota // POST /boxes/{id}/events
	Batch               // POST /boxes/{id}/batch-events (accesses)
)

// Check applies the event rules of DESIGN §4 to an input posted by a into
// the box s. target is the event referrer_id points at (nil when there is
// none or it does not exist). It returns what to store, or why not.
func Check(s State, a Actor, in Input, target *Target, route Route) (Decision, error) {
	t := CanonicalType(in.Type)
	if err := postable(t, route); err != nil {
		return Decision{}, err
	}
	// Access first: a closed box is invisible to all but its admin, who
	// alone learns that it is closed.
	if !s.HasAccess(a.Identity) {
		return Decision{}, NoAccess()
	}
	if err := s.Writable(); err != nil {
		return Decision{}, err
	}
	ref := ""
	if in.ReferrerID != nil {
		ref = *in.ReferrerID
		if uuid.Validate(ref) != nil {
			return Decision{}, errs.Field(errs.Body, "referrer_id", errs.Malformed, "referrer_id must be a UUID or null")
		}
	}
	// Who may act comes before whether the target exists, so that no one
	// learns which event ids exist without the right to act on them.
	if err := mayActOnReferrer(s, a, t); err != nil {
		return Decision{}, err
	}
	if ref != "" && target == nil && needsReferrer(t) {
		return Decision{}, &errs.Error{Code: errs.NotFound, Message: "referrer_id names no event of this box",
			Where: errs.Body, Fields: map[string]string{"referrer_id": "not_found"}}
	}
	d := Decision{Type: t, Content: json.RawMessage("null"), ReferrerID: ref}
	var err error
	switch t {
	case TypeMsgText:
		err = checkText(s, a, ref, in, &d)
	case TypeMsgEdit:
		err = checkEdit(s, a, ref, target, in.Content, &d)
	case TypeMsgDelete:
		err = checkDelete(s, a, ref, target)
	case TypeJoin:
		err = checkJoin(s, a, ref)
	case TypeLeave:
		err = checkLeave(s, a, ref, &d)
	case TypeLifecycle:
		err = checkLifecycle(s, a, ref, in.Content, &d)
	case TypeAccessMode:
		err = checkAccessMode(s, a, ref, in.Content, &d)
	case TypeKeyShare:
		err = checkKeyShare(s, a, ref, in.Extra, &d)
	case TypeAccessAdd:
		err = checkAccessAdd(s, a, ref, in.Content, in.Extra, &d)
	case TypeAccessRm:
		err = checkAccessRm(s, a, ref, target)
	}
	return d, err
}

// NotMember refuses an identity that may join a box but has not: Misakey's
// reference answers it with details.reason "not_member", which its
// clients read to offer a join.
func NotMember() error {
	return &errs.Error{Code: errs.Forbidden, Message: "join the box first", Where: errs.NotDefined,
		Fields: map[string]string{"reason": "not_member", "sender_id": "forbidden"}}
}

// NoAccess is the one answer for a box that does not exist or that the
// caller may not see, so that existence never leaks. details.reason
// no_access is what Misakey's clients read to show their no-access page.
func NoAccess() error {
	return &errs.Error{Code: errs.Forbidden, Message: "no access to this box", Where: errs.Path,
		Fields: map[string]string{"id": "forbidden", "reason": "no_access"}}
}

func postable(t string, route Route) error {
	switch t {
	case TypeMsgText, TypeMsgEdit, TypeMsgDelete, TypeJoin, TypeLeave, TypeLifecycle, TypeAccessMode, TypeKeyShare:
		if route == Batch {
			return errs.Field(errs.Body, "type", errs.Malformed, "a batch of type accesses holds only access.add and access.rm events")
		}
		return nil
	case TypeAccessAdd, TypeAccessRm:
		if route == Single {
			return errs.Field(errs.Body, "type", errs.Malformed, "%s events are created with POST /boxes/{id}/batch-events", t)
		}
		return nil
	case TypeCreate, TypeMsgFile, TypeKick:
		return errs.Field(errs.Body, "type", errs.Malformed, "%s events are created by the server, not posted", t)
	case "":
		return errs.Field(errs.Body, "type", errs.Required, "type is required")
	}
	return errs.Field(errs.Body, "type", errs.Malformed, "unknown event type %q", t)
}

func mayActOnReferrer(s State, a Actor, t string) error {
	switch t {
	case TypeMsgEdit, TypeMsgDelete:
		return mustMember(s, a)
	case TypeAccessRm:
		return mustAdmin(s, a)
	}
	return nil
}

func needsReferrer(t string) bool {
	return t == TypeMsgEdit || t == TypeMsgDelete || t == TypeAccessRm
}

func forbidden(msg string) error { return errs.E(errs.Forbidden, "%s", msg) }

func noReferrer(ref string) error {
	if ref != "" {
		return errs.Field(errs.Body, "referrer_id", errs.Invalid_, "referrer_id must be null for this type")
	}
	return nil
}

func requireReferrer(ref string) error {
	if ref == "" {
		return errs.Field(errs.Body, "referrer_id", errs.Required, "referrer_id is required for this type")
	}
	return nil
}

func mustAdmin(s State, a Actor) error {
	if !s.IsAdmin(a.Identity.ID) {
		return forbidden("only the box's admin may do this")
	}
	return nil
}

func mustMember(s State, a Actor) error {
	if !a.Member(s) {
		return NotMember()
	}
	return nil
}

// decode reads content strictly into dst, naming bad fields content.<x>.
func decode(content json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(content)) == 0 || string(bytes.TrimSpace(content)) == "null" {
		return errs.Field(errs.Body, "content", errs.Required, "content is required for this type")
	}
	if err := json.Unmarshal(content, dst); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok && te.Field != "" {
			return errs.Field(errs.Body, "content."+te.Field, errs.Malformed, "content.%s has the wrong type", te.Field)
		}
		return errs.Field(errs.Body, "content", errs.Malformed, "content must be a JSON object")
	}
	return nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	*te = t
	return ok
}

func marshal(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// TextContent is msg.text's content.
type TextContent struct {
	Encrypted string `json:"encrypted"`
	PublicKey string `json:"public_key"`
}

func checkText(s State, a Actor, ref string, in Input, d *Decision) error {
	if err := noReferrer(ref); err != nil {
		return err
	}
	if err := mustMember(s, a); err != nil {
		return err
	}
	if in.text != nil {
		d.Content = in.text
		return nil
	}
	c, err := parseText(in.Content)
	if err != nil {
		return err
	}
	d.Content = marshal(c)
	return nil
}

func parseText(content json.RawMessage) (TextContent, error) {
	var c TextContent
	if err := decode(content, &c); err != nil {
		return c, err
	}
	return c, errs.Faults(
		StdBase64("content.encrypted", c.Encrypted, MaxEncrypted),
		PublicKey("content.public_key", c.PublicKey))
}

// EditContent is msg.edit's content.
type EditContent struct {
	NewEncrypted string `json:"new_encrypted"`
	NewPublicKey string `json:"new_public_key"`
}

func checkEdit(s State, a Actor, ref string, target *Target, content json.RawMessage, d *Decision) error {
	if err := requireReferrer(ref); err != nil {
		return err
	}
	if err := mustMember(s, a); err != nil {
		return err
	}
	if target.Type != TypeMsgText {
		return errs.Field(errs.Body, "referrer_id", errs.Invalid_, "only msg.text events can be edited")
	}
	if target.SenderID != a.Identity.ID {
		return forbidden("only the author may edit a message")
	}
	if target.Deleted {
		return gone("the message was deleted")
	}
	c, err := parseEdit(content)
	if err != nil {
		return err
	}
	d.Content = marshal(c)
	return nil
}

func parseEdit(content json.RawMessage) (EditContent, error) {
	var c EditContent
	if err := decode(content, &c); err != nil {
		return c, err
	}
	return c, errs.Faults(
		StdBase64("content.new_encrypted", c.NewEncrypted, MaxEncrypted),
		PublicKey("content.new_public_key", c.NewPublicKey))
}

func gone(msg string) error {
	return &errs.Error{Code: errs.Gone, Message: msg, Where: errs.Body, Fields: map[string]string{"referrer_id": "gone"}}
}

func checkDelete(s State, a Actor, ref string, target *Target) error {
	if err := requireReferrer(ref); err != nil {
		return err
	}
	if target.Type != TypeMsgText && target.Type != TypeMsgFile {
		return errs.Field(errs.Body, "referrer_id", errs.Invalid_, "only msg.text and msg.file events can be deleted")
	}
	if target.SenderID != a.Identity.ID && !s.IsAdmin(a.Identity.ID) {
		return forbidden("only the author or the admin may delete a message")
	}
	if !a.Member(s) {
		return NotMember()
	}
	if target.Deleted {
		return gone("the message was already deleted")
	}
	return nil
}

func checkJoin(s State, a Actor, ref string) error {
	if err := noReferrer(ref); err != nil {
		return err
	}
	if a.Member(s) {
		return &errs.Error{Code: errs.Conflict, Message: "already a member of this box", Where: errs.Body,
			Fields: map[string]string{"type": errs.Conflicts}}
	}
	return nil
}

func checkLeave(s State, a Actor, ref string, d *Decision) error {
	if err := noReferrer(ref); err != nil {
		return err
	}
	if s.IsAdmin(a.Identity.ID) {
		return forbidden("the admin cannot leave the box")
	}
	if a.JoinEventID == "" {
		return &errs.Error{Code: errs.Conflict, Message: "not a member of this box", Where: errs.Body,
			Fields: map[string]string{"type": errs.Conflicts}}
	}
	d.ReferrerID = a.JoinEventID // a leave acts on the join it ends
	return nil
}

func checkLifecycle(s State, a Actor, ref string, content json.RawMessage, d *Decision) error {
	if err := noReferrer(ref); err != nil {
		return err
	}
	if err := mustAdmin(s, a); err != nil {
		return err
	}
	var c struct {
		State string `json:"state"`
	}
	if err := decode(content, &c); err != nil {
		return err
	}
	if c.State != Closed {
		return errs.Field(errs.Body, "content.state", errs.Invalid_, "content.state must be closed")
	}
	d.Content = marshal(c)
	return nil
}

func checkAccessMode(s State, a Actor, ref string, content json.RawMessage, d *Decision) error {
	if err := noReferrer(ref); err != nil {
		return err
	}
	if err := mustAdmin(s, a); err != nil {
		return err
	}
	var c struct {
		Value string `json:"value"`
	}
	if err := decode(content, &c); err != nil {
		return err
	}
	if c.Value != Public && c.Value != Limited {
		return errs.Field(errs.Body, "content.value", errs.Malformed, "content.value must be public or limited")
	}
	d.Content = marshal(c)
	return nil
}

func checkKeyShare(s State, a Actor, ref string, extra json.RawMessage, d *Decision) error {
	if err := noReferrer(ref); err != nil {
		return err
	}
	if err := mustAdmin(s, a); err != nil {
		return err
	}
	var k KeyShare
	if len(bytes.TrimSpace(extra)) == 0 || string(bytes.TrimSpace(extra)) == "null" {
		return errs.Field(errs.Body, "extra", errs.Required, "extra must hold the new key share")
	}
	if err := json.Unmarshal(extra, &k); err != nil {
		return errs.Field(errs.Body, "extra", errs.Malformed, "extra must be a key share object")
	}
	if err := k.Validate("extra."); err != nil {
		return err
	}
	d.KeyShare = &k
	d.Content = marshal(map[string]string{"other_share_hash": k.OtherShareHash})
	return nil
}

// AccessContent is access.add's content. AutoInvite, on an identifier
// rule, leaves the identity it names an invitation (the event's extra).
type AccessContent struct {
	RestrictionType string `json:"restriction_type"`
	Value           string `json:"value"`
	AutoInvite      bool   `json:"auto_invite,omitempty"`
}

func checkAccessAdd(s State, a Actor, ref string, content, extra json.RawMessage, d *Decision) error {
	if err := noReferrer(ref); err != nil {
		return err
	}
	if err := mustAdmin(s, a); err != nil {
		return err
	}
	var c AccessContent
	if err := decode(content, &c); err != nil {
		return err
	}
	c.Value = strings.ToLower(strings.TrimSpace(c.Value))
	switch c.RestrictionType {
	case RestrictIdentifier:
		// The same rule as identities' own identifiers: a rule that no
		// identity could ever match is a mistake worth reporting.
		if _, err := identity.Email("content.value", c.Value); err != nil {
			return errs.Field(errs.Body, "content.value", errs.Malformed, "an identifier rule's value must be an e-mail address")
		}
	case RestrictEmailDomain:
		if !validDomain(c.Value) {
			return errs.Field(errs.Body, "content.value", errs.Malformed, "an email_domain rule's value must be a domain such as example.com")
		}
	case "":
		return errs.Field(errs.Body, "content.restriction_type", errs.Required, "content.restriction_type is required")
	default:
		return errs.Field(errs.Body, "content.restriction_type", errs.Malformed, "content.restriction_type must be identifier or email_domain")
	}
	for _, r := range s.Accesses {
		if r.RestrictionType == c.RestrictionType && r.Value == c.Value {
			// As the reference words it: the box's rule, not the event's.
			return &errs.Error{Code: errs.Conflict, Message: "this access already exists", Where: errs.NotDefined,
				Fields: map[string]string{"content": errs.Conflicts, "box_id": errs.Conflicts}}
		}
	}
	if c.RestrictionType == RestrictIdentifier {
		inv, err := autoInvitation(c, extra)
		if err != nil {
			return err
		}
		d.Invitation = inv
	}
	d.Content = marshal(c)
	return nil
}

// autoInvitation reads an identifier rule's invitation, as Misakey's
// reference does: auto_invite needs extra, extra needs auto_invite, and
// extra holds one encrypted invitation keyed by the guest's public key.
// (On an email_domain rule the reference ignores both, and so does this.)
func autoInvitation(c AccessContent, extra json.RawMessage) (*Invitation, error) {
	hasExtra := len(bytes.TrimSpace(extra)) > 0 && string(bytes.TrimSpace(extra)) != "null"
	switch {
	case c.AutoInvite && !hasExtra:
		return nil, errs.Field(errs.Body, "extra", errs.Required, "auto_invite needs extra: the invitation, encrypted to the guest's public key")
	case !c.AutoInvite && hasExtra:
		return nil, errs.Field(errs.Body, "auto_invite", errs.Invalid_, "extra is only for an access.add with auto_invite")
	case !c.AutoInvite:
		return nil, nil
	}
	var data map[string]string
	if err := json.Unmarshal(extra, &data); err != nil || len(data) != 1 {
		return nil, errs.Field(errs.Body, "extra", errs.Malformed, "extra must hold one entry: the guest's public key and the invitation encrypted to it")
	}
	for pub, encrypted := range data {
		if err := PublicKey("extra", pub); err != nil {
			return nil, err
		}
		if err := StdBase64("extra", encrypted, MaxEncrypted); err != nil {
			return nil, err
		}
		return &Invitation{Identifier: c.Value, PublicKey: pub, Encrypted: encrypted}, nil
	}
	return nil, nil
}

// validDomain accepts a lower-case DNS name of two labels or more, each
// 1–63 letters, digits or inner hyphens.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func checkAccessRm(s State, a Actor, ref string, target *Target) error {
	if err := requireReferrer(ref); err != nil {
		return err
	}
	if err := mustAdmin(s, a); err != nil {
		return err
	}
	if target.Type != TypeAccessAdd {
		return errs.Field(errs.Body, "referrer_id", errs.Invalid_, "access.rm must refer to an access.add event")
	}
	if target.Deleted {
		return gone("the access was already removed")
	}
	return nil
}

// LostAccess returns the members (identity → join event) who no longer
// have access to s: after an accesses batch they are kicked.
func LostAccess(s State, members map[string]Member) []Member {
	var out []Member
	for _, m := range members {
		if !s.HasAccess(m.Identity) {
			out = append(out, m)
		}
	}
	return out
}

// Member is an identity holding an active join.
type Member struct {
	Identity    identity.Identity
	JoinEventID string
}

// Validate checks what an input can be judged on without the box: its
// route and type, and the shape of its content. It runs before the write
// transaction, so malformed input never costs one. It returns the input
// with a msg.text content parsed and normalised, which Check then takes
// as it is (Check judges an input Validate has not seen in full); the
// box's rules are Check's. Referrer rules stay in Check: whether a
// referrer is allowed is the box's business, and must not answer
// differently for a box one cannot see.
func Validate(in Input, route Route) (Input, error) {
	t := CanonicalType(in.Type)
	if err := postable(t, route); err != nil {
		return in, err
	}
	var err error
	switch t {
	case TypeMsgText:
		var c TextContent
		if c, err = parseText(in.Content); err == nil {
			in.text = marshal(c)
		}
	case TypeMsgEdit:
		_, err = parseEdit(in.Content)
	}
	return in, err
}
