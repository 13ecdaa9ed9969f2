package msgservice

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
	"github.com/boxwire/boxwire/internal/printable"
	"github.com/boxwire/boxwire/internal/store"
)

// maxName bounds the names of accounts, inboxes, teams and contacts.
const maxName = 200

// name validates a required short name.
func name(field string, v *string) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return "", errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	s := strings.TrimSpace(*v)
	if utf8.RuneCountInString(s) > maxName || !validText(s) {
		return "", errs.Field(errs.Body, field, errs.Invalid_, "%s must be valid text of at most %d characters", field, maxName)
	}
	if why := printable.Name(s); why != "" {
		return "", errs.Field(errs.Body, field, errs.Invalid_, "%s %s", field, why)
	}
	return s, nil
}

// validText refuses invalid UTF-8 and NUL, which PostgreSQL cannot store
// in text and no one means to send.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// orKeep returns *v when given, else old.
func orKeep(v *string, old string) *string {
	if v == nil {
		return &old
	}
	return v
}

// AccountInput is the body of POST and PUT /apiaccount. On PUT a nil
// field is left as it is.
type AccountInput struct {
	Name          *string `json:"name"`
	PhoneNumber   *string `json:"phoneNumber"`
	Channel       *string `json:"channel"`
	PhoneNumberID *string `json:"phoneNumberId"`
	AccessToken   *string `json:"accessToken"`
	AppSecret     *string `json:"appSecret"`
	VerifyToken   *string `json:"verifyToken"`
}

// apply validates in over a and returns the result.
func (in AccountInput) apply(a msgrules.APIAccount) (msgrules.APIAccount, error) {
	var err error
	if a.Name, err = name("name", orKeep(in.Name, a.Name)); err != nil {
		return a, err
	}
	if a.PhoneNumber, err = msgrules.ChannelNumber("phoneNumber", *orKeep(in.PhoneNumber, a.PhoneNumber)); err != nil {
		return a, err
	}
	switch a.Channel = *orKeep(in.Channel, a.Channel); a.Channel {
	case msgrules.ChannelSandbox, msgrules.ChannelWhatsApp:
	case "":
		return a, errs.Field(errs.Body, "channel", errs.Required, "channel is required: sandbox or whatsapp")
	default:
		return a, errs.Field(errs.Body, "channel", errs.Invalid_, "channel must be sandbox or whatsapp")
	}
	st := &a.Settings
	st.PhoneNumberID, st.AccessToken = *orKeep(in.PhoneNumberID, st.PhoneNumberID), *orKeep(in.AccessToken, st.AccessToken)
	st.AppSecret, st.VerifyToken = *orKeep(in.AppSecret, st.AppSecret), *orKeep(in.VerifyToken, st.VerifyToken)
	if a.Channel != msgrules.ChannelWhatsApp {
		a.Settings = msgrules.ChannelSettings{}
		return a, nil
	}
	for _, f := range []struct{ field, v string }{{"phoneNumberId", st.PhoneNumberID}, {"accessToken", st.AccessToken},
		{"appSecret", st.AppSecret}, {"verifyToken", st.VerifyToken}} {
		if strings.TrimSpace(f.v) == "" {
			return a, errs.Field(errs.Body, f.field, errs.Required, "a whatsapp account needs %s (from Meta's app dashboard)", f.field)
		}
	}
	if strings.Trim(st.PhoneNumberID, "0123456789") != "" || len(st.PhoneNumberID) > 32 {
		return a, errs.Field(errs.Body, "phoneNumberId", errs.Invalid_, "phoneNumberId is the number's id in Meta's dashboard: digits only")
	}
	return a, nil
}

// APIAccounts lists the API accounts the caller reaches.
func (s *Service) APIAccounts(ctx context.Context, page int) (msgrules.Page[msgrules.APIAccount], error) {
	return list(ctx, s, store.Filter{}, page, s.Store.APIAccounts)
}

// APIAccount reads one API account the caller reaches.
func (s *Service) APIAccount(ctx context.Context, id string) (msgrules.APIAccount, error) {
	return one(ctx, s, id, s.Store.APIAccount)
}

// CreateAPIAccount adds a channel number to the organisation (admins).
func (s *Service) CreateAPIAccount(ctx context.Context, in AccountInput) (msgrules.APIAccount, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.APIAccount{}, err
	}
	a, err := in.apply(msgrules.APIAccount{OrgID: m.OrgID})
	if err != nil {
		return a, err
	}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.CreateAPIAccount(ctx, &a); err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, msgrules.EntryAPIAccountCreated, a.APIAccountID, a)
	})
	return a, err
}

