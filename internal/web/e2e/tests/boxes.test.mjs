// The encrypted boxes in a real browser, against the real binary (built
// once for this file): two people hold a conversation with a file, the
// Go CLI reads and writes the same boxes, the server's data directory
// holds no plaintext and no key, the app is usable with the keyboard and
// on a phone, paints fast, refreshes its own session and refuses forged
// cross-site requests. The tests run in order and share the people.
import { after, before, test } from 'node:test';
import assert from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer as createHTTPServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { choosers } from './choosers.mjs';

const root = new URL('../../../../', import.meta.url).pathname;
const shots = join(root, 'docs/screenshots');
const password = 'correct horse';
const freePort = () => new Promise((ok) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });

// eventually polls fn until it returns a truthy value, or fails at the deadline.
async function eventually(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (err) { last = err; }
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms${last ? ` (${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'bw-e2e-'));
const bin = join(tmp, 'boxwire');
const servers = [];
let browser;

// serve starts the binary on a free port with its own data directory and
// the people of the scenario (verified, so access rules may name them).
async function serve(name, extra = [], people = [['al@x.test', 'Al'], ['bo@x.test', 'Bo'], ['cy@x.test', 'Cy']]) {
  const data = join(tmp, name);
  const port = await freePort();
  const proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', data, '--rate-limit', '0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  servers.push(proc);
  const base = `http://127.0.0.1:${port}`;
  await eventually(`${name} server up (${log})`, async () => (await fetch(base + '/healthz')).ok, 20000);
  for (const [email, display] of people) {
    execFileSync(bin, ['user', 'add', '--data', data, '--email', email, '--password', password, '--name', display]);
    execFileSync(bin, ['user', 'verify', '--data', data, '--email', email]);
  }
  return { base, data, proc };
}

let srv; // the main server
before(async () => {
  execFileSync('go', ['build', '-o', bin, './cmd/boxwire'], { cwd: root });
  srv = await serve('main');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
after(async () => {
  await browser?.close();
  for (const p of servers) p.kill();
});

// person opens a browser context (its own cookies and key store) and signs in.
async function person(base, email, { path = '/', ...opts } = {}) {
  const ctx = await browser.newContext({ acceptDownloads: true, ...opts });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(base + path);
  await signIn(page, email);
  return page;
}

async function signIn(page, email) {
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Sign out');
}

async function createBox(page, title, mode = 'limited') {
  await page.click('summary:has-text("New box")');
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Who may join').selectOption(mode);
  await page.click('text=Create box');
  await page.waitForSelector(`h2:has-text("${title}")`);
  return page.evaluate(() => location.hash.split('/')[2]);
}

async function send(page, text) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.keyboard.press('Enter');
  await page.locator('#events .msg.mine', { hasText: text }).waitFor();
}

const seen = (page, text) => page.locator('#events .msg', { hasText: text }).waitFor({ timeout: 20000 });

// The scenario's secrets, checked against the data directory at the end.
const secrets = { texts: [], files: [], keys: [] };
let al; let bo; let boxID; let link; let file;

test('15.5a two people hold an encrypted conversation with a file, live', async () => {
  al = await person(srv.base, 'al@x.test');
  boxID = await createBox(al, 'Plans');
  // Al lets anyone at x.test join, then hands out the link.
  await al.click('button:has-text("People and access")');
  await al.getByLabel('Rule', { exact: true }).selectOption('email_domain');
  await al.getByLabel('Address or domain').fill('x.test');
  await al.click('#box-extra button:has-text("Add")');
  await al.locator('#box-extra li', { hasText: 'anyone at @x.test' }).waitFor();
  await al.click('button:has-text("Invitation link")');
  link = await al.inputValue('#invite-link');
  assert.match(link, new RegExp(`^${srv.base}/boxes/${boxID}#[A-Za-z0-9_-]{43}$`));

  // Bo opens the link before signing in, signs in and joins.
  bo = await person(srv.base, 'bo@x.test', { path: link.slice(srv.base.length) });
  await bo.click('#join');
  await bo.waitForSelector('h2:has-text("Plans")');

  // No reload from here on: a marker on each window would vanish.
  for (const p of [al, bo]) await p.evaluate(() => { window.stayed = true; });
  const hello = 'Hello Bo, here are the plans for the next quarter.';
  await send(al, hello);
  await seen(bo, hello);
  // A screen reader hears it: the polite live region says who wrote what.
  await eventually('announced to Bo', async () => (await bo.textContent('#box-announce')).includes(`Al: ${hello}`));
  const reply = 'Thanks Al! Send the spreadsheet when it is ready.';
  await send(bo, reply);
  await seen(al, reply);
  secrets.texts.push(hello, reply);

  // Al attaches 3 MB; the upload progress bar shows and moves.
  file = Buffer.concat([Buffer.from('PLAINTEXT-FILE-MARKER quarterly numbers\n'), randomBytes(3 << 20)]);
  secrets.files.push(file);
  await al.evaluate(() => {
    window.progress = [];
    new MutationObserver((ms) => {
      for (const m of ms) if (m.target.matches('progress[aria-label="Upload progress"]')) window.progress.push({ hidden: m.target.hidden, value: m.target.value });
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['value', 'hidden'] });
  });
  await al.setInputFiles('#file-input', { name: 'plans.bin', mimeType: 'application/octet-stream', buffer: file });
  await al.locator('#events .msg.mine .file-name', { hasText: 'plans.bin' }).waitFor();
  const progress = await al.evaluate(() => window.progress);
  assert.ok(progress.some((p) => !p.hidden && p.value > 0), `the progress bar showed progress: ${JSON.stringify(progress)}`);
  assert.ok(await al.locator('progress[aria-label="Upload progress"]').isHidden(), 'the bar hides when done');

  // Bo gets the file live, downloads it, and has the same bytes.
  await bo.locator('#events .file-name', { hasText: 'plans.bin' }).waitFor();
  const [download] = await Promise.all([bo.waitForEvent('download'), bo.click('button[aria-label="Download plans.bin"]')]);
  assert.strictEqual(download.suggestedFilename(), 'plans.bin');
  assert.ok(Buffer.compare(readFileSync(await download.path()), file) === 0, 'the downloaded file has the bytes Al attached');

  for (const p of [al, bo]) assert.strictEqual(await p.evaluate(() => window.stayed), true, 'the page was not reloaded');
  // The keys the server must never see: the box's secret key, the link's share, the file's key.
  const k = await al.evaluate((id) => JSON.parse(localStorage.getItem(Object.keys(localStorage).find((s) => s.startsWith('boxwire.keys.'))))[id], boxID);
  assert.strictEqual(link.split('#')[1], k.shareOne);
  const fileKey = await al.evaluate(async ([id, sk]) => {
    const api = await import('/app/api.js');
    const c = await import('/app/crypto.js');
    const e = (await api.get(`/boxes/${id}/events`)).find((ev) => ev.type === 'msg.file');
    return c.fileInfo(sk, e.content.encrypted).encryption.fileKey;
  }, [boxID, k.secretKey]);
  secrets.keys.push(['box secret key', fromURL64(k.secretKey)], ['invitation share', fromURL64(k.shareOne)], ['file key', Buffer.from(fileKey, 'base64')]);
  const bk = await bo.evaluate((id) => JSON.parse(localStorage.getItem(Object.keys(localStorage).find((s) => s.startsWith('boxwire.keys.'))))[id], boxID);
  assert.strictEqual(bk.secretKey, k.secretKey, "Bo rebuilt the box's key from the link");
  for (const p of [al, bo]) assert.deepStrictEqual(p.errors, []);
});

const fromURL64 = (s) => Buffer.from(s, 'base64url');

test('15.5b the Go CLI reads what the browser wrote, and the browser what the CLI wrote', async () => {
  const cfg = join(tmp, 'cy-config');
  mkdirSync(cfg);
  const cli = (...args) => execFileSync(bin, [...args, '--config', cfg], { encoding: 'utf8', input: password + '\n', stdio: 'pipe', env: { ...process.env, BOXWIRE_PASSWORD: '' } });
  cli('login', '--server', srv.base, '--email', 'cy@x.test');
  assert.match(cli('box', 'join', link), /joined box "Plans"/);

  // Cy's terminal shows Al's and Bo's browser messages, and saves Al's file intact.
  const files = join(tmp, 'cy-files');
  mkdirSync(files);
  const out = cli('box', 'read', boxID, '--files', files);
  assert.ok(out.includes(`Al: ${secrets.texts[0]}`), out);
  assert.ok(out.includes(`Bo: ${secrets.texts[1]}`), out);
  assert.ok(Buffer.compare(readFileSync(join(files, 'plans.bin')), file) === 0, 'the CLI decrypted the browser\'s file');

  // What Cy writes in the terminal appears decrypted in both browsers, live.
  const fromCLI = 'Cy here, writing from the terminal: looks good to me.';
  cli('box', 'send', boxID, fromCLI);
  await seen(al, fromCLI);
  await seen(bo, fromCLI);
  assert.strictEqual(await al.locator('#events .msg', { hasText: fromCLI }).locator('.sender').textContent(), 'Cy');

  // A box made by the CLI opens in the browser from its invitation link.
  const made = cli('box', 'create', '--title', 'From the terminal');
  const cliLink = made.match(/invitation link: (\S+)/)[1];
  const cliBox = made.match(/: ([0-9a-f-]{36})\n/)[1];
  const inTerminal = 'Welcome to the open house, written with boxwire box send.';
  cli('box', 'send', cliBox, inTerminal);
  // Only Cy may join it (a limited box): Al opens the link and is refused in words.
  await al.goto(cliLink);
  await al.click('#join');
  await al.locator('#join-error', { hasText: 'You may not join this box' }).waitFor();
  assert.strictEqual(await al.evaluate((id) => Object.keys(localStorage).some((s) => s.startsWith('boxwire.keys.') && JSON.parse(localStorage.getItem(s))[id]), cliBox), false, 'no key kept');
  await al.goto(srv.base + '/');
  await al.waitForSelector('text=Sign out');
  // A public one (--public) Al joins and reads.
  const pub = cli('box', 'create', '--title', 'Open house', '--public');
  const pubLink = pub.match(/invitation link: (\S+)/)[1];
  const pubBox = pub.match(/: ([0-9a-f-]{36})\n/)[1];
  cli('box', 'send', pubBox, inTerminal);
  await al.goto(pubLink);
  await al.click('#join');
  await seen(al, inTerminal);
  // The CLI keeps one key file per box: keys/SERVER/IDENTITY/BOX.json.
  const session = JSON.parse(readFileSync(join(cfg, 'session.json'), 'utf8'));
  const [server] = readdirSync(join(cfg, 'keys'));
  for (const id of [cliBox, pubBox]) {
    const k = JSON.parse(readFileSync(join(cfg, 'keys', server, session.identity_id, id + '.json'), 'utf8'));
    secrets.keys.push(['CLI box secret key', fromURL64(k.secret_key)], ['CLI invitation share', fromURL64(k.share_one)]);
  }
  secrets.texts.push(fromCLI, inTerminal);
  await al.goto(srv.base + '/#/boxes/' + boxID);
  await seen(al, fromCLI);
  assert.deepStrictEqual(al.errors, []);
});

// accessibleName is what a screen reader would say for the focused element (near enough).
const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  const name = el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent;
  const s = getComputedStyle(el);
  return { name: (name || '').trim(), tag: el.tagName, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 };
});

