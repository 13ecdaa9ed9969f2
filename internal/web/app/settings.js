// Organisation settings, for admins: API accounts, inboxes, templates,
// teams, users and webhooks, through the messaging API and nothing else.
// main.js shows agents a refusal before anything here runs, and the
// server refuses them every write here (and webhooks even to read), so
// hiding the page is a courtesy, not the boundary.

import * as api from './api.js';
import { h, clear, status, time } from './ui.js';

const sections = [
  ['accounts', 'API accounts', showAccounts],
  ['inboxes', 'Inboxes', showInboxes],
  ['templates', 'Templates', showTemplates],
  ['teams', 'Teams', showTeams],
  ['users', 'Users', showUsers],
  ['webhooks', 'Webhooks', showWebhooks],
];

export async function showSettings(view, [which] = []) {
  const [key, label, show] = sections.find(([k]) => k === which) || sections[0];
  document.title = `${label} · Settings · Boxwire`;
  const body = h('section', { id: 'settings-body', 'aria-labelledby': 'settings-title' }, h('p', { class: 'loading' }, 'Loading…'));
  clear(view, h('div', { class: 'settings' },
    h('h1', {}, 'Settings'),
    h('nav', { class: 'tabs', 'aria-label': 'Settings sections' },
      sections.map(([k, l]) => h('a', { href: '#/settings/' + k, 'aria-current': k === key ? 'page' : null }, l))),
    body));
  await redraw(body, show, label);
}

// redraw loads a section and draws it into body, or says why it could not.
async function redraw(body, show, label) {
  try {
    const parts = await show(() => redraw(body, show, label));
    clear(body, h('h2', { id: 'settings-title' }, label), parts);
  } catch (err) {
    clear(body, h('h2', { id: 'settings-title' }, label), h('p', { class: 'error', role: 'alert' }, err.message));
  }
}

// ---- forms ----

let uid = 0;
const nextID = (p) => `s-${p}-${++uid}`;

// field builds a labelled control. attrs: options [[value, label]],
// multiline, checkbox, hint, value, and any input attribute.
function field(name, label, attrs = {}) {
  const { options, multiline, checkbox, hint, value, ...rest } = attrs;
  const id = nextID(name);
  const hintID = hint ? id + '-hint' : null;
  let el;
  if (options) {
    el = h('select', { id, name, 'aria-describedby': hintID, ...rest }, options.map(([v, l]) => h('option', { value: v }, l)));
  } else if (multiline) {
    el = h('textarea', { id, name, rows: 3, 'aria-describedby': hintID, ...rest });
  } else {
    el = h('input', { id, name, type: checkbox ? 'checkbox' : 'text', 'aria-describedby': hintID, ...rest });
  }
  if (checkbox) el.checked = !!value;
  else if (value !== undefined && value !== null) el.value = value;
  if (checkbox) {
    return h('div', { class: 'field check' }, el, h('label', { for: id }, label), hint && h('span', { id: hintID, class: 'hint' }, hint));
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), hint && h('span', { id: hintID, class: 'hint' }, hint), el);
}

// checks is a group of checkboxes sharing one name (a list of ids).
function checks(name, legend, items, chosen = []) {
  return h('fieldset', { class: 'checks', name },
    h('legend', {}, legend),
    items.length === 0 && h('p', { class: 'empty' }, 'None yet.'),
    items.map(([v, l]) => {
      const id = nextID(name);
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, name, value: v, checked: chosen.includes(v), dataset: { group: '1' } }),
        h('label', { for: id }, l));
    }));
}

// values reads a form: text as strings, a lone checkbox as a boolean, a
// group of checkboxes as the list of checked values.
function values(f) {
  const out = {};
  for (const el of f.elements) {
    if (!el.name || el.tagName === 'FIELDSET' || el.tagName === 'BUTTON') continue;
    if (el.type === 'checkbox' && el.dataset.group) {
      out[el.name] = out[el.name] || [];
      if (el.checked) out[el.name].push(el.value);
    } else if (el.type === 'checkbox') out[el.name] = el.checked;
    else out[el.name] = el.value;
  }
  return out;
}

