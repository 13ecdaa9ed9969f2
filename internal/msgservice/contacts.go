package msgservice

import (
	"context"
	"strings"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/identity"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/store"
)

// ContactInput is the body of POST and PUT /contact.
type ContactInput struct {
	MobileNumber *string  `json:"mobileNumber"`
	Name         *string  `json:"name"`
	Status       *string  `json:"status"`
	Email        *string  `json:"email"`
	APIAccountID *string  `json:"apiAccountId"`
	Tags         []string `json:"tags"`
}

// Contacts lists the contacts the caller reaches.
func (s *Service) Contacts(ctx context.Context, f store.Filter, page int) (msgrules.Page[msgrules.Contact], error) {
	return list(ctx, s, f, page, s.Store.Contacts)
}

// Contact reads one contact the caller reaches.
func (s *Service) Contact(ctx context.Context, id string) (msgrules.Contact, error) {
	return one(ctx, s, id, s.Store.Contact)
}

// SaveContact creates (id "") or changes a contact, in one transaction.
// A contact stays on the API account it was created on.
func (s *Service) SaveContact(ctx context.Context, id string, in ContactInput) (msgrules.Contact, error) {
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Contact{}, err
	}
	c := msgrules.Contact{OrgID: m.OrgID, Status: msgrules.Presubscribed, Tags: []string{}}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if c, err = contactToSave(ctx, tx, m, id, in, c); err != nil {
			return err
		}
		if c, err = in.apply(c); err != nil {
			return err
		}
		typ := msgrules.EntryContactUpdated
		if id == "" {
			typ = msgrules.EntryContactCreated
			err = tx.CreateContact(ctx, &c)
		} else {
			err = tx.UpdateContact(ctx, c)
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, typ, c.ContactID, c)
	})
	return c, err
}

// contactToSave is the contact a save starts from: the stored one, or a
// new one on the API account named in the body.
func contactToSave(ctx context.Context, tx *store.Tx, m msgrules.Member, id string, in ContactInput, fresh msgrules.Contact) (msgrules.Contact, error) {
	if id == "" {
		a, err := account(ctx, tx.APIAccount, m, "apiAccountId", *orKeep(in.APIAccountID, ""))
		fresh.APIAccountID = a.APIAccountID
		return fresh, err
	}
	c, err := tx.Contact(ctx, store.ReachOf(m), id)
	if err == nil && in.APIAccountID != nil && *in.APIAccountID != c.APIAccountID {
		return c, errs.Field(errs.Body, "apiAccountId", errs.Invalid_, "a contact cannot move to another API account")
	}
	return c, err
}

// maxTags bounds a contact's tags.
const maxTags = 50

func (in ContactInput) apply(c msgrules.Contact) (msgrules.Contact, error) {
	var err error
	// A number typed in is checked strictly; a stored one (perhaps from
	// the channel, which may use ranges the library does not know) is kept.
	if in.MobileNumber != nil || c.MobileNumber == "" {
		if c.MobileNumber, err = msgrules.NormalizeE164("mobileNumber", *orKeep(in.MobileNumber, "")); err != nil {
			return c, err
		}
	}
	if c.Name, err = name("name", orKeep(in.Name, c.Name)); err != nil {
		return c, err
	}
	if c.Status, err = contactStatus(*orKeep(in.Status, c.Status)); err != nil {
		return c, err
	}
	if in.Email != nil {
		c.Email = strings.TrimSpace(*in.Email)
		if c.Email != "" {
			if c.Email, err = identity.Email("email", c.Email); err != nil {
				return c, err
			}
		}
	}
	if in.Tags != nil {
		if c.Tags, err = tags(in.Tags); err != nil {
			return c, err
		}
	}
	return c, nil
}

func contactStatus(v string) (string, error) {
	for _, st := range []string{msgrules.Presubscribed, msgrules.Subscribed, msgrules.Unsubscribed} {
		if strings.EqualFold(v, st) {
			return st, nil
		}
	}
	return "", errs.Field(errs.Body, "status", errs.Invalid_, "status must be Presubscribed, Subscribed or Unsubscribed")
}