// tabTo presses Tab until the element named `name` has focus, and checks
// that its focus is visible.
async function tabTo(page, name, max = 60) {
  const path = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    path.push(f.name.slice(0, 30));
    if (name instanceof RegExp ? name.test(f.name) : f.name === name) { assert.ok(f.outline, `${name} shows its focus`); return; }
  }
  throw new Error(`"${name}" is not reachable with Tab; went through: ${path.join(' | ')}`);
}

test('15.6 every box action is reachable with Tab and Enter, with a visible focus', async () => {
  const page = al;
  const nextChooser = choosers(page);
  await page.goto(srv.base + '/#/boxes');
  await page.waitForSelector('#box-list a');
  await page.focus('body');
  await tabTo(page, 'Skip to content');
  await tabTo(page, 'New box');
  await page.keyboard.press('Enter');
  await tabTo(page, 'Title');
  await page.keyboard.type('Keyboard only');
  await tabTo(page, 'Create box');
  await page.keyboard.press('Enter');
  await page.waitForSelector('h2:has-text("Keyboard only")');
  await tabTo(page, 'Message');
  await page.keyboard.type('typed without a mouse');
  await page.keyboard.press('Enter');
  await seen(page, 'typed without a mouse');
  await tabTo(page, 'Attach a file');
  await page.keyboard.press('Enter');
  const chooser = await nextChooser(async () => ` of Enter; focus was on "${(await focused(page)).name}"`);
  await chooser.setFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('keyboard file') });
  await page.locator('#events .file-name', { hasText: 'note.txt' }).waitFor();
  await page.focus('#box-title');
  await tabTo(page, 'Download note.txt');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  assert.strictEqual(readFileSync(await download.path(), 'utf8'), 'keyboard file');
  // Edit a message, then delete the file (confirming with Enter).
  await page.focus('#box-title');
  await tabTo(page, 'Edit this message');
  await page.keyboard.press('Enter');
  assert.strictEqual((await focused(page)).name, 'Edit message', 'focus moves into the edit field');
  await page.keyboard.press('End');
  await page.keyboard.type(', and edited');
  await tabTo(page, 'Save');
  await page.keyboard.press('Enter');
  await page.locator('#events .msg', { hasText: 'typed without a mouse, and edited' }).locator('.edited').waitFor();
  page.once('dialog', (d) => d.accept());
  await page.focus('#box-title');
  await tabTo(page, 'Delete the file note.txt');
  await page.keyboard.press('Enter');
  await page.locator('#events .deleted', { hasText: 'File deleted' }).waitFor();
  await page.focus('#box-title');
  await tabTo(page, 'Invitation link');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#invite-link');
  await page.focus('#box-title');
  await tabTo(page, 'People and access');
  await page.keyboard.press('Enter');
  await tabTo(page, 'Rule');
  await page.keyboard.press('ArrowDown');
  assert.strictEqual(await page.evaluate(() => document.activeElement.value), 'email_domain', 'the rule is chosen with the arrow keys');
  await tabTo(page, 'Address or domain');
  await page.keyboard.type('y.test');
  await tabTo(page, 'Add');
  await page.keyboard.press('Enter');
  await tabTo(page, 'Remove y.test');
  await page.keyboard.press('Enter');
  await page.locator('#box-extra li', { hasText: 'No rules' }).waitFor();
  // Another box from the list.
  await page.focus('summary');
  await tabTo(page, /^Plans/);
  await page.keyboard.press('Enter');
  await page.waitForSelector('h2:has-text("Plans")');
  secrets.texts.push('typed without a mouse, and edited');
  // Every control on the page has a name a screen reader can say.
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [role=button], [tabindex]')]
    .filter((el) => el.getClientRects().length && el.type !== 'file')
    .filter((el) => !(el.getAttribute('aria-label') || (el.labels && el.labels.length && el.labels[0].textContent.trim()) || el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 80)));
  assert.deepStrictEqual(unnamed, []);
  assert.deepStrictEqual(page.errors, []);
});

