// Live updates: one WebSocket per tab on /box-users/{me}/ws. After a drop
// it reconnects with ?since=<last position seen>, so the server replays
// what happened meanwhile: nothing is missed and nothing shown twice.

import { session, refresh } from './api.js';

const handlers = new Set();
let socket = null;
let position = null;
let backoff = 500;
let stopped = true;
let timer = 0;

export function onFrame(fn) { handlers.add(fn); return () => handlers.delete(fn); }

function indicator(text, state) {
  const el = document.getElementById('live');
  if (el) { el.textContent = text; el.dataset.state = state; }
}

export function start() {
  stopped = false;
  connect();
}

export function stop() {
  stopped = true;
  clearTimeout(timer);
  if (socket) socket.close();
  socket = null;
  position = null;
}

// drop closes the socket as a network failure would (the tests use it).
export function drop() { if (socket) socket.close(4000, 'dropped'); }

function connect() {
  const me = session();
  if (!me || stopped) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const since = position === null ? '' : `?since=${position}`;
  const ws = new WebSocket(`${proto}//${location.host}/box-users/${me.id}/ws${since}`);
  socket = ws;
  let opened = false;
  ws.onopen = () => { opened = true; backoff = 500; indicator('live', 'on'); };
  ws.onmessage = (e) => {
    let f;
    try { f = JSON.parse(e.data); } catch { return; }
    if (typeof f.position === 'number') position = f.position;
    for (const fn of handlers) {
      try { fn(f); } catch (err) { console.error(err); }
    }
  };
  ws.onclose = async () => {
    if (socket !== ws || stopped) return;
    indicator('reconnecting…', 'off');
    // A refused handshake is most often an expired access cookie.
    if (!opened && session() && session().expiresAt - Date.now() < 90000) await refresh().catch(() => {});
    timer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
}
