package boxrules_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// Identities. bob and erin are let in by the email_domain rule, carol by
// her identifier rule, dave by nothing. Their addresses are proven.
var (
	proven = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	admin = identity.Identity{ID: "id-admin", IdentifierValue: "admin@boxwire.test"}
	bob   = identity.Identity{ID: "id-bob", IdentifierValue: "bob@example.com", VerifiedAt: proven}
	carol = identity.Identity{ID: "id-carol", IdentifierValue: "carol@other.org", VerifiedAt: proven}
	dave  = identity.Identity{ID: "id-dave", IdentifierValue: "dave@elsewhere.net", VerifiedAt: proven}
	erin  = identity.Identity{ID: "id-erin", IdentifierValue: "erin@example.com", VerifiedAt: proven}
)

// Event ids (UUIDs, as referrer_id must be).
const (
	evBobJoin   = "10000000-0000-4000-8000-000000000001"
	evErinJoin  = "10000000-0000-4000-8000-000000000002"
	evBobText   = "10000000-0000-4000-8000-000000000003"
	evBobFile   = "10000000-0000-4000-8000-000000000004"
	evErinText  = "10000000-0000-4000-8000-000000000005"
	evDomain    = "10000000-0000-4000-8000-000000000006"
	evCarolRule = "10000000-0000-4000-8000-000000000007"
	evMissing   = "10000000-0000-4000-8000-0000000000ff"
	evEdit      = "10000000-0000-4000-8000-000000000008"
	evMode      = "10000000-0000-4000-8000-000000000009"
)

// Actors.
var (
	asAdmin  = boxrules.Actor{Identity: admin}                         // member without a join
	asBob    = boxrules.Actor{Identity: bob, JoinEventID: evBobJoin}   // joined member
	asErin   = boxrules.Actor{Identity: erin, JoinEventID: evErinJoin} // another joined member
	asCarol  = boxrules.Actor{Identity: carol}                         // has access, not joined
	asDave   = boxrules.Actor{Identity: dave}                          // no access
	asBobOut = boxrules.Actor{Identity: bob}                           // bob after leaving
)

// Valid encodings.
var (
	key      = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	key2     = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	cipher   = base64.StdEncoding.EncodeToString([]byte("some ciphertext!")) // padded
	cipher2  = base64.StdEncoding.EncodeToString([]byte("other ciphertext"))
	shareHsh = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 64)) // has - and _
)

func limitedState() boxrules.State {
	return boxrules.State{
		Box: boxrules.Box{ID: "box-1", Title: "t", PublicKey: key, AccessMode: boxrules.Limited, Lifecycle: boxrules.Open, CreatorID: admin.ID},
		Accesses: []boxrules.Access{
			{EventID: evDomain, RestrictionType: boxrules.RestrictEmailDomain, Value: "example.com"},
			{EventID: evCarolRule, RestrictionType: boxrules.RestrictIdentifier, Value: "carol@other.org"},
		},
	}
}

func publicState() boxrules.State {
	s := limitedState()
	s.AccessMode = boxrules.Public
	s.Accesses = nil
	return s
}

func closedState() boxrules.State {
	s := limitedState()
	s.Lifecycle = boxrules.Closed
	return s
}

func ref(s string) *string { return &s }

var (
	bobText   = &boxrules.Target{ID: evBobText, Type: boxrules.TypeMsgText, SenderID: bob.ID}
	bobFile   = &boxrules.Target{ID: evBobFile, Type: boxrules.TypeMsgFile, SenderID: bob.ID}
	erinText  = &boxrules.Target{ID: evErinText, Type: boxrules.TypeMsgText, SenderID: erin.ID}
	bobJoin   = &boxrules.Target{ID: evBobJoin, Type: boxrules.TypeJoin, SenderID: bob.ID}
	domainAdd = &boxrules.Target{ID: evDomain, Type: boxrules.TypeAccessAdd, SenderID: admin.ID}
	bobEdit   = &boxrules.Target{ID: evEdit, Type: boxrules.TypeMsgEdit, SenderID: bob.ID}
	modeEvent = &boxrules.Target{ID: evMode, Type: boxrules.TypeAccessMode, SenderID: admin.ID}
)

func deleted(t *boxrules.Target) *boxrules.Target {
	c := *t
	c.Deleted = true
	return &c
}

func textContent(enc, pk string) string {
	b, _ := json.Marshal(map[string]string{"encrypted": enc, "public_key": pk})
	return string(b)
}

func editContent(enc, pk string) string {
	b, _ := json.Marshal(map[string]string{"new_encrypted": enc, "new_public_key": pk})
	return string(b)
}

// assertErr checks err against a code ("" for success) and exact Fields.
func assertErr(t *testing.T, err error, code errs.Code, fields map[string]string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v (fields %v)", err, errs.As(err).Fields)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %s %v", code, fields)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *errs.Error", err, err)
	}
	if got := errs.CodeOf(err); got != code {
		t.Errorf("code = %q, want %q (%v)", got, code, err)
	}
	if !maps.Equal(e.Fields, fields) {
		t.Errorf("fields = %v, want %v (%v)", e.Fields, fields, err)
	}
}

// assertJSON compares JSON documents by value.
func assertJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s = %s, not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad test: want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func fields(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

var notMemberFields = map[string]string{"reason": "not_member", "sender_id": "forbidden"}
var noAccessFields = map[string]string{"id": "forbidden", "reason": "no_access"}

// ---------------------------------------------------------------- HasAccess

func TestJoinRule(t *testing.T) {
	shouting := identity.Identity{ID: "id-carol", IdentifierValue: "Carol@Other.org", VerifiedAt: proven}
	unproven := bob
	unproven.VerifiedAt = time.Time{}
	for _, tt := range []struct {
		name  string
		state boxrules.State
		who   identity.Identity
		want  string // the recorded rule's value, "" for none
	}{
		{"through a domain rule: recorded", limitedState(), bob, "bob@example.com"},
		{"joined a public box: recorded", publicState(), dave, "dave@elsewhere.net"},
		{"an identifier rule already names it", limitedState(), carol, ""},
		{"whatever its case", limitedState(), shouting, ""},
		{"the admin needs none", publicState(), admin, ""},
		{"an unproven identifier is not recorded", publicState(), unproven, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.state.JoinRule(tt.who)
			switch {
			case tt.want == "" && got != nil:
				t.Fatalf("recorded %+v, want nothing", *got)
			case tt.want != "" && (got == nil || got.Value != tt.want || got.RestrictionType != boxrules.RestrictIdentifier):
				t.Fatalf("recorded %+v, want identifier %s", got, tt.want)
			}
		})
	}
}