test('15.6 on a phone the list and an open box are one pane at a time, and nothing overflows', async () => {
  const page = await person(srv.base, 'bo@x.test', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const overflow = () => page.evaluate(() => document.scrollingElement.scrollWidth - innerWidth);
  // Bo's keys are in his other context; this phone opens the link again.
  await page.goto(link);
  await page.waitForSelector('#join');
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'join', 'the invitation focuses its Join button');
  assert.ok(await overflow() <= 0, `no horizontal overflow on the invitation (${await overflow()} px)`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('h2:has-text("Plans")');
  const long = 'The signed link: https://files.example.com/s?token=' + 'Q2xhcmlmeWluZ0EtTG9uZy1Ub2tlbi1UaGF0LURvZXMtTm90LUJyZWFrLUF0LUFsbA'.repeat(2);
  await send(page, long);
  secrets.texts.push(long);
  await page.goto(srv.base + '/#/boxes');
  await page.waitForSelector('#box-list a');
  assert.ok(await page.locator('.list-pane').isVisible(), 'the list shows');
  assert.ok(await page.locator('#box').isHidden(), 'no empty box pane beside or below the list');
  assert.ok(await overflow() <= 0, `no horizontal overflow on the list (${await overflow()} px)`);
  await page.click('summary:has-text("New box")');
  assert.ok(await overflow() <= 0, `no horizontal overflow with the new box form (${await overflow()} px)`);
  await page.screenshot({ path: join(tmp, 'box-phone-list.png') });
  await page.click('#box-list a:has-text("Plans")');
  await page.waitForSelector('h2:has-text("Plans")');
  assert.ok(await page.locator('.list-pane').isHidden(), 'the list hides when a box is open');
  assert.ok(await page.locator('a.back').isVisible(), 'a back link shows');
  assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'box-title', 'focus follows to the open box');
  await page.locator('#events .file-name', { hasText: 'plans.bin' }).waitFor();
  assert.ok(await overflow() <= 0, `no horizontal overflow in a box (${await overflow()} px)`);
  await page.evaluate(() => { for (const t of document.querySelectorAll('.toast')) t.textContent = ''; });
  await page.screenshot({ path: join(shots, 'box-phone.png') });
  await page.click('button:has-text("Invitation link")');
  assert.ok(await overflow() <= 0, `no horizontal overflow with the invitation link shown (${await overflow()} px)`);
  await page.click('button:has-text("People")');
  await page.locator('#box-extra li', { hasText: 'Cy' }).waitFor();
  assert.ok(await overflow() <= 0, `no horizontal overflow with the members shown (${await overflow()} px)`);
  // The same button closes its panel again.
  await page.click('button:has-text("People")');
  assert.strictEqual(await page.locator('#box-extra').textContent(), '');
  assert.strictEqual(await page.getAttribute('button:has-text("People")', 'aria-expanded'), 'false');
  await page.click('a.back');
  await page.waitForSelector('#box-list a');
  assert.ok(await page.locator('#box').isHidden());
  assert.deepStrictEqual(page.errors, []);
  await page.context().close();
});

