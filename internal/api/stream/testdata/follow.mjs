// follow.mjs — follow a Box-compatible event stream with the OFFICIAL Box
// TypeScript SDK (box-typescript-sdk-gen, pinned in package.json) and report
// what it delivered. Run by the Go test as `node follow.mjs` (after `npm ci`).
//
// Environment:
//   BOX_BASE_URL    server ROOT, e.g. http://127.0.0.1:8080 (the SDK itself
//                   appends "/2.0/events"; a trailing "/" or "/2.0" is stripped)
//   BOX_TOKEN       bearer access token (sent as "Authorization: Bearer <t>")
//   EXPECT          number of distinct events (by event_id) to collect
//   TIMEOUT_MS      overall deadline (default 30000)
// Optional:
//   STREAM_POSITION initial stream_position (default "now")
//   STREAM_TYPE     stream_type query parameter (default: not sent => server default "all")
//   LIMIT           limit query parameter (default: not sent => server default 100)
//   LINGER_MS       keep following this long after EXPECT is reached, to catch
//                   extra/duplicate deliveries (default 0)
//   DEBUG           "1" = log every HTTP request/response the SDK makes to stderr
//
// Output on success (exit 0): exactly ONE JSON line on stdout:
//   {"events":[{"event_id","event_type","type","created_by","created_at",
//               "recorded_at","session_id","source"},...],   // SDK-parsed view, arrival order
//    "duplicates": <event_ids delivered to the consumer more than once>,
//    "raw_duplicates": <event_ids the server sent in more than one GET page>,
//    "extra": <distinct events delivered after EXPECT was reached (same page or LINGER_MS)>,
//    "missing_event_id": <delivered events without an event_id (cannot be deduped)>,
//    "errors": [<distinct messages of 'error' events the SDK emitted (max 20)>],
//    "error_count": <total 'error' events>,   // 0 for a healthy server
//    "requests": {"GET /2.0/events":n,"OPTIONS /2.0/events":n,"GET realtime":n},
//    "elapsed_ms": n}
// stderr, always: a line "READY stream_position=<p>" once the SDK's first
// GET /2.0/events has succeeded (with "now", events written after this line
// are guaranteed to be delivered; events written before it may not be).
// On timeout or fatal error: message (and the partial report) on stderr, exit 1.

import { BoxClient, BoxDeveloperTokenAuth } from 'box-typescript-sdk-gen';

const T0 = Date.now();
const env = process.env;

function die(msg, partial) {
  process.stderr.write(`follow.mjs: ${msg}\n`);
  if (partial) process.stderr.write(`follow.mjs: partial report: ${JSON.stringify(partial)}\n`);
  process.exit(1);
}

let base = (env.BOX_BASE_URL || '').trim();
if (!base) die('BOX_BASE_URL is required (server root, e.g. http://127.0.0.1:8080)');
base = base.replace(/\/+$/, '').replace(/\/2\.0$/, ''); // SDK appends "/2.0/events" itself
const token = env.BOX_TOKEN;
if (!token) die('BOX_TOKEN is required');
const expect = Number.parseInt(env.EXPECT ?? '', 10);
if (!Number.isInteger(expect) || expect < 0) die('EXPECT must be a non-negative integer');
const timeoutMs = Number.parseInt(env.TIMEOUT_MS || '30000', 10);
const lingerMs = Number.parseInt(env.LINGER_MS || '0', 10);
const debug = env.DEBUG === '1';

const dbg = (...a) => {
  if (debug) process.stderr.write(`[follow +${Date.now() - T0}ms] ${a.join(' ')}\n`);
};

// ---- bookkeeping ---------------------------------------------------------
const events = []; // SDK-parsed events, arrival order (first delivery only)
const seen = new Map(); // event_id -> deliveries to the consumer
let noIdCount = 0;
const rawSeen = new Map(); // event_id -> number of GET pages that carried it
const errors = new Map(); // distinct SDK 'error' messages -> count
let errorCount = 0;
const requests = { 'GET /2.0/events': 0, 'OPTIONS /2.0/events': 0, 'GET realtime': 0 };
let ready = false;
let lastError = '';
let reachedAt = 0;
let extra = 0;

const eventsPath = /\/2\.0\/events(\?|$)/;