func TestHasAccess(t *testing.T) {
	id := func(v string) identity.Identity {
		return identity.Identity{ID: "id-x", IdentifierValue: v, VerifiedAt: proven}
	}
	unproven := func(who identity.Identity) identity.Identity { who.VerifiedAt = time.Time{}; return who }
	rule := func(kind, v string) boxrules.Access {
		return boxrules.Access{EventID: evDomain, RestrictionType: kind, Value: v}
	}
	ident := func(v string) boxrules.Access { return rule(boxrules.RestrictIdentifier, v) }
	domain := func(v string) boxrules.Access { return rule(boxrules.RestrictEmailDomain, v) }
	st := func(mode, lifecycle string, rules ...boxrules.Access) boxrules.State {
		return boxrules.State{Box: boxrules.Box{CreatorID: admin.ID, AccessMode: mode, Lifecycle: lifecycle}, Accesses: rules}
	}
	tests := []struct {
		name  string
		state boxrules.State
		who   identity.Identity
		want  bool
	}{
		// The admin.
		{"admin, limited, no rules", st(boxrules.Limited, boxrules.Open), admin, true},
		{"admin, closed limited", st(boxrules.Limited, boxrules.Closed), admin, true},
		{"admin, closed public", st(boxrules.Public, boxrules.Closed), admin, true},
		{"admin by id, whatever the identifier", st(boxrules.Limited, boxrules.Closed), identity.Identity{ID: admin.ID, IdentifierValue: "x@y.z"}, true},
		{"admin's identifier alone is not the admin", st(boxrules.Limited, boxrules.Open), identity.Identity{ID: "id-other", IdentifierValue: admin.IdentifierValue}, false},
		// Closed boxes.
		{"closed public, anyone", st(boxrules.Public, boxrules.Closed), dave, false},
		{"closed, matching identifier rule", st(boxrules.Limited, boxrules.Closed, ident("bob@example.com")), bob, false},
		{"closed, matching domain rule", st(boxrules.Limited, boxrules.Closed, domain("example.com")), bob, false},
		// Public boxes.
		{"public, anyone", st(boxrules.Public, boxrules.Open), dave, true},
		{"public, no rules needed", st(boxrules.Public, boxrules.Open), identity.Identity{ID: "id-y", IdentifierValue: "y@z.io"}, true},
		// Limited, no rules.
		{"limited, no rules", st(boxrules.Limited, boxrules.Open), bob, false},
		// Identifier rules.
		{"identifier exact", st(boxrules.Limited, boxrules.Open, ident("bob@example.com")), bob, true},
		// Only a proven identifier matches (DESIGN §3): anyone can claim one.
		{"identifier exact, unproven", st(boxrules.Limited, boxrules.Open, ident("bob@example.com")), unproven(bob), false},
		{"domain, unproven", st(boxrules.Limited, boxrules.Open, domain("example.com")), unproven(bob), false},
		{"public, unproven", st(boxrules.Public, boxrules.Open), unproven(dave), true},
		{"admin, unproven", st(boxrules.Limited, boxrules.Open), unproven(admin), true},
		{"identifier rule upper case", st(boxrules.Limited, boxrules.Open, ident("Bob@Example.COM")), bob, true},
		{"identifier identity upper case", st(boxrules.Limited, boxrules.Open, ident("bob@example.com")), id("BOB@EXAMPLE.COM"), true},
		{"identifier other address", st(boxrules.Limited, boxrules.Open, ident("bob@example.com")), erin, false},
		{"identifier prefix is not a match", st(boxrules.Limited, boxrules.Open, ident("bob@example.co")), bob, false},
		{"identifier longer is not a match", st(boxrules.Limited, boxrules.Open, ident("bob@example.com.evil")), bob, false},
		{"identifier local part is not a match", st(boxrules.Limited, boxrules.Open, ident("bob")), bob, false},
		{"identifier rule is not a domain rule", st(boxrules.Limited, boxrules.Open, ident("example.com")), bob, false},
		// Email domain rules.
		{"domain match", st(boxrules.Limited, boxrules.Open, domain("example.com")), bob, true},
		{"domain match, identity upper case", st(boxrules.Limited, boxrules.Open, domain("example.com")), id("x@EXAMPLE.Com"), true},
		{"domain match, rule upper case", st(boxrules.Limited, boxrules.Open, domain("Example.COM")), bob, true},
		{"domain does not match subdomain", st(boxrules.Limited, boxrules.Open, domain("example.com")), id("x@sub.example.com"), false},
		{"domain does not match suffix", st(boxrules.Limited, boxrules.Open, domain("example.com")), id("x@notexample.com"), false},
		{"subdomain rule does not match parent", st(boxrules.Limited, boxrules.Open, domain("sub.example.com")), bob, false},
		{"domain rule is not an identifier rule", st(boxrules.Limited, boxrules.Open, domain("bob@example.com")), bob, false},
		{"domain is after the last @", st(boxrules.Limited, boxrules.Open, domain("example.com")), id(`"a@evil.com"@example.com`), true},
		{"domain before the last @ does not count", st(boxrules.Limited, boxrules.Open, domain("evil.com")), id(`"a@evil.com"@example.com`), false},
		// Several rules.
		{"several rules, one identifier matches", st(boxrules.Limited, boxrules.Open, domain("other.org"), ident("erin@example.com"), ident("bob@example.com")), bob, true},
		{"several rules, one domain matches", st(boxrules.Limited, boxrules.Open, ident("carol@other.org"), domain("elsewhere.net"), domain("example.com")), bob, true},
		{"several rules, none matches", st(boxrules.Limited, boxrules.Open, ident("carol@other.org"), domain("elsewhere.net"), ident("erin@example.com")), bob, false},
		{"unknown restriction type is ignored", st(boxrules.Limited, boxrules.Open, rule("ip", "bob@example.com"), rule("", "example.com")), bob, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.state.HasAccess(tt.who); got != tt.want {
				t.Errorf("HasAccess(%q) = %v, want %v", tt.who.IdentifierValue, got, tt.want)
			}
		})
	}
}

func TestIsAdminAndWritable(t *testing.T) {
	s := limitedState()
	if !s.IsAdmin(admin.ID) || s.IsAdmin(bob.ID) || s.IsAdmin("") {
		t.Errorf("IsAdmin: admin %v, bob %v, empty %v", s.IsAdmin(admin.ID), s.IsAdmin(bob.ID), s.IsAdmin(""))
	}
	if err := s.Writable(); err != nil {
		t.Errorf("open box: Writable = %v", err)
	}
	err := closedState().Writable()
	assertErr(t, err, errs.Conflict, fields("lifecycle", "conflict"))
	if w := errs.As(err).Where; w != errs.NotDefined {
		t.Errorf("closed: Where = %q, want %q", w, errs.NotDefined)
	}
}

func TestNoAccess(t *testing.T) {
	e := errs.As(boxrules.NoAccess())
	if e.Code != errs.Forbidden || e.Where != errs.Path || !maps.Equal(e.Fields, noAccessFields) {
		t.Errorf("NoAccess = %+v", e)
	}
	// One answer whatever the reason: every call renders the same.
	if a, b := errs.As(boxrules.NoAccess()), errs.As(boxrules.NoAccess()); !reflect.DeepEqual(a, b) {
		t.Errorf("NoAccess differs between calls: %+v vs %+v", a, b)
	}
}

// ---------------------------------------------------------------- validators

func TestTitle(t *testing.T) {
	tests := []struct {
		name, in, want string
		reason         string
	}{
		{"plain", "Plans", "Plans", ""},
		{"trimmed", "  Plans \t", "Plans", ""},
		{"50 runes", strings.Repeat("é", 50), strings.Repeat("é", 50), ""},
		{"51 runes", strings.Repeat("é", 51), "", errs.TooLong},
		{"empty", "", "", errs.Required},
		{"blank", "   ", "", errs.Required},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := boxrules.Title("title", tt.in)
			if tt.reason == "" {
				assertErr(t, err, "", nil)
				if got != tt.want {
					t.Errorf("Title = %q, want %q", got, tt.want)
				}
				return
			}
			assertErr(t, err, errs.Invalid, fields("title", tt.reason))
		})
	}
}

func TestPublicKey(t *testing.T) {
	tests := []struct {
		name, in string
		reason   string
	}{
		{"32 bytes", key, ""},
		{"32 bytes with - and _", base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)), ""},
		// What the reference accepts, and clients in the wild send.
		{"31 bytes", base64.RawURLEncoding.EncodeToString(make([]byte, 31)), ""},
		{"33 bytes", base64.RawURLEncoding.EncodeToString(make([]byte, 33)), ""},
		{"the seed's placeholder", "ShouldBeUnpaddedUrlSafeBase64", ""},
		{"an AES-RSA key", boxrules.AESRSAPrefix + base64.RawURLEncoding.EncodeToString(make([]byte, 294)), ""},
		{"4096 characters", strings.Repeat("A", 4096), ""},
		// What it refuses.
		{"empty", "", errs.Required},
		{"padded", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), errs.Malformed},
		{"std alphabet", base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16)), errs.Malformed},
		{"not base64", "not a key!", errs.Malformed},
		{"an AES-RSA prefix alone", boxrules.AESRSAPrefix, errs.Malformed},
		{"another scheme", "com.example.rot13:" + key, errs.Malformed},
		{"4097 characters", strings.Repeat("A", 4097), errs.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := boxrules.PublicKey("public_key", tt.in)
			if tt.reason == "" {
				assertErr(t, err, "", nil)
				return
			}
			assertErr(t, err, errs.Invalid, fields("public_key", tt.reason))
		})
	}
	// An identity's key is NaCl only: the AES-RSA scheme has fields of its own.
	assertErr(t, boxrules.IdentityKey("pubkey", "ShouldBeUnpaddedUrlSafeBase64"), "", nil)
	assertErr(t, boxrules.IdentityKey("pubkey", boxrules.AESRSAPrefix+key), errs.Invalid, fields("pubkey", errs.Malformed))
	assertErr(t, boxrules.IdentityKey("pubkey", ""), errs.Invalid, fields("pubkey", errs.Required))
}

func TestURLSafe(t *testing.T) {
	tests := []struct {
		name, in string
		reason   string
	}{
		{"64 bytes", shareHsh, ""},
		{"one byte", "AQ", ""},
		{"empty", "", errs.Required},
		{"padded", "AQ==", errs.Malformed},
		{"std alphabet", "+/+/", errs.Malformed},
		{"a length that does not decode, as the reference", "ShouldBeUnpaddedUrlSafeBase64", ""},
		{"1024 chars", strings.Repeat("A", 1024), ""},
		{"1025 chars", strings.Repeat("A", 1025), errs.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := boxrules.URLSafe("h", tt.in)
			if tt.reason == "" {
				assertErr(t, err, "", nil)
				return
			}
			assertErr(t, err, errs.Invalid, fields("h", tt.reason))
		})
	}
}