test('15.5d the README screenshot: a conversation with a file', async () => {
  await al.setViewportSize({ width: 1200, height: 900 });
  await al.goto(srv.base + '/#/boxes/' + boxID);
  await al.locator('#events .file-name', { hasText: 'plans.bin' }).waitFor();
  await eventually('the live indicator', async () => (await al.textContent('#live')) === 'live');
  await al.evaluate(() => { for (const t of document.querySelectorAll('.toast')) t.textContent = ''; });
  await al.screenshot({ path: join(shots, 'box.png') });
});

// A live update redraws the list: what Al is on must not go away under him.
// (After the README screenshot: its lines are not for the screenshot.)
test('15.6 a live message from someone else leaves focus, and an edit being typed, where they were', async () => {
  for (const p of [al, bo]) {
    await p.goto(`${srv.base}/#/boxes/${boxID}`);
    await p.waitForSelector('h2:has-text("Plans")');
    await p.locator('#events .file-name', { hasText: 'plans.bin' }).waitFor();
  }
  await al.focus('button[aria-label="Download plans.bin"]');
  // The new message is drawn from its frame: Al's page does not read the
  // whole box again for it (a long box would cost a long read per message).
  const reads = [];
  const count = (r) => { if (r.method() === 'GET' && new URL(r.url()).pathname === `/boxes/${boxID}/events`) reads.push(r.url()); };
  al.on('request', count);
  const first = 'A first line while Al is on his file';
  await send(bo, first);
  await seen(al, first);
  al.off('request', count);
  assert.deepStrictEqual(reads, [], 'the box was not read again for a live message');
  assert.strictEqual((await focused(al)).name, 'Download plans.bin', 'focus stays on the button');
  const [download] = await Promise.all([al.waitForEvent('download'), al.keyboard.press('Enter')]);
  assert.strictEqual(download.suggestedFilename(), 'plans.bin', 'and Enter still downloads');

  const mine = al.locator('#events .msg.mine', { hasText: secrets.texts[0] });
  await mine.locator('button[aria-label="Edit this message"]').click();
  await al.keyboard.press('End');
  await al.keyboard.type(' (draft)');
  const second = 'A second line while Al is editing';
  await send(bo, second);
  await seen(al, second);
  const f = await focused(al);
  assert.strictEqual(f.name, 'Edit message', 'focus stays in the edit field');
  assert.ok((await al.evaluate(() => document.activeElement.value)).endsWith(' (draft)'), 'what Al typed is still there');
  await mine.locator('button:has-text("Save")').click();
  await mine.locator('.edited').waitFor();
  secrets.texts.push(first, second);
  for (const p of [al, bo]) assert.deepStrictEqual(p.errors, []);
});