// settingsForm is a labelled form whose failure is shown inside it, in
// the API's words, with the fields the API names marked invalid and the
// first of them focused.
function settingsForm(label, controls, submitLabel, onsubmit, more = []) {
  const errID = nextID('error');
  const error = h('p', { id: errID, class: 'form-error', role: 'alert', hidden: true });
  const f = h('form', { class: 'form', 'aria-label': label, onsubmit: async (e) => {
    e.preventDefault();
    const btn = f.querySelector('button[type=submit]');
    btn.disabled = true;
    error.hidden = true;
    error.textContent = '';
    for (const el of f.querySelectorAll('[aria-invalid]')) { el.removeAttribute('aria-invalid'); restoreHint(el); }
    try {
      await onsubmit(values(f), f);
    } catch (err) {
      console.error(err);
      let first = null;
      const labels = [];
      for (const name of Object.keys(err.fields || {})) {
        const el = f.querySelector(`[name="${CSS.escape(name)}"]`);
        if (!el) continue;
        el.setAttribute('aria-invalid', 'true');
        el.dataset.hint = el.getAttribute('aria-describedby') || '';
        el.setAttribute('aria-describedby', [errID, el.dataset.hint].filter(Boolean).join(' '));
        const label = el.tagName === 'FIELDSET' ? el.querySelector('legend') : f.querySelector(`label[for="${el.id}"]`);
        if (label) labels.push(label.textContent);
        first = first || el;
      }
      // The API's words, after the label of the field they name.
      error.textContent = (labels.length ? labels.join(', ') + ': ' : '') + (err.message || String(err));
      error.hidden = false;
      if (first && first.tagName === 'FIELDSET') first = first.querySelector('input') || first;
      if (first && first.focus) first.focus();
      else { error.tabIndex = -1; error.focus(); }
    } finally { btn.disabled = false; }
  } }, error, controls, h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel), more));
  return f;
}

function restoreHint(el) {
  if (el.dataset.hint !== undefined) {
    if (el.dataset.hint) el.setAttribute('aria-describedby', el.dataset.hint);
    else el.removeAttribute('aria-describedby');
    delete el.dataset.hint;
  }
}

// newForm is a form to create something, folded away until opened.
function newForm(summary, form) {
  return h('details', { class: 'new card' }, h('summary', {}, summary), form);
}

// item is one row of a section's list: what it is, then its actions, then
// its edit form folded away.
function item(title, meta, actions, editForm, editLabel) {
  return h('li', { class: 'setting' },
    h('div', { class: 'row' },
      h('div', { class: 'what' }, h('h3', {}, title), meta.filter(Boolean).map((m) => h('p', { class: 'meta' }, m))),
      h('div', { class: 'actions' }, actions)),
    editForm && h('details', { class: 'edit' }, h('summary', { 'aria-label': editLabel }, 'Edit'), editForm));
}

// removeButton asks before it deletes, in words naming what goes.
function removeButton(label, question, remove, after) {
  return h('button', { type: 'button', class: 'danger', 'aria-label': label, onclick: async (e) => {
    if (!confirm(question)) return;
    const btn = e.currentTarget;
    btn.disabled = true;
    try { await remove(); await after(); } catch (err) {
      btn.disabled = false;
      status(err.message, 'error');
    }
  } }, 'Delete');
}

function list(label, items, empty) {
  return h('ul', { class: 'settings-list', 'aria-label': label }, items.length === 0 && h('li', { class: 'empty' }, empty), items);
}

const byName = (a, b) => String(a.name).localeCompare(String(b.name));
const accountOptions = (accounts) => accounts.map((a) => [a.apiAccountId, `${a.name} (${a.phoneNumber})`]);
const fullName = (u) => `${u.firstName} ${u.lastName}`;

// only keeps the entries of v that are not blank: a secret left empty
// in an edit form stays as it is on the server.
function nonBlank(v, keys) {
  const out = {};
  for (const k of keys) if (v[k] !== undefined && String(v[k]).trim() !== '') out[k] = v[k];
  return out;
}

// ---- API accounts ----

const whatsappFields = [
  ['phoneNumberId', 'Phone number ID', 'The number’s id in Meta’s app dashboard (digits).'],
  ['accessToken', 'Access token', 'A system user’s permanent token with whatsapp_business_messaging.'],
  ['appSecret', 'App secret', 'Checks the signature of Meta’s callbacks.'],
  ['verifyToken', 'Verify token', 'Any phrase; type the same in Meta’s callback settings.'],
];

