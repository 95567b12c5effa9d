// Blobs through the official SDK: the guide's "Attachments (photo / video)"
// flow end to end, and the storage calls of REST.md §8.7–§8.10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  signupAndLogin, online, nextEvent as next, withTimeout, expectReject, assertIsoSecond, raw, assertRawError,
  REQUEST_TIMEOUT_MS, CHAT_WAIT, env,
} from './helpers.js';

async function download(url, headers = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

test('attachments: the guide flow — createAndUpload a private Buffer, send its uid, the receiver downloads the exact bytes; delete makes it 404', async () => {
  const a = await online();
  const b = await online();
  try {
    const photo = randomBytes(200_000);
    const file = await a.cc.storage.createAndUpload({
      name: 'dog.jpg', file: photo, type: 'image/jpeg', size: photo.length, public: false,
    });
    assert.equal(typeof file.uid, 'string');
    assert.ok(Number.isInteger(file.id));
    assert.equal(file.size, photo.length);
    assert.equal(file.name, 'dog.jpg');
    assert.equal(file.content_type, 'image/jpeg');
    assert.equal(file.public, false);

    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const got = next(b.cc, 'onMessageListener');
    const message = {
      type: 'chat',
      body: 'attachment',
      extension: { save_to_history: 1, dialog_id: dialog._id, attachments: [{ uid: file.uid, id: file.id, type: 'photo' }] },
    };
    message.id = a.cc.chat.send(b.user.id, message);
    const [, msg] = await withTimeout(got, CHAT_WAIT, 'onMessageListener');
    const att = msg.extension.attachments[0];
    assert.equal(att.uid, file.uid);

    const url = b.cc.storage.privateUrl(att.uid);
    assert.ok(url.startsWith(`${env.apiUrl}/blobs/${file.uid}?token=`), url);
    const res = await download(url);
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(photo), `downloaded ${res.body.length} bytes, not the uploaded ${photo.length}`);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('content-length'), String(photo.length));
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="dog.jpg"');
    assert.ok(res.headers.get('etag'));

    // Range, for video players.
    const part = await download(url, { Range: 'bytes=10-19' });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(photo.subarray(10, 20)));

    // Without a token, a private blob is not served.
    const anon = await download(a.cc.storage.publicUrl(file.uid));
    assert.equal(anon.status, 401);

    // The history carries the attachment too.
    const history = await b.cc.chat.message.list({ chat_dialog_id: dialog._id, mark_as_read: 0 });
    assert.equal(history.items[0].attachments[0].uid, file.uid);

    await a.cc.storage.delete(file.id);
    const gone = await download(url);
    assert.equal(gone.status, 404);
    assert.ok(JSON.parse(gone.body.toString()).errors, 'a 404 in the ConnectyCube error shape');
  } finally {
    a.cc.chat.disconnect();
    b.cc.chat.disconnect();
  }
});

test('attachments: createAndUpload defaults to public; a public blob downloads without a token', async () => {
  const a = await signupAndLogin();
  const data = Buffer.from('hello, public world');
  const file = await a.cc.storage.createAndUpload({ name: 'hello.txt', file: data, type: 'text/plain', size: data.length });
  assert.equal(file.public, true);
  const res = await download(a.cc.storage.publicUrl(file.uid));
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'hello, public world');
});

test('storage: getInfo, getFile, getFileObject, list, update (rename) and delete (§8.7–§8.10)', async () => {
  const a = await signupAndLogin();
  const b = await signupAndLogin();
  const data = randomBytes(1234);
  const file = await a.cc.storage.createAndUpload({ name: 'report.pdf', file: data, type: 'application/pdf', size: data.length, public: false });

  const byId = await b.cc.storage.getInfo(file.id);
  assert.equal(byId.blob.id, file.id);
  assert.equal(byId.blob.uid, file.uid);
  assert.equal(byId.blob.size, data.length);
  assert.equal(byId.blob.blob_status, 'complete');
  assertIsoSecond(byId.blob.set_completed_at, 'set_completed_at');
  assertIsoSecond(byId.blob.created_at, 'created_at');
  assert.equal(byId.blob.app_id, env.appId);
  const byUid = await a.cc.storage.getFile(file.uid);
  assert.equal(byUid.blob.id, file.id);

  const object = await b.cc.storage.getFileObject(file.uid, { download_url: 1 });
  assert.equal(object.blob.uid, file.uid);
  const durl = object.blob.blob_object_access?.download_url ?? object.blob_object_access?.download_url;
  assert.equal(typeof durl, 'string');
  const res = await download(durl);
  assert.equal(res.status, 200);
  assert.ok(res.body.equals(data));

  const second = await a.cc.storage.createAndUpload({ name: 'second.txt', file: Buffer.from('2'), type: 'text/plain', size: 1 });
  const page = await a.cc.storage.list({ current_page: 1, per_page: 1 });
  assert.equal(page.total_entries, 2);
  assert.equal(page.per_page, 1);
  assert.equal(page.current_page, 1);
  assert.equal(page.items.length, 1);
  assert.equal(page.items[0].blob.id, second.id);
  const page2 = await a.cc.storage.list({ page: 2, per_page: 1 });
  assert.equal(page2.items[0].blob.id, file.id);
  const theirs = await b.cc.storage.list();
  assert.equal(theirs.total_entries, 0);

  // The SDK's update sends GET with blob[name] (§8.10); the owner renames.
  const renamed = await a.cc.storage.update({ id: file.id, name: 'Q3 report.pdf' });
  assert.equal(renamed.blob.name, 'Q3 report.pdf');
  assert.equal((await a.cc.storage.getInfo(file.id)).blob.name, 'Q3 report.pdf');
  await expectReject(b.cc.storage.update({ id: file.id, name: 'mine' }), 403);
  const head = await download(durl);
  assert.equal(head.headers.get('content-disposition'), 'inline; filename="Q3 report.pdf"');

  await expectReject(b.cc.storage.delete(file.id), 403);
  await a.cc.storage.delete(file.id);
  await expectReject(a.cc.storage.getInfo(file.id), 404);
  await expectReject(a.cc.storage.delete(file.id), 404);
});

test('storage: bad input — a path for a name, a forged ticket, a token of no session', async () => {
  const a = await signupAndLogin();
  await expectReject(a.cc.storage.create({ name: '../../etc/passwd', content_type: 'text/plain' }), 422, 'name');
  await expectReject(a.cc.storage.create({ name: 'x'.repeat(10 * 1024), content_type: 'text/plain' }), 422, 'name');
  const { blob } = await a.cc.storage.create({ name: 'a.txt', content_type: 'text/plain', public: false });
  const ticket = new URL(blob.blob_object_access.params);
  ticket.searchParams.set('signature', '0'.repeat(64));
  const form = new FormData();
  for (const [k, v] of ticket.searchParams) form.append(k, v);
  form.append('file', new Blob([Buffer.from('forged')]));
  const res = await fetch(`${ticket.origin}${ticket.pathname}`, { method: 'POST', body: form, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  assert.equal(res.status, 403);
  assert.ok((await res.json()).errors);
  await expectReject(a.cc.storage.markUploaded({ id: blob.id, size: 6 }), 422, 'size');
  const r = await raw('GET', `/blobs/${blob.uid}?token=${'0'.repeat(40)}`);
  assertRawError(r, 404); // not complete: nothing to serve
});
