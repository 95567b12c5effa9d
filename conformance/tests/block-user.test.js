// Block lists through the official SDK: every snippet of the guide's "Block
// user" section — privacylist.create, setAsDefault (activate and decline),
// getNames, getList, the update flow, delete — and what a block does to
// messages (REALTIME.md §18, §19). Each asserts what the OTHER party
// receives. Where something must not arrive, a later message from an
// unblocked user (the marker) must arrive first, then ping round trips and
// a short bounded wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin, sleep, withTimeout, online, connectChat, CHAT_WAIT,
  recorder, ping, done, call, rejection,
} from './helpers.js';

const WAIT = CHAT_WAIT;
const QUIET = 300; // after the marker and the ping round trips: what was coming has come
const DECLINE_FIRST = 'Decline the default list before changing it';

// onMessageListener(userId, message) / onMessageErrorListener(messageId, error) matchers.
const messageWithId = (id) => (args) => args[1]?.id === id;
const errorFor = (id) => (args) => args[0] === id;

function privacy(u) {
  const p = u.cc.chat.privacylist;
  return {
    create: (list) => call(p.create(list), `privacylist.create ${list.name}`),
    setAsDefault: (name) => call(p.setAsDefault(name), `privacylist.setAsDefault(${name})`),
    getNames: () => call(p.getNames(), 'privacylist.getNames'),
    getList: (name) => call(p.getList(name), `privacylist.getList(${name})`),
    update: (list) => call(p.update(list), `privacylist.update ${list.name}`),
    delete: (name) => call(p.delete(name), `privacylist.delete(${name})`),
  };
}

// The guide's create + setAsDefault.
async function blockList(owner, items, name = 'myList') {
  await privacy(owner).create({ name, items });
  await privacy(owner).setAsDefault(name);
}

function assertNames(res, { def, names }) {
  const shown = JSON.stringify(res);
  assert.equal(res.default, def, `getNames default: ${shown}`);
  assert.equal(res.active, null, `getNames active (the SDK never sets one): ${shown}`);
  // The SDK collects the name of every child of <query>, <default> included
  // (REALTIME.md §18.6); list order is the server's choice.
  assert.deepEqual([...res.names].sort(), [...names].sort(), `getNames names: ${shown}`);
}

function chat(dialog, body) {
  return { type: 'chat', body, extension: { save_to_history: 1, dialog_id: dialog._id } };
}

function groupchat(dialog, body) {
  return { type: 'groupchat', body, extension: { save_to_history: 1, dialog_id: dialog._id } };
}

// `from` sends `to` a 1-1 message that must arrive; returns its id.
async function delivered(from, to, dialog, body) {
  const inbox = recorder(to.cc, 'onMessageListener');
  const id = from.cc.chat.send(to.user.id, chat(dialog, body));
  const [userId, msg] = await inbox.wait(messageWithId(id), `${body}: delivery to ${to.login}`);
  assert.equal(userId, from.user.id);
  assert.equal(msg.body, body);
  return id;
}

// `from` sends `to` a 1-1 message that the server must refuse with `code`:
// the sender's onMessageErrorListener fires with the message id, `to` gets
// nothing before a later message from `marker`. Returns the error.
async function refused(from, to, marker, dialog, body, code, { toRoom = false } = {}) {
  const inbox = recorder(to.cc, 'onMessageListener');
  const errors = recorder(from.cc, 'onMessageErrorListener');
  const id = from.cc.chat.send(toRoom ? dialog._id : to.user.id, chat(dialog, body));
  const [errId, err] = await errors.wait(errorFor(id), `${body}: onMessageErrorListener of ${from.login}`);
  assert.equal(errId, id);
  assert.equal(err.code, code, `${body}: error ${JSON.stringify(err)}`);
  const markerId = marker.cc.chat.send(to.user.id, { type: 'chat', body: 'marker', extension: { save_to_history: 0 } });
  await inbox.wait(messageWithId(markerId), `marker to ${to.login}`);
  await ping(to);
  await sleep(QUIET);
  assert.deepEqual(inbox.calls.map(([, m]) => m.id), [markerId], `${body}: ${to.login} got the refused message`);
  return err;
}