func TestStdBase64(t *testing.T) {
	tests := []struct {
		name, in string
		limit    int
		code     errs.Code
		reason   string
	}{
		{"padded", cipher, 100, "", ""},
		{"with + and /", "+/+/", 100, "", ""},
		{"at the limit", strings.Repeat("A", 8), 8, "", ""},
		{"over the limit", strings.Repeat("A", 12), 8, errs.TooLarge, "too_large"},
		{"empty", "", 100, errs.Invalid, errs.Required},
		{"unpadded", "AQ", 100, errs.Invalid, errs.Malformed},
		{"url-safe alphabet", "-_-_", 100, errs.Invalid, errs.Malformed},
		{"not base64", "hello world!", 100, errs.Invalid, errs.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := boxrules.StdBase64("c", tt.in, tt.limit)
			if tt.code == "" {
				assertErr(t, err, "", nil)
				return
			}
			assertErr(t, err, tt.code, fields("c", tt.reason))
		})
	}
}

func TestCanonicalTypeAndListed(t *testing.T) {
	canon := map[string]string{"msg.txt": "msg.text", "msg.text": "msg.text", "msg.file": "msg.file", "": "", "MSG.TXT": "MSG.TXT"}
	for in, want := range canon {
		if got := boxrules.CanonicalType(in); got != want {
			t.Errorf("CanonicalType(%q) = %q, want %q", in, got, want)
		}
	}
	listed := map[string]bool{
		boxrules.TypeCreate: true, boxrules.TypeMsgText: true, boxrules.TypeMsgFile: true, boxrules.TypeJoin: true, boxrules.TypeLeave: true,
		boxrules.TypeKick: true, boxrules.TypeLifecycle: true, boxrules.TypeAccessMode: true, boxrules.TypeKeyShare: true,
		boxrules.TypeMsgEdit: false, boxrules.TypeMsgDelete: false, boxrules.TypeAccessAdd: false, boxrules.TypeAccessRm: false,
	}
	for typ, want := range listed {
		if got := boxrules.Listed(typ); got != want {
			t.Errorf("Listed(%q) = %v, want %v", typ, got, want)
		}
	}
}

func TestKeyShareValidate(t *testing.T) {
	good := boxrules.KeyShare{MisakeyShare: cipher, OtherShareHash: shareHsh}
	with := func(f func(*boxrules.KeyShare)) *boxrules.KeyShare { k := good; f(&k); return &k }
	tests := []struct {
		name   string
		k      *boxrules.KeyShare
		code   errs.Code
		fields map[string]string
	}{
		{"valid", &good, "", nil},
		{"valid with invitation share", with(func(k *boxrules.KeyShare) { k.EncryptedInvitationKeyShare = cipher2 }), "", nil},
		{"misakey_share missing", with(func(k *boxrules.KeyShare) { k.MisakeyShare = "" }), errs.Invalid, fields("p.misakey_share", "required")},
		{"misakey_share url-safe", with(func(k *boxrules.KeyShare) { k.MisakeyShare = "-_-_" }), errs.Invalid, fields("p.misakey_share", "malformed")},
		{"misakey_share too large", with(func(k *boxrules.KeyShare) { k.MisakeyShare = strings.Repeat("A", 1028) }), errs.TooLarge, fields("p.misakey_share", "too_large")},
		{"other_share_hash missing", with(func(k *boxrules.KeyShare) { k.OtherShareHash = "" }), errs.Invalid, fields("p.other_share_hash", "required")},
		{"other_share_hash padded", with(func(k *boxrules.KeyShare) { k.OtherShareHash = "AQ==" }), errs.Invalid, fields("p.other_share_hash", "malformed")},
		{"invitation share malformed", with(func(k *boxrules.KeyShare) { k.EncryptedInvitationKeyShare = "AQ" }), errs.Invalid, fields("p.encrypted_invitation_key_share", "malformed")},
		{"invitation share too large", with(func(k *boxrules.KeyShare) { k.EncryptedInvitationKeyShare = strings.Repeat("A", 4100) }), errs.TooLarge, fields("p.encrypted_invitation_key_share", "too_large")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErr(t, tt.k.Validate("p."), tt.code, tt.fields)
		})
	}
}

// ---------------------------------------------------------------- Check

type checkCase struct {
	name    string
	state   boxrules.State
	actor   boxrules.Actor
	typ     string
	content string // raw JSON, "" for none
	extra   string // raw JSON, "" for none
	ref     *string
	target  *boxrules.Target
	route   boxrules.Route

	code   errs.Code         // "" for success
	fields map[string]string // on failure

	// On success.
	wantType     string // defaults to CanonicalType(typ)
	wantContent  string // defaults to null
	wantRef      string
	wantKeyShare *boxrules.KeyShare
	anyDecision  bool // only check that the input passes
}

func runCheck(t *testing.T, tests []checkCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := boxrules.Input{Type: tt.typ, ReferrerID: tt.ref}
			if tt.content != "" {
				in.Content = json.RawMessage(tt.content)
			}
			if tt.extra != "" {
				in.Extra = json.RawMessage(tt.extra)
			}
			d, err := boxrules.Check(tt.state, tt.actor, in, tt.target, tt.route)
			assertErr(t, err, tt.code, tt.fields)
			if tt.code != "" || tt.anyDecision {
				return
			}
			wantType := tt.wantType
			if wantType == "" {
				wantType = boxrules.CanonicalType(tt.typ)
			}
			if d.Type != wantType {
				t.Errorf("Decision.Type = %q, want %q", d.Type, wantType)
			}
			wantContent := tt.wantContent
			if wantContent == "" {
				wantContent = "null"
			}
			assertJSON(t, "Decision.Content", d.Content, wantContent)
			if d.ReferrerID != tt.wantRef {
				t.Errorf("Decision.ReferrerID = %q, want %q", d.ReferrerID, tt.wantRef)
			}
			if !reflect.DeepEqual(d.KeyShare, tt.wantKeyShare) {
				t.Errorf("Decision.KeyShare = %+v, want %+v", d.KeyShare, tt.wantKeyShare)
			}
		})
	}
}

// postable lists one valid input per postable type, with its route and
// an actor for whom it passes Check on limitedState (the admin, except
// for joining and leaving).
func postable() []checkCase {
	cs := []checkCase{
		{typ: "msg.text", content: textContent(cipher, key), route: boxrules.Single},
		{typ: "msg.txt", content: textContent(cipher, key), route: boxrules.Single},
		{typ: "msg.edit", content: editContent(cipher, key), ref: ref(evBobText), target: &boxrules.Target{ID: evBobText, Type: boxrules.TypeMsgText, SenderID: admin.ID}, route: boxrules.Single},
		{typ: "msg.delete", ref: ref(evBobText), target: bobText, route: boxrules.Single},
		{typ: "member.join", actor: asCarol, route: boxrules.Single},
		{typ: "member.leave", actor: asBob, route: boxrules.Single},
		{typ: "state.lifecycle", content: `{"state":"closed"}`, route: boxrules.Single},
		{typ: "state.access_mode", content: `{"value":"public"}`, route: boxrules.Single},
		{typ: "state.key_share", extra: `{"misakey_share":"` + cipher + `","other_share_hash":"` + shareHsh + `"}`, route: boxrules.Single},
		{typ: "access.add", content: `{"restriction_type":"identifier","value":"dave@elsewhere.net"}`, route: boxrules.Batch},
		{typ: "access.rm", ref: ref(evDomain), target: domainAdd, route: boxrules.Batch},
	}
	for i := range cs {
		if cs[i].actor.Identity.ID == "" {
			cs[i].actor = asAdmin
		}
	}
	return cs
}

