// Push events through the official SDK (REST.md §10.4,
// pushnotifications.events.create): a universal push reaches every matching
// Web Push subscription once, decrypted to the event's message JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, signupAndLogin, expectReject, sleep } from './helpers.js';
import { newReceiver } from './webpush-receiver.js';
import { setup, subscribe, expectPushes, assertNoRefusals, eventMessage, QUIET } from './push-helpers.js';

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
    await expectPushes(r, [[s1, [payload]], [s2a, [payload]], [s2b, [payload]]], key, 'event to u1 and u2');
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
    await expectPushes(r, [[prod, [payload]], [dev, [later]]], key, 'one event per environment');
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
