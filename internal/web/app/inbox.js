// The agent inbox (issue 15.3): conversations by folder and assignment,
// one conversation with its messages and delivery ticks, reply within
// the 24-hour session window or send an approved template outside it,
// assign, file, and the contact's details and tags. Everything goes
// through the messaging API (seed 004); live changes come as frames
// ("message.created", "message.updated", "conversation.updated"…) on
// the app's one WebSocket (live.js). Messages may carry a file (docs/
// messaging.md, Files): an image shows inline, any other kind as a
// download link, and the reply box attaches one.
//
// Routes: #/inbox/<folder>/<who>[/<conversationId>], where folder is
// inbox, archive or spam and who is all, mine, teams or unassigned.

import * as api from './api.js';
import { onFrame } from './live.js';
import { h, clear, form, status, fail, time, bytes } from './ui.js';

const FOLDERS = [['inbox', 'Inbox'], ['archive', 'Archive'], ['spam', 'Spam']];
const WHO = [['all', 'All'], ['mine', 'Mine'], ['teams', 'My teams'], ['unassigned', 'Unassigned']];
const WINDOW_MS = 24 * 3600 * 1000;

// state of the view shown: the list's filter and the open conversation.
const st = {
  folder: 'inbox', who: 'all', open: null,
  people: null, // { me, users, teams, myTeams, accounts } read on every visit
  contacts: new Map(), conversations: [], last: new Map(), // conversationId -> last message
  conv: null, contact: null, messages: new Map(), // of the open conversation
  listed: null, // the folder whose conversations st.conversations holds
  templates: new Map(), // apiAccountId -> promise of its templates, read once a visit
};
let listTimer = 0;
let windowTimer = 0; // redraws the reply area when the window closes

const inInbox = () => location.hash.startsWith('#/inbox');

onFrame((f) => {
  if (!f.type || !inInbox() || !f.object) return;
  const o = f.object;
  if (f.type === 'message.created' || f.type === 'message.updated') {
    st.last.set(o.conversationId, newer(st.last.get(o.conversationId), o));
    if (st.conv && o.conversationId === st.conv.conversationId) {
      const known = st.messages.has(o.messageId);
      st.messages.set(o.messageId, o);
      drawMessage(o);
      if (!known && o.messageDirection === 'incoming') {
        status(`New message from ${contactName(st.contact)}.`);
        drawWindow();
      }
    }
    scheduleList();
  } else if (f.type.startsWith('conversation.')) {
    if (st.conv && o.conversationId === st.conv.conversationId) {
      st.conv = o;
      drawConvHead();
    }
    scheduleList();
  } else if (f.type.startsWith('contact.')) {
    st.contacts.set(o.contactId, o);
    if (st.contact && o.contactId === st.contact.contactId) { st.contact = o; drawContact(); drawWindow(); }
    scheduleList();
  }
});

// Keyboard: "j" and "k" open the next and previous conversation of the
// list, as in mail clients; Tab and Enter reach everything else.
document.addEventListener('keydown', (e) => {
  if (!inInbox() || e.target.matches('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key !== 'j' && e.key !== 'k') return;
  const links = [...document.querySelectorAll('#conv-list a.item')];
  if (links.length === 0) return;
  const at = links.findIndex((a) => a.getAttribute('aria-current') === 'true');
  const next = e.key === 'j' ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
  location.hash = links[next].getAttribute('href');
  e.preventDefault();
});

function newer(a, b) { return !a || new Date(b.dateTime) >= new Date(a.dateTime) ? b : a; }

// scheduleList reloads the list once for a burst of frames.
function scheduleList() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => { if (inInbox()) loadList().catch(fail); }, 120);
}

