// Chat alerts and presence (REALTIME.md §20.4, §16.4; the guide's "Mark a
// client as Active/Inactive"): an online recipient with an active resource
// gets no push, markInactive makes it pushable, and edits, deletes, typing
// and markers never push. Absence is proven by a later message that does push.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { online, done, ping, sleep, withTimeout, nextEvent, CHAT_WAIT } from './helpers.js';
import { newReceiver } from './webpush-receiver.js';
import { setup, subscribe, send, dialogWith, alert, expectPushes, assertNoRefusals, PUSH_WAIT, QUIET } from './push-helpers.js';

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
    await expectPushes(r, [[sub, [alert(a, dialog, m2, 'in the background', 2)]]], key, 'online then inactive');
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
    await expectPushes(r, [[sub, [p1]]], key, 'inactive');
    b.cc.chat.markActive();
    await ping(b);
    const live = nextEvent(b.cc, 'onMessageListener');
    const m2 = await send(a, b, dialog, 'two');
    assert.equal((await withTimeout(live, CHAT_WAIT, 'live copy of m2'))[1].id, m2);
    b.cc.chat.markInactive();
    await ping(b);
    const m3 = await send(a, b, dialog, 'three');
    await expectPushes(r, [[sub, [p1, alert(a, dialog, m3, 'three', 3)]]], key, 'inactive, active, inactive');
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
    await expectPushes(r, [[subB, [alert(a, dialog, m1, 'original', 1)]]], key, 'the first message');
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