func TestCheckRoute(t *testing.T) {
	var tests []checkCase
	for _, typ := range []string{"create", "msg.file", "member.kick"} {
		for _, r := range []struct {
			name  string
			route boxrules.Route
		}{{"single", boxrules.Single}, {"batch", boxrules.Batch}} {
			tests = append(tests,
				checkCase{name: typ + " by admin on " + r.name, state: limitedState(), actor: asAdmin, typ: typ,
					content: `{"kicker_id":"x","title":"t","public_key":"` + key + `"}`, route: r.route,
					code: errs.Invalid, fields: fields("type", "malformed")},
				checkCase{name: typ + " by member on " + r.name, state: limitedState(), actor: asBob, typ: typ,
					route: r.route, code: errs.Invalid, fields: fields("type", "malformed")})
		}
	}
	for _, typ := range []string{"access.add", "access.rm"} {
		tests = append(tests, checkCase{name: typ + " on single", state: limitedState(), actor: asAdmin, typ: typ,
			content: `{"restriction_type":"identifier","value":"dave@elsewhere.net"}`, ref: ref(evDomain), target: domainAdd,
			route: boxrules.Single, code: errs.Invalid, fields: fields("type", "malformed")})
	}
	for _, typ := range []string{"msg.text", "msg.txt", "msg.edit", "msg.delete", "member.join", "member.leave", "state.lifecycle", "state.access_mode", "state.key_share"} {
		tests = append(tests, checkCase{name: typ + " on batch", state: limitedState(), actor: asAdmin, typ: typ,
			content: textContent(cipher, key), route: boxrules.Batch, code: errs.Invalid, fields: fields("type", "malformed")})
	}
	for _, typ := range []string{"msg.unknown", "MSG.TEXT", "msg.text ", " msg.text", "msg.TXT", "access", "box.settings", "null"} {
		tests = append(tests,
			checkCase{name: "unknown " + typ + " on single", state: limitedState(), actor: asAdmin, typ: typ,
				content: textContent(cipher, key), route: boxrules.Single, code: errs.Invalid, fields: fields("type", "malformed")},
			checkCase{name: "unknown " + typ + " on batch", state: limitedState(), actor: asAdmin, typ: typ,
				route: boxrules.Batch, code: errs.Invalid, fields: fields("type", "malformed")})
	}
	tests = append(tests,
		checkCase{name: "empty type on single", state: limitedState(), actor: asAdmin, typ: "", route: boxrules.Single,
			code: errs.Invalid, fields: fields("type", "required")},
		checkCase{name: "empty type on batch", state: limitedState(), actor: asAdmin, typ: "", route: boxrules.Batch,
			code: errs.Invalid, fields: fields("type", "required")},
		// The route comes first (DESIGN rules order): it reveals nothing about the box.
		checkCase{name: "route before access", state: limitedState(), actor: asDave, typ: "create", route: boxrules.Single,
			code: errs.Invalid, fields: fields("type", "malformed")},
		checkCase{name: "route before closed", state: closedState(), actor: asAdmin, typ: "access.add", route: boxrules.Single,
			code: errs.Invalid, fields: fields("type", "malformed")},
	)
	// Every postable type is accepted on its own route.
	for _, c := range postable() {
		c.name = c.typ + " accepted on its route"
		c.state, c.code, c.anyDecision = limitedState(), "", true
		tests = append(tests, c)
	}
	runCheck(t, tests)
}

func TestCheckNoAccess(t *testing.T) {
	var tests []checkCase
	for _, c := range postable() {
		// dave has no rule: limited box refuses him whatever he posts.
		c.name = c.typ + " without access"
		c.state, c.actor = limitedState(), asDave
		c.code, c.fields = errs.Forbidden, noAccessFields
		tests = append(tests, c)

		// Even with a join left over from before the rule went away.
		c.name = c.typ + " without access, stale join"
		c.actor = boxrules.Actor{Identity: dave, JoinEventID: evBobJoin}
		tests = append(tests, c)

		// Even when the input is otherwise wrong: access comes before the type's rule.
		c.name = c.typ + " without access, bad input"
		c.actor = asDave
		c.content, c.extra, c.ref, c.target = `"garbage"`, `"garbage"`, ref("not-a-uuid"), nil
		tests = append(tests, c)

		c.name = c.typ + " without access, unknown referrer"
		c.ref = ref(evMissing)
		tests = append(tests, c)
	}
	runCheck(t, tests)
}

func TestCheckClosedBox(t *testing.T) {
	var tests []checkCase
	for _, c := range postable() {
		base := c
		// The admin alone learns that the box is closed.
		c.name = c.typ + " by admin"
		c.state, c.actor = closedState(), asAdmin
		c.code, c.fields = errs.Conflict, fields("lifecycle", "conflict")
		tests = append(tests, c)

		c.name = c.typ + " by admin, bad input"
		c.content, c.extra, c.ref, c.target = `"garbage"`, `"garbage"`, ref("not-a-uuid"), nil
		tests = append(tests, c)

		// Everybody else, members with matching rules included, sees no box.
		for _, who := range []struct {
			name  string
			actor boxrules.Actor
		}{{"joined member", asBob}, {"identifier rule", asCarol}, {"stranger", asDave}} {
			c := base
			c.name = c.typ + " by " + who.name
			c.state, c.actor = closedState(), who.actor
			c.code, c.fields = errs.Forbidden, noAccessFields
			tests = append(tests, c)

			c.name = c.typ + " by " + who.name + ", public mode"
			c.state.AccessMode = boxrules.Public
			tests = append(tests, c)
		}
	}
	runCheck(t, tests)

	// The two answers differ in where they point, too.
	_, err := boxrules.Check(closedState(), asBob, boxrules.Input{Type: "member.join"}, nil, boxrules.Single)
	if w := errs.As(err).Where; w != errs.Path {
		t.Errorf("closed, non-admin: Where = %q, want %q", w, errs.Path)
	}
}

func TestCheckMsgText(t *testing.T) {
	big := strings.Repeat("A", boxrules.MaxEncrypted)
	tests := []checkCase{
		{name: "joined member", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(cipher, key),
			wantContent: textContent(cipher, key)},
		{name: "msg.txt alias", state: limitedState(), actor: asBob, typ: "msg.txt", content: textContent(cipher, key),
			wantType: "msg.text", wantContent: textContent(cipher, key)},
		{name: "admin without a join", state: limitedState(), actor: asAdmin, typ: "msg.text", content: textContent(cipher, key),
			wantContent: textContent(cipher, key)},
		{name: "public box member", state: publicState(), actor: boxrules.Actor{Identity: dave, JoinEventID: evBobJoin}, typ: "msg.text",
			content: textContent(cipher2, key2), wantContent: textContent(cipher2, key2)},
		{name: "explicit null referrer", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(cipher, key),
			ref: nil, wantContent: textContent(cipher, key)},
		{name: "encrypted at the size limit", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(big, key),
			wantContent: textContent(big, key)},
		{name: "encrypted over the size limit", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(big+"AAAA", key),
			code: errs.TooLarge, fields: fields("content.encrypted", "too_large")},

		{name: "not joined, with access", state: limitedState(), actor: asCarol, typ: "msg.text", content: textContent(cipher, key),
			code: errs.Forbidden, fields: notMemberFields},
		{name: "left the box", state: limitedState(), actor: asBobOut, typ: "msg.text", content: textContent(cipher, key),
			code: errs.Forbidden, fields: notMemberFields},
		{name: "public box, not joined", state: publicState(), actor: asDave, typ: "msg.text", content: textContent(cipher, key),
			code: errs.Forbidden, fields: notMemberFields},
		{name: "no access", state: limitedState(), actor: asDave, typ: "msg.text", content: textContent(cipher, key),
			code: errs.Forbidden, fields: noAccessFields},

		{name: "referrer to an existing event", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(cipher, key),
			ref: ref(evBobText), target: bobText, code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "referrer to no event", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(cipher, key),
			ref: ref(evMissing), code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "referrer not a uuid", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(cipher, key),
			ref: ref("nope"), code: errs.Invalid, fields: fields("referrer_id", "malformed")},
		{name: "referrer empty string", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(cipher, key),
			ref: ref(""), code: errs.Invalid, fields: fields("referrer_id", "malformed")},

		{name: "no content", state: limitedState(), actor: asBob, typ: "msg.text",
			code: errs.Invalid, fields: fields("content", "required")},
		{name: "null content", state: limitedState(), actor: asBob, typ: "msg.text", content: " null ",
			code: errs.Invalid, fields: fields("content", "required")},
		{name: "array content", state: limitedState(), actor: asBob, typ: "msg.text", content: `[1,2]`,
			code: errs.Invalid, fields: fields("content", "malformed")},
		{name: "string content", state: limitedState(), actor: asBob, typ: "msg.text", content: `"hello"`,
			code: errs.Invalid, fields: fields("content", "malformed")},
		{name: "encrypted of the wrong type", state: limitedState(), actor: asBob, typ: "msg.text", content: `{"encrypted":5,"public_key":"` + key + `"}`,
			code: errs.Invalid, fields: fields("content.encrypted", "malformed")},
		{name: "public_key of the wrong type", state: limitedState(), actor: asBob, typ: "msg.text", content: `{"encrypted":"` + cipher + `","public_key":[]}`,
			code: errs.Invalid, fields: fields("content.public_key", "malformed")},
		{name: "encrypted missing", state: limitedState(), actor: asBob, typ: "msg.text", content: `{"public_key":"` + key + `"}`,
			code: errs.Invalid, fields: fields("content.encrypted", "required")},
		{name: "encrypted not base64", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent("hello world!", key),
			code: errs.Invalid, fields: fields("content.encrypted", "malformed")},
		{name: "encrypted unpadded", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(base64.RawStdEncoding.EncodeToString([]byte("ab")), key),
			code: errs.Invalid, fields: fields("content.encrypted", "malformed")},
		{name: "encrypted url-safe alphabet", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent("-_-_", key),
			code: errs.Invalid, fields: fields("content.encrypted", "malformed")},
		{name: "public_key missing", state: limitedState(), actor: asBob, typ: "msg.text", content: `{"encrypted":"` + cipher + `"}`,
			code: errs.Invalid, fields: fields("content.public_key", "required")},
		{name: "public_key padded", state: limitedState(), actor: asBob, typ: "msg.text", content: textContent(cipher, key+"="),
			code: errs.Invalid, fields: fields("content.public_key", "malformed")},
		{name: "public_key std base64", state: limitedState(), actor: asBob, typ: "msg.text",
			content: textContent(cipher, base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))),
			code:    errs.Invalid, fields: fields("content.public_key", "malformed")},
		{name: "public_key 31 bytes, as the reference accepts", state: limitedState(), actor: asBob, typ: "msg.text",
			content: textContent(cipher, base64.RawURLEncoding.EncodeToString(make([]byte, 31))), anyDecision: true},
		{name: "public_key AES-RSA", state: limitedState(), actor: asBob, typ: "msg.text",
			content: textContent(cipher, boxrules.AESRSAPrefix+"ShouldBeUnpaddedUrlSafeBase64"), anyDecision: true},
		{name: "public_key with a space", state: limitedState(), actor: asBob, typ: "msg.text",
			content: textContent(cipher, "not a key"),
			code:    errs.Invalid, fields: fields("content.public_key", "malformed")},
	}
	runCheck(t, tests)
}

