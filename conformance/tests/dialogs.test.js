// Chat dialogs (REST.md §2.3, §5; chat-guide "Dialogs" … "Get notifications
// settings") through the official SDK's chat.dialog.* calls. Messages needed
// for history are created with chat.message.create (REST §6.2).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  signupAndLogin,
  signupMany,
  expectReject,
  assertDialog,
  assertDialogList,
  assertMessageList,
  assertUser,
  assertDeleteReport,
  assertIsoSecond,
  randomObjectId,
  roomJid,
  sortedIds,
  sleep,
} from './helpers.js';

// ---------------------------------------------------------------------------
// Local helpers

/** The caller's dialog list (one page of 100; test users are fresh). */
async function listAll(cc, filters = {}) {
  const res = await cc.chat.dialog.list({ limit: 100, ...filters });
  assertDialogList(res);
  return res;
}

/** The dialog `id` as it appears in the caller's list, or undefined. */
async function listed(cc, id) {
  const res = await listAll(cc);
  return res.items.find((d) => d._id === id);
}

async function assertListed(cc, id, who) {
  const d = await listed(cc, id);
  assert.ok(d, `${who} must list dialog ${id}`);
  return d;
}

async function assertNotListed(cc, id, who) {
  const d = await listed(cc, id);
  assert.equal(d, undefined, `${who} must not list dialog ${id}: ${JSON.stringify(d)}`);
}

/** History of a dialog without marking anything read. */
async function history(cc, dialogId, extra = {}) {
  const res = await cc.chat.message.list({ chat_dialog_id: dialogId, mark_as_read: 0, ...extra });
  assertMessageList(res);
  return res.items;
}

/**
 * Message bodies as a sorted list. REST history orders by date_sent with ties
 * broken by _id (§6.1), and messages created within one second get ids in no
 * particular order, so tests compare the set of bodies.
 */
function bodies(items) {
  return items.map((m) => m.message).sort();
}

function send(cc, dialogId, message) {
  return cc.chat.message.create({ chat_dialog_id: dialogId, message });
}

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

function createPublic(owner, extra = {}) {
  return owner.cc.chat.dialog.create({ type: 4, name: 'Blockchain trends', ...extra });
}

function expectNotFound(promise) {
  return expectReject(promise, 404);
}

function expectMalformed(promise) {
  return expectReject(promise, 400);
}

