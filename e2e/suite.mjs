// The end-to-end steps: ConnectyCube's chat widget (page/, built by Vite) in
// headless Chromium as "Alice", against a real Parley; "Bobby" and "Carol" are
// the official SDK in this Node process. Each step asserts what the page
// shows and what the SDK user receives. Run by run.sh, which sets:
//   E2E_PAGE_URL   where the built page is served (another origin than Parley)
//   E2E_API        Parley's REST listener as host:port (TLS)
//   E2E_DOMAIN     Parley's XMPP domain
//   E2E_APP_ID, E2E_AUTH_KEY, E2E_CA (the certificate Parley serves), E2E_ARTIFACTS
// Every wait is bounded; a failed step saves a screenshot, and the page's
// console is saved at the end, under E2E_ARTIFACTS.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Peer, widgetCredentials, withTimeout } from './peer.js';
import { makePng } from './png.js';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run e2e/run.sh`);
  return v;
};
const PAGE_URL = env('E2E_PAGE_URL');
const API = env('E2E_API');
const DOMAIN = env('E2E_DOMAIN');
const APP_ID = Number(env('E2E_APP_ID'));
const AUTH_KEY = env('E2E_AUTH_KEY');
const ARTIFACTS = env('E2E_ARTIFACTS');

const STEP_MS = 45_000; // bound of one step
const UI_MS = 10_000; // bound of one wait for the page
const target = { apiUrl: `https://${API}`, chatUrl: `wss://${API}/ws`, domain: DOMAIN, appId: APP_ID, authKey: AUTH_KEY };
const run = Math.random().toString(36).slice(2, 8);

// What the widget needs to reach Parley: endpoints.api (https, the SDK
// prepends https://), endpoints.chat (the XMPP domain) and endpoints.chat_url
// (the WebSocket); see the README's widget section.
function pageUrl(userId, userName) {
  const q = new URLSearchParams({
    api: API,
    chat: DOMAIN,
    chat_url: `wss://${API}/ws`,
    appId: String(APP_ID),
    authKey: AUTH_KEY,
    userId,
    userName,
  });
  return `${PAGE_URL}/?${q}`;
}

// ---- the page's side -------------------------------------------------------

