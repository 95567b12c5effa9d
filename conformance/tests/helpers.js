// Shared helpers for the Parley conformance suite.
//
// Everything here drives the server through the official connectycube 6.1.2
// SDK (or, where the SDK cannot express a request, through raw fetch with the
// same headers the SDK would send). Every wait is bounded.
//
// SDK facts that shape these helpers (see the SDK's Proxy.ts, config.ts,
// ConnectyCube.ts):
//   * `config` is a process-wide singleton: endpoints, credentials (appId /
//     authKey), `on.sessionExpired`, `timeout` and `debug` are shared by all
//     instances; only the session (token, current user id) is per instance.
//   * `init()` always overwrites `endpoints.api_url` and the credentials, so
//     every init passes the full endpoint set.
//   * A failed request rejects with `{code: <HTTP status>, info: <parsed JSON body>}`.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ConnectyCube from 'connectycube';

// ---------------------------------------------------------------------------
// Environment (exported by run.sh)

function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`environment variable ${name} is not set; run the suite through conformance/run.sh`);
  }
  return v;
}

export const env = {
  apiUrl: requireEnv('PARLEY_API_URL'),
  appId: Number(requireEnv('PARLEY_APP_ID')),
  authKey: requireEnv('PARLEY_AUTH_KEY'),
  domain: process.env.PARLEY_DOMAIN || 'localhost',
  chatUrl: requireEnv('PARLEY_CHAT_URL'),
  bin: process.env.PARLEY_BIN || '',
  dataDir: process.env.PARLEY_DATA_DIR || '',
};

/** Upper bound for any single HTTP request made by the SDK or raw fetch. */
export const REQUEST_TIMEOUT_MS = 10_000;

export const EXPIRED_BODY = Object.freeze({ errors: { base: ['Required session does not exist'] } });

// ---------------------------------------------------------------------------
// SDK instances

let globalConfig = null;

/** The SDK's global config singleton (reachable through any initialised instance). */
export function sdkConfig() {
  return globalConfig ?? newClient().service.sdkInstance.config;
}

/**
 * A fresh, independent SDK instance (own session), initialised against the
 * server under test (or against `target` = {apiUrl, appId, authKey}).
 * `extraConfig` is merged into the init options (e.g. `{on: {...}}`).
 */
export function newClient({ appId, authKey, target, extraConfig } = {}) {
  const t = target ?? env;
  const cc = new ConnectyCube.ConnectyCube();
  cc.init(
    { appId: appId ?? t.appId, authKey: authKey ?? t.authKey },
    {
      endpoints: { api_url: t.apiUrl, chat: env.domain, chat_url: t.chatUrl ?? env.chatUrl },
      debug: { mode: 0 },
      timeout: REQUEST_TIMEOUT_MS, // node-fetch honours `timeout`: every SDK request is bounded
      ...(extraConfig ?? {}),
    },
  );
  globalConfig = cc.service.sdkInstance.config;
  // Presentation only: the SDK rejects with a plain `{code, info}` object,
  // which the test runner prints as `{ errors: { base: [Array] } }`. Re-throw
  // it as an Error carrying the same `code` and `info` (so expectReject and any
  // caller see exactly what the SDK produced) with the full body in the message.
  // Requests themselves are untouched.
  const ajax = cc.service.ajax.bind(cc.service);
  cc.service.ajax = (params) =>
    ajax(params).catch((e) => {
      throw toSdkHttpError(e, params);
    });
  return cc;
}

/** Error form of the SDK's `{code, info}` rejection (same code and info). */
export class SdkHttpError extends Error {
  constructor(e, params) {
    const where = params ? `${params.type || 'GET'} ${params.url}` : '';
    super(`SDK request ${where} rejected: HTTP ${e.code} ${JSON.stringify(e.info)}`);
    this.name = 'SdkHttpError';
    this.code = e.code;
    this.info = e.info;
  }
}

function toSdkHttpError(e, params) {
  if (e && typeof e === 'object' && !(e instanceof Error) && 'code' in e) return new SdkHttpError(e, params);
  return e;
}

/**
 * Run `fn` with the SDK's global endpoints/credentials pointed at `target`
 * (e.g. a second server), restoring the previous values afterwards.
 */
export async function withTarget(target, fn) {
  const cfg = sdkConfig();
  const saved = {
    api_url: cfg.endpoints.api_url,
    appId: cfg.creds.appId,
    authKey: cfg.creds.authKey,
  };
  cfg.endpoints.api_url = target.apiUrl;
  cfg.creds.appId = target.appId;
  cfg.creds.authKey = target.authKey;
  try {
    return await fn();
  } finally {
    cfg.endpoints.api_url = saved.api_url;
    cfg.creds.appId = saved.appId;
    cfg.creds.authKey = saved.authKey;
  }
}

