// Users (REST.md §2.1, §4) through the official SDK.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  env,
  EXPIRED_BODY,
  newClient,
  uniqueLogin,
  uniquePrefix,
  emailFor,
  signupAndLogin,
  signupOnly,
  expectReject,
  assertUser,
  assertV2List,
  assertPagedUsers,
  assertIsoSecond,
  assertRawError,
  raw,
  sleep,
  DEFAULT_PASSWORD,
} from './helpers.js';

/** An application session on a fresh instance. */
async function appClient() {
  const cc = newClient();
  await cc.createSession();
  return cc;
}

/** A user session used for read calls. */
let readerPromise = null;
function reader() {
  readerPromise ??= signupAndLogin().then((r) => r.cc);
  return readerPromise;
}

async function assertNoUserWithLogin(login) {
  const cc = await reader();
  await expectReject(cc.users.get({ login }), 404);
}

// ---------------------------------------------------------------------------
// Sign up

test('users: signup without a session authenticates with CB-AuthKey', async () => {
  const cc = newClient(); // no session: the SDK sends CB-AuthKey
  assert.equal(cc.service.getSession(), null);
  const login = uniqueLogin();
  const res = await cc.users.signup({ login, password: DEFAULT_PASSWORD, email: emailFor(login) });
  assertUser(res.user);
  assert.equal(res.user.login, login);
  assert.equal(res.user.email, emailFor(login));
  // ... and the new user can log in
  const s = await newClient().createSession({ login, password: DEFAULT_PASSWORD });
  assert.equal(s.user_id, res.user.id);
});

test('users: signup with a wrong CB-AuthKey and no session is 401', async () => {
  const cc = newClient();
  const login = uniqueLogin();
  await expectReject(cc.users.signup({ login, password: DEFAULT_PASSWORD }, 'not-the-auth-key'), 401);
  await assertNoUserWithLogin(login);
});

test('users: signup with an application session token (CB-Token)', async () => {
  const cc = await appClient();
  const login = uniqueLogin();
  const res = await cc.users.signup({ login, password: DEFAULT_PASSWORD });
  assertUser(res.user);
  assert.equal(res.user.login, login);
  assert.equal(res.user.email, null, 'email not given -> null');
});

test('users: signup while holding a user session token (CB-Token)', async () => {
  const { cc } = await signupAndLogin();
  const login = uniqueLogin();
  const res = await cc.users.signup({ login, password: DEFAULT_PASSWORD });
  assertUser(res.user);
  assert.equal(res.user.login, login);
});

test('users: signup with email only (no login)', async () => {
  const cc = await appClient();
  const email = emailFor(uniqueLogin());
  const res = await cc.users.signup({ email, password: DEFAULT_PASSWORD });
  assertUser(res.user);
  assert.equal(res.user.email, email);
  const s = await newClient().createSession({ email, password: DEFAULT_PASSWORD });
  assert.equal(s.user_id, res.user.id);
});

test('users: POST /users.json answers 201 with {user}', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    authKey: env.authKey,
    body: { user: { login, password: DEFAULT_PASSWORD } },
  });
  assert.equal(res.status, 201, `expected 201, got ${res.status} ${res.text}`);
  assertUser(res.json?.user);
});

test('users: signup round-trips every §4.1 field (tag_list array -> user_tags "a,b")', async () => {
  const cc = await appClient();
  const login = uniqueLogin();
  const ext = 100000 + Math.floor(Math.random() * 1e9);
  const fields = {
    login,
    password: DEFAULT_PASSWORD,
    email: emailFor(login),
    full_name: 'Marvin Simon',
    phone: '+4930123456',
    website: 'https://example.org/marvin',
    custom_data: '{"middle_name":"Bartoleo"}',
    external_user_id: ext,
    external_id: `ext-${login}`,
    facebook_id: `fb${ext}`,
    twitter_id: `tw${ext}`,
    tag_list: ['iphone', 'apple'],
    timezone: 60,
    avatar: '7cafb6030d3e4348ba49cab24c0cf10800',
  };
  const { user } = await cc.users.signup(fields);
  assertUser(user);
  const expected = { ...fields, user_tags: 'iphone,apple' };
  delete expected.password;
  delete expected.tag_list;
  for (const [k, v] of Object.entries(expected)) {
    assert.deepEqual(user[k], v, `signup response field ${k}`);
  }
  assertIsoSecond(user.created_at, 'created_at');
  // ... and the stored user reads back the same
  const got = await (await reader()).users.get(user.id);
  assertUser(got.user);
  for (const [k, v] of Object.entries(expected)) {
    assert.deepEqual(got.user[k], v, `GET /users/{id} field ${k}`);
  }
});