export async function showInbox(view, parts) {
  const [folder, who, convID] = parts;
  // Within a visit (the inbox was on screen), a filter or a conversation
  // chosen again is drawn from what was read: live frames keep it
  // current. Coming from elsewhere, everything is read again.
  const within = !!view.querySelector('.split.inbox') && st.people;
  st.folder = FOLDERS.some(([f]) => f === folder) ? folder : 'inbox';
  st.who = WHO.some(([w]) => w === who) ? who : 'all';
  const changed = st.open !== (convID || null);
  st.open = convID || null;
  if (!st.open) { st.conv = null; st.contact = null; }
  document.title = 'Inbox · Boxwire';
  clear(view, h('div', { class: 'split inbox' },
    h('aside', { class: 'pane list-pane', 'aria-labelledby': 'inbox-title' },
      h('h1', { id: 'inbox-title' }, 'Inbox'),
      filters(),
      h('ul', { id: 'conv-list', class: 'items', 'aria-label': 'Conversations' }, h('li', { class: 'empty' }, 'Loading…'))),
    h('section', { id: 'conv', class: 'pane main-pane', 'aria-label': 'Conversation' },
      st.open ? h('p', {}, 'Opening…') : h('p', { class: 'empty' }, 'Choose a conversation.'))));
  view.classList.toggle('has-detail', !!st.open);
  view.classList.toggle('view-list', !st.open); // a phone shows the list alone
  try {
    // Read again on every visit: teams and users change.
    if (!within) {
      st.people = await loadPeople();
      st.templates = new Map();
    }
    if (within && st.listed === st.folder) drawList();
    else await loadList();
    if (st.open && within && st.conv?.conversationId === st.open) drawConversation(false);
    else if (st.open) await openConversation(st.open, changed);
  } catch (err) { fail(err); }
}

const href = (folder, who, id) => `#/inbox/${folder}/${who}` + (id ? '/' + id : '');

function filters() {
  const group = (label, items, current, link) => h('nav', { class: 'filters', 'aria-label': label },
    items.map(([k, l]) => h('a', { href: link(k), 'aria-current': k === current ? 'page' : null }, l)));
  return [
    // The open conversation stays open while the list changes.
    group('Folders', FOLDERS, st.folder, (f) => href(f, st.who, st.open)),
    group('Assignment', WHO, st.who, (w) => href(st.folder, w, st.open)),
  ];
}

// loadPeople reads who the caller is and the organisation's users, teams
// and API accounts, for the filters and the assignment menu.
async function loadPeople() {
  const meID = api.session().id;
  const [users, teams, accounts] = await Promise.all([
    api.get('/user').catch((e) => { fail(e); return []; }),
    api.get('/team').catch((e) => { fail(e); return []; }),
    api.listAll('/apiaccount').catch((e) => { fail(e); return []; }),
  ]);
  const byID = new Map();
  for (const row of users) {
    const u = byID.get(row.user.userId) || { ...row.user, accounts: new Set() };
    if (row.apiAccount) u.accounts.add(row.apiAccount.apiAccountid || row.apiAccount.apiAccountId);
    byID.set(u.userId, u);
  }
  return {
    me: meID, users: [...byID.values()], teams,
    myTeams: new Set(teams.filter((t) => (t.users || []).some((u) => u.userId === meID)).map((t) => t.teamId)),
    accounts: new Map(accounts.map((a) => [a.apiAccountId, a])),
  };
}

async function loadList() {
  const ul = document.getElementById('conv-list');
  if (!ul) return;
  const folder = st.folder;
  const [convs, contacts, recent] = await Promise.all([
    api.listAll('/conversation?folder=' + folder),
    api.listAll('/contact'),
    api.listAll('/message'), // the last 24 hours: previews and order
  ]);
  st.contacts = new Map(contacts.map((c) => [c.contactId, c]));
  for (const m of recent) st.last.set(m.conversationId, newer(st.last.get(m.conversationId), m));
  st.conversations = convs;
  st.listed = folder;
  if (folder === st.folder) drawList();
}

