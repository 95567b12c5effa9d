// A local Web Push service for the conformance suite: it stands where a
// browser vendor's push service (FCM, Mozilla autopush, Apple) would, on
// 127.0.0.1, and checks each request the way such a service does
// (RFC 8030 message delivery, RFC 8292 VAPID, RFC 8291 aes128gcm payload
// encryption). It also plays the browser: subscription() makes the key pair
// and auth secret a PushManager would, so the receiver can decrypt what it
// is sent and tests can assert the plaintext.
//
//   const r = await newReceiver();
//   const sub = r.subscription();            // {endpoint, p256dh, auth} base64url
//   ... server sends ...
//   const [push] = await r.waitFor(1, 5000, sub.endpoint);
//   push.payload                              // the decrypted body, JSON-parsed
//   r.rejected()                              // requests refused, with the reason
//   await r.close();
//
// Accepted requests are answered 201 (with a Location, as RFC 8030 §5 says);
// refused ones 400 (malformed), 401 (VAPID), 404 (unknown endpoint),
// 410 (an endpoint expired with expire()), 413 (body over 4096 octets).
// Only node: built-ins and http_ece (the RFC 8188 codec) are used.

import http from 'node:http';
import crypto from 'node:crypto';
import ece from 'http_ece';

const MAX_BODY = 4096; // RFC 8030 §7.2: a push service must accept at least 4096 octets; FCM refuses more
const DAY_SECONDS = 24 * 60 * 60; // RFC 8292 §2: exp no more than 24 hours from the request
const CLOCK_SKEW = 60; // seconds of leeway on the 24 h bound (the sender's clock rounds)

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const unb64u = (s) => Buffer.from(s, 'base64url');

/**
 * Starts a receiver on 127.0.0.1 (an ephemeral port).
 * Returns {url, subscription(opts), received(filter), rejected(), waitFor(n, ms, filter), expire(endpoint), close()}.
 * `filter` is an endpoint string, a function(record) → boolean, or absent (everything).
 */
