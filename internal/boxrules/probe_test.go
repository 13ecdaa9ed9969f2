package boxrules_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/boxwire/boxwire/internal/boxrules"
	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
)

// Someone who may see a box but not act on its events must not learn
// which event ids exist: the answer is the same for a real and an unknown id.
func TestNoProbingOfEventIDs(t *testing.T) {
	admin := identity.Identity{ID: "admin", IdentifierValue: "admin@example.com"}
	visitor := identity.Identity{ID: "visitor", IdentifierValue: "v@example.com"}
	st := boxrules.State{Box: boxrules.Box{ID: "b", CreatorID: admin.ID, AccessMode: boxrules.Public, Lifecycle: boxrules.Open}}
	ref := "7f2280ed-40bd-4bba-a813-a833f022cdf9"
	key := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	edit, _ := json.Marshal(map[string]string{"new_encrypted": "YQ==", "new_public_key": key})
	for _, tc := range []struct {
		typ   string
		route boxrules.Route
	}{{boxrules.TypeMsgEdit, boxrules.Single}, {boxrules.TypeMsgDelete, boxrules.Single}, {boxrules.TypeAccessRm, boxrules.Batch}} {
		in := boxrules.Input{Type: tc.typ, ReferrerID: &ref, Content: edit}
		_, unknown := boxrules.Check(st, boxrules.Actor{Identity: visitor}, in, nil, tc.route)
		_, real := boxrules.Check(st, boxrules.Actor{Identity: visitor}, in, &boxrules.Target{ID: ref, Type: boxrules.TypeMsgText, SenderID: admin.ID}, tc.route)
		if errs.CodeOf(unknown) != errs.Forbidden || errs.CodeOf(real) != errs.Forbidden {
			t.Errorf("%s by a non-member: unknown id → %v, existing id → %v; want forbidden for both", tc.typ, unknown, real)
		}
	}
}

func TestAccessRuleValuesThatCouldNeverMatch(t *testing.T) {
	admin := identity.Identity{ID: "admin", IdentifierValue: "admin@example.com"}
	st := boxrules.State{Box: boxrules.Box{ID: "b", CreatorID: admin.ID, AccessMode: boxrules.Limited, Lifecycle: boxrules.Open}}
	for _, c := range []boxrules.AccessContent{
		{RestrictionType: "identifier", Value: "dave@localhost"},
		{RestrictionType: "email_domain", Value: "a..b.com"},
		{RestrictionType: "email_domain", Value: "-x.com"},
		{RestrictionType: "email_domain", Value: "x-.com"},
		{RestrictionType: "email_domain", Value: "localhost"},
	} {
		content, _ := json.Marshal(c)
		_, err := boxrules.Check(st, boxrules.Actor{Identity: admin}, boxrules.Input{Type: boxrules.TypeAccessAdd, Content: content}, nil, boxrules.Batch)
		if errs.As(err).Fields["content.value"] != errs.Malformed {
			t.Errorf("%+v: %v, want content.value malformed", c, err)
		}
	}
	ok, _ := json.Marshal(boxrules.AccessContent{RestrictionType: "email_domain", Value: "mail.example-corp.co.uk"})
	if _, err := boxrules.Check(st, boxrules.Actor{Identity: admin}, boxrules.Input{Type: boxrules.TypeAccessAdd, Content: ok}, nil, boxrules.Batch); err != nil {
		t.Errorf("a valid domain was refused: %v", err)
	}
}

func TestValidateBeforeAnyState(t *testing.T) {
	key := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	good, _ := json.Marshal(map[string]string{"encrypted": "YQ==", "public_key": key})
	cases := []struct {
		in    boxrules.Input
		route boxrules.Route
		field string
	}{
		{boxrules.Input{Type: "msg.text", Content: good}, boxrules.Single, ""},
		{boxrules.Input{Type: "msg.txt", Content: good}, boxrules.Single, ""},
		{boxrules.Input{Type: "msg.text", Content: json.RawMessage(`{"encrypted":"%%","public_key":"` + key + `"}`)}, boxrules.Single, "content.encrypted"},
		{boxrules.Input{Type: "msg.text", Content: json.RawMessage(`{"encrypted":5}`)}, boxrules.Single, "content.encrypted"},
		{boxrules.Input{Type: "msg.text"}, boxrules.Single, "content"},
		{boxrules.Input{Type: "msg.edit", Content: json.RawMessage(`{"new_encrypted":"YQ==","new_public_key":"not a key"}`)}, boxrules.Single, "content.new_public_key"},
		{boxrules.Input{Type: "create"}, boxrules.Single, "type"},
		{boxrules.Input{Type: "access.add"}, boxrules.Single, "type"},
		{boxrules.Input{Type: "msg.text", Content: good}, boxrules.Batch, "type"},
		{boxrules.Input{Type: "member.join"}, boxrules.Single, ""}, // its rules need the box
	}
	for _, tc := range cases {
		_, err := boxrules.Validate(tc.in, tc.route)
		if tc.field == "" && err != nil || tc.field != "" && errs.As(err).Fields[tc.field] == "" {
			t.Errorf("Validate(%s %s): %v, want an error naming %q", tc.in.Type, tc.in.Content, err, tc.field)
		}
	}
}
