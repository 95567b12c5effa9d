// Drives the browser example in headless Chromium (playwright-core, the
// system's browser) against a running Parley, and asserts that the page shows
// the message it sent and the reply it received live in the dialog's history. examples/run.sh runs it with
// the server's address in the environment:
//
//   PARLEY_API_URL PARLEY_CHAT_URL PARLEY_DOMAIN PARLEY_APP_ID PARLEY_AUTH_KEY
//   PARLEY_CHROMIUM   the browser (default /usr/bin/chromium)
//   PARLEY_ARTIFACTS  where a failure leaves its screenshot and the page's
//                     console (default: a new temp dir, printed)
//
// Exit status 0 when the page shows the history, 1 otherwise. Every wait is bounded.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { serve } = require('./serve.js');

const PAGE_TIMEOUT_MS = 60000;

function env(name, fallback) {
  const v = process.env[name] || fallback;
  if (v === undefined) {
    console.error(`check.js: ${name} is not set (examples/run.sh sets it)`);
    process.exit(2);
  }
  return v;
}

async function main() {
  const text = `hello from chromium ${Date.now().toString(36)}`;
  const query = new URLSearchParams({
    apiUrl: env('PARLEY_API_URL'),
    chatUrl: env('PARLEY_CHAT_URL'),
    domain: env('PARLEY_DOMAIN', 'localhost'),
    appId: env('PARLEY_APP_ID'),
    authKey: env('PARLEY_AUTH_KEY'),
    text,
    autorun: '1',
  });

  const server = await serve(); // the page on its own origin (another port than Parley's)
  const url = `http://127.0.0.1:${server.address().port}/index.html?${query}`;
  const consoleLines = [];
  let browser;
  let page;
  try {
    browser = await chromium.launch({
      executablePath: env('PARLEY_CHROMIUM', '/usr/bin/chromium'),
      headless: true,
      args: ['--no-sandbox'], // CI runs as root, where Chromium's sandbox cannot start
      timeout: 30000,
    });
    page = await browser.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.stack || e.message}`));
    page.on('requestfailed', (r) => consoleLines.push(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));

    console.log(`page: ${url.replace(/authKey=[^&]*/, 'authKey=…')}`);
    await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    await page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: PAGE_TIMEOUT_MS });

    const state = await page.getAttribute('body', 'data-state');
    const steps = await page.locator('#log li').allTextContents();
    for (const s of steps) console.log(`page: ${s}`);
    if (state !== 'done') throw new Error('the page reports a failure (see its steps above)');

    const history = await page.locator('#history li').allTextContents();
    console.log(`page history: ${JSON.stringify(history)}`);
    // date_sent has one-second resolution: both may share a second, so the
    // order is not asserted, only that the history is exactly these two.
    const want = [`me: ${text}`, `friend: got "${text}"`];
    if (history.length !== 2 || !want.every((w) => history.includes(w))) {
      throw new Error(`the page's history is ${JSON.stringify(history)}, expected ${JSON.stringify(want)}`);
    }
    console.log('browser example: the page logged in, connected chat, sent a message, received the reply live '
      + 'and shows both in the history');
  } catch (err) {
    const dir = process.env.PARLEY_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'parley-browser-'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'console.txt'), consoleLines.join('\n') + '\n');
    if (page) await page.screenshot({ path: path.join(dir, 'page.png'), fullPage: true, timeout: 10000 }).catch(() => {});
    console.error(`check.js: ${err.message}`);
    console.error(`check.js: page console (also in ${dir}/console.txt; screenshot ${dir}/page.png):`);
    for (const l of consoleLines.slice(-40)) console.error(`  ${l}`);
    process.exitCode = 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    server.close();
  }
}

main();
