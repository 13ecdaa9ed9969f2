// Encrypted boxes: list with unread counts, create, invite by link, join,
// read and write messages and files. Everything is encrypted and
// decrypted here; the server sees ciphertext only.

import * as api from './api.js';
import * as c from './crypto.js';
import * as keys from './keys.js';
import { onFrame } from './live.js';
import { h, clear, form, status, fail, time, bytes } from './ui.js';

let current = null; // the open box's id
let reloadTimer = 0;
let reloadEvents = false; // the open box's events must be read again
let redrawEvents = false; // live events were added to them
// The open box's events as last drawn; loads counts the reads of them, so
// that only the latest read is drawn and a live event is not added to a
// list that a read under way is about to replace.
const shown = { boxID: null, events: [], loads: 0, loading: false };

// Events the list shows as they are (edits and deletions change another
// event, access rules are not listed): a live one is added to the list
// from its frame, without reading the box again.
const folds = new Set(['msg.edit', 'msg.delete', 'access.add', 'access.rm']);

onFrame((f) => {
  if (f.type !== 'event.new' && f.type !== 'box.delete') return;
  const boxID = f.object && (f.object.box_id || f.object.id);
  if (current && boxID === current) {
    if (f.type === 'event.new' && addLive(f.object)) redrawEvents = true;
    else reloadEvents = true;
  }
  // Once per burst of frames: one redraw, one acknowledgement.
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => {
    if (!location.hash.startsWith('#/boxes') && location.hash !== '' && location.hash !== '#/') return;
    refreshList();
    if (current && reloadEvents) loadEvents(current);
    else if (redrawEvents && shown.boxID === current) draw(current, shown.events);
    redrawEvents = false;
  }, 80);
});

// addLive adds an event from its frame to the open box's events, and
// says whether it could.
function addLive(e) {
  if (folds.has(e.type) || shown.boxID !== current || shown.loading) return false;
  if (!shown.events.some((x) => x.id === e.id)) shown.events.push(e);
  return true;
}

export async function showBoxes(view, [boxID]) {
  current = boxID || null;
  document.title = 'Boxes · Boxwire';
  // One pane at a time on a phone (style.css): the list when no box is
  // open, the box (with a back link) when one is.
  view.classList.remove('has-detail', 'view-list');
  clear(view, h('div', { class: 'split ' + (boxID ? 'has-detail' : 'view-list') },
    h('aside', { class: 'pane list-pane', 'aria-label': 'Your boxes' },
      h('h1', {}, 'Boxes'),
      newBoxForm(),
      h('ul', { id: 'box-list', class: 'items' })),
    h('section', { id: 'box', class: 'pane main-pane', 'aria-live': 'off' },
      boxID ? h('p', {}, 'Opening…') : h('p', { class: 'empty' }, 'Choose a box, or create one.'))));
  await refreshList();
  if (boxID) await openBox(boxID);
}

function newBoxForm() {
  return h('details', { class: 'new' }, h('summary', {}, 'New box'),
    form([
      ['title', 'Title', { required: true, maxlength: 50 }],
      ['mode', 'Who may join', { options: [['limited', 'People I add'], ['public', 'Anyone with the link']] }],
    ], 'Create box', async (v) => {
      const kp = c.newKeyPair();
      const shares = c.splitSecretKey(kp.secretKey);
      const b = await api.post('/boxes', { title: v.title, public_key: kp.publicKey, access_mode: v.mode,
        key_share: { misakey_share: shares.misakeyShare, other_share_hash: shares.otherShareHash } });
      keys.save(b.id, { publicKey: kp.publicKey, secretKey: kp.secretKey, shareOne: shares.shareOne });
      status(`Box "${b.title}" created.`);
      location.hash = '#/boxes/' + b.id;
    }));
}

async function refreshList() {
  const ul = document.getElementById('box-list');
  if (!ul) return;
  const boxes = await api.get('/boxes/joined?limit=100').catch((e) => { fail(e); return []; });
  clear(ul, boxes.length === 0 && h('li', { class: 'empty' }, 'No boxes yet.'),
    boxes.map((b) => h('li', {},
      h('a', { href: '#/boxes/' + b.id, class: 'item', 'aria-current': b.id === current ? 'true' : null },
        h('span', { class: 'title' }, b.title),
        b.lifecycle === 'closed' && h('span', { class: 'tag' }, 'closed'),
        !keys.of(b.id) && h('span', { class: 'tag', title: 'Open its invitation link in this browser to read it' }, 'no key here'),
        b.events_count > 0 && b.id !== current && h('span', { class: 'badge', 'aria-label': `${b.events_count} unread` }, String(b.events_count))))));
}

