// Sessions and authentication (REST.md §1.8, §2.2, §3) through the official SDK.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import {
  env,
  EXPIRED_BODY,
  newClient,
  signupAndLogin,
  signupOnly,
  expectReject,
  assertSession,
  assertUser,
  setSessionExpiredHook,
  restoreGlobalCreds,
  withTarget,
  withTimeout,
  startServer,
  sleep,
  raw,
  checkErrorsBody,
  DEFAULT_PASSWORD,
} from './helpers.js';

const BOGUS_TOKEN = 'deadbeef'.repeat(5);

// ---------------------------------------------------------------------------
// Create session

test('session: createSession() creates an application session (user_id 0, no user)', async () => {
  const cc = newClient();
  const s = await cc.createSession();
  assertSession(s, { userId: 0 });
  assert.equal(cc.service.getSession().token, s.token, 'SDK stores the returned session');
});

test('session: POST /session.json answers 201 with {session}', async () => {
  const res = await raw('POST', '/session.json', { body: { application_id: env.appId, auth_key: env.authKey } });
  assert.equal(res.status, 201, `expected 201, got ${res.status} ${res.text}`);
  assertSession(res.json?.session, { userId: 0 });
});

test('session: application_id given as a numeric string is accepted', async () => {
  const res = await raw('POST', '/session.json', { body: { application_id: String(env.appId), auth_key: env.authKey } });
  assert.equal(res.status, 201, `expected 201, got ${res.status} ${res.text}`);
  assertSession(res.json?.session, { userId: 0 });
});

test('session: createSession({login, password}) creates a user session with the nested user', async () => {
  const { user, login, password } = await signupOnly({ full_name: 'Session Login' });
  const cc = newClient();
  const s = await cc.createSession({ login, password });
  assertSession(s, { userId: user.id });
  assert.equal(s.user.login, login);
  assert.equal(s.user.full_name, 'Session Login');
  assert.equal(cc.service.getCurrentUserId(), user.id, 'SDK takes user_id as the current user');
});

test('session: createSession({email, password}) creates a user session with the nested user', async () => {
  const { user, email, password } = await signupOnly();
  const cc = newClient();
  const s = await cc.createSession({ email, password });
  assertSession(s, { userId: user.id });
  assert.equal(s.user.email, email);
});

test('session: two user sessions of the same user get distinct tokens and ids', async () => {
  const { user, login, password } = await signupOnly();
  const a = await newClient().createSession({ login, password });
  const b = await newClient().createSession({ login, password });
  assertSession(a, { userId: user.id });
  assertSession(b, { userId: user.id });
  assert.notEqual(a.token, b.token);
  assert.notEqual(a.id, b.id);
});

test('session: createSession ignores a stale CB-Token the SDK still holds', async () => {
  const { user, login, password } = await signupOnly();
  const cc = newClient();
  cc.setSession({ token: BOGUS_TOKEN }); // the SDK sends it as CB-Token on POST /session.json
  const s = await cc.createSession({ login, password });
  assertSession(s, { userId: user.id });
  assert.notEqual(s.token, BOGUS_TOKEN);
});

test('session: getSession() returns the current user session', async () => {
  const { cc, user, session } = await signupAndLogin();
  const s = await cc.getSession();
  assertSession(s, { userId: user.id });
  assert.equal(s.id, session.id);
  assert.equal(s.token, session.token);
  assert.equal(s.application_id, env.appId);
});

test('session: getSession() on an application session reports user_id 0', async () => {
  const cc = newClient();
  const created = await cc.createSession();
  const s = await cc.getSession();
  assertSession(s, { userId: 0 });
  assert.equal(s.token, created.token);
});

test('session: getSession() with an unknown token is 401', async () => {
  const cc = newClient();
  cc.setSession({ token: BOGUS_TOKEN });
  await expectReject(cc.getSession(), 401);
});

test('session: destroySession() invalidates the token (401 expiry body afterwards)', async () => {
  const { cc, user, session } = await signupAndLogin();
  const r = await cc.destroySession();
  assert.ok(r === undefined || r === '', 'destroySession resolves (TEXT-typed, empty body)');
  assert.equal(cc.service.getSession(), null, 'SDK dropped its session');
  // The SDK now sends no token at all:
  await expectReject(cc.users.get(user.id), 401, EXPIRED_BODY);
  // The destroyed token itself is dead:
  const old = newClient();
  old.setSession({ token: session.token });
  await expectReject(old.users.get(user.id), 401, EXPIRED_BODY);
  await expectReject(old.getSession(), 401);
});

test('session: DELETE /session.json answers 200', async () => {
  const { session } = await signupAndLogin();
  const res = await raw('DELETE', '/session.json', {
    token: session.token,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
  });
  assert.equal(res.status, 200, `expected 200, got ${res.status} ${res.text}`);
});

test('session: destroying an application session invalidates it', async () => {
  const cc = newClient();
  const s = await cc.createSession();
  await cc.destroySession();
  const old = newClient();
  old.setSession({ token: s.token });
  await expectReject(old.getSession(), 401);
});

