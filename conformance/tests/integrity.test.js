// Security and data integrity through the official SDK (issue 10): ended
// credentials close their chat connections, deleted accounts leave nothing
// to the next sign-up, guessed passwords back off, message ids cannot be
// stolen across dialogs, removed members stay out, markers that do not
// belong are dropped, and bad search input is a 4xx. Every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin, newClient, withTimeout, expectReject, checkErrorsBody, uniqueLogin, emailFor, DEFAULT_PASSWORD, sleep, online, nextEvent as next,
} from './helpers.js';

const WAIT = 5000;

/** Resolves when the SDK reports its connection lost. */
function disconnected(cc) {
  return new Promise((resolve) => {
    cc.chat.onDisconnectedListener = () => resolve();
  });
}

/**
 * Proves that `listener` does NOT fire on `cc`: after the action, a ping
 * round trip of `cc` (its own stanzas are answered in order) plus a short
 * grace period must pass without it.
 */
async function expectSilence(cc, listener, what) {
  let fired = null;
  cc.chat[listener] = (...args) => {
    fired = args;
  };
  await withTimeout(cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping');
  await sleep(300);
  assert.equal(fired, null, `${what}: ${listener} fired with ${JSON.stringify(fired)}`);
}

test('integrity: destroySession() closes the chat connection that logged in with its token', async () => {
  const u = await signupAndLogin();
  const token = u.cc.service.sdkInstance.session.token;
  await withTimeout(u.cc.chat.connect({ userId: u.user.id, password: token }), WAIT, 'connect with token');
  const lost = disconnected(u.cc);
  await u.cc.destroySession();
  await withTimeout(lost, WAIT, 'onDisconnectedListener after destroySession');
  // The token no longer opens a chat connection either.
  const again = newClient();
  await assert.rejects(withTimeout(again.chat.connect({ userId: u.user.id, password: token }), WAIT, 'connect'),
    (e) => String(e).includes('not-authorized'));
  again.chat.disconnect();
  u.cc.chat.disconnect();
});

test('integrity: a password change ends the other sessions and their chat connections, keeps the caller', async () => {
  const u = await signupAndLogin();
  const other = newClient();
  await other.createSession({ login: u.login, password: u.password });
  await online({ ...u, cc: other });
  try {
    const lost = disconnected(other);
    await u.cc.users.update({ old_password: u.password, password: 'brand-new-secret-1' });
    await withTimeout(lost, WAIT, "the other session's chat connection closed");
    await expectReject(other.getSession(), 401);
    const mine = await u.cc.getSession();
    assert.equal(mine.user_id, u.user.id, 'the session that changed the password stays');
  } finally {
    other.chat.disconnect();
  }
});

test('integrity: a deleted account is disconnected and the next sign-up inherits nothing of it', async () => {
  const a = await online();
  const b = await signupAndLogin();
  const d = await b.cc.chat.dialog.create({ type: 2, name: 'before deletion', occupants_ids: [a.user.id] });
  await b.cc.chat.message.create({ chat_dialog_id: d._id, message: 'secret history' });
  const lost = disconnected(a.cc);
  await a.cc.users.delete();
  await withTimeout(lost, WAIT, 'onDisconnectedListener after users.delete()');
  const group = (await b.cc.chat.dialog.list({ _id: d._id })).items[0];
  assert.ok(!group.occupants_ids.includes(a.user.id), `the deleted user left the group: ${JSON.stringify(group.occupants_ids)}`);

  const n = await signupAndLogin();
  assert.notEqual(n.user.id, a.user.id, 'a deleted user id is never given again');
  const list = await n.cc.chat.dialog.list();
  assert.equal(list.items.length, 0, `the new account sees no dialogs: ${JSON.stringify(list.items.map((x) => x._id))}`);
  await expectReject(n.cc.chat.message.list({ chat_dialog_id: d._id }), 404);
  a.cc.chat.disconnect();
});

test('integrity: repeated wrong passwords back off with 429 and Retry-After, even for the right one', async () => {
  const login = uniqueLogin();
  const setup = newClient();
  await setup.createSession();
  await setup.users.signup({ login, password: DEFAULT_PASSWORD, email: emailFor(login) });
  const cc = newClient();
  for (let i = 0; i < 5; i++) {
    await expectReject(cc.createSession({ login, password: 'wrong-password-' + i }), 401);
  }
  await expectReject(cc.createSession({ login, password: 'wrong-password-x' }), 429, (info) => {
    checkErrorsBody(info);
    assert.match(info.errors.base[0], /retry in \d+ seconds/i);
  });
  await expectReject(cc.createSession({ login, password: DEFAULT_PASSWORD }), 429);
  await sleep(1100); // the first wait is one second
  const s = await cc.createSession({ login, password: DEFAULT_PASSWORD });
  assert.ok(s.user_id > 0, 'the right password is accepted once the wait is over');
});

test('integrity: a message id already used in another dialog is replaced, and the message is stored', async () => {
  const a = await online();
  const b = await online();
  const c = await online();
  const ab = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
  const cb = await c.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
  // C claims an id first, in its own dialog.
  let got = next(b.cc, 'onMessageListener');
  const claimed = c.cc.chat.send(b.user.id, { type: 'chat', body: 'claimed first', extension: { save_to_history: 1, dialog_id: cb._id } });
  await withTimeout(got, WAIT, 'C to B');
  // A sends with the same id: not a retransmission (another dialog, another sender).
  got = next(b.cc, 'onMessageListener');
  a.cc.chat.send(b.user.id, { id: claimed, type: 'chat', body: 'must not vanish', extension: { save_to_history: 1, dialog_id: ab._id } });
  const [from, msg] = await withTimeout(got, WAIT, 'A to B');
  assert.equal(from, a.user.id);
  assert.equal(msg.body, 'must not vanish');
  assert.notEqual(msg.id, claimed, 'the delivered copy carries a fresh id');
  const history = await b.cc.chat.message.list({ chat_dialog_id: ab._id, mark_as_read: 0 });
  assert.deepEqual(history.items.map((m) => [m._id, m.message]), [[msg.id, 'must not vanish']]);
  for (const u of [a, b, c]) u.cc.chat.disconnect();
});

test('integrity: a member the owner removed with pull_all cannot subscribe back until re-added', async () => {
  const a = await signupAndLogin();
  const b = await signupAndLogin();
  const g = await a.cc.chat.dialog.create({ type: 2, name: 'removal', occupants_ids: [b.user.id] });
  await a.cc.chat.dialog.update(g._id, { pull_all: { occupants_ids: [b.user.id] } });
  await a.cc.chat.message.create({ chat_dialog_id: g._id, message: 'after the removal' });
  await expectReject(b.cc.chat.dialog.subscribe(g._id), 404);
  await expectReject(b.cc.chat.message.list({ chat_dialog_id: g._id }), 404);
  await a.cc.chat.dialog.update(g._id, { push_all: { occupants_ids: [b.user.id] } });
  const back = await b.cc.chat.message.list({ chat_dialog_id: g._id, mark_as_read: 0 });
  assert.deepEqual(back.items.map((m) => m.message), ['after the removal']);
});

test("integrity: a 'delivered' marker from a non-member does not reach the sender", async () => {
  const a = await online();
  const b = await online();
  const stranger = await online();
  const d = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
  const got = next(b.cc, 'onMessageListener');
  const delivered = next(a.cc, 'onDeliveredStatusListener');
  const id = a.cc.chat.send(b.user.id, { type: 'chat', body: 'for b only', extension: { save_to_history: 1, dialog_id: d._id } });
  await withTimeout(got, WAIT, 'onMessageListener');
  await withTimeout(delivered, WAIT, "b's automatic 'delivered'");
  stranger.cc.chat.sendDeliveredStatus({ messageId: id, userId: a.user.id, dialogId: d._id });
  stranger.cc.chat.sendReadStatus({ messageId: id, userId: a.user.id, dialogId: d._id });
  await withTimeout(stranger.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'stranger ping');
  await expectSilence(a.cc, 'onReadStatusListener', "the stranger's 'read'");
  const m = (await a.cc.chat.message.list({ chat_dialog_id: d._id, mark_as_read: 0 })).items[0];
  assert.ok(!m.read_ids.includes(stranger.user.id) && !m.delivered_ids.includes(stranger.user.id),
    `the stranger's markers are not recorded: ${JSON.stringify(m)}`);
  for (const u of [a, b, stranger]) u.cc.chat.disconnect();
});

test('integrity: a NUL in search_text is a 422, not a server error', async () => {
  const u = await signupAndLogin();
  await expectReject(u.cc.chat.search({ search_text: 'coffee\u0000tomorrow' }), 422, (info) => checkErrorsBody(info));
});
