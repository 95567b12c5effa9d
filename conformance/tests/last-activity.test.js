// Last activity through the official SDK: the guide's "Get last activity"
// and "Last activity subscription" snippets (REALTIME.md §16.2, §16.3,
// §18.9, §20.6) and the online users of REST.md §4.8 (users.listOnline,
// users.getOnlineCount). Each asserts what the OTHER party receives: the
// asker's or the watcher's onLastUserActivityListener(userId, seconds).
// Where a push must not arrive, a bounded wait follows a push that must
// arrive to another watcher (the marker) and ping round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin, signupOnly, sleep, withTimeout, online, connectChat, assertUser, CHAT_WAIT,
  recorder, ping, done, call, rejection,
} from './helpers.js';

const WAIT = CHAT_WAIT;
const QUIET = 300; // after the marker and the ping round trips: what was coming has come

async function disconnect(u) {
  await withTimeout(u.cc.chat.disconnect(), WAIT, `disconnect ${u.login}`);
}

async function blockOneWay(owner, blocked) {
  await call(
    owner.cc.chat.privacylist.create({ name: 'myList', items: [{ user_id: blocked.user.id, action: 'deny' }] }),
    'privacylist.create',
  );
  await call(owner.cc.chat.privacylist.setAsDefault('myList'), 'privacylist.setAsDefault');
}

function isFrom(u) {
  return (args) => args[0] === u.user.id;
}

// Upper bound of a `seconds` value counted from a moment at or after `since` (ms).
function secondsSince(since) {
  return Math.ceil((Date.now() - since) / 1000) + 1;
}

test('last activity: getLastUserActivity of an online user resolves {userId, seconds: 0} and calls onLastUserActivityListener', async () => {
  const asker = await online();
  const x = await online();
  try {
    const heard = recorder(asker.cc, 'onLastUserActivityListener');
    const result = await call(asker.cc.chat.getLastUserActivity(x.user.id), 'getLastUserActivity');
    assert.deepEqual(result, { userId: x.user.id, seconds: 0 });
    assert.deepEqual(heard.calls, [[x.user.id, 0]]);
  } finally {
    await done(asker, x);
  }
});

test('last activity: getLastUserActivity of a user who went offline counts the seconds since they left', async () => {
  const asker = await online();
  const x = await online();
  try {
    const heard = recorder(asker.cc, 'onLastUserActivityListener');
    const left = Date.now();
    await disconnect(x);
    // The server notices the close on its own schedule: ask until the
    // answer is no longer "online" (bounded).
    let first;
    const deadline = Date.now() + WAIT;
    for (;;) {
      first = await call(asker.cc.chat.getLastUserActivity(x.user.id), 'getLastUserActivity');
      assert.equal(first.userId, x.user.id);
      assert.ok(Number.isInteger(first.seconds) && first.seconds >= 0, `seconds: ${JSON.stringify(first)}`);
      if (first.seconds >= 1) break;
      assert.ok(Date.now() < deadline, `still seconds=0 ${WAIT} ms after ${x.login} disconnected`);
      await sleep(250);
    }
    assert.ok(first.seconds <= secondsSince(left), `seconds ${first.seconds} exceed the time since the disconnect`);
    await sleep(2000);
    const later = await call(asker.cc.chat.getLastUserActivity(x.user.id), 'getLastUserActivity (later)');
    assert.equal(later.userId, x.user.id);
    assert.ok(later.seconds >= first.seconds + 1, `2 s later: ${first.seconds} -> ${later.seconds}; the count must go on`);
    assert.ok(later.seconds <= secondsSince(left), `seconds ${later.seconds} exceed the time since the disconnect`);
    assert.deepEqual(heard.calls.at(-1), [x.user.id, later.seconds], 'onLastUserActivityListener gets every answer');
  } finally {
    await done(asker, x);
  }
});