function whatsappSettings(editing, channel) {
  const box = h('fieldset', { class: 'channel-settings', hidden: channel !== 'whatsapp' },
    h('legend', {}, 'WhatsApp Cloud API settings'),
    editing && h('p', { class: 'hint' }, 'Leave a field empty to keep what is set: the server never shows these again.'),
    whatsappFields.map(([name, label, hint]) => field(name, label, { hint, autocomplete: 'off',
      type: name === 'phoneNumberId' ? 'text' : 'password', inputmode: name === 'phoneNumberId' ? 'numeric' : null })));
  return box;
}

async function showAccounts(again) {
  const accounts = (await api.listAll('/apiaccount')).sort(byName);
  const settings = whatsappSettings(false, 'sandbox');
  const create = settingsForm('New API account', [
    field('name', 'Name', { required: true, maxlength: 200 }),
    field('phoneNumber', 'Phone number', { required: true, type: 'tel', placeholder: '+447902111123', hint: 'In international form, with the country code.' }),
    field('channel', 'Channel', { options: [['sandbox', 'Sandbox (nothing leaves the server)'], ['whatsapp', 'WhatsApp (Cloud API)']],
      onchange: (e) => { settings.hidden = e.target.value !== 'whatsapp'; } }),
    settings,
  ], 'Create API account', async (v, f) => {
    const body = { name: v.name, phoneNumber: v.phoneNumber, channel: v.channel };
    if (v.channel === 'whatsapp') Object.assign(body, nonBlank(v, whatsappFields.map(([k]) => k)));
    const a = await api.post('/apiaccount', body);
    f.reset();
    status(`API account "${a.name}" created.`);
    await again();
  });
  return [
    h('p', { class: 'note' }, 'An API account is one phone number on a channel. Teams give their users the API accounts they may answer from.'),
    newForm('New API account', create),
    list('API accounts', accounts.map((a) => {
      const editSettings = whatsappSettings(true, a.channel);
      const edit = settingsForm(`Edit ${a.name}`, [
        field('name', 'Name', { required: true, maxlength: 200, value: a.name }),
        field('phoneNumber', 'Phone number', { required: true, type: 'tel', value: a.phoneNumber }),
        editSettings,
      ], 'Save', async (v) => {
        const body = { name: v.name, phoneNumber: v.phoneNumber };
        if (a.channel === 'whatsapp') Object.assign(body, nonBlank(v, whatsappFields.map(([k]) => k)));
        await api.put('/apiaccount/' + a.apiAccountId, body);
        status(`API account "${v.name}" saved.`);
        await again();
      });
      const li = item(a.name, [
        `${a.phoneNumber} · ${a.channel === 'whatsapp' ? 'WhatsApp' : 'Sandbox'}`,
        a.channel === 'whatsapp' && `Meta callback URL: ${location.origin}/channels/whatsapp/${a.apiAccountId}`,
        `Added ${time(a.datetime)}`,
      ], [], edit, `Edit ${a.name}`);
      if (a.channel === 'sandbox') li.append(sandboxInbound(a));
      return li;
    }), 'No API accounts yet: create one to start.'),
    h('p', { class: 'note' }, 'An API account holds its contacts and conversations, so it is not deleted here (see docs/decisions.md).'),
  ];
}

// sandboxInbound makes a contact write in to a sandbox account, to try
// the inbox without a phone.
function sandboxInbound(a) {
  return h('details', { class: 'edit' }, h('summary', { 'aria-label': `Simulate an incoming message on ${a.name}` }, 'Simulate an incoming message'),
    settingsForm(`Incoming message on ${a.name}`, [
      field('mobileNumber', 'From (mobile number)', { type: 'tel', required: true, placeholder: '+447902111123' }),
      field('name', 'Contact name', { hint: 'Used when the number is new.' }),
      field('message', 'Message', { multiline: true, required: true }),
    ], 'Receive it', async (v, f) => {
      await api.post(`/apiaccount/${a.apiAccountId}/sandbox/inbound`, nonBlank(v, ['mobileNumber', 'name', 'message']));
      f.reset();
      status(`Message received on ${a.name}: it is in the inbox.`);
    }));
}

// ---- inboxes ----

