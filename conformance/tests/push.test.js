// Chat alerts (REALTIME.md §20.4, REST.md §10.5; the guide's "Chat alerts")
// to offline recipients through the official SDK, received by a local Web
// Push service (webpush-receiver.js) that checks VAPID, TTL and aes128gcm as
// a browser vendor's service does and decrypts every payload.
//
// "No push" is proven, not assumed: after the message that must not push, a
// later message to the same recipient must push, and once its push has
// arrived (plus a quiet bounded wait) the receiver holds that push only.
// More push tests: push-subscriptions, push-presence, push-events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signupAndLogin, online, done } from './helpers.js';
import { newReceiver } from './webpush-receiver.js';
import { setup, subscribe, send, dialogWith, alert, expectPushes, assertNoRefusals } from './push-helpers.js';

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
    await expectPushes(r, [[phone, [first]], [laptop, [first]]], key, 'first message');
    const m2 = await send(a, b, dialog, 'Still there?');
    const second = alert(a, dialog, m2, 'Still there?', 2);
    await expectPushes(r, [[phone, [first, second]], [laptop, [first, second]]], key, 'second message');
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
    await expectPushes(r, [[sub, [alert(a, dialog, id, '', 1)]]], key, 'attachment-only message');
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
    await expectPushes(r, [[sub, [alert(a, dialog, loud, 'loud', 2)]]], key, 'silent then loud');
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
    await expectPushes(r, [[sub, [alert(a, dialog, heard, 'heard', 2)]]], key, 'muted then heard');
    assertNoRefusals(r);
  } finally {
    await done(a);
    await r.close();
  }
});