test('last activity: getLastUserActivity of a user who never connected rejects with code 404', async () => {
  const asker = await online();
  const never = await signupOnly();
  try {
    const err = await rejection(asker.cc.chat.getLastUserActivity(never.user.id), 'getLastUserActivity');
    assert.equal(err.code, 404, JSON.stringify(err));
    assert.ok(err.info === null || typeof err.info === 'string', `info is the error text or null: ${JSON.stringify(err)}`);
  } finally {
    await done(asker);
  }
});

test("last activity: getLastUserActivity of a user whose default privacy list blocks the asker rejects with code 503", async () => {
  const blocker = await online();
  const asker = await online();
  try {
    await blockOneWay(blocker, asker);
    const err = await rejection(asker.cc.chat.getLastUserActivity(blocker.user.id), 'getLastUserActivity');
    assert.equal(err.code, 503, JSON.stringify(err));
    assert.ok(err.info === null || typeof err.info === 'string', `info is the error text or null: ${JSON.stringify(err)}`);
  } finally {
    await done(blocker, asker);
  }
});

test('last activity: a subscribed watcher gets onLastUserActivityListener when the user goes offline and 0 when they come online', async () => {
  const since = Date.now();
  const x = await online();
  const watcher = await online();
  try {
    const pushes = recorder(watcher.cc, 'onLastUserActivityListener');
    watcher.cc.chat.subscribeToUserLastActivityStatus(x.user.id);
    await ping(watcher); // the subscription is in place (and a push right after it came first)
    for (const p of pushes.calls) {
      assert.deepEqual(p, [x.user.id, 0], 'a push right after subscribing carries the current value: 0 while online');
    }

    let from = pushes.calls.length;
    await disconnect(x);
    const [offId, offSeconds] = await pushes.wait(isFrom(x), 'offline push', from);
    assert.equal(offId, x.user.id);
    assert.ok(Number.isInteger(offSeconds) && offSeconds >= 0, `offline push seconds: ${offSeconds}`);
    assert.ok(offSeconds <= secondsSince(since), `offline push seconds ${offSeconds} exceed the time since ${x.login} connected`);

    from = pushes.calls.length;
    await connectChat(x);
    const onlinePush = await pushes.wait(isFrom(x), 'online push', from);
    assert.deepEqual(onlinePush, [x.user.id, 0]);
  } finally {
    await done(x, watcher);
  }
});

test('last activity: after unsubscribeFromUserLastActivityStatus no more pushes arrive', async () => {
  const x = await online();
  const stays = await online(); // still subscribed: its push is the marker
  const leaves = await online();
  try {
    const marker = recorder(stays.cc, 'onLastUserActivityListener');
    stays.cc.chat.subscribeToUserLastActivityStatus(x.user.id);
    leaves.cc.chat.subscribeToUserLastActivityStatus(x.user.id);
    leaves.cc.chat.unsubscribeFromUserLastActivityStatus(x.user.id);
    await ping(stays, leaves); // both IQs of `leaves` processed, in order
    const pushes = recorder(leaves.cc, 'onLastUserActivityListener');
    const from = marker.calls.length;
    await disconnect(x);
    await marker.wait(isFrom(x), 'offline push to the subscribed watcher', from);
    await ping(leaves);
    await sleep(QUIET);
    assert.deepEqual(pushes.calls, [], 'the unsubscribed watcher got a push');
  } finally {
    await done(x, stays, leaves);
  }
});

test('last activity: a subscription ends when the subscriber disconnects (the SDK does not resubscribe)', async () => {
  const x = await online();
  const marker = await online();
  const watcher = await online();
  try {
    const markerPushes = recorder(marker.cc, 'onLastUserActivityListener');
    marker.cc.chat.subscribeToUserLastActivityStatus(x.user.id);
    watcher.cc.chat.subscribeToUserLastActivityStatus(x.user.id);
    await ping(marker, watcher);
    await disconnect(watcher);
    await connectChat(watcher);
    const pushes = recorder(watcher.cc, 'onLastUserActivityListener');
    const from = markerPushes.calls.length;
    await disconnect(x);
    await markerPushes.wait(isFrom(x), 'offline push to the marker watcher', from);
    await ping(watcher);
    await sleep(QUIET);
    assert.deepEqual(pushes.calls, [], 'a subscription of the earlier connection outlived it');
  } finally {
    await done(x, marker, watcher);
  }
});