async function showInboxes(again) {
  const [accounts, inboxes] = await Promise.all([api.listAll('/apiaccount'), api.listAll('/inbox')]);
  const accountName = Object.fromEntries(accounts.map((a) => [a.apiAccountId, a.name]));
  const create = settingsForm('New inbox', [
    field('name', 'Name', { required: true, maxlength: 200 }),
    field('apiAccountId', 'API account', { options: accountOptions(accounts), required: true }),
  ], 'Create inbox', async (v, f) => {
    const x = await api.post('/inbox', { name: v.name, apiAccountId: v.apiAccountId });
    f.reset();
    status(`Inbox "${x.name}" created.`);
    await again();
  });
  return [
    h('p', { class: 'note' }, 'An inbox gathers the conversations of one API account.'),
    accounts.length === 0 ? h('p', { class: 'note' }, 'Create an API account first.') : newForm('New inbox', create),
    list('Inboxes', inboxes.sort(byName).map((x) => item(x.name, [`API account: ${accountName[x.apiAccountId] || x.apiAccountId}`],
      [removeButton(`Delete inbox ${x.name}`, `Delete the inbox "${x.name}"? Its conversations stay with their API account.`,
        () => api.del('/inbox/' + x.inboxId), again)],
      settingsForm(`Edit ${x.name}`, [field('name', 'Name', { required: true, maxlength: 200, value: x.name })], 'Save', async (v) => {
        await api.put('/inbox/' + x.inboxId, { name: v.name });
        status(`Inbox "${v.name}" saved.`);
        await again();
      }), `Edit ${x.name}`)), 'No inboxes yet.'),
  ];
}

// ---- templates ----

const statuses = ['Pending', 'Approved', 'Rejected', 'Paused', 'Disabled'];

async function showTemplates(again) {
  const [accounts, templates] = await Promise.all([api.listAll('/apiaccount'), api.listAll('/template')]);
  const accountOf = Object.fromEntries(accounts.map((a) => [a.apiAccountId, a]));
  const create = settingsForm('New template', [
    field('apiAccountId', 'API account', { options: accountOptions(accounts), required: true }),
    field('name', 'Name', { required: true, pattern: '[a-z0-9_]+', hint: 'Lower-case letters, digits and _, as WhatsApp asks: follow_up.' }),
    field('templateText', 'Text', { multiline: true, required: true, hint: 'Placeholders are {{1}}, {{2}}… in order.' }),
    field('templateExample', 'Example', { multiline: true, hint: 'The text with each placeholder filled in, for the review.' }),
  ], 'Create template', async (v, f) => {
    const t = await api.post('/template', v);
    f.reset();
    status(`Template "${t.name}" created: ${t.status}.`);
    await again();
  });
  return [
    h('p', { class: 'note' }, 'Templates start a conversation outside the 24-hour window. A new or re-worded template is Pending until it is reviewed: by Meta for WhatsApp accounts, by you for sandbox ones.'),
    accounts.length === 0 ? h('p', { class: 'note' }, 'Create an API account first.') : newForm('New template', create),
    list('Templates', templates.sort(byName).map((t) => {
      const a = accountOf[t.apiAccountId];
      const sandbox = a && a.channel === 'sandbox';
      return item([t.name, ' ', h('span', { class: 'tag status', dataset: { status: t.status } }, t.status)], [
        `API account: ${a ? a.name : t.apiAccountId}`,
        h('span', { class: 'template-text' }, t.templateText),
        !sandbox && t.status === 'Pending' && 'Waiting for Meta’s review.',
      ], [removeButton(`Delete template ${t.name}`, `Delete the template "${t.name}"?`, () => api.del('/template/' + t.templateId), again)],
      settingsForm(`Edit ${t.name}`, [
        field('name', 'Name', { required: true, value: t.name }),
        field('templateText', 'Text', { multiline: true, required: true, value: t.templateText }),
        field('templateExample', 'Example', { multiline: true, value: t.templateExample }),
        sandbox ? field('status', 'Status', { options: statuses.map((s) => [s, s]), value: t.status,
          hint: 'A sandbox template is reviewed by you; a changed name or text goes back to Pending.' })
          : h('p', { class: 'hint' }, 'Its status follows Meta’s review; a changed name or text goes back to Pending.'),
      ], 'Save', async (v) => {
        const body = { name: v.name, templateText: v.templateText, templateExample: v.templateExample };
        if (sandbox && v.status !== t.status) body.status = v.status;
        const saved = await api.put('/template/' + t.templateId, body);
        status(`Template "${saved.name}" saved: ${saved.status}.`);
        await again();
      }), `Edit ${t.name}`);
    }), 'No templates yet.'),
  ];
}

// ---- teams ----

