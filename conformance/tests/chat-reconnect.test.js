// Reconnection (the guide's "Reconnection" section): the server goes away
// without warning (SIGKILL) and comes back; the SDK reconnects by itself
// after its 5 s interval and keeps chatting, and what was stored before the
// crash is still in history. Runs against its own server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { signupAndLogin, startServer, withTimeout } from './helpers.js';

const WAIT = 5000;
let srv;
after(async () => {
  if (srv) await srv.stop();
});

function once(cc, listener) {
  return new Promise((resolve) => {
    cc.chat[listener] = (...args) => resolve(args);
  });
}

test('chat: after the server is killed and restarted the SDK reconnects and keeps chatting', async () => {
  srv = await startServer();
  const a = await signupAndLogin({}, { target: srv });
  const b = await signupAndLogin({}, { target: srv });
  try {
    for (const u of [a, b]) {
      await withTimeout(u.cc.chat.connect({ userId: u.user.id, password: u.password }), WAIT, 'connect');
      await withTimeout(u.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping');
    }
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const got = once(b.cc, 'onMessageListener');
    const before = a.cc.chat.send(b.user.id, { type: 'chat', body: 'before the crash', extension: { save_to_history: 1, dialog_id: dialog._id } });
    await withTimeout(got, WAIT, 'message before the crash');

    const aDown = once(a.cc, 'onDisconnectedListener');
    const aBack = once(a.cc, 'onReconnectListener');
    const bBack = once(b.cc, 'onReconnectListener');
    await srv.crashAndRestart();
    await withTimeout(aDown, WAIT, 'onDisconnectedListener');
    await withTimeout(Promise.all([aBack, bBack]), 20_000, 'onReconnectListener');
    assert.equal(a.cc.chat.isConnected, true);
    await withTimeout(b.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping after reconnect');

    const again = once(b.cc, 'onMessageListener');
    const id = a.cc.chat.send(b.user.id, { type: 'chat', body: 'after the crash', extension: { save_to_history: 1, dialog_id: dialog._id } });
    const [userId, msg] = await withTimeout(again, WAIT, 'message after reconnect');
    assert.equal(userId, a.user.id);
    assert.equal(msg.id, id);
    const history = await a.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    // Stored before the crash and after it: both in history, once each.
    assert.deepEqual(new Set(history.items.map((m) => m._id)), new Set([before, id]));
    assert.equal(history.items.length, 2);

    // A message kept for an offline user survives a crash too: b goes
    // offline, a writes, the server is killed, b comes back and gets it.
    const bDown = once(b.cc, 'onDisconnectedListener');
    b.cc.chat.disconnect();
    await withTimeout(bDown, WAIT, 'b disconnected');
    await withTimeout(a.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping a');
    const offline = a.cc.chat.send(b.user.id, { type: 'chat', body: 'while you were away', extension: { save_to_history: 1, dialog_id: dialog._id } });
    await withTimeout(a.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping a after sending'); // processed in order
    const aBack2 = once(a.cc, 'onReconnectListener');
    await srv.crashAndRestart();
    await withTimeout(aBack2, 20_000, 'a reconnects');
    const kept = once(b.cc, 'onMessageListener');
    await withTimeout(b.cc.chat.connect({ userId: b.user.id, password: b.password }), WAIT, 'b reconnects');
    const [from, keptMsg] = await withTimeout(kept, WAIT, 'offline message after the crash');
    assert.equal(from, a.user.id);
    assert.equal(keptMsg.id, offline);
    assert.equal(keptMsg.body, 'while you were away');
    assert.ok(keptMsg.delay, 'delivered with a delay element');
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});
