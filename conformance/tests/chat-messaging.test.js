// Live chat through the official SDK (the guide's Send/Receive, 'Sent',
// 'Delivered', 'Read', 'Is typing' and location attachment snippets), with
// history checked through REST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin, withTimeout, online, nextEvent as next,
} from './helpers.js';

const WAIT = 5000;

test('chat: 1-1 message with save_to_history and dialog_id is delivered, stored, and counted unread', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const got = next(b.cc, 'onMessageListener');
    const message = {
      type: 'chat',
      body: 'How are you today?',
      extension: { save_to_history: 1, dialog_id: dialog._id },
      markable: 1,
    };
    message.id = a.cc.chat.send(b.user.id, message);
    const [userId, msg] = await withTimeout(got, WAIT, 'onMessageListener');
    assert.equal(userId, a.user.id);
    assert.equal(msg.id, message.id);
    assert.equal(msg.dialog_id, dialog._id);
    assert.equal(msg.body, 'How are you today?');
    assert.ok(Number(msg.extension.date_sent) > 0, 'date_sent stamped');
    const history = await b.cc.chat.message.list({ chat_dialog_id: dialog._id, sort_desc: 'date_sent', limit: 100, skip: 0, mark_as_read: 0 });
    assert.equal(history.items.length, 1);
    assert.equal(history.items[0]._id, message.id);
    assert.equal(history.items[0].message, 'How are you today?');
    const unread = await b.cc.chat.message.unreadCount({ dialogs_ids: [dialog._id] });
    assert.equal(unread[dialog._id], 1);
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test("chat: 'Delivered' is automatic and 'Read' is sent on request, both reach the sender", async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const delivered = next(a.cc, 'onDeliveredStatusListener');
    const got = next(b.cc, 'onMessageListener');
    const id = a.cc.chat.send(b.user.id, { type: 'chat', body: 'read me', extension: { save_to_history: 1, dialog_id: dialog._id } });
    await withTimeout(got, WAIT, 'onMessageListener');
    const [dId, dDialog, dUser] = await withTimeout(delivered, WAIT, 'onDeliveredStatusListener');
    assert.deepEqual([dId, dDialog, dUser], [id, dialog._id, b.user.id]);
    const read = next(a.cc, 'onReadStatusListener');
    b.cc.chat.sendReadStatus({ messageId: id, userId: a.user.id, dialogId: dialog._id });
    const [rId, rDialog, rUser] = await withTimeout(read, WAIT, 'onReadStatusListener');
    assert.deepEqual([rId, rDialog, rUser], [id, dialog._id, b.user.id]);
    // Recorded: Alice's view of the dialog says read, Bob has nothing unread.
    const list = await a.cc.chat.dialog.list({ _id: dialog._id });
    assert.equal(list.items[0].last_message_status, 'read');
    const unread = await b.cc.chat.message.unreadCount({ chat_dialog_ids: [dialog._id] });
    assert.equal(unread[dialog._id], 0);
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test("chat: 'Sent' status: onSentMessageCallback fires once the server acknowledges", async () => {
  const a = await signupAndLogin();
  const b = await signupAndLogin();
  // The SDK's config is one per process: turn stream management on for
  // this test only.
  const cfg = a.cc.service.sdkInstance.config;
  const before = cfg.chat.streamManagement;
  cfg.chat.streamManagement = { enable: true };
  try {
    await withTimeout(a.cc.chat.connect({ userId: a.user.id, password: a.password }), WAIT, 'connect');
    await withTimeout(a.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping');
    const sent = next(a.cc, 'onSentMessageCallback');
    const message = { type: 'chat', body: 'did it arrive?', extension: { save_to_history: 1 } };
    a.cc.chat.send(b.user.id, message);
    const [lost, ok] = await withTimeout(sent, WAIT, 'onSentMessageCallback');
    assert.equal(lost, null);
    assert.equal(ok.body, 'did it arrive?');
  } finally {
    cfg.chat.streamManagement = before;
    a.cc.chat.disconnect();
  }
});

test('chat: group message without joining reaches every member, the sender too', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 2, name: 'Friday party', occupants_ids: [b.user.id] });
    const toB = next(b.cc, 'onMessageListener');
    const echo = next(a.cc, 'onMessageListener');
    const message = { type: 'groupchat', body: 'Hi there!', extension: { save_to_history: 1, dialog_id: dialog._id } };
    message.id = a.cc.chat.send(dialog._id, message);
    for (const [who, p] of [['b', toB], ['a (echo)', echo]]) {
      const [userId, msg] = await withTimeout(p, WAIT, `group copy to ${who}`);
      assert.equal(userId, a.user.id);
      assert.equal(msg.id, message.id);
      assert.equal(msg.dialog_id, dialog._id);
      assert.equal(msg.type, 'groupchat');
      assert.equal(msg.body, 'Hi there!');
    }
    const list = await b.cc.chat.dialog.list({ _id: dialog._id });
    assert.equal(list.items[0].last_message, 'Hi there!');
    assert.equal(list.items[0].unread_messages_count, 1);
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test("chat: 'Is typing' in 1-1 and in a group reaches the other side", async () => {
  const a = await online();
  const b = await online();
  try {
    let typing = next(b.cc, 'onMessageTypingListener');
    a.cc.chat.sendIsTypingStatus(b.user.id);
    let [isTyping, userId] = await withTimeout(typing, WAIT, 'typing 1-1');
    assert.equal(isTyping, true);
    assert.equal(userId, a.user.id);
    typing = next(b.cc, 'onMessageTypingListener');
    a.cc.chat.sendIsStopTypingStatus(b.user.id);
    [isTyping] = await withTimeout(typing, WAIT, 'stop typing 1-1');
    assert.equal(isTyping, false);
    const dialog = await a.cc.chat.dialog.create({ type: 2, name: 'typing', occupants_ids: [b.user.id] });
    typing = next(b.cc, 'onMessageTypingListener');
    a.cc.chat.sendIsTypingStatus(dialog._id);
    const [groupTyping, groupUser, groupDialog] = await withTimeout(typing, WAIT, 'typing in a group');
    assert.deepEqual([groupTyping, groupUser, groupDialog], [true, a.user.id, dialog._id]);
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test('chat: a location attachment sent to a private dialog arrives and is stored', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const got = next(b.cc, 'onMessageListener');
    const message = {
      type: dialog.type === 3 ? 'chat' : 'groupchat',
      body: 'attachment',
      extension: { save_to_history: 1, dialog_id: dialog._id, attachments: [{ latitude: '64.7964274', longitude: '-23.7391878', type: 'place' }] },
    };
    message.id = a.cc.chat.send(dialog._id, message);
    const [userId, msg] = await withTimeout(got, WAIT, 'onMessageListener');
    assert.equal(userId, a.user.id);
    assert.deepEqual(msg.extension.attachments, [{ latitude: '64.7964274', longitude: '-23.7391878', type: 'place' }]);
    const history = await a.cc.chat.message.list({ chat_dialog_id: dialog._id });
    assert.equal(history.items[0]._id, message.id);
    assert.deepEqual(history.items[0].attachments, [{ latitude: '64.7964274', longitude: '-23.7391878', type: 'place' }]);
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test("chat: carbons: a user's other device sees the 1-1 message it sent (is_forwarded)", async () => {
  const a = await online();
  const b = await online();
  // The same user on a second device: its own SDK instance and session.
  const a2 = await (async () => {
    const { newClient } = await import('./helpers.js');
    const cc = newClient();
    await cc.createSession({ login: a.login, password: a.password });
    await withTimeout(cc.chat.connect({ userId: a.user.id, password: a.password }), WAIT, 'connect a2');
    await withTimeout(cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping a2');
    return cc;
  })();
  try {
    const copy = next(a2, 'onMessageListener');
    const got = next(b.cc, 'onMessageListener');
    const id = a.cc.chat.send(b.user.id, { type: 'chat', body: 'from my phone', extension: { save_to_history: 1 } });
    await withTimeout(got, WAIT, 'recipient');
    const [userId, msg] = await withTimeout(copy, WAIT, 'carbon on the other device');
    assert.equal(userId, a.user.id);
    assert.equal(msg.id, id);
    assert.equal(msg.body, 'from my phone');
    assert.equal(msg.is_forwarded, true);
    assert.equal(Number(msg.recipient_id), b.user.id);
  } finally {
    a.cc.chat.disconnect();
    a2.chat.disconnect();
    b.cc.chat.disconnect();
  }
});