async function openBox(boxID) {
  const pane = document.getElementById('box');
  let b;
  try { b = await api.get('/boxes/' + boxID); } catch (err) { clear(pane, h('p', { class: 'error' }, err.message)); return; }
  const k = keys.of(boxID);
  const me = api.session().id;
  const admin = b.creator.id === me;
  document.title = `${b.title} · Boxwire`;
  clear(pane,
    h('header', { class: 'box-head' },
      h('a', { href: '#/boxes', class: 'back' }, h('span', { 'aria-hidden': 'true' }, '← '), 'Boxes'),
      h('h2', { id: 'box-title', tabindex: '-1' }, b.title),
      h('p', { class: 'meta' }, `Created by ${b.creator.display_name}`, b.lifecycle === 'closed' ? ' · closed' : '',
        ` · ${b.access_mode === 'public' ? 'anyone with the link may join' : 'only people added may join'}`),
      h('div', { class: 'actions' },
        k && k.shareOne && h('button', { type: 'button', 'aria-controls': 'box-extra', 'aria-expanded': 'false', onclick: panel('invite', () => showInvite(b, k)) }, 'Invitation link'),
        h('button', { type: 'button', 'aria-controls': 'box-extra', 'aria-expanded': 'false', onclick: panel('people', () => showPeople(b, admin)) }, admin ? 'People and access' : 'People'))),
    h('div', { id: 'box-extra' }),
    // New messages from others are read out here, without moving focus.
    h('p', { id: 'box-announce', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' }),
    !k ? h('p', { class: 'error' }, 'This browser holds no key for this box. Open its invitation link here to read it.')
      : h('ol', { id: 'events', class: 'events', 'aria-label': 'Messages', tabindex: '-1' }),
    k && b.lifecycle !== 'closed' && composer(b, k));
  // On a phone the list just disappeared with the link that had focus:
  // take focus to the box, so keyboard and screen reader users follow.
  const list = document.querySelector('.list-pane');
  if (list && getComputedStyle(list).display === 'none') document.getElementById('box-title').focus();
  if (k) await loadEvents(boxID);
  api.put(`/boxes/${boxID}/new-events-count/ack`).catch(() => {});
}

async function loadEvents(boxID) {
  const ol = document.getElementById('events');
  if (!ol || !keys.of(boxID) || current !== boxID) return;
  reloadEvents = false;
  const load = ++shown.loads;
  shown.loading = true;
  let events;
  try {
    events = await api.get(`/boxes/${boxID}/events`);
  } catch (err) {
    fail(err);
    return;
  } finally {
    if (load === shown.loads) shown.loading = false;
  }
  if (load !== shown.loads || current !== boxID) return; // a later read, or another box
  Object.assign(shown, { boxID, events });
  draw(boxID, events);
}

// draw shows a box's events in its list, reads out what others wrote,
// and tells the server they are read.
function draw(boxID, events) {
  const ol = document.getElementById('events');
  const k = keys.of(boxID);
  if (!ol || !k) return;
  const me = api.session().id;
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  render(ol, events.map((e) => ({ id: e.id, key: eventKey(e), build: () => eventItem(boxID, k, e, e.sender.id === me) })));
  announce(ol, events, me, k);
  if (atBottom || !ol.dataset.loaded) ol.scrollTop = ol.scrollHeight;
  ol.dataset.loaded = '1';
  api.put(`/boxes/${boxID}/new-events-count/ack`).catch(() => {});
}

// eventKey names what an item shows: it changes when the event is
// edited or deleted, or its sender renamed, and only then.
function eventKey(e) {
  const m = e.content || {};
  return [e.id, m.last_edited_at || '', m.deleted ? 'deleted' : '', e.sender.display_name].join('|');
}

// render updates the list in place. A live update redraws it often (on
// each frame from the box), so an item whose event did not change keeps
// its node: the control that has focus, an edit being typed and a
// download in progress survive. When the focused item itself changed,
// focus moves to the same control in its new version, or to the list.
function render(ol, items) {
  const had = document.activeElement;
  const from = had && had !== ol && ol.contains(had) ? had.closest('li') : null;
  const kept = new Map([...ol.children].map((li) => [li.dataset.key, li]));
  const want = items.map(({ id, key, build }) => {
    if (kept.has(key)) return kept.get(key);
    const li = build();
    Object.assign(li.dataset, { id, key });
    return li;
  });
  want.forEach((li, i) => { if (ol.children[i] !== li) ol.insertBefore(li, ol.children[i] || null); });
  while (ol.children.length > want.length) ol.lastElementChild.remove();
  if (!from || had.isConnected) return;
  const label = had.getAttribute('aria-label');
  const again = want.find((li) => li.dataset.id === from.dataset.id);
  const same = label && again && [...again.querySelectorAll('[aria-label]')].find((el) => el.getAttribute('aria-label') === label);
  (same || ol).focus();
}

// announce reads out the messages from others that arrived since the
// list was last drawn (not those there when the box opened).
function announce(ol, events, me, k) {
  const seen = new Set((ol.dataset.seen || '').split(' '));
  const fresh = ol.dataset.loaded ? events.filter((e) => !seen.has(e.id) && e.sender.id !== me && e.type.startsWith('msg.')) : [];
  ol.dataset.seen = events.map((e) => e.id).join(' ');
  const region = document.getElementById('box-announce');
  if (!region || fresh.length === 0) return;
  region.textContent = fresh.map((e) => {
    try {
      if (e.type === 'msg.text') return `${e.sender.display_name}: ${c.decryptText(k.secretKey, e.content.encrypted)}`;
      if (e.type === 'msg.file') return `${e.sender.display_name} sent the file ${c.fileInfo(k.secretKey, e.content.encrypted).fileName}`;
    } catch { /* shown as an error in the list */ }
    return `${e.sender.display_name} sent a message`;
  }).join('. ');
}

const notices = { create: 'created the box', 'member.join': 'joined', 'member.leave': 'left', 'member.kick': 'was removed',
  'state.lifecycle': 'closed the box', 'state.access_mode': 'changed who may join', 'state.key_share': 'made a new invitation link' };

function eventItem(boxID, k, e, mine) {
  const who = h('span', { class: 'sender' }, mine ? 'You' : e.sender.display_name);
  const when = h('time', { datetime: e.server_event_created_at }, time(e.server_event_created_at));
  if (e.type !== 'msg.text' && e.type !== 'msg.file') {
    return h('li', { class: 'notice' }, who, ' ', notices[e.type] || e.type, ' · ', when);
  }
  const m = e.content || {};
  const li = h('li', { class: 'msg' + (mine ? ' mine' : '') }, h('div', { class: 'head' }, who, ' ', when));
  if (m.deleted) { li.append(h('p', { class: 'deleted' }, e.type === 'msg.file' ? 'File deleted' : 'Message deleted')); return li; }
  let what = 'this message'; // how the Delete button names what it deletes
  try {
    if (e.type === 'msg.text') {
      li.append(h('p', { class: 'text' }, c.decryptText(k.secretKey, m.encrypted)), m.last_edited_at ? h('span', { class: 'edited' }, '(edited)') : '');
    } else {
      const info = c.fileInfo(k.secretKey, m.encrypted);
      what = 'the file ' + info.fileName;
      li.append(fileItem(m.encrypted_file_id, info));
    }
  } catch (err) {
    li.append(h('p', { class: 'error' }, 'Cannot decrypt: ' + err.message));
  }
  if (mine) {
    li.append(h('div', { class: 'msg-actions' },
      e.type === 'msg.text' && h('button', { type: 'button', class: 'link', 'aria-label': 'Edit this message', onclick: () => editMessage(boxID, k, e, li) }, 'Edit'),
      h('button', { type: 'button', class: 'link', 'aria-label': 'Delete ' + what, onclick: async () => {
        if (!confirm(`Delete ${what} for everyone?`)) return;
        try { await api.post(`/boxes/${boxID}/events`, { type: 'msg.delete', referrer_id: e.id }); await loadEvents(boxID); } catch (err) { fail(err); }
      } }, 'Delete')));
  }
  return li;
}

function fileItem(fileID, info) {
  const bar = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'Download progress' });
  return h('div', { class: 'file' },
    h('span', { class: 'file-name' }, info.fileName), ' ', h('span', { class: 'meta' }, bytes(info.fileSize)), ' ',
    h('button', { type: 'button', 'aria-label': 'Download ' + info.fileName, onclick: async (ev) => {
      const btn = ev.currentTarget;
      btn.disabled = true; bar.hidden = false;
      try {
        const enc = await api.download('/encrypted-files/' + fileID, (got, total) => { bar.value = total ? (100 * got) / total : 0; });
        const data = c.decryptFile(info, enc);
        const a = h('a', { href: URL.createObjectURL(new Blob([data], { type: info.fileType || 'application/octet-stream' })), download: info.fileName });
        document.body.append(a); a.click(); a.remove();
        status(`Downloaded ${info.fileName}.`);
      } catch (err) { fail(err); } finally { btn.disabled = false; bar.hidden = true; }
    } }, 'Download'), bar);
}