test('users: signup accepts tag_list as a comma-separated string', async () => {
  const cc = await appClient();
  const { user } = await cc.users.signup({ login: uniqueLogin(), password: DEFAULT_PASSWORD, tag_list: 'red,green' });
  assert.equal(user.user_tags, 'red,green');
});

test('users: signup round-trips blob_id (integer)', async () => {
  const cc = await appClient();
  const { user } = await cc.users.signup({ login: uniqueLogin(), password: DEFAULT_PASSWORD, blob_id: 421517 });
  assert.equal(user.blob_id, 421517);
});

test('users: unset optional fields are null', async () => {
  const cc = await appClient();
  const { user } = await cc.users.signup({ login: uniqueLogin(), password: DEFAULT_PASSWORD });
  assertUser(user);
  for (const k of ['email', 'full_name', 'phone', 'website', 'custom_data', 'avatar', 'external_user_id',
    'external_id', 'facebook_id', 'twitter_id', 'blob_id', 'timezone']) {
    assert.equal(user[k], null, `${k} should be null when not given`);
  }
});

test('users: signup with a duplicate login is 422 with errors.login', async () => {
  const { login } = await signupOnly();
  const cc = await appClient();
  await expectReject(
    cc.users.signup({ login, password: DEFAULT_PASSWORD, email: emailFor(uniqueLogin()) }),
    422,
    'login',
  );
});

test('users: signup with a duplicate email is 422 with errors.email', async () => {
  const { email } = await signupOnly();
  const cc = await appClient();
  const login = uniqueLogin();
  await expectReject(cc.users.signup({ login, password: DEFAULT_PASSWORD, email }), 422, 'email');
  await assertNoUserWithLogin(login);
});

test('users: signup without a password is 422 with errors.password', async () => {
  const cc = await appClient();
  const login = uniqueLogin();
  await expectReject(cc.users.signup({ login }), 422, 'password');
  await assertNoUserWithLogin(login);
});

test('users: signup with a too-short password is 422 with errors.password', async () => {
  const cc = await appClient();
  const login = uniqueLogin();
  await expectReject(cc.users.signup({ login, password: 'abc' }), 422, 'password');
  await assertNoUserWithLogin(login);
});

test('users: signup with an invalid email is 422 with errors.email', async () => {
  const cc = await appClient();
  const login = uniqueLogin();
  await expectReject(cc.users.signup({ login, password: DEFAULT_PASSWORD, email: 'not-an-email' }), 422, 'email');
  await assertNoUserWithLogin(login);
});

test('users: signup with neither login nor email is 422', async () => {
  const cc = await appClient();
  const full_name = `Nameless ${uniqueLogin()}`;
  await expectReject(cc.users.signup({ password: DEFAULT_PASSWORD, full_name }), 422);
  const found = await (await reader()).users.get({ full_name });
  assert.equal(found.total_entries, 0, 'no user was created');
});

// ---------------------------------------------------------------------------
// Get

test('users: users.get(id) returns {user}', async () => {
  const { user } = await signupOnly({ full_name: 'By Id' });
  const res = await (await reader()).users.get(user.id);
  assertUser(res.user);
  assert.equal(res.user.id, user.id);
  assert.equal(res.user.full_name, 'By Id');
});

test('users: users.get(unknown id) is 404', async () => {
  await expectReject((await reader()).users.get(2_000_000_000), 404);
});

test('users: users.get({login}) finds the user', async () => {
  const { user, login } = await signupOnly();
  const res = await (await reader()).users.get({ login });
  assertUser(res.user);
  assert.equal(res.user.id, user.id);
});

test('users: users.get({login}) for an unknown login is 404', async () => {
  await expectReject((await reader()).users.get({ login: uniqueLogin('nobody') }), 404);
});

test('users: users.get({email}) finds the user', async () => {
  const { user, email } = await signupOnly();
  const res = await (await reader()).users.get({ email });
  assertUser(res.user);
  assert.equal(res.user.id, user.id);
});