test('block user: privacylist.create makes a list; getNames names it and getList returns its items by ascending user id without mutualBlock', async () => {
  const a = await online();
  const users = await Promise.all([signupAndLogin(), signupAndLogin(), signupAndLogin()]);
  try {
    assertNames(await privacy(a).getNames(), { def: null, names: [] });
    // The guide's list: deny, deny with mutualBlock, allow.
    const [u34, u48, u18] = users.map((u) => u.user.id);
    await privacy(a).create({
      name: 'myList',
      items: [
        { user_id: u34, action: 'deny' },
        { user_id: u48, action: 'deny', mutualBlock: true },
        { user_id: u18, action: 'allow' },
      ],
    });
    assertNames(await privacy(a).getNames(), { def: null, names: ['myList'] });
    const list = await privacy(a).getList('myList');
    const expected = [
      { user_id: u34, action: 'deny' },
      { user_id: u48, action: 'deny' },
      { user_id: u18, action: 'allow' },
    ].sort((x, y) => x.user_id - y.user_id);
    assert.deepEqual(list, { name: 'myList', items: expected });
  } finally {
    await done(a);
  }
});

test('block user: a list takes effect only once setAsDefault activates it; setAsDefault(null) declines it', async () => {
  const a = await online();
  const b = await online();
  const c = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const withC = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [c.user.id] });
    await privacy(a).create({ name: 'myList', items: [{ user_id: b.user.id, action: 'deny' }] });
    await delivered(b, a, dialog, 'list created, not active yet');

    await privacy(a).setAsDefault('myList');
    assertNames(await privacy(a).getNames(), { def: 'myList', names: ['myList', 'myList'] });
    const err = await refused(b, a, c, dialog, 'list is the default', 503);
    assert.deepEqual(err, { code: 503, info: 'Service not available.' });
    // Another list beside the default one (the guide's getNames example).
    await privacy(a).create({ name: 'blockedusers', items: [{ user_id: c.user.id, action: 'deny' }] });
    assertNames(await privacy(a).getNames(), { def: 'myList', names: ['myList', 'myList', 'blockedusers'] });

    await privacy(a).setAsDefault(null);
    assertNames(await privacy(a).getNames(), { def: null, names: ['myList', 'blockedusers'] });
    await delivered(b, a, dialog, 'default declined');
    await delivered(c, a, withC, 'blockedusers was never the default');
  } finally {
    await done(a, b, c);
  }
});

test('block user: setAsDefault of an unknown list name rejects with code 404 and keeps the default', async () => {
  const a = await online();
  const b = await signupAndLogin();
  try {
    let err = await rejection(privacy(a).setAsDefault('noSuchList'), 'setAsDefault(noSuchList)');
    assert.equal(err.code, 404, JSON.stringify(err));
    assertNames(await privacy(a).getNames(), { def: null, names: [] });
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }]);
    err = await rejection(privacy(a).setAsDefault('noSuchList'), 'setAsDefault(noSuchList) with a default');
    assert.equal(err.code, 404, JSON.stringify(err));
    assertNames(await privacy(a).getNames(), { def: 'myList', names: ['myList', 'myList'] });
  } finally {
    await done(a);
  }
});

test(`block user: create, update or delete of the default list rejects with {code: 409, info: "${DECLINE_FIRST}"} and changes nothing`, async () => {
  const a = await online();
  const [b, c] = await Promise.all([signupAndLogin(), signupAndLogin()]);
  try {
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }]);
    const conflict = { code: 409, info: DECLINE_FIRST };
    assert.deepEqual(
      await rejection(privacy(a).create({ name: 'myList', items: [{ user_id: c.user.id, action: 'deny' }] }), 'create'),
      conflict,
    );
    // update() is getList + create on the client (REALTIME.md §18.8).
    assert.deepEqual(
      await rejection(privacy(a).update({ name: 'myList', items: [{ user_id: c.user.id, action: 'deny' }] }), 'update'),
      conflict,
    );
    assert.deepEqual(await rejection(privacy(a).delete('myList'), 'delete'), conflict);
    assert.deepEqual(await privacy(a).getList('myList'), { name: 'myList', items: [{ user_id: b.user.id, action: 'deny' }] });
    assertNames(await privacy(a).getNames(), { def: 'myList', names: ['myList', 'myList'] });
  } finally {
    await done(a);
  }
});

