// Chat messages over REST (REST.md §2.4, §6, §7; chat-guide "Chat history",
// "Edit message" / "Delete messages" (their HTTP parts), "Unread messages
// count", "Mark as read all chat messages", "Search") through the official
// SDK's chat.message.* and chat.search. History entries are created with
// chat.message.create (REST §6.2); the real-time side is not exercised here.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin,
  signupMany,
  expectReject,
  assertDialog,
  assertMessage,
  assertMessageList,
  assertDeleteReport,
  randomObjectId,
  sortedIds,
  sleep,
} from './helpers.js';

// ---------------------------------------------------------------------------
// Local helpers

function createPrivate(a, b) {
  return a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
}

function createGroup(owner, others, extra = {}) {
  return owner.cc.chat.dialog.create({
    type: 2,
    name: extra.name ?? 'Friday party',
    occupants_ids: others.map((u) => u.user.id),
    ...extra,
  });
}

async function send(cc, dialogId, message, extra = {}) {
  const m = await cc.chat.message.create({ chat_dialog_id: dialogId, message, ...extra });
  assertMessage(m, 'created message');
  return m;
}

/** History without marking anything read. */
async function history(cc, dialogId, extra = {}) {
  const res = await cc.chat.message.list({ chat_dialog_id: dialogId, mark_as_read: 0, ...extra });
  assertMessageList(res);
  return res.items;
}

/** The dialog as listed for the caller (fresh users: one page is enough). */
async function dialogOf(cc, id) {
  const res = await cc.chat.dialog.list({ limit: 100 });
  const d = res.items.find((x) => x._id === id);
  assert.ok(d, `dialog ${id} must be listed for this user`);
  assertDialog(d);
  return d;
}

/** Order of REST §6.1: by date_sent, ties by _id, in the given direction. */
function ordered(msgs, dir = 'asc') {
  const s = dir === 'asc' ? 1 : -1;
  return [...msgs].sort((x, y) => s * (x.date_sent - y.date_sent || (x._id < y._id ? -1 : x._id > y._id ? 1 : 0)));
}

const ids = (msgs) => msgs.map((m) => m._id);