/** Restore the global credentials to the main server's (after a test used bad ones). */
export function restoreGlobalCreds() {
  const cfg = sdkConfig();
  cfg.endpoints.api_url = env.apiUrl;
  cfg.creds.appId = env.appId;
  cfg.creds.authKey = env.authKey;
}

/** Install a `config.on.sessionExpired` hook; returns a function that removes it. */
export function setSessionExpiredHook(fn) {
  const cfg = sdkConfig();
  const prev = cfg.on.sessionExpired;
  cfg.on.sessionExpired = fn;
  return () => {
    cfg.on.sessionExpired = prev;
  };
}

// ---------------------------------------------------------------------------
// Unique names

let counter = 0;
const runTag = (Date.now().toString(36) + Math.random().toString(36).slice(2, 6)).slice(-8);

/** A unique lowercase alphanumeric login, e.g. `u<run><n><rand>`. Max ~24 chars. */
export function uniqueLogin(prefix = 'u') {
  counter += 1;
  const rand = Math.random().toString(36).slice(2, 6);
  return `${prefix}${runTag}${counter.toString(36)}${rand}`.toLowerCase();
}

/** A unique prefix (>= 4 chars) for start_with searches; logins made with it start with it. */
export function uniquePrefix() {
  counter += 1;
  return `p${runTag}${counter.toString(36)}`.toLowerCase();
}

export function emailFor(login) {
  return `${login}@example.org`;
}

export const DEFAULT_PASSWORD = 'supersecret123';

// ---------------------------------------------------------------------------
// Users and sessions

/**
 * Sign up a new user (through an application session, the seed's flow) and
 * create a user session for it on a fresh SDK instance.
 * Returns {cc, user, session, login, email, password}.
 */
export async function signupAndLogin(fields = {}, { target } = {}) {
  const login = fields.login ?? uniqueLogin();
  const password = fields.password ?? DEFAULT_PASSWORD;
  const email = fields.email === undefined ? emailFor(login) : fields.email;
  const cc = newClient({ target });
  await cc.createSession();
  const body = { ...fields, login, password };
  if (email !== null) body.email = email;
  const res = await cc.users.signup(body);
  assert.ok(res && res.user, `signup returned no user: ${JSON.stringify(res)}`);
  const session = await cc.createSession({ login, password });
  return { cc, user: res.user, session, login, email, password };
}

/** Sign up a user through a throwaway app session; returns the user object. */
export async function signupOnly(fields = {}) {
  const cc = newClient();
  await cc.createSession();
  const login = fields.login ?? uniqueLogin();
  const body = { password: DEFAULT_PASSWORD, email: emailFor(login), ...fields, login };
  const res = await cc.users.signup(body);
  return { user: res.user, login, password: body.password, email: body.email };
}

// ---------------------------------------------------------------------------
// Assertions

/**
 * Assert that `promise` rejects the way the SDK rejects an HTTP error:
 * `{code: status, info: {errors: {...}}}`.
 * `infoCheck` may be:
 *   - undefined: only the status and the presence of an `errors` object are checked;
 *   - a string or array of strings: those keys must be present in `info.errors`,
 *     each with a non-empty array of strings;
 *   - a plain object: `info` must deep-equal it exactly;
 *   - a function: called with `info` (and the whole error).
 * Returns the rejection.
 */
export async function expectReject(promise, status, infoCheck) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    assert.ok(err && typeof err === 'object', `rejection is not an object: ${String(err)}`);
    if (err instanceof Error && !(err instanceof SdkHttpError) && err.code === undefined) {
      throw new Error(`expected HTTP ${status} rejection, got a JS error: ${err.stack || err}`);
    }
    const shown = JSON.stringify({ code: err.code, info: err.info });
    assert.equal(err.code, status, `expected HTTP ${status}, got ${err.code}: ${shown}`);
    checkErrorsBody(err.info, shown);
    if (typeof infoCheck === 'function') {
      infoCheck(err.info, err);
    } else if (typeof infoCheck === 'string' || Array.isArray(infoCheck)) {
      for (const key of [].concat(infoCheck)) {
        assertErrorField(err.info, key, shown);
      }
    } else if (infoCheck && typeof infoCheck === 'object') {
      assert.deepEqual(err.info, infoCheck, `error body mismatch: ${shown}`);
    }
    return err;
  }
  assert.fail(`expected rejection with HTTP ${status}, but the call resolved with ${JSON.stringify(value)}`);
}

