// fake_server.mjs — a tiny stand-in for Boxwire's Box-compatible event stream,
// written from PROTOCOL.md, used only to prove follow.mjs (and the spec)
// against the official SDK before the Go server exists.
//
//   node fake_server.mjs
//
// Environment (all optional):
//   PORT         listen port (default 0 = random)
//   TOKEN        accepted bearer token (default "test-token")
//   EVENTS       number of events to produce (default 5)
//   INTERVAL_MS  delay between produced events (default 150)
//   HOLD_MS      realtime long-poll hold before {"message":"reconnect"} (default 800)
//   START_DELAY_MS delay between the client's first GET /2.0/events and the
//                first produced event (default 300)
//   CHAOS        "1" = also exercise the SDK's edge paths once each: a 429 on
//                GET /events, a 503 on OPTIONS, an unknown realtime message,
//                an overlapping page (re-sends an already delivered event),
//                an unknown event_type, numeric next_stream_position.
//
// Prints "LISTENING http://127.0.0.1:<port>" on stdout, then one line per
// request on stderr ("REQ ..."). Events are produced only after the client's
// first GET /2.0/events (i.e. once the follower holds a "now" position).

import http from 'node:http';

const TOKEN = process.env.TOKEN || 'test-token';
const N = parseInt(process.env.EVENTS || '5', 10);
const INTERVAL_MS = parseInt(process.env.INTERVAL_MS || '150', 10);
const HOLD_MS = parseInt(process.env.HOLD_MS || '800', 10);
const START_DELAY_MS = parseInt(process.env.START_DELAY_MS || '300', 10);
const CHAOS = process.env.CHAOS === '1';

const events = []; // events[i] has position i+1
const waiters = new Set(); // pending long polls: () => void
let producing = false;
let port = 0;
const chaosDone = new Set();
const chaosOnce = (name) => {
  if (!CHAOS || chaosDone.has(name)) return false;
  chaosDone.add(name);
  return true;
};

const T0 = Date.now();
function log(...a) {
  process.stderr.write(`[+${String(Date.now() - T0).padStart(5)}ms] ` + a.join(' ') + '\n');
}

function json(res, status, body, extraHeaders = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json', // REQUIRED: the SDK only parses JSON when content-type contains application/json
    'Content-Length': Buffer.byteLength(text),
    ...extraHeaders,
  });
  res.end(text);
  log('   ->', status, text.length > 160 ? text.slice(0, 160) + '…' : text);
}

function produce() {
  if (producing) return;
  producing = true;
  let i = 0;
  const tick = () => {
    if (i >= N) return;
    i++;
    const pos = events.length + 1;
    const now = new Date().toISOString();
    events.push({
      type: 'event',
      event_id: `evt-${pos}-${Math.random().toString(16).slice(2, 10)}`,
      event_type: CHAOS && pos === 2 ? 'BOXWIRE_UNKNOWN_KIND' : 'COMMENT_CREATE',
      created_by: { type: 'user', id: '42', name: 'Alice', login: 'alice@example.com' },
      created_at: now,
      recorded_at: now,
      session_id: 'sess-1',
      source: { type: 'box', id: 'box-1', title: 'General' },
    });
    for (const wake of [...waiters]) wake();
    setTimeout(tick, INTERVAL_MS);
  };
  setTimeout(tick, START_DELAY_MS);
}

function parsePosition(raw) {
  // stream_position: "now" | "0" | decimal string; anything else -> 0 here.
  if (raw === 'now') return events.length;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, events.length) : 0;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  const h = req.headers;
  log(
    'REQ',
    req.method,
    req.url,
    `auth=${JSON.stringify(h.authorization || null)}`,
    `ct=${JSON.stringify(h['content-type'] || null)}`,
    `ua=${JSON.stringify(h['user-agent'] || null)}`,
    `x-box-ua=${JSON.stringify(h['x-box-ua'] || null)}`,
  );
  if (h.authorization !== `Bearer ${TOKEN}`) {
    return json(res, 401, { type: 'error', status: 401, code: 'unauthorized', message: 'bad token' });
  }

  const isEvents = url.pathname === '/2.0/events' || url.pathname === '/events';

  if (isEvents && req.method === 'OPTIONS') {
    if (chaosOnce('options503')) {
      return json(res, 503, { type: 'error', status: 503, code: 'unavailable', message: 'chaos 503' });
    }
    return json(res, 200, {
      chunk_size: 1,
      entries: [
        {
          type: 'realtime_server',
          url: `http://127.0.0.1:${port}/subscribe?channel=fake&stream_type=all`,
          ttl: '10', // string!
          max_retries: '10', // string!
          retry_timeout: 610, // number!
        },
      ],
    });
  }

  if (isEvents && req.method === 'GET') {
    if (events.length === 0 && !producing) produce(); // first GET: the follower now holds "now"
    if (events.length > 0 && chaosOnce('events429')) {
      return json(res, 429, { type: 'error', status: 429, code: 'rate_limit_exceeded', message: 'chaos 429' }, { 'Retry-After': '1' });
    }
    const raw = url.searchParams.get('stream_position') ?? '0';
    let from = parsePosition(raw);
    const limit = Math.min(Math.max(parseInt(url.searchParams.get('limit') || '100', 10) || 100, 1), 500);
    if (raw === 'now') {
      return json(res, 200, { chunk_size: 0, next_stream_position: String(events.length), entries: [] });
    }
    if (from > 0 && events.length > from && chaosOnce('overlap')) from -= 1; // re-send one delivered event
    const entries = events.slice(from, from + limit);
    const next = from + entries.length;
    const nsp = chaosOnce('numericPosition') ? next : String(next);
    return json(res, 200, { chunk_size: entries.length, next_stream_position: nsp, entries });
  }

  if (url.pathname === '/subscribe' && req.method === 'GET') {
    const pos = parsePosition(url.searchParams.get('stream_position') ?? 'now');
    if (chaosOnce('unknownMessage')) {
      return json(res, 200, { message: 'something_else' });
    }
    if (pos < events.length) return json(res, 200, { message: 'new_change' });
    let done = false;
    const finish = (msg) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      waiters.delete(wake);
      if (!res.writableEnded && !res.destroyed) json(res, 200, { message: msg });
    };
    const wake = () => finish('new_change');
    const timer = setTimeout(() => finish('reconnect'), HOLD_MS);
    waiters.add(wake);
    req.on('close', () => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        waiters.delete(wake);
      }
    });
    return;
  }

  json(res, 404, { type: 'error', status: 404, code: 'not_found', message: 'no route' });
});

server.listen(parseInt(process.env.PORT || '0', 10), '127.0.0.1', () => {
  port = server.address().port;
  process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