export async function newReceiver() {
  const subs = new Map(); // path → {endpoint, ecdh, auth, gone}
  const received = [];
  const rejected = [];
  const waiters = new Set();
  let seq = 0;
  let origin = '';

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY + 1) chunks.push(c);
    });
    req.on('end', () => {
      const endpoint = origin + req.url;
      const verdict = check(req, Buffer.concat(chunks), size, endpoint);
      if (verdict.status !== 201) {
        rejected.push({ endpoint, status: verdict.status, reason: verdict.reason, at: Date.now() });
        res.writeHead(verdict.status, { 'Content-Type': 'text/plain' });
        res.end(verdict.reason);
        notify();
        return;
      }
      seq += 1;
      received.push(verdict.record);
      res.writeHead(201, { Location: `${origin}/message/${seq}`, TTL: String(verdict.record.ttl) });
      res.end();
      notify();
    });
    req.on('error', () => {});
  });

  function check(req, body, size, endpoint) {
    const bad = (status, reason) => ({ status, reason });
    const sub = subs.get(req.url);
    if (req.method !== 'POST') return bad(405, `method ${req.method}, want POST`);
    if (!sub) return bad(404, `no subscription at ${req.url}`);
    if (sub.gone) return bad(410, 'subscription expired');

    // RFC 8292 §3: Authorization: vapid t=<JWT>, k=<raw P-256 public key>.
    const vapid = parseVapid(req.headers.authorization);
    if (vapid.error) return bad(401, vapid.error);
    const jwt = verifyJwt(vapid.t, vapid.k, new URL(endpoint).origin);
    if (jwt.error) return bad(401, jwt.error);

    // RFC 8030 §5.2: TTL is required; §5.3 Urgency and §5.4 Topic are optional but constrained.
    const ttlHeader = req.headers.ttl;
    if (ttlHeader === undefined) return bad(400, 'missing TTL header');
    if (!/^\d+$/.test(ttlHeader)) return bad(400, `TTL ${JSON.stringify(ttlHeader)} is not a non-negative integer`);
    const urgency = req.headers.urgency ?? null;
    if (urgency !== null && !['very-low', 'low', 'normal', 'high'].includes(urgency)) {
      return bad(400, `Urgency ${JSON.stringify(urgency)} is not very-low, low, normal or high`);
    }
    const topic = req.headers.topic ?? null;
    if (topic !== null && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) {
      return bad(400, `Topic ${JSON.stringify(topic)} is not 1-32 base64url characters`);
    }

    // RFC 8291 §4: aes128gcm, one record, keyid = the sender's 65-octet public key.
    if (size > MAX_BODY) return bad(413, `body of ${size} octets exceeds ${MAX_BODY}`);
    const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
    if (encoding !== 'aes128gcm') return bad(400, `Content-Encoding ${JSON.stringify(req.headers['content-encoding'])}, want aes128gcm`);
    if (body.length < 21 + 65 + 17) return bad(400, `body of ${body.length} octets is too short for aes128gcm`);
    const idlen = body.readUInt8(20);
    if (idlen !== 65 || body[21] !== 0x04) return bad(400, `keyid is not an uncompressed P-256 point (idlen ${idlen})`);
    let plain;
    try {
      plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: b64u(sub.auth) });
    } catch (e) {
      return bad(400, `cannot decrypt: ${e.message}`);
    }
    const text = plain.toString('utf8');
    let payload = null;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null; // not JSON: tests see text and payload === null
    }
    return {
      status: 201,
      record: {
        endpoint,
        payload,
        text,
        topic,
        urgency,
        ttl: Number(ttlHeader),
        vapidKey: vapid.k,
        claims: jwt.claims,
        at: Date.now(),
      },
    };
  }

  function select(list, filter) {
    if (filter === undefined || filter === null) return [...list];
    if (typeof filter === 'function') return list.filter(filter);
    return list.filter((r) => r.endpoint === filter);
  }

  function notify() {
    for (const w of [...waiters]) w();
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${server.address().port}`;

  return {
    url: origin,

    /**
     * A browser-side subscription: a fresh P-256 key pair and 16-octet auth
     * secret (or the given ones, base64url: {privateKey, auth}, for test vectors).
     * Returns {endpoint, p256dh, auth} (base64url, unpadded, as PushSubscription.toJSON()).
     */
    subscription({ privateKey, auth } = {}) {
      seq += 1;
      const path = `/push/${seq}-${crypto.randomBytes(6).toString('hex')}`;
      const ecdh = crypto.createECDH('prime256v1');
      if (privateKey) ecdh.setPrivateKey(unb64u(privateKey));
      else ecdh.generateKeys();
      const secret = auth ? unb64u(auth) : crypto.randomBytes(16);
      const sub = { endpoint: origin + path, ecdh, auth: secret, gone: false };
      subs.set(path, sub);
      return { endpoint: sub.endpoint, p256dh: b64u(ecdh.getPublicKey()), auth: b64u(secret) };
    },

    /** Accepted pushes (optionally of one endpoint / matching a function), oldest first. */
    received(filter) {
      return select(received, filter);
    },

    /** Refused requests: {endpoint, status, reason}. */
    rejected() {
      return [...rejected];
    },

    /**
     * Resolves with the matching pushes once there are at least n; rejects
     * after ms with what did arrive and what was refused.
     */
    waitFor(n, ms, filter) {
      return new Promise((resolve, reject) => {
        const test = () => {
          const got = select(received, filter);
          if (got.length >= n) {
            waiters.delete(test);
            clearTimeout(timer);
            resolve(got);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(test);
          const got = select(received, filter);
          reject(new Error(
            `push receiver: ${got.length} of ${n} pushes within ${ms} ms` +
            `${typeof filter === 'string' ? ` at ${filter}` : ''}; got ${JSON.stringify(got.map((r) => r.payload ?? r.text))}` +
            `; refused requests: ${JSON.stringify(rejected)}`,
          ));
        }, ms);
        waiters.add(test);
        test();
      });
    },

    /** From now on, pushes to endpoint are answered 410 Gone (an unsubscribed browser). */
    expire(endpoint) {
      const sub = subs.get(new URL(endpoint).pathname);
      if (sub) sub.gone = true;
    },

    /** Stops listening and drops open connections. */
    close() {
      for (const w of [...waiters]) waiters.delete(w);
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Parses `vapid t=<jwt>, k=<key>` (RFC 8292 §3); returns {t, k} or {error}. */
export function parseVapid(header) {
  if (!header) return { error: 'missing Authorization header' };
  const m = /^vapid\s+(.*)$/i.exec(header.trim());
  if (!m) return { error: `Authorization scheme is not vapid: ${header.slice(0, 40)}` };
  const params = {};
  for (const part of m[1].split(',')) {
    const i = part.indexOf('=');
    if (i < 0) return { error: `Authorization parameter without "=": ${part.trim()}` };
    params[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).trim();
  }
  if (!params.t) return { error: 'Authorization has no t= (JWT)' };
  if (!params.k) return { error: 'Authorization has no k= (public key)' };
  return { t: params.t, k: params.k };
}

/**
 * Verifies an ES256 VAPID JWT against the raw public key k (base64url,
 * 65-octet uncompressed point) and the expected audience (the endpoint's
 * origin). Returns {claims} or {error}.
 */
export function verifyJwt(token, k, audience, now = Math.floor(Date.now() / 1000)) {
  const raw = unb64u(k);
  if (raw.length !== 65 || raw[0] !== 0x04) return { error: `k is not a 65-octet uncompressed P-256 key (${raw.length} octets)` };
  let key;
  try {
    key = crypto.createPublicKey({
      format: 'jwk',
      key: { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33, 65)) },
    });
  } catch (e) {
    return { error: `k is not a point on P-256: ${e.message}` };
  }
  const parts = token.split('.');
  if (parts.length !== 3) return { error: 'JWT does not have three parts' };
  let header;
  let claims;
  try {
    header = JSON.parse(unb64u(parts[0]).toString('utf8'));
    claims = JSON.parse(unb64u(parts[1]).toString('utf8'));
  } catch {
    return { error: 'JWT header or claims are not base64url JSON' };
  }
  if (header.alg !== 'ES256') return { error: `JWT alg ${JSON.stringify(header.alg)}, want ES256` };
  if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') return { error: `JWT typ ${JSON.stringify(header.typ)}` };
  const sig = unb64u(parts[2]);
  if (sig.length !== 64) return { error: `JWS signature of ${sig.length} octets, want 64 (r||s)` };
  const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) return { error: 'JWT signature does not verify with k' };
  if (claims.aud !== audience) return { error: `JWT aud ${JSON.stringify(claims.aud)}, want ${audience}` };
  if (!Number.isInteger(claims.exp)) return { error: `JWT exp ${JSON.stringify(claims.exp)} is not an integer` };
  if (claims.exp <= now) return { error: `JWT expired (exp ${claims.exp}, now ${now})` };
  if (claims.exp > now + DAY_SECONDS + CLOCK_SKEW) return { error: `JWT exp ${claims.exp} is more than 24 h ahead of ${now}` };
  // RFC 8292 §2.1: sub SHOULD be a mailto: or https: contact; Apple refuses tokens without a valid one
  // (403 BadJwtToken), e.g. "mailto:mailto:ops@example.com", which webpush-go v1.4.0 makes of a
  // subject already starting with mailto: (SherClockHolmes/webpush-go PR #92).
  if (!validSubject(claims.sub)) {
    return { error: `JWT sub ${JSON.stringify(claims.sub)} is not a mailto: address or an https: URL` };
  }
  return { claims };
}

/** A mailto: URI of one address (no ":" in it: RFC 6068 addr-spec) or an https: URL. */
function validSubject(sub) {
  if (typeof sub !== 'string') return false;
  if (sub.startsWith('mailto:')) return /^mailto:[^\s:@<>,]+@[A-Za-z0-9.-]+$/.test(sub);
  if (sub.startsWith('https:')) {
    try {
      return new URL(sub).protocol === 'https:';
    } catch {
      return false;
    }
  }
  return false;
}