test("last activity: a watcher blocked by the user's default privacy list gets no pushes", async () => {
  const x = await online();
  const allowed = await online();
  const blocked = await online();
  try {
    await blockOneWay(x, blocked);
    const marker = recorder(allowed.cc, 'onLastUserActivityListener');
    const pushes = recorder(blocked.cc, 'onLastUserActivityListener');
    allowed.cc.chat.subscribeToUserLastActivityStatus(x.user.id);
    blocked.cc.chat.subscribeToUserLastActivityStatus(x.user.id); // accepted (the SDK ignores the answer)
    await ping(allowed, blocked);

    let from = marker.calls.length;
    await disconnect(x);
    await marker.wait(isFrom(x), 'offline push to the allowed watcher', from);
    from = marker.calls.length;
    await connectChat(x);
    assert.deepEqual(await marker.wait(isFrom(x), 'online push to the allowed watcher', from), [x.user.id, 0]);
    await ping(blocked);
    await sleep(QUIET);
    assert.deepEqual(pushes.calls, [], 'the blocked watcher got a push');
  } finally {
    await done(x, allowed, blocked);
  }
});

test('online users: users.listOnline lists the users connected to chat, getOnlineCount counts them', async () => {
  const a = await online();
  const b = await online();
  const offline = await signupAndLogin();
  try {
    const res = await a.cc.users.listOnline();
    assert.ok(res && Array.isArray(res.users), `listOnline must answer {users: [...]}: ${JSON.stringify(res)}`);
    res.users.forEach((u, i) => assertUser(u, `users[${i}]`));
    const ids = res.users.map((u) => u.id);
    assert.ok(ids.includes(a.user.id) && ids.includes(b.user.id), `both connected users listed: ${JSON.stringify(ids)}`);
    assert.ok(!ids.includes(offline.user.id), 'a user who never connected is not online');
    assert.equal(new Set(ids).size, ids.length, `each user listed once: ${JSON.stringify(ids)}`);

    const { count } = await a.cc.users.getOnlineCount();
    assert.ok(Number.isInteger(count) && count >= 2, `getOnlineCount must answer {count: n >= 2}, got ${JSON.stringify(count)}`);
    // The count and the list agree (retried while users of earlier tests are still leaving).
    for (let attempt = 0; ; attempt += 1) {
      const before = (await a.cc.users.getOnlineCount()).count;
      const list = (await a.cc.users.listOnline({ limit: 100, offset: 0 })).users;
      const after = (await a.cc.users.getOnlineCount()).count;
      if (before === after && before <= 100) {
        assert.equal(list.length, before, `listOnline has ${list.length} users, getOnlineCount says ${before}`);
        break;
      }
      assert.ok(attempt < 20, `the online count did not settle: ${before} then ${after}`);
      await sleep(250);
    }

    const one = await a.cc.users.listOnline({ limit: 1 });
    assert.equal(one.users.length, 1, `limit 1: ${JSON.stringify(one.users.map((u) => u.id))}`);
    const none = await a.cc.users.listOnline({ limit: 10, offset: 100000 });
    assert.deepEqual(none.users, [], 'an offset past the end lists nobody');

    // One who leaves chat leaves the list (the server notices the close on its own schedule).
    await disconnect(b);
    const deadline = Date.now() + WAIT;
    for (;;) {
      const now = (await a.cc.users.listOnline()).users.map((u) => u.id);
      assert.ok(now.includes(a.user.id), 'a is still online');
      if (!now.includes(b.user.id)) break;
      assert.ok(Date.now() < deadline, `${b.login} still listed ${WAIT} ms after disconnecting`);
      await sleep(250);
    }
  } finally {
    await done(a, b);
  }
});
