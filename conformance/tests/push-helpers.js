// Shared by the push test files (push*.test.js): the app's VAPID keys, web
// subscriptions through the SDK, chat messages, the chat-alert payload of
// REST.md §10.5 and bounded assertions on what the local Web Push receiver
// (webpush-receiver.js) got.
//
// The push tests are split over several files because node --test bounds
// each file by --test-timeout (60 s in run.sh), and a push that does not
// come costs a whole PUSH_WAIT.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { env, ping, sleep } from './helpers.js';

export const PUSH_WAIT = 10_000; // pushes leave through an outbox, asynchronously: bounded, generous
export const QUIET = 1500; // after the expected pushes: what else was coming has come
export const SUBJECT = 'mailto:ops@example.com';
const SETTINGS_CACHE_WAIT = 5500; // the server reads push settings through a cache of at most 5 s

function parley(args) {
  assert.ok(env.bin && env.dataDir, 'PARLEY_BIN and PARLEY_DATA_DIR are set by run.sh');
  return new Promise((resolve, reject) => {
    execFile(env.bin, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`parley ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function parseJson(out, what) {
  try {
    return JSON.parse(out);
  } catch {
    return assert.fail(`${what} did not print JSON: ${out}`);
  }
}

function assertVapidKey(key, where) {
  assert.equal(typeof key, 'string', `vapid_public_key in ${where}`);
  const raw = Buffer.from(key, 'base64url');
  assert.equal(raw.length, 65, `vapid_public_key is a 65-octet P-256 point: ${key}`);
  assert.equal(raw[0], 0x04, 'an uncompressed point');
}

let vapid;
/**
 * The app's VAPID public key as the operator's CLI shows it. The first push
 * file of a run makes the keys (`parley app update --vapid-generate
 * --vapid-subject`) and waits out the settings cache; later files find them
 * in `parley app list` (keys are not regenerated: files run one after another
 * and the key stays the same for the whole run).
 */
export function setup() {
  vapid ??= (async () => {
    const listed = (await parley(['app', 'list', '--data-dir', env.dataDir]))
      .split('\n').filter(Boolean).map((l) => parseJson(l, 'parley app list'))
      .find((a) => a.id === env.appId);
    assert.ok(listed, `parley app list shows app ${env.appId}`);
    if (listed.vapid_public_key) {
      assertVapidKey(listed.vapid_public_key, 'parley app list');
      return listed.vapid_public_key;
    }
    const args = ['app', 'update', '--data-dir', env.dataDir, '--id', String(env.appId), '--vapid-generate', '--vapid-subject', SUBJECT];
    const printed = parseJson(await parley(args), 'parley app update --vapid-generate');
    assertVapidKey(printed.vapid_public_key, 'parley app update output');
    await sleep(SETTINGS_CACHE_WAIT);
    return printed.vapid_public_key;
  })();
  return vapid;
}

// ---------------------------------------------------------------------------
// Subscriptions

/** The SDK's subscriptions.create params for a web device (REST §10.1). */
export function webParams(sub, { udid = crypto.randomUUID(), environment = 'development' } = {}) {
  return {
    notification_channel: 'web',
    device: { platform: 'web', udid },
    push_token: { environment, web_endpoint: sub.endpoint, web_auth: sub.auth, web_p256dh: sub.p256dh },
  };
}

/** REST §2.7: {subscription: {id, notification_channel: {name}, device: {udid, platform: {name}}}}. */
export function assertSubscription(item, { udid, channel = 'web', platform = 'web' }, what = 'subscription') {
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
export async function subscribe(u, r, opts = {}) {
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
export async function send(a, b, dialog, body, extension = {}) {
  const message = { type: 'chat', extension: { save_to_history: 1, dialog_id: dialog._id, ...extension } };
  if (body !== undefined) message.body = body;
  const id = a.cc.chat.send(b.user.id, message);
  await ping(a);
  return id;
}

/** A private dialog of a with b. */
export function dialogWith(a, b) {
  return a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
}

/** The chat alert of REST §10.5 for a message from sender. */
export function alert(sender, dialog, messageId, body, badge) {
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
 * For each [sub, payloads] of expected: waits (bounded) until sub's endpoint
 * has that many pushes; then, after one quiet period, asserts each endpoint
 * holds exactly those payloads (any order) — no duplicates, nothing else —
 * each signed with the app's VAPID key and subject.
 */
export async function expectPushes(r, expected, key, label) {
  for (const [sub, payloads] of expected) {
    await r.waitFor(payloads.length, PUSH_WAIT, sub.endpoint).catch((e) => {
      throw new Error(`${label}: ${e.message}`);
    });
  }
  await sleep(QUIET);
  for (const [sub, payloads] of expected) {
    const got = r.received(sub.endpoint);
    assert.deepEqual(got.map((p) => p.payload).sort(byJson), [...payloads].sort(byJson), `${label}: the pushes at ${sub.endpoint}`);
    for (const p of got) {
      assert.equal(p.vapidKey, key, `${label}: signed with the app's VAPID key`);
      assert.equal(p.claims.sub, SUBJECT, `${label}: the JWT's sub is the app's VAPID subject`);
    }
  }
}

export function assertNoRefusals(r) {
  assert.deepEqual(r.rejected(), [], 'every request the server made to the push service was valid');
}

/** An event's universal message: base64 of a JSON object (REST §10.4). */
export function eventMessage(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64');
}
