// Compatibility with ConnectyCube's own client code (issue 15): what
// @connectycube/chat-widget 0.43.0 and @connectycube/react 6.1.2 rely on,
// driven through the official SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newClient, signupAndLogin, signupMany, uniqueLogin, emailFor, expectReject, withTimeout, online, done,
  DEFAULT_PASSWORD, CHAT_WAIT,
} from './helpers.js';

// @connectycube/react's login(params, force) and the widget's userId login:
// createSession, and on 404 (only) users.signup, then createSession again.
async function loginOrSignUp(cc, params) {
  try {
    return await cc.createSession(params);
  } catch (e) {
    if (e?.code !== 404) throw e;
    await cc.users.signup(params);
    return cc.createSession(params);
  }
}

test('compat: createSession with an unknown login or email is 404, a wrong password 401', async () => {
  const cc = newClient();
  await expectReject(cc.createSession({ login: uniqueLogin('ghost'), password: DEFAULT_PASSWORD }), 404);
  await expectReject(cc.createSession({ email: emailFor(uniqueLogin('ghost')), password: DEFAULT_PASSWORD }), 404);
  const u = await signupAndLogin();
  await expectReject(newClient().createSession({ login: u.login, password: 'not-the-password' }), 401);
  await expectReject(newClient().createSession({ email: u.email, password: 'not-the-password' }), 401);
});

test("compat: @connectycube/react's sign-up on 404 creates the user and logs in, by login and by email", async () => {
  const login = uniqueLogin('widget');
  const cc = newClient();
  const s = await loginOrSignUp(cc, { login, password: DEFAULT_PASSWORD });
  assert.ok(s.user_id > 0, `session for the new user: ${JSON.stringify(s)}`);
  assert.equal(s.user.login, login);
  // The next start finds the user: no second sign-up.
  const again = await loginOrSignUp(newClient(), { login, password: DEFAULT_PASSWORD });
  assert.equal(again.user_id, s.user_id);

  const email = emailFor(uniqueLogin('widgetmail'));
  const byEmail = await loginOrSignUp(newClient(), { email, password: DEFAULT_PASSWORD });
  assert.equal(byEmail.user.email, email);
});

test('compat: chat login (SASL) of an unknown user id is still not-authorized', async () => {
  const { cc, user } = await signupAndLogin();
  await assert.rejects(
    withTimeout(cc.chat.connect({ userId: user.id + 100000, password: DEFAULT_PASSWORD }), CHAT_WAIT, 'connect'),
    (e) => String(e).includes('not-authorized'),
  );
  assert.equal(cc.chat.isConnected, false);
  cc.chat.disconnect();
});

test("compat: a private dialog is named, for each participant, after the other one (full_name, else login)", async () => {
  const [a, b, c] = await signupMany(3);
  await a.cc.users.update({ full_name: 'Alice Compat' });
  const d = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
  assert.equal(d.name, b.login, "b has no full_name: a sees b's login");
  const forB = (await b.cc.chat.dialog.list({ _id: d._id })).items[0];
  assert.equal(forB.name, 'Alice Compat');
  const updated = await b.cc.chat.dialog.update(d._id, { name: 'ignored' });
  assert.equal(updated.name, 'Alice Compat');
  const g = await a.cc.chat.dialog.create({ type: 2, name: 'Compat group', occupants_ids: [b.user.id, c.user.id] });
  const list = await b.cc.chat.dialog.list({ sort_desc: 'created_at' });
  const byId = new Map(list.items.map((x) => [x._id, x.name]));
  assert.equal(byId.get(d._id), 'Alice Compat');
  assert.equal(byId.get(g._id), 'Compat group', 'a group keeps its own name');
});

test('compat: GET /subscriptions answers 200 [] for a user without subscriptions', async () => {
  const u = await signupAndLogin();
  const list = await u.cc.pushnotifications.subscriptions.list();
  assert.deepEqual(list, []);
});

test("compat: with stream management on, the sender's 'sent' comes before the recipient's 'delivered' and 'read', for every message", async () => {
  const a = await signupAndLogin();
  const b = await online();
  // The SDK's config is one per process: stream management for this test only.
  const cfg = a.cc.service.sdkInstance.config;
  const before = cfg.chat.streamManagement;
  cfg.chat.streamManagement = { enable: true };
  try {
    await online(a);
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const events = []; // [kind, message id] in the order a's SDK reported them
    a.cc.chat.onSentMessageCallback = (lost, sent) => events.push(lost ? ['lost', lost.id] : ['sent', sent.id]);
    a.cc.chat.onDeliveredStatusListener = (id) => events.push(['delivered', id]);
    a.cc.chat.onReadStatusListener = (id) => events.push(['read', id]);
    // b reads each message the moment it arrives, as an open chat does.
    b.cc.chat.onMessageListener = (from, m) => {
      b.cc.chat.sendReadStatus({ messageId: m.id, userId: from, dialogId: m.dialog_id });
    };
    const ids = [];
    const deadline = Date.now() + CHAT_WAIT;
    const until = async (cond) => {
      while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    };
    // The SDK asks for the server's count (<r/>) right after each message,
    // and whether its answer beats the recipient's receipts is then a race
    // (that the widget in Chromium lost). Here each <r/> is held back
    // until the message is read: the order then depends on the server
    // alone, which must have acknowledged the message before routing it.
    const sm = a.cc.chat.streamManagement;
    const sendNonza = sm.sendNonza.bind(sm);
    const held = [];
    sm.sendNonza = (name) => {
      if (name !== 'r') return sendNonza(name);
      const id = ids[held.length];
      const p = until(() => events.some(([e, x]) => e === 'read' && x === id)).then(() => sendNonza(name));
      held.push(p);
      return p;
    };
    for (let i = 0; i < 10; i++) {
      ids.push(a.cc.chat.send(b.user.id, {
        type: 'chat', body: `tick ${i}`, markable: 1, extension: { save_to_history: 1, dialog_id: dialog._id },
      }));
    }
    const complete = () => ids.every((id) => ['sent', 'delivered', 'read'].every((k) => events.some(([e, x]) => e === k && x === id)));
    await until(complete);
    await Promise.allSettled(held); // every <r/> out before the streams close
    assert.ok(complete(), `every message sent, delivered and read within ${CHAT_WAIT} ms: ${JSON.stringify(events)}`);
    for (const id of ids) {
      const at = (k) => events.findIndex(([e, x]) => e === k && x === id);
      assert.equal(at('lost'), -1, `${id} reported lost`);
      assert.ok(at('sent') < at('delivered') && at('sent') < at('read'),
        `${id}: 'sent' must come before 'delivered' and 'read': ${JSON.stringify(events)}`);
    }
  } finally {
    await done(a, b); // with stream management still on, so that the SDK stops its ack timer
    cfg.chat.streamManagement = before;
  }
});