// people reads the organisation's users once each (GET /user has a row
// per user and API account).
async function people() {
  const rows = await api.get('/user');
  const seen = new Map();
  for (const r of rows || []) {
    const u = seen.get(r.user.userId) || { ...r.user, accounts: [] };
    if (r.apiAccount) u.accounts.push(r.apiAccount.name);
    seen.set(r.user.userId, u);
  }
  return [...seen.values()];
}

async function showTeams(again) {
  const [accounts, users, teams] = await Promise.all([api.listAll('/apiaccount'), people(), api.get('/team')]);
  const accountItems = accounts.sort(byName).map((a) => [a.apiAccountId, `${a.name} (${a.phoneNumber})`]);
  const userItems = users.map((u) => [u.userId, fullName(u)]);
  const teamForm = (label, t, submit, done) => settingsForm(label, [
    field('name', 'Name', { required: true, maxlength: 200, value: t && t.name }),
    field('description', 'Description', { value: t && t.description }),
    checks('userIds', 'Members', userItems, t ? t.users.map((u) => u.userId) : []),
    checks('apiAccountIds', 'API accounts its members answer from', accountItems, t ? t.apiAccounts.map((a) => a.apiAccountid) : []),
  ], submit, done);
  const create = teamForm('New team', null, 'Create team', async (v, f) => {
    const t = await api.post('/team', v);
    f.reset();
    status(`Team "${t.name}" created.`);
    await again();
  });
  return [
    h('p', { class: 'note' }, 'A team’s members see and answer the conversations of its API accounts. Admins see every account.'),
    newForm('New team', create),
    list('Teams', (teams || []).sort(byName).map((t) => item(t.name, [
      t.description,
      `Members: ${t.users.length ? t.users.map(fullName).join(', ') : 'none'}`,
      `API accounts: ${t.apiAccounts.length ? t.apiAccounts.map((a) => a.name).join(', ') : 'none'}`,
    ], [removeButton(`Delete team ${t.name}`, `Delete the team "${t.name}"? Its members lose the API accounts it gave them.`,
      () => api.del('/team/' + t.teamId), again)],
    teamForm(`Edit ${t.name}`, t, 'Save', async (v) => {
      await api.put('/team/' + t.teamId, v);
      status(`Team "${v.name}" saved.`);
      await again();
    }), `Edit ${t.name}`)), 'No teams yet.'),
  ];
}

// ---- users ----