func tags(in []string) ([]string, error) {
	if len(in) > maxTags {
		return nil, errs.Field(errs.Body, "tags", errs.Invalid_, "at most %d tags", maxTags)
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > 64 || !validText(t) {
			return nil, errs.Field(errs.Body, "tags", errs.Invalid_, "a tag must be 1 to 64 characters")
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// ConversationInput is the body of PUT /conversation/{id}: every field is
// optional. A userId assigns the conversation to that user (and takes it
// from its team), a teamId to that team; an empty string unassigns.
type ConversationInput struct {
	UserID *string `json:"userId"`
	TeamID *string `json:"teamId"`
	Folder *string `json:"folder"`
}

// Conversations lists the conversations the caller reaches.
func (s *Service) Conversations(ctx context.Context, f store.Filter, page int) (msgrules.Page[msgrules.Conversation], error) {
	return list(ctx, s, f, page, s.Store.Conversations)
}

// Conversation reads one conversation the caller reaches.
func (s *Service) Conversation(ctx context.Context, id string) (msgrules.Conversation, error) {
	return one(ctx, s, id, s.Store.Conversation)
}

// UpdateConversation assigns a conversation or moves it to a folder, in
// one transaction.
func (s *Service) UpdateConversation(ctx context.Context, id string, in ConversationInput) (msgrules.Conversation, error) {
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Conversation{}, err
	}
	a := msgrules.Assignment{UserID: *orKeep(in.UserID, ""), TeamID: *orKeep(in.TeamID, "")}
	if err := a.Validate(); err != nil {
		return msgrules.Conversation{}, err
	}
	folder := ""
	if in.Folder != nil {
		if folder, err = msgrules.ParseFolder(*in.Folder); err != nil {
			return msgrules.Conversation{}, err
		}
	}
	var v msgrules.Conversation
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if v, err = tx.ConversationIn(ctx, store.ReachOf(m), id); err != nil {
			return err
		}
		if err := checkAssignee(ctx, tx, v, a); err != nil {
			return err
		}
		if folder != "" {
			v.Folder = folder
		}
		assign(&v, a, in)
		if err := tx.UpdateConversation(ctx, v); err != nil {
			return err
		}
		if v, err = tx.Conversation(ctx, id); err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, msgrules.EntryConversationUpdated, v.ConversationID, v)
	})
	return v, err
}

// assign applies an assignment: a user takes the conversation from its
// team and the reverse; a present empty id unassigns that side.
func assign(v *msgrules.Conversation, a msgrules.Assignment, in ConversationInput) {
	switch {
	case a.UserID != "":
		v.User, v.Team = &msgrules.UserRef{UserID: a.UserID}, nil
	case a.TeamID != "":
		v.User, v.Team = nil, &msgrules.TeamRef{TeamID: a.TeamID}
	default:
		if in.UserID != nil {
			v.User = nil
		}
		if in.TeamID != nil {
			v.Team = nil
		}
	}
}

// checkAssignee refuses to assign a conversation to a user or a team that
// could not see it: a user must be an admin or in a team with the
// conversation's API account, a team must have that account.
func checkAssignee(ctx context.Context, tx *store.Tx, v msgrules.Conversation, a msgrules.Assignment) error {
	if a.UserID != "" {
		ok, err := tx.UserReaches(ctx, v.OrgID, a.UserID, v.APIAccountID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Field(errs.Body, "userId", errs.Invalid_, "%q is not a user who can see this conversation's API account", a.UserID)
		}
	}
	if a.TeamID != "" {
		ok, err := tx.TeamHasAccount(ctx, v.OrgID, a.TeamID, v.APIAccountID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Field(errs.Body, "teamId", errs.Invalid_, "%q is not a team with this conversation's API account", a.TeamID)
		}
	}
	return nil
}
