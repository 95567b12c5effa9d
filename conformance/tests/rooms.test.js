// Group chat presence through the official SDK (REALTIME.md §15): muc.join
// and muc.leave settle, the other joined occupants are told (onJoinOccupant,
// onLeaveOccupant), listOnlineUsers lists who joined, a non-member's join is
// rejected, a kick through pull_all fires onKickOccupant, and a session that
// disconnects is seen leaving. Each check is on what the other party gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin, withTimeout, online, nextEvent as next,
} from './helpers.js';

const WAIT = 5000;

async function group(owner, ...others) {
  return owner.cc.chat.dialog.create({ type: 2, name: 'room', occupants_ids: others.map((o) => o.user.id) });
}

function done(...users) {
  for (const u of users) u.cc.chat.disconnect();
}

test('rooms: muc.join and muc.leave resolve; onJoinOccupant and onLeaveOccupant fire on another joined occupant', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await group(a, b);
    await withTimeout(a.cc.chat.muc.join(dialog._id), WAIT, 'alice muc.join');
    const joined = next(a.cc, 'onJoinOccupant');
    await withTimeout(b.cc.chat.muc.join(dialog._id), WAIT, 'bob muc.join');
    assert.deepEqual(await withTimeout(joined, WAIT, 'onJoinOccupant'), [dialog._id, b.user.id]);
    const left = next(a.cc, 'onLeaveOccupant');
    await withTimeout(b.cc.chat.muc.leave(dialog._id), WAIT, 'bob muc.leave');
    assert.deepEqual(await withTimeout(left, WAIT, 'onLeaveOccupant'), [dialog._id, b.user.id]);
  } finally {
    done(a, b);
  }
});

test('rooms: listOnlineUsers lists the joined occupants', async () => {
  const a = await online();
  const b = await online();
  const c = await online();
  try {
    const dialog = await group(a, b, c);
    await withTimeout(a.cc.chat.muc.join(dialog._id), WAIT, 'alice muc.join');
    await withTimeout(b.cc.chat.muc.join(dialog._id), WAIT, 'bob muc.join');
    const users = await withTimeout(c.cc.chat.muc.listOnlineUsers(dialog._id), WAIT, 'listOnlineUsers');
    assert.deepEqual([...users].sort((x, y) => x - y), [a.user.id, b.user.id].sort((x, y) => x - y));
  } finally {
    done(a, b, c);
  }
});

test("rooms: a non-member's muc.join is rejected with code 407", async () => {
  const a = await online();
  const member = await signupAndLogin(); // a group needs another occupant
  const stranger = await online();
  try {
    const dialog = await group(a, member);
    const err = await withTimeout(
      stranger.cc.chat.muc.join(dialog._id).then(
        () => assert.fail('a non-member joined'),
        (e) => e,
      ),
      WAIT,
      'rejected join',
    );
    assert.equal(err.code, '407');
    assert.equal(err.message, 'You are not a member of this dialog');
    // The owner's room did not gain the stranger.
    await withTimeout(a.cc.chat.muc.join(dialog._id), WAIT, 'alice muc.join');
    assert.deepEqual(await withTimeout(a.cc.chat.muc.listOnlineUsers(dialog._id), WAIT, 'listOnlineUsers'), [a.user.id]);
  } finally {
    done(a, stranger);
  }
});

test('rooms: a kick through pull_all fires onKickOccupant on the kicked SDK and onLeaveOccupant on the others', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await group(a, b);
    await withTimeout(a.cc.chat.muc.join(dialog._id), WAIT, 'alice muc.join');
    const joined = next(a.cc, 'onJoinOccupant');
    await withTimeout(b.cc.chat.muc.join(dialog._id), WAIT, 'bob muc.join');
    await withTimeout(joined, WAIT, 'onJoinOccupant');
    const kicked = next(b.cc, 'onKickOccupant');
    const left = next(a.cc, 'onLeaveOccupant');
    await a.cc.chat.dialog.update(dialog._id, { pull_all: { occupants_ids: [b.user.id] } });
    assert.deepEqual(await withTimeout(kicked, WAIT, 'onKickOccupant'), [dialog._id, a.user.id]);
    assert.deepEqual(await withTimeout(left, WAIT, 'onLeaveOccupant'), [dialog._id, b.user.id]);
    // Removed from the group: no more of its messages.
    let leaked = null;
    b.cc.chat.onMessageListener = (_from, msg) => {
      leaked = msg;
    };
    const echo = next(a.cc, 'onMessageListener');
    a.cc.chat.send(dialog._id, { type: 'groupchat', body: 'after the kick', extension: { save_to_history: 1, dialog_id: dialog._id } });
    await withTimeout(echo, WAIT, 'echo to alice');
    await withTimeout(b.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'bob ping'); // anything routed to bob before came first
    assert.equal(leaked, null, 'the removed user got a group message');
  } finally {
    done(a, b);
  }
});

test('rooms: a session that disconnects is seen leaving', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await group(a, b);
    await withTimeout(a.cc.chat.muc.join(dialog._id), WAIT, 'alice muc.join');
    const joined = next(a.cc, 'onJoinOccupant');
    await withTimeout(b.cc.chat.muc.join(dialog._id), WAIT, 'bob muc.join');
    await withTimeout(joined, WAIT, 'onJoinOccupant');
    const left = next(a.cc, 'onLeaveOccupant');
    b.cc.chat.disconnect();
    assert.deepEqual(await withTimeout(left, WAIT, 'onLeaveOccupant'), [dialog._id, b.user.id]);
    assert.deepEqual(await withTimeout(a.cc.chat.muc.listOnlineUsers(dialog._id), WAIT, 'listOnlineUsers'), [a.user.id]);
  } finally {
    done(a, b);
  }
});