// ---------------------------------------------------------------------------
// login / logout on an existing session

test('session: login({login, password}) upgrades an application session to a user session', async () => {
  const { user, login, password } = await signupOnly();
  const cc = newClient();
  const appSession = await cc.createSession();
  const u = await cc.login({ login, password });
  assertUser(u, 'login user');
  assert.equal(u.id, user.id);
  assert.equal(u.login, login);
  assert.equal(cc.service.getCurrentUserId(), user.id);
  const s = await cc.getSession();
  assertSession(s, { userId: user.id });
  assert.equal(s.token, appSession.token, 'the token does not change on login');
});

test('session: login({email, password}) upgrades an application session', async () => {
  const { user, email, password } = await signupOnly();
  const cc = newClient();
  await cc.createSession();
  const u = await cc.login({ email, password });
  assert.equal(u.id, user.id);
  const s = await cc.getSession();
  assert.equal(s.user_id, user.id);
});

test('session: POST /login.json answers 202 with {user}', async () => {
  const { user, login, password } = await signupOnly();
  const cc = newClient();
  const s = await cc.createSession();
  const res = await raw('POST', '/login.json', { token: s.token, body: { login, password } });
  assert.equal(res.status, 202, `expected 202, got ${res.status} ${res.text}`);
  assertUser(res.json?.user, 'login.user');
  assert.equal(res.json.user.id, user.id);
});

test('session: logout() reverts the session to an application session', async () => {
  const { login, password } = await signupOnly();
  const cc = newClient();
  const appSession = await cc.createSession();
  await cc.login({ login, password });
  const r = await cc.logout();
  assert.ok(r === undefined || r === '' || typeof r === 'string', 'logout resolves (TEXT-typed)');
  const s = await cc.getSession();
  assertSession(s, { userId: 0 });
  assert.equal(s.token, appSession.token, 'the token stays valid after logout');
});

test('session: logout() of a session created with user credentials keeps the token alive as an app session', async () => {
  const { cc, session } = await signupAndLogin();
  await cc.logout();
  const s = await cc.getSession();
  assertSession(s, { userId: 0 });
  assert.equal(s.token, session.token);
});

test('session: a user-level call with an application-only session is 403', async () => {
  const cc = newClient();
  await cc.createSession();
  // No current user id -> the SDK sends PUT /users.json, "update the caller" (REST.md §4.5).
  await expectReject(cc.users.update({ full_name: 'nobody' }), 403);
});

// ---------------------------------------------------------------------------
// Credential failures

test('session: createSession with a wrong password is 401', async () => {
  const { login } = await signupOnly();
  await expectReject(newClient().createSession({ login, password: 'wrong-password-1' }), 401);
});

// 404, not 401 (REST.md §1.8, corrected 2026-12): ConnectyCube's own
// clients sign a user up only when session creation answers 404.
test('session: createSession with an unknown login is 404', async () => {
  await expectReject(newClient().createSession({ login: 'nosuchuser' + Date.now(), password: DEFAULT_PASSWORD }), 404);
});

test('session: createSession with an unknown email is 404', async () => {
  await expectReject(
    newClient().createSession({ email: `nosuch${Date.now()}@example.org`, password: DEFAULT_PASSWORD }),
    404,
  );
});

test('session: login() with a wrong password is 401 and the session stays an app session', async () => {
  const { login } = await signupOnly();
  const cc = newClient();
  await cc.createSession();
  await expectReject(cc.login({ login, password: 'wrong-password-1' }), 401);
  const s = await cc.getSession();
  assert.equal(s.user_id, 0);
});

test('session: createSession with a wrong auth key is 401', async () => {
  try {
    const bad = newClient({ authKey: 'not-the-auth-key' });
    await expectReject(bad.createSession(), 401);
  } finally {
    restoreGlobalCreds();
  }
});

test('session: createSession with an unknown application id is 401', async () => {
  try {
    const bad = newClient({ appId: env.appId + 100000 });
    await expectReject(bad.createSession(), 401);
  } finally {
    restoreGlobalCreds();
  }
});

test('session: a user session with a wrong auth key is 401 even with valid user credentials', async () => {
  const { login, password } = await signupOnly();
  try {
    const bad = newClient({ authKey: 'not-the-auth-key' });
    await expectReject(bad.createSession({ login, password }), 401);
  } finally {
    restoreGlobalCreds();
  }
});

// ---------------------------------------------------------------------------
// Unknown tokens and the SDK's expiry hook

test('session: an unknown CB-Token gets 401 with the exact expiry body', async () => {
  const { user } = await signupOnly();
  const cc = newClient();
  cc.setSession({ token: BOGUS_TOKEN });
  await expectReject(cc.users.get(user.id), 401, EXPIRED_BODY);
});

test('session: a request without any token gets 401 with the exact expiry body', async () => {
  const { user } = await signupOnly();
  await expectReject(newClient().users.get(user.id), 401, EXPIRED_BODY);
});

