package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/boxwire/boxwire/internal/errs"
	"github.com/boxwire/boxwire/internal/msgrules"
)

const contactCols = `c.id, c.org_id, c.api_account_id, c.mobile_number, c.name, c.status, c.email, c.tags, c.last_incoming_at, c.created_at`

func scanContact(row scanner, c *msgrules.Contact) error {
	var tags string
	var last sql.NullInt64
	var created int64
	if err := row.Scan(&c.ContactID, &c.OrgID, &c.APIAccountID, &c.MobileNumber, &c.Name, &c.Status, &c.Email,
		&tags, &last, &created); err != nil {
		return err
	}
	c.LastIncoming, c.DateTime = nullMicros(last), fromMicros(created)
	c.Tags = []string{}
	return json.Unmarshal([]byte(tags), &c.Tags)
}

// duplicateMobile is seed 004's 409.
const duplicateMobile = "Duplicate Contact attempted - contact mobileNumber must be unique per apiAccount"

// CreateContact stores c, assigning its id and time. A mobile number
// already on the API account is a Conflict on mobileNumber.
func (t *Tx) CreateContact(ctx context.Context, c *msgrules.Contact) error {
	c.ContactID, c.DateTime = uuid.NewString(), t.now
	if c.Tags == nil {
		c.Tags = []string{}
	}
	tags, _ := json.Marshal(c.Tags)
	_, err := t.q.ExecContext(ctx, `INSERT INTO contacts (id, org_id, api_account_id, mobile_number, name, status, email, tags, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, c.ContactID, c.OrgID, c.APIAccountID, c.MobileNumber, c.Name,
		c.Status, c.Email, string(tags), micros(c.DateTime))
	return errs.Wrap(t.store.conflict(err, "mobileNumber", duplicateMobile), "create contact")
}

// UpdateContact stores c's fields.
func (t *Tx) UpdateContact(ctx context.Context, c msgrules.Contact) error {
	tags, _ := json.Marshal(c.Tags)
	_, err := t.q.ExecContext(ctx, `UPDATE contacts SET mobile_number = $3, name = $4, status = $5, email = $6, tags = $7
		WHERE id = $1 AND org_id = $2`, c.ContactID, c.OrgID, c.MobileNumber, c.Name, c.Status, c.Email, string(tags))
	return errs.Wrap(t.store.conflict(err, "mobileNumber", duplicateMobile), "update contact")
}

// ContactWrote records that the contact wrote at when: the session
// window opens from there.
func (t *Tx) ContactWrote(ctx context.Context, contactID string, when int64) error {
	_, err := t.q.ExecContext(ctx, `UPDATE contacts SET last_incoming_at = $2
		WHERE id = $1 AND (last_incoming_at IS NULL OR last_incoming_at < $2)`, contactID, when)
	return errs.Wrap(err, "record incoming")
}

// contacts are reached through their API account.
var contacts = table[msgrules.Contact]{from: "contacts c", alias: "c.", accountCol: "c.api_account_id",
	cols: contactCols, order: "c.created_at, c.id", what: "contact", scan: scanContact}

// ContactByMobile reads the contact of an API account with a mobile
// number, in the transaction (an inbound message creates it if missing).
func (t *Tx) ContactByMobile(ctx context.Context, accountID, mobile string) (msgrules.Contact, error) {
	return contacts.one(ctx, t.q, contacts.anyOrg().eq("c.api_account_id", accountID).eq("c.mobile_number", mobile))
}

// Contact reads one contact within r.
func (s *Store) Contact(ctx context.Context, r Reach, id string) (msgrules.Contact, error) {
	return contacts.one(ctx, s.rq, contacts.within(r).eq("c.id", id))
}

// Contact reads one contact within r in the transaction.
func (t *Tx) Contact(ctx context.Context, r Reach, id string) (msgrules.Contact, error) {
	return contacts.one(ctx, t.q, contacts.within(r).eq("c.id", id))
}

// Contacts lists the contacts within r.
func (s *Store) Contacts(ctx context.Context, r Reach, f Filter) ([]msgrules.Contact, int, error) {
	q := contacts.within(r).eq("c.api_account_id", f.APIAccountID).eq("c.mobile_number", f.MobileNumber).
		between("c.created_at", f.From, f.To)
	return contacts.page(ctx, s.rq, q, f.Offset)
}

const templateCols = `t.id, t.api_account_id, t.name, t.template_text, t.template_example, t.status, t.created_at`

func scanTemplate(row scanner, t *msgrules.TemplateView) error {
	var created int64
	err := row.Scan(&t.TemplateID, &t.APIAccountID, &t.Name, &t.TemplateText, &t.TemplateExample, &t.Status, &created)
	t.DateTime = fromMicros(created)
	return err
}

// CreateTemplate stores tv for the organisation, assigning its id and
// time. A name already used on the API account is a Conflict on name.
func (t *Tx) CreateTemplate(ctx context.Context, orgID string, tv *msgrules.TemplateView) error {
	tv.TemplateID, tv.DateTime = uuid.NewString(), t.now
	_, err := t.q.ExecContext(ctx, `INSERT INTO templates (id, org_id, api_account_id, name, template_text, template_example, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, tv.TemplateID, orgID, tv.APIAccountID, tv.Name, tv.TemplateText,
		tv.TemplateExample, tv.Status, micros(tv.DateTime))
	return errs.Wrap(t.store.conflict(err, "name", "a template with this name already exists on the API account"), "create template")
}

// UpdateTemplate stores tv's fields.
func (t *Tx) UpdateTemplate(ctx context.Context, tv msgrules.TemplateView) error {
	_, err := t.q.ExecContext(ctx, `UPDATE templates SET name = $2, template_text = $3, template_example = $4, status = $5
		WHERE id = $1`, tv.TemplateID, tv.Name, tv.TemplateText, tv.TemplateExample, tv.Status)
	return errs.Wrap(t.store.conflict(err, "name", "a template with this name already exists on the API account"), "update template")
}

// TemplateBroadcasts counts the broadcasts sent with a template.
func (t *Tx) TemplateBroadcasts(ctx context.Context, id string) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, templateBroadcastsSQL, id).Scan(&n)
	return n, errs.Wrap(err, "count broadcasts")
}