const consoleLines = [];
const browser = await chromium.launch({
  executablePath: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // Parley serves a self-signed certificate made by run.sh for this run.
  args: ['--ignore-certificate-errors', '--no-sandbox'],
  timeout: 30_000,
});
const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
context.setDefaultTimeout(UI_MS);
const page = await context.newPage();
page.on('console', (m) => consoleLines.push(`[${new Date().toISOString()}] ${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => consoleLines.push(`[${new Date().toISOString()}] pageerror: ${e.stack ?? e}`));
// The page's XMPP traffic, frame by frame, for the artifacts.
const wsFrames = [];
page.on('websocket', (ws) => {
  const at = () => new Date().toISOString();
  ws.on('framesent', (f) => wsFrames.push(`[${at()}] SENT ${f.payload}`));
  ws.on('framereceived', (f) => wsFrames.push(`[${at()}] RECV ${f.payload}`));
  ws.on('close', () => wsFrames.push(`[${at()}] CLOSED ${ws.url()}`));
});
const restCalls = [];
page.on('response', (r) => {
  if (!r.url().startsWith(PAGE_URL)) restCalls.push({ method: r.request().method(), url: r.url(), status: r.status() });
});

// Playwright's locators pierce the widget's shadow root.
/** An element whose whole text is `text`, anywhere in the widget (the user's own name in the header). */
const shows = (text) => page.getByText(text, { exact: true }).first().waitFor({ state: 'visible' });
/** A row of the chat list showing exactly `text` (a dialog's name or its last message). */
const inList = (text) =>
  page.locator('[data-slot=tabs-content]').getByText(text, { exact: true }).first().waitFor().catch(async (e) => {
    const shown = await page.locator('[data-slot=tabs-content]').first().innerText().catch(() => '?');
    throw new Error(`the chat list shows no "${text}"; it shows: ${JSON.stringify(shown)}\n${e.message}`);
  });
/** A message bubble of the open chat (the one with a status line in italics) holding `text`. */
const inChat = (text) => page.locator('div:has(> div.italic)', { hasText: text }).first().waitFor();

/** Chat list rows and the open chat's header are the places a dialog's name shows. */
async function openNewDialog(menuItem) {
  await page.locator('button[aria-haspopup=menu][data-slot=dropdown-menu-trigger]').first().click();
  await page.locator(`[role=menuitem]:has-text("${menuItem}")`).click();
}

async function searchUser(prefix) {
  await page.locator('[role=dialog] input#link').fill(prefix);
  await page.keyboard.press('Enter');
}

async function typeAndSend(text) {
  const box = page.locator('textarea[placeholder="Enter message..."]');
  await box.fill(text);
  await box.press('Enter');
}

// Records, from inside the page, every state the status tick of the message
// bubble holding `text` goes through: wait (clock), sent (check), read
// (double check), lost (ban). Polled every few milliseconds, so a state held
// for one frame is seen.
async function recordTicks(text) {
  await page.evaluate((text) => {
    const icons = { 'lucide-clock': 'wait', 'lucide-check': 'sent', 'lucide-check-check': 'read', 'lucide-ban': 'lost' };
    const states = [];
    window.__ticks ??= {};
    window.__ticks[text] = states;
    const find = () => {
      const roots = [document];
      for (let i = 0; i < roots.length; i++) {
        for (const e of roots[i].querySelectorAll('*')) if (e.shadowRoot) roots.push(e.shadowRoot);
      }
      for (const root of roots) {
        for (const leaf of root.querySelectorAll('p, span, div')) {
          if (leaf.children.length !== 0 || !leaf.textContent.includes(text)) continue;
          // The bubble's own status line (the chat list's row has none in italics).
          for (let e = leaf, up = 0; e && up < 8; e = e.parentElement, up++) {
            const svg = e.querySelector('div.italic svg');
            if (svg) {
              for (const c of svg.classList) if (icons[c]) return icons[c];
              return 'unknown';
            }
          }
        }
      }
      return null;
    };
    const timer = setInterval(() => {
      const s = find();
      if (s && states[states.length - 1] !== s) states.push(s);
    }, 5);
  }, text);
}
const ticksOf = (text) => page.evaluate((t) => [...(window.__ticks?.[t] ?? [])], text);

async function waitTick(text, state) {
  const deadline = Date.now() + UI_MS;
  let seen = [];
  while (Date.now() < deadline) {
    seen = await ticksOf(text);
    if (seen[seen.length - 1] === state) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the tick of "${text}" did not reach ${state} within ${UI_MS} ms; the page showed ${seen.join(' -> ') || 'no tick'}`);
}

/**
 * Waits for an attachment <img> of the page that the browser has decoded
 * (naturalWidth > 0) and that match({id, src, width}) accepts; returns it.
 */
async function imageShown(match, what) {
  const deadline = Date.now() + UI_MS;
  let seen = [];
  while (Date.now() < deadline) {
    seen = await page.locator('img[alt=attachment]').evaluateAll((imgs) =>
      imgs.map((e) => ({ id: e.id, src: e.src, width: e.complete ? e.naturalWidth : 0 })));
    const hit = seen.find((i) => i.width > 0 && match(i));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no loaded attachment image for ${what} within ${UI_MS} ms; the page has ${JSON.stringify(seen)}`);
}

/** The open chat's header status line (typing, "Online", "Last seen ..."). */
const headerStatus = () => page.locator('span.text-xs.text-gray-500.italic').first();

/** Waits until the open chat's header status line satisfies ok(text). */
async function waitHeaderStatus(ok, what) {
  const deadline = Date.now() + UI_MS;
  let text = '';
  while (Date.now() < deadline) {
    text = (await headerStatus().innerText().catch(() => '')).trim();
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the chat header's status line did not become ${what} within ${UI_MS} ms; it shows ${JSON.stringify(text)}`);
}

