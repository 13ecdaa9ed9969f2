// Files in the agent inbox (issues 15.3, 16.3, 16.4): a sandbox contact
// sends a photo, which appears in the open conversation as an image
// without a reload; the agent attaches a PDF, which is delivered and
// downloads with the same bytes; a file WhatsApp does not take is refused
// in the server's words, next to the control, and nothing is sent.
import { test } from 'node:test';
import assert from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createServer as httpServer } from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { choosers } from './choosers.mjs';

const root = new URL('../../../../', import.meta.url).pathname;
const freePort = () => new Promise((ok) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });

// png draws a w×h RGB picture (a gradient), so the image shown has a size.
function png(w, hgt) {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(hgt, 4); ihdr[8] = 8; ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < hgt; y++) {
    const row = Buffer.alloc(1 + 3 * w);
    for (let x = 0; x < w; x++) row.set([40 + (x * 200) / w, 120, 40 + (y * 200) / hgt], 1 + 3 * x);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

async function signIn(base, username, password) {
  const res = await fetch(base + '/oauth/token', { method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Calling-Application': 'inbox-files-e2e' },
    body: JSON.stringify({ username, password }) });
  assert.strictEqual(res.status, 200, `sign-in of ${username}`);
  return (await res.json()).access_token;
}

// api is a bearer-token client of the messaging API; a FormData body goes
// as multipart.
function client(base, token) {
  return async (method, path, body, want) => {
    const multipart = body instanceof FormData;
    const r = await fetch(base + path, { method,
      headers: { Authorization: 'Bearer ' + token, ...(multipart ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : multipart ? body : JSON.stringify(body) });
    const text = await r.text();
    if (want !== undefined) assert.strictEqual(r.status, want, `${method} ${path}: ${text}`);
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
}

// serve builds and starts the real binary with its own data directory
// and an admin, Ada; it answers the base URL, Ada's client and a stop.
async function serve(dir, ...flags) {
  const bin = join(dir, 'boxwire');
  execFileSync('go', ['build', '-o', bin, './cmd/boxwire'], { cwd: root });
  const port = await freePort();
  const data = join(dir, 'data');
  const srv = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', data, ...flags], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) { try { if ((await fetch(base + '/healthz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
  execFileSync(bin, ['user', 'add', '--data', data, '--email', 'ada@acme.test', '--password', 'correct horse',
    '--name', 'Ada Admin', '--org', 'Acme', '--role', 'admin']);
  return { base, admin: client(base, await signIn(base, 'ada@acme.test', 'correct horse')), stop: () => srv.kill() };
}

// agentOn adds Bob, an agent in a team that has the account.
async function agentOn(admin, acc) {
  const bob = (await admin('POST', '/user', { firstName: 'Bob', lastName: 'Agent', email: 'bob@acme.test', password: 'battery staple', role: 'agent' }, 201)).body.userId;
  await admin('POST', '/team', { name: 'Lettings team', apiAccountIds: [acc], userIds: [bob] }, 201);
}

const launch = () => chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

// signInBob signs Bob in on the sign-in page and opens the inbox, once
// the live socket is on.
async function signInBob(p) {
  await p.getByLabel('E-mail').fill('bob@acme.test');
  await p.getByLabel('Password').fill('battery staple');
  await p.click('button[type=submit]');
  await p.click('#nav >> text=Inbox');
  await p.waitForSelector('#live[data-state=on]');
}

test('a contact sends a photo, the agent sends a PDF, and a file WhatsApp does not take is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-e2e-inbox-files-'));
  // Files up to 100 kB here, so that a too large one is quick to send.
  const { base, admin, stop } = await serve(dir, '--max-media-size', '100000');
  try {
    const acc = (await admin('POST', '/apiaccount', { name: 'Lettings', phoneNumber: '+447902111100', channel: 'sandbox' }, 201)).body.apiAccountId;
    await agentOn(admin, acc);
    const jack = '+447902111123';
    await admin('POST', `/apiaccount/${acc}/sandbox/inbound`, { mobileNumber: jack, name: 'Jack', message: 'Hi, can I see the flat?' }, 201);

    const b = await launch();
    try {
      const ctx = await b.newContext({ viewport: { width: 1280, height: 820 }, acceptDownloads: true });
      const p = await ctx.newPage();
      const nextChooser = choosers(p);
      const errors = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(base + '/');
      await p.getByLabel('E-mail').waitFor();
      // The refused files' 400 and 413 are expected (and shown; Chromium
      // logs them too); any other failed request or logged error is a bug.
      const refusals = [];
      const refusal = (status) => status === 400 || status === 413;
      p.on('console', (m) => { if (m.type() === 'error') (/status of 4(00|13)/.test(m.text()) ? refusals : errors).push(m.text()); });
      p.on('response', (r) => { if (r.status() >= 400) (r.url().endsWith('/message') && refusal(r.status()) ? refusals : errors).push(`${r.request().method()} ${r.url()} ${r.status()}`); });
      await signInBob(p);
      await p.click('#conv-list >> text=Jack');
      await p.waitForSelector('#messages >> text=Hi, can I see the flat?');

      // Jack sends a photo from his phone: it shows in the open
      // conversation as an image, loaded with the agent's session.
      const photo = png(160, 100);
      const form = new FormData();
      form.append('mobileNumber', jack);
      form.append('message', 'The damp patch in the bathroom');
      form.append('file', new Blob([photo], { type: 'image/png' }), 'bathroom.png');
      await admin('POST', `/apiaccount/${acc}/sandbox/inbound`, form, 201);
      const img = p.getByRole('img', { name: 'The damp patch in the bathroom' });
      await img.waitFor();
      await p.waitForFunction(() => { const i = document.querySelector('#messages figure.media img'); return i && i.complete && i.naturalWidth === 160; });
      await p.waitForSelector('#messages figure.media >> text=bathroom.png');
      await p.waitForSelector('#conv-list >> text=The damp patch in the bathroom');

      // The agent attaches a PDF with a caption: the sandbox delivers it
      // (ticks), and it downloads with the same bytes.
      const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
      // By keyboard: the control opens the chooser with Enter.
      await p.getByRole('button', { name: 'Attach a file' }).focus();
      const [chooser] = await Promise.all([nextChooser(), p.keyboard.press('Enter')]);
      await chooser.setFiles({ name: 'lease.pdf', mimeType: 'application/pdf', buffer: pdf });
      await p.waitForSelector(`.attached >> text=lease.pdf (${pdf.length} B)`);
      await p.getByLabel('Reply', { exact: true }).fill('The lease, as promised');
      // The upload shows its progress, named after the file.
      await p.evaluate(() => {
        const bar = document.querySelector('#reply progress');
        window.progressShown = [];
        new MutationObserver(() => { if (!bar.hidden) window.progressShown.push(bar.getAttribute('aria-label')); }).observe(bar, { attributes: true });
      });
      await p.keyboard.press('Enter');
      const sent = p.locator('#messages li.msg.mine', { hasText: 'The lease, as promised' });
      await sent.locator('.ticks[data-state=read]').waitFor({ timeout: 10000 });
      const link = sent.getByRole('link', { name: /Download lease\.pdf/ });
      await sent.locator(`text=(${pdf.length} B)`).waitFor();
      assert.ok((await p.evaluate(() => window.progressShown)).includes('Uploading lease.pdf'), 'no upload progress shown');
      const [download] = await Promise.all([p.waitForEvent('download'), link.click()]);
      assert.strictEqual(download.suggestedFilename(), 'lease.pdf');
      assert.deepStrictEqual(readFileSync(await download.path()), pdf);
      assert.strictEqual(await p.locator('.attached').textContent(), '', 'the file stays attached after it was sent');
      await p.waitForFunction(() => !document.getElementById('status').textContent, null, { timeout: 10000 });
      await p.screenshot({ path: join(dir, 'inbox-files.png') });

      // A ZIP file is not something WhatsApp takes: the server's words
      // show next to the control, and nothing is sent.
      const agent = client(base, await signIn(base, 'bob@acme.test', 'battery staple'));
      const count = async () => (await agent('GET', `/message?conversationId=${await p.evaluate(() => location.hash.split('/').pop())}&fromDate=2000-01-01`, undefined, 200)).body.items.length;
      const before = await count();
      const [zip] = await Promise.all([nextChooser(), p.getByRole('button', { name: 'Attach a file' }).click()]);
      await zip.setFiles({ name: 'photos.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x03\x04 not really a zip') });
      await p.getByLabel('Reply', { exact: true }).fill('All the photos');
      await p.click('#reply button[type=submit]');
      const refused = p.locator('.attach-error');
      await refused.filter({ hasText: 'photos.zip was not sent' }).waitFor();
      assert.match(await refused.textContent(), /application\/zip.*WhatsApp does not take/);
      assert.strictEqual(await refused.getAttribute('role'), 'alert');
      assert.strictEqual(await count(), before, 'a refused file was sent');
      assert.strictEqual(await p.locator('#messages >> text=All the photos').count(), 0);
      assert.strictEqual(await p.getByLabel('Reply', { exact: true }).inputValue(), 'All the photos', 'the caption is kept to try again');
      await p.screenshot({ path: join(dir, 'inbox-files-refused.png') });

      // Removing the file by keyboard clears the refusal.
      await p.getByRole('button', { name: 'Remove the file photos.zip' }).focus();
      await p.keyboard.press('Enter');
      assert.strictEqual(await refused.textContent(), '');

      // A file over the server's limit: its words again, nothing sent.
      const [big] = await Promise.all([nextChooser(), p.getByRole('button', { name: 'Attach a file' }).click()]);
      await big.setFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([pdf, Buffer.alloc(150000, 32)]) });
      await p.click('#reply button[type=submit]');
      await refused.filter({ hasText: 'scan.pdf was not sent: file is larger than the limit of 100000 bytes' }).waitFor();
      assert.strictEqual(await count(), before, 'a file over the limit was sent');
      assert.strictEqual(refusals.length, 4, refusals.join('; ')); // each response, and Chromium's log of it

      // On a phone, the reply box keeps the file, the refusal and both buttons in view.
      await p.setViewportSize({ width: 390, height: 780 });
      await p.locator('#reply').scrollIntoViewIfNeeded();
      await p.screenshot({ path: join(dir, 'inbox-files-phone.png') });

      assert.deepStrictEqual(errors, []);
      assert.ok(!(await p.textContent('body')).includes('undefined'));
      console.log('screenshots in', dir);
    } finally { await b.close(); }
  } finally { stop(); }
});