// drawList shows the folder's conversations that pass the assignment filter.
function drawList() {
  const convs = st.conversations;
  const p = st.people;
  const shown = convs.filter((v) => {
    if (st.who === 'mine') return v.user && v.user.userId === p.me;
    if (st.who === 'teams') return v.team && p.myTeams.has(v.team.teamId);
    if (st.who === 'unassigned') return !v.user && !v.team;
    return true;
  });
  const when = (v) => new Date((st.last.get(v.conversationId) || v).dateTime).getTime();
  shown.sort((a, b) => when(b) - when(a));
  const el = document.getElementById('conv-list');
  if (!el) return;
  clear(el, shown.length === 0 && h('li', { class: 'empty' }, 'No conversations here.'),
    shown.map((v) => {
      const c = st.contacts.get(v.contactId);
      const last = st.last.get(v.conversationId);
      const waiting = last && last.messageDirection === 'incoming';
      return h('li', {}, h('a', { href: href(st.folder, st.who, v.conversationId), class: 'item conv-item',
        'aria-current': v.conversationId === st.open ? 'true' : null },
        h('span', { class: 'title' }, contactName(c),
          h('span', { class: 'sub' }, last ? (last.messageDirection === 'outgoing' ? 'You: ' : '') + preview(last) : (c ? c.mobileNumber : ''))),
        h('span', { class: 'conv-meta' },
          h('time', { datetime: (last || v).dateTime }, time((last || v).dateTime)),
          assigneeTag(v),
          waiting && h('span', { class: 'tag waiting' }, 'awaiting reply'))));
    }));
}

// preview is a message's text for the list: its caption, or what file it has.
function preview(m) {
  if (m.bodyText || !m.mediaType) return m.bodyText;
  return m.fileName || KINDS[m.mediaType] || 'a file';
}

function contactName(c) { return c ? (c.name || c.mobileNumber) : 'Unknown contact'; }

function assigneeTag(v) {
  if (v.user) return h('span', { class: 'tag' }, v.user.userId === st.people.me ? 'you' : userName(v.user));
  if (v.team) return h('span', { class: 'tag' }, teamName(v.team));
  return null;
}

function userName(u) {
  const full = st.people.users.find((x) => x.userId === u.userId) || u;
  return `${full.firstName || ''} ${full.lastName || ''}`.trim() || 'a user';
}

function teamName(t) { return t.name || (st.people.teams.find((x) => x.teamId === t.teamId) || {}).name || 'a team'; }

// openConversation reads the conversation, its contact and all its
// messages (not only the API's default last 24 hours: the window needs
// the last incoming one, however old).
async function openConversation(id, focus) {
  const pane = document.getElementById('conv');
  try {
    st.conv = await api.get('/conversation/' + id);
    const [contact, messages] = await Promise.all([
      api.get('/contact/' + st.conv.contactId),
      api.listAll(`/message?conversationId=${id}&fromDate=2000-01-01`),
    ]);
    st.contact = contact;
    st.messages = new Map(messages.map((m) => [m.messageId, m]));
  } catch (err) {
    st.conv = null;
    clear(pane, h('a', { href: href(st.folder, st.who), class: 'back' }, '← Conversations'), h('p', { class: 'error' }, err.message));
    return;
  }
  drawConversation(focus);
}

// drawConversation shows the open conversation from st.
function drawConversation(focus) {
  const pane = document.getElementById('conv');
  document.title = `${contactName(st.contact)} · Inbox · Boxwire`;
  clear(pane,
    h('header', { id: 'conv-head', class: 'conv-head' }),
    h('div', { class: 'conv-grid' },
      h('div', { class: 'conv-main' },
        h('ol', { id: 'messages', class: 'events', 'aria-label': 'Messages', tabindex: '0' }),
        h('div', { id: 'reply' })),
      h('aside', { id: 'contact', class: 'side', 'aria-label': 'Contact' })));
  drawConvHead();
  drawMessages();
  drawWindow();
  drawContact();
  if (focus) document.getElementById('conv-title').focus();
}

