// Organisation settings in the browser: an admin sets up an organisation
// (API account, inbox, template, team, agent, webhook), meets the API's
// words for a bad field, and an agent is shown a refusal and no data.
import { test } from 'node:test';
import assert from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const root = new URL('../../../../', import.meta.url).pathname;
const freePort = () => new Promise((ok) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });

async function signIn(p, base, email, password) {
  await p.goto(base + '/');
  await p.getByLabel('E-mail', { exact: true }).fill(email);
  await p.getByLabel('Password', { exact: true }).fill(password);
  await p.click('button[type=submit]');
  await p.waitForSelector('#nav a', { timeout: 10000 });
}

// tab opens a settings section by its link, as a person would.
async function tab(p, name) {
  await p.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name }).click();
  await p.waitForSelector(`#settings-title:text-is("${name}")`, { timeout: 10000 });
}

test('an admin sets up the organisation; an agent is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-e2e-settings-'));
  const bin = join(dir, 'boxwire');
  execFileSync('go', ['build', '-o', bin, './cmd/boxwire'], { cwd: root });
  const port = await freePort();
  const srv = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', join(dir, 'data')], { stdio: 'ignore' });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) { try { if ((await fetch(base + '/healthz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
    execFileSync(bin, ['user', 'add', '--data', join(dir, 'data'), '--email', 'ada@acme.test', '--password', 'correct horse',
      '--name', 'Ada Admin', '--org', 'Acme', '--role', 'admin']);
    const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const p = await b.newPage({ viewport: { width: 1100, height: 800 } });
      const errors = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await signIn(p, base, 'ada@acme.test', 'correct horse');
      await p.getByRole('link', { name: 'Settings' }).click();
      await p.waitForSelector('#settings-title:text-is("API accounts")');

      // A bad phone number: the API's words, after the field's label; the
      // field is marked and has the focus; nothing is created.
      await p.click('summary:has-text("New API account")');
      const newAccount = p.getByRole('form', { name: 'New API account' });
      await newAccount.getByLabel('Name', { exact: true }).fill('Lettings');
      await newAccount.getByLabel('Phone number', { exact: true }).fill('07902111100');
      await newAccount.getByRole('button', { name: 'Create API account' }).click();
      const err = newAccount.getByRole('alert');
      await err.waitFor();
      const words = await err.textContent();
      assert.match(words, /^Phone number: phoneNumber must be in international form/);
      assert.strictEqual(await newAccount.getByLabel('Phone number', { exact: true }).getAttribute('aria-invalid'), 'true');
      assert.strictEqual(await p.evaluate(() => document.activeElement.name), 'phoneNumber');
      assert.strictEqual(await p.locator('.settings-list .setting').count(), 0);

      // Corrected, from the keyboard: the field has the focus, Enter submits.
      await p.keyboard.press('Control+A');
      await p.keyboard.type('+447902111100');
      await p.keyboard.press('Enter');
      await p.waitForSelector('.settings-list h3:text-is("Lettings")');
      assert.match(await p.textContent('.settings-list'), /\+447902111100 · Sandbox/);

      // A sandbox account lets the admin make a contact write in.
      await p.click('summary[aria-label="Simulate an incoming message on Lettings"]');
      const inbound = p.getByRole('form', { name: 'Incoming message on Lettings' });
      await inbound.getByLabel('From (mobile number)', { exact: true }).fill('+447902111123');
      await inbound.getByLabel('Contact name', { exact: true }).fill('Jack');
      await inbound.getByLabel('Message', { exact: true }).fill('Is the flat still free?');
      await inbound.getByRole('button', { name: 'Receive it' }).click();
      await p.waitForSelector('#status:has-text("Message received on Lettings")');
      const contacts = await p.evaluate(async () => (await (await fetch('/contact')).json()).items.map((c) => `${c.name} ${c.mobileNumber} ${c.status}`));
      assert.deepStrictEqual(contacts, ['Jack +447902111123 Subscribed']);

      // A WhatsApp account needs its Cloud API settings: a missing one is
      // named; once given, its callback URL is shown, and an edit that
      // leaves the secrets empty keeps them.
      await p.click('summary:has-text("New API account")');
      await newAccount.getByLabel('Name', { exact: true }).fill('Support');
      await newAccount.getByLabel('Phone number', { exact: true }).fill('+447902111101');
      await newAccount.getByLabel('Channel', { exact: true }).selectOption('whatsapp');
      await newAccount.getByLabel('Phone number ID', { exact: true }).fill('106540352242923');
      await newAccount.getByRole('button', { name: 'Create API account' }).click();
      await p.waitForFunction(() => /Access token: a whatsapp account needs accessToken/.test(document.querySelector('form[aria-label="New API account"] [role=alert]').textContent));
      assert.strictEqual(await p.evaluate(() => document.activeElement.name), 'accessToken');
      await newAccount.getByLabel('Access token', { exact: true }).fill('EAA-token');
      await newAccount.getByLabel('App secret', { exact: true }).fill('app-secret');
      await newAccount.getByLabel('Verify token', { exact: true }).fill('verify me');
      await newAccount.getByRole('button', { name: 'Create API account' }).click();
      await p.waitForSelector('.settings-list h3:text-is("Support")');
      const support = p.locator('.settings-list li.setting', { has: p.locator('h3:text-is("Support")') });
      assert.match(await support.textContent(), /Meta callback URL: http:\/\/127\.0\.0\.1:\d+\/channels\/whatsapp\/[0-9a-f-]{36}/);
      assert.ok(!(await p.content()).includes('EAA-token'));
      await p.click('summary[aria-label="Edit Support"]');
      await p.getByRole('form', { name: 'Edit Support' }).getByLabel('Name', { exact: true }).fill('Support desk');
      await p.getByRole('form', { name: 'Edit Support' }).getByRole('button', { name: 'Save' }).click();
      await p.waitForSelector('.settings-list h3:text-is("Support desk")');

      // An inbox of that account.
      await tab(p, 'Inboxes');
      await p.click('summary:has-text("New inbox")');
      await p.getByRole('form', { name: 'New inbox' }).getByLabel('Name', { exact: true }).fill('Front desk');
      await p.getByRole('form', { name: 'New inbox' }).getByLabel('API account', { exact: true }).selectOption({ label: 'Lettings (+447902111100)' });
      await p.getByRole('button', { name: 'Create inbox' }).click();
      await p.waitForSelector('.settings-list h3:text-is("Front desk")');
      assert.match(await p.textContent('.settings-list'), /API account: Lettings/);

      // A template, Pending until the admin approves it (a sandbox account).
      await tab(p, 'Templates');
      await p.click('summary:has-text("New template")');
      const newTemplate = p.getByRole('form', { name: 'New template' });
      await newTemplate.getByLabel('API account', { exact: true }).selectOption({ label: 'Lettings (+447902111100)' });
      await newTemplate.getByLabel('Name', { exact: true }).fill('follow_up');
      await newTemplate.getByLabel('Text', { exact: true }).fill('Hi {{1}}, your flat is ready.');
      await newTemplate.getByLabel('Example', { exact: true }).fill('Hi [Jack], your flat is ready.');
      await p.getByRole('button', { name: 'Create template' }).click();
      await p.waitForSelector('.settings-list .status:text-is("Pending")');
      await p.click('summary[aria-label="Edit follow_up"]');
      const editTemplate = p.getByRole('form', { name: 'Edit follow_up' });
      await editTemplate.getByLabel('Status', { exact: true }).selectOption('Approved');
      await editTemplate.getByRole('button', { name: 'Save' }).click();
      await p.waitForSelector('.settings-list .status:text-is("Approved")');

      // An agent user.
      await tab(p, 'Users');
      await p.click('summary:has-text("New user")');
      const newUser = p.getByRole('form', { name: 'New user' });
      await newUser.getByLabel('First name', { exact: true }).fill('Bob');
      await newUser.getByLabel('Last name', { exact: true }).fill('Agent');
      await newUser.getByLabel('E-mail', { exact: true }).fill('bob@acme.test');
      await newUser.getByLabel('Password', { exact: true }).fill('battery staple');
      await newUser.getByLabel('Role', { exact: true }).selectOption('agent');
      await p.getByRole('button', { name: 'Create user' }).click();
      await p.waitForSelector('.settings-list h3:has-text("Bob Agent")');
      const bob = p.locator('.settings-list li', { has: p.locator('h3:has-text("Bob Agent")') });
      assert.match(await bob.textContent(), /agent/);
      assert.match(await bob.textContent(), /bob@acme\.test/);

      // A team with Bob and the account.
      await tab(p, 'Teams');
      await p.click('summary:has-text("New team")');
      const newTeam = p.getByRole('form', { name: 'New team' });
      await newTeam.getByLabel('Name', { exact: true }).fill('Lettings team');
      await newTeam.getByLabel('Description', { exact: true }).fill('Lets flats');
      await newTeam.getByRole('group', { name: 'Members' }).getByLabel('Bob Agent', { exact: true }).check();
      await newTeam.getByRole('group', { name: 'API accounts its members answer from' }).getByLabel('Lettings (+447902111100)').check();
      await p.getByRole('button', { name: 'Create team' }).click();
      await p.waitForSelector('.settings-list h3:text-is("Lettings team")');
      assert.match(await p.textContent('.settings-list'), /Members: Bob Agent/);
      assert.strictEqual(await p.textContent('.settings-list .meta:has-text("API accounts:")'), 'API accounts: Lettings');

      // A webhook to the operator's own network: refused in the API's words.
      await tab(p, 'Webhooks');
      await p.click('summary:has-text("New webhook")');
      const newHook = p.getByRole('form', { name: 'New webhook' });
      await newHook.getByLabel('Events', { exact: true }).selectOption('message');
      await newHook.getByLabel('Target URL', { exact: true }).fill('http://127.0.0.1:9/hook');
      await p.getByRole('button', { name: 'Create webhook' }).click();
      await newHook.getByRole('alert').waitFor();
      assert.match(await newHook.getByRole('alert').textContent(), /^Target URL: targetUrl must not reach the server's own network/);

      // A webhook outside: its secret is shown once, in words saying so.
      await newHook.getByLabel('Target URL', { exact: true }).fill('https://93.184.215.14/boxwire-hook');
      await p.getByRole('button', { name: 'Create webhook' }).click();
      await p.waitForSelector('.secret-card');
      const card = await p.textContent('.secret-card');
      assert.match(card, /Copy it now: it will not be shown again\./);
      const secret = await p.inputValue('.secret-card input');
      assert.match(secret, /^whsec_/);
      assert.strictEqual(await p.evaluate(() => document.activeElement.className), 'secret');
      assert.match(await p.textContent('.settings-list'), /https:\/\/93\.184\.215\.14\/boxwire-hook/);
      await p.screenshot({ path: join(root, 'docs/screenshots/settings.png'), fullPage: true });
      // Reloaded: the hook is listed, its secret nowhere.
      await p.reload();
      await p.waitForSelector('.settings-list h3:has-text("Messages")');
      assert.strictEqual(await p.locator('.secret-card').count(), 0);
      assert.ok(!(await p.content()).includes(secret));
      assert.ok(!(await p.content()).includes('whsec_'));
      // Disabled from its edit form; still no secret.
      await p.click('summary[aria-label="Edit webhook to https://93.184.215.14/boxwire-hook"]');
      const editHook = p.getByRole('form', { name: 'Edit webhook to https://93.184.215.14/boxwire-hook' });
      await editHook.getByLabel('Enabled', { exact: true }).uncheck();
      await editHook.getByRole('button', { name: 'Save' }).click();
      await p.waitForSelector('.settings-list .tag:text-is("disabled")');
      assert.ok(!(await p.content()).includes('whsec_'));

      // Delete asks first: dismissed, the inbox stays; accepted, it goes.
      await tab(p, 'Inboxes');
      p.once('dialog', (d) => d.dismiss());
      await p.getByRole('button', { name: 'Delete inbox Front desk' }).click();
      assert.strictEqual(await p.locator('.settings-list h3:text-is("Front desk")').count(), 1);
      p.once('dialog', (d) => { assert.match(d.message(), /Delete the inbox "Front desk"\?/); d.accept(); });
      await p.getByRole('button', { name: 'Delete inbox Front desk' }).click();
      await p.waitForSelector('.settings-list .empty:text-is("No inboxes yet.")');

      // A phone-sized screen: the settings fit its width.
      await p.setViewportSize({ width: 390, height: 844 });
      await tab(p, 'Teams');
      assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page is wider than a phone');
      assert.deepStrictEqual(errors, []);
      assert.ok(!(await p.textContent('#view')).includes('undefined'));

      // The agent signs in: no Settings link; #/settings directly shows
      // the refusal and fetches no settings.
      const ctx = await b.newContext();
      const q = await ctx.newPage();
      q.on('pageerror', (e) => errors.push(e.message));
      await signIn(q, base, 'bob@acme.test', 'battery staple');
      assert.strictEqual(await q.locator('#nav a', { hasText: 'Settings' }).count(), 0);
      const asked = [];
      q.on('request', (r) => asked.push(new URL(r.url()).pathname));
      await q.goto('about:blank');
      await q.goto(base + '/#/settings/webhooks');
      await q.waitForSelector('h1:text-is("Settings are for administrators")', { timeout: 10000 });
      assert.strictEqual(await q.locator('#nav a', { hasText: 'Settings' }).count(), 0);
      const shown = await q.textContent('#view');
      for (const leak of ['Lettings', '93.184.215.14', 'follow_up', 'whsec_']) assert.ok(!shown.includes(leak), `the agent sees ${leak}`);
      const settingsCalls = asked.filter((path) => /^\/(webhooks?|template|team|apiaccount|inbox(es)?)(\/|$)/.test(path));
      assert.deepStrictEqual(settingsCalls, []);
      // And the server refuses the agent the settings' own calls.
      const refused = await q.evaluate(async () => {
        const csrf = (await (await fetch('/csrf')).json()).csrf_token;
        const out = {};
        for (const [method, path] of [['GET', '/webhook'], ['POST', '/apiaccount'], ['POST', '/user']]) {
          out[`${method} ${path}`] = (await fetch(path, { method, headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
            body: method === 'GET' ? undefined : '{}' })).status;
        }
        return out;
      });
      assert.deepStrictEqual(refused, { 'GET /webhook': 403, 'POST /apiaccount': 403, 'POST /user': 403 });
      assert.deepStrictEqual(errors, []);
    } finally { await b.close(); }
  } finally { srv.kill(); }
});
