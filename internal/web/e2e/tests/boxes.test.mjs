// The first browser scenario: a person signs in, creates an encrypted box
// and writes in it; `boxwire box` is not used yet (see the report).
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

test('a person creates an encrypted box and writes in it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-e2e-'));
  const bin = join(dir, 'boxwire');
  execFileSync('go', ['build', '-o', bin, './cmd/boxwire'], { cwd: root });
  const port = await freePort();
  const srv = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', join(dir, 'data')], { stdio: 'ignore' });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) { try { if ((await fetch(base + '/healthz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
    execFileSync(bin, ['user', 'add', '--data', join(dir, 'data'), '--email', 'al@x.test', '--password', 'correct horse', '--name', 'Al']);
    const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const p = await b.newPage();
      const errors = [];
      p.on('pageerror', (e) => errors.push(e.message));
      await p.goto(base + '/');
      await p.getByLabel('E-mail').fill('al@x.test');
      await p.getByLabel('Password').fill('correct horse');
      await p.click('button[type=submit]');
      await p.click('summary');
      await p.getByLabel('Title').fill('Plans');
      await p.click('text=Create box');
      await p.getByLabel('Message', { exact: true }).fill('hello from the browser');
      await p.click('button:has-text("Send")');
      await p.waitForSelector('text=hello from the browser', { timeout: 10000 });
      await p.screenshot({ path: join(root, 'docs/screenshots/box.png') });
      assert.deepStrictEqual(errors, []);
      assert.ok(!(await p.textContent('#events')).includes('undefined'));
    } finally { await b.close(); }
  } finally { srv.kill(); }
});