func TestCheckMsgEdit(t *testing.T) {
	edit := editContent(cipher2, key2)
	tests := []checkCase{
		{name: "author edits", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit, ref: ref(evBobText), target: bobText,
			wantContent: edit, wantRef: evBobText},
		{name: "admin edits own message", state: limitedState(), actor: asAdmin, typ: "msg.edit", content: edit, ref: ref(evBobText),
			target: &boxrules.Target{ID: evBobText, Type: boxrules.TypeMsgText, SenderID: admin.ID}, wantContent: edit, wantRef: evBobText},

		{name: "another member's message", state: limitedState(), actor: asErin, typ: "msg.edit", content: edit, ref: ref(evBobText), target: bobText,
			code: errs.Forbidden, fields: nil},
		{name: "admin edits another's message", state: limitedState(), actor: asAdmin, typ: "msg.edit", content: edit, ref: ref(evBobText), target: bobText,
			code: errs.Forbidden, fields: nil},
		{name: "author no longer a member", state: limitedState(), actor: asBobOut, typ: "msg.edit", content: edit, ref: ref(evBobText), target: bobText,
			code: errs.Forbidden, fields: notMemberFields},
		{name: "no access", state: limitedState(), actor: boxrules.Actor{Identity: identity.Identity{ID: bob.ID, IdentifierValue: "bob@moved.io"}, JoinEventID: evBobJoin},
			typ: "msg.edit", content: edit, ref: ref(evBobText), target: bobText, code: errs.Forbidden, fields: noAccessFields},
		{name: "file target", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit, ref: ref(evBobFile), target: bobFile,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "join target", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit, ref: ref(evBobJoin), target: bobJoin,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "edit target", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit, ref: ref(evEdit), target: bobEdit,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "deleted target", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit, ref: ref(evBobText), target: deleted(bobText),
			code: errs.Gone, fields: fields("referrer_id", "gone")},
		{name: "no referrer", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit,
			code: errs.Invalid, fields: fields("referrer_id", "required")},
		{name: "referrer not found", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit, ref: ref(evMissing),
			code: errs.NotFound, fields: fields("referrer_id", "not_found")},
		{name: "referrer malformed", state: limitedState(), actor: asBob, typ: "msg.edit", content: edit, ref: ref("12"),
			code: errs.Invalid, fields: fields("referrer_id", "malformed")},
		{name: "no content", state: limitedState(), actor: asBob, typ: "msg.edit", ref: ref(evBobText), target: bobText,
			code: errs.Invalid, fields: fields("content", "required")},
		{name: "old field names", state: limitedState(), actor: asBob, typ: "msg.edit", content: textContent(cipher, key), ref: ref(evBobText), target: bobText,
			code: errs.Invalid, fields: fields("content.new_encrypted", "required", "content.new_public_key", "required")},
		{name: "new_encrypted malformed", state: limitedState(), actor: asBob, typ: "msg.edit", content: editContent("AB", key), ref: ref(evBobText), target: bobText,
			code: errs.Invalid, fields: fields("content.new_encrypted", "malformed")},
		{name: "new_encrypted too large", state: limitedState(), actor: asBob, typ: "msg.edit", content: editContent(strings.Repeat("A", boxrules.MaxEncrypted+4), key),
			ref: ref(evBobText), target: bobText, code: errs.TooLarge, fields: fields("content.new_encrypted", "too_large")},
		{name: "new_public_key missing", state: limitedState(), actor: asBob, typ: "msg.edit", content: `{"new_encrypted":"` + cipher + `"}`, ref: ref(evBobText), target: bobText,
			code: errs.Invalid, fields: fields("content.new_public_key", "required")},
		{name: "new_public_key malformed", state: limitedState(), actor: asBob, typ: "msg.edit", content: editContent(cipher, cipher), ref: ref(evBobText), target: bobText,
			code: errs.Invalid, fields: fields("content.new_public_key", "malformed")},
	}
	runCheck(t, tests)
}

func TestCheckMsgDelete(t *testing.T) {
	tests := []checkCase{
		{name: "author deletes text", state: limitedState(), actor: asBob, typ: "msg.delete", ref: ref(evBobText), target: bobText, wantRef: evBobText},
		{name: "author deletes file", state: limitedState(), actor: asBob, typ: "msg.delete", ref: ref(evBobFile), target: bobFile, wantRef: evBobFile},
		{name: "admin deletes another's text", state: limitedState(), actor: asAdmin, typ: "msg.delete", ref: ref(evBobText), target: bobText, wantRef: evBobText},
		{name: "admin deletes another's file", state: limitedState(), actor: asAdmin, typ: "msg.delete", ref: ref(evBobFile), target: bobFile, wantRef: evBobFile},
		{name: "content is ignored", state: limitedState(), actor: asBob, typ: "msg.delete", content: `{"x":1}`, ref: ref(evBobText), target: bobText, wantRef: evBobText},

		{name: "another member's message", state: limitedState(), actor: asBob, typ: "msg.delete", ref: ref(evErinText), target: erinText,
			code: errs.Forbidden, fields: nil},
		{name: "author no longer a member", state: limitedState(), actor: asBobOut, typ: "msg.delete", ref: ref(evBobText), target: bobText,
			code: errs.Forbidden, fields: notMemberFields},
		{name: "no access", state: limitedState(), actor: asDave, typ: "msg.delete", ref: ref(evBobText), target: bobText,
			code: errs.Forbidden, fields: noAccessFields},
		{name: "join target", state: limitedState(), actor: asAdmin, typ: "msg.delete", ref: ref(evBobJoin), target: bobJoin,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "edit target", state: limitedState(), actor: asBob, typ: "msg.delete", ref: ref(evEdit), target: bobEdit,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "access.add target", state: limitedState(), actor: asAdmin, typ: "msg.delete", ref: ref(evDomain), target: domainAdd,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "deleted text", state: limitedState(), actor: asBob, typ: "msg.delete", ref: ref(evBobText), target: deleted(bobText),
			code: errs.Gone, fields: fields("referrer_id", "gone")},
		{name: "deleted file, by admin", state: limitedState(), actor: asAdmin, typ: "msg.delete", ref: ref(evBobFile), target: deleted(bobFile),
			code: errs.Gone, fields: fields("referrer_id", "gone")},
		{name: "no referrer", state: limitedState(), actor: asBob, typ: "msg.delete",
			code: errs.Invalid, fields: fields("referrer_id", "required")},
		{name: "referrer not found", state: limitedState(), actor: asBob, typ: "msg.delete", ref: ref(evMissing),
			code: errs.NotFound, fields: fields("referrer_id", "not_found")},
		{name: "referrer malformed", state: limitedState(), actor: asBob, typ: "msg.delete", ref: ref("zzzzzzzz-0000-4000-8000-000000000003"),
			code: errs.Invalid, fields: fields("referrer_id", "malformed")},
	}
	runCheck(t, tests)
}