/** `info` must be an object whose `errors` member is a (non-array) object. */
export function checkErrorsBody(info, shown = JSON.stringify(info)) {
  assert.ok(info && typeof info === 'object' && !Array.isArray(info), `error body is not a JSON object: ${shown}`);
  assert.ok(
    info.errors && typeof info.errors === 'object' && !Array.isArray(info.errors),
    `error body has no "errors" object: ${shown}`,
  );
}

export function assertErrorField(info, key, shown = JSON.stringify(info)) {
  const v = info?.errors?.[key];
  assert.ok(Array.isArray(v) && v.length > 0, `expected errors.${key} to be a non-empty array: ${shown}`);
  for (const m of v) assert.equal(typeof m, 'string', `errors.${key} items must be strings: ${shown}`);
}

const ISO_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export function assertIsoSecond(v, what) {
  assert.equal(typeof v, 'string', `${what} must be a string, got ${JSON.stringify(v)}`);
  assert.match(v, ISO_SECOND, `${what} must be YYYY-MM-DDTHH:MM:SSZ, got ${v}`);
  assert.ok(!Number.isNaN(Date.parse(v)), `${what} must be a valid date, got ${v}`);
}

function assertNullable(v, type, what) {
  if (v === null) return;
  if (type === 'integer') {
    assert.ok(Number.isInteger(v), `${what} must be an integer or null, got ${JSON.stringify(v)}`);
  } else {
    assert.equal(typeof v, type, `${what} must be ${type} or null, got ${JSON.stringify(v)}`);
  }
}

export const USER_FIELDS = {
  id: 'id',
  login: 'string',
  email: 'string',
  full_name: 'string',
  phone: 'string',
  website: 'string',
  custom_data: 'string',
  avatar: 'string',
  external_user_id: 'integer',
  external_id: 'string',
  facebook_id: 'string',
  twitter_id: 'string',
  blob_id: 'integer',
  user_tags: 'string',
  timezone: 'integer',
  created_at: 'iso',
  updated_at: 'iso',
  last_request_at: 'iso?',
};

/** Assert a User object of REST.md §2.1: every field present with the right type. */
export function assertUser(u, what = 'user') {
  assert.ok(u && typeof u === 'object' && !Array.isArray(u), `${what} must be an object: ${JSON.stringify(u)}`);
  for (const [field, type] of Object.entries(USER_FIELDS)) {
    assert.ok(Object.hasOwn(u, field), `${what}.${field} missing: ${JSON.stringify(u)}`);
    const v = u[field];
    const name = `${what}.${field}`;
    if (type === 'id') {
      assert.ok(Number.isInteger(v) && v > 0, `${name} must be a positive integer, got ${JSON.stringify(v)}`);
    } else if (type === 'iso') {
      assertIsoSecond(v, name);
    } else if (type === 'iso?') {
      if (v !== null) assertIsoSecond(v, name);
    } else {
      assertNullable(v, type, name);
    }
  }
  if (Object.hasOwn(u, 'is_guest')) assert.equal(typeof u.is_guest, 'boolean', `${what}.is_guest must be boolean`);
  for (const key of Object.keys(u)) {
    assert.ok(!/pass|digest|hash|salt/i.test(key), `${what} must not expose ${key}`);
  }
}

/**
 * Assert a Session object of REST.md §2.2.
 * `userId` = expected user id (0 for an application session).
 */
export function assertSession(s, { userId, appId = env.appId } = {}) {
  assert.ok(s && typeof s === 'object', `session must be an object: ${JSON.stringify(s)}`);
  assert.ok(Number.isInteger(s.id) && s.id > 0, `session.id must be a positive integer: ${JSON.stringify(s)}`);
  assert.ok(Number.isInteger(s.user_id), `session.user_id must be an integer: ${JSON.stringify(s)}`);
  assert.equal(s.application_id, appId, `session.application_id must be the app id (number): ${JSON.stringify(s)}`);
  assert.equal(typeof s.token, 'string', 'session.token must be a string');
  assert.match(s.token, /^[0-9a-f]{40}$/, `session.token should be 40 lowercase hex chars, got ${s.token}`);
  assert.ok(Number.isInteger(s.ts), `session.ts must be integer Unix seconds, got ${JSON.stringify(s.ts)}`);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(s.ts - now) < 600, `session.ts ${s.ts} is not close to now (${Math.round(now)})`);
  assertIsoSecond(s.created_at, 'session.created_at');
  assertIsoSecond(s.updated_at, 'session.updated_at');
  if (userId !== undefined) {
    assert.equal(s.user_id, userId, `session.user_id: ${JSON.stringify(s)}`);
    if (userId === 0) {
      assert.ok(!Object.hasOwn(s, 'user') || s.user === undefined, `app session must not carry a user: ${JSON.stringify(s)}`);
    } else {
      assertUser(s.user, 'session.user');
      assert.equal(s.user.id, userId, 'session.user.id must equal session.user_id');
    }
  }
}

