// Web Push subscriptions through the official SDK (REST.md §10.1-10.3,
// pushnotifications.subscriptions.*) and the app's VAPID key (GET
// /push/vapid_public_key.json), checked against what the operator's CLI shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { signupAndLogin, expectReject, raw } from './helpers.js';
import { newReceiver } from './webpush-receiver.js';
import { setup, webParams, assertSubscription, subscribe, assertNoRefusals } from './push-helpers.js';

test("push: GET /push/vapid_public_key.json answers 200 with the key the operator's CLI shows", async () => {
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