function drawConvHead() {
  const el = document.getElementById('conv-head');
  if (!el || !st.conv) return;
  const v = st.conv;
  const acc = st.people.accounts.get(v.apiAccountId);
  const folderName = Object.fromEntries(FOLDERS)[v.folder] || v.folder;
  clear(el,
    h('a', { href: href(st.folder, st.who), class: 'back' }, '← Conversations'),
    h('h2', { id: 'conv-title', tabindex: '-1' }, contactName(st.contact)),
    h('p', { class: 'meta' }, st.contact.mobileNumber, acc ? ` · on ${acc.name}` : '', ` · in ${folderName}`,
      ' · ', v.user ? `assigned to ${v.user.userId === st.people.me ? 'you' : userName(v.user)}`
        : v.team ? `assigned to the team ${teamName(v.team)}` : 'unassigned'),
    h('div', { class: 'actions conv-actions' }, assignControl(v), folderButtons(v)));
}

async function update(body, done) {
  try {
    await api.put('/conversation/' + st.conv.conversationId, body);
    st.conv = await api.get('/conversation/' + st.conv.conversationId);
    drawConvHead();
    await loadList();
    status(done);
  } catch (err) { fail(err); }
}

function assignControl(v) {
  const p = st.people;
  const acc = v.apiAccountId;
  // Only who can see the account may take it; the server checks it too.
  let users = p.users.filter((u) => u.accounts.has(acc));
  if (users.length === 0) users = p.users;
  const teams = p.teams.filter((t) => (t.apiAccounts || []).some((a) => (a.apiAccountid || a.apiAccountId) === acc));
  const current = v.user ? 'user:' + v.user.userId : v.team ? 'team:' + v.team.teamId : '';
  const sel = h('select', { id: 'assign', name: 'assign' },
    h('option', { value: '' }, 'Nobody'),
    h('optgroup', { label: 'People' }, users.map((u) => h('option', { value: 'user:' + u.userId },
      u.userId === p.me ? `Me (${u.firstName} ${u.lastName})` : `${u.firstName} ${u.lastName}`))),
    teams.length > 0 && h('optgroup', { label: 'Teams' }, teams.map((t) => h('option', { value: 'team:' + t.teamId }, t.name))));
  sel.value = current;
  const f = h('form', { class: 'inline', onsubmit: (e) => {
    e.preventDefault();
    const [kind, id] = sel.value.split(':');
    const body = kind === 'user' ? { userId: id } : kind === 'team' ? { teamId: id } : { userId: '', teamId: '' };
    const label = sel.selectedOptions[0].textContent;
    update(body, kind ? `Assigned to ${label}.` : 'Unassigned.');
  } }, h('label', { for: 'assign' }, 'Assign to'), sel, h('button', { type: 'submit', class: 'secondary' }, 'Assign'));
  return f;
}

function folderButtons(v) {
  return h('div', { class: 'folder-actions', role: 'group', 'aria-label': 'Move to a folder' },
    FOLDERS.filter(([f]) => f !== v.folder).map(([f, label]) => h('button', { type: 'button', class: 'secondary',
      onclick: () => update({ folder: f }, `Moved to ${label}.`) }, `Move to ${label}`)));
}

function sorted() {
  return [...st.messages.values()].sort((a, b) => new Date(a.dateTime) - new Date(b.dateTime));
}

function drawMessages() {
  const ol = document.getElementById('messages');
  if (!ol) return;
  const list = sorted();
  clear(ol, list.length === 0 && h('li', { class: 'notice' }, 'No messages yet.'), list.map(messageItem));
  ol.scrollTop = ol.scrollHeight;
}

