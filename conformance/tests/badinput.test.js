// Malformed and unusual HTTP input (REST.md §1), with raw fetch: the SDK
// cannot send malformed bodies. Every rejected write is followed by a check
// that nothing changed.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  env,
  EXPIRED_BODY,
  uniqueLogin,
  signupAndLogin,
  signupOnly,
  assertRawError,
  assertUser,
  assertSession,
  rawAppToken,
  raw,
  DEFAULT_PASSWORD,
} from './helpers.js';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' };
const JSONCT = { 'Content-Type': 'application/json;charset=utf-8' };

let tokenPromise = null;
/** An application session token used for the write attempts. */
function appToken() {
  tokenPromise ??= rawAppToken();
  return tokenPromise;
}

let userPromise = null;
/** A user session {user, session} used for reads. */
function reader() {
  userPromise ??= signupAndLogin();
  return userPromise;
}

/** Assert (through two different endpoints) that no user with `login` exists. */
async function assertNoUser(login) {
  const { session } = await reader();
  const byLogin = await raw('GET', `/users/by_login.json?login=${encodeURIComponent(login)}`, {
    token: session.token,
    headers: FORM,
  });
  assertRawError(byLogin, 404);
  const v2 = await raw('GET', `/users/v2.json?login=${encodeURIComponent(login)}`, { token: session.token, headers: FORM });
  assert.equal(v2.status, 200, `users/v2: HTTP ${v2.status} ${v2.text}`);
  assert.equal(v2.json.total_entries, 0, `a user with login ${login} exists: ${v2.text}`);
}

async function getUser(id) {
  const { session } = await reader();
  const res = await raw('GET', `/users/${id}.json`, { token: session.token, headers: FORM });
  assert.equal(res.status, 200, `GET /users/${id}.json: HTTP ${res.status} ${res.text}`);
  return res.json.user;
}

// ---------------------------------------------------------------------------
// Malformed bodies

test('badinput: malformed JSON on POST /users.json is 400 with errors', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    headers: JSONCT,
    body: `{"user": {"login": "${login}", "password": "${DEFAULT_PASSWORD}"`,
  });
  assertRawError(res, 400);
  await assertNoUser(login);
});

test('badinput: a JSON body that is not an object is 400 or 422 with errors', async () => {
  const res = await raw('POST', '/users.json', { token: await appToken(), headers: JSONCT, body: '[1,2,3]' });
  assert.ok([400, 422].includes(res.status), `expected 400 or 422, got ${res.status} ${res.text}`);
  assertRawError(res, res.status);
});

test('badinput: malformed JSON on PUT /users/{id}.json is 400 and changes nothing', async () => {
  const { user, session } = await signupAndLogin({ full_name: 'Before' });
  const res = await raw('PUT', `/users/${user.id}.json`, {
    token: session.token,
    headers: JSONCT,
    body: '{"user": {"full_name": "After"',
  });
  assertRawError(res, 400);
  assert.equal((await getUser(user.id)).full_name, 'Before');
});

test('badinput: malformed JSON on POST /session.json is 400 with errors', async () => {
  const res = await raw('POST', '/session.json', { headers: JSONCT, body: '{"application_id": ' });
  assertRawError(res, 400);
});

test('badinput: a body over 1 MiB is 413 with a JSON errors body', async () => {
  const login = uniqueLogin();
  const body = JSON.stringify({
    user: { login, password: DEFAULT_PASSWORD, custom_data: 'x'.repeat(1024 * 1024 + 1024) },
  });
  const res = await raw('POST', '/users.json', { token: await appToken(), headers: JSONCT, body });
  assertRawError(res, 413);
  await assertNoUser(login);
});

// ---------------------------------------------------------------------------
// Wrong types and over-long values

test('badinput: login as an object is 422 naming login', async () => {
  const marker = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    body: { user: { login: { nested: marker }, password: DEFAULT_PASSWORD, email: `${marker}@example.org` } },
  });
  assertRawError(res, 422, 'login');
  const { session } = await reader();
  const byEmail = await raw('GET', `/users/by_email.json?email=${encodeURIComponent(`${marker}@example.org`)}`, {
    token: session.token,
    headers: FORM,
  });
  assertRawError(byEmail, 404);
});

test('badinput: password as an object is 422 naming password', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    body: { user: { login, password: { value: DEFAULT_PASSWORD } } },
  });
  assertRawError(res, 422, 'password');
  await assertNoUser(login);
});

test('badinput: full_name as an array is 422 naming full_name', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    body: { user: { login, password: DEFAULT_PASSWORD, full_name: ['a', 'b'] } },
  });
  assertRawError(res, 422, 'full_name');
  await assertNoUser(login);
});

test('badinput: timezone as a non-numeric string is 422 naming timezone', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    body: { user: { login, password: DEFAULT_PASSWORD, timezone: 'abc' } },
  });
  assertRawError(res, 422, 'timezone');
  await assertNoUser(login);
});

