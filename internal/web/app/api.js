// The API client: cookie authentication (HttpOnly accesstoken +
// tokentype=bearer, set by /oauth/token), X-CSRF-Token on unsafe methods,
// and a session that refreshes itself with the HttpOnly refreshToken
// cookie before the access token expires, and once more on a 401.

const APP = 'boxwire-web';
let csrf = '';
let me = null; // { id, expiresAt }
let timer = 0;
let refreshing = null;
const listeners = new Set();

export class APIError extends Error {
  constructor(status, message, fields = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

// errorOf reads either surface's error shape into words: problem+json's
// detail (messaging) or Misakey's desc (boxes), with the fields at fault.
async function errorOf(res) {
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  const fields = {};
  if (Array.isArray(body.errors)) for (const e of body.errors) fields[e.field] = e.reason;
  if (body.details && typeof body.details === 'object') Object.assign(fields, body.details);
  let msg = body.detail || body.desc || body.message || `${res.status} ${res.statusText}`;
  const named = Object.entries(fields).filter(([k]) => k !== 'type').map(([k, v]) => `${k}: ${v}`);
  if (named.length && !msg.includes(named[0].split(':')[0])) msg += ` (${named.join(', ')})`;
  return new APIError(res.status, msg, fields);
}

export function session() { return me; }
export function onSession(fn) { listeners.add(fn); }

function setSession(tokenAnswer) {
  const claims = JSON.parse(atob(tokenAnswer.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  // The token itself is not kept: the cookies carry it. Only who we are
  // and when to refresh.
  me = { id: claims.sub, expiresAt: new Date(tokenAnswer.expires_at) };
  clearTimeout(timer);
  const wait = Math.max(5000, me.expiresAt - Date.now() - 60000);
  timer = setTimeout(() => refresh().catch(() => {}), wait);
}

async function tokenRequest(body) {
  const res = await fetch('/oauth/token', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Calling-Application': APP },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await errorOf(res);
  setSession(await res.json());
  csrf = '';
  return me;
}

export async function signIn(username, password) {
  await tokenRequest({ username, password });
  await loadCSRF();
  listeners.forEach((fn) => fn(me));
  return me;
}

// refresh exchanges the refresh cookie for new tokens; one at a time, as
// the server revokes a session whose refresh token is used twice.
export function refresh() {
  if (!refreshing) {
    refreshing = tokenRequest({ grant_type: 'refresh_token' })
      .then(loadCSRF)
      .then(() => me)
      .catch((err) => { me = null; listeners.forEach((fn) => fn(null)); throw err; })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function signOut() {
  clearTimeout(timer);
  await fetch('/oauth/revoke', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' }).catch(() => {});
  me = null;
  csrf = '';
  listeners.forEach((fn) => fn(null));
}

async function loadCSRF() {
  const res = await fetch('/csrf', { credentials: 'same-origin' });
  if (!res.ok) throw await errorOf(res);
  csrf = (await res.json()).csrf_token;
}

// The server limits each person's requests a second (--rate-limit, with a
// burst); quick clicks through the inbox can go past it. A 429 is refused
// before anything is done, so the request is sent again when the server
// says (Retry-After), a few times, instead of showing an error. A longer
// wait (a verification code asked for again within the minute) is the
// person's to decide: it is shown, not waited out.
const RATE_RETRIES = 5;
const RATE_WAIT_MAX = 5; // seconds

// waitOut is how many seconds to wait before asking again, or 0: do not.
function waitOut(status, retryAfter, tries) {
  const secs = Number(retryAfter) || 1;
  return status === 429 && tries < RATE_RETRIES && secs <= RATE_WAIT_MAX ? secs : 0;
}
const pause = (secs) => new Promise((ok) => setTimeout(ok, secs * 1000));

async function send(path, init) {
  for (let i = 0; ; i++) {
    const res = await fetch(path, init);
    const secs = waitOut(res.status, res.headers.get('Retry-After'), i);
    if (!secs) return res;
    await pause(secs);
  }
}

// call sends a request; body is JSON unless it is FormData.
export async function call(method, path, body, retried = false) {
  const headers = { 'X-Calling-Application': APP };
  if (!['GET', 'HEAD'].includes(method)) headers['X-CSRF-Token'] = csrf;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await send(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 401 && !retried && me) {
    await refresh();
    return call(method, path, body, true);
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204 || method === 'HEAD') return res;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (p) => call('GET', p);
export const post = (p, b) => call('POST', p, b ?? {});
export const put = (p, b) => call('PUT', p, b ?? {});
export const del = (p) => call('DELETE', p);

// list fetches every page of a messaging list ({items, ...} pages of 100).
export async function listAll(path) {
  const out = [];
  for (let page = 1; page < 50; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await get(`${path}${sep}page=${page}`);
    const items = Array.isArray(res) ? res : (res.items || []);
    out.push(...items);
    if (items.length < 100) break;
  }
  return out;
}

// upload posts FormData with upload progress (fetch reports none); like
// call, it waits out a 429 and refreshes the session once on a 401.
export function upload(path, data, onProgress, retried = false, limited = 0) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.setRequestHeader('X-Calling-Application', APP);
    x.setRequestHeader('X-CSRF-Token', csrf);
    x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total);
    x.onload = async () => {
      if (x.status >= 200 && x.status < 300) return resolve(JSON.parse(x.responseText));
      const secs = waitOut(x.status, x.getResponseHeader('Retry-After'), limited);
      if (secs) {
        await pause(secs);
        return upload(path, data, onProgress, retried, limited + 1).then(resolve, reject);
      }
      if (x.status === 401 && !retried && me) {
        return refresh().then(() => upload(path, data, onProgress, true, limited)).then(resolve, reject);
      }
      reject(await errorOf(new Response(x.responseText, { status: x.status, statusText: x.statusText })));
    };
    x.onerror = () => reject(new Error('the upload failed: the network is unreachable'));
    x.send(data);
  });
}

// download reads a body with progress.
export async function download(path, onProgress) {
  const res = await send(path, { credentials: 'same-origin' });
  if (!res.ok) throw await errorOf(res);
  const total = Number(res.headers.get('Content-Length')) || 0;
  const reader = res.body.getReader();
  const parts = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    got += value.length;
    onProgress(got, total);
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
