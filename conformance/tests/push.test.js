// Push notifications through the official SDK (REST.md §10, REALTIME.md
// §20.4; the guide's "Chat alerts" and "Mark a client as Active/Inactive"):
// Web Push subscriptions (pushnotifications.subscriptions.*), events
// (pushnotifications.events.create) and automatic chat alerts, received by a
// local Web Push service (webpush-receiver.js) that checks VAPID, TTL and
// aes128gcm as a browser vendor's service does and decrypts every payload.
//
// The app's VAPID keys are made first with the real binary's
// `parley app update --vapid-generate` on the running server's data
// directory; the server reads settings through a cache of at most 5 s.
//
// "No push" is proven, not assumed: after the message that must not push,
// a later message to the same recipient must push, and once its push has
// arrived (plus a quiet bounded wait) the receiver holds that push only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import {
  env, signupAndLogin, online, ping, done, sleep, withTimeout, nextEvent, expectReject, raw, CHAT_WAIT,
} from './helpers.js';
import { newReceiver } from './webpush-receiver.js';

const PUSH_WAIT = 10_000; // a push is sent asynchronously (an outbox): bounded, generous
const QUIET = 1500; // after the expected pushes: what else was coming has come
const SUBJECT = 'mailto:ops@example.com';

// ---------------------------------------------------------------------------
// Setup: the app's VAPID keys, once per file

