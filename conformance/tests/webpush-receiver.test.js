// The local Web Push receiver (webpush-receiver.js) proven against an
// independent sender before it judges the server: the RFC 8291 Appendix A
// body (bytes fixed by the RFC, not produced by any code here), bodies
// encrypted with http_ece's encrypt, and VAPID JWTs signed here with
// node:crypto. Needs no Parley server (no helpers.js import), so it also
// runs alone: node --test conformance/tests/webpush-receiver.test.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import ece from 'http_ece';
import { newReceiver } from './webpush-receiver.js';

const WAIT = 5000;
const b64u = (b) => Buffer.from(b).toString('base64url');

// RFC 8291 §5 / Appendix A (all base64url).
const RFC = {
  plaintext: 'When I grow up, I want to be a watermelon',
  uaPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  uaPublic: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
  auth: 'BTBZMqHH6r4Tts7J_aSIgg',
  body:
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml' +
    'mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT' +
    'pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};

/** A VAPID key pair: {privateKey: KeyObject, k: base64url raw public point}. */
function vapidKeys() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return { privateKey, k: b64u(raw) };
}

/** An ES256 JWT over claims, signed with key (as an application server does, RFC 8292 §2). */
function signJwt(key, claims, header = { typ: 'JWT', alg: 'ES256' }) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(sig)}`;
}

function claimsFor(endpoint, extra = {}) {
  return { aud: new URL(endpoint).origin, exp: Math.floor(Date.now() / 1000) + 12 * 3600, sub: 'mailto:ops@example.com', ...extra };
}

/** http_ece's aes128gcm encryption of plaintext to a subscription (fresh sender key). */
function encryptTo(sub, plaintext) {
  const sender = crypto.createECDH('prime256v1');
  sender.generateKeys();
  return ece.encrypt(Buffer.from(plaintext), { version: 'aes128gcm', privateKey: sender, dh: sub.p256dh, authSecret: sub.auth });
}

/** POST body to endpoint with the headers a Web Push sender uses; overrides replace or (null) drop them. */
async function post(endpoint, body, { vapid, jwt, headers = {} } = {}) {
  const h = {
    'Content-Encoding': 'aes128gcm',
    'Content-Type': 'application/octet-stream',
    TTL: '60',
    Authorization: `vapid t=${jwt ?? signJwt(vapid.privateKey, claimsFor(endpoint))}, k=${vapid.k}`,
    ...headers,
  };
  for (const [name, v] of Object.entries(h)) if (v === null) delete h[name];
  const res = await fetch(endpoint, { method: 'POST', headers: h, body, signal: AbortSignal.timeout(WAIT) });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

test('webpush receiver: decrypts the RFC 8291 Appendix A body with the RFC receiver keys and answers 201', async () => {
  const r = await newReceiver();
  try {
    const sub = r.subscription({ privateKey: RFC.uaPrivate, auth: RFC.auth });
    assert.equal(sub.p256dh, RFC.uaPublic, 'the receiver derives the RFC public key from the RFC private key');
    assert.equal(sub.auth, RFC.auth);
    assert.ok(sub.endpoint.startsWith(`${r.url}/`), `endpoint ${sub.endpoint} on ${r.url}`);
    const vapid = vapidKeys();
    const res = await post(sub.endpoint, Buffer.from(RFC.body, 'base64url'), { vapid, headers: { Urgency: 'high', Topic: 'chat-1' } });
    assert.equal(res.status, 201, res.text);
    assert.ok(res.location, 'a Location for the push message (RFC 8030 §5)');
    const [push] = await r.waitFor(1, WAIT, sub.endpoint);
    assert.equal(push.text, RFC.plaintext);
    assert.equal(push.payload, null, 'not JSON');
    assert.equal(push.urgency, 'high');
    assert.equal(push.topic, 'chat-1');
    assert.equal(push.ttl, 60);
    assert.equal(push.vapidKey, vapid.k);
    assert.equal(push.claims.aud, r.url);
    assert.deepEqual(r.rejected(), []);
  } finally {
    await r.close();
  }
});

test('webpush receiver: decrypts a JSON payload encrypted with http_ece to a fresh subscription, per endpoint', async () => {
  const r = await newReceiver();
  try {
    const a = r.subscription();
    const b = r.subscription();
    assert.notEqual(a.endpoint, b.endpoint);
    assert.equal(Buffer.from(a.p256dh, 'base64url').length, 65);
    assert.equal(Buffer.from(a.auth, 'base64url').length, 16);
    const vapid = vapidKeys();
    const msg = { message: 'Mira Holm: hi', ios_badge: 2 };
    assert.equal((await post(a.endpoint, encryptTo(a, JSON.stringify(msg)), { vapid })).status, 201);
    assert.equal((await post(b.endpoint, encryptTo(b, '{"n":2}'), { vapid, headers: { Urgency: null } })).status, 201);
    const [pa] = await r.waitFor(1, WAIT, a.endpoint);
    assert.deepEqual(pa.payload, msg);
    assert.equal(pa.urgency, null, 'Urgency absent');
    const [pb] = await r.waitFor(1, WAIT, b.endpoint);
    assert.deepEqual(pb.payload, { n: 2 });
    assert.equal(r.received().length, 2);
    assert.deepEqual(r.rejected(), []);
  } finally {
    await r.close();
  }
});

test('webpush receiver: refuses bad VAPID with 401 (other key, wrong aud, expired, over 24 h, bad sub, ES384 alg, no header)', async () => {
  const r = await newReceiver();
  try {
    const sub = r.subscription();
    const vapid = vapidKeys();
    const other = vapidKeys();
    const now = Math.floor(Date.now() / 1000);
    const body = () => encryptTo(sub, '{"x":1}');
    const cases = [
      ['signed by another key', { jwt: signJwt(other.privateKey, claimsFor(sub.endpoint)) }, /signature/],
      ['aud of another origin', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint, { aud: 'https://fcm.googleapis.com' })) }, /aud/],
      ['aud with a path', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint, { aud: sub.endpoint })) }, /aud/],
      ['expired', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint, { exp: now - 10 })) }, /expired/],
      ['exp 25 h ahead', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint, { exp: now + 25 * 3600 })) }, /24 h/],
      ['no sub', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint, { sub: undefined })) }, /sub/],
      ['sub mailto:mailto:', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint, { sub: 'mailto:mailto:ops@example.com' })) }, /sub/],
      ['sub http:', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint, { sub: 'http://example.com/contact' })) }, /sub/],
      ['alg ES384', { jwt: signJwt(vapid.privateKey, claimsFor(sub.endpoint), { typ: 'JWT', alg: 'ES384' }) }, /alg/],
      ['no Authorization', { headers: { Authorization: null } }, /missing Authorization/],
      ['Bearer scheme', { headers: { Authorization: `Bearer ${signJwt(vapid.privateKey, claimsFor(sub.endpoint))}` } }, /not vapid/],
    ];
    for (const [name, opts, reason] of cases) {
      const res = await post(sub.endpoint, body(), { vapid, ...opts });
      assert.equal(res.status, 401, `${name}: HTTP ${res.status} ${res.text}`);
      assert.match(r.rejected().at(-1).reason, reason, name);
    }
    assert.equal(r.rejected().length, cases.length);
    assert.deepEqual(r.received(), [], 'nothing refused is recorded as received');
    // The same request with a good token is accepted (with either contact form): the cases above failed for their one defect.
    assert.equal((await post(sub.endpoint, body(), { vapid })).status, 201);
    const https = signJwt(vapid.privateKey, claimsFor(sub.endpoint, { sub: 'https://example.com/contact' }));
    assert.equal((await post(sub.endpoint, body(), { vapid, jwt: https })).status, 201);
  } finally {
    await r.close();
  }
});

test('webpush receiver: refuses malformed deliveries (no TTL, aesgcm, wrong keys, bad Urgency, too big) with 400/413 and unknown or expired endpoints with 404/410', async () => {
  const r = await newReceiver();
  try {
    const sub = r.subscription();
    const stranger = r.subscription(); // encrypting to its keys: the receiver cannot decrypt at sub
    const vapid = vapidKeys();
    const good = () => encryptTo(sub, '{"x":1}');
    const cases = [
      ['no TTL', sub.endpoint, good(), { headers: { TTL: null } }, 400, /TTL/],
      ['TTL not a number', sub.endpoint, good(), { headers: { TTL: 'soon' } }, 400, /TTL/],
      ['aesgcm encoding', sub.endpoint, good(), { headers: { 'Content-Encoding': 'aesgcm' } }, 400, /Content-Encoding/],
      ['encrypted to other keys', sub.endpoint, encryptTo(stranger, '{"x":1}'), {}, 400, /decrypt/],
      ['truncated body', sub.endpoint, good().subarray(0, 90), {}, 400, /short/],
      ['bad Urgency', sub.endpoint, good(), { headers: { Urgency: 'urgent' } }, 400, /Urgency/],
      ['over 4096 octets', sub.endpoint, encryptTo(sub, 'x'.repeat(4100)), {}, 413, /exceeds/],
      ['unknown endpoint', `${r.url}/push/nope`, good(), {}, 404, /no subscription/],
    ];
    for (const [name, endpoint, body, opts, status, reason] of cases) {
      const res = await post(endpoint, body, { vapid, ...opts });
      assert.equal(res.status, status, `${name}: HTTP ${res.status} ${res.text}`);
      assert.match(r.rejected().at(-1).reason, reason, name);
    }
    r.expire(sub.endpoint);
    const gone = await post(sub.endpoint, good(), { vapid });
    assert.equal(gone.status, 410, gone.text);
    assert.deepEqual(r.received(), []);
    await assert.rejects(r.waitFor(1, 200, sub.endpoint), /0 of 1 pushes within 200 ms/, 'waitFor is bounded and says what came');
  } finally {
    await r.close();
  }
});