/** Assert the legacy paged list shape of REST.md §4.4 (per-item {user} wrapper). */
export function assertPagedUsers(res) {
  assert.ok(res && typeof res === 'object', `paged list must be an object: ${JSON.stringify(res)}`);
  for (const k of ['current_page', 'per_page', 'total_entries']) {
    assert.ok(Number.isInteger(res[k]), `paged list .${k} must be an integer: ${JSON.stringify(res)}`);
  }
  assert.ok(Array.isArray(res.items), `paged list .items must be an array: ${JSON.stringify(res)}`);
  for (const [i, item] of res.items.entries()) {
    assert.ok(item && typeof item === 'object' && item.user, `items[${i}] must be {user: ...}: ${JSON.stringify(item)}`);
    assertUser(item.user, `items[${i}].user`);
  }
}

/** Assert the users/v2 list shape of REST.md §4.2 (plain User items). */
export function assertV2List(res) {
  assert.ok(res && typeof res === 'object', `v2 list must be an object: ${JSON.stringify(res)}`);
  for (const k of ['limit', 'skip', 'total_entries']) {
    assert.ok(Number.isInteger(res[k]), `v2 list .${k} must be an integer: ${JSON.stringify(res)}`);
  }
  assert.ok(Array.isArray(res.items), `v2 list .items must be an array: ${JSON.stringify(res)}`);
  for (const [i, item] of res.items.entries()) {
    assert.ok(!item.user, `v2 items[${i}] must be a plain user, not {user: ...}`);
    assertUser(item, `items[${i}]`);
  }
}

// ---------------------------------------------------------------------------
// Raw HTTP (for requests the SDK cannot make)

/**
 * Raw request against the API. Returns {status, headers, text, json}.
 * `json` is the parsed body or undefined when the body is not JSON.
 */
export async function raw(method, pathAndQuery, { token, authKey, body, headers = {}, base = env.apiUrl } = {}) {
  const h = { 'CB-SDK': 'JS 6.1.2 - Client', ...headers };
  if (token) h['CB-Token'] = token;
  if (authKey) h['CB-AuthKey'] = authKey;
  let payload = body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    payload = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
      h['Content-Type'] = 'application/json;charset=utf-8';
    }
  }
  const res = await fetch(base + pathAndQuery, {
    method,
    headers: h,
    body: payload,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Assert a raw response is an error with `status` and a JSON `errors` object. */
export function assertRawError(res, status, fields) {
  const shown = `HTTP ${res.status} ${res.text.slice(0, 500)}`;
  assert.equal(res.status, status, `expected HTTP ${status}, got ${shown}`);
  checkErrorsBody(res.json, shown);
  for (const f of [].concat(fields ?? [])) assertErrorField(res.json, f, shown);
}

/** Create an application session with raw fetch; returns its token. */
export async function rawAppToken(target = env) {
  const res = await raw('POST', '/session.json', {
    base: target.apiUrl,
    body: { application_id: target.appId, auth_key: target.authKey },
  });
  assert.ok(res.status === 201 && res.json?.session?.token, `app session failed: HTTP ${res.status} ${res.text}`);
  return res.json.session.token;
}

// ---------------------------------------------------------------------------
// Time

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Reject after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// A second, specially configured server

/** Reserve `n` free loopback ports (closed again before returning). */
export async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () =>
      new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve(s));
      }),
    ),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function execBounded(file, args, ms) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: ms, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Start another Parley server (PARLEY_BIN) with its own data dir and ports,
 * plus `extraArgs` (e.g. ['--session-ttl', '2s']), wait for /health (<= 30 s),
 * and create an app on it. Returns {apiUrl, chatUrl, appId, authKey, stop, logFile}.
 */