test("block user: the guide's update flow (decline the default, update, set it as default again) changes who is blocked", async () => {
  const a = await online();
  const b = await online();
  const c = await online();
  const d = await online(); // the marker
  try {
    const withB = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const withC = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [c.user.id] });
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }, { user_id: c.user.id, action: 'deny' }]);
    await refused(b, a, d, withB, 'b before the update', 503);

    await privacy(a).setAsDefault(null);
    await privacy(a).update({ name: 'myList', items: [{ user_id: b.user.id, action: 'allow' }] });
    await privacy(a).setAsDefault('myList');

    assert.deepEqual(await privacy(a).getList('myList'), { name: 'myList', items: [{ user_id: c.user.id, action: 'deny' }] });
    assertNames(await privacy(a).getNames(), { def: 'myList', names: ['myList', 'myList'] });
    await delivered(b, a, withB, 'b after the update');
    await refused(c, a, d, withC, 'c after the update', 503);
  } finally {
    await done(a, b, c, d);
  }
});

test('block user: privacylist.delete removes a list; deleting an unknown list rejects with code 404', async () => {
  const a = await online();
  const b = await signupAndLogin();
  try {
    await privacy(a).create({ name: 'myList', items: [{ user_id: b.user.id, action: 'deny' }] });
    await privacy(a).create({ name: 'other', items: [{ user_id: b.user.id, action: 'deny' }] });
    await privacy(a).delete('myList');
    assertNames(await privacy(a).getNames(), { def: null, names: ['other'] });
    // getList of a missing list: the SDK ignores the error and resolves with no items.
    assert.deepEqual((await privacy(a).getList('myList')).items, []);
    const err = await rejection(privacy(a).delete('myList'), 'delete of a deleted list');
    assert.equal(err.code, 404, JSON.stringify(err));
    // A declined default list can be deleted.
    await privacy(a).setAsDefault('other');
    await privacy(a).setAsDefault(null);
    await privacy(a).delete('other');
    assertNames(await privacy(a).getNames(), { def: null, names: [] });
  } finally {
    await done(a);
  }
});

test('block user: create with no items deletes the list (the guide: "edit a list and set items to nil")', async () => {
  const a = await online();
  const b = await signupAndLogin();
  try {
    await privacy(a).create({ name: 'myList', items: [{ user_id: b.user.id, action: 'deny' }] });
    await privacy(a).create({ name: 'myList', items: [] });
    assertNames(await privacy(a).getNames(), { def: null, names: [] });
  } finally {
    await done(a);
  }
});

test('block user: a blocked 1-1 message fires onMessageErrorListener {code: 503, info: "Service not available."} and is neither delivered nor stored', async () => {
  const a = await online();
  const b = await online();
  const c = await online(); // the marker
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }]);
    const expected = { code: 503, info: 'Service not available.' };
    assert.deepEqual(await refused(b, a, c, dialog, 'to the user JID', 503), expected);
    assert.deepEqual(await refused(b, a, c, dialog, 'to the private room JID', 503, { toRoom: true }), expected);
    for (const u of [a, b]) {
      const history = await u.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
      assert.deepEqual(history.items, [], `${u.login}'s history holds a refused message`);
    }
  } finally {
    await done(a, b, c);
  }
});

test('block user: the default list applies while the blocker is offline: the message is refused with 503, not kept for later, not delivered on reconnect', async () => {
  const a = await online();
  const b = await online();
  const c = await online(); // the marker, kept for a while a is away
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const withC = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [c.user.id] });
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }]);
    await withTimeout(a.cc.chat.disconnect(), WAIT, 'a disconnects');
    // The server notices the close on its own schedule: until then c's
    // marker would go to the closing connection rather than be kept.
    const deadline = Date.now() + WAIT;
    while ((await c.cc.users.listOnline()).users.some((u) => u.id === a.user.id)) {
      assert.ok(Date.now() < deadline, `${a.login} still online ${WAIT} ms after disconnecting`);
      await sleep(100);
    }

    const errors = recorder(b.cc, 'onMessageErrorListener');
    const id = b.cc.chat.send(a.user.id, chat(dialog, 'while you were away'));
    const [, err] = await errors.wait(errorFor(id), 'onMessageErrorListener of the blocked sender');
    assert.deepEqual(err, { code: 503, info: 'Service not available.' });
    const markerId = c.cc.chat.send(a.user.id, chat(withC, 'marker while away'));
    await ping(c); // the marker is kept before the answer

    const inbox = recorder(a.cc, 'onMessageListener');
    await connectChat(a);
    await inbox.wait(messageWithId(markerId), 'the kept marker on reconnect');
    await ping(a);
    await sleep(QUIET);
    assert.deepEqual(inbox.calls.map(([, m]) => m.id), [markerId], 'the blocker got the refused message on reconnect');
    const history = await a.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.deepEqual(history.items, [], 'a refused message was stored');
  } finally {
    await done(a, b, c);
  }
});

