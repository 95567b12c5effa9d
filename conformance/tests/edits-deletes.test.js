// Edits and deletes through the official SDK (the guide's 'Edit message'
// and 'Delete messages' snippets, REALTIME.md §10, §11): what the other
// party receives, and what REST history and counters show afterwards.
// Where something must not arrive, the sender's ping proves its stanza
// was handled, the receiver's ping proves everything routed before it was
// delivered, and a short bounded wait covers the SDK's dispatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin, withTimeout, sleep, assertDeleteReport, online, nextEvent as next, connectChat as connect,
} from './helpers.js';

const WAIT = 5000;

/** Records every call of the listeners on cc. */
function record(cc, listeners) {
  const got = [];
  for (const l of listeners) cc.chat[l] = (...args) => got.push([l, ...args]);
  return got;
}

/** Both sides' pings, then a bounded wait: whatever was routed has arrived. */
async function settle(...users) {
  for (const u of users) await withTimeout(u.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping');
  await sleep(200);
}

async function sendSaved(from, to, dialog, body) {
  const got = next(to.cc, 'onMessageListener');
  const id = from.cc.chat.send(to.user.id, { type: 'chat', body, extension: { save_to_history: 1, dialog_id: dialog._id } });
  await withTimeout(got, WAIT, 'onMessageListener');
  return id;
}

test('edits: editMessage reaches the other party, changes REST history and the dialog last message', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const id = await sendSaved(a, b, dialog, 'helo');
    const updated = next(b.cc, 'onMessageUpdateListener');
    a.cc.chat.editMessage({ to: b.user.id, dialogId: dialog._id, body: 'hello', originMessageId: id, last: true });
    const [msgId, isLast, body, dialogId, userId] = await withTimeout(updated, WAIT, 'onMessageUpdateListener');
    assert.deepEqual([msgId, isLast, body, dialogId, userId], [id, true, 'hello', dialog._id, a.user.id]);
    const history = await b.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.equal(history.items.length, 1);
    assert.equal(history.items[0]._id, id);
    assert.equal(history.items[0].message, 'hello');
    const list = await b.cc.chat.dialog.list({ _id: dialog._id });
    assert.equal(list.items[0].last_message, 'hello');
    assert.equal(list.items[0].unread_messages_count, 1, 'an edit is not a new message');
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test("edits: an edit of someone else's message is refused with 403, changes nothing, reaches no one", async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const id = await sendSaved(a, b, dialog, 'original');
    const seen = record(a.cc, ['onMessageUpdateListener', 'onMessageListener']);
    const failed = next(b.cc, 'onMessageErrorListener');
    b.cc.chat.editMessage({ to: a.user.id, dialogId: dialog._id, body: 'forged', originMessageId: id, last: true });
    const [, err] = await withTimeout(failed, WAIT, 'onMessageErrorListener');
    assert.equal(err.code, 403);
    await settle(b, a);
    assert.deepEqual(seen, [], 'the author received nothing');
    const history = await a.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.equal(history.items[0].message, 'original');
    const list = await a.cc.chat.dialog.list({ _id: dialog._id });
    assert.equal(list.items[0].last_message, 'original');
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test('edits: an edit to an offline user is delivered on its next connection, after the message', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const down = next(b.cc, 'onDisconnectedListener');
    b.cc.chat.disconnect();
    await withTimeout(down, WAIT, 'b disconnected');
    await withTimeout(a.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping a');
    const id = a.cc.chat.send(b.user.id, { type: 'chat', body: 'first try', extension: { save_to_history: 1, dialog_id: dialog._id } });
    a.cc.chat.editMessage({ to: b.user.id, dialogId: dialog._id, body: 'second try', originMessageId: id, last: true });
    await withTimeout(a.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping a after sending'); // both handled
    const got = [];
    const both = new Promise((resolve) => {
      b.cc.chat.onMessageListener = (userId, msg) => got.push(['message', userId, msg.id, msg.body]);
      b.cc.chat.onMessageUpdateListener = (msgId, isLast, body, dialogId, userId) => {
        got.push(['update', userId, msgId, body, dialogId]);
        resolve();
      };
    });
    await connect(b);
    await withTimeout(both, WAIT, 'onMessageUpdateListener after reconnecting');
    assert.deepEqual(got, [
      ['message', a.user.id, id, 'first try'],
      ['update', a.user.id, id, 'second try', dialog._id],
    ]);
    const history = await b.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.equal(history.items[0].message, 'second try');
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test('deletes: deleteMessage reaches the other party and leaves REST history and the unread count', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 2, name: 'deletes', occupants_ids: [b.user.id] });
    const sent = [];
    for (const body of ['keep me', 'delete me']) {
      const toB = next(b.cc, 'onMessageListener');
      sent.push(a.cc.chat.send(dialog._id, { type: 'groupchat', body, extension: { save_to_history: 1, dialog_id: dialog._id } }));
      await withTimeout(toB, WAIT, 'group message');
    }
    let unread = await b.cc.chat.message.unreadCount({ chat_dialog_ids: [dialog._id] });
    assert.equal(unread[dialog._id], 2);
    const deleted = next(b.cc, 'onMessageDeleteListener');
    a.cc.chat.deleteMessage({ to: dialog._id, dialogId: dialog._id, messageId: sent[1] });
    const [msgId, dialogId, userId] = await withTimeout(deleted, WAIT, 'onMessageDeleteListener');
    assert.deepEqual([msgId, dialogId, userId], [sent[1], dialog._id, a.user.id]);
    const history = await b.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.deepEqual(history.items.map((m) => m._id), [sent[0]]);
    unread = await b.cc.chat.message.unreadCount({ chat_dialog_ids: [dialog._id] });
    assert.equal(unread[dialog._id], 1);
    const list = await b.cc.chat.dialog.list({ _id: dialog._id });
    assert.equal(list.items[0].last_message, 'keep me');
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test("deletes: a delete of someone else's message is refused with 403 and changes nothing", async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const id = await sendSaved(a, b, dialog, 'mine');
    const seen = record(a.cc, ['onMessageDeleteListener', 'onMessageListener']);
    const failed = next(b.cc, 'onMessageErrorListener');
    b.cc.chat.deleteMessage({ to: a.user.id, dialogId: dialog._id, messageId: id });
    const [, err] = await withTimeout(failed, WAIT, 'onMessageErrorListener');
    assert.equal(err.code, 403);
    await settle(b, a);
    assert.deepEqual(seen, [], 'the author received nothing');
    const history = await a.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.deepEqual(history.items.map((m) => m._id), [id]);
    const unread = await b.cc.chat.message.unreadCount({ chat_dialog_ids: [dialog._id] });
    assert.equal(unread[dialog._id], 1);
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test('deletes: a forced REST delete notifies a connected occupant', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const id = await sendSaved(a, b, dialog, 'gone soon');
    const deleted = next(b.cc, 'onMessageDeleteListener');
    const report = await a.cc.chat.message.delete([id], { force: 1 });
    assertDeleteReport(report, { deleted: [id] });
    const [msgId, dialogId, userId] = await withTimeout(deleted, WAIT, 'onMessageDeleteListener');
    assert.deepEqual([msgId, dialogId, userId], [id, dialog._id, a.user.id]);
    const history = await b.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.equal(history.items.length, 0);
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});