// Meta's side, faked as the Go tests do: the Graph API answers where a
// file is (and refuses one it no longer has), and its download waits
// until the test lets it go, so the file stays "pending" meanwhile.
test('a WhatsApp photo shows as being received until it is fetched; a file Meta no longer has says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-e2e-inbox-wa-'));
  const photo = png(120, 90);
  let release;
  const released = new Promise((ok) => { release = ok; });
  const graph = httpServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    const json = (status, v) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(v)); };
    if (req.headers.authorization !== 'Bearer wa-token') return json(401, { error: { message: 'Invalid OAuth access token', code: 190 } });
    if (u.pathname === '/v21.0/111') {
      return json(200, { url: `http://127.0.0.1:${graph.address().port}/download/111`, mime_type: 'image/png',
        sha256: createHash('sha256').update(photo).digest('hex'), file_size: photo.length, id: '111' });
    }
    if (u.pathname === '/download/111') {
      await released;
      res.writeHead(200, { 'Content-Type': 'image/png' });
      return res.end(photo);
    }
    if (u.pathname === '/v21.0/222') {
      return json(404, { error: { message: '(#131052) Media download error', type: 'OAuthException', code: 131052,
        error_data: { details: 'The media is no longer available' } } });
    }
    json(404, { error: { message: 'Unknown path', code: 100 } });
  });
  await new Promise((ok) => graph.listen(0, '127.0.0.1', ok));
  // The download URL Meta answers goes through the outbound guard: the
  // fake is on loopback, so the guard must allow it here.
  const { base, admin, stop } = await serve(dir, '--whatsapp-graph-url', `http://127.0.0.1:${graph.address().port}`, '--webhook-allow-private');
  try {
    const phoneNumberId = '106540352242922';
    const acc = (await admin('POST', '/apiaccount', { name: 'Lettings on WhatsApp', phoneNumber: '+447902111160', channel: 'whatsapp',
      phoneNumberId, accessToken: 'wa-token', verifyToken: 'wa-verify', appSecret: 'wa-secret' }, 201)).body.apiAccountId;
    await agentOn(admin, acc);
    let n = 0;
    const writeIn = async (message) => {
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp', metadata: { display_phone_number: '447902111160', phone_number_id: phoneNumberId },
        contacts: [{ profile: { name: 'Mia' }, wa_id: '447902111124' }],
        messages: [{ from: '447902111124', id: `wamid.HBgLMTIzNDU2Nzg5MBUCABIYFjNFQjBDMEE${n++}`, timestamp: String(Math.floor(Date.now() / 1000)), ...message }] } }] }] });
      const r = await fetch(`${base}/channels/whatsapp/${acc}`, { method: 'POST', body,
        headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': 'sha256=' + createHmac('sha256', 'wa-secret').update(body).digest('hex') } });
      assert.strictEqual(r.status, 200, await r.text());
    };
    await writeIn({ type: 'text', text: { body: 'I will send you a photo of the meter.' } });

    const b = await launch();
    try {
      const p = await (await b.newContext({ viewport: { width: 1280, height: 820 } })).newPage();
      const errors = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(base + '/');
      await p.getByLabel('E-mail').waitFor();
      p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      p.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.request().method()} ${r.url()} ${r.status()}`); });
      await signInBob(p);
      await p.click('#conv-list >> text=Mia');
      await p.waitForSelector('#messages >> text=I will send you a photo of the meter.');

      // The photo is announced at once, and shown once it is fetched,
      // in the same place, without a reload.
      await writeIn({ type: 'image', image: { id: '111', mime_type: 'image/png', sha256: createHash('sha256').update(photo).digest('hex'), caption: 'The meter' } });
      const item = p.locator('#messages li.msg', { hasText: 'The meter' });
      await item.locator('.media.pending', { hasText: 'Receiving the file…' }).waitFor();
      release();
      await item.getByRole('img', { name: 'The meter' }).waitFor();
      await p.waitForFunction(() => [...document.querySelectorAll('#messages figure.media img')].some((i) => i.complete && i.naturalWidth === 120));
      assert.strictEqual(await item.locator('.media.pending').count(), 0);

      // A file Meta no longer has: the message says so, with Meta's words.
      await writeIn({ type: 'document', document: { id: '222', mime_type: 'application/pdf', filename: 'meter-readings.pdf' } });
      const failed = p.locator('#messages .media.failed');
      await failed.waitFor({ timeout: 10000 });
      assert.match(await failed.textContent(), /The file meter-readings\.pdf \(a document\) could not be received: .*no longer available/);
      await p.screenshot({ path: join(dir, 'inbox-whatsapp-files.png') });
      assert.deepStrictEqual(errors, []);
      console.log('screenshots in', dir);
    } finally { await b.close(); }
  } finally { stop(); graph.close(); }
});
