// Real-time groundwork through the official SDK (REALTIME.md §1-§3, §6):
// connect with a password and with the session token, connection status,
// ping, disconnect, and a one-to-one message between two connected users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signupAndLogin, withTimeout } from './helpers.js';

const WAIT = 5000;

async function connected(fields = {}) {
  const u = await signupAndLogin(fields);
  return u;
}

test('chat: connect with user id and password, isConnected, ping, disconnect', async () => {
  const { cc, user, password } = await connected();
  assert.equal(cc.chat.isConnected, false);
  await withTimeout(cc.chat.connect({ userId: user.id, password }), WAIT, 'connect');
  assert.equal(cc.chat.isConnected, true);
  await withTimeout(cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping');
  const disconnected = new Promise((resolve) => {
    cc.chat.onDisconnectedListener = resolve;
  });
  cc.chat.disconnect();
  await withTimeout(disconnected, WAIT, 'onDisconnectedListener');
  assert.equal(cc.chat.isConnected, false);
});

test('chat: connect with the session token as password (custom auth)', async () => {
  const { cc, user } = await connected();
  const token = cc.service.sdkInstance.session.token;
  await withTimeout(cc.chat.connect({ userId: user.id, password: token }), WAIT, 'connect with token');
  assert.equal(cc.chat.isConnected, true);
  cc.chat.disconnect();
});

test('chat: connect with a wrong password is refused with not-authorized', async () => {
  const { cc, user } = await connected();
  await assert.rejects(withTimeout(cc.chat.connect({ userId: user.id, password: 'not-the-password' }), WAIT, 'connect'),
    (e) => String(e).includes('not-authorized'));
  assert.equal(cc.chat.isConnected, false);
  cc.chat.disconnect();
});

test('chat: a 1-1 message reaches the connected recipient with its body, id and extension', async () => {
  const a = await connected();
  const b = await connected();
  await withTimeout(a.cc.chat.connect({ userId: a.user.id, password: a.password }), WAIT, 'connect a');
  await withTimeout(b.cc.chat.connect({ userId: b.user.id, password: b.password }), WAIT, 'connect b');
  // The reply to a ping after connect proves b is available (REALTIME.md §3).
  await withTimeout(b.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping b');
  const received = new Promise((resolve) => {
    b.cc.chat.onMessageListener = (userId, message) => resolve({ userId, message });
  });
  const id = a.cc.chat.send(b.user.id, {
    type: 'chat',
    body: 'How are you today?',
    extension: { trip: { city: 'Reykjavik', dates: ['2024-02-01', '2024-02-03'] } },
  });
  const { userId, message } = await withTimeout(received, WAIT, 'onMessageListener');
  assert.equal(userId, a.user.id);
  assert.equal(message.id, id);
  assert.equal(message.type, 'chat');
  assert.equal(message.body, 'How are you today?');
  assert.deepEqual(message.extension.trip, { city: 'Reykjavik', dates: { 0: '2024-02-01', 1: '2024-02-03' } });
  a.cc.chat.disconnect();
  b.cc.chat.disconnect();
});