// Interceptors see every request/response of the SDK's network client
// (including the EventStream's realtime long poll). Used for the READY line,
// raw duplicate accounting and DEBUG tracing; they never modify anything.
const interceptor = {
  beforeRequest(options) {
    const isEvents = eventsPath.test(options.url);
    const key = isEvents ? `${options.method} /2.0/events` : `${options.method} realtime`;
    if (key in requests) requests[key]++;
    if (debug) {
      const q = options.params && Object.keys(options.params).length ? '?' + new URLSearchParams(options.params) : '';
      dbg('->', options.method, options.url + q);
    }
    return options;
  },
  afterRequest(response) {
    const d = response.data;
    if (debug) dbg('<-', response.status, response.url, JSON.stringify(d ?? null).slice(0, 300));
    if (
      response.status === 200 &&
      d && typeof d === 'object' && !Array.isArray(d) &&
      'next_stream_position' in d
    ) {
      if (!ready) {
        ready = true;
        process.stderr.write(`READY stream_position=${d.next_stream_position}\n`);
        if (expect === 0) setImmediate(finish);
      }
      if (Array.isArray(d.entries)) {
        for (const e of d.entries) {
          if (e && typeof e.event_id === 'string') rawSeen.set(e.event_id, (rawSeen.get(e.event_id) || 0) + 1);
        }
      }
    }
    return response;
  },
};

// ---- the official client -------------------------------------------------
const auth = new BoxDeveloperTokenAuth({ token });
const client = new BoxClient({ auth })
  .withCustomBaseUrls({ baseUrl: base, uploadUrl: `${base}/api`, oauth2Url: `${base}/api/oauth2` })
  .withInterceptors([interceptor]);

const queryParams = { streamPosition: env.STREAM_POSITION || 'now' };
if (env.STREAM_TYPE) queryParams.streamType = env.STREAM_TYPE;
if (env.LIMIT) queryParams.limit = Number.parseInt(env.LIMIT, 10);

const stream = client.events.getEventStream(queryParams);

// ---- output helpers ------------------------------------------------------
const iso = (dt) => {
  const v = dt && dt.value;
  return v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : dt === undefined ? undefined : null;
};
const view = (e) => ({
  event_id: e.eventId,
  event_type: e.eventType,
  type: e.type,
  created_by: e.createdBy
    ? { type: e.createdBy.type, id: e.createdBy.id, name: e.createdBy.name, login: e.createdBy.login }
    : undefined,
  created_at: iso(e.createdAt), // null => the SDK could not parse the date
  recorded_at: iso(e.recordedAt),
  session_id: e.sessionId,
  source: e.source,
});
const report = () => ({
  events,
  duplicates: [...seen.values()].filter((n) => n > 1).length,
  raw_duplicates: [...rawSeen.values()].filter((n) => n > 1).length,
  extra,
  missing_event_id: noIdCount,
  errors: [...errors.keys()],
  error_count: errorCount,
  requests,
  elapsed_ms: Date.now() - T0,
});

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  clearTimeout(deadline);
  stream.destroy(); // aborts the in-flight request; the SDK may still emit one 'error' (kept handled below)
  const line = JSON.stringify(report()) + '\n';
  process.stdout.write(line, () => process.exit(0));
}

const deadline = setTimeout(() => {
  if (finished) return;
  finished = true;
  stream.destroy();
  const last = lastError ? `; ${errorCount} SDK error event(s), last: ${lastError}` : '';
  die(`timeout after ${timeoutMs}ms: got ${seen.size}/${expect} distinct events (ready=${ready})${last}`, report());
}, timeoutMs);

// ---- consume: 'data' events (NOT for-await: the SDK emits 'error' for
// transient failures and keeps going; an async iterator would abort on it) --
stream.on('error', (err) => {
  const msg = `${err && err.name}: ${err && err.message}`.slice(0, 500);
  dbg('SDK error event:', msg);
  if (finished) return; // destroy() makes the SDK emit one last abort-related error
  errorCount++;
  if (errors.has(msg) || errors.size < 20) errors.set(msg, (errors.get(msg) || 0) + 1);
  lastError = msg;
});
stream.on('data', (e) => {
  if (finished) return;
  const id = e && e.eventId;
  if (typeof id === 'string' && id !== '') {
    const n = (seen.get(id) || 0) + 1;
    seen.set(id, n);
    if (n > 1) return; // counted in duplicates
  } else {
    noIdCount++;
  }
  if (reachedAt) {
    extra++;
  }
  events.push(view(e));
  const distinct = seen.size + noIdCount;
  if (!reachedAt && distinct >= expect) {
    reachedAt = Date.now();
    if (lingerMs > 0) setTimeout(finish, lingerMs);
    else setImmediate(finish);
  }
});
stream.on('end', () => dbg('stream ended'));

process.on('unhandledRejection', (err) => {
  if (!finished) die(`unhandled rejection: ${err && err.stack ? err.stack : err}`, report());
});