test('badinput: user as a string instead of an object is 422', async () => {
  const res = await raw('POST', '/users.json', { token: await appToken(), body: { user: 'nope' } });
  assertRawError(res, 422);
});

test('badinput: a 10,000-character full_name is 422 naming full_name', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    body: { user: { login, password: DEFAULT_PASSWORD, full_name: 'n'.repeat(10_000) } },
  });
  assertRawError(res, 422, 'full_name');
  await assertNoUser(login);
});

test('badinput: a 1,000-character login is 422 naming login', async () => {
  const login = uniqueLogin() + 'l'.repeat(1000);
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    body: { user: { login, password: DEFAULT_PASSWORD } },
  });
  assertRawError(res, 422, 'login');
});

test('badinput: an over-long full_name on update is 422 and changes nothing', async () => {
  const { user, session } = await signupAndLogin({ full_name: 'Short' });
  const res = await raw('PUT', `/users/${user.id}.json`, {
    token: session.token,
    body: { user: { full_name: 'n'.repeat(10_000) } },
  });
  assertRawError(res, 422, 'full_name');
  assert.equal((await getUser(user.id)).full_name, 'Short');
});

// ---------------------------------------------------------------------------
// POST /session.json validation

test('badinput: POST /session.json with an empty object is 422', async () => {
  const res = await raw('POST', '/session.json', { body: {} });
  assertRawError(res, 422);
});

test('badinput: POST /session.json with an empty body is 422', async () => {
  const res = await raw('POST', '/session.json', { headers: JSONCT, body: '' });
  assertRawError(res, 422);
});

test('badinput: POST /session.json with user but no password is 422', async () => {
  const { login } = await signupOnly();
  const res = await raw('POST', '/session.json', {
    body: { application_id: env.appId, auth_key: env.authKey, user: { login } },
  });
  assertRawError(res, 422);
});

test('badinput: POST /session.json with user but neither login nor email is 422', async () => {
  const res = await raw('POST', '/session.json', {
    body: { application_id: env.appId, auth_key: env.authKey, user: { password: DEFAULT_PASSWORD } },
  });
  assertRawError(res, 422);
});

test('badinput: POST /session.json ignores timestamp, nonce and signature', async () => {
  const res = await raw('POST', '/session.json', {
    body: { application_id: env.appId, auth_key: env.authKey, timestamp: 1, nonce: 2, signature: 'abc' },
  });
  assert.equal(res.status, 201, `expected 201, got ${res.status} ${res.text}`);
  assertSession(res.json?.session, { userId: 0 });
});

// ---------------------------------------------------------------------------
// Paths without .json

test('badinput: GET /users/{id} without .json works', async () => {
  const { user, session } = await reader();
  const res = await raw('GET', `/users/${user.id}`, { token: session.token, headers: FORM });
  assert.equal(res.status, 200, `HTTP ${res.status} ${res.text}`);
  assertUser(res.json?.user);
  assert.equal(res.json.user.id, user.id);
});

test('badinput: POST /session and GET /session without .json work', async () => {
  const created = await raw('POST', '/session', { body: { application_id: env.appId, auth_key: env.authKey } });
  assert.equal(created.status, 201, `HTTP ${created.status} ${created.text}`);
  assertSession(created.json?.session, { userId: 0 });
  const got = await raw('GET', '/session', { token: created.json.session.token, headers: FORM });
  assert.equal(got.status, 200, `HTTP ${got.status} ${got.text}`);
  assert.equal(got.json?.session?.token, created.json.session.token);
});

test('badinput: POST /users without .json works', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users', { token: await appToken(), body: { user: { login, password: DEFAULT_PASSWORD } } });
  assert.equal(res.status, 201, `HTTP ${res.status} ${res.text}`);
  assert.equal(res.json?.user?.login, login);
});

test('badinput: PUT /users/{id} without .json works', async () => {
  const { user, session } = await signupAndLogin();
  const res = await raw('PUT', `/users/${user.id}`, { token: session.token, body: { user: { full_name: 'NoSuffix' } } });
  assert.equal(res.status, 200, `HTTP ${res.status} ${res.text}`);
  assert.equal(res.json?.user?.full_name, 'NoSuffix');
});

test('badinput: GET /users/by_login and /users/v2 without .json work', async () => {
  const { user, session } = await reader();
  const a = await raw('GET', `/users/by_login?login=${encodeURIComponent(user.login)}`, { token: session.token, headers: FORM });
  assert.equal(a.status, 200, `by_login: HTTP ${a.status} ${a.text}`);
  assert.equal(a.json?.user?.id, user.id);
  const b = await raw('GET', `/users/v2?login=${encodeURIComponent(user.login)}`, { token: session.token, headers: FORM });
  assert.equal(b.status, 200, `v2: HTTP ${b.status} ${b.text}`);
  assert.deepEqual(b.json?.items?.map((u) => u.id), [user.id]);
});

