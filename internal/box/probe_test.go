package box_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/boxwire/boxwire/internal/box"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// Someone who may see a box but not act on its events must not learn
// which event ids exist: the answer is the same for a real and an unknown id.
func TestNoProbingOfEventIDs(t *testing.T) {
	admin := identity.Identity{ID: "admin", IdentifierValue: "admin@example.com"}
	visitor := identity.Identity{ID: "visitor", IdentifierValue: "v@example.com"}
	st := box.State{Box: box.Box{ID: "b", CreatorID: admin.ID, AccessMode: box.Public, Lifecycle: box.Open}}
	ref := "7f2280ed-40bd-4bba-a813-a833f022cdf9"
	key := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	edit, _ := json.Marshal(map[string]string{"new_encrypted": "YQ==", "new_public_key": key})
	for _, tc := range []struct {
		typ   string
		route box.Route
	}{{box.TypeMsgEdit, box.Single}, {box.TypeMsgDelete, box.Single}, {box.TypeAccessRm, box.Batch}} {
		in := box.Input{Type: tc.typ, ReferrerID: &ref, Content: edit}
		_, unknown := box.Check(st, box.Actor{Identity: visitor}, in, nil, tc.route)
		_, real := box.Check(st, box.Actor{Identity: visitor}, in, &box.Target{ID: ref, Type: box.TypeMsgText, SenderID: admin.ID}, tc.route)
		if errs.CodeOf(unknown) != errs.Forbidden || errs.CodeOf(real) != errs.Forbidden {
			t.Errorf("%s by a non-member: unknown id → %v, existing id → %v; want forbidden for both", tc.typ, unknown, real)
		}
	}
}

func TestAccessRuleValuesThatCouldNeverMatch(t *testing.T) {
	admin := identity.Identity{ID: "admin", IdentifierValue: "admin@example.com"}
	st := box.State{Box: box.Box{ID: "b", CreatorID: admin.ID, AccessMode: box.Limited, Lifecycle: box.Open}}
	for _, c := range []box.AccessContent{
		{RestrictionType: "identifier", Value: "dave@localhost"},
		{RestrictionType: "email_domain", Value: "a..b.com"},
		{RestrictionType: "email_domain", Value: "-x.com"},
		{RestrictionType: "email_domain", Value: "x-.com"},
		{RestrictionType: "email_domain", Value: "localhost"},
	} {
		content, _ := json.Marshal(c)
		_, err := box.Check(st, box.Actor{Identity: admin}, box.Input{Type: box.TypeAccessAdd, Content: content}, nil, box.Batch)
		if errs.As(err).Fields["content.value"] != errs.Malformed {
			t.Errorf("%+v: %v, want content.value malformed", c, err)
		}
	}
	ok, _ := json.Marshal(box.AccessContent{RestrictionType: "email_domain", Value: "mail.example-corp.co.uk"})
	if _, err := box.Check(st, box.Actor{Identity: admin}, box.Input{Type: box.TypeAccessAdd, Content: ok}, nil, box.Batch); err != nil {
		t.Errorf("a valid domain was refused: %v", err)
	}
}

func TestValidateBeforeAnyState(t *testing.T) {
	key := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	good, _ := json.Marshal(map[string]string{"encrypted": "YQ==", "public_key": key})
	cases := []struct {
		in    box.Input
		route box.Route
		field string
	}{
		{box.Input{Type: "msg.text", Content: good}, box.Single, ""},
		{box.Input{Type: "msg.txt", Content: good}, box.Single, ""},
		{box.Input{Type: "msg.text", Content: json.RawMessage(`{"encrypted":"%%","public_key":"` + key + `"}`)}, box.Single, "content.encrypted"},
		{box.Input{Type: "msg.text", Content: json.RawMessage(`{"encrypted":5}`)}, box.Single, "content.encrypted"},
		{box.Input{Type: "msg.text"}, box.Single, "content"},
		{box.Input{Type: "msg.edit", Content: json.RawMessage(`{"new_encrypted":"YQ==","new_public_key":"not a key"}`)}, box.Single, "content.new_public_key"},
		{box.Input{Type: "create"}, box.Single, "type"},
		{box.Input{Type: "access.add"}, box.Single, "type"},
		{box.Input{Type: "msg.text", Content: good}, box.Batch, "type"},
		{box.Input{Type: "member.join"}, box.Single, ""}, // its rules need the box
	}
	for _, tc := range cases {
		_, err := box.Validate(tc.in, tc.route)
		if tc.field == "" && err != nil || tc.field != "" && errs.As(err).Fields[tc.field] == "" {
			t.Errorf("Validate(%s %s): %v, want an error naming %q", tc.in.Type, tc.in.Content, err, tc.field)
		}
	}
}