// drawMessage puts one message in place: its ticks change in place, a
// new one goes in date order.
function drawMessage(m) {
  const ol = document.getElementById('messages');
  if (!ol) return;
  const old = ol.querySelector(`li[data-id="${CSS.escape(m.messageId)}"]`);
  const li = messageItem(m);
  if (old) {
    // New ticks must not load its image again (and make it flicker).
    const file = old.dataset.file === li.dataset.file && old.querySelector('.media');
    if (file) li.querySelector('.media').replaceWith(file);
    old.replaceWith(li);
    return;
  }
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 60;
  const after = [...ol.querySelectorAll('li[data-id]')].find((x) => new Date(x.dataset.at) > new Date(m.dateTime));
  ol.querySelector('li.notice')?.remove();
  if (after) after.before(li); else ol.append(li);
  if (atBottom || m.messageDirection === 'outgoing') ol.scrollTop = ol.scrollHeight;
}

function messageItem(m) {
  const out = m.messageDirection === 'outgoing';
  const who = out ? (`${m.senderFirstName || ''} ${m.senderLastName || ''}`.trim() || 'You') : contactName(st.contact);
  return h('li', { class: 'msg' + (out ? ' mine' : ''),
    dataset: { id: m.messageId, at: m.dateTime, file: m.mediaType ? `${m.mediaStatus}:${m.fileLocation}` : '' } },
    h('div', { class: 'head' }, h('span', { class: 'sender' }, who), ' ',
      h('time', { datetime: m.dateTime }, time(m.dateTime)),
      m.isTemplateMessage && h('span', { class: 'tag' }, 'template')),
    m.mediaType && fileOf(m),
    (m.bodyText || !m.mediaType) && h('p', { class: 'text' }, m.bodyText),
    out && ticks(m));
}

const KINDS = { image: 'a photo', video: 'a video', audio: 'an audio message', document: 'a document', sticker: 'a sticker' };
const sizes = new Map(); // media path -> its size in bytes, read once

// fileOf shows a message's file: an image inline, any other kind as a
// download link with its name and size; a file still being fetched, or
// one that could not be, in words. The file is read from this origin at
// the path of its fileLocation, with the session's cookie.
function fileOf(m) {
  const kind = KINDS[m.mediaType] || 'a file';
  const name = m.fileName || '';
  if (m.mediaStatus === 'pending' || (!m.fileLocation && m.mediaStatus !== 'failed')) {
    return h('p', { class: 'media pending' }, `Receiving the file${name ? ' ' + name : ''}…`);
  }
  if (m.mediaStatus === 'failed' || !m.fileLocation) {
    return h('p', { class: 'media failed' }, `The file${name ? ' ' + name : ''} (${kind}) could not be received`,
      m.mediaError ? ': ' + m.mediaError : '.');
  }
  const url = new URL(m.fileLocation, location.href);
  const path = url.pathname + url.search;
  const size = h('span', { class: 'size' });
  const link = h('a', { href: path, download: name || '', class: 'download' },
    'Download ', name || kind, size);
  const showSize = (n) => { if (n) size.textContent = ` (${bytes(n)})`; };
  if (sizes.has(path)) showSize(sizes.get(path));
  else {
    api.call('HEAD', path).then((res) => {
      const n = Number(res.headers.get('Content-Length')) || 0;
      sizes.set(path, n);
      showSize(n);
    }).catch(() => {});
  }
  if (m.mediaType !== 'image' && m.mediaType !== 'sticker') return h('p', { class: 'media' }, link);
  const img = h('img', { src: path, alt: m.bodyText || name || kind, loading: 'lazy' });
  img.addEventListener('error', () => img.replaceWith(h('span', { class: 'error' }, 'The image could not be shown. ')));
  return h('figure', { class: 'media' }, img, h('figcaption', {}, link));
}