test('badinput: an unknown route is 404 with a JSON errors body', async () => {
  const { session } = await reader();
  const res = await raw('GET', '/no_such_route.json', { token: session.token, headers: FORM });
  assertRawError(res, 404);
});

test('badinput: repeated slashes in the path are collapsed (api_url with a trailing slash)', async () => {
  const { user, session } = await reader();
  const res = await raw('GET', `//users/${user.id}.json`, { token: session.token, headers: FORM });
  assert.equal(res.status, 200, `HTTP ${res.status} ${res.text}`);
  assert.equal(res.json?.user?.id, user.id);
});

test('badinput: form-encoded POST /users.json with user[login] keys is accepted', async () => {
  const login = uniqueLogin();
  const res = await raw('POST', '/users.json', {
    token: await appToken(),
    headers: FORM,
    body: `user%5Blogin%5D=${login}&user%5Bpassword%5D=${DEFAULT_PASSWORD}&user%5Bfull_name%5D=Form+User`,
  });
  assert.equal(res.status, 201, `HTTP ${res.status} ${res.text}`);
  assert.equal(res.json?.user?.login, login);
  assert.equal(res.json?.user?.full_name, 'Form User');
});

// ---------------------------------------------------------------------------
// Headers, CORS, query quirks

test('badinput: CORS preflight OPTIONS /users.json allows the SDK headers', async () => {
  const res = await fetch(`${env.apiUrl}/users.json`, {
    method: 'OPTIONS',
    headers: {
      Origin: 'http://app.example.com',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'cb-token,cb-sdk,content-type',
    },
    signal: AbortSignal.timeout(10_000),
  });
  await res.text();
  assert.ok(res.status >= 200 && res.status < 300, `preflight status ${res.status}`);
  const allowOrigin = res.headers.get('access-control-allow-origin');
  assert.ok(allowOrigin === '*' || allowOrigin === 'http://app.example.com', `Access-Control-Allow-Origin: ${allowOrigin}`);
  const allowHeaders = (res.headers.get('access-control-allow-headers') || '').toLowerCase();
  for (const h of ['cb-token', 'cb-authkey', 'cb-sdk', 'content-type']) {
    assert.ok(allowHeaders.split(/\s*,\s*/).includes(h), `Access-Control-Allow-Headers lacks ${h}: ${allowHeaders}`);
  }
  const allowMethods = (res.headers.get('access-control-allow-methods') || '').toUpperCase();
  for (const m of ['GET', 'POST', 'PUT', 'DELETE']) {
    assert.ok(allowMethods.includes(m), `Access-Control-Allow-Methods lacks ${m}: ${allowMethods}`);
  }
});

test('badinput: actual responses carry Access-Control-Allow-Origin', async () => {
  const { user, session } = await reader();
  const res = await raw('GET', `/users/${user.id}.json`, {
    token: session.token,
    headers: { ...FORM, Origin: 'http://app.example.com' },
  });
  assert.equal(res.status, 200);
  const allowOrigin = res.headers.get('access-control-allow-origin');
  assert.ok(allowOrigin === '*' || allowOrigin === 'http://app.example.com', `Access-Control-Allow-Origin: ${allowOrigin}`);
});

test('badinput: a GET with a form Content-Type and a bare ? works', async () => {
  const { user, session } = await reader();
  const res = await raw('GET', `/users/${user.id}.json?`, { token: session.token, headers: FORM });
  assert.equal(res.status, 200, `HTTP ${res.status} ${res.text}`);
  assert.equal(res.json?.user?.id, user.id);
  const s = await raw('GET', '/session.json?', { token: session.token, headers: FORM });
  assert.equal(s.status, 200, `GET /session.json?: HTTP ${s.status} ${s.text}`);
  assert.equal(s.json?.session?.user_id, user.id);
});

test('badinput: POST with a JSON Content-Type and an empty body is treated as {}', async () => {
  // POST /users.json with no body: user is missing -> validation error, not a parse error.
  const res = await raw('POST', '/users.json', { token: await appToken(), headers: JSONCT, body: '' });
  assertRawError(res, 422);
});

test('badinput: a missing CB-Token on a user endpoint is 401 with the exact expiry body', async () => {
  const { user } = await reader();
  const res = await raw('GET', `/users/${user.id}.json`, { headers: FORM });
  assertRawError(res, 401);
  assert.deepEqual(res.json, EXPIRED_BODY);
});

test('badinput: CB-SDK is informational and its absence changes nothing', async () => {
  const { user, session } = await reader();
  const res = await fetch(`${env.apiUrl}/users/${user.id}.json`, {
    headers: { 'CB-Token': session.token },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.user.id, user.id);
});

test('badinput: a user id path segment that is not a number is 404 or 400 with errors', async () => {
  const { session } = await reader();
  const res = await raw('GET', '/users/notanumber.json', { token: session.token, headers: FORM });
  assert.ok([400, 404].includes(res.status), `expected 400 or 404, got ${res.status} ${res.text}`);
  assertRawError(res, res.status);
});
