// The app's shell: sign-in, navigation, and the router (location.hash).

import * as api from './api.js';
import * as live from './live.js';
import { h, clear, form, status, fail } from './ui.js';
import { showBoxes, joinFromLink } from './boxes.js';
import { showInbox } from './inbox.js';
import { showSettings } from './settings.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
export const profile = { name: '', member: null }; // member: the messaging user, or null

function signInView(note) {
  document.title = 'Sign in · Boxwire';
  nav.replaceChildren();
  clear(view, h('section', { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Boxwire'),
    note && h('p', { class: 'note' }, note),
    form([
      ['username', 'E-mail', { type: 'email', autocomplete: 'username', required: true, autofocus: true }],
      ['password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }],
    ], 'Sign in', async (v) => {
      await api.signIn(v.username, v.password);
      await afterSignIn();
    })));
  view.querySelector('input').focus();
}

async function afterSignIn() {
  const me = api.session();
  const [ident, member] = await Promise.all([
    api.get('/identities/' + me.id).catch(() => null),
    api.get('/user/' + me.id).catch(() => null),
  ]);
  profile.name = (ident && ident.display_name) || (member && `${member.firstName} ${member.lastName}`) || '';
  profile.member = member;
  live.stop();
  live.start();
  drawNav();
  // An invitation link opened before signing in: join now.
  if (location.pathname.startsWith('/boxes/') && location.hash.length > 1) return joinFromLink();
  route();
}

function drawNav() {
  const links = [['#/boxes', 'Boxes']];
  if (profile.member) links.push(['#/inbox', 'Inbox']);
  if (profile.member && profile.member.role === 'admin') links.push(['#/settings', 'Settings']);
  const here = location.hash.split('/')[1] || 'boxes';
  const was = document.getElementById('live'); // the live state outlives a redraw
  clear(nav,
    h('ul', {}, links.map(([href, label]) => h('li', {},
      h('a', { href, 'aria-current': href === '#/' + here ? 'page' : null }, label)))),
    h('span', { class: 'who' }, profile.name),
    h('span', { id: 'live', class: 'live', role: 'status', 'aria-label': 'live updates', dataset: was ? { ...was.dataset } : {} }, was ? was.textContent : ''),
    h('button', { class: 'link', type: 'button', onclick: async () => { live.stop(); await api.signOut(); signInView('You are signed out.'); } }, 'Sign out'));
}

export function route() {
  if (!api.session()) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  drawNav();
  const section = parts[0] || 'boxes';
  view.classList.remove('has-detail', 'view-list'); // each view sets the ones it needs
  try {
    if (section === 'inbox' && profile.member) return showInbox(view, parts.slice(1));
    if (section === 'settings') {
      if (!profile.member || profile.member.role !== 'admin') {
        document.title = 'Not allowed · Boxwire';
        return clear(view, h('section', { class: 'card narrow' }, h('h1', {}, 'Settings are for administrators'),
          h('p', {}, 'Ask an administrator of your organisation to change its settings.')));
      }
      return showSettings(view, parts.slice(1));
    }
    return showBoxes(view, parts.slice(1));
  } catch (err) { fail(err); }
}

window.addEventListener('hashchange', route);
api.onSession((me) => { if (!me) { live.stop(); signInView('Your session has ended: sign in again.'); } });

// Keyboard: "g b", "g i", "g s" go to boxes, inbox, settings; "/" focuses search.
let lastKey = '';
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (t.matches('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
  if (lastKey === 'g') {
    const to = { b: '#/boxes', i: '#/inbox', s: '#/settings' }[e.key];
    if (to) { location.hash = to; e.preventDefault(); }
  } else if (e.key === '/') {
    const s = document.querySelector('[data-search]');
    if (s) { s.focus(); e.preventDefault(); }
  }
  lastKey = e.key;
});

async function boot() {
  try {
    await api.refresh();
    await afterSignIn();
  } catch (err) {
    signInView(location.pathname.startsWith('/boxes/') ? 'Sign in to open the invitation.' : '');
    if (err.status && err.status !== 401 && err.status !== 400) status(err.message, 'error');
  }
}
boot();