test('15.6 the first contentful paint comes within a second', async (t) => {
  // The machine running the tests is shared: the best of three cold loads
  // (each in a fresh context, so nothing is cached) measures the page,
  // not a neighbour's burst of work.
  const loads = [];
  let page;
  for (let i = 0; i < 3; i++) {
    await page?.context().close();
    page = await (await browser.newContext()).newPage();
    await page.goto(srv.base + '/');
    await page.getByLabel('E-mail').waitFor();
    loads.push(await eventually('paint entries', () => page.evaluate(() => {
      const e = Object.fromEntries(performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]));
      return e['first-contentful-paint'] ? e : null;
    })));
    if (loads.at(-1)['first-contentful-paint'] < 1000) break;
  }
  const best = loads.reduce((a, b) => (b['first-contentful-paint'] < a['first-contentful-paint'] ? b : a));
  t.diagnostic(`paint timings (ms): ${JSON.stringify(loads)}`);
  assert.ok(best['first-paint'] < 1000, `first paint at ${best['first-paint']} ms`);
  assert.ok(best['first-contentful-paint'] < 1000, `first contentful paint at ${best['first-contentful-paint']} ms`);
  // Signing in and out needs no mouse either; a wrong password is said in words.
  await page.keyboard.type('al@x.test');
  await page.keyboard.press('Tab');
  await page.keyboard.type('wrong password');
  await page.keyboard.press('Enter');
  await eventually('the refusal in words', async () => /\w+ \w+/.test(await page.textContent('#alert')));
  await page.getByLabel('Password').fill('');
  await page.getByLabel('Password').focus();
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('text=Sign out');
  await page.focus('body');
  await tabTo(page, 'Sign out');
  await page.keyboard.press('Enter');
  await page.waitForSelector('text=You are signed out.');
  await page.context().close();
});