// ticks shows the delivery state in words for screen readers and as
// check marks for the eye.
function ticks(m) {
  let state = 'queued'; let mark = '🕓'; let words = 'Sending';
  if (m.failedReason) { state = 'failed'; mark = '⚠'; words = 'Not delivered: ' + m.failedReason; }
  else if (m.isRead) { state = 'read'; mark = '✓✓'; words = 'Read'; }
  else if (m.isDelivered) { state = 'delivered'; mark = '✓✓'; words = 'Delivered'; }
  else if (m.isSent) { state = 'sent'; mark = '✓'; words = 'Sent'; }
  return h('span', { class: 'ticks', dataset: { state }, title: words },
    h('span', { 'aria-hidden': 'true' }, mark), ' ', h('span', { class: 'tick-words' }, words));
}

function lastIncoming() {
  let at = null;
  for (const m of st.messages.values()) {
    if (m.messageDirection === 'incoming' && (!at || new Date(m.dateTime) > at)) at = new Date(m.dateTime);
  }
  return at;
}

// drawWindow offers a reply while the contact's 24-hour window is open,
// and says clearly when it is closed, offering an approved template.
function drawWindow(closedByServer) {
  const el = document.getElementById('reply');
  if (!el || !st.conv) return;
  const at = lastIncoming();
  const open = !closedByServer && at && Date.now() - at.getTime() < WINDOW_MS;
  clearTimeout(windowTimer);
  if (open) windowTimer = setTimeout(() => drawWindow(), at.getTime() + WINDOW_MS - Date.now() + 1000);
  const mode = st.contact.status === 'Unsubscribed' ? 'unsubscribed' : open ? 'open' : 'closed';
  const until = open && `You can reply until ${time(new Date(at.getTime() + WINDOW_MS).toISOString())} (24 hours after their last message).`;
  // A new message in an open window moves its end, and must not wipe a
  // reply being written.
  if (el.dataset.mode === mode && mode !== 'closed') {
    if (open) el.querySelector('.window-open').textContent = until;
    return;
  }
  el.dataset.mode = mode;
  if (mode === 'unsubscribed') {
    clear(el, h('p', { class: 'window-closed', role: 'note' }, `${contactName(st.contact)} has unsubscribed: no message can be sent to them.`));
    return;
  }
  if (open) {
    clear(el,
      h('p', { class: 'meta window-open' }, until),
      composer(),
      h('details', { class: 'new' }, h('summary', {}, 'Send a template instead'), templateForm()));
    return;
  }
  clear(el, h('div', { class: 'window-closed', role: 'note', 'aria-labelledby': 'window-title' },
    h('h3', { id: 'window-title' }, 'The 24-hour window is closed'),
    h('p', {}, at
      ? `${contactName(st.contact)} last wrote ${time(at.toISOString())}, more than 24 hours ago. WhatsApp lets you send only an approved template until they write again.`
      : `${contactName(st.contact)} has not written yet. WhatsApp lets you send only an approved template until they do.`),
    templateForm()));
}