// UpdateAPIAccount changes an API account (admins). The account is read,
// changed and written in one transaction, so concurrent partial updates
// do not undo each other.
func (s *Service) UpdateAPIAccount(ctx context.Context, id string, in AccountInput) (msgrules.APIAccount, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.APIAccount{}, err
	}
	var a msgrules.APIAccount
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		cur, err := tx.APIAccount(ctx, store.ReachOf(m), id)
		if err != nil {
			return err
		}
		if a, err = in.apply(cur); err != nil {
			return err
		}
		if err := tx.UpdateAPIAccount(ctx, a); err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, msgrules.EntryAPIAccountUpdated, a.APIAccountID, a)
	})
	return a, err
}

// accountReader reads an API account within a reach: the store's, or a
// transaction's.
type accountReader func(context.Context, store.Reach, string) (msgrules.APIAccount, error)

// account reads an API account named in a request body: one the caller
// does not reach is a bad field, not a missing page.
func account(ctx context.Context, read accountReader, m msgrules.Member, field, id string) (msgrules.APIAccount, error) {
	if id == "" {
		return msgrules.APIAccount{}, errs.Field(errs.Body, field, errs.Required, "%s is required", field)
	}
	a, err := read(ctx, store.ReachOf(m), id)
	if errs.CodeOf(err) == errs.NotFound {
		return a, errs.Field(errs.Body, field, errs.Invalid_, "no API account %q that you can use", id)
	}
	return a, err
}

// InboxInput is the body of POST and PUT /inbox.
type InboxInput struct {
	APIAccountID *string `json:"apiAccountId"`
	Name         *string `json:"name"`
}

// Inboxes lists the inboxes the caller reaches.
func (s *Service) Inboxes(ctx context.Context, f store.Filter, page int) (msgrules.Page[msgrules.Inbox], error) {
	return list(ctx, s, f, page, s.Store.Inboxes)
}

// Inbox reads one inbox the caller reaches.
func (s *Service) Inbox(ctx context.Context, id string) (msgrules.Inbox, error) {
	return one(ctx, s, id, s.Store.Inbox)
}

// SaveInbox creates (id "") or changes an inbox (admins), in one
// transaction.
func (s *Service) SaveInbox(ctx context.Context, id string, in InboxInput) (msgrules.Inbox, error) {
	m, err := s.admin(ctx)
	if err != nil {
		return msgrules.Inbox{}, err
	}
	x := msgrules.Inbox{OrgID: m.OrgID}
	err = s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		typ := msgrules.EntryInboxCreated
		if id != "" {
			typ = msgrules.EntryInboxUpdated
			if x, err = tx.Inbox(ctx, store.ReachOf(m), id); err != nil {
				return err
			}
		}
		if x.Name, err = name("name", orKeep(in.Name, x.Name)); err != nil {
			return err
		}
		a, err := account(ctx, tx.APIAccount, m, "apiAccountId", *orKeep(in.APIAccountID, x.APIAccountID))
		if err != nil {
			return err
		}
		x.APIAccountID = a.APIAccountID
		if id == "" {
			err = tx.CreateInbox(ctx, &x)
		} else {
			err = tx.UpdateInbox(ctx, x)
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, typ, x.InboxID, x)
	})
	return x, err
}

// one reads a record by id within the caller's reach.
func one[T any](ctx context.Context, s *Service, id string, read func(context.Context, store.Reach, string) (T, error)) (T, error) {
	m, err := s.member(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return read(ctx, store.ReachOf(m), id)
}

// list reads one page of a list within the caller's reach.
func list[T any](ctx context.Context, s *Service, f store.Filter, page int,
	read func(context.Context, store.Reach, store.Filter) ([]T, int, error)) (msgrules.Page[T], error) {
	m, err := s.member(ctx)
	if err != nil {
		return msgrules.Page[T]{}, err
	}
	if f.Offset, err = pageOffset(page); err != nil {
		return msgrules.Page[T]{}, err
	}
	items, n, err := read(ctx, store.ReachOf(m), f)
	return msgrules.NewPage(items, n), err
}

// DeleteInbox removes an inbox (admins). The conversations are the API
// account's and stay; the deletion is journaled with the inbox as it was,
// so hooks of type inbox and live streams learn of it.
func (s *Service) DeleteInbox(ctx context.Context, id string) error {
	m, err := s.admin(ctx)
	if err != nil {
		return err
	}
	return s.Store.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		x, err := tx.Inbox(ctx, store.ReachOf(m), id)
		if err != nil {
			return err
		}
		if err := tx.DeleteInbox(ctx, m.OrgID, id); err != nil {
			return err
		}
		return record(ctx, tx, m.OrgID, m.UserID, msgrules.EntryInboxDeleted, x.InboxID, x)
	})
}