function unique(tag) {
  return `${tag} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

// ---------------------------------------------------------------------------
// Create 1-1 chat (type 3)

test('dialogs: create 1-1 (type 3) with the guide params returns a full private dialog', async () => {
  const [a, b] = await signupMany(2);
  const d = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
  assertDialog(d);
  assert.equal(d.type, 3);
  assert.equal(d.user_id, a.user.id, 'the creator owns the dialog');
  assert.deepEqual(sortedIds(d.occupants_ids), sortedIds([a.user.id, b.user.id]), 'caller is always added');
  assert.equal(d.name, b.login, "named, for the caller, after the other participant (full_name, else login)");
  assert.equal(d.photo, null);
  assert.deepEqual(d.admins_ids, []);
  assert.deepEqual(d.pinned_messages_ids, []);
  assert.equal(d.last_message, null);
  assert.equal(d.last_message_id, null);
  assert.equal(d.last_message_status, null);
  assert.equal(d.unread_messages_count, 0);
  assert.equal(d.xmpp_room_jid, null);
  assert.equal(d.occupants_count, null);
});

test('dialogs: a 1-1 dialog created twice (from either side) returns the same _id', async () => {
  const [a, b] = await signupMany(2);
  const d1 = await createPrivate(a, b);
  const d2 = await createPrivate(a, b);
  assert.equal(d2._id, d1._id, 'the same caller creating it again');
  const d3 = await b.cc.chat.dialog.create({ type: 3, occupants_ids: [a.user.id] });
  assert.equal(d3._id, d1._id, 'the other participant creating it');
  assertDialog(d3);
  const list = await listAll(a.cc, { type: 3 });
  assert.equal(list.items.filter((d) => d._id === d1._id).length, 1, 'listed once');
  assert.equal(list.items.length, 1, `one private dialog for the pair: ${JSON.stringify(list.items.map((d) => d._id))}`);
});

test('dialogs: a 1-1 dialog is listed by both participants with per-caller fields', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const msg = await send(a.cc, d._id, 'hi there');
  const forA = await assertListed(a.cc, d._id, 'creator');
  const forB = await assertListed(b.cc, d._id, 'opponent');
  for (const v of [forA, forB]) {
    assert.equal(v.last_message, 'hi there');
    assert.equal(v.last_message_id, msg._id);
    assert.equal(v.last_message_user_id, a.user.id);
    assert.equal(v.last_message_date_sent, msg.date_sent);
    assert.equal(v.user_id, a.user.id);
  }
  assert.equal(forA.unread_messages_count, 0, 'own message is not unread');
  assert.equal(forA.last_message_status, 'sent', 'sender sees "sent"');
  assert.equal(forB.unread_messages_count, 1, 'recipient has one unread');
  assert.equal(forB.last_message_status, null, 'not the sender of the newest message -> null');
});

test('dialogs: create 1-1 with the caller plus two others is 422', async () => {
  const [a, b, c] = await signupMany(3);
  await expectReject(a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id, c.user.id] }), 422);
});

test('dialogs: create 1-1 with only the caller (no opponent) is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.dialog.create({ type: 3, occupants_ids: [a.user.id] }), 422);
});

test('dialogs: create with an unknown occupant id is 422 naming occupants_ids', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.dialog.create({ type: 3, occupants_ids: [999999999] }), 422, 'occupants_ids');
  await expectReject(
    a.cc.chat.dialog.create({ type: 2, name: 'x', occupants_ids: [999999998] }),
    422,
    'occupants_ids',
  );
});

// ---------------------------------------------------------------------------
// Create group chat (type 2)

test('dialogs: create group (type 2) with the guide params returns the full dialog', async () => {
  const [a, b, c, d] = await signupMany(4);
  const params = {
    type: 2,
    name: 'Friday party',
    occupants_ids: [b.user.id, c.user.id, d.user.id],
    description: 'lets dance the night away',
    photo: 'party.jpg',
  };
  const g = await a.cc.chat.dialog.create(params);
  assertDialog(g);
  assert.equal(g.type, 2);
  assert.equal(g.name, 'Friday party');
  assert.equal(g.description, 'lets dance the night away');
  assert.equal(g.photo, 'party.jpg');
  assert.equal(g.user_id, a.user.id);
  assert.deepEqual(sortedIds(g.occupants_ids), sortedIds([a, b, c, d].map((u) => u.user.id)));
  assert.deepEqual(g.admins_ids, []);
  assert.deepEqual(g.pinned_messages_ids, []);
  assert.equal(g.xmpp_room_jid, roomJid(g._id));
  assert.equal(g.occupants_count, null);
  assert.equal(g.unread_messages_count, 0);
  assert.equal(g.last_message_id, null);
  assert.equal(g.last_message_status, null);
});

test('dialogs: a new group is listed by every occupant', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  for (const [u, who] of [[a, 'owner'], [b, 'occupant b'], [c, 'occupant c']]) {
    const v = await assertListed(u.cc, g._id, who);
    assert.equal(v.name, 'Friday party');
    assert.equal(v.user_id, a.user.id);
    assert.deepEqual(sortedIds(v.occupants_ids), sortedIds(g.occupants_ids));
  }
});

test('dialogs: create group without a name is 422', async () => {
  const [a, b] = await signupMany(2);
  await expectReject(a.cc.chat.dialog.create({ type: 2, occupants_ids: [b.user.id] }), 422);
  await expectReject(a.cc.chat.dialog.create({ type: 2, name: '', occupants_ids: [b.user.id] }), 422);
});

test('dialogs: create group without any other occupant is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.dialog.create({ type: 2, name: 'alone', occupants_ids: [a.user.id] }), 422);
});

test('dialogs: create group with admins_ids (the SDK joins them with ", ") sets the admins', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await a.cc.chat.dialog.create({
    type: 2,
    name: 'with admins',
    occupants_ids: [b.user.id, c.user.id],
    admins_ids: [b.user.id, c.user.id],
  });
  assertDialog(g);
  assert.deepEqual(sortedIds(g.admins_ids), sortedIds([b.user.id, c.user.id]));
});

// ---------------------------------------------------------------------------
// Create public group chat (type 4)

test('dialogs: create public (type 4) with the guide params subscribes the creator', async () => {
  const a = await signupAndLogin();
  const p = await a.cc.chat.dialog.create({ type: 4, name: 'Blockchain trends' });
  assertDialog(p);
  assert.equal(p.type, 4);
  assert.equal(p.name, 'Blockchain trends');
  assert.equal(p.user_id, a.user.id);
  assert.deepEqual(p.occupants_ids, []);
  assert.equal(p.occupants_count, 1, 'the creator is subscribed at creation');
  assert.equal(p.unread_messages_count, null);
  assert.equal(p.xmpp_room_jid, roomJid(p._id));
  const v = await assertListed(a.cc, p._id, 'creator');
  assert.equal(v.occupants_count, 1);
  const occ = await a.cc.chat.dialog.getPublicOccupants(p._id);
  assert.deepEqual(occ.items.map((u) => u.id), [a.user.id], 'the creator is among the subscribers');
});

test('dialogs: type 1 (broadcast) create from a user session is 403', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.dialog.create({ type: 1, name: 'Announcements' }), 403);
  const res = await listAll(a.cc, { type: 1 });
  assert.ok(!res.items.some((d) => d.name === 'Announcements' && d.user_id === a.user.id), 'nothing created');
});

test('dialogs: an invalid type is 422', async () => {
  const [a, b] = await signupMany(2);
  for (const type of [0, 5, 7, -1]) {
    await expectReject(a.cc.chat.dialog.create({ type, name: 'x', occupants_ids: [b.user.id] }), 422);
  }
  const res = await listAll(a.cc);
  assert.equal(res.items.length, res.total_entries);
  assert.ok(!res.items.some((d) => d.user_id === a.user.id), 'nothing created');
});

test('dialogs: create without type is 422', async () => {
  const [a, b] = await signupMany(2);
  await expectReject(a.cc.chat.dialog.create({ name: 'x', occupants_ids: [b.user.id] }), 422);
});

// ---------------------------------------------------------------------------
// Chat metadata (extensions) and permissions

test('dialogs: extensions keep the allowed fields only and cast values to strings', async () => {
  const [a, b] = await signupMany(2);
  const g = await a.cc.chat.dialog.create({
    type: 2,
    name: 'Friday party',
    occupants_ids: [b.user.id],
    description: 'lets dance the night away',
    extensions: { location: 'Sun bar', color: 5, level: true, mood: 'ignored' },
  });
  assertDialog(g);
  assert.deepEqual(g.extensions, { location: 'Sun bar', color: '5', level: 'true' });
  const v = await assertListed(b.cc, g._id, 'occupant');
  assert.deepEqual(v.extensions, { location: 'Sun bar', color: '5', level: 'true' });
});

test('dialogs: the guide extensions snippet ({location: "Sun bar"}) round-trips', async () => {
  const [a, b, c, d] = await signupMany(4);
  const g = await a.cc.chat.dialog.create({
    type: 2,
    name: 'Friday party',
    occupants_ids: [b.user.id, c.user.id, d.user.id],
    description: 'lets dance the night away',
    extensions: { location: 'Sun bar' },
  });
  assert.deepEqual(g.extensions, { location: 'Sun bar' });
});

test('dialogs: list filters by extensions[field] (the guide: extensions usable as a filter)', async () => {
  const [a, b] = await signupMany(2);
  const place = unique('Sun bar');
  const other = unique('Moon bar');
  const g1 = await createGroup(a, [b], { extensions: { location: place, color: 'red' } });
  const g2 = await createGroup(a, [b], { extensions: { location: other, color: 'red' } });
  const g3 = await createGroup(a, [b]);
  const r1 = await listAll(a.cc, { extensions: { location: place } });
  assert.deepEqual(r1.items.map((d) => d._id), [g1._id], 'extensions[location]=<value> matches exactly one');
  assert.equal(r1.total_entries, 1);
  const r2 = await listAll(b.cc, { extensions: { color: 'red' } });
  assert.deepEqual(r2.items.map((d) => d._id).sort(), [g1._id, g2._id].sort());
  const r3 = await listAll(a.cc, { extensions: { location: { ctn: place.split(' ')[2] } } });
  assert.deepEqual(r3.items.map((d) => d._id), [g1._id], 'extensions[location][ctn]');
  const r4 = await listAll(a.cc, { extensions: { location: 'no such place' } });
  assert.deepEqual(r4.items, []);
  assert.equal(r4.total_entries, 0);
  assert.ok(g3.extensions === null || Object.keys(g3.extensions).length === 0, 'no extensions -> null or {}');
});

test('dialogs: permissions allow_preview is stored, returned and updatable', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b], { permissions: { allow_preview: true } });
  assertDialog(g);
  assert.deepEqual(g.permissions, { allow_preview: true });
  const plain = await createGroup(a, [b]);
  assert.ok(
    plain.permissions === null || plain.permissions.allow_preview === false,
    `default permissions: null or {allow_preview: false}, got ${JSON.stringify(plain.permissions)}`,
  );
  const u = await a.cc.chat.dialog.update(g._id, { permissions: { allow_preview: false } });
  assertDialog(u);
  assert.deepEqual(u.permissions, { allow_preview: false });
  const v = await assertListed(b.cc, g._id, 'occupant');
  assert.deepEqual(v.permissions, { allow_preview: false });
});

// ---------------------------------------------------------------------------
// List dialogs

test('dialogs: list with the guide filters {} returns {total_entries, skip, limit, items}', async () => {
  const [a, b, c] = await signupMany(3);
  const d1 = await createPrivate(a, b);
  const d2 = await createGroup(a, [b, c]);
  const d3 = await createPublic(a);
  const res = await a.cc.chat.dialog.list({});
  assertDialogList(res);
  const ids = res.items.map((d) => d._id);
  for (const d of [d1, d2, d3]) assert.ok(ids.includes(d._id), `list must include ${d._id} (type ${d.type})`);
  assert.equal(res.total_entries, res.items.length);
  assert.equal(res.skip, 0);
  assert.equal(res.limit, 100, 'default limit is 100');
  const bare = await a.cc.chat.dialog.list();
  assert.deepEqual(bare.items.map((d) => d._id).sort(), ids.sort(), 'list() with no argument');
});

test('dialogs: list honours limit and skip with total_entries of the whole match', async () => {
  const [a, b] = await signupMany(2);
  const made = [];
  for (let i = 0; i < 3; i += 1) made.push(await createGroup(a, [b], { name: `page ${i}` }));
  const filt = { type: 2, sort_asc: 'created_at' };
  const all = await listAll(a.cc, filt);
  assert.deepEqual(all.items.map((d) => d._id), made.map((d) => d._id), 'sort_asc=created_at');
  const p1 = await a.cc.chat.dialog.list({ ...filt, limit: 2, skip: 0 });
  assertDialogList(p1);
  assert.equal(p1.total_entries, 3);
  assert.equal(p1.limit, 2);
  assert.equal(p1.skip, 0);
  assert.deepEqual(p1.items.map((d) => d._id), made.slice(0, 2).map((d) => d._id));
  const p2 = await a.cc.chat.dialog.list({ ...filt, limit: 2, skip: 2 });
  assert.equal(p2.total_entries, 3);
  assert.equal(p2.skip, 2);
  assert.deepEqual(p2.items.map((d) => d._id), [made[2]._id]);
  const desc = await listAll(a.cc, { type: 2, sort_desc: 'created_at' });
  assert.deepEqual(desc.items.map((d) => d._id), made.map((d) => d._id).reverse(), 'sort_desc=created_at');
});

test('dialogs: list sorts by last_message_date_sent descending', async () => {
  const [a, b] = await signupMany(2);
  const g1 = await createGroup(a, [b], { name: 'older' });
  const g2 = await createGroup(a, [b], { name: 'newer' });
  await send(a.cc, g2._id, 'first');
  await sleep(1100); // date_sent has second resolution
  await send(a.cc, g1._id, 'second');
  const res = await listAll(a.cc, { type: 2, sort_desc: 'last_message_date_sent' });
  assert.deepEqual(res.items.map((d) => d._id), [g1._id, g2._id]);
  assert.ok(res.items[0].last_message_date_sent > res.items[1].last_message_date_sent);
});

test('dialogs: list with updated_at[gt] returns only dialogs changed later (incremental sync)', async () => {
  const [a, b] = await signupMany(2);
  const changed = await createGroup(a, [b], { name: 'will be renamed' });
  const messaged = await createGroup(a, [b], { name: 'will get a message' });
  const untouched = await createGroup(a, [b], { name: 'untouched' });
  await sleep(1100);
  const marker = Math.floor(Date.now() / 1000); // later than every change above
  const renamed = await a.cc.chat.dialog.update(changed._id, { name: 'renamed' });
  assert.ok(Date.parse(renamed.updated_at) >= marker * 1000, 'updated_at moved on update');
  await send(b.cc, messaged._id, 'a message moves updated_at');
  const created = await createGroup(a, [b], { name: 'created after the marker' });
  const expected = [changed._id, messaged._id, created._id].sort();

  // The guide's literal key, and the SDK's nested-object form.
  const r1 = await listAll(a.cc, { 'updated_at[gt]': marker });
  assert.deepEqual(r1.items.map((d) => d._id).sort(), expected, 'updated_at[gt] (literal key)');
  assert.equal(r1.total_entries, 3);
  const r2 = await listAll(b.cc, { updated_at: { gt: marker } });
  assert.deepEqual(r2.items.map((d) => d._id).sort(), expected, 'updated_at: {gt} (nested form)');
  assert.ok(!r2.items.some((d) => d._id === untouched._id));
  const v = r2.items.find((d) => d._id === messaged._id);
  assert.equal(v.last_message, 'a message moves updated_at');
  // ISO 8601 form of the same instant (§1.10 accepts it too).
  const r3 = await listAll(a.cc, { 'updated_at[gt]': new Date(marker * 1000).toISOString() });
  assert.deepEqual(r3.items.map((d) => d._id).sort(), expected, 'updated_at[gt] as ISO 8601');
});

test('dialogs: updated_at[gt] at the last seen updated_at never misses a later change in the same second', async () => {
  const [a, b] = await signupMany(2);
  const first = await createGroup(a, [b], { name: 'first' });
  const second = await createGroup(a, [b], { name: 'second' });
  const seen = Math.floor(Date.parse(first.updated_at) / 1000); // what a client caches (truncated second)
  // A change after `first` was written, most likely within the same second.
  await a.cc.chat.dialog.update(second._id, { name: 'second, renamed' });
  const res = await listAll(a.cc, { 'updated_at[gt]': seen });
  const ids = res.items.map((d) => d._id);
  assert.ok(ids.includes(second._id), `a dialog updated after ${first.updated_at} must be returned: ${JSON.stringify(ids)}`);
});

test('dialogs: list filters on _id, type[in], name[ctn], user_id and occupants_ids[all]', async () => {
  const [a, b, c] = await signupMany(3);
  const tag = unique('party').replace(' ', '');
  const p = await createPrivate(a, b);
  const g1 = await createGroup(a, [b, c], { name: `${tag} one` });
  const g2 = await createGroup(b, [a], { name: `${tag} two` });
  const pub = await createPublic(a, { name: `${tag} public` });
  const byId = await listAll(a.cc, { _id: g1._id });
  assert.deepEqual(byId.items.map((d) => d._id), [g1._id], '_id=');
  const types = await listAll(a.cc, { type: { in: [2, 3] } });
  assert.deepEqual(types.items.map((d) => d._id).sort(), [p._id, g1._id, g2._id].sort(), 'type[in]=2,3');
  const named = await listAll(a.cc, { name: { ctn: tag } });
  assert.deepEqual(named.items.map((d) => d._id).sort(), [g1._id, g2._id, pub._id].sort(), 'name[ctn]');
  const owned = await listAll(a.cc, { user_id: b.user.id });
  assert.deepEqual(owned.items.map((d) => d._id), [g2._id], 'user_id=');
  const both = await listAll(a.cc, { occupants_ids: { all: [b.user.id, c.user.id] } });
  assert.deepEqual(both.items.map((d) => d._id), [g1._id], 'occupants_ids[all]');
  const withC = await listAll(a.cc, { occupants_ids: c.user.id });
  assert.deepEqual(withC.items.map((d) => d._id), [g1._id], 'occupants_ids=<id> means contains');
  const notPub = await listAll(a.cc, { type: { ne: 4 }, name: { ctn: tag } });
  assert.deepEqual(notPub.items.map((d) => d._id).sort(), [g1._id, g2._id].sort(), 'type[ne] AND name[ctn]');
});

test('dialogs: list with an unknown filter field is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.dialog.list({ no_such_field: 1 }), 422);
});

test('dialogs: list with an unknown filter operator is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.dialog.list({ name: { sounds_like: 'x' } }), 422);
});

test('dialogs: list with a non-date updated_at[gt] is 422', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.chat.dialog.list({ 'updated_at[gt]': 'not a date' }), 422);
});

test('dialogs: list with a malformed _id filter is 400', async () => {
  const a = await signupAndLogin();
  await expectMalformed(a.cc.chat.dialog.list({ _id: 'xyz' }));
});

// ---------------------------------------------------------------------------
// Update dialog

test('dialogs: update with the guide params renames a group; every occupant sees it', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  await sleep(20);
  const u = await b.cc.chat.dialog.update(g._id, { name: 'Crossfit2' }); // any occupant may rename
  assertDialog(u);
  assert.equal(u._id, g._id);
  assert.equal(u.name, 'Crossfit2');
  assert.equal(u.user_id, a.user.id, 'owner unchanged');
  assert.equal(u.created_at, g.created_at);
  assert.ok(Date.parse(u.updated_at) >= Date.parse(g.updated_at));
  for (const [x, who] of [[a, 'owner'], [c, 'occupant']]) {
    const v = await assertListed(x.cc, g._id, who);
    assert.equal(v.name, 'Crossfit2');
  }
});

test('dialogs: update photo, description and extensions; extensions null clears them', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b], { extensions: { location: 'Sun bar' } });
  const u = await a.cc.chat.dialog.update(g._id, {
    photo: 'gym2.jpeg',
    description: 'new description',
    extensions: { location: 'Gym', level: 3, unknown_key: 'dropped' },
  });
  assertDialog(u);
  assert.equal(u.photo, 'gym2.jpeg');
  assert.equal(u.description, 'new description');
  assert.deepEqual(u.extensions, { location: 'Gym', level: '3' });
  const cleared = await a.cc.chat.dialog.update(g._id, { extensions: null });
  assertDialog(cleared);
  assert.ok(
    cleared.extensions === null || Object.keys(cleared.extensions).length === 0,
    `extensions: null clears all, got ${JSON.stringify(cleared.extensions)}`,
  );
  assert.equal(cleared.photo, 'gym2.jpeg', 'other fields untouched');
});

test('dialogs: update of a private dialog ignores name and photo', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  const u = await a.cc.chat.dialog.update(d._id, { name: 'not allowed', photo: 'x.jpg' });
  assertDialog(u);
  assert.equal(u.name, b.login, "the other participant's name, not the one given");
  assert.equal(u.photo, null);
});

test('dialogs: update of an unknown dialog id is 404 with an errors body', async () => {
  const a = await signupAndLogin();
  await expectNotFound(a.cc.chat.dialog.update(randomObjectId(), { name: 'x' }));
});

test('dialogs: update of a malformed dialog id "xyz" is 400', async () => {
  const a = await signupAndLogin();
  await expectMalformed(a.cc.chat.dialog.update('xyz', { name: 'x' }));
});

test('dialogs: a non-member updating a group gets 404 and nothing changes', async () => {
  const [a, b, stranger] = await signupMany(3);
  const g = await createGroup(a, [b]);
  await expectNotFound(stranger.cc.chat.dialog.update(g._id, { name: 'hijacked' }));
  const v = await assertListed(a.cc, g._id, 'owner');
  assert.equal(v.name, 'Friday party');
});

test('dialogs: a dialog the caller cannot see is answered exactly like an unknown one (404, same body)', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  const g = await createGroup(a, [b]);
  const unknown = await expectNotFound(stranger.cc.chat.dialog.update(randomObjectId(), { name: 'x' }));
  for (const id of [d._id, g._id]) {
    const hidden = await expectNotFound(stranger.cc.chat.dialog.update(id, { name: 'x' }));
    assert.deepEqual(hidden.info, unknown.info, 'same body as for an unknown dialog');
    const hiddenNotif = await expectNotFound(stranger.cc.chat.dialog.getNotificationsSettings(id));
    assert.deepEqual(hiddenNotif.info, unknown.info);
  }
  await assertNotListed(stranger.cc, d._id, 'stranger');
  await assertNotListed(stranger.cc, g._id, 'stranger');
});

test('dialogs: a non-owner cannot rename a public dialog (403)', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  await b.cc.chat.dialog.subscribe(p._id);
  await expectReject(b.cc.chat.dialog.update(p._id, { name: 'mine now' }), 403);
  const v = await assertListed(a.cc, p._id, 'owner');
  assert.equal(v.name, 'Blockchain trends');
});

// ---------------------------------------------------------------------------
// Add / remove occupants

test('dialogs: push_all adds occupants (the guide snippet); they list the dialog and can read it', async () => {
  const [a, b, c, d] = await signupMany(4);
  const g = await createGroup(a, [b]);
  await send(a.cc, g._id, 'before they joined');
  const u = await b.cc.chat.dialog.update(g._id, { push_all: { occupants_ids: [c.user.id, d.user.id] } });
  assertDialog(u);
  assert.deepEqual(sortedIds(u.occupants_ids), sortedIds([a, b, c, d].map((x) => x.user.id)));
  const v = await assertListed(c.cc, g._id, 'added occupant');
  assert.deepEqual(sortedIds(v.occupants_ids), sortedIds(u.occupants_ids));
  const items = await history(d.cc, g._id);
  assert.deepEqual(items.map((m) => m.message), ['before they joined']);
});

test('dialogs: push_all of an existing occupant does not duplicate it', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  const u = await a.cc.chat.dialog.update(g._id, { push_all: { occupants_ids: [b.user.id, a.user.id] } });
  assert.deepEqual(sortedIds(u.occupants_ids), sortedIds([a.user.id, b.user.id]));
});

test('dialogs: pull_all of oneself leaves the group; the others keep chatting', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  await send(a.cc, g._id, 'hello all');
  const u = await c.cc.chat.dialog.update(g._id, { pull_all: { occupants_ids: [c.user.id] } });
  assertDialog(u);
  assert.deepEqual(sortedIds(u.occupants_ids), sortedIds([a.user.id, b.user.id]));
  await assertNotListed(c.cc, g._id, 'the user who left');
  await expectNotFound(c.cc.chat.message.list({ chat_dialog_id: g._id }));
  const forB = await assertListed(b.cc, g._id, 'remaining occupant');
  assert.deepEqual(sortedIds(forB.occupants_ids), sortedIds([a.user.id, b.user.id]));
  const m = await send(b.cc, g._id, 'still here');
  const items = await history(a.cc, g._id);
  assert.deepEqual(bodies(items), ['hello all', 'still here']);
  assert.ok(items.some((x) => x._id === m._id));
  await expectNotFound(send(c.cc, g._id, 'let me back in'));
});

test('dialogs: only the owner removes other occupants; an admin and an occupant get 403', async () => {
  const [a, b, c, d] = await signupMany(4);
  const g = await createGroup(a, [b, c, d]);
  await a.cc.chat.dialog.addAdmins(g._id, [b.user.id]);
  await expectReject(b.cc.chat.dialog.update(g._id, { pull_all: { occupants_ids: [c.user.id] } }), 403);
  await expectReject(c.cc.chat.dialog.update(g._id, { pull_all: { occupants_ids: [d.user.id] } }), 403);
  const still = await assertListed(c.cc, g._id, 'occupant after failed removals');
  assert.deepEqual(sortedIds(still.occupants_ids), sortedIds([a, b, c, d].map((x) => x.user.id)));
  const u = await a.cc.chat.dialog.update(g._id, { pull_all: { occupants_ids: [c.user.id] } });
  assertDialog(u);
  assert.deepEqual(sortedIds(u.occupants_ids), sortedIds([a, b, d].map((x) => x.user.id)));
});

test('dialogs: an occupant removed by the owner no longer lists or reads the dialog', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  await send(a.cc, g._id, 'secret plans');
  await a.cc.chat.dialog.update(g._id, { pull_all: { occupants_ids: [c.user.id] } });
  await assertNotListed(c.cc, g._id, 'removed occupant');
  await expectNotFound(c.cc.chat.message.list({ chat_dialog_id: g._id }));
  await expectNotFound(c.cc.chat.dialog.update(g._id, { name: 'x' }));
  await assertListed(b.cc, g._id, 'remaining occupant');
});

test('dialogs: removing an admin from the occupants also removes them from admins_ids', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  const withAdmin = await a.cc.chat.dialog.addAdmins(g._id, [b.user.id]);
  assert.deepEqual(withAdmin.admins_ids, [b.user.id]);
  const u = await a.cc.chat.dialog.update(g._id, { pull_all: { occupants_ids: [b.user.id] } });
  assert.deepEqual(u.admins_ids, []);
  assert.ok(!u.occupants_ids.includes(b.user.id));
});

test('dialogs: push_all occupants on a private dialog is 403', async () => {
  const [a, b, c] = await signupMany(3);
  const d = await createPrivate(a, b);
  await expectReject(a.cc.chat.dialog.update(d._id, { push_all: { occupants_ids: [c.user.id] } }), 403);
  const v = await assertListed(a.cc, d._id, 'participant');
  assert.deepEqual(sortedIds(v.occupants_ids), sortedIds([a.user.id, b.user.id]));
});

test('dialogs: push_all occupants on a public dialog is 422', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  await expectReject(a.cc.chat.dialog.update(p._id, { push_all: { occupants_ids: [b.user.id] } }), 422);
});

// ---------------------------------------------------------------------------
// Remove dialog

test('dialogs: delete one private dialog for me resolves to text; the other keeps it with its messages', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await send(a.cc, d._id, 'one');
  await send(b.cc, d._id, 'two');
  const res = await a.cc.chat.dialog.delete(d._id);
  assert.equal(typeof res, 'string', `one-id delete is TEXT-typed: ${JSON.stringify(res)}`);
  await assertNotListed(a.cc, d._id, 'the deleting participant');
  const v = await assertListed(b.cc, d._id, 'the other participant');
  assert.equal(v.last_message, 'two');
  assert.deepEqual(bodies(await history(b.cc, d._id)), ['one', 'two']);
  assert.deepEqual(await history(a.cc, d._id), [], 'the history is hidden for the deleting participant');
  // It reappears for A with the next stored message, with only the new history.
  await send(b.cc, d._id, 'three');
  const back = await assertListed(a.cc, d._id, 'the deleting participant after a new message');
  assert.equal(back.last_message, 'three');
  assert.equal(back.unread_messages_count, 1);
  assert.deepEqual(bodies(await history(a.cc, d._id)), ['three']);
});

test('dialogs: creating a private dialog again after deleting it un-hides it with the same _id', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await a.cc.chat.dialog.delete(d._id);
  await assertNotListed(a.cc, d._id, 'after delete');
  const again = await createPrivate(a, b);
  assert.equal(again._id, d._id);
  await assertListed(a.cc, d._id, 'after re-create');
});

test('dialogs: delete a group for me (no force) leaves it; the others keep the dialog and its messages', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  await send(a.cc, g._id, 'hello');
  const res = await c.cc.chat.dialog.delete(g._id);
  assert.equal(typeof res, 'string');
  await assertNotListed(c.cc, g._id, 'leaver');
  const v = await assertListed(a.cc, g._id, 'owner');
  assert.deepEqual(sortedIds(v.occupants_ids), sortedIds([a.user.id, b.user.id]));
  await send(b.cc, g._id, 'chatting on');
  assert.deepEqual(bodies(await history(a.cc, g._id)), ['chatting on', 'hello']);
});

test('dialogs: an owner who leaves a group hands ownership to the longest-standing admin', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  await a.cc.chat.dialog.addAdmins(g._id, [c.user.id]);
  await a.cc.chat.dialog.delete(g._id);
  await assertNotListed(a.cc, g._id, 'former owner');
  const v = await assertListed(b.cc, g._id, 'occupant');
  assert.equal(v.user_id, c.user.id, 'the admin becomes the owner');
  assert.deepEqual(v.admins_ids, [], 'the new owner leaves admins_ids');
  assert.deepEqual(sortedIds(v.occupants_ids), sortedIds([b.user.id, c.user.id]));
});

test('dialogs: delete with {force: 1} by the owner removes the group for everyone', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  await send(b.cc, g._id, 'bye');
  const res = await a.cc.chat.dialog.delete(g._id, { force: 1 });
  assert.equal(typeof res, 'string');
  await assertNotListed(a.cc, g._id, 'owner');
  await assertNotListed(b.cc, g._id, 'occupant');
  await expectNotFound(b.cc.chat.message.list({ chat_dialog_id: g._id }));
  await expectNotFound(a.cc.chat.dialog.update(g._id, { name: 'x' }));
});

test('dialogs: delete with {force: 1} by a group occupant who is not the owner is 403', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  await expectReject(b.cc.chat.dialog.delete(g._id, { force: 1 }), 403);
  await assertListed(a.cc, g._id, 'owner');
  await assertListed(b.cc, g._id, 'occupant');
});

test('dialogs: delete with {force: 1} of a private dialog by either participant removes it for both', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await send(a.cc, d._id, 'x');
  await b.cc.chat.dialog.delete(d._id, { force: 1 });
  await assertNotListed(a.cc, d._id, 'creator');
  await assertNotListed(b.cc, d._id, 'deleter');
  await expectNotFound(a.cc.chat.message.list({ chat_dialog_id: d._id }));
});

test('dialogs: delete several ids returns the JSON report (SuccessfullyDeleted, NotFound, WrongPermissions)', async () => {
  const [a, b, stranger] = await signupMany(3);
  const mine = await createGroup(a, [b], { name: 'mine' });
  const priv = await createPrivate(a, b);
  const invisible = await createGroup(stranger, [b], { name: 'not visible to a' });
  const unknown = randomObjectId();
  const report = await a.cc.chat.dialog.delete([mine._id, priv._id, unknown, invisible._id, 'xyz']);
  assertDeleteReport(report, { deleted: [mine._id, priv._id], notFound: [unknown, invisible._id, 'xyz'] });
  await assertNotListed(a.cc, mine._id, 'caller (left the group)');
  await assertNotListed(a.cc, priv._id, 'caller (hid the private dialog)');
  await assertListed(b.cc, mine._id, 'other member of the group');
  await assertListed(b.cc, priv._id, 'other participant of the private dialog');
  await assertListed(b.cc, invisible._id, 'member of the dialog a could not see');
});

test('dialogs: delete several ids given as the guide comma string', async () => {
  const [a, b] = await signupMany(2);
  const g1 = await createGroup(a, [b]);
  const g2 = await createGroup(a, [b]);
  const report = await a.cc.chat.dialog.delete(`${g1._id}, ${g2._id}`);
  assertDeleteReport(report, { deleted: [g1._id, g2._id] });
});

test('dialogs: delete several ids with {force: 1} reports dialogs the caller may not delete under WrongPermissions', async () => {
  const [a, b] = await signupMany(2);
  const own = await createGroup(a, [b], { name: 'own' });
  const others = await createGroup(b, [a], { name: 'b owns it' });
  const report = await a.cc.chat.dialog.delete([own._id, others._id], { force: 1 });
  assertDeleteReport(report, { deleted: [own._id], wrong: [others._id] });
  await assertNotListed(b.cc, own._id, 'occupant of the force-deleted dialog');
  const v = await assertListed(a.cc, others._id, 'caller (nothing changed)');
  assert.ok(v.occupants_ids.includes(a.user.id));
});

test('dialogs: delete one unknown dialog id is 404 with an errors body', async () => {
  const a = await signupAndLogin();
  await expectNotFound(a.cc.chat.dialog.delete(randomObjectId()));
  await expectNotFound(a.cc.chat.dialog.delete(randomObjectId(), { force: 1 }));
});

test('dialogs: delete one malformed dialog id "xyz" is 400', async () => {
  const a = await signupAndLogin();
  await expectMalformed(a.cc.chat.dialog.delete('xyz'));
});

test('dialogs: delete one dialog the caller cannot see is 404', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  await expectNotFound(stranger.cc.chat.dialog.delete(d._id));
  await expectNotFound(stranger.cc.chat.dialog.delete(d._id, { force: 1 }));
  await assertListed(a.cc, d._id, 'participant');
});

test('dialogs: delete a public dialog without force unsubscribes the caller', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  await b.cc.chat.dialog.subscribe(p._id);
  await b.cc.chat.dialog.delete(p._id);
  await assertNotListed(b.cc, p._id, 'former subscriber');
  const v = await assertListed(a.cc, p._id, 'owner');
  assert.equal(v.occupants_count, 1);
});

// ---------------------------------------------------------------------------
// Clear dialog history

test('dialogs: clearHistory clears my history only; the other keeps theirs', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  for (const t of ['m1', 'm2', 'm3']) await send(b.cc, d._id, t);
  const before = await assertListed(a.cc, d._id, 'participant');
  assert.equal(before.unread_messages_count, 3);
  const res = await a.cc.chat.dialog.clearHistory(d._id);
  assert.equal(typeof res, 'string', `clearHistory is TEXT-typed: ${JSON.stringify(res)}`);
  assert.deepEqual(await history(a.cc, d._id), [], 'history cleared for the caller');
  const after = await assertListed(a.cc, d._id, 'participant (clearing does not remove the dialog)');
  assert.equal(after.unread_messages_count, 0, 'unread count drops to 0');
  const unread = await a.cc.chat.message.unreadCount({ chat_dialog_ids: [d._id] });
  assert.equal(unread[d._id], 0);
  assert.deepEqual(bodies(await history(b.cc, d._id)), ['m1', 'm2', 'm3'], 'the other keeps history');
  await send(b.cc, d._id, 'm4');
  assert.deepEqual(bodies(await history(a.cc, d._id)), ['m4'], 'new messages show up again');
});

test('dialogs: clearHistory of a group by an occupant leaves the other occupants history', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  await send(a.cc, g._id, 'g1');
  await send(b.cc, g._id, 'g2');
  await c.cc.chat.dialog.clearHistory(g._id);
  assert.deepEqual(await history(c.cc, g._id), []);
  assert.deepEqual(bodies(await history(a.cc, g._id)), ['g1', 'g2']);
  assert.deepEqual(bodies(await history(b.cc, g._id)), ['g1', 'g2']);
});

test('dialogs: clearHistory of an unknown dialog is 404, of a malformed id 400', async () => {
  const a = await signupAndLogin();
  await expectNotFound(a.cc.chat.dialog.clearHistory(randomObjectId()));
  await expectMalformed(a.cc.chat.dialog.clearHistory('xyz'));
});

test('dialogs: clearHistory of a dialog the caller cannot see is 404 and clears nothing', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  await send(a.cc, d._id, 'keep me');
  await expectNotFound(stranger.cc.chat.dialog.clearHistory(d._id));
  assert.equal((await history(b.cc, d._id)).length, 1);
});

// ---------------------------------------------------------------------------
// Subscribe / unsubscribe

test('dialogs: subscribe to a public dialog (the guide snippet) returns it and lists it', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  const s = await b.cc.chat.dialog.subscribe(p._id);
  assertDialog(s);
  assert.equal(s._id, p._id);
  assert.equal(s.type, 4);
  assert.deepEqual(s.occupants_ids, []);
  assert.equal(s.occupants_count, 2);
  assert.equal(s.unread_messages_count, null);
  const v = await assertListed(b.cc, p._id, 'subscriber');
  assert.equal(v.occupants_count, 2);
  const again = await b.cc.chat.dialog.subscribe(p._id);
  assert.equal(again.occupants_count, 2, 'subscribe is idempotent');
  const m = await send(b.cc, p._id, 'subscribers may post');
  assert.equal(m.sender_id, b.user.id);
});

test('dialogs: unsubscribe resolves to text and takes the dialog off the list', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  await b.cc.chat.dialog.subscribe(p._id);
  const res = await b.cc.chat.dialog.unsubscribe(p._id);
  assert.equal(typeof res, 'string', `unsubscribe is TEXT-typed: ${JSON.stringify(res)}`);
  await assertNotListed(b.cc, p._id, 'former subscriber');
  const v = await assertListed(a.cc, p._id, 'owner');
  assert.equal(v.occupants_count, 1);
  await expectNotFound(b.cc.chat.dialog.getPublicOccupants(p._id));
});

test('dialogs: subscribe to a group dialog adds the caller to occupants_ids; unsubscribe removes them', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b]);
  const s = await c.cc.chat.dialog.subscribe(g._id);
  assertDialog(s);
  assert.ok(s.occupants_ids.includes(c.user.id), `subscriber joins occupants_ids: ${JSON.stringify(s.occupants_ids)}`);
  await assertListed(c.cc, g._id, 'subscriber');
  await c.cc.chat.dialog.unsubscribe(g._id);
  await assertNotListed(c.cc, g._id, 'unsubscribed');
  const v = await assertListed(a.cc, g._id, 'owner');
  assert.deepEqual(sortedIds(v.occupants_ids), sortedIds([a.user.id, b.user.id]));
});

test('dialogs: subscribe to a private dialog is 403 for a participant and 404 for anyone else', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  await expectReject(b.cc.chat.dialog.subscribe(d._id), 403);
  await expectNotFound(stranger.cc.chat.dialog.subscribe(d._id));
  await assertNotListed(stranger.cc, d._id, 'stranger');
});

test('dialogs: subscribe to an unknown dialog is 404, to a malformed id 400', async () => {
  const a = await signupAndLogin();
  await expectNotFound(a.cc.chat.dialog.subscribe(randomObjectId()));
  await expectMalformed(a.cc.chat.dialog.subscribe('xyz'));
});

test('dialogs: the owner who unsubscribes from a public dialog no longer lists it but still sees it', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  await b.cc.chat.dialog.subscribe(p._id);
  await a.cc.chat.dialog.unsubscribe(p._id);
  await assertNotListed(a.cc, p._id, 'unsubscribed owner');
  const occ = await a.cc.chat.dialog.getPublicOccupants(p._id);
  assert.deepEqual(occ.items.map((u) => u.id), [b.user.id], 'the owner can still read the subscribers');
  const u = await a.cc.chat.dialog.update(p._id, { name: 'still mine' });
  assert.equal(u.name, 'still mine');
  assert.equal(u.occupants_count, 1);
  assert.equal(u.user_id, a.user.id, 'unsubscribing from a public dialog keeps the owner');
});

test('dialogs: a reader who sees a group only through allow_preview gets 403 for member-only actions', async () => {
  const [a, b, reader] = await signupMany(3);
  const g = await createGroup(a, [b], { permissions: { allow_preview: true } });
  await expectReject(reader.cc.chat.dialog.getPublicOccupants(g._id), 403);
  await expectReject(reader.cc.chat.dialog.getNotificationsSettings(g._id), 403);
  await expectReject(reader.cc.chat.dialog.updateNotificationsSettings(g._id, false), 403);
  await expectReject(reader.cc.chat.dialog.clearHistory(g._id), 403);
  await expectReject(reader.cc.chat.dialog.addAdmins(g._id, [reader.user.id]), 403);
  await assertNotListed(reader.cc, g._id, 'previewing reader');
});

test('dialogs: unsubscribe from a dialog the caller cannot see is 404', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  await expectNotFound(b.cc.chat.dialog.unsubscribe(p._id));
  await expectNotFound(b.cc.chat.dialog.unsubscribe(randomObjectId()));
});

// ---------------------------------------------------------------------------
// Retrieve public dialog occupants

test('dialogs: getPublicOccupants returns {items} of plain users: the subscribers', async () => {
  const [a, b, c] = await signupMany(3);
  const p = await createPublic(a);
  await b.cc.chat.dialog.subscribe(p._id);
  await c.cc.chat.dialog.subscribe(p._id);
  const res = await b.cc.chat.dialog.getPublicOccupants(p._id);
  assert.ok(res && Array.isArray(res.items), `{items: [...]}: ${JSON.stringify(res)}`);
  for (const [i, u] of res.items.entries()) {
    assert.ok(!Object.hasOwn(u, 'user'), 'plain User objects, no {user} wrapper');
    assertUser(u, `items[${i}]`);
  }
  assert.deepEqual(sortedIds(res.items.map((u) => u.id)), sortedIds([a, b, c].map((x) => x.user.id)));
  const mine = res.items.find((u) => u.id === c.user.id);
  assert.equal(mine.login, c.login);
  const page = await a.cc.chat.dialog.getPublicOccupants(p._id, { limit: 1 });
  assert.equal(page.items.length, 1, 'limit');
  const rest = await a.cc.chat.dialog.getPublicOccupants(p._id, { limit: 100, skip: 1 });
  assert.equal(rest.items.length, 2, 'skip');
});

test('dialogs: getPublicOccupants of an unknown dialog is 404, of a malformed id 400', async () => {
  const a = await signupAndLogin();
  await expectNotFound(a.cc.chat.dialog.getPublicOccupants(randomObjectId()));
  await expectMalformed(a.cc.chat.dialog.getPublicOccupants('xyz'));
});

// ---------------------------------------------------------------------------
// Add / remove admins

test('dialogs: addAdmins and removeAdmins (the guide snippets) by the owner', async () => {
  const [a, b, c] = await signupMany(3);
  const g = await createGroup(a, [b, c]);
  const added = await a.cc.chat.dialog.addAdmins(g._id, [b.user.id, c.user.id]);
  assertDialog(added);
  assert.deepEqual(sortedIds(added.admins_ids), sortedIds([b.user.id, c.user.id]));
  const forB = await assertListed(b.cc, g._id, 'admin');
  assert.deepEqual(sortedIds(forB.admins_ids), sortedIds([b.user.id, c.user.id]));
  const again = await a.cc.chat.dialog.addAdmins(g._id, [b.user.id]);
  assert.equal(again.admins_ids.length, 2, 'no duplicates');
  const removed = await a.cc.chat.dialog.removeAdmins(g._id, [b.user.id]);
  assertDialog(removed);
  assert.deepEqual(removed.admins_ids, [c.user.id]);
  assert.ok(removed.occupants_ids.includes(b.user.id), 'a removed admin stays an occupant');
});

test('dialogs: addAdmins on a public dialog by its owner', async () => {
  const [a, b] = await signupMany(2);
  const p = await createPublic(a);
  const u = await a.cc.chat.dialog.addAdmins(p._id, [b.user.id]);
  assertDialog(u);
  assert.deepEqual(u.admins_ids, [b.user.id]);
  assert.deepEqual(u.occupants_ids, []);
});

test('dialogs: a sixth admin is 422 and the admin list stays at five', async () => {
  const users = await signupMany(7);
  const [owner, ...others] = users;
  const g = await createGroup(owner, others);
  const five = others.slice(0, 5).map((u) => u.user.id);
  const u = await owner.cc.chat.dialog.addAdmins(g._id, five);
  assert.deepEqual(sortedIds(u.admins_ids), sortedIds(five));
  await expectReject(owner.cc.chat.dialog.addAdmins(g._id, [others[5].user.id]), 422, 'admins_ids');
  const v = await assertListed(owner.cc, g._id, 'owner');
  assert.deepEqual(sortedIds(v.admins_ids), sortedIds(five));
});

test('dialogs: six admins at once is 422', async () => {
  const users = await signupMany(7);
  const [owner, ...others] = users;
  const g = await createGroup(owner, others);
  await expectReject(owner.cc.chat.dialog.addAdmins(g._id, others.map((x) => x.user.id)), 422, 'admins_ids');
  const v = await assertListed(owner.cc, g._id, 'owner');
  assert.deepEqual(v.admins_ids, []);
});

test('dialogs: addAdmins by a non-owner is 403 (occupant, admin), 404 for a non-member', async () => {
  const [a, b, c, stranger] = await signupMany(4);
  const g = await createGroup(a, [b, c]);
  await expectReject(b.cc.chat.dialog.addAdmins(g._id, [c.user.id]), 403);
  await a.cc.chat.dialog.addAdmins(g._id, [b.user.id]);
  await expectReject(b.cc.chat.dialog.addAdmins(g._id, [c.user.id]), 403);
  await expectReject(b.cc.chat.dialog.removeAdmins(g._id, [b.user.id]), 403);
  await expectNotFound(stranger.cc.chat.dialog.addAdmins(g._id, [stranger.user.id]));
  const v = await assertListed(a.cc, g._id, 'owner');
  assert.deepEqual(v.admins_ids, [b.user.id]);
});

test('dialogs: addAdmins on a private dialog is 403', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  await expectReject(a.cc.chat.dialog.addAdmins(d._id, [b.user.id]), 403);
});

test('dialogs: addAdmins on an unknown dialog is 404, on a malformed id 400', async () => {
  const [a, b] = await signupMany(2);
  await expectNotFound(a.cc.chat.dialog.addAdmins(randomObjectId(), [b.user.id]));
  await expectMalformed(a.cc.chat.dialog.addAdmins('xyz', [b.user.id]));
});

// ---------------------------------------------------------------------------
// Notification settings

test('dialogs: notification settings default to enabled, per user, and can be turned off and on', async () => {
  const [a, b] = await signupMany(2);
  const d = await createPrivate(a, b);
  assert.deepEqual(await a.cc.chat.dialog.getNotificationsSettings(d._id), { notifications: { enabled: 1 } });
  const off = await a.cc.chat.dialog.updateNotificationsSettings(d._id, false); // the guide's `enabled = false`
  assert.deepEqual(off, { notifications: { enabled: 0 } });
  assert.deepEqual(await a.cc.chat.dialog.getNotificationsSettings(d._id), { notifications: { enabled: 0 } });
  assert.deepEqual(
    await b.cc.chat.dialog.getNotificationsSettings(d._id),
    { notifications: { enabled: 1 } },
    'the setting is per user',
  );
  const on = await a.cc.chat.dialog.updateNotificationsSettings(d._id, true);
  assert.deepEqual(on, { notifications: { enabled: 1 } });
  assert.deepEqual(await a.cc.chat.dialog.getNotificationsSettings(d._id), { notifications: { enabled: 1 } });
});

test('dialogs: notification settings of a group and of a subscribed public dialog', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  assert.deepEqual(await b.cc.chat.dialog.updateNotificationsSettings(g._id, 0), { notifications: { enabled: 0 } });
  assert.deepEqual(await b.cc.chat.dialog.getNotificationsSettings(g._id), { notifications: { enabled: 0 } });
  const p = await createPublic(a);
  await b.cc.chat.dialog.subscribe(p._id);
  assert.deepEqual(await b.cc.chat.dialog.getNotificationsSettings(p._id), { notifications: { enabled: 1 } });
});

test('dialogs: notification settings of an unknown or invisible dialog are 404, of a malformed id 400', async () => {
  const [a, b, stranger] = await signupMany(3);
  const d = await createPrivate(a, b);
  await expectNotFound(a.cc.chat.dialog.getNotificationsSettings(randomObjectId()));
  await expectNotFound(a.cc.chat.dialog.updateNotificationsSettings(randomObjectId(), false));
  await expectNotFound(stranger.cc.chat.dialog.getNotificationsSettings(d._id));
  await expectNotFound(stranger.cc.chat.dialog.updateNotificationsSettings(d._id, false));
  await expectMalformed(a.cc.chat.dialog.getNotificationsSettings('xyz'));
});

// ---------------------------------------------------------------------------
// Timestamps

test('dialogs: created_at and updated_at are ISO seconds close to now', async () => {
  const [a, b] = await signupMany(2);
  const g = await createGroup(a, [b]);
  assertIsoSecond(g.created_at, 'created_at');
  const now = Date.now();
  assert.ok(Math.abs(Date.parse(g.created_at) - now) < 60_000, `created_at ${g.created_at} is not close to now`);
  assert.ok(Math.abs(Date.parse(g.updated_at) - now) < 60_000, `updated_at ${g.updated_at} is not close to now`);
});