test('15.6 the session refreshes itself past the access token lifetime', async () => {
  const short = await serve('short-ttl', ['--access-ttl', '5s'], [['al@x.test', 'Al'], ['bo@x.test', 'Bo']]);
  const page = await person(short.base, 'al@x.test');
  const started = Date.now();
  const cookie = async () => (await page.context().cookies()).find((c) => c.name === 'accesstoken')?.value;
  const first = await cookie();
  assert.ok(first, 'signed in with the access cookie');
  const id = await createBox(page, 'Short lived', 'public');
  await page.evaluate(() => { window.stayed = true; });
  // Wait past the lifetime, until the app has swapped the cookie for a new one.
  await eventually('a refreshed access cookie', async () => Date.now() - started > 7000 && (await cookie()) && (await cookie()) !== first, 20000);
  await send(page, 'still signed in after the token expired');
  assert.ok(await page.locator('text=Sign in to Boxwire').isHidden(), 'not sent back to sign in');
  // Live updates came back on the new token: Bo writes from a terminal, the page shows it.
  await page.click('button:has-text("Invitation link")');
  const invite = await page.inputValue('#invite-link');
  const cfg = join(tmp, 'bo-short');
  mkdirSync(cfg);
  const cli = (...args) => execFileSync(bin, [...args, '--config', cfg], { encoding: 'utf8', input: password + '\n', stdio: 'pipe', env: { ...process.env, BOXWIRE_PASSWORD: '' } });
  cli('login', '--server', short.base, '--email', 'bo@x.test');
  cli('box', 'join', invite);
  cli('box', 'send', id, 'Bo writes to a refreshed session');
  await seen(page, 'Bo writes to a refreshed session');
  assert.strictEqual(await page.evaluate(() => window.stayed), true, 'the page was not reloaded');
  assert.deepStrictEqual(page.errors, []);
  await page.context().close();
});