/** A unique search token (letters and digits, longer than 4 characters). */
function token() {
  return `tok${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

// ---------------------------------------------------------------------------
// Create (REST §6.2) and the dialog bookkeeping it causes

test('messages: create in a 1-1 dialog returns a full message (REST §2.4)', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const before = Math.floor(Date.now() / 1000);
  const m = await a.cc.chat.message.create({ chat_dialog_id: d._id, message: 'How are you today?' });
  const after = Math.floor(Date.now() / 1000);
  assertMessage(m);
  assert.equal(m.chat_dialog_id, d._id);
  assert.equal(m.message, 'How are you today?');
  assert.ok(m.date_sent >= before && m.date_sent <= after + 1, `date_sent ${m.date_sent} is the receive time`);
  assert.equal(m.sender_id, a.user.id);
  assert.equal(m.recipient_id, b.user.id, 'type 3: the other participant');
  assert.deepEqual(m.attachments, []);
  assert.deepEqual(m.read_ids, [a.user.id]);
  assert.deepEqual(m.delivered_ids, [a.user.id]);
  assert.equal(m.views_count, 0);
  assert.equal(m.read, 0);
  assert.equal(m.reactions, null);
});

test('messages: create in a group stores recipient_id 0, attachments and custom keys as strings', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  const m = await a.cc.chat.message.create({
    chat_dialog_id: g._id,
    message: 'attachment',
    attachments: [
      { type: 'image', id: 3004 },
      { uid: '7cafb6030d3e4348ba49cab24c0cf10800', id: '421517', type: 'photo', size: 48213 },
    ],
    markable: 1,
    country: 'USA',
  });
  assertMessage(m);
  assert.equal(m.recipient_id, 0);
  assert.deepEqual(m.attachments, [
    { type: 'image', id: '3004' },
    { uid: '7cafb6030d3e4348ba49cab24c0cf10800', id: '421517', type: 'photo', size: 48213 },
  ]);
  assert.equal(m.markable, '1');
  assert.equal(m.country, 'USA');
  const [listed] = await history(b.cc, g._id);
  assert.equal(listed._id, m._id);
  assert.deepEqual(listed.attachments, m.attachments);
  assert.equal(listed.markable, '1');
  assert.equal(listed.country, 'USA');
});

test('messages: create moves the dialog last_message fields for both sides and the recipient unread count', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m = await send(a.cc, d._id, 'see you there');
  const forA = await dialogOf(a.cc, d._id);
  const forB = await dialogOf(b.cc, d._id);
  for (const v of [forA, forB]) {
    assert.equal(v.last_message, 'see you there');
    assert.equal(v.last_message_id, m._id);
    assert.equal(v.last_message_user_id, a.user.id);
    assert.equal(v.last_message_date_sent, m.date_sent);
  }
  assert.equal(forA.last_message_status, 'sent');
  assert.equal(forA.unread_messages_count, 0);
  assert.equal(forB.last_message_status, null);
  assert.equal(forB.unread_messages_count, 1);
});

test('messages: create with recipient_id and no chat_dialog_id uses the private dialog with that user', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m = await a.cc.chat.message.create({ recipient_id: b.user.id, message: 'by recipient' });
  assertMessage(m);
  assert.equal(m.chat_dialog_id, d._id);
  assert.equal(m.recipient_id, b.user.id);
});

test('messages: create in an unknown or invisible dialog is 404, with a malformed chat_dialog_id 400', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  await expectReject(stranger.cc.chat.message.create({ chat_dialog_id: d._id, message: 'x' }), 404);
  await expectReject(a.cc.chat.message.create({ chat_dialog_id: randomObjectId(), message: 'x' }), 404);
  await expectReject(a.cc.chat.message.create({ chat_dialog_id: 'xyz', message: 'x' }), 400);
  assert.deepEqual(await history(a.cc, d._id), []);
});

// ---------------------------------------------------------------------------
// Chat history (list)

/** One dialog with four messages of A in three distinct seconds (built once, read-only). */
let timelinePromise = null;
function timeline() {
  timelinePromise ??= (async () => {
    const [a, b] = await signupMany(2);
    const d = await createPrivate(a, b);
    const m1 = await send(a.cc, d._id, 'm1');
    await sleep(1100);
    const m2 = await send(a.cc, d._id, 'm2');
    const m3 = await send(a.cc, d._id, 'm3');
    await sleep(1100);
    const m4 = await send(a.cc, d._id, 'm4');
    assert.ok(m1.date_sent < m2.date_sent && m2.date_sent <= m3.date_sent && m3.date_sent < m4.date_sent);
    return { a, b, d, msgs: [m1, m2, m3, m4] };
  })();
  return timelinePromise;
}

test('messages: list with the guide params (sort_desc date_sent, limit 100, skip 0)', async () => {
  const { a, d, msgs } = await timeline();
  const params = { chat_dialog_id: d._id, sort_desc: 'date_sent', limit: 100, skip: 0 };
  const res = await a.cc.chat.message.list(params);
  assertMessageList(res);
  assert.equal(res.skip, 0);
  assert.equal(res.limit, 100);
  assert.deepEqual(ids(res.items), ids(ordered(msgs, 'desc')));
  for (const [i, m] of res.items.entries()) {
    const made = msgs.find((x) => x._id === m._id);
    assert.equal(m.message, made.message, `items[${i}].message`);
    assert.equal(m.date_sent, made.date_sent, `items[${i}].date_sent`);
    assert.equal(m.chat_dialog_id, d._id);
    assert.equal(m.sender_id, a.user.id);
  }
});

test('messages: list without sort is ascending by date_sent', async () => {
  const { a, d, msgs } = await timeline();
  const items = await history(a.cc, d._id);
  assert.deepEqual(ids(items), ids(ordered(msgs, 'asc')));
  const asc = await history(a.cc, d._id, { sort_asc: 'date_sent' });
  assert.deepEqual(ids(asc), ids(ordered(msgs, 'asc')));
});

test('messages: list pages with limit and skip', async () => {
  const { a, d, msgs } = await timeline();
  const desc = ids(ordered(msgs, 'desc'));
  const res = await a.cc.chat.message.list({ chat_dialog_id: d._id, sort_desc: 'date_sent', limit: 2, skip: 1 });
  assertMessageList(res);
  assert.equal(res.limit, 2);
  assert.equal(res.skip, 1);
  assert.deepEqual(ids(res.items), desc.slice(1, 3));
  const last = await a.cc.chat.message.list({ chat_dialog_id: d._id, sort_desc: 'date_sent', limit: 2, skip: 3 });
  assert.deepEqual(ids(last.items), desc.slice(3));
  const none = await a.cc.chat.message.list({ chat_dialog_id: d._id, limit: 10, skip: 10 });
  assert.deepEqual(none.items, []);
});

test('messages: list with date_sent[gt] / date_sent[lt] (strict, integer seconds)', async () => {
  const { a, d, msgs } = await timeline();
  const [m1, m2, m3, m4] = msgs;
  const gt = await history(a.cc, d._id, { 'date_sent[gt]': m1.date_sent });
  assert.deepEqual(ids(gt), ids(ordered([m2, m3, m4])), 'date_sent[gt] excludes the equal second');
  const lt = await history(a.cc, d._id, { 'date_sent[lt]': m4.date_sent });
  assert.deepEqual(ids(lt), ids(ordered([m1, m2, m3])), 'date_sent[lt]');
  const both = await history(a.cc, d._id, { date_sent: { gt: m1.date_sent, lt: m4.date_sent } });
  assert.deepEqual(ids(both), ids(ordered([m2, m3])), 'date_sent: {gt, lt} (nested form)');
  const page = await history(a.cc, d._id, { 'date_sent[lt]': m4.date_sent, sort_desc: 'date_sent', limit: 1 });
  assert.deepEqual(ids(page), [ids(ordered([m2, m3], 'desc'))[0]], 'older-page pagination');
});

test('messages: list filters by sender_id', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  const ma = await send(a.cc, g._id, 'from a');
  await send(b.cc, g._id, 'from b');
  const items = await history(b.cc, g._id, { sender_id: a.user.id });
  assert.deepEqual(ids(items), [ma._id]);
});

test('messages: list with an unknown filter field is 422', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await expectReject(a.cc.chat.message.list({ chat_dialog_id: d._id, no_such_field: 'x' }), 422);
});

test('messages: list marks messages read for the caller by default; mark_as_read: 0 does not', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m = await send(a.cc, d._id, 'read me');
  await history(b.cc, d._id); // mark_as_read: 0
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 1, 'mark_as_read: 0 changes nothing');
  assert.equal((await dialogOf(a.cc, d._id)).last_message_status, 'sent');
  const res = await b.cc.chat.message.list({ chat_dialog_id: d._id });
  assertMessageList(res);
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 0, 'default mark_as_read=1');
  const [seen] = await history(a.cc, d._id);
  assert.equal(seen._id, m._id);
  assert.deepEqual(sortedIds(seen.read_ids), sortedIds([a.user.id, b.user.id]));
  assert.deepEqual(sortedIds(seen.delivered_ids), sortedIds([a.user.id, b.user.id]));
  assert.equal(seen.read, 1);
  assert.equal((await dialogOf(a.cc, d._id)).last_message_status, 'read');
});

test('messages: a non-member cannot list a private dialog messages (404), with or without preview', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  await send(a.cc, d._id, 'private');
  await expectReject(stranger.cc.chat.message.list({ chat_dialog_id: d._id }), 404);
  await expectReject(stranger.cc.chat.message.list({ chat_dialog_id: d._id, preview: 1 }), 404);
});

test('messages: list of an unknown dialog is 404, of a malformed chat_dialog_id 400, without chat_dialog_id 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.message.list({ chat_dialog_id: randomObjectId() }), 404);
  await expectReject(a.cc.chat.message.list({ chat_dialog_id: 'xyz' }), 400);
  await expectReject(a.cc.chat.message.list({ limit: 10 }), 422);
});

// ---------------------------------------------------------------------------
// Preview (permissions.allow_preview)

test('messages: a non-member previews an allow_preview group with list({chat_dialog_id, preview: 1})', async () => {
  const [a, b, reader] = await signupMany(3);
  const g = await createGroup(a, [b], { permissions: { allow_preview: true } });
  const made = [];
  for (let i = 1; i <= 22; i += 1) made.push(await send(i % 2 ? a.cc : b.cc, g._id, `channel post ${i}`));
  const expected = ids(ordered(made, 'asc')).slice(-20);
  const res = await reader.cc.chat.message.list({ chat_dialog_id: g._id, preview: 1 });
  assertMessageList(res);
  assert.deepEqual(ids(res.items), expected, 'the 20 most recent messages, ascending by date_sent');
  for (const m of res.items) assert.ok(!m.read_ids.includes(reader.user.id), 'preview never marks read');
  const paged = await reader.cc.chat.message.list({ chat_dialog_id: g._id, preview: 1, limit: 5, skip: 3, sort_desc: 'date_sent' });
  assert.deepEqual(ids(paged.items), expected, 'preview ignores skip, limit and sort');
  const forB = await history(b.cc, g._id);
  for (const m of forB) {
    assert.ok(!m.read_ids.includes(reader.user.id), 'the reader is not in read_ids');
    assert.ok(!m.delivered_ids.includes(reader.user.id), 'the reader is not in delivered_ids');
  }
  await expectReject(reader.cc.chat.message.list({ chat_dialog_id: g._id }), 403);
  await expectReject(reader.cc.chat.message.create({ chat_dialog_id: g._id, message: 'may not post' }), 403);
  const listed = await reader.cc.chat.dialog.list({ limit: 100 });
  assert.ok(!listed.items.some((d) => d._id === g._id), 'a previewed dialog is not listed');
});

test('messages: preview of a group without allow_preview is 404 for a non-member', async () => {
  const [a, b, reader] = await signupMany(3);
  const g = await createGroup(a, [b]);
  await send(a.cc, g._id, 'members only');
  await expectReject(reader.cc.chat.message.list({ chat_dialog_id: g._id, preview: 1 }), 404);
  await expectReject(reader.cc.chat.message.list({ chat_dialog_id: g._id }), 404);
});

test('messages: a non-subscriber previews an allow_preview public dialog', async () => {
  const [a, reader] = await signupMany(2);
  const p = await a.cc.chat.dialog.create({ type: 4, name: 'News', permissions: { allow_preview: true } });
  const m = await send(a.cc, p._id, 'public news');
  const res = await reader.cc.chat.message.list({ chat_dialog_id: p._id, preview: 1 });
  assertMessageList(res);
  assert.deepEqual(ids(res.items), [m._id]);
});

test('messages: in a public dialog views_count counts readers other than the sender', async () => {
  const [a, b, c] = await signupMany(3);
  const p = await a.cc.chat.dialog.create({ type: 4, name: 'views' });
  await b.cc.chat.dialog.subscribe(p._id);
  await c.cc.chat.dialog.subscribe(p._id);
  const m = await send(a.cc, p._id, 'count my views');
  assert.equal(m.views_count, 0);
  await b.cc.chat.message.list({ chat_dialog_id: p._id }); // mark_as_read defaults to 1
  await c.cc.chat.message.update('', { read: 1, chat_dialog_id: p._id });
  await a.cc.chat.message.list({ chat_dialog_id: p._id }); // the sender reading changes nothing
  const [x] = await history(a.cc, p._id);
  assert.equal(x.views_count, 2);
  assert.deepEqual(sortedIds(x.read_ids), sortedIds([a.user.id, b.user.id, c.user.id]));
  assert.equal(x.read, 1);
});

// ---------------------------------------------------------------------------
// Unread messages count

test('messages: unreadCount with the guide {dialogs_ids: [...]} returns total and per-dialog counts', async () => {
  const [a, b, c] = await signupMany(3);
  const d = await createPrivate(a, b);
  const g = await createGroup(a, [b, c]);
  for (let i = 0; i < 3; i += 1) await send(a.cc, d._id, `p${i}`);
  await send(a.cc, g._id, 'g0');
  await send(c.cc, g._id, 'g1');
  await send(b.cc, g._id, 'own message, not unread');
  const one = await b.cc.chat.message.unreadCount({ dialogs_ids: [d._id] });
  assert.deepEqual(one, { total: 5, [d._id]: 3 });
  const two = await b.cc.chat.message.unreadCount({ dialogs_ids: [d._id, g._id] });
  assert.deepEqual(two, { total: 5, [d._id]: 3, [g._id]: 2 });
});

test('messages: unreadCount with chat_dialog_ids (SDK joins them with ", ") returns per-dialog counts', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const g = await createGroup(a, [b]);
  await send(a.cc, d._id, 'x');
  await send(a.cc, g._id, 'y');
  await send(a.cc, g._id, 'z');
  const res = await b.cc.chat.message.unreadCount({ chat_dialog_ids: [d._id, g._id] });
  assert.deepEqual(res, { total: 3, [d._id]: 1, [g._id]: 2 });
  const single = await b.cc.chat.message.unreadCount({ chat_dialog_ids: [g._id] });
  assert.deepEqual(single, { total: 3, [g._id]: 2 });
});

test('messages: unreadCount without parameters returns only total', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await send(a.cc, d._id, 'x');
  assert.deepEqual(await b.cc.chat.message.unreadCount(), { total: 1 });
  assert.deepEqual(await b.cc.chat.message.unreadCount({}), { total: 1 });
  assert.deepEqual(await a.cc.chat.message.unreadCount(), { total: 0 });
});

test('messages: unread counts of the recipient move with create and drop with mark-as-read', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  assert.deepEqual(await b.cc.chat.message.unreadCount({ dialogs_ids: [d._id] }), { total: 0, [d._id]: 0 });
  await send(a.cc, d._id, 'one');
  assert.deepEqual(await b.cc.chat.message.unreadCount({ dialogs_ids: [d._id] }), { total: 1, [d._id]: 1 });
  await send(a.cc, d._id, 'two');
  assert.deepEqual(await b.cc.chat.message.unreadCount({ dialogs_ids: [d._id] }), { total: 2, [d._id]: 2 });
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 2);
  assert.deepEqual(await a.cc.chat.message.unreadCount({ dialogs_ids: [d._id] }), { total: 0, [d._id]: 0 }, 'the sender has none');
  await b.cc.chat.message.update('', { read: 1, chat_dialog_id: d._id });
  assert.deepEqual(await b.cc.chat.message.unreadCount({ dialogs_ids: [d._id] }), { total: 0, [d._id]: 0 });
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 0);
});

test('messages: unreadCount omits public dialogs, dialogs of others and unknown ids', async () => {
  const [a, b, c] = await signupMany(3);
  const d = await createPrivate(a, b);
  const others = await createPrivate(a, c);
  const p = await a.cc.chat.dialog.create({ type: 4, name: 'pub' });
  await b.cc.chat.dialog.subscribe(p._id);
  await send(a.cc, p._id, 'public');
  await send(a.cc, d._id, 'private');
  await send(a.cc, others._id, 'not for b');
  const unknown = randomObjectId();
  const res = await b.cc.chat.message.unreadCount({ chat_dialog_ids: [d._id, p._id, others._id, unknown] });
  assert.deepEqual(res, { total: 1, [d._id]: 1 });
});

test('messages: unreadCount with a malformed dialog id is 400', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await expectReject(b.cc.chat.message.unreadCount({ chat_dialog_ids: [d._id, 'xyz'] }), 400);
  await expectReject(b.cc.chat.message.unreadCount({ dialogs_ids: ['xyz'] }), 400);
});

// ---------------------------------------------------------------------------
// Mark as read / delivered (chat.message.update, REST §6.3)

test('messages: mark as read with update("", {read: 1, chat_dialog_id}) (the guide snippet)', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m1 = await send(a.cc, d._id, 'one');
  const m2 = await send(a.cc, d._id, 'two');
  const own = await send(b.cc, d._id, 'b writes too');
  await send(a.cc, d._id, 'three');
  const res = await b.cc.chat.message.update('', { read: 1, chat_dialog_id: d._id });
  assert.equal(typeof res, 'string', `chat.message.update is TEXT-typed: ${JSON.stringify(res)}`);
  const items = await history(a.cc, d._id);
  for (const m of items) {
    if (m.sender_id === a.user.id) {
      assert.deepEqual(sortedIds(m.read_ids), sortedIds([a.user.id, b.user.id]), `${m.message}: read by b`);
      assert.deepEqual(sortedIds(m.delivered_ids), sortedIds([a.user.id, b.user.id]), `${m.message}: reading implies delivery`);
      assert.equal(m.read, 1);
    }
  }
  const bOwn = items.find((m) => m._id === own._id);
  assert.deepEqual(bOwn.read_ids, [b.user.id], "the reader's own message is untouched");
  assert.ok([m1, m2].every((m) => items.some((x) => x._id === m._id)));
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 0);
  assert.equal((await dialogOf(a.cc, d._id)).last_message_status, 'read', "the sender's last_message_status moves to read");
});

test('messages: update("", {read: 1}) without chat_dialog_id is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.message.update('', { read: 1 }), 422);
});

test('messages: mark as read of a dialog the caller cannot see is 404', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  await send(a.cc, d._id, 'x');
  await expectReject(stranger.cc.chat.message.update('', { read: 1, chat_dialog_id: d._id }), 404);
  await expectReject(stranger.cc.chat.message.update('', { read: 1, chat_dialog_id: randomObjectId() }), 404);
  const [m] = await history(a.cc, d._id);
  assert.deepEqual(m.read_ids, [a.user.id]);
});

test('messages: update(ids, {read: 1}) marks only the given messages', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  const m1 = await send(a.cc, g._id, 'one');
  const m2 = await send(a.cc, g._id, 'two');
  const m3 = await send(a.cc, g._id, 'three');
  await b.cc.chat.message.update([m1._id, m2._id].join(','), { read: 1, chat_dialog_id: g._id });
  const items = await history(a.cc, g._id);
  const byId = Object.fromEntries(items.map((m) => [m._id, m]));
  assert.equal(byId[m1._id].read, 1);
  assert.equal(byId[m2._id].read, 1);
  assert.equal(byId[m3._id].read, 0);
  assert.deepEqual(await b.cc.chat.message.unreadCount({ chat_dialog_ids: [g._id] }), { total: 1, [g._id]: 1 });
  assert.equal((await dialogOf(a.cc, g._id)).last_message_status, 'sent', 'newest message not read yet');
  await b.cc.chat.message.update(m3._id, { read: 1 });
  assert.equal((await dialogOf(a.cc, g._id)).last_message_status, 'read');
});

test('messages: update(ids, {read: 1, chat_dialog_id}) ignores ids of another dialog', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const g = await createGroup(a, [b]);
  const inD = await send(a.cc, d._id, 'in the private dialog');
  const inG = await send(a.cc, g._id, 'in the group');
  await b.cc.chat.message.update([inD._id, inG._id].join(','), { read: 1, chat_dialog_id: g._id });
  const [xg] = await history(a.cc, g._id);
  const [xd] = await history(a.cc, d._id);
  assert.equal(xg.read, 1, 'the message of chat_dialog_id is marked');
  assert.equal(xd.read, 0, 'the message of another dialog is ignored');
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 1);
});

test('messages: update(ids, {delivered: 1}) adds to delivered_ids only; the sender sees "delivered"', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m = await send(a.cc, d._id, 'deliver me');
  await b.cc.chat.message.update(m._id, { delivered: 1, chat_dialog_id: d._id });
  const [x] = await history(a.cc, d._id);
  assert.deepEqual(sortedIds(x.delivered_ids), sortedIds([a.user.id, b.user.id]));
  assert.deepEqual(x.read_ids, [a.user.id]);
  assert.equal(x.read, 0);
  assert.equal((await dialogOf(a.cc, d._id)).last_message_status, 'delivered');
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 1, 'delivered is not read');
});

// ---------------------------------------------------------------------------
// Edit (REST part: chat.message.update(ids, {message}))

test('messages: the author edits a body with update(id, {message}); the other sees it and last_message follows', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const old = await send(a.cc, d._id, 'old');
  const m = await send(a.cc, d._id, 'typo');
  await sleep(1100); // updated_at has second resolution
  const res = await a.cc.chat.message.update(m._id, { message: 'corrected message body', chat_dialog_id: d._id });
  assert.equal(typeof res, 'string');
  const items = await history(b.cc, d._id);
  const edited = items.find((x) => x._id === m._id);
  assert.equal(edited.message, 'corrected message body');
  assert.ok(Date.parse(edited.updated_at) > Date.parse(m.updated_at), 'updated_at moves on edit');
  assert.equal(edited.date_sent, m.date_sent, 'date_sent unchanged');
  assert.equal(items.find((x) => x._id === old._id).message, 'old');
  for (const cc of [a.cc, b.cc]) {
    const v = await dialogOf(cc, d._id);
    assert.equal(v.last_message, 'corrected message body');
    assert.equal(v.last_message_id, m._id);
  }
});

test('messages: edit several messages given as the guide comma-joined ids', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  const m1 = await send(a.cc, g._id, 'a');
  const m2 = await send(a.cc, g._id, 'b');
  const other = await send(a.cc, g._id, 'c');
  await a.cc.chat.message.update([m1._id, m2._id].join(','), { message: 'edited', chat_dialog_id: g._id });
  const items = await history(b.cc, g._id);
  const byId = Object.fromEntries(items.map((m) => [m._id, m.message]));
  assert.deepEqual(byId, { [m1._id]: 'edited', [m2._id]: 'edited', [other._id]: 'c' });
});

test('messages: a non-author cannot edit a message (403) and the body is unchanged', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  const m = await send(a.cc, g._id, 'mine');
  await expectReject(b.cc.chat.message.update(m._id, { message: 'hijacked', chat_dialog_id: g._id }), 403);
  const [x] = await history(a.cc, g._id);
  assert.equal(x.message, 'mine');
});

test('messages: edit without ids in the path is 422', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await send(a.cc, d._id, 'keep');
  await expectReject(a.cc.chat.message.update('', { message: 'all of them?', chat_dialog_id: d._id }), 422);
  const [x] = await history(a.cc, d._id);
  assert.equal(x.message, 'keep');
});

test('messages: update of a single malformed id is 400; among several ids it is ignored', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m = await send(a.cc, d._id, 'before');
  await expectReject(a.cc.chat.message.update('xyz', { message: 'x' }), 400);
  await a.cc.chat.message.update(`${m._id},xyz`, { message: 'after' });
  const [x] = await history(b.cc, d._id);
  assert.equal(x.message, 'after');
});

// ---------------------------------------------------------------------------
// Delete (REST part: chat.message.delete(ids, params))

test('messages: delete for me (the guide snippet, params {}) hides messages only for the caller', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m1 = await send(a.cc, d._id, 'one');
  const m2 = await send(b.cc, d._id, 'two');
  const m3 = await send(a.cc, d._id, 'three');
  const res = await a.cc.chat.message.delete([m1._id, m2._id].join(','), {});
  assert.equal(typeof res, 'string', 'chat.message.delete resolves to the raw JSON text');
  assertDeleteReport(res, { deleted: [m1._id, m2._id] });
  assert.deepEqual(ids(await history(a.cc, d._id)), [m3._id], 'hidden for the caller');
  assert.deepEqual(ids(await history(b.cc, d._id)), ids(ordered([m1, m2, m3])), 'the other keeps them');
});

test('messages: delete for me of unread messages drops the caller unread count', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m1 = await send(a.cc, d._id, 'one');
  await send(a.cc, d._id, 'two');
  assert.deepEqual(await b.cc.chat.message.unreadCount({ chat_dialog_ids: [d._id] }), { total: 2, [d._id]: 2 });
  await b.cc.chat.message.delete([m1._id], {});
  assert.deepEqual(await b.cc.chat.message.unreadCount({ chat_dialog_ids: [d._id] }), { total: 1, [d._id]: 1 });
});

test('messages: delete with {force: 1} by the author removes it for everyone; last_message falls back', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const m1 = await send(b.cc, d._id, 'stays');
  const m2 = await send(a.cc, d._id, 'oops');
  const res = await a.cc.chat.message.delete(m2._id, { force: 1 });
  assertDeleteReport(res, { deleted: [m2._id] });
  assert.deepEqual(ids(await history(a.cc, d._id)), [m1._id]);
  assert.deepEqual(ids(await history(b.cc, d._id)), [m1._id]);
  for (const cc of [a.cc, b.cc]) {
    const v = await dialogOf(cc, d._id);
    assert.equal(v.last_message, 'stays');
    assert.equal(v.last_message_id, m1._id);
    assert.equal(v.last_message_user_id, b.user.id);
    assert.equal(v.last_message_date_sent, m1.date_sent);
  }
  assert.equal((await dialogOf(b.cc, d._id)).unread_messages_count, 0, 'the deleted message is no longer unread');
});

test('messages: delete with {force: 1} of the other participant message in a 1-1 dialog is WrongPermissions', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const theirs = await send(a.cc, d._id, 'not yours');
  const own = await send(b.cc, d._id, 'yours');
  const res = await b.cc.chat.message.delete([theirs._id, own._id], { force: 1 });
  assertDeleteReport(res, { deleted: [own._id], wrong: [theirs._id] });
  assert.deepEqual(ids(await history(a.cc, d._id)), [theirs._id]);
  assert.deepEqual(ids(await history(b.cc, d._id)), [theirs._id]);
});

test('messages: the group owner deletes an occupant message with {force: 1}; an occupant cannot', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  const mb = await send(b.cc, g._id, 'from b');
  const mc = await send(c.cc, g._id, 'from c');
  const unknown = randomObjectId();
  assertDeleteReport(await c.cc.chat.message.delete([mb._id, unknown], { force: 1 }), {
    wrong: [mb._id],
    notFound: [unknown],
  });
  assert.deepEqual(ids(await history(b.cc, g._id)).sort(), [mb._id, mc._id].sort(), 'nothing deleted by the occupant');
  assertDeleteReport(await a.cc.chat.message.delete([mb._id], { force: 1 }), { deleted: [mb._id] });
  for (const u of [a, b, c]) assert.deepEqual(ids(await history(u.cc, g._id)), [mc._id]);
});

test('messages: delete report puts unknown, invisible and malformed ids under NotFound', async () => {
  const [a, b, c] = await signupMany(3);
  const d = await createPrivate(a, b);
  const hidden = await createPrivate(b, c);
  const mine = await send(a.cc, d._id, 'mine');
  const invisible = await send(b.cc, hidden._id, 'not visible to a');
  const unknown = randomObjectId();
  const res = await a.cc.chat.message.delete([mine._id, unknown, invisible._id, 'xyz'], {});
  assertDeleteReport(res, { deleted: [mine._id], notFound: [unknown, invisible._id, 'xyz'] });
  assert.deepEqual(ids(await history(c.cc, hidden._id)), [invisible._id], 'nothing happened to the invisible message');
});

test('messages: delete of one unknown id, or one the caller may not delete, answers 200 with the report', async () => {
  // REST §6.4: the response is always the report; only a single *malformed*
  // id is an error (400). Unknown ids go under NotFound, forbidden ones under
  // WrongPermissions, whatever the number of ids in the path.
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const theirs = await send(a.cc, d._id, 'not yours');
  const unknown = randomObjectId();
  assertDeleteReport(await b.cc.chat.message.delete(unknown, {}), { notFound: [unknown] });
  assertDeleteReport(await b.cc.chat.message.delete(theirs._id, { force: 1 }), { wrong: [theirs._id] });
  assert.deepEqual(ids(await history(b.cc, d._id)), [theirs._id]);
});

test('messages: delete a single malformed id is 400', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.message.delete('xyz', {}), 400);
  await expectReject(a.cc.chat.message.delete('xyz', { force: 1 }), 400);
});

// ---------------------------------------------------------------------------
// Search (chat.search, REST §7)

test('messages: search finds messages and dialogs by search_text', async () => {
  const [a, b] = await signupMany(2);
  const t = token();
  const g = await createGroup(a, [b], { name: `party ${t}` });
  const d = await createPrivate(a, b);
  const m = await send(a.cc, d._id, `hello ${t} world`);
  await send(a.cc, d._id, 'unrelated text');
  const res = await b.cc.chat.search({ search_text: t });
  assert.ok(res && res.results, `{results: {...}}: ${JSON.stringify(res)}`);
  const { dialogs, messages, users } = res.results;
  assert.ok(Array.isArray(dialogs) && Array.isArray(messages), JSON.stringify(res));
  if (users !== undefined) assert.ok(Array.isArray(users), 'results.users is an array');
  for (const x of dialogs) assertDialog(x, 'results.dialogs[]');
  for (const x of messages) assertMessage(x, 'results.messages[]');
  assert.deepEqual(dialogs.map((x) => x._id), [g._id]);
  assert.deepEqual(ids(messages), [m._id]);
  assert.equal(messages[0].message, `hello ${t} world`);
  const none = await b.cc.chat.search({ search_text: t.toUpperCase() });
  assert.deepEqual(ids(none.results.messages), [], 'case-sensitive match');
});

test('messages: search restricted by chat_dialog_ids', async () => {
  const [a, b] = await signupMany(2);
  const t = token();
  const d = await createPrivate(a, b);
  const g = await createGroup(a, [b]);
  const md = await send(a.cc, d._id, `in private ${t}`);
  const mg = await send(a.cc, g._id, `in group ${t}`);
  const all = await a.cc.chat.search({ search_text: t });
  assert.deepEqual(ids(all.results.messages).sort(), [md._id, mg._id].sort());
  const only = await a.cc.chat.search({ search_text: t, chat_dialog_ids: [g._id] });
  assert.deepEqual(ids(only.results.messages), [mg._id]);
  const both = await a.cc.chat.search({ search_text: t, chat_dialog_ids: [g._id, d._id] });
  assert.deepEqual(ids(both.results.messages).sort(), [md._id, mg._id].sort());
});

test('messages: search with start_date (later bound) and end_date (earlier bound)', async () => {
  const [a, b] = await signupMany(2);
  const t = token();
  const d = await createPrivate(a, b);
  const m = await send(a.cc, d._id, `dated ${t}`);
  const at = m.date_sent * 1000;
  const around = await a.cc.chat.search({ search_text: t, start_date: at + 3_600_000, end_date: at - 3_600_000 });
  assert.deepEqual(ids(around.results.messages), [m._id], 'end_date <= date_sent <= start_date');
  const dates = await a.cc.chat.search({
    search_text: t,
    start_date: new Date(at + 60_000),
    end_date: new Date(at - 60_000),
  });
  assert.deepEqual(ids(dates.results.messages), [m._id], 'Date objects (the SDK sends toISOString())');
  const past = await a.cc.chat.search({ search_text: t, start_date: at - 3_600_000, end_date: at - 7_200_000 });
  assert.deepEqual(ids(past.results.messages), [], 'a window before the message');
  const future = await a.cc.chat.search({ search_text: t, start_date: at + 7_200_000, end_date: at + 3_600_000 });
  assert.deepEqual(ids(future.results.messages), [], 'a window after the message');
});

test('messages: search does not find messages hidden for the caller or dialogs of others', async () => {
  const [a, b, c] = await signupMany(3);
  const t = token();
  const d = await createPrivate(a, b);
  const m = await send(a.cc, d._id, `hidden ${t}`);
  const foreign = await createGroup(b, [c], { name: `foreign ${t}` });
  await send(b.cc, foreign._id, `foreign message ${t}`);
  await a.cc.chat.message.delete([m._id], {});
  const res = await a.cc.chat.search({ search_text: t });
  assert.deepEqual(ids(res.results.messages), []);
  assert.deepEqual(res.results.dialogs.map((x) => x._id), []);
  const forB = await b.cc.chat.search({ search_text: t });
  assert.equal(forB.results.messages.length, 2, 'b still finds both');
});

test('messages: search_text shorter than 5 characters is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.search({ search_text: 'abcd' }), 422, 'search_text');
  await expectReject(a.cc.chat.search({}), 422, 'search_text');
});

test('messages: search with start_date but no end_date is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.search({ search_text: 'hello world', start_date: Date.now() }), 422);
});

test('messages: search with more than 10 chat_dialog_ids is 422', async () => {
  const a = await signupAndLogin();
  const many = Array.from({ length: 11 }, () => randomObjectId());
  await expectReject(a.cc.chat.search({ search_text: 'hello world', chat_dialog_ids: many }), 422);
});

test('messages: search with a malformed chat_dialog_ids item is 400', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.search({ search_text: 'hello world', chat_dialog_ids: ['xyz'] }), 400);
});

test('messages: search with end_date more than 3 months before start_date is 422', async () => {
  const a = await signupAndLogin();
  const now = Date.now();
  await expectReject(
    a.cc.chat.search({ search_text: 'hello world', start_date: now, end_date: now - 120 * 86_400_000 }),
    422,
  );
});