test('session: config.on.sessionExpired is invoked for an expired token and retry() re-issues the request', async () => {
  const { user, login, password } = await signupOnly();
  const fresh = await newClient().createSession({ login, password });
  let calls = 0;
  const remove = setSessionExpiredHook((handleResponse, retry) => {
    calls += 1;
    assert.equal(typeof handleResponse, 'function');
    assert.equal(typeof retry, 'function');
    retry(fresh);
  });
  try {
    const cc = newClient();
    cc.setSession({ token: BOGUS_TOKEN });
    const res = await withTimeout(cc.users.get(user.id), 15_000, 'users.get via sessionExpired retry');
    assert.equal(calls, 1, 'sessionExpired hook called exactly once');
    assert.equal(res.user.id, user.id);
    assert.equal(cc.service.getSession().token, fresh.token, 'retry() installed the new session');
  } finally {
    remove();
  }
});

test('session: config.on.sessionExpired handleResponse() surfaces the 401 expiry error', async () => {
  const { user } = await signupOnly();
  let calls = 0;
  const remove = setSessionExpiredHook((handleResponse) => {
    calls += 1;
    handleResponse();
  });
  try {
    const cc = newClient();
    cc.setSession({ token: BOGUS_TOKEN });
    await withTimeout(expectReject(cc.users.get(user.id), 401, EXPIRED_BODY), 15_000, 'users.get');
    assert.equal(calls, 1, 'sessionExpired hook called exactly once');
  } finally {
    remove();
  }
});

test('session: config.on.sessionExpired is passed through init() options', async () => {
  const { user } = await signupOnly();
  let calls = 0;
  const cc = newClient({
    extraConfig: {
      on: {
        sessionExpired: (handleResponse) => {
          calls += 1;
          handleResponse();
        },
      },
    },
  });
  try {
    cc.setSession({ token: BOGUS_TOKEN });
    await withTimeout(expectReject(cc.users.get(user.id), 401, EXPIRED_BODY), 15_000, 'users.get');
    assert.equal(calls, 1, 'sessionExpired hook (from init options) called once');
  } finally {
    cc.service.sdkInstance.config.on.sessionExpired = undefined;
  }
});

test('session: config.on.sessionExpired is not invoked for /session URLs', async () => {
  let calls = 0;
  const remove = setSessionExpiredHook((handleResponse) => {
    calls += 1;
    handleResponse();
  });
  try {
    const cc = newClient();
    cc.setSession({ token: BOGUS_TOKEN });
    await withTimeout(expectReject(cc.getSession(), 401), 15_000, 'getSession');
    assert.equal(calls, 0, 'the SDK never runs the expiry hook for URLs containing "session"');
  } finally {
    remove();
  }
});

// ---------------------------------------------------------------------------
// Session lifetime (second server with --session-ttl 2s)

let ttlServer = null;
async function ttl() {
  if (!ttlServer) ttlServer = await startServer(['--session-ttl', '2s']);
  return ttlServer;
}
after(async () => {
  if (ttlServer) await ttlServer.stop();
  ttlServer = null;
});

test('session: a token unused for longer than --session-ttl expires (401 expiry body)', async () => {
  const target = await ttl();
  await withTarget(target, async () => {
    const { cc, user } = await signupAndLogin({}, { target });
    const ok = await cc.users.get(user.id);
    assert.equal(ok.user.id, user.id);
    await sleep(3_000);
    await expectReject(cc.users.get(user.id), 401, EXPIRED_BODY);
    await expectReject(cc.getSession(), 401);
  });
});

test('session: an application session also expires after --session-ttl', async () => {
  const target = await ttl();
  await withTarget(target, async () => {
    const cc = newClient({ target });
    await cc.createSession();
    await sleep(3_000);
    await expectReject(cc.getSession(), 401);
  });
});

test('session: requests extend the session lifetime (sliding expiry)', async () => {
  const target = await ttl();
  await withTarget(target, async () => {
    const { cc, user } = await signupAndLogin({}, { target });
    const started = Date.now();
    // One request per second for 3+ seconds: longer than the 2 s TTL in total,
    // but never idle for 2 s.
    for (let i = 0; i < 4; i += 1) {
      await sleep(1_000);
      const r = await cc.users.get(user.id);
      assert.equal(r.user.id, user.id, `request ${i + 1} after ${Date.now() - started} ms`);
    }
    assert.ok(Date.now() - started > 3_000);
    const s = await cc.getSession();
    assert.equal(s.user_id, user.id);
    // And once idle for longer than the TTL it dies.
    await sleep(3_000);
    await expectReject(cc.users.get(user.id), 401, EXPIRED_BODY);
  });
});

test('session: an unknown token on the second server is also rejected with the expiry body', async () => {
  const target = await ttl();
  await withTarget(target, async () => {
    const cc = newClient({ target });
    cc.setSession({ token: BOGUS_TOKEN });
    const err = await expectReject(cc.users.get(1), 401, EXPIRED_BODY);
    checkErrorsBody(err.info);
  });
});