test('15.6 a forged cross-site request with the victim\'s cookies changes nothing', async () => {
  // Another origin (another port: same site, so SameSite=Lax cookies go along) posts to the API.
  const evil = createHTTPServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><form id=f method=POST action="${srv.base}/boxes" enctype="text/plain">
<input name='{"title":"Forged","public_key":"x","access_mode":"public","x":"' value='"}'></form>
<script>fetch(${JSON.stringify(srv.base)} + '/boxes', { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{"title":"Forged by fetch"}' })
  .finally(() => document.getElementById('f').submit());</script>`);
  });
  await new Promise((ok) => evil.listen(0, '127.0.0.1', ok));
  try {
    const page = await al.context().newPage();
    const answer = page.waitForResponse((r) => r.url() === `${srv.base}/boxes` && r.request().method() === 'POST' && r.request().resourceType() === 'document');
    await page.goto(`http://127.0.0.1:${evil.address().port}/`);
    const r = await answer;
    assert.strictEqual(r.status(), 403, 'the forged form post is refused');
    assert.ok((await r.request().allHeaders()).cookie?.includes('accesstoken'), 'the browser did send the victim\'s cookies');
    const titles = await al.evaluate(async () => (await (await import('/app/api.js')).get('/boxes/joined?limit=100')).map((b) => b.title));
    assert.ok(!titles.some((t) => t.startsWith('Forged')), `no forged box: ${titles}`);
    await page.close();
  } finally { evil.close(); }
});

// encodings lists the forms in which bytes could sit in a file: as they
// are, hex, and standard and URL base64 at each of the three alignments a
// longer encoded value could place them at (the characters that mix with
// neighbouring bytes are left out).
function encodings(b) {
  const out = [b, Buffer.from(b.toString('hex')), Buffer.from(b.toString('hex').toUpperCase())];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), b]);
    const drop = [0, 2, 3][shift];
    for (const enc of ['base64', 'base64url']) {
      const s = padded.toString(enc).replace(/=+$/, '');
      out.push(Buffer.from(s.slice(drop, s.length - 3)));
    }
  }
  return out;
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('15.5c after it all, the data directory holds no message text, file content or key', async () => {
  const stored = filesUnder(srv.data).filter((p) => !p.endsWith('secret.key'));
  assert.ok(stored.some((p) => p.endsWith('-wal')), `the SQLite WAL is among the files searched: ${stored}`);
  assert.ok(stored.some((p) => p.includes('/files/')), `the blobs are among the files searched: ${stored}`);
  const contents = stored.map((p) => [p, readFileSync(p)]);
  const found = (needle) => contents.filter(([, c]) => c.includes(needle)).map(([p]) => p);
  // The search works: what the server does store in clear is found.
  assert.ok(found(Buffer.from('Open house')).length > 0, 'a box title is found');
  const serverShare = await al.evaluate(async (id) => {
    const c = await import('/app/crypto.js');
    const keys = JSON.parse(localStorage.getItem(Object.keys(localStorage).find((s) => s.startsWith('boxwire.keys.'))))[id];
    return (await (await import('/app/api.js')).get('/box-key-shares/' + encodeURIComponent(c.shareHash(keys.shareOne)))).share;
  }, boxID);
  assert.ok(encodings(Buffer.from(serverShare, 'base64')).slice(3).some((e) => found(e).length > 0), "the server's own key share is found in base64");

  const leaks = [];
  const check = (what, b) => { for (const e of encodings(b)) for (const p of found(e)) leaks.push(`${what} in ${p}`); };
  for (const t of secrets.texts) check(`message "${t}"`, Buffer.from(t));
  for (const f of secrets.files) { check('file marker', f.subarray(0, 40)); check('file bytes', f.subarray(1000, 1064)); }
  for (const [what, k] of secrets.keys) { assert.strictEqual(k.length, 32, what); check(what, k); }
  assert.ok(secrets.texts.length >= 4 && secrets.keys.length >= 7, 'the scenario collected its secrets');
  assert.deepStrictEqual(leaks, []);
});