/** Clicks Block / Unblock in the open private chat's profile panel and confirms. */
async function toggleBlock(label) {
  // The header's name opens the other user's profile (enableBlockList adds Block there).
  await page.locator('span.font-medium.cursor-pointer').first().click();
  await page.locator('p.text-red-500', { hasText: new RegExp(`^${label}$`) }).click();
  // (The confirm button is a button inside the dialog's action button: take the innermost.)
  await page.locator('[role=alertdialog] button:has-text("Continue")').last().click();
  await page.locator('[role=alertdialog][data-state=open]').waitFor({ state: 'detached' });
  // Back from the profile panel to the chat.
  await page.locator('div.z-20:has(span:text-is("Profile")) div.border-b svg.cursor-pointer').first().click();
  // (The panel stays in the DOM, slid out of view.)
  await page.locator('div.translate-x-full', { has: page.locator('span:text-is("Profile")') }).waitFor({ state: 'attached' });
}

/** Bobby's next 1-1 message is refused: his SDK gets the error, the page shows nothing. */
async function refusedWhileBlocked(tag) {
  const text = `while ${tag} ${run}`;
  const id = bob.cc.chat.send(state.aliceId, { type: 'chat', body: text, extension: { save_to_history: 1, dialog_id: state.bobDialog }, markable: 1 });
  const [, err] = await bob.waitFor('error', ([mid]) => mid === id, 'Bobby\'s SDK reports the refused message');
  assert(Number(err?.code) === 503, `error ${JSON.stringify(err)}, want code 503`);
  // A round trip from Carol as a barrier: had the refused message been routed, it would be shown by now.
  const barrier = `barrier while ${tag} ${run}`;
  state.carolDialog ??= (await withTimeout(carol.cc.chat.dialog.create({ type: 3, occupants_ids: [state.aliceId] }), 10_000, 'dialog.create'))._id;
  carol.cc.chat.send(state.aliceId, { type: 'chat', body: barrier, extension: { save_to_history: 1, dialog_id: state.carolDialog }, markable: 1 });
  await inList(barrier);
  const shown = await page.getByText(text, { exact: true }).count();
  assert(shown === 0, `the page shows the refused message "${text}"`);
}

/** Bobby's next 1-1 message reaches the page again, and he gets its delivered receipt. */
async function deliveredAfterUnblock(tag) {
  const text = `after ${tag} ${run}`;
  const id = bob.cc.chat.send(state.aliceId, { type: 'chat', body: text, extension: { save_to_history: 1, dialog_id: state.bobDialog }, markable: 1 });
  await inList(text);
  await bob.waitFor('delivered', ([mid]) => mid === id, 'Bobby gets delivered after the unblock');
  assert(!bob.events.error.some(([mid]) => mid === id), `the message after the unblock was refused: ${JSON.stringify(bob.events.error)}`);
}