function editMessage(boxID, k, e, li) {
  const old = c.decryptText(k.secretKey, e.content.encrypted);
  const f = form([['text', 'Edit message', { multiline: true, value: old, required: true }]], 'Save', async (v) => {
    await api.post(`/boxes/${boxID}/events`, { type: 'msg.edit', referrer_id: e.id,
      content: { new_encrypted: c.encryptText(k.publicKey, v.text), new_public_key: k.publicKey } });
    await loadEvents(boxID);
  });
  f.querySelector('textarea').value = old;
  li.append(f);
  f.querySelector('textarea').focus();
}

function composer(b, k) {
  const bar = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  // The label below is the control (focusable, Enter or Space opens the
  // chooser); the input itself stays out of the Tab order.
  const file = h('input', { type: 'file', id: 'file-input', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', onchange: async () => {
    const f = file.files[0];
    if (!f) return;
    bar.hidden = false;
    try {
      const data = new Uint8Array(await f.arrayBuffer());
      const enc = c.encryptFile(k.publicKey, f.name, f.type || 'application/octet-stream', data);
      const fd = new FormData();
      fd.append('msg_encrypted_content', enc.encryptedContent);
      fd.append('msg_public_key', k.publicKey);
      fd.append('encrypted_file', new Blob([enc.encryptedFile]), 'encrypted');
      await api.upload(`/boxes/${b.id}/encrypted-files`, fd, (sent, total) => { bar.value = (100 * sent) / total; });
      status(`Sent ${f.name}, encrypted.`);
      await loadEvents(b.id);
    } catch (err) { fail(err); } finally { bar.hidden = true; file.value = ''; }
  } });
  const f = form([['text', 'Message', { multiline: true, rows: 2, required: true, placeholder: 'Write an encrypted message' }]], 'Send', async (v, el) => {
    await api.post(`/boxes/${b.id}/events`, { type: 'msg.text', content: { encrypted: c.encryptText(k.publicKey, v.text), public_key: k.publicKey } });
    el.reset();
    await loadEvents(b.id);
    // Back to the message field (a clicked Send lost focus as it was
    // disabled), unless the person has moved on meanwhile: the message
    // often shows from its frame before this read is back.
    const at = document.activeElement;
    if (!at || at === document.body || el.contains(at)) el.querySelector('textarea').focus();
  }, { class: 'form composer', 'aria-label': 'Write a message' });
  // Enter sends, Shift+Enter makes a new line.
  f.querySelector('textarea').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); f.requestSubmit(); }
  });
  f.append(h('label', { for: 'file-input', class: 'button', tabindex: '0', role: 'button',
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); file.click(); } } }, 'Attach a file'), file, bar);
  return f;
}