export async function startServer(extraArgs = []) {
  assert.ok(env.bin, 'PARLEY_BIN is not set; run through conformance/run.sh');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-conf-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const [http, ws, xmpp] = await freePorts(3);
  const args = [
    'serve',
    '--data-dir', dataDir,
    '--http-addr', `127.0.0.1:${http}`,
    '--ws-addr', `127.0.0.1:${ws}`,
    '--xmpp-addr', `127.0.0.1:${xmpp}`,
    '--domain', env.domain,
    ...extraArgs,
  ];
  let child;
  let exited = false;
  let exitPromise;
  const spawnServer = () => {
    const fd = openSync(logFile, 'a');
    child = spawn(env.bin, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    exited = false;
    exitPromise = new Promise((r) => child.once('exit', () => { exited = true; r(); }));
  };
  spawnServer();

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const done = await Promise.race([exitPromise.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await Promise.race([exitPromise, sleep(2_000)]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const apiUrl = `http://127.0.0.1:${http}`;
  const healthy = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`second server exited during startup (log: ${logFile})`);
      try {
        const r = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(1_000) });
        if (r.status === 200) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error('second server did not become healthy within 30 s');
      await sleep(100);
    }
  };
  // Kill the server with SIGKILL (no shutdown at all) and start it again on
  // the same ports and data dir.
  const crashAndRestart = async () => {
    child.kill('SIGKILL');
    await Promise.race([exitPromise, sleep(5_000)]);
    spawnServer();
    await healthy();
  };
  try {
    await healthy();
    const out = await execBounded(env.bin, ['app', 'create', '--data-dir', dataDir, '--name', 'conformance-2'], 30_000);
    const app = JSON.parse(out);
    return { apiUrl, chatUrl: `ws://127.0.0.1:${ws}`, appId: app.id, authKey: app.auth_key, stop, logFile, crashAndRestart };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Chat (REST.md §2.3 Dialog, §2.4 Message, §5, §6, §7)

/** A dialog / message / record id: 24 lowercase hex characters (README §2). */
export const OBJECT_ID = /^[0-9a-f]{24}$/;

/** A random well-formed id that names nothing (with at least one letter a–f). */
export function randomObjectId() {
  for (;;) {
    let s = '';
    for (let i = 0; i < 24; i += 1) s += Math.floor(Math.random() * 16).toString(16);
    if (/[a-f]/.test(s)) return s;
  }
}

export function assertObjectId(v, what) {
  assert.equal(typeof v, 'string', `${what} must be a string id, got ${JSON.stringify(v)}`);
  assert.match(v, OBJECT_ID, `${what} must be 24 lowercase hex characters, got ${v}`);
}

/** The room JID of a dialog: `{appId}_{dialogId}@muc.{chatDomain}` (README §2). */
export function roomJid(dialogId) {
  return `${env.appId}_${dialogId}@muc.${env.domain}`;
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function assertIntArray(v, what) {
  assert.ok(Array.isArray(v), `${what} must be an array, got ${JSON.stringify(v)}`);
  for (const x of v) assert.ok(Number.isInteger(x), `${what} items must be integers (JSON numbers), got ${JSON.stringify(v)}`);
}

export const DIALOG_FIELDS = [
  '_id', 'type', 'name', 'description', 'photo', 'user_id', 'occupants_ids', 'occupants_count',
  'admins_ids', 'pinned_messages_ids', 'last_message', 'last_message_id', 'last_message_user_id',
  'last_message_date_sent', 'last_message_status', 'unread_messages_count', 'xmpp_room_jid',
  'extensions', 'permissions', 'created_at', 'updated_at',
];

/**
 * Assert a Dialog of REST.md §2.3: every field present with its type, the
 * type-specific nulls, and the consistency of the last_message* group.
 */
export function assertDialog(d, what = 'dialog') {
  const shown = JSON.stringify(d);
  assert.ok(isPlainObject(d), `${what} must be an object: ${shown}`);
  for (const f of DIALOG_FIELDS) assert.ok(Object.hasOwn(d, f), `${what}.${f} missing: ${shown}`);
  assertObjectId(d._id, `${what}._id`);
  assert.match(d._id, /[a-f]/, `${what}._id must contain a letter a-f (README §2): ${d._id}`);
  assert.ok([1, 2, 3, 4].includes(d.type), `${what}.type must be 1..4 (a JSON number), got ${JSON.stringify(d.type)}`);
  for (const f of ['name', 'description', 'photo', 'last_message', 'xmpp_room_jid']) {
    assertNullable(d[f], 'string', `${what}.${f}`);
  }
  assert.ok(Number.isInteger(d.user_id) && d.user_id > 0, `${what}.user_id must be a positive integer: ${shown}`);
  assertIntArray(d.occupants_ids, `${what}.occupants_ids`);
  assertNullable(d.occupants_count, 'integer', `${what}.occupants_count`);
  assertIntArray(d.admins_ids, `${what}.admins_ids`);
  assert.ok(d.admins_ids.length <= 5, `${what}.admins_ids holds at most 5 ids: ${shown}`);
  assert.ok(Array.isArray(d.pinned_messages_ids), `${what}.pinned_messages_ids must be an array: ${shown}`);
  for (const id of d.pinned_messages_ids) assertObjectId(id, `${what}.pinned_messages_ids[]`);
  if (d.last_message_id !== null) assertObjectId(d.last_message_id, `${what}.last_message_id`);
  assertNullable(d.last_message_user_id, 'integer', `${what}.last_message_user_id`);
  assertNullable(d.last_message_date_sent, 'integer', `${what}.last_message_date_sent`);
  assert.ok(
    [null, 'sent', 'delivered', 'read'].includes(d.last_message_status),
    `${what}.last_message_status must be "sent", "delivered", "read" or null: ${shown}`,
  );
  assertNullable(d.unread_messages_count, 'integer', `${what}.unread_messages_count`);
  if (d.last_message_id === null) {
    for (const f of ['last_message', 'last_message_user_id', 'last_message_date_sent', 'last_message_status']) {
      assert.equal(d[f], null, `${what}.${f} must be null when there is no last message: ${shown}`);
    }
  } else {
    assert.equal(typeof d.last_message, 'string', `${what}.last_message must be a string when last_message_id is set: ${shown}`);
    assert.ok(Number.isInteger(d.last_message_user_id), `${what}.last_message_user_id must be set with last_message_id: ${shown}`);
    assert.ok(Number.isInteger(d.last_message_date_sent), `${what}.last_message_date_sent must be set with last_message_id: ${shown}`);
  }
  if (d.extensions !== null) {
    assert.ok(isPlainObject(d.extensions), `${what}.extensions must be an object or null: ${shown}`);
    for (const [k, v] of Object.entries(d.extensions)) {
      assert.equal(typeof v, 'string', `${what}.extensions.${k} must be a string: ${shown}`);
    }
  }
  if (d.permissions !== null) {
    assert.ok(isPlainObject(d.permissions), `${what}.permissions must be an object or null: ${shown}`);
    if (Object.hasOwn(d.permissions, 'allow_preview')) {
      assert.equal(typeof d.permissions.allow_preview, 'boolean', `${what}.permissions.allow_preview must be boolean: ${shown}`);
    }
  }
  assertIsoSecond(d.created_at, `${what}.created_at`);
  assertIsoSecond(d.updated_at, `${what}.updated_at`);
  assert.ok(Date.parse(d.updated_at) >= Date.parse(d.created_at), `${what}.updated_at must not precede created_at: ${shown}`);
  switch (d.type) {
    case 3:
      // Named for the caller after the other participant (full_name,
      // else login; null once that user is gone), as ConnectyCube's chat
      // widget expects (issue 15).
      assert.ok(d.name === null || (typeof d.name === 'string' && d.name !== ''),
        `${what}.name of a private dialog must be the other participant's name or null: ${shown}`);
      assert.equal(d.occupants_ids.length, 2, `${what}.occupants_ids of a private dialog holds exactly two ids: ${shown}`);
      assert.equal(d.occupants_count, null, `${what}.occupants_count must be null for type 3: ${shown}`);
      assert.equal(d.xmpp_room_jid, null, `${what}.xmpp_room_jid must be null for type 3: ${shown}`);
      assert.ok(Number.isInteger(d.unread_messages_count), `${what}.unread_messages_count must be an integer for type 3: ${shown}`);
      break;
    case 2:
      assert.equal(d.occupants_count, null, `${what}.occupants_count must be null for type 2: ${shown}`);
      assert.equal(d.xmpp_room_jid, roomJid(d._id), `${what}.xmpp_room_jid: ${shown}`);
      assert.ok(Number.isInteger(d.unread_messages_count), `${what}.unread_messages_count must be an integer for type 2: ${shown}`);
      break;
    case 4:
      assert.deepEqual(d.occupants_ids, [], `${what}.occupants_ids must be [] for type 4: ${shown}`);
      assert.ok(Number.isInteger(d.occupants_count), `${what}.occupants_count must be an integer for type 4: ${shown}`);
      assert.equal(d.unread_messages_count, null, `${what}.unread_messages_count must be null for type 4: ${shown}`);
      assert.equal(d.xmpp_room_jid, roomJid(d._id), `${what}.xmpp_room_jid: ${shown}`);
      break;
    case 1:
      assert.deepEqual(d.occupants_ids, [], `${what}.occupants_ids must be [] for type 1: ${shown}`);
      assert.equal(d.unread_messages_count, null, `${what}.unread_messages_count must be null for type 1: ${shown}`);
      assert.equal(d.xmpp_room_jid, roomJid(d._id), `${what}.xmpp_room_jid: ${shown}`);
      break;
    default:
  }
}

/** Assert a dialog list response of REST.md §5.1: {total_entries, skip, limit, items}. */
export function assertDialogList(res, what = 'dialog list') {
  const shown = JSON.stringify(res);
  assert.ok(isPlainObject(res), `${what} must be an object: ${shown}`);
  for (const k of ['total_entries', 'skip', 'limit']) {
    assert.ok(Number.isInteger(res[k]), `${what}.${k} must be an integer: ${shown}`);
  }
  assert.ok(Array.isArray(res.items), `${what}.items must be an array: ${shown}`);
  for (const [i, d] of res.items.entries()) assertDialog(d, `${what}.items[${i}]`);
}

export const MESSAGE_FIELDS = [
  '_id', 'chat_dialog_id', 'message', 'date_sent', 'sender_id', 'recipient_id', 'attachments',
  'read_ids', 'delivered_ids', 'views_count', 'read', 'reactions', 'created_at', 'updated_at',
];

/** Assert a Message of REST.md §2.4 (fields, types, read/delivered invariants). */
export function assertMessage(m, what = 'message') {
  const shown = JSON.stringify(m);
  assert.ok(isPlainObject(m), `${what} must be an object: ${shown}`);
  for (const f of MESSAGE_FIELDS) assert.ok(Object.hasOwn(m, f), `${what}.${f} missing: ${shown}`);
  assertObjectId(m._id, `${what}._id`);
  assertObjectId(m.chat_dialog_id, `${what}.chat_dialog_id`);
  assert.equal(typeof m.message, 'string', `${what}.message must be a string: ${shown}`);
  assert.ok(Number.isInteger(m.date_sent) && m.date_sent > 0, `${what}.date_sent must be integer Unix seconds: ${shown}`);
  assert.ok(Number.isInteger(m.sender_id) && m.sender_id > 0, `${what}.sender_id must be a positive integer: ${shown}`);
  assert.ok(Number.isInteger(m.recipient_id) && m.recipient_id >= 0, `${what}.recipient_id must be an integer: ${shown}`);
  assert.ok(Array.isArray(m.attachments), `${what}.attachments must be an array: ${shown}`);
  for (const a of m.attachments) assert.ok(isPlainObject(a), `${what}.attachments[] must be objects: ${shown}`);
  assertIntArray(m.read_ids, `${what}.read_ids`);
  assertIntArray(m.delivered_ids, `${what}.delivered_ids`);
  assert.ok(m.read_ids.includes(m.sender_id), `${what}.read_ids must contain the sender: ${shown}`);
  assert.ok(m.delivered_ids.includes(m.sender_id), `${what}.delivered_ids must contain the sender: ${shown}`);
  for (const id of m.read_ids) {
    assert.ok(m.delivered_ids.includes(id), `${what}: read_ids must be a subset of delivered_ids: ${shown}`);
  }
  assert.ok(Number.isInteger(m.views_count) && m.views_count >= 0, `${what}.views_count must be an integer: ${shown}`);
  const readByOther = m.read_ids.some((id) => id !== m.sender_id) ? 1 : 0;
  assert.equal(m.read, readByOther, `${what}.read must be 1 exactly when someone other than the sender read it: ${shown}`);
  assert.ok(m.reactions === null || isPlainObject(m.reactions), `${what}.reactions must be null or an object: ${shown}`);
  assertIsoSecond(m.created_at, `${what}.created_at`);
  assertIsoSecond(m.updated_at, `${what}.updated_at`);
}

/** Assert a message list response of REST.md §6.1: {skip, limit, items}. */
export function assertMessageList(res, what = 'message list') {
  const shown = JSON.stringify(res);
  assert.ok(isPlainObject(res), `${what} must be an object: ${shown}`);
  assert.ok(Number.isInteger(res.skip), `${what}.skip must be an integer: ${shown}`);
  assert.ok(Number.isInteger(res.limit), `${what}.limit must be an integer: ${shown}`);
  assert.ok(Array.isArray(res.items), `${what}.items must be an array: ${shown}`);
  for (const [i, m] of res.items.entries()) assertMessage(m, `${what}.items[${i}]`);
}

/**
 * Assert a multi-delete report (REST.md §5.4, §6.4):
 * {SuccessfullyDeleted: {ids}, NotFound: {ids}, WrongPermissions: {ids}}; the
 * id lists are compared as sets. `report` may be the raw JSON text.
 */
export function assertDeleteReport(report, { deleted = [], notFound = [], wrong = [] } = {}, what = 'delete report') {
  let r = report;
  if (typeof r === 'string') {
    try {
      r = JSON.parse(r);
    } catch {
      assert.fail(`${what} must be JSON text, got ${JSON.stringify(report)}`);
    }
  }
  const shown = JSON.stringify(r);
  assert.ok(isPlainObject(r), `${what} must be an object: ${shown}`);
  const expected = { SuccessfullyDeleted: deleted, NotFound: notFound, WrongPermissions: wrong };
  for (const [key, ids] of Object.entries(expected)) {
    assert.ok(isPlainObject(r[key]) && Array.isArray(r[key].ids), `${what}.${key} must be {ids: [...]}: ${shown}`);
    assert.deepEqual([...r[key].ids].sort(), [...ids].sort(), `${what}.${key}.ids: ${shown}`);
  }
  return r;
}

/** Sign up and log in `n` users in parallel (see signupAndLogin). */
export function signupMany(n, fields = {}) {
  return Promise.all(Array.from({ length: n }, () => signupAndLogin(fields)));
}

/** Sorted copy of a numeric id list. */
export function sortedIds(ids) {
  return [...ids].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------
// Real time

/** Bound of one real-time step (connect, a delivery). */
export const CHAT_WAIT = 5000;

/** Connects u's SDK to chat and waits until it is available (a ping answered after connect, REALTIME.md §3). */
export async function connectChat(u) {
  await withTimeout(u.cc.chat.connect({ userId: u.user.id, password: u.password }), CHAT_WAIT, 'connect');
  await withTimeout(u.cc.chat.pingWithTimeout(CHAT_WAIT), CHAT_WAIT + 500, 'ping');
  return u;
}

/** A new user (or u), signed up, logged in and available on chat. */
export async function online(u) {
  return connectChat(u ?? (await signupAndLogin()));
}

/** Resolves with the arguments of the next call of the SDK's chat listener. */
export function nextEvent(cc, listener) {
  return new Promise((resolve) => {
    cc.chat[listener] = (...args) => resolve(args);
  });
}

// ---------------------------------------------------------------------------
// Chat listeners and IQ calls (last activity, block lists)

// Records every call of a chat listener; wait() resolves with the first
// recorded call (at index >= from) that matches, bounded by CHAT_WAIT.
export function recorder(cc, listener) {
  const calls = [];
  const waiters = [];
  cc.chat[listener] = (...args) => {
    calls.push(args);
    const index = calls.length - 1;
    for (const w of [...waiters]) {
      if (index >= w.from && w.match(args)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(args);
      }
    }
  };
  return {
    calls,
    wait(match, label, from = 0) {
      const hit = calls.slice(from).find(match);
      if (hit) return Promise.resolve(hit);
      return withTimeout(new Promise((resolve) => waiters.push({ from, match, resolve })), CHAT_WAIT, label);
    },
  };
}

export async function ping(...users) {
  for (const u of users) {
    await withTimeout(u.cc.chat.pingWithTimeout(CHAT_WAIT), CHAT_WAIT + 500, `ping ${u.login}`);
  }
}

// Teardown: a ping first, so that what the SDK is still writing (e.g. its
// automatic 'received' marker for the last message) is out before the
// socket closes; then a bounded disconnect. Best effort.
export async function done(...users) {
  await Promise.allSettled(users.map(async (u) => {
    if (u.cc.chat.isConnected) await withTimeout(u.cc.chat.pingWithTimeout(CHAT_WAIT), CHAT_WAIT + 500, 'ping');
  }));
  await Promise.allSettled(users.map((u) => withTimeout(u.cc.chat.disconnect(), CHAT_WAIT, 'disconnect')));
}

// The SDK rejects IQ errors with a plain {code, info} object; call() turns
// that into an Error that names the call and shows the object (keeping code
// and info), and bounds the wait.
export class ChatError extends Error {
  constructor(label, e) {
    super(`${label} rejected with ${JSON.stringify(e)}`);
    this.name = 'ChatError';
    this.code = e?.code;
    this.info = e?.info;
  }
}

export function call(promise, label) {
  const labelled = promise.catch((e) => {
    throw e instanceof Error ? e : new ChatError(label, e);
  });
  return withTimeout(labelled, CHAT_WAIT, label);
}

// The SDK's {code, info} rejection of `promise` (a resolution fails the test).
export async function rejection(promise, label) {
  let value;
  try {
    value = await call(promise, label);
  } catch (e) {
    if (e instanceof ChatError) return { code: e.code, info: e.info };
    throw e;
  }
  return assert.fail(`${label} resolved with ${JSON.stringify(value)}; expected a rejection`);
}

// A default privacy list of `owner` that blocks `blocked` one way (the
// guide's create + setAsDefault).