/** Waits until ok() holds over the recorded XMPP frames. */
async function waitFrames(ok, what) {
  const deadline = Date.now() + UI_MS;
  while (!ok()) {
    assert(Date.now() < deadline, `${what}: not within ${UI_MS} ms (see xmpp.log)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The sidebar's tabs (showOnlineUsersTab): chats first, online users second. */
const usersTab = () => page.locator('[data-slot=tabs-trigger]').nth(1).click();
const chatsTab = () => page.locator('[data-slot=tabs-trigger]').nth(0).click();

// ---- steps -----------------------------------------------------------------

const aliceId = `alice-${run}`;
const alice = { name: `Alice ${run}`, ...widgetCredentials(aliceId) };
const bob = new Peer(target);
const carol = new Peer(target);
const state = {};

const steps = [
  {
    name: 'login with userId signs the user up',
    async run() {
      await page.goto(pageUrl(aliceId, alice.name));
      await shows(alice.name).catch((e) => {
        const logins = restCalls.filter((c) => /\/session\.json$/.test(c.url)).map((c) => `${c.method} /session ${c.status}`);
        throw new Error(`the widget shows no logged-in "${alice.name}" (its login calls: ${logins.join(', ') || 'none'})\n${e.message}`);
      }); // the widget's header shows the logged-in user
      await page.locator('input[placeholder="Search..."]').waitFor();
      // The SDK side: the user exists, with the widget's login and the external id.
      const probe = new Peer(target);
      await probe.signUpAndLogin({ login: `probe${run}`, password: 'probe-password-1', fullName: `Probe ${run}` });
      const { items } = await withTimeout(probe.cc.users.getV2({ login: alice.login }), 10_000, 'users.getV2');
      assert(items.length === 1, `no user with login ${alice.login}: ${JSON.stringify(items)}`);
      assert(items[0].full_name === alice.name, `full_name ${items[0].full_name}, want ${alice.name}`);
      assert(items[0].external_id === aliceId || String(items[0].external_id) === aliceId, `external_id ${items[0].external_id}`);
      state.aliceId = items[0].id;
    },
    // So that the steps after it can run while the sign-up fails: the SDK
    // signs Alice up with the widget's own credentials, and the page reloads.
    async recover() {
      const a = new Peer(target);
      await a.signUpAndLogin({ login: alice.login, password: alice.password, fullName: alice.name, externalId: aliceId });
      state.aliceId = a.userId;
      await page.reload();
      await shows(alice.name);
      await page.locator('input[placeholder="Search..."]').waitFor();
    },
  },
  {
    name: 'peers sign up and connect with the Node SDK',
    required: true,
    async run() {
      await bob.signUpAndLogin({ login: `bob${run}`, password: 'bob-password-1', fullName: `Bobby ${run}` });
      await carol.signUpAndLogin({ login: `carol${run}`, password: 'carol-password-1', fullName: `Carol ${run}` });
      await bob.connectChat();
      await carol.connectChat();
    },
  },
  {
    name: 'start a 1-1 chat (search, Start chat): the chat shows the other user\'s name',
    async run() {
      await openNewDialog('New message');
      await searchUser(`Bobby ${run}`);
      await page.locator('[role=dialog] button:has-text("Start chat")').click();
      await page.locator('textarea[placeholder="Enter message..."]').waitFor();
      // The SDK side: Bobby's dialog list has the private dialog with Alice.
      const list = await withTimeout(bob.cc.chat.dialog.list({ type: 3 }), 10_000, 'dialog.list');
      const d = list.items.find((x) => x.occupants_ids.includes(state.aliceId));
      assert(d, `Bobby's dialog list has no private dialog with Alice: ${JSON.stringify(list.items)}`);
      state.bobDialog = d._id;
      // The page: the dialog's name is the other user's name, in the chat
      // list and in the open chat's header (a second element with that text).
      await inList(`Bobby ${run}`);
      await page.getByText(`Bobby ${run}`, { exact: true }).nth(1).waitFor();
    },
  },
  {
    name: 'send and receive in the 1-1 chat',
    async run() {
      assert(state.bobDialog, 'no 1-1 dialog (the previous step failed)');
      const text = `hello Bobby ${run}`;
      await typeAndSend(text);
      const [from, msg] = await bob.waitFor('message', ([, m]) => m.body === text, 'Bobby receives the widget\'s message');
      assert(from === state.aliceId, `from ${from}, want ${state.aliceId}`);
      assert(msg.dialog_id === state.bobDialog, `dialog_id ${msg.dialog_id}, want ${state.bobDialog}`);
      await inChat(text);
      const reply = `hello Alice ${run}`;
      bob.cc.chat.send(state.aliceId, { type: 'chat', body: reply, extension: { save_to_history: 1, dialog_id: state.bobDialog }, markable: 1 });
      await inChat(reply);
    },
  },
  {
    name: 'typing: each side sees the other typing',
    async run() {
      assert(state.bobDialog, 'no 1-1 dialog');
      bob.cc.chat.sendIsTypingStatus(state.aliceId);
      await page.getByText('typing...').first().waitFor();
      bob.cc.chat.sendIsStopTypingStatus(state.aliceId);
      await page.getByText('typing...').first().waitFor({ state: 'hidden' });
      await page.locator('textarea[placeholder="Enter message..."]').pressSequentially('abc', { delay: 20 });
      await bob.waitFor('typing', ([isTyping, userId]) => isTyping === true && userId === state.aliceId, 'Bobby sees Alice typing');
      await page.locator('textarea[placeholder="Enter message..."]').fill('');
    },
  },
  {
    name: 'ticks: sent -> read on the page, never back; Bobby gets delivered and read',
    async run() {
      assert(state.bobDialog, 'no 1-1 dialog');
      // Widget -> Bobby: Bobby's SDK answers with an automatic delivered
      // receipt and Bobby reads at once, as fast as a real client could.
      const text = `tick me ${run}`;
      const read = bob.waitFor('message', ([, m]) => m.body === text, 'Bobby receives the ticked message').then(([, m]) => {
        bob.cc.chat.sendReadStatus({ messageId: m.id, userId: state.aliceId, dialogId: state.bobDialog });
      });
      await recordTicks(text);
      await typeAndSend(text);
      await read;
      await waitTick(text, 'read');
      // A round trip after the read as a barrier: anything Parley sent about
      // the message before it has reached the page.
      const barrier = `barrier ${run}`;
      bob.cc.chat.send(state.aliceId, { type: 'chat', body: barrier, extension: { save_to_history: 1, dialog_id: state.bobDialog }, markable: 1 });
      await inChat(barrier);
      const seen = await ticksOf(text);
      const order = ['wait', 'sent', 'read'];
      const ranks = seen.map((s) => order.indexOf(s));
      assert(!ranks.includes(-1), `unexpected tick states ${seen.join(' -> ')}`);
      assert(ranks.every((r, i) => i === 0 || r > ranks[i - 1]), `ticks went back: ${seen.join(' -> ')}`);
      assert(seen[seen.length - 1] === 'read', `ticks end at ${seen[seen.length - 1]}: ${seen.join(' -> ')}`);
      // Bobby -> widget: the page's SDK sends delivered, the open chat marks it read.
      const msgId = bob.cc.chat.send(state.aliceId, {
        type: 'chat', body: `read me ${run}`, extension: { save_to_history: 1, dialog_id: state.bobDialog }, markable: 1,
      });
      await inChat(`read me ${run}`);
      await bob.waitFor('delivered', ([id, , userId]) => id === msgId && userId === state.aliceId, 'Bobby gets the page\'s delivered receipt');
      await bob.waitFor('read', ([id, , userId]) => id === msgId && userId === state.aliceId, 'Bobby gets the page\'s read receipt');
    },
  },
  {
    name: 'attachments: the widget sends an image, Bobby downloads the same bytes; Bobby\'s image shows in the page',
    async run() {
      assert(state.bobDialog, 'no 1-1 dialog');
      const png = makePng(48, 32, [220, 40, 40]);
      await page.locator('input[type=file]').first().setInputFiles({ name: `red-${run}.png`, mimeType: 'image/png', buffer: png });
      const [from, msg] = await bob.waitFor('message', ([, m]) => (m.extension?.attachments ?? []).length > 0 && m.dialog_id === state.bobDialog,
        'Bobby receives the widget\'s attachment');
      assert(from === state.aliceId, `from ${from}, want ${state.aliceId}`);
      const att = msg.extension.attachments[0];
      assert(typeof att.uid === 'string' && att.uid, `attachment without uid: ${JSON.stringify(att)}`);
      const got = await bob.download(att.uid);
      assert(got.status === 200, `GET blob ${att.uid} with Bobby's token: ${got.status}`);
      assert(got.body.equals(png), `the blob is ${got.body.length} bytes, not the ${png.length} bytes the page sent`);
      // The sender's own bubble: a decoded 48 px wide image.
      await imageShown((i) => i.width === 48, 'the page\'s own image');
      // Bobby -> widget: a private upload, sent as the SDK's guide does.
      const png2 = makePng(24, 24, [30, 90, 220]);
      const file = await withTimeout(bob.cc.storage.createAndUpload({ name: `blue-${run}.png`, file: png2, type: 'image/png', size: png2.length, public: false }),
        10_000, 'createAndUpload');
      bob.cc.chat.send(state.aliceId, {
        type: 'chat', body: 'Attachment',
        extension: { save_to_history: 1, dialog_id: state.bobDialog, attachments: [{ uid: file.uid, id: file.id, type: 'image/png' }] },
        markable: 1,
      });
      // The page shows it from Parley, with its own session's download URL.
      const shown = await imageShown((i) => i.id.includes(file.uid) || i.src.includes(file.uid), `Bobby's blob ${file.uid}`);
      assert(shown.width === 24, `the page decoded a ${shown.width}px wide image, want 24`);
      assert(shown.src.startsWith(`https://${API}/blobs/${file.uid}`), `the image's src is ${shown.src}`);
    },
  },
  {
    name: 'blocking: Block in the widget refuses Bobby\'s 1-1 messages (SDK error, nothing shown); after a reload the widget shows Unblock, and Unblock lets them through',
    async run() {
      assert(state.bobDialog, 'no 1-1 dialog');
      await toggleBlock('Block');
      await refusedWhileBlocked('blocked');
      // A new session: the widget reads its block list from Parley (getNames,
      // getList), so the profile offers Unblock, and unblocking declines the
      // default list before changing it (§18.10).
      await page.reload();
      await shows(alice.name);
      await page.locator('[data-slot=tabs-content]').getByText(`Bobby ${run}`, { exact: true }).first().click();
      await toggleBlock('Unblock');
      await deliveredAfterUnblock('unblocked');
    },
  },
  {
    // Pending (E2E_PENDING=1): a block and an unblock in one session. The
    // widget's React helper only declines the default list first when it
    // found one at connect; otherwise it re-creates the list in place, which
    // Parley refuses with 409 conflict (REALTIME §18.10), so Bobby stays blocked.
    name: 'blocking: Block then Unblock in the same session lets Bobby\'s messages through again',
    pending: true,
    async run() {
      assert(state.bobDialog, 'no 1-1 dialog');
      await page.reload(); // a session with no default list at connect, as a new user has
      await shows(alice.name);
      await page.locator('[data-slot=tabs-content]').getByText(`Bobby ${run}`, { exact: true }).first().click();
      await toggleBlock('Block');
      await refusedWhileBlocked('blocked again');
      await toggleBlock('Unblock');
      await deliveredAfterUnblock('unblocked again');
    },
    // Leaves Bobby unblocked for the next steps, as the widget would after a reload.
    async recover() {
      await page.reload();
      await shows(alice.name);
      await page.locator('[data-slot=tabs-content]').getByText(`Bobby ${run}`, { exact: true }).first().click();
      await toggleBlock('Unblock'); // it failed with Bobby blocked: the list is default at connect now
    },
  },
  {
    name: 'dialog list shows names: a private dialog Carol starts appears under Carol\'s name',
    async run() {
      const d = await withTimeout(carol.cc.chat.dialog.create({ type: 3, occupants_ids: [state.aliceId] }), 10_000, 'dialog.create');
      const text = `hi from C ${run}`;
      carol.cc.chat.send(state.aliceId, { type: 'chat', body: text, extension: { save_to_history: 1, dialog_id: d._id }, markable: 1 });
      await inList(text);
      await inList(`Carol ${run}`);
      await carol.waitFor('delivered', ([, dialogId, userId]) => dialogId === d._id && userId === state.aliceId, 'Carol gets delivered');
    },
  },
  {
    name: 'group chat: create from the widget, messages both ways',
    async run() {
      const groupName = `Group ${run}`;
      await openNewDialog('New group');
      await searchUser(`Bobby ${run}`);
      await page.locator('[role=dialog] button:has-text("Select")').first().click();
      await searchUser(`Carol ${run}`);
      await page.locator('[role=dialog] button:has-text("Select")').first().click();
      await page.locator('[role=dialog] button:has-text("Create group chat")').click();
      await page.locator('[role=dialog] input[name=name]').fill(groupName);
      await page.locator('[role=dialog] button[type=submit]:has-text("Create group chat")').click();
      await page.locator('textarea[placeholder="Enter message..."]').waitFor();
      await inList(groupName);
      const list = await withTimeout(bob.cc.chat.dialog.list({ type: 2 }), 10_000, 'dialog.list');
      const g = list.items.find((x) => x.name === groupName);
      assert(g, `Bobby's dialog list has no group "${groupName}": ${JSON.stringify(list.items.map((x) => x.name))}`);
      const want = [state.aliceId, bob.userId, carol.userId].sort();
      assert(JSON.stringify([...g.occupants_ids].sort()) === JSON.stringify(want), `occupants ${g.occupants_ids}, want ${want}`);
      const text = `hello group ${run}`;
      await typeAndSend(text);
      for (const p of [bob, carol]) {
        const [, m] = await p.waitFor('message', ([, m]) => m.body === text, 'group message reaches the members');
        assert(m.dialog_id === g._id, `dialog_id ${m.dialog_id}, want ${g._id}`);
      }
      const reply = `group reply ${run}`;
      bob.cc.chat.send(`${APP_ID}_${g._id}@muc.${DOMAIN}`, { type: 'groupchat', body: reply, extension: { save_to_history: 1, dialog_id: g._id } });
      await inChat(reply);
      await carol.waitFor('message', ([, m]) => m.body === reply, 'Carol receives Bobby\'s group message');
      state.group = g._id;
    },
  },
  {
    name: 'group chat: the members get the widget\'s new-dialog notice (headline)',
    async run() {
      assert(state.group, 'no group (the previous step failed)');
      for (const p of [bob, carol]) {
        const [m] = await p.waitFor('system', ([m]) => m.extension?.dialogId === state.group, 'the dialog/NEW_DIALOG system message');
        assert(m.body === 'dialog/NEW_DIALOG', `body ${m.body}`);
        assert(m.userId === state.aliceId, `from ${m.userId}, want ${state.aliceId}`);
      }
    },
  },
  {
    name: 'reload keeps the session: no new login, dialogs listed, live messages arrive',
    async run() {
      const before = restCalls.length;
      const framesBefore = wsFrames.length;
      await page.reload();
      await shows(alice.name);
      // The list as it was (by what does not depend on private dialog names).
      await inList(`Group ${run}`);
      await inList(`hi from C ${run}`);
      const text = `after reload ${run}`;
      // Live means once the page is back on chat: a message sent before is
      // kept offline (or waits in the old connection's parked session) and
      // comes with a delay element, which the widget leaves to its history
      // fetch. So Bobby sends once the reloaded page's new stream has sent
      // its initial presence and Bobby's round trip behind it is done.
      const deadline = Date.now() + 10_000;
      while (!wsFrames.slice(framesBefore).some((f) => f.includes('SENT <presence'))) {
        assert(Date.now() < deadline, 'the reloaded page did not send its initial presence within 10 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      await withTimeout(bob.cc.chat.getLastUserActivity(state.aliceId), 5_000, 'last activity');
      bob.cc.chat.send(state.aliceId, { type: 'chat', body: text, extension: { save_to_history: 1, dialog_id: state.bobDialog }, markable: 1 });
      await inList(text);
      const logins = restCalls.slice(before).filter((c) => c.method === 'POST' && /\/session\.json$/.test(c.url));
      assert(logins.length === 0, `the reload logged in again: ${JSON.stringify(logins)}`);
    },
  },
  {
    name: 'online and last seen: the header shows Dave "Online" once he connects, the online users tab lists him; when he leaves the page gets his last-activity push and the list drops him',
    async run() {
      const dave = new Peer(target);
      state.dave = dave; // closed at the end even when the step fails
      await dave.signUpAndLogin({ login: `dave${run}`, password: 'dave-password-1', fullName: `Dave ${run}` });
      await openNewDialog('New message');
      await searchUser(`Dave ${run}`);
      await page.locator('[role=dialog] button:has-text("Start chat")').click();
      await page.getByText(`Dave ${run}`, { exact: true }).nth(1).waitFor();
      // Never connected yet: whatever the header says, it is not "Online".
      const before = await waitHeaderStatus((t) => t !== 'Online', 'anything but Online');
      await dave.connectChat();
      const online = await waitHeaderStatus((t) => t === 'Online', '"Online"');
      assert(before !== online, `the header showed ${JSON.stringify(before)} before Dave connected and ${JSON.stringify(online)} after`);
      // The online users tab (GET /users/online when it first opens in a page load) lists him.
      await usersTab();
      await page.locator('[data-slot=tabs-content]').getByText(`Dave ${run}`, { exact: true }).first().waitFor();
      // Back to his chat (the tab switch unselected it, and the widget unsubscribed).
      await chatsTab();
      const daveJid = `from="${dave.userId}-`;
      const pushesAfter = (mark) => wsFrames.slice(mark).filter((f) => f.includes('RECV <iq') && f.includes('jabber:iq:last') && f.includes(daveJid));
      const resubscribed = wsFrames.length;
      await page.locator('[data-slot=tabs-content]').getByText(`Dave ${run}`, { exact: true }).first().click();
      await waitFrames(() => pushesAfter(resubscribed).length >= 1, 'Parley\'s last-activity push right after the widget subscribes to Dave');
      await waitHeaderStatus((t) => t === 'Online', '"Online"');
      // Dave leaves: Parley pushes his last activity to the page's subscription (REALTIME §16.3).
      const left = wsFrames.length;
      await dave.close();
      await waitFrames(() => pushesAfter(left).length >= 1, 'Parley\'s last-activity push when Dave leaves');
      // The header keeps "Online": the React helper shows "Online" for up to 30 s of
      // inactivity, and Dave was active a moment ago (REALTIME §16.3, accepted).
      // What shows the change at once is the online users list of a new page load.
      await page.reload();
      await shows(alice.name);
      await usersTab();
      const list = page.locator('[data-slot=tabs-content]');
      await list.getByText(`Bobby ${run}`, { exact: true }).first().waitFor(); // the list has loaded
      const daveShown = await list.getByText(`Dave ${run}`, { exact: true }).count();
      assert(daveShown === 0, `the online users list still shows Dave after he disconnected: ${JSON.stringify(await list.first().innerText())}`);
      await chatsTab();
    },
  },
];

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ---- runner ----------------------------------------------------------------

fs.mkdirSync(ARTIFACTS, { recursive: true });
let passed = 0;
let failed = 0;
let stop = '';
const started = Date.now();
// Steps marked pending fail for a known reason (see each one's comment); E2E_PENDING=1 runs them too.
const selected = process.env.E2E_PENDING === '1' ? steps : steps.filter((st) => !st.pending);
for (const [i, step] of selected.entries()) {
  const label = `${String(i + 1).padStart(2, '0')} ${step.name}`;
  if (stop) {
    console.log(`not ok ${label} # not run: ${stop}`);
    failed++;
    continue;
  }
  const t0 = Date.now();
  try {
    await withTimeout(step.run(), STEP_MS, label);
    passed++;
    console.log(`ok     ${label} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    const shot = path.join(ARTIFACTS, `${String(i + 1).padStart(2, '0')}-failed.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`not ok ${label} (${Date.now() - t0} ms)\n       ${String(e.message).split('\n').slice(0, 6).join('\n       ')}\n       screenshot: ${shot}`);
    if (step.required) stop = `"${step.name}" failed`;
    if (step.recover) {
      try {
        await withTimeout(step.recover(), STEP_MS, `${label} (recovery)`);
        console.log('       (recovered so that the next steps can run)');
      } catch (e2) {
        stop = `"${step.name}" failed and its recovery too: ${e2.message.split('\n')[0]}`;
      }
    }
  }
}

fs.writeFileSync(path.join(ARTIFACTS, 'console.log'), consoleLines.join('\n') + '\n');
fs.writeFileSync(path.join(ARTIFACTS, 'xmpp.log'), wsFrames.join('\n') + '\n');
fs.writeFileSync(path.join(ARTIFACTS, 'rest.log'), restCalls.map((c) => `${c.status} ${c.method} ${c.url}`).join('\n') + '\n');
await page.screenshot({ path: path.join(ARTIFACTS, 'last.png'), fullPage: true }).catch(() => {});
await Promise.all([bob, carol, state.dave].filter(Boolean).map((p) => p.close()));
await browser.close();
console.log(`\ne2e: the steps took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