function parley(args) {
  assert.ok(env.bin && env.dataDir, 'PARLEY_BIN and PARLEY_DATA_DIR are set by run.sh');
  return new Promise((resolve, reject) => {
    execFile(env.bin, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`parley ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

let vapid;
/** Generates the app's VAPID keys (once) and waits out the settings cache; resolves with the public key. */
function setup() {
  vapid ??= (async () => {
    const out = await parley(['app', 'update', '--data-dir', env.dataDir, '--id', String(env.appId), '--vapid-generate', '--vapid-subject', SUBJECT]);
    let printed;
    try {
      printed = JSON.parse(out);
    } catch {
      assert.fail(`parley app update --vapid-generate did not print JSON: ${out}`);
    }
    const key = printed.vapid_public_key;
    assert.equal(typeof key, 'string', `vapid_public_key in ${out}`);
    const rawKey = Buffer.from(key, 'base64url');
    assert.equal(rawKey.length, 65, `vapid_public_key is a 65-octet P-256 point: ${key}`);
    assert.equal(rawKey[0], 0x04, 'uncompressed point');
    await sleep(5500); // the server's settings cache
    return key;
  })();
  return vapid;
}

// ---------------------------------------------------------------------------
// Subscriptions

function webParams(sub, { udid = crypto.randomUUID(), environment = 'development' } = {}) {
  return {
    notification_channel: 'web',
    device: { platform: 'web', udid },
    push_token: { environment, web_endpoint: sub.endpoint, web_auth: sub.auth, web_p256dh: sub.p256dh },
  };
}

/** REST §2.7: {subscription: {id, notification_channel: {name}, device: {udid, platform: {name}}}}. */
function assertSubscription(item, { udid, channel = 'web', platform = 'web' }, what = 'subscription') {
  const shown = JSON.stringify(item);
  assert.ok(item && typeof item === 'object' && !Array.isArray(item), `${what} must be an object: ${shown}`);
  assert.deepEqual(Object.keys(item), ['subscription'], `${what} is {subscription: ...}: ${shown}`);
  const s = item.subscription;
  assert.ok(Number.isInteger(s.id) && s.id > 0, `${what}.id must be a positive integer: ${shown}`);
  assert.deepEqual(s.notification_channel, { name: channel }, `${what}.notification_channel: ${shown}`);
  assert.deepEqual(s.device, { udid, platform: { name: platform } }, `${what}.device: ${shown}`);
  return s;
}

/** Subscribes u's web device to a fresh endpoint of receiver r; returns the endpoint, keys, udid and id. */
async function subscribe(u, r, opts = {}) {
  const sub = r.subscription();
  const udid = opts.udid ?? crypto.randomUUID();
  const res = await u.cc.pushnotifications.subscriptions.create(webParams(sub, { ...opts, udid }));
  assert.ok(Array.isArray(res) && res.length === 1, `create answers a one-item array: ${JSON.stringify(res)}`);
  const s = assertSubscription(res[0], { udid }, 'created[0]');
  return { ...sub, udid, id: s.id };
}

// ---------------------------------------------------------------------------
// Messages and pushes

/** a sends a saved chat message to b in dialog; a's ping proves the server has handled it. Returns its id. */
async function send(a, b, dialog, body, extension = {}) {
  const message = { type: 'chat', extension: { save_to_history: 1, dialog_id: dialog._id, ...extension } };
  if (body !== undefined) message.body = body;
  const id = a.cc.chat.send(b.user.id, message);
  await ping(a);
  return id;
}

/** The chat alert of REST §10.5 for a message from sender. */
function alert(sender, dialog, messageId, body, badge) {
  return {
    message: `${sender.user.full_name || sender.login}: ${body || 'Attachment'}`,
    dialog_id: dialog._id,
    message_id: messageId,
    user_id: String(sender.user.id),
    ios_badge: badge,
    ios_sound: 'default',
  };
}

const byJson = (a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

/**
 * Waits (bounded) until sub's endpoint has all the expected payloads, then a
 * quiet period, and asserts it holds exactly those (in any order) — no
 * duplicates, nothing else — each signed with the app's VAPID key.
 */
async function expectPushes(r, sub, expected, key, label) {
  await r.waitFor(expected.length, PUSH_WAIT, sub.endpoint).catch((e) => {
    throw new Error(`${label}: ${e.message}`);
  });
  await sleep(QUIET);
  const got = r.received(sub.endpoint);
  assert.deepEqual(got.map((p) => p.payload).sort(byJson), [...expected].sort(byJson), `${label}: the pushes at ${sub.endpoint}`);
  for (const p of got) {
    assert.equal(p.vapidKey, key, `${label}: signed with the app's VAPID key`);
    assert.equal(p.claims.sub, SUBJECT, `${label}: the JWT's sub is the app's VAPID subject`);
  }
  return got;
}

function assertNoRefusals(r) {
  assert.deepEqual(r.rejected(), [], 'every request the server made to the push service was valid');
}

async function dialogWith(a, b, type = 3) {
  return a.cc.chat.dialog.create(type === 3 ? { type, occupants_ids: [b.user.id] } : { type, name: 'push', occupants_ids: [b.user.id] });
}

// ---------------------------------------------------------------------------
// VAPID key and subscriptions

test('push: GET /push/vapid_public_key.json answers 200 with the key parley app update printed', async () => {
  const key = await setup();
  const u = await signupAndLogin();
  const res = await raw('GET', '/push/vapid_public_key.json', { token: u.session.token });
  assert.equal(res.status, 200, `HTTP ${res.status} ${res.text}`);
  assert.deepEqual(res.json, { vapid_public_key: key });
});

test('push: subscriptions.create of a web device answers 201 [{subscription}] and subscriptions.list shows it ([] before)', async () => {
  await setup();
  const u = await signupAndLogin();
  const r = await newReceiver();
  try {
    const before = await u.cc.pushnotifications.subscriptions.list();
    assert.deepEqual(before, [], 'a fresh user has no subscriptions');
    // Raw first, to see the status the SDK does not expose; then the SDK call of the guide.
    const sub1 = r.subscription();
    const udid1 = crypto.randomUUID();
    const res = await raw('POST', '/subscriptions.json', { token: u.session.token, body: webParams(sub1, { udid: udid1 }) });
    assert.equal(res.status, 201, `HTTP ${res.status} ${res.text}`);
    assert.ok(Array.isArray(res.json) && res.json.length === 1, `201 body is a one-item array: ${res.text}`);
    const s1 = assertSubscription(res.json[0], { udid: udid1 });
    const s2 = await subscribe(u, r);
    assert.notEqual(s2.id, s1.id);
    const list = await u.cc.pushnotifications.subscriptions.list();
    assert.ok(Array.isArray(list) && list.length === 2, `two subscriptions listed: ${JSON.stringify(list)}`);
    const byId = new Map(list.map((item) => [item.subscription?.id, item]));
    assertSubscription(byId.get(s1.id), { udid: udid1 }, 'listed s1');
    assertSubscription(byId.get(s2.id), { udid: s2.udid }, 'listed s2');
    assertNoRefusals(r);
  } finally {
    await r.close();
  }
});

test("push: subscriptions.delete of an own subscription answers 200 and unlists it; another user's → 403; unknown → 404", async () => {
  await setup();
  const u = await signupAndLogin();
  const other = await signupAndLogin();
  const r = await newReceiver();
  try {
    const mine = await subscribe(u, r);
    const kept = await subscribe(u, r);
    const theirs = await subscribe(other, r);
    const res = await raw('DELETE', `/subscriptions/${mine.id}.json`, { token: u.session.token });
    assert.equal(res.status, 200, `HTTP ${res.status} ${res.text}`);
    const list = await u.cc.pushnotifications.subscriptions.list();
    assert.deepEqual(list.map((i) => i.subscription.id), [kept.id], 'only the other one is left');
    await expectReject(u.cc.pushnotifications.subscriptions.delete(theirs.id), 403);
    assert.deepEqual((await other.cc.pushnotifications.subscriptions.list()).map((i) => i.subscription.id), [theirs.id], "the other user's subscription stays");
    await expectReject(u.cc.pushnotifications.subscriptions.delete(mine.id), 404, undefined); // already gone
    await expectReject(u.cc.pushnotifications.subscriptions.delete(2_000_000_000), 404);
    // And through the SDK call itself.
    await u.cc.pushnotifications.subscriptions.delete(kept.id);
    assert.deepEqual(await u.cc.pushnotifications.subscriptions.list(), []);
  } finally {
    await r.close();
  }
});

test('push: subscriptions.create refuses a malformed endpoint, an http endpoint off loopback, a short p256dh and an unknown channel with 422, and lists nothing', async () => {
  await setup();
  const u = await signupAndLogin();
  const r = await newReceiver();
  try {
    const good = r.subscription();
    const variants = [
      ['malformed endpoint', (p) => { p.push_token.web_endpoint = 'not a url'; }],
      ['http endpoint on a non-loopback host', (p) => { p.push_token.web_endpoint = 'http://example.com/x'; }],
      ['p256dh of 33 octets', (p) => { p.push_token.web_p256dh = Buffer.from(good.p256dh, 'base64url').subarray(0, 33).toString('base64url'); }],
      ['unknown channel', (p) => { p.notification_channel = 'carrier-pigeon'; }],
    ];
    for (const [name, spoil] of variants) {
      const params = webParams(good);
      spoil(params);
      await expectReject(u.cc.pushnotifications.subscriptions.create(params), 422).catch((e) => {
        throw new Error(`${name}: ${e.message}`);
      });
    }
    assert.deepEqual(await u.cc.pushnotifications.subscriptions.list(), [], 'nothing was subscribed');
  } finally {
    await r.close();
  }
});

// ---------------------------------------------------------------------------
// Chat alerts (REALTIME.md §20.4)

test('push: a message to an offline recipient pushes once to each subscription with "<full_name>: <body>" and the unread count as badge', async () => {
  const key = await setup();
  const a = await online(await signupAndLogin({ full_name: 'Mira Holm' }));
  const b = await signupAndLogin(); // never connects: offline
  const r = await newReceiver();
  try {
    const phone = await subscribe(b, r);
    const laptop = await subscribe(b, r);
    const dialog = await dialogWith(a, b);
    const m1 = await send(a, b, dialog, 'How are you today?');
    const first = alert(a, dialog, m1, 'How are you today?', 1);
    assert.equal(first.message, 'Mira Holm: How are you today?');
    await expectPushes(r, phone, [first], key, 'first message, phone');
    await expectPushes(r, laptop, [first], key, 'first message, laptop');
    const m2 = await send(a, b, dialog, 'Still there?');
    const second = alert(a, dialog, m2, 'Still there?', 2);
    await expectPushes(r, phone, [first, second], key, 'second message, phone');
    await expectPushes(r, laptop, [first, second], key, 'second message, laptop');
    assertNoRefusals(r);
  } finally {
    await done(a);
    await r.close();
  }
});

test('push: a sender without full_name is named by login; a message with an attachment and no body says "Attachment"', async () => {
  const key = await setup();
  const a = await online();
  const b = await signupAndLogin();
  const r = await newReceiver();
  try {
    assert.ok(!a.user.full_name, 'the sender has no full_name');
    const sub = await subscribe(b, r);
    const dialog = await dialogWith(a, b);
    const id = await send(a, b, dialog, undefined, { attachments: [{ uid: 'f0e1d2c3b4a5', type: 'image' }] });
    await expectPushes(r, sub, [alert(a, dialog, id, '', 1)], key, 'attachment-only message');
    assert.equal(r.received(sub.endpoint)[0].payload.message, `${a.login}: Attachment`);
    assertNoRefusals(r);
  } finally {
    await done(a);
    await r.close();
  }
});

test('push: a message with extension silent=1 pushes nothing (a later message does)', async () => {
  const key = await setup();
  const a = await online();
  const b = await signupAndLogin();
  const r = await newReceiver();
  try {
    const sub = await subscribe(b, r);
    const dialog = await dialogWith(a, b);
    await send(a, b, dialog, 'shh', { silent: 1 });
    const loud = await send(a, b, dialog, 'loud');
    await expectPushes(r, sub, [alert(a, dialog, loud, 'loud', 2)], key, 'silent then loud');
    assertNoRefusals(r);
  } finally {
    await done(a);
    await r.close();
  }
});

test('push: a dialog with notifications off (updateNotificationsSettings(id, 0)) pushes nothing to that recipient; back on, it pushes', async () => {
  const key = await setup();
  const a = await online();
  const b = await signupAndLogin();
  const r = await newReceiver();
  try {
    const sub = await subscribe(b, r);
    const dialog = await dialogWith(a, b);
    const off = await b.cc.chat.dialog.updateNotificationsSettings(dialog._id, 0);
    assert.deepEqual(off, { notifications: { enabled: 0 } });
    await send(a, b, dialog, 'muted');
    const on = await b.cc.chat.dialog.updateNotificationsSettings(dialog._id, 1);
    assert.deepEqual(on, { notifications: { enabled: 1 } });
    const heard = await send(a, b, dialog, 'heard');
    await expectPushes(r, sub, [alert(a, dialog, heard, 'heard', 2)], key, 'muted then heard');
    assertNoRefusals(r);
  } finally {
    await done(a);
    await r.close();
  }
});

test('push: an online recipient gets the message live and no push; after markInactive the next message pushes', async () => {
  const key = await setup();
  const a = await online();
  const b = await online();
  const r = await newReceiver();
  try {
    const sub = await subscribe(b, r);
    const dialog = await dialogWith(a, b);
    let live = nextEvent(b.cc, 'onMessageListener');
    const m1 = await send(a, b, dialog, 'you are here');
    assert.equal((await withTimeout(live, CHAT_WAIT, 'live copy of m1'))[1].id, m1);
    b.cc.chat.markInactive();
    await ping(b); // the IQ is handled before the ping's answer
    live = nextEvent(b.cc, 'onMessageListener');
    const m2 = await send(a, b, dialog, 'in the background');
    assert.equal((await withTimeout(live, CHAT_WAIT, 'live copy of m2'))[1].id, m2, 'an inactive resource still gets messages');
    await expectPushes(r, sub, [alert(a, dialog, m2, 'in the background', 2)], key, 'online then inactive');
    assertNoRefusals(r);
  } finally {
    await done(a, b);
    await r.close();
  }
});

test('push: a connected recipient marked inactive gets one push per message; markActive stops them, markInactive resumes them', async () => {
  const key = await setup();
  const a = await online();
  const b = await online();
  const r = await newReceiver();
  try {
    const sub = await subscribe(b, r);
    const dialog = await dialogWith(a, b);
    b.cc.chat.markInactive();
    await ping(b);
    const m1 = await send(a, b, dialog, 'one');
    const p1 = alert(a, dialog, m1, 'one', 1);
    await expectPushes(r, sub, [p1], key, 'inactive');
    b.cc.chat.markActive();
    await ping(b);
    const live = nextEvent(b.cc, 'onMessageListener');
    const m2 = await send(a, b, dialog, 'two');
    assert.equal((await withTimeout(live, CHAT_WAIT, 'live copy of m2'))[1].id, m2);
    b.cc.chat.markInactive();
    await ping(b);
    const m3 = await send(a, b, dialog, 'three');
    await expectPushes(r, sub, [p1, alert(a, dialog, m3, 'three', 3)], key, 'inactive, active, inactive');
    assertNoRefusals(r);
  } finally {
    await done(a, b);
    await r.close();
  }
});

test('push: edits, deletes, typing and delivered/read markers push nothing (later messages to both sides do)', async () => {
  const key = await setup();
  const a = await online();
  const b = await online();
  const r = await newReceiver();
  try {
    const subA = await subscribe(a, r);
    const subB = await subscribe(b, r);
    const dialog = await dialogWith(a, b);
    for (const u of [a, b]) u.cc.chat.markInactive();
    await ping(a, b);
    const m1 = await send(a, b, dialog, 'original');
    await expectPushes(r, subB, [alert(a, dialog, m1, 'original', 1)], key, 'the first message');
    // Everything below reaches an inactive (pushable) recipient and must not push.
    b.cc.chat.sendDeliveredStatus({ messageId: m1, userId: a.user.id, dialogId: dialog._id });
    b.cc.chat.sendReadStatus({ messageId: m1, userId: a.user.id, dialogId: dialog._id });
    b.cc.chat.sendIsTypingStatus(a.user.id);
    b.cc.chat.sendIsStopTypingStatus(a.user.id);
    a.cc.chat.sendIsTypingStatus(b.user.id);
    a.cc.chat.sendIsStopTypingStatus(b.user.id);
    a.cc.chat.editMessage({ to: b.user.id, dialogId: dialog._id, body: 'edited', originMessageId: m1, last: true });
    a.cc.chat.deleteMessage({ to: b.user.id, dialogId: dialog._id, messageId: m1 });
    await ping(a, b);
    // The proof that both were pushable all along.
    const m2 = await send(a, b, dialog, 'to b');
    const m3 = await send(b, a, dialog, 'to a');
    await r.waitFor(2, PUSH_WAIT, subB.endpoint);
    await r.waitFor(1, PUSH_WAIT, subA.endpoint);
    await sleep(QUIET);
    const toB = r.received(subB.endpoint).map((p) => [p.payload.message_id, p.payload.message]);
    const toA = r.received(subA.endpoint).map((p) => [p.payload.message_id, p.payload.message]);
    assert.deepEqual(toB.sort(), [[m1, `${a.login}: original`], [m2, `${a.login}: to b`]].sort(), 'b: the two messages only');
    assert.deepEqual(toA, [[m3, `${b.login}: to a`]], 'a: the one message only (no marker, typing pushes)');
    assertNoRefusals(r);
  } finally {
    await done(a, b);
    await r.close();
  }
});

// ---------------------------------------------------------------------------
// Events (REST §10.4)

function eventMessage(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64');
}

test('push: events.create (user.ids) reaches every matching subscription once: two users, one with two subscriptions → three pushes', async () => {
  const key = await setup();
  const sender = await signupAndLogin();
  const u1 = await signupAndLogin();
  const u2 = await signupAndLogin();
  const r = await newReceiver();
  try {
    const s1 = await subscribe(u1, r);
    const s2a = await subscribe(u2, r);
    const s2b = await subscribe(u2, r);
    const bystander = await subscribe(sender, r);
    const payload = { message: 'Alice is calling you', ios_badge: 1, call_id: 'c-42' };
    const res = await sender.cc.pushnotifications.events.create({
      notification_type: 'push',
      environment: 'development',
      user: { ids: `${u1.user.id},${u2.user.id}` },
      message: eventMessage(payload),
    });
    assert.ok(Array.isArray(res) && res.length === 1, `201 body is a one-item array: ${JSON.stringify(res)}`);
    const ev = res[0]?.event;
    assert.ok(ev && Number.isInteger(ev.id) && ev.id > 0, `[{event: {id, ...}}]: ${JSON.stringify(res)}`);
    assert.equal(ev.environment, 'development');
    assert.equal(ev.user_id, sender.user.id);
    assert.equal(ev.application_id, env.appId);
    for (const [name, s] of [['u1', s1], ['u2 first', s2a], ['u2 second', s2b]]) {
      await expectPushes(r, s, [payload], key, `event to ${name}`);
    }
    assert.deepEqual(r.received(bystander.endpoint), [], 'a subscriber not among user.ids gets nothing');
    assert.equal(r.received().length, 3);
    assertNoRefusals(r);
  } finally {
    await r.close();
  }
});

test("push: events.create reaches only subscriptions of the event's environment (user.ids as an array)", async () => {
  const key = await setup();
  const sender = await signupAndLogin();
  const u = await signupAndLogin();
  const r = await newReceiver();
  try {
    const dev = await subscribe(u, r, { environment: 'development' });
    const prod = await subscribe(u, r, { environment: 'production' });
    const payload = { message: 'production only' };
    await sender.cc.pushnotifications.events.create({
      notification_type: 'push', environment: 'production', user: { ids: [u.user.id] }, message: eventMessage(payload),
    });
    const later = { message: 'development only' };
    await sender.cc.pushnotifications.events.create({
      notification_type: 'push', environment: 'development', user: { ids: [u.user.id] }, message: eventMessage(later),
    });
    await expectPushes(r, prod, [payload], key, 'production subscription');
    await expectPushes(r, dev, [later], key, 'development subscription');
    assertNoRefusals(r);
  } finally {
    await r.close();
  }
});

test('push: events.create without a recipient selector is refused with 422 and pushes nothing', async () => {
  await setup();
  const sender = await signupAndLogin();
  const r = await newReceiver();
  try {
    await subscribe(sender, r);
    await expectReject(
      sender.cc.pushnotifications.events.create({ notification_type: 'push', environment: 'development', message: eventMessage({ message: 'to nobody' }) }),
      422,
    );
    await sleep(QUIET);
    assert.deepEqual(r.received(), []);
  } finally {
    await r.close();
  }
});