// DeleteTemplate removes a template of the organisation.
func (t *Tx) DeleteTemplate(ctx context.Context, orgID, id string) error {
	return deleted(t.q.ExecContext(ctx, deleteTemplateSQL, orgID, id))("template")
}

const (
	templateBroadcastsSQL = `SELECT COUNT(*) FROM broadcasts WHERE template_id = $1`
	deleteTemplateSQL     = `DELETE FROM templates WHERE org_id = $1 AND id = $2` // its broadcasts go with it
)

// templates are reached through their API account.
var templates = table[msgrules.TemplateView]{from: "templates t", alias: "t.", accountCol: "t.api_account_id",
	cols: templateCols, order: "t.created_at, t.id", what: "template", scan: scanTemplate}

// Template reads one template within r.
func (s *Store) Template(ctx context.Context, r Reach, id string) (msgrules.TemplateView, error) {
	return templates.one(ctx, s.rq, templates.within(r).eq("t.id", id))
}

// TemplateByName reads an API account's template by name, for the
// channel's review callbacks.
func (s *Store) TemplateByName(ctx context.Context, accountID, name string) (msgrules.TemplateView, error) {
	return templates.one(ctx, s.rq, templates.anyOrg().eq("t.api_account_id", accountID).eq("t.name", name))
}

// Templates lists the templates within r.
func (s *Store) Templates(ctx context.Context, r Reach, f Filter) ([]msgrules.TemplateView, int, error) {
	q := templates.within(r).eq("t.api_account_id", f.APIAccountID).eq("t.name", f.Name)
	return templates.page(ctx, s.rq, q, f.Offset)
}

// TemplateIn reads one template within r in the transaction.
func (t *Tx) TemplateIn(ctx context.Context, r Reach, id string) (msgrules.TemplateView, error) {
	return templates.one(ctx, t.q, templates.within(r).eq("t.id", id))
}