// withRoles adds each user's e-mail and role (GET /user/{id}: GET /user
// lists names only), a few requests at a time.
async function withRoles(users) {
  const out = [...users];
  let next = 0;
  const worker = async () => {
    while (next < out.length) {
      const i = next++;
      // One removed meanwhile is listed without them, not an error.
      const u = await api.get('/user/' + out[i].userId).catch(() => ({}));
      out[i] = { ...out[i], email: u.email, role: u.role };
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

const roles = [['agent', 'Agent: answers the conversations of their teams'], ['admin', 'Admin: sees everything and changes settings']];

async function showUsers(again) {
  const users = await withRoles(await people());
  const me = api.session().id;
  const create = settingsForm('New user', [
    field('firstName', 'First name', { required: true, autocomplete: 'off' }),
    field('lastName', 'Last name', { required: true, autocomplete: 'off' }),
    field('email', 'E-mail', { type: 'email', required: true, autocomplete: 'off' }),
    field('password', 'Password', { type: 'password', required: true, autocomplete: 'new-password', hint: 'Give it to them in person; they can change it.' }),
    field('role', 'Role', { options: roles }),
  ], 'Create user', async (v, f) => {
    const u = await api.post('/user', v);
    f.reset();
    status(`${fullName(u)} can now sign in as ${u.email}.`);
    await again();
  });
  return [
    h('p', { class: 'note' }, 'Users sign in to the web app with their e-mail and password. Agents answer the conversations of their teams; admins see every one and change these settings.'),
    newForm('New user', create),
    list('Users', users.sort((a, b) => fullName(a).localeCompare(fullName(b))).map((u) => item(
      [fullName(u), ' ', h('span', { class: 'tag' }, u.role || '?'), u.userId === me && h('span', { class: 'tag' }, 'you')],
      [u.email, `API accounts: ${u.accounts.length ? u.accounts.join(', ') : 'none'}`],
      [u.userId !== me && h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${fullName(u)}`, onclick: async (e) => {
        if (!confirm(`Remove ${fullName(u)} from the organisation? They lose its conversations at once; their boxes stay theirs.`)) return;
        e.currentTarget.disabled = true;
        try { await api.del('/user/' + u.userId); status(`${fullName(u)} removed.`); await again(); } catch (err) { status(err.message, 'error'); }
      } }, 'Remove')],
      settingsForm(`Edit ${fullName(u)}`, [
        field('firstName', 'First name', { required: true, value: u.firstName }),
        field('lastName', 'Last name', { required: true, value: u.lastName }),
        field('role', 'Role', { options: roles, value: u.role }),
        field('password', 'New password', { type: 'password', autocomplete: 'new-password', hint: 'Leave empty to keep it. A new one signs them out everywhere.' }),
      ], 'Save', async (v) => {
        const body = { firstName: v.firstName, lastName: v.lastName, role: v.role, ...nonBlank(v, ['password']) };
        await api.put('/user/' + u.userId, body);
        status(`${v.firstName} ${v.lastName} saved.`);
        await again();
      }), `Edit ${fullName(u)}`)), 'No users.'),
  ];
}

// ---- webhooks ----

const hookTypes = [['message', 'Messages'], ['contact', 'Contacts'], ['inbox', 'Inboxes'], ['apiaccount', 'API accounts'],
  ['broadcast', 'Broadcasts'], ['template', 'Templates']];
const hookLabel = Object.fromEntries(hookTypes);

// secretCard shows a new hook's signing secret: the one time it is shown.
function secretCard(hook) {
  const id = nextID('secret');
  return h('div', { class: 'card secret-card', role: 'status' },
    h('h3', {}, 'Signing secret of the new webhook'),
    h('p', {}, h('strong', {}, 'Copy it now: it will not be shown again.'),
      ' Your receiver checks the webhook-signature header of every delivery with it.'),
    h('label', { for: id }, `Secret for ${hook.targetUrl}`),
    h('input', { id, class: 'secret', readonly: true, value: hook.secret }),
    h('button', { type: 'button', class: 'secondary', onclick: async () => {
      document.getElementById(id).select();
      await navigator.clipboard?.writeText(hook.secret).catch(() => {});
      status('Secret copied.');
    } }, 'Copy'));
}

async function showWebhooks(again, created) {
  const hooks = await api.listAll('/webhook');
  const create = settingsForm('New webhook', [
    field('type', 'Events', { options: hookTypes, hint: 'It receives each created and updated record of this kind.' }),
    field('targetUrl', 'Target URL', { type: 'url', required: true, placeholder: 'https://example.com/boxwire-hook' }),
    field('isEnabled', 'Enabled', { checkbox: true, value: true }),
  ], 'Create webhook', async (v, f) => {
    const hook = await api.post('/webhook', v);
    f.reset();
    status('Webhook created: copy its secret now.');
    // Drawn once, from the create answer; no later read returns it.
    const body = document.getElementById('settings-body');
    clear(body, h('h2', { id: 'settings-title' }, 'Webhooks'), await showWebhooks(again, hook));
    body.querySelector('.secret-card input').focus();
  });
  return [
    created && secretCard(created),
    h('p', { class: 'note' }, 'A webhook POSTs each change to your URL, signed (Standard Webhooks). It is disabled after repeated failures; enabling it again resends what it missed.'),
    newForm('New webhook', create),
    list('Webhooks', hooks.map((w) => item([hookLabel[w.type] || w.type, ' ', h('span', { class: 'tag' }, w.isEnabled ? 'enabled' : 'disabled')], [
      h('span', { class: 'url' }, w.targetUrl),
      w.failureCount > 0 && h('span', { class: 'error' }, `${w.failureCount} failed deliveries in a row`),
    ], [removeButton(`Delete webhook to ${w.targetUrl}`, `Delete the webhook to ${w.targetUrl}? Deliveries to it stop.`,
      () => api.del('/webhook/' + w.webhookId), again)],
    settingsForm(`Edit webhook to ${w.targetUrl}`, [
      field('type', 'Events', { options: hookTypes, value: w.type }),
      field('targetUrl', 'Target URL', { type: 'url', required: true, value: w.targetUrl }),
      field('isEnabled', 'Enabled', { checkbox: true, value: w.isEnabled }),
    ], 'Save', async (v) => {
      await api.put('/webhook/' + w.webhookId, v);
      status('Webhook saved.');
      await again();
    }), `Edit webhook to ${w.targetUrl}`)), 'No webhooks yet.'),
  ];
}