test('users: users.get({email}) for an unknown email is 404', async () => {
  await expectReject((await reader()).users.get({ email: emailFor(uniqueLogin('nobody')) }), 404);
});

test('users: users.get({external}) finds the user by external_user_id', async () => {
  const ext = 200000 + Math.floor(Math.random() * 1e9);
  const { user } = await signupOnly({ external_user_id: ext });
  const res = await (await reader()).users.get({ external: ext });
  assertUser(res.user);
  assert.equal(res.user.id, user.id);
  assert.equal(res.user.external_user_id, ext);
});

test('users: users.get({external}) for an unknown external id is 404', async () => {
  await expectReject((await reader()).users.get({ external: 1_999_999_999 }), 404);
});

test('users: users.get({facebook_id}) finds the user', async () => {
  const fb = `fb${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const { user } = await signupOnly({ facebook_id: fb });
  const res = await (await reader()).users.get({ facebook_id: fb });
  assert.equal(res.user.id, user.id);
});

test('users: users.get({phone}) finds the user (GET /users/phone.json)', async () => {
  const phone = `+49${Date.now()}`.slice(0, 16);
  const { user } = await signupOnly({ phone });
  const res = await (await reader()).users.get({ phone });
  assertUser(res.user);
  assert.equal(res.user.id, user.id);
});

test('users: reserved query characters in login and email survive the SDK encoding', async () => {
  const base = uniqueLogin();
  const login = `${base}+x&y=z%w`;
  const email = `${base}+tag@example.org`;
  const { user } = await signupOnly({ login, email });
  assert.equal(user.login, login);
  assert.equal(user.email, email);
  const cc = await reader();
  assert.equal((await cc.users.get({ login })).user.id, user.id, 'by_login');
  assert.equal((await cc.users.get({ email })).user.id, user.id, 'by_email');
  const v2 = await cc.users.getV2({ login });
  assert.deepEqual(v2.items.map((u) => u.id), [user.id], 'getV2 login=');
});

test('users: legacy users.get({filter, order}) lists GET /users.json with filter[] and order', async () => {
  const us = [await signupOnly(), await signupOnly(), await signupOnly()];
  const ids = us.map((u) => u.user.id);
  const res = await (await reader()).users.get({
    filter: { field: 'id', param: 'in', value: ids },
    order: { sort: 'desc', field: 'id' }, // the SDK sends "desc string id": the type word must be ignored
  });
  assertPagedUsers(res);
  assert.deepEqual(res.items.map((i) => i.user.id), [...ids].sort((a, b) => b - a));
  assert.equal(res.total_entries, 3);
});

test('users: legacy users.get({external_user_id}) filters GET /users.json by equality', async () => {
  const ext = 300000 + Math.floor(Math.random() * 1e9);
  const { user } = await signupOnly({ external_user_id: ext });
  await signupOnly({ external_user_id: ext + 1 });
  const res = await (await reader()).users.get({ external_user_id: ext });
  assertPagedUsers(res);
  assert.deepEqual(res.items.map((i) => i.user.id), [user.id]);
});

test('users: legacy users.get({full_name}) returns the paged list with {user} items', async () => {
  // Whether by_full_name matches exactly or by substring is not pinned down by
  // the spec; the decoy below matches neither way.
  const uniq = uniqueLogin();
  const full_name = `Same Name ${uniq}`;
  const a = await signupOnly({ full_name });
  const b = await signupOnly({ full_name });
  await signupOnly({ full_name: `Other Name ${uniq}` });
  const res = await (await reader()).users.get({ full_name });
  assertPagedUsers(res);
  assert.equal(res.current_page, 1);
  assert.equal(res.per_page, 10);
  const ids = res.items.map((i) => i.user.id).sort((x, y) => x - y);
  assert.deepEqual(ids, [a.user.id, b.user.id].sort((x, y) => x - y));
  assert.equal(res.total_entries, 2);
});

test('users: legacy users.get({full_name}) honours page and per_page', async () => {
  const full_name = `Paged ${uniqueLogin()}`;
  for (let i = 0; i < 3; i += 1) await signupOnly({ full_name });
  const cc = await reader();
  const p1 = await cc.users.get({ full_name, page: 1, per_page: 2 });
  const p2 = await cc.users.get({ full_name, page: 2, per_page: 2 });
  assertPagedUsers(p1);
  assertPagedUsers(p2);
  assert.equal(p1.per_page, 2);
  assert.equal(p2.current_page, 2);
  assert.equal(p1.total_entries, 3);
  assert.equal(p1.items.length, 2);
  assert.equal(p2.items.length, 1);
  const all = new Set([...p1.items, ...p2.items].map((i) => i.user.id));
  assert.equal(all.size, 3, 'pages do not overlap');
});

test('users: legacy users.get({tags: [tag]}) returns users having the tag', async () => {
  const tag = `t${uniqueLogin()}`;
  const a = await signupOnly({ tag_list: [tag, 'common'] });
  const b = await signupOnly({ tag_list: `other,${tag}` });
  await signupOnly({ tag_list: ['common'] });
  const res = await (await reader()).users.get({ tags: [tag] });
  assertPagedUsers(res);
  const ids = res.items.map((i) => i.user.id).sort((x, y) => x - y);
  assert.deepEqual(ids, [a.user.id, b.user.id].sort((x, y) => x - y));
  assert.equal(res.total_entries, 2);
});

// ---------------------------------------------------------------------------
// users.getV2

test('users: getV2 {id: {in: [a, b]}} returns exactly those users as plain items', async () => {
  const a = await signupOnly();
  const b = await signupOnly();
  const res = await (await reader()).users.getV2({ id: { in: [a.user.id, b.user.id] } });
  assertV2List(res);
  assert.deepEqual(res.items.map((u) => u.id).sort((x, y) => x - y), [a.user.id, b.user.id].sort((x, y) => x - y));
  assert.equal(res.total_entries, 2);
  assert.equal(res.skip, 0);
  assert.equal(res.limit, 100, 'default limit is 100');
});

test('users: getV2 {login: "x"} returns the one user', async () => {
  const a = await signupOnly();
  const res = await (await reader()).users.getV2({ login: a.login });
  assertV2List(res);
  assert.equal(res.items.length, 1);
  assert.equal(res.items[0].id, a.user.id);
  assert.equal(res.total_entries, 1);
});

test('users: getV2 with an unmatched login returns an empty list', async () => {
  const res = await (await reader()).users.getV2({ login: uniqueLogin('none') });
  assertV2List(res);
  assert.equal(res.items.length, 0);
  assert.equal(res.total_entries, 0);
});

test('users: getV2 {email} returns the user', async () => {
  const a = await signupOnly();
  const res = await (await reader()).users.getV2({ email: a.email });
  assertV2List(res);
  assert.deepEqual(res.items.map((u) => u.id), [a.user.id]);
});

test('users: getV2 {login: {start_with}} matches the prefix and caps the limit at 5', async () => {
  const prefix = uniquePrefix();
  const made = [];
  for (let i = 0; i < 6; i += 1) made.push(await signupOnly({ login: `${prefix}x${i}` }));
  await signupOnly(); // does not match
  const res = await (await reader()).users.getV2({ login: { start_with: prefix } });
  assertV2List(res);
  assert.equal(res.items.length, 5, 'start_with forces limit 5');
  assert.equal(res.limit, 5);
  const ids = new Set(made.map((m) => m.user.id));
  for (const u of res.items) {
    assert.ok(u.login.startsWith(prefix), `${u.login} starts with ${prefix}`);
    assert.ok(ids.has(u.id));
  }
});

test('users: getV2 sort_desc and sort_asc order the items', async () => {
  const us = [await signupOnly(), await signupOnly(), await signupOnly()];
  const ids = us.map((u) => u.user.id);
  const cc = await reader();
  const desc = await cc.users.getV2({ id: { in: ids }, sort_desc: 'id' });
  assert.deepEqual(desc.items.map((u) => u.id), [...ids].sort((a, b) => b - a));
  const asc = await cc.users.getV2({ id: { in: ids }, sort_asc: 'id' });
  assert.deepEqual(asc.items.map((u) => u.id), [...ids].sort((a, b) => a - b));
});

test('users: getV2 limit and offset page through the result', async () => {
  const us = [await signupOnly(), await signupOnly(), await signupOnly()];
  const ids = us.map((u) => u.user.id).sort((a, b) => a - b);
  const res = await (await reader()).users.getV2({ id: { in: ids }, sort_asc: 'id', limit: 1, offset: 1 });
  assertV2List(res);
  assert.equal(res.limit, 1);
  assert.equal(res.skip, 1, 'skip echoes offset');
  assert.equal(res.total_entries, 3, 'total_entries ignores paging');
  assert.deepEqual(res.items.map((u) => u.id), [ids[1]]);
});

test('users: getV2 combines a primary filter with a created_at compare filter', async () => {
  const a = await signupOnly();
  const cc = await reader();
  const past = await cc.users.getV2({ login: a.login, created_at: { gt: '2000-01-01T00:00:00Z' } });
  assert.deepEqual(past.items.map((u) => u.id), [a.user.id]);
  const future = await cc.users.getV2({ login: a.login, created_at: { gt: '2999-01-01T00:00:00Z' } });
  assert.equal(future.items.length, 0);
});

test('users: getV2 {login: {nin}} excludes alongside a primary filter', async () => {
  const a = await signupOnly();
  const b = await signupOnly();
  const res = await (await reader()).users.getV2({ id: { in: [a.user.id, b.user.id] }, login: { nin: [a.login] } });
  assert.deepEqual(res.items.map((u) => u.id), [b.user.id]);
});

test('users: getV2 without any stand-alone primary filter is 422', async () => {
  const cc = await reader();
  await expectReject(cc.users.getV2({}), 422);
  await expectReject(cc.users.getV2({ created_at: { gt: '2000-01-01T00:00:00Z' } }), 422);
  await expectReject(cc.users.getV2({ limit: 10 }), 422);
});

test('users: getV2 with only an exclude operator (nin) is 422', async () => {
  await expectReject((await reader()).users.getV2({ login: { nin: ['a', 'b'] } }), 422);
});

test('users: getV2 with a compare operator on a stand-alone field is 422', async () => {
  await expectReject((await reader()).users.getV2({ id: { gt: 1 } }), 422);
});

test('users: getV2 start_with shorter than 4 characters is 422', async () => {
  await expectReject((await reader()).users.getV2({ login: { start_with: 'abc' } }), 422);
});

// ---------------------------------------------------------------------------
// Update

test('users: users.update changes the current user', async () => {
  const { cc, user } = await signupAndLogin();
  await sleep(1100); // so updated_at can move
  const res = await cc.users.update({
    full_name: 'Updated Name',
    phone: '+15550001',
    website: 'https://example.org/new',
    custom_data: '{"k":1}',
    tag_list: ['x', 'y'],
    timezone: -120,
  });
  assertUser(res.user);
  assert.equal(res.user.id, user.id);
  assert.equal(res.user.full_name, 'Updated Name');
  assert.equal(res.user.phone, '+15550001');
  assert.equal(res.user.website, 'https://example.org/new');
  assert.equal(res.user.custom_data, '{"k":1}');
  assert.equal(res.user.user_tags, 'x,y');
  assert.equal(res.user.timezone, -120);
  assert.equal(res.user.login, user.login, 'untouched fields keep their values');
  assert.equal(res.user.created_at, user.created_at);
  assert.ok(Date.parse(res.user.updated_at) > Date.parse(user.updated_at), 'updated_at moves');
  const got = await (await reader()).users.get(user.id);
  assert.equal(got.user.full_name, 'Updated Name');
});

test('users: users.update without a known user id (PUT /users.json) updates the caller', async () => {
  const { user, session } = await signupAndLogin();
  const cc = newClient();
  cc.setSession({ token: session.token }); // no user_id: the SDK does not know the current user
  assert.equal(cc.service.getCurrentUserId(), undefined);
  const res = await cc.users.update({ full_name: 'Via Collection Path' });
  assert.equal(res.user.id, user.id);
  assert.equal(res.user.full_name, 'Via Collection Path');
});

test('users: last_request_at is set by authenticated requests', async () => {
  const { cc, user } = await signupAndLogin();
  await cc.getSession();
  const got = await cc.users.get(user.id);
  assert.notEqual(got.user.last_request_at, null, 'last_request_at set after an authenticated request');
  assertIsoSecond(got.user.last_request_at, 'last_request_at');
  assert.ok(Date.parse(got.user.last_request_at) >= Date.parse(got.user.created_at));
});

test('users: PUT /users/{id}.json answers 200 with {user}', async () => {
  const { user, session } = await signupAndLogin();
  const res = await raw('PUT', `/users/${user.id}.json`, { token: session.token, body: { user: { full_name: 'Raw' } } });
  assert.equal(res.status, 200, `expected 200, got ${res.status} ${res.text}`);
  assertUser(res.json?.user);
  assert.equal(res.json.user.full_name, 'Raw');
});

test('users: update to a login already taken is 422 with errors.login', async () => {
  const other = await signupOnly();
  const { cc, user } = await signupAndLogin();
  await expectReject(cc.users.update({ login: other.login }), 422, 'login');
  const got = await (await reader()).users.get(user.id);
  assert.equal(got.user.login, user.login, 'login unchanged');
});

test('users: password change without old_password is 422', async () => {
  const { cc, login, password } = await signupAndLogin();
  await expectReject(cc.users.update({ password: 'brandnewpass1' }), 422);
  const s = await newClient().createSession({ login, password });
  assert.ok(s.token, 'old password still works');
});

test('users: password change with a wrong old_password is 422', async () => {
  const { cc, login, password } = await signupAndLogin();
  await expectReject(cc.users.update({ password: 'brandnewpass1', old_password: 'not-the-old-one' }), 422);
  const s = await newClient().createSession({ login, password });
  assert.ok(s.token, 'old password still works');
  await expectReject(newClient().createSession({ login, password: 'brandnewpass1' }), 401);
});

test('users: password change with old_password: new password works, old fails', async () => {
  const { cc, user, login, password } = await signupAndLogin();
  const res = await cc.users.update({ password: 'brandnewpass1', old_password: password });
  assertUser(res.user);
  const s = await newClient().createSession({ login, password: 'brandnewpass1' });
  assert.equal(s.user_id, user.id);
  await expectReject(newClient().createSession({ login, password }), 401);
});

test("users: updating another user's id is 403 and changes nothing", async () => {
  const victim = await signupOnly({ full_name: 'Victim' });
  const { session } = await signupAndLogin();
  const res = await raw('PUT', `/users/${victim.user.id}.json`, {
    token: session.token,
    body: { user: { full_name: 'Hacked' } },
  });
  assertRawError(res, 403);
  const got = await (await reader()).users.get(victim.user.id);
  assert.equal(got.user.full_name, 'Victim');
});

// ---------------------------------------------------------------------------
// Delete

test('users: users.delete() kills the user sessions and the user is gone (404)', async () => {
  const { cc, user, login, password, session } = await signupAndLogin();
  const second = await newClient().createSession({ login, password });
  const r = await cc.users.delete();
  assert.ok(r === undefined || typeof r === 'string', 'users.delete resolves (TEXT-typed)');
  for (const token of [session.token, second.token]) {
    const c = newClient();
    c.setSession({ token });
    await expectReject(c.users.get(user.id), 401, EXPIRED_BODY);
  }
  await expectReject((await reader()).users.get(user.id), 404);
  await expectReject((await reader()).users.get({ login }), 404);
  await expectReject(newClient().createSession({ login, password }), 404); // no such login any more (REST.md §1.8)
});

test('users: DELETE /users/{id}.json answers 200', async () => {
  const { user, session } = await signupAndLogin();
  const res = await raw('DELETE', `/users/${user.id}.json`, {
    token: session.token,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
  });
  assert.equal(res.status, 200, `expected 200, got ${res.status} ${res.text}`);
});

test("users: deleting another user's id is 403 and the user survives", async () => {
  const victim = await signupOnly();
  const { session } = await signupAndLogin();
  const res = await raw('DELETE', `/users/${victim.user.id}.json`, {
    token: session.token,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
  });
  assertRawError(res, 403);
  const got = await (await reader()).users.get(victim.user.id);
  assert.equal(got.user.id, victim.user.id);
});

test('users: a deleted login can be signed up again', async () => {
  const { cc, login } = await signupAndLogin();
  await cc.users.delete();
  const again = await (await appClient()).users.signup({ login, password: DEFAULT_PASSWORD });
  assert.equal(again.user.login, login);
});

test('users: users.delete without a known user id (DELETE /users.json) deletes the caller', async () => {
  const { user, session } = await signupAndLogin();
  const cc = newClient();
  cc.setSession({ token: session.token });
  await cc.users.delete();
  await expectReject((await reader()).users.get(user.id), 404);
});

// ---------------------------------------------------------------------------
// Password reset and online users (REST.md §4.7, §4.8)