test("block user: a blocked member's group message reaches the other members, not the blocker, with no error; the blocker finds it in REST history", async () => {
  const a = await online();
  const b = await online();
  const c = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 2, name: 'party', occupants_ids: [b.user.id, c.user.id] });
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }]);
    const aInbox = recorder(a.cc, 'onMessageListener');
    const cInbox = recorder(c.cc, 'onMessageListener');
    const bErrors = recorder(b.cc, 'onMessageErrorListener');

    const blockedId = b.cc.chat.send(dialog._id, groupchat(dialog, 'from the blocked member'));
    const [fromB, atC] = await cInbox.wait(messageWithId(blockedId), 'the third member gets the group message');
    assert.equal(fromB, b.user.id);
    assert.equal(atC.body, 'from the blocked member');
    assert.equal(atC.dialog_id, dialog._id);

    const markerId = c.cc.chat.send(dialog._id, groupchat(dialog, 'marker'));
    await aInbox.wait(messageWithId(markerId), 'the blocker gets the marker');
    await ping(a, b);
    await sleep(QUIET);
    assert.deepEqual(aInbox.calls.map(([, m]) => m.id), [markerId], 'the blocker got the blocked member\'s group message');
    assert.deepEqual(bErrors.calls, [], 'no error to the blocked sender in a group');

    const history = await a.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    const stored = history.items.find((m) => m._id === blockedId);
    assert.ok(stored, `the blocker's REST history lacks the message: ${JSON.stringify(history.items)}`);
    assert.equal(stored.sender_id, b.user.id);
    assert.equal(stored.message, 'from the blocked member');
  } finally {
    await done(a, b, c);
  }
});

test('block user: typing notices and system messages from a blocked user are dropped silently', async () => {
  const a = await online();
  const b = await online();
  const c = await online(); // the marker
  try {
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }]);
    const typing = recorder(a.cc, 'onMessageTypingListener');
    const system = recorder(a.cc, 'onSystemMessageListener');
    const bErrors = recorder(b.cc, 'onMessageErrorListener');
    b.cc.chat.sendIsTypingStatus(a.user.id);
    b.cc.chat.sendSystemMessage(a.user.id, { body: 'blocked', extension: { from: 'b' } });
    c.cc.chat.sendIsTypingStatus(a.user.id);
    const markerId = c.cc.chat.sendSystemMessage(a.user.id, { body: 'marker', extension: { from: 'c' } });
    await typing.wait((args) => args[1] === c.user.id, 'typing marker');
    await system.wait((args) => args[0]?.id === markerId, 'system message marker');
    await ping(a, b);
    await sleep(QUIET);
    assert.deepEqual(typing.calls.map((args) => args[1]), [c.user.id], 'the blocker saw the blocked user typing');
    assert.deepEqual(system.calls.map(([m]) => m.userId), [c.user.id], "the blocker got the blocked user's system message");
    assert.deepEqual(bErrors.calls, [], 'dropped silently: no error to the blocked sender');
  } finally {
    await done(a, b, c);
  }
});

test('block user: one-way block: the blocker can still write to the blocked user', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    await blockList(a, [{ user_id: b.user.id, action: 'deny' }]);
    const errors = recorder(a.cc, 'onMessageErrorListener');
    const id = await delivered(a, b, dialog, 'I blocked you, yet I can write');
    await ping(a);
    assert.deepEqual(errors.calls, [], 'no error to the blocker');
    const history = await b.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.deepEqual(history.items.map((m) => m._id), [id]);
  } finally {
    await done(a, b);
  }
});

test("block user: mutual block: the blocker's own message fires onMessageErrorListener with code 406, nothing is delivered either way", async () => {
  const a = await online();
  const b = await online();
  const c = await online(); // the marker
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    await blockList(a, [{ user_id: b.user.id, action: 'deny', mutualBlock: true }]);
    const err = await refused(a, b, c, dialog, 'from the blocker', 406);
    assert.ok(err.info === null || typeof err.info === 'string', `info is the error text or null: ${JSON.stringify(err)}`);
    assert.deepEqual(await refused(b, a, c, dialog, 'to the blocker', 503), { code: 503, info: 'Service not available.' });
    const history = await a.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.deepEqual(history.items, [], 'a refused message was stored');
  } finally {
    await done(a, b, c);
  }
});