// panel makes a box's action button open its panel, or close it when it
// is the one open, and tells screen readers which is (aria-expanded).
function panel(name, show) {
  return (ev) => {
    const extra = document.getElementById('box-extra');
    const open = extra.dataset.panel === name;
    for (const btn of document.querySelectorAll('[aria-controls=box-extra]')) btn.setAttribute('aria-expanded', 'false');
    if (open) { clear(extra); delete extra.dataset.panel; return; }
    extra.dataset.panel = name;
    ev.currentTarget.setAttribute('aria-expanded', 'true');
    return show();
  };
}

function showInvite(b, k) {
  const link = `${location.origin}/boxes/${b.id}#${k.shareOne}`;
  const input = h('input', { id: 'invite-link', readonly: true, value: link });
  clear(document.getElementById('box-extra'), h('div', { class: 'card' },
    h('label', { for: 'invite-link' }, 'Invitation link: whoever opens it gets the key (it is in the part after #, which browsers never send to a server)'),
    input,
    h('button', { type: 'button', onclick: async () => { input.select(); await navigator.clipboard?.writeText(link).catch(() => {}); status('Link copied.'); } }, 'Copy')));
  input.select();
}

async function showPeople(b, admin) {
  const box = document.getElementById('box-extra');
  const [members, accesses] = await Promise.all([
    api.get(`/boxes/${b.id}/members`).catch((e) => { fail(e); return []; }),
    admin ? api.get(`/boxes/${b.id}/accesses`).catch((e) => { fail(e); return []; }) : [],
  ]);
  const batch = async (events) => { await api.post(`/boxes/${b.id}/batch-events`, { batch_type: 'accesses', events }); await showPeople(b, admin); };
  clear(box, h('div', { class: 'card' },
    h('h3', {}, 'Members'),
    h('ul', {}, members.map((m) => h('li', {}, m.display_name, m.identifier_value ? ` (${m.identifier_value})` : ''))),
    admin && [
      h('h3', {}, 'Who may join'),
      h('ul', { 'aria-label': 'Access rules' }, accesses.length === 0 && h('li', {}, 'No rules: only the members above.'),
        accesses.map((a) => h('li', {}, `${a.content.restriction_type === 'email_domain' ? 'anyone at @' : ''}${a.content.value} `,
          h('button', { type: 'button', class: 'link', 'aria-label': 'Remove ' + a.content.value,
            onclick: () => batch([{ type: 'access.rm', referrer_id: a.id }]).catch(fail) }, 'Remove')))),
      form([
        ['kind', 'Rule', { options: [['identifier', 'An e-mail address'], ['email_domain', 'An e-mail domain']] }],
        ['value', 'Address or domain', { required: true, placeholder: 'ada@example.com or example.com' }],
      ], 'Add', (v) => batch([{ type: 'access.add', content: { restriction_type: v.kind, value: v.value.trim() } }])),
      b.lifecycle !== 'closed' && h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm('Close this box? Nobody can write in it any more, and only you can still read it.')) return;
        try { await api.post(`/boxes/${b.id}/events`, { type: 'state.lifecycle', content: { state: 'closed' } }); status('Box closed.'); await openBox(b.id); } catch (err) { fail(err); }
      } }, 'Close the box'),
    ]));
}