// composer writes a reply, with a file attached or not. The file goes
// as multipart POST /message with the text as its caption; the server
// alone judges its type and size, and its refusal shows beside the
// control in its own words.
function composer() {
  let file = null;
  const bar = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const chosen = h('span', { class: 'attached', 'aria-live': 'polite' });
  const problem = h('p', { class: 'error attach-error', role: 'alert' });
  // The label below is the control screen readers and the keyboard reach.
  const input = h('input', { type: 'file', id: 'reply-file', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', onchange: () => attach(input.files[0] || null) });
  const attach = (f) => {
    file = f;
    problem.textContent = '';
    text().required = !file; // a file may go without a caption
    clear(chosen, file && [`${file.name} (${bytes(file.size)}) `,
      h('button', { type: 'button', class: 'link remove', 'aria-label': `Remove the file ${file.name}`, onclick: () => {
        attach(null);
        input.value = '';
        text().focus();
      } }, '×')]);
  };
  const text = () => f.querySelector('textarea');
  const sent = (m, el) => {
    // Its frames may have come first, with newer ticks than this answer.
    if (!st.messages.has(m.messageId)) { st.messages.set(m.messageId, m); drawMessage(m); }
    el.reset();
    input.value = '';
    attach(null);
    text().focus();
  };
  const f = form([['text', 'Reply', { multiline: true, required: true, maxlength: 4096, placeholder: 'Write a reply' }]], 'Send', async (v, el) => {
    const body = { apiAccountId: st.conv.apiAccountId, contactId: st.contact.contactId, message: v.text };
    try {
      if (!file) { sent(await api.post('/message', body), el); return; }
      const fd = new FormData();
      for (const [k, x] of Object.entries(body)) fd.append(k, x);
      fd.append('file', file, file.name);
      problem.textContent = '';
      bar.value = 0;
      bar.hidden = false;
      bar.setAttribute('aria-label', `Uploading ${file.name}`);
      const m = await api.upload('/message', fd, (done, total) => { bar.value = (100 * done) / total; });
      status(`Sent ${file.name}.`);
      sent(m, el);
    } catch (err) {
      if (err.status === 409 && err.fields && err.fields.contactId === 'session_window_closed') {
        drawWindow(true);
        status(err.message, 'error');
        return;
      }
      if (!file) throw err;
      problem.textContent = `${file.name} was not sent: ${err.message}`;
    } finally { bar.hidden = true; }
  }, { class: 'form composer', 'aria-label': 'Reply to ' + contactName(st.contact) });
  // Enter sends, Shift+Enter makes a new line.
  text().addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey) return;
    e.preventDefault();
    // Not twice while a file is still going up.
    if (!f.querySelector('button[type=submit]').disabled) f.requestSubmit();
  });
  // The label is the control (focusable, Enter or Space opens the
  // chooser), as in a box; the input stays out of the Tab order.
  f.querySelector('button[type=submit]').before(h('label', { for: 'reply-file', class: 'button', tabindex: '0', role: 'button',
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } } }, 'Attach a file'), input);
  f.append(h('div', { class: 'attach-state' }, chosen, bar, problem));
  return f;
}

// placeholders lists a template's {{n}} in order of first appearance.
function placeholders(text) {
  const seen = [];
  for (const m of text.matchAll(/\{\{([^{}]*)\}\}/g)) if (!seen.includes(m[1])) seen.push(m[1]);
  return seen;
}

function fill(text, values) { return text.replace(/\{\{([^{}]*)\}\}/g, (all, n) => values[n] || all); }

// templatesOf reads a number's templates once a visit (an approval made
// meanwhile shows on the next visit, or after a reload).
function templatesOf(accountId) {
  if (!st.templates.has(accountId)) {
    st.templates.set(accountId, api.listAll('/template?apiAccountId=' + accountId)
      .catch((err) => { st.templates.delete(accountId); throw err; }));
  }
  return st.templates.get(accountId);
}