func TestCheckJoin(t *testing.T) {
	tests := []checkCase{
		{name: "domain rule", state: limitedState(), actor: boxrules.Actor{Identity: bob}, typ: "member.join"},
		{name: "identifier rule", state: limitedState(), actor: asCarol, typ: "member.join"},
		{name: "public box", state: publicState(), actor: asDave, typ: "member.join"},
		{name: "content is ignored", state: publicState(), actor: asDave, typ: "member.join", content: `{"x":1}`},

		{name: "already joined", state: limitedState(), actor: asBob, typ: "member.join",
			code: errs.Conflict, fields: fields("type", "conflict")},
		{name: "admin", state: limitedState(), actor: asAdmin, typ: "member.join",
			code: errs.Conflict, fields: fields("type", "conflict")},
		{name: "no access", state: limitedState(), actor: asDave, typ: "member.join",
			code: errs.Forbidden, fields: noAccessFields},
		{name: "with a referrer", state: limitedState(), actor: asCarol, typ: "member.join", ref: ref(evBobJoin), target: bobJoin,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
	}
	runCheck(t, tests)
}

func TestCheckLeave(t *testing.T) {
	tests := []checkCase{
		{name: "member", state: limitedState(), actor: asBob, typ: "member.leave", wantRef: evBobJoin},
		{name: "public box member", state: publicState(), actor: boxrules.Actor{Identity: dave, JoinEventID: evErinJoin}, typ: "member.leave", wantRef: evErinJoin},

		{name: "admin", state: limitedState(), actor: asAdmin, typ: "member.leave",
			code: errs.Forbidden, fields: nil},
		{name: "admin with a join", state: limitedState(), actor: boxrules.Actor{Identity: admin, JoinEventID: evBobJoin}, typ: "member.leave",
			code: errs.Forbidden, fields: nil},
		{name: "not joined", state: limitedState(), actor: asCarol, typ: "member.leave",
			code: errs.Conflict, fields: fields("type", "conflict")},
		{name: "no access", state: limitedState(), actor: boxrules.Actor{Identity: dave, JoinEventID: evBobJoin}, typ: "member.leave",
			code: errs.Forbidden, fields: noAccessFields},
		{name: "with its join as referrer", state: limitedState(), actor: asBob, typ: "member.leave", ref: ref(evBobJoin), target: bobJoin,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
	}
	runCheck(t, tests)
}

func TestCheckLifecycle(t *testing.T) {
	tests := []checkCase{
		{name: "admin closes", state: limitedState(), actor: asAdmin, typ: "state.lifecycle", content: `{"state":"closed"}`,
			wantContent: `{"state":"closed"}`},
		{name: "admin closes public box", state: publicState(), actor: asAdmin, typ: "state.lifecycle", content: `{"state":"closed","why":"done"}`,
			wantContent: `{"state":"closed"}`},

		{name: "member", state: limitedState(), actor: asBob, typ: "state.lifecycle", content: `{"state":"closed"}`,
			code: errs.Forbidden, fields: nil},
		{name: "no access", state: limitedState(), actor: asDave, typ: "state.lifecycle", content: `{"state":"closed"}`,
			code: errs.Forbidden, fields: noAccessFields},
		{name: "open", state: limitedState(), actor: asAdmin, typ: "state.lifecycle", content: `{"state":"open"}`,
			code: errs.Invalid, fields: fields("content.state", "invalid")},
		{name: "upper case", state: limitedState(), actor: asAdmin, typ: "state.lifecycle", content: `{"state":"CLOSED"}`,
			code: errs.Invalid, fields: fields("content.state", "invalid")},
		{name: "state missing", state: limitedState(), actor: asAdmin, typ: "state.lifecycle", content: `{}`,
			code: errs.Invalid, fields: fields("content.state", "invalid")},
		{name: "state of the wrong type", state: limitedState(), actor: asAdmin, typ: "state.lifecycle", content: `{"state":true}`,
			code: errs.Invalid, fields: fields("content.state", "malformed")},
		{name: "no content", state: limitedState(), actor: asAdmin, typ: "state.lifecycle",
			code: errs.Invalid, fields: fields("content", "required")},
		{name: "with a referrer", state: limitedState(), actor: asAdmin, typ: "state.lifecycle", content: `{"state":"closed"}`, ref: ref(evBobText), target: bobText,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "already closed", state: closedState(), actor: asAdmin, typ: "state.lifecycle", content: `{"state":"closed"}`,
			code: errs.Conflict, fields: fields("lifecycle", "conflict")},
	}
	runCheck(t, tests)
}

func TestCheckAccessMode(t *testing.T) {
	tests := []checkCase{
		{name: "to public", state: limitedState(), actor: asAdmin, typ: "state.access_mode", content: `{"value":"public"}`,
			wantContent: `{"value":"public"}`},
		{name: "to limited", state: publicState(), actor: asAdmin, typ: "state.access_mode", content: `{"value":"limited","extra_field":[1]}`,
			wantContent: `{"value":"limited"}`},

		{name: "member", state: limitedState(), actor: asBob, typ: "state.access_mode", content: `{"value":"public"}`,
			code: errs.Forbidden, fields: nil},
		{name: "no access", state: limitedState(), actor: asDave, typ: "state.access_mode", content: `{"value":"public"}`,
			code: errs.Forbidden, fields: noAccessFields},
		{name: "unknown value", state: limitedState(), actor: asAdmin, typ: "state.access_mode", content: `{"value":"private"}`,
			code: errs.Invalid, fields: fields("content.value", "malformed")},
		{name: "upper case", state: limitedState(), actor: asAdmin, typ: "state.access_mode", content: `{"value":"PUBLIC"}`,
			code: errs.Invalid, fields: fields("content.value", "malformed")},
		{name: "value missing", state: limitedState(), actor: asAdmin, typ: "state.access_mode", content: `{"mode":"public"}`,
			code: errs.Invalid, fields: fields("content.value", "malformed")},
		{name: "value of the wrong type", state: limitedState(), actor: asAdmin, typ: "state.access_mode", content: `{"value":1}`,
			code: errs.Invalid, fields: fields("content.value", "malformed")},
		{name: "no content", state: limitedState(), actor: asAdmin, typ: "state.access_mode", content: "null",
			code: errs.Invalid, fields: fields("content", "required")},
		{name: "with a referrer", state: limitedState(), actor: asAdmin, typ: "state.access_mode", content: `{"value":"public"}`, ref: ref(evMode), target: modeEvent,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
	}
	runCheck(t, tests)
}

func TestCheckKeyShare(t *testing.T) {
	extra := func(kv ...string) string {
		b, _ := json.Marshal(fields(kv...))
		return string(b)
	}
	good := extra("misakey_share", cipher, "other_share_hash", shareHsh)
	tests := []checkCase{
		{name: "admin", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: good,
			wantContent:  `{"other_share_hash":"` + shareHsh + `"}`,
			wantKeyShare: &boxrules.KeyShare{MisakeyShare: cipher, OtherShareHash: shareHsh}},
		{name: "admin, invitation share, content ignored", state: limitedState(), actor: asAdmin, typ: "state.key_share",
			content:      `{"other_share_hash":"AQ","misakey_share":"` + cipher + `"}`,
			extra:        extra("misakey_share", cipher, "other_share_hash", shareHsh, "encrypted_invitation_key_share", cipher2, "box_id", "x"),
			wantContent:  `{"other_share_hash":"` + shareHsh + `"}`,
			wantKeyShare: &boxrules.KeyShare{MisakeyShare: cipher, OtherShareHash: shareHsh, EncryptedInvitationKeyShare: cipher2}},

		{name: "member", state: limitedState(), actor: asBob, typ: "state.key_share", extra: good,
			code: errs.Forbidden, fields: nil},
		{name: "no access", state: limitedState(), actor: asDave, typ: "state.key_share", extra: good,
			code: errs.Forbidden, fields: noAccessFields},
		{name: "no extra", state: limitedState(), actor: asAdmin, typ: "state.key_share", content: good,
			code: errs.Invalid, fields: fields("extra", "required")},
		{name: "null extra", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: "null",
			code: errs.Invalid, fields: fields("extra", "required")},
		{name: "array extra", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: "[1]",
			code: errs.Invalid, fields: fields("extra", "malformed")},
		{name: "share of the wrong type", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: `{"misakey_share":1,"other_share_hash":"AQ"}`,
			code: errs.Invalid, fields: fields("extra", "malformed")},
		{name: "empty extra object", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: "{}",
			code: errs.Invalid, fields: fields("extra.misakey_share", "required", "extra.other_share_hash", "required")},
		{name: "misakey_share malformed", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: extra("misakey_share", shareHsh, "other_share_hash", shareHsh),
			code: errs.Invalid, fields: fields("extra.misakey_share", "malformed")},
		{name: "misakey_share too large", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: extra("misakey_share", strings.Repeat("A", 2048), "other_share_hash", shareHsh),
			code: errs.TooLarge, fields: fields("extra.misakey_share", "too_large")},
		{name: "other_share_hash missing", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: extra("misakey_share", cipher),
			code: errs.Invalid, fields: fields("extra.other_share_hash", "required")},
		{name: "other_share_hash std base64", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: extra("misakey_share", cipher, "other_share_hash", cipher),
			code: errs.Invalid, fields: fields("extra.other_share_hash", "malformed")},
		{name: "invitation share malformed", state: limitedState(), actor: asAdmin, typ: "state.key_share",
			extra: extra("misakey_share", cipher, "other_share_hash", shareHsh, "encrypted_invitation_key_share", "AQ"),
			code:  errs.Invalid, fields: fields("extra.encrypted_invitation_key_share", "malformed")},
		{name: "with a referrer", state: limitedState(), actor: asAdmin, typ: "state.key_share", extra: good, ref: ref(evMode), target: modeEvent,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
	}
	runCheck(t, tests)
}

func TestCheckAccessAdd(t *testing.T) {
	add := func(kind, value string) string {
		b, _ := json.Marshal(map[string]string{"restriction_type": kind, "value": value})
		return string(b)
	}
	ok := func(name, kind, value, want string) checkCase {
		return checkCase{name: name, state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content: add(kind, value), wantContent: add(kind, want)}
	}
	bad := func(name, content string, code errs.Code, f map[string]string) checkCase {
		return checkCase{name: name, state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content: content, code: code, fields: f}
	}
	malformed := fields("content.value", "malformed")
	tests := []checkCase{
		ok("identifier", "identifier", "dave@elsewhere.net", "dave@elsewhere.net"),
		ok("identifier lower-cased and trimmed", "identifier", "  Dave@ElseWhere.NET ", "dave@elsewhere.net"),
		ok("identifier with plus", "identifier", "dave+box@elsewhere.net", "dave+box@elsewhere.net"),
		ok("email_domain", "email_domain", "elsewhere.net", "elsewhere.net"),
		ok("email_domain lower-cased and trimmed", "email_domain", " ElseWhere.NET", "elsewhere.net"),
		ok("email_domain subdomain with hyphen", "email_domain", "mail.my-corp.example", "mail.my-corp.example"),
		{name: "unknown fields dropped", state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content:     `{"restriction_type":"identifier","value":"DAVE@elsewhere.net","id":"x","extra_field":1}`,
			wantContent: add("identifier", "dave@elsewhere.net")},
		{name: "public box", state: publicState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content: add("email_domain", "example.com"), wantContent: add("email_domain", "example.com")},

		bad("a rule that exists already", add("email_domain", "Example.com"), errs.Conflict, map[string]string{"content": "conflict", "box_id": "conflict"}),
		{name: "auto_invite without extra", state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content: `{"restriction_type":"identifier","value":"dave@elsewhere.net","auto_invite":true}`, code: errs.Invalid, fields: fields("extra", "required")},
		{name: "extra without auto_invite", state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content: add("identifier", "dave@elsewhere.net"), extra: `{"` + key + `":"` + cipher + `"}`, code: errs.Invalid, fields: fields("auto_invite", "invalid")},
		{name: "auto_invite on a domain rule is ignored, as the reference", state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content: `{"restriction_type":"email_domain","value":"elsewhere.net","auto_invite":true}`, anyDecision: true},
		bad("identifier not an address", add("identifier", "dave"), errs.Invalid, malformed),
		bad("identifier a domain", add("identifier", "elsewhere.net"), errs.Invalid, malformed),
		bad("identifier with a display name", add("identifier", "Dave <dave@elsewhere.net>"), errs.Invalid, malformed),
		bad("identifier in angle brackets", add("identifier", "<dave@elsewhere.net>"), errs.Invalid, malformed),
		bad("identifier two addresses", add("identifier", "dave@elsewhere.net, bob@example.com"), errs.Invalid, malformed),
		bad("identifier empty", add("identifier", ""), errs.Invalid, malformed),
		bad("email_domain without a dot", add("email_domain", "localhost"), errs.Invalid, malformed),
		bad("email_domain with @", add("email_domain", "@example.com"), errs.Invalid, malformed),
		bad("email_domain an address", add("email_domain", "bob@example.com"), errs.Invalid, malformed),
		bad("email_domain leading dot", add("email_domain", ".example.com"), errs.Invalid, malformed),
		bad("email_domain trailing dot", add("email_domain", "example.com."), errs.Invalid, malformed),
		bad("email_domain wildcard", add("email_domain", "*.example.com"), errs.Invalid, malformed),
		bad("email_domain with a space", add("email_domain", "exa mple.com"), errs.Invalid, malformed),
		bad("email_domain empty", add("email_domain", ""), errs.Invalid, malformed),
		bad("email_domain too long", add("email_domain", strings.Repeat("a", 250)+".com"), errs.Invalid, malformed),
		bad("restriction_type missing", `{"value":"dave@elsewhere.net"}`, errs.Invalid, fields("content.restriction_type", "required")),
		bad("restriction_type unknown", add("ip", "10.0.0.1"), errs.Invalid, fields("content.restriction_type", "malformed")),
		bad("restriction_type upper case", add("IDENTIFIER", "dave@elsewhere.net"), errs.Invalid, fields("content.restriction_type", "malformed")),
		bad("value of the wrong type", `{"restriction_type":"identifier","value":["dave@elsewhere.net"]}`, errs.Invalid, fields("content.value", "malformed")),
		bad("no content", "", errs.Invalid, fields("content", "required")),

		{name: "member", state: limitedState(), actor: asBob, typ: "access.add", route: boxrules.Batch, content: add("identifier", "dave@elsewhere.net"),
			code: errs.Forbidden, fields: nil},
		{name: "no access", state: limitedState(), actor: asDave, typ: "access.add", route: boxrules.Batch, content: add("identifier", "dave@elsewhere.net"),
			code: errs.Forbidden, fields: noAccessFields},
		{name: "with a referrer", state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch, content: add("identifier", "dave@elsewhere.net"),
			ref: ref(evDomain), target: domainAdd, code: errs.Invalid, fields: fields("referrer_id", "invalid")},
	}
	runCheck(t, tests)
}

func TestCheckAccessRm(t *testing.T) {
	tests := []checkCase{
		{name: "admin removes a rule", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch, ref: ref(evDomain), target: domainAdd,
			wantRef: evDomain},
		{name: "content is ignored", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch, content: `{"x":1}`, ref: ref(evDomain), target: domainAdd,
			wantRef: evDomain},

		{name: "member", state: limitedState(), actor: asBob, typ: "access.rm", route: boxrules.Batch, ref: ref(evDomain), target: domainAdd,
			code: errs.Forbidden, fields: nil},
		{name: "no access", state: limitedState(), actor: asDave, typ: "access.rm", route: boxrules.Batch, ref: ref(evDomain), target: domainAdd,
			code: errs.Forbidden, fields: noAccessFields},
		{name: "text target", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch, ref: ref(evBobText), target: bobText,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "access_mode target", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch, ref: ref(evMode), target: modeEvent,
			code: errs.Invalid, fields: fields("referrer_id", "invalid")},
		{name: "removed rule", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch, ref: ref(evDomain), target: deleted(domainAdd),
			code: errs.Gone, fields: fields("referrer_id", "gone")},
		{name: "no referrer", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch,
			code: errs.Invalid, fields: fields("referrer_id", "required")},
		{name: "referrer not found", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch, ref: ref(evMissing),
			code: errs.NotFound, fields: fields("referrer_id", "not_found")},
		{name: "referrer malformed", state: limitedState(), actor: asAdmin, typ: "access.rm", route: boxrules.Batch, ref: ref("access-1"),
			code: errs.Invalid, fields: fields("referrer_id", "malformed")},
	}
	runCheck(t, tests)
}

// TestCheckContentNormalised checks that Decision.Content holds only the
// type's own fields, in its own shape, whatever else the input carried.
func TestCheckContentNormalised(t *testing.T) {
	tests := []checkCase{
		{name: "msg.text extra field", state: limitedState(), actor: asBob, typ: "msg.text",
			content:     `{"encrypted":"` + cipher + `","public_key":"` + key + `","extra_field":1}`,
			wantContent: textContent(cipher, key)},
		{name: "msg.text nested junk and whitespace", state: limitedState(), actor: asBob, typ: "msg.txt",
			content:     "\n { \"public_key\" : \"" + key + "\", \"x\": {\"y\": [1, {}]}, \"encrypted\":\"" + cipher + "\", \"deleted\": true }\n",
			wantType:    "msg.text",
			wantContent: textContent(cipher, key)},
		{name: "msg.edit extra fields", state: limitedState(), actor: asBob, typ: "msg.edit", ref: ref(evBobText), target: bobText,
			content:     `{"new_encrypted":"` + cipher + `","new_public_key":"` + key + `","last_edited_at":"2020-01-01T00:00:00Z"}`,
			wantContent: editContent(cipher, key), wantRef: evBobText},
		{name: "state.lifecycle extra fields", state: limitedState(), actor: asAdmin, typ: "state.lifecycle",
			content: `{"state":"closed","reopen":true}`, wantContent: `{"state":"closed"}`},
		{name: "access.add extra fields", state: limitedState(), actor: asAdmin, typ: "access.add", route: boxrules.Batch,
			content:     `{"restriction_type":"email_domain","value":"ELSEWHERE.net","box_id":"b"}`,
			wantContent: `{"restriction_type":"email_domain","value":"elsewhere.net"}`},
		{name: "member.join content dropped", state: publicState(), actor: asDave, typ: "member.join",
			content: `{"encrypted":"` + cipher + `"}`},
		{name: "member.leave content dropped", state: limitedState(), actor: asBob, typ: "member.leave",
			content: `{"x":1}`, wantRef: evBobJoin},
	}
	runCheck(t, tests)

	// And exactly those bytes: no stray fields, the type's own key order.
	d, err := boxrules.Check(limitedState(), asBob, boxrules.Input{Type: "msg.text",
		Content: json.RawMessage(`{"extra_field":1,"public_key":"` + key + `","encrypted":"` + cipher + `"}`)}, nil, boxrules.Single)
	assertErr(t, err, "", nil)
	if want := `{"encrypted":"` + cipher + `","public_key":"` + key + `"}`; string(d.Content) != want {
		t.Errorf("Content = %s, want %s", d.Content, want)
	}
}

// ---------------------------------------------------------------- LostAccess

func TestLostAccess(t *testing.T) {
	member := func(who identity.Identity, join string) boxrules.Member {
		return boxrules.Member{Identity: who, JoinEventID: join}
	}
	sub := identity.Identity{ID: "id-sub", IdentifierValue: "sub@sub.example.com", VerifiedAt: proven}
	upper := identity.Identity{ID: "id-upper", IdentifierValue: "UPPER@EXAMPLE.COM", VerifiedAt: proven}
	all := map[string]boxrules.Member{
		admin.ID: member(admin, "j-admin"),
		bob.ID:   member(bob, "j-bob"),
		carol.ID: member(carol, "j-carol"),
		dave.ID:  member(dave, "j-dave"),
		sub.ID:   member(sub, "j-sub"),
		upper.ID: member(upper, "j-upper"),
	}
	onlyCarol := limitedState()
	onlyCarol.Accesses = onlyCarol.Accesses[1:]
	noRules := limitedState()
	noRules.Accesses = nil
	closedPublic := publicState()
	closedPublic.Lifecycle = boxrules.Closed
	tests := []struct {
		name    string
		state   boxrules.State
		members map[string]boxrules.Member
		want    []string // join ids
	}{
		{"limited with domain and identifier rules", limitedState(), all, []string{"j-dave", "j-sub"}},
		{"domain rule removed", onlyCarol, all, []string{"j-bob", "j-dave", "j-sub", "j-upper"}},
		{"no rules: all but the admin", noRules, all, []string{"j-bob", "j-carol", "j-dave", "j-sub", "j-upper"}},
		{"public: nobody", publicState(), all, nil},
		{"closed: all but the admin", closedPublic, all, []string{"j-bob", "j-carol", "j-dave", "j-sub", "j-upper"}},
		{"no members", noRules, map[string]boxrules.Member{}, nil},
		{"nil members", noRules, nil, nil},
		{"only the admin", noRules, map[string]boxrules.Member{admin.ID: member(admin, "j-admin")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lost := boxrules.LostAccess(tt.state, tt.members)
			var got []string
			for _, m := range lost {
				if tt.state.HasAccess(m.Identity) {
					t.Errorf("%s lost access but HasAccess is true", m.Identity.IdentifierValue)
				}
				if want := tt.members[m.Identity.ID]; want != m {
					t.Errorf("returned %+v, not the member %+v", m, want)
				}
				got = append(got, m.JoinEventID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("LostAccess = %v, want %v", got, tt.want)
			}
			// Exactly the members failing HasAccess.
			n := 0
			for _, m := range tt.members {
				if !tt.state.HasAccess(m.Identity) {
					n++
				}
			}
			if n != len(lost) {
				t.Errorf("LostAccess returned %d members, %d fail HasAccess", len(lost), n)
			}
		})
	}
}

// ---------------------------------------------------------------- fuzz

// FuzzCheck feeds Check arbitrary types, contents, extras and referrers
// from every kind of actor, on open and closed boxes, with and without a
// target: it never panics, only ever answers with a domain error that is
// not internal, and whatever it accepts is a postable type, by someone
// with access to an open box, with JSON content.
func FuzzCheck(f *testing.F) {
	for _, c := range postable() {
		f.Add(c.typ, []byte(c.content), []byte(c.extra), evBobText, c.ref != nil, c.route == boxrules.Batch, uint8(0), boxrules.TypeMsgText, false, false)
	}
	f.Add("msg.text", []byte(textContent(cipher, key)), []byte(nil), "", false, false, uint8(1), "", false, false)
	f.Add("msg.edit", []byte(editContent(cipher, key)), []byte(nil), evBobText, true, false, uint8(1), boxrules.TypeMsgText, true, false)
	f.Add("msg.delete", []byte(`{"x":`), []byte(`]`), "not-a-uuid", true, false, uint8(2), boxrules.TypeMsgFile, false, true)
	f.Add("access.add", []byte(`{"restriction_type":"identifier","value":"A@B.C"}`), []byte(nil), "", false, true, uint8(0), "", false, false)
	f.Add("access.rm", []byte(`null`), []byte(`null`), evDomain, true, true, uint8(0), boxrules.TypeAccessAdd, true, false)
	f.Add("state.key_share", []byte(nil), []byte(`{"misakey_share":"\u0000","other_share_hash":1}`), "", false, false, uint8(0), "", false, false)
	f.Add("", []byte(`{}`), []byte(`{}`), "", false, false, uint8(3), "", false, true)
	f.Add("member.kick", []byte(`{"kicker_id":"id-admin"}`), []byte(nil), evBobJoin, true, true, uint8(0), boxrules.TypeJoin, false, false)
	f.Add("msg.text", []byte("{\"encrypted\":\"\xff\xfe\",\"public_key\":{\"a\":[]}}"), []byte(nil), "", false, false, uint8(1), "", false, false)

	actors := []boxrules.Actor{asAdmin, asBob, asCarol, asDave, asBobOut, asErin}
	f.Fuzz(func(t *testing.T, typ string, content, extra []byte, referrer string, hasRef, batch bool,
		who uint8, targetType string, targetDeleted, closed bool) {
		s := limitedState()
		if who&0x80 != 0 {
			s.AccessMode = boxrules.Public
		}
		if closed {
			s.Lifecycle = boxrules.Closed
		}
		a := actors[int(who&0x7f)%len(actors)]
		in := boxrules.Input{Type: typ, Content: content, Extra: extra}
		if hasRef {
			in.ReferrerID = &referrer
		}
		var target *boxrules.Target
		if targetType != "" {
			target = &boxrules.Target{ID: referrer, Type: targetType, SenderID: actors[int(who>>4)%len(actors)].Identity.ID, Deleted: targetDeleted}
		}
		route := boxrules.Single
		if batch {
			route = boxrules.Batch
		}

		d, err := boxrules.Check(s, a, in, target, route)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *errs.Error", err, err)
			}
			switch e.Code {
			case errs.Invalid, errs.Forbidden, errs.NotFound, errs.Conflict, errs.Gone, errs.TooLarge:
			default:
				t.Fatalf("code %q for type %q: %v", e.Code, typ, err)
			}
			if e.Code != errs.Forbidden && len(e.Fields) == 0 {
				t.Fatalf("%s error names no field: %v", e.Code, err)
			}
			return
		}
		if !s.HasAccess(a.Identity) || s.Lifecycle == boxrules.Closed {
			t.Fatalf("accepted %q from %s on a box it may not write", typ, a.Identity.IdentifierValue)
		}
		if d.Type != boxrules.CanonicalType(typ) {
			t.Fatalf("Decision.Type = %q for type %q", d.Type, typ)
		}
		switch d.Type {
		case boxrules.TypeCreate, boxrules.TypeMsgFile, boxrules.TypeKick:
			t.Fatalf("accepted server-only type %q", d.Type)
		case boxrules.TypeAccessAdd, boxrules.TypeAccessRm:
			if route != boxrules.Batch {
				t.Fatalf("accepted %q outside a batch", d.Type)
			}
		default:
			if route != boxrules.Single {
				t.Fatalf("accepted %q in a batch", d.Type)
			}
		}
		if !json.Valid(d.Content) {
			t.Fatalf("Decision.Content %q is not JSON", d.Content)
		}
	})
}