// joinFromLink handles /boxes/{id}#<share>: it joins the box, rebuilds its
// key from the link's share and the server's, and checks it.
export async function joinFromLink() {
  const boxID = location.pathname.split('/')[2];
  const shareOne = location.hash.slice(1);
  const view = document.getElementById('view');
  document.title = 'Invitation · Boxwire';
  try {
    const hash = c.shareHash(shareOne);
    const pub = await api.get(`/boxes/${boxID}/public?other_share_hash=${encodeURIComponent(hash)}`);
    clear(view, h('section', { class: 'card narrow', 'aria-labelledby': 'inv-title' },
      h('h1', { id: 'inv-title' }, pub.title),
      h('p', {}, `${pub.creator.display_name} invites you to this end-to-end encrypted box.`),
      h('button', { type: 'button', id: 'join', autofocus: true, onclick: async () => {
        try {
          await api.post(`/boxes/${boxID}/events`, { type: 'member.join' }).catch((err) => { if (err.status !== 409) throw err; });
          const share = await api.get('/box-key-shares/' + encodeURIComponent(hash));
          const secretKey = c.combineShares(shareOne, share.share);
          const b = await api.get('/boxes/' + boxID);
          if (c.publicKeyOf(secretKey) !== b.public_key) throw new Error("the invitation's key does not open this box");
          keys.save(boxID, { publicKey: b.public_key, secretKey, shareOne });
          history.replaceState(null, '', '/#/boxes/' + boxID);
          status(`You joined "${b.title}".`);
          await showBoxes(view, [boxID]);
        } catch (err) {
          // Said in words, on the page and to screen readers.
          const words = err.status === 403
            ? "You may not join this box: only the people its creator added may. Ask them to add your address."
            : err.message;
          clear(view.querySelector('#join-error'), words);
          fail(new Error(words));
        }
      } }, 'Join the box'),
      h('p', { id: 'join-error', class: 'error' })));
    view.querySelector('#join').focus();
  } catch (err) {
    clear(view, h('section', { class: 'card narrow' }, h('h1', {}, 'This invitation does not open'), h('p', { class: 'error' }, err.message),
      h('a', { href: '/#/boxes' }, 'Go to your boxes')));
  }
}