function templateForm() {
  const box = h('div', { class: 'template-send' }, h('p', { class: 'meta' }, 'Loading the approved templates…'));
  templatesOf(st.conv.apiAccountId).then((all) => {
    const approved = all.filter((t) => t.status === 'Approved');
    if (approved.length === 0) {
      clear(box, h('p', {}, 'This number has no approved template yet: ask an administrator to add one (Settings → Templates).'));
      return;
    }
    const id = 'tpl-' + Math.random().toString(36).slice(2, 7);
    const sel = h('select', { id, name: 'templateId' }, approved.map((t) => h('option', { value: t.templateId }, t.name)));
    const fields = h('div', { class: 'tpl-fields' });
    const preview = h('p', { class: 'tpl-preview', 'aria-live': 'polite' });
    const values = {};
    const current = () => approved.find((t) => t.templateId === sel.value);
    const redraw = () => {
      const t = current();
      for (const k of Object.keys(values)) delete values[k];
      clear(fields, placeholders(t.templateText).map((n) => {
        const fid = `${id}-${n}`;
        return h('div', { class: 'field' }, h('label', { for: fid }, `Value for {{${n}}}`),
          h('input', { id: fid, required: true, placeholder: exampleOf(t, n), oninput: (e) => { values[n] = e.target.value; showPreview(); } }));
      }));
      showPreview();
    };
    const showPreview = () => { preview.textContent = fill(current().templateText, values); };
    sel.addEventListener('change', redraw);
    const f = h('form', { class: 'form', 'aria-label': 'Send an approved template', onsubmit: async (e) => {
      e.preventDefault();
      const btn = f.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        const t = current();
        await api.post('/broadcast', { apiAccountId: st.conv.apiAccountId, contactId: st.contact.contactId,
          templateId: t.templateId, message: fill(t.templateText, values) });
        status(`Template "${t.name}" queued for ${contactName(st.contact)}.`);
        redraw();
      } catch (err) { fail(err); } finally { btn.disabled = false; }
    } },
    h('div', { class: 'field' }, h('label', { for: id }, 'Approved template'), sel),
    fields,
    h('div', { class: 'field' }, h('span', { class: 'label' }, 'Preview'), preview),
    h('button', { type: 'submit' }, 'Send template'));
    clear(box, f);
    redraw();
  }).catch((err) => clear(box, h('p', { class: 'error' }, err.message)));
  return box;
}

// exampleOf takes {{n}}'s value from the template's example, where the
// seed writes it in brackets: "Hi [John], …".
function exampleOf(t, n) {
  const ex = (t.templateExample || '').match(/\[([^\]]*)\]/g) || [];
  const i = placeholders(t.templateText).indexOf(n);
  return ex[i] ? ex[i].slice(1, -1) : '';
}

function drawContact() {
  const el = document.getElementById('contact');
  if (!el || !st.contact) return;
  const c = st.contact;
  const tags = c.tags || [];
  const tagForm = form([['tag', 'New tag', { required: true, maxlength: 50 }]], 'Add tag', async (v, f) => {
    const tag = v.tag.trim();
    if (!tag) return;
    await saveContact({ tags: [...new Set([...tags, tag])] }, `Tag "${tag}" added.`);
    f.reset();
  }, { class: 'form inline-form', 'aria-label': 'Add a tag' });
  const edit = h('details', {}, h('summary', {}, 'Edit details'),
    form([
      ['name', 'Name', { value: c.name, required: true, maxlength: 100 }],
      ['email', 'E-mail', { type: 'email', value: c.email || '' }],
    ], 'Save', (v) => saveContact({ name: v.name.trim(), email: v.email.trim() }, 'Contact saved.')));
  clear(el,
    h('h3', {}, 'Contact'),
    h('dl', { class: 'contact-details' },
      h('dt', {}, 'Name'), h('dd', {}, c.name || '—'),
      h('dt', {}, 'Mobile'), h('dd', {}, c.mobileNumber),
      h('dt', {}, 'E-mail'), h('dd', {}, c.email || '—'),
      h('dt', {}, 'Status'), h('dd', {}, c.status)),
    edit,
    h('h3', {}, 'Tags'),
    h('ul', { class: 'tag-list', 'aria-label': 'Tags' }, tags.length === 0 && h('li', { class: 'meta' }, 'No tags.'),
      tags.map((t) => h('li', { class: 'tag' }, t, ' ', h('button', { type: 'button', class: 'link remove', 'aria-label': `Remove the tag ${t}`,
        onclick: () => saveContact({ tags: tags.filter((x) => x !== t) }, `Tag "${t}" removed.`).catch(fail) }, '×')))),
    tagForm);
}

async function saveContact(body, done) {
  st.contact = await api.put('/contact/' + st.contact.contactId, body);
  st.contacts.set(st.contact.contactId, st.contact);
  drawContact();
  drawConvHead();
  status(done);
}
