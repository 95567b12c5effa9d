// Live notices through the official SDK: system messages (sent live and
// created through REST), reactions and send_to_chat messages told live,
// video-call signalling between two SDK instances, and the guide's "Mark a
// client as Active/Inactive" (REALTIME.md §12-§14, §16.4; REST.md §6.2,
// §6.6, §6.7). Each asserts what the OTHER party receives; where something
// must not arrive, a bounded wait follows ping round trips of both parties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  env, roomJid, signupAndLogin, sleep, withTimeout, online, nextEvent as next,
} from './helpers.js';

const WAIT = 5000;
const QUIET = 300; // after the ping round trips: what was coming has come

// Records every call of a listener, to prove later that none came.
function record(cc, listener) {
  const calls = [];
  cc.chat[listener] = (...args) => calls.push(args);
  return calls;
}

// Both parties' pings answered, then a short bounded wait.
async function quiet(...users) {
  for (const u of users) {
    await withTimeout(u.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping');
  }
  await sleep(QUIET);
}

function disconnect(...users) {
  for (const u of users) {
    u.cc.chat.disconnect();
  }
}

test('live notices: a system message reaches the other SDK with its extension; not stored, not answered', async () => {
  const a = await online();
  const b = await online();
  try {
    const delivered = record(a.cc, 'onDeliveredStatusListener');
    const asChat = record(b.cc, 'onMessageListener');
    const got = next(b.cc, 'onSystemMessageListener');
    const id = a.cc.chat.sendSystemMessage(b.user.id, {
      body: 'dialog/UPDATE_DIALOG',
      extension: { photo_uid: '7cafb6030d3e4348ba49cab24c0cf10800', name: 'Our photos' },
    });
    const [msg] = await withTimeout(got, WAIT, 'onSystemMessageListener');
    assert.equal(msg.id, id);
    assert.equal(msg.userId, a.user.id);
    assert.equal(msg.body, 'dialog/UPDATE_DIALOG');
    assert.deepEqual(msg.extension, { photo_uid: '7cafb6030d3e4348ba49cab24c0cf10800', name: 'Our photos' });
    await quiet(b, a);
    assert.deepEqual(asChat, [], 'a system message is not a chat message');
    assert.deepEqual(delivered, [], "no 'received' marker comes back for a system message");
    // Not stored: no dialog between them came of it.
    const dialogs = await b.cc.chat.dialog.list();
    assert.equal(dialogs.items.length, 0, `dialogs: ${JSON.stringify(dialogs.items)}`);
  } finally {
    disconnect(a, b);
  }
});

test('live notices: a system message to a room or to another app is refused with the error code', async () => {
  const a = await online();
  const b = await signupAndLogin();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 2, name: 'sys', occupants_ids: [b.user.id] });
    let failed = next(a.cc, 'onMessageErrorListener');
    let id = a.cc.chat.sendSystemMessage(roomJid(dialog._id), { extension: { x: '1' } });
    let [errId, err] = await withTimeout(failed, WAIT, 'onMessageErrorListener (room)');
    assert.equal(errId, id);
    assert.equal(err.code, 501, JSON.stringify(err));
    failed = next(a.cc, 'onMessageErrorListener');
    id = a.cc.chat.sendSystemMessage(`${b.user.id}-${env.appId + 1}@${env.domain}`, { extension: { x: '1' } });
    [errId, err] = await withTimeout(failed, WAIT, 'onMessageErrorListener (other app)');
    assert.equal(errId, id);
    assert.equal(err.code, 503, JSON.stringify(err));
  } finally {
    disconnect(a);
  }
});

test('live notices: a system message created through REST (createSystem) reaches the other SDK', async () => {
  const a = await signupAndLogin();
  const b = await online();
  try {
    const got = next(b.cc, 'onSystemMessageListener');
    const res = await a.cc.chat.message.createSystem({
      recipientId: b.user.id,
      needToUpdatePhotosStories: '1',
      userExt: { name: 'Smith' },
    });
    const [msg] = await withTimeout(got, WAIT, 'onSystemMessageListener');
    assert.equal(msg.id, res.messageId);
    assert.equal(msg.userId, a.user.id);
    assert.equal(msg.body, null);
    assert.deepEqual(msg.extension, { needToUpdatePhotosStories: '1', userExt: { name: 'Smith' } });
  } finally {
    disconnect(b);
  }
});

test('live notices: reactions added and removed through the SDK reach the other members live', async () => {
  const a = await online();
  const b = await online();
  try {
    const group = await a.cc.chat.dialog.create({ type: 2, name: 'react', occupants_ids: [b.user.id] });
    const gm = await a.cc.chat.message.create({ chat_dialog_id: group._id, message: 'vote' });
    let got = next(a.cc, 'onMessageReactionsListener');
    await b.cc.chat.message.addReaction(gm._id, '👍');
    let [messageId, userId, dialogId, add, remove] = await withTimeout(got, WAIT, 'onMessageReactionsListener (add)');
    assert.deepEqual([messageId, userId, dialogId, add, remove], [gm._id, b.user.id, group._id, '👍', undefined]);
    got = next(a.cc, 'onMessageReactionsListener');
    await b.cc.chat.message.removeReaction(gm._id, '👍');
    [messageId, userId, dialogId, add, remove] = await withTimeout(got, WAIT, 'onMessageReactionsListener (remove)');
    assert.deepEqual([messageId, userId, dialogId, add, remove], [gm._id, b.user.id, group._id, undefined, '👍']);

    const priv = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const pm = await a.cc.chat.message.create({ chat_dialog_id: priv._id, message: 'hi' });
    got = next(b.cc, 'onMessageReactionsListener');
    await a.cc.chat.message.updateReaction(pm._id, '🚀', '👎');
    [messageId, userId, dialogId, add, remove] = await withTimeout(got, WAIT, 'onMessageReactionsListener (private)');
    assert.deepEqual([messageId, userId, dialogId, add, remove], [pm._id, a.user.id, priv._id, '🚀', '👎']);
  } finally {
    disconnect(a, b);
  }
});

test('live notices: chat.message.create with send_to_chat=1 reaches the other party as a live message', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const got = next(b.cc, 'onMessageListener');
    const delivered = next(a.cc, 'onDeliveredStatusListener');
    const created = await a.cc.chat.message.create({
      chat_dialog_id: dialog._id,
      message: 'sent through REST',
      send_to_chat: 1,
      color: 'red',
    });
    const [userId, msg] = await withTimeout(got, WAIT, 'onMessageListener');
    assert.equal(userId, a.user.id);
    assert.equal(msg.id, created._id);
    assert.equal(msg.type, 'chat');
    assert.equal(msg.dialog_id, dialog._id);
    assert.equal(msg.body, 'sent through REST');
    assert.equal(msg.extension.color, 'red');
    // Like a live message, the receiving SDK acknowledges it.
    const [dId, dDialog, dUser] = await withTimeout(delivered, WAIT, 'onDeliveredStatusListener');
    assert.deepEqual([dId, dDialog, dUser], [created._id, dialog._id, b.user.id]);

    // In a group: a groupchat message to the other members.
    const group = await a.cc.chat.dialog.create({ type: 2, name: 'stc', occupants_ids: [b.user.id] });
    const gotGroup = next(b.cc, 'onMessageListener');
    const gm = await a.cc.chat.message.create({ chat_dialog_id: group._id, message: 'to all', send_to_chat: 1 });
    const [gUser, gMsg] = await withTimeout(gotGroup, WAIT, 'onMessageListener (group)');
    assert.equal(gUser, a.user.id);
    assert.deepEqual([gMsg.id, gMsg.type, gMsg.dialog_id, gMsg.body], [gm._id, 'groupchat', group._id, 'to all']);
  } finally {
    disconnect(a, b);
  }
});

test('live notices: video-call signalling reaches the other SDK unchanged', async () => {
  const a = await online();
  const b = await online();
  try {
    // The receiving side of the calling module: the SDK hands headlines
    // with moduleIdentifier WebRTCVideoChat to its signalling processor
    // (Node has no WebRTC, so the test stands in for it).
    const signals = [];
    let arrived;
    const twoSignals = new Promise((resolve) => {
      arrived = resolve;
    });
    b.cc.chat.webrtcSignalingProcessor = {
      onMessage: (userId, ext) => {
        if (typeof ext?.getChildren === 'function') {
          return; // the SDK also passes the raw element; the parsed form is checked
        }
        signals.push([userId, ext]);
        if (signals.length === 2) arrived();
      },
    };
    const systemMessages = record(b.cc, 'onSystemMessageListener');
    const sdp = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
    a.cc.chat.sendWebRTCSignalingMessage(b.user.id, {
      extension: {
        moduleIdentifier: 'WebRTCVideoChat',
        signalType: 'call',
        sessionID: '3f1c2a9e-77d4-4b0e-a1f2-9c8d7e6f5a4b',
        callType: 1,
        callerID: a.user.id,
        opponentsIDs: [b.user.id],
        platform: 'node',
        sdp,
        userInfo: { name: 'Alice' },
      },
    });
    a.cc.chat.sendWebRTCSignalingMessage(b.user.id, {
      extension: {
        moduleIdentifier: 'WebRTCVideoChat',
        signalType: 'iceCandidates',
        sessionID: '3f1c2a9e-77d4-4b0e-a1f2-9c8d7e6f5a4b',
        callType: 1,
        callerID: a.user.id,
        opponentsIDs: [b.user.id],
        platform: 'node',
        iceCandidates: [{ candidate: 'candidate:1 1 udp 2122260223 192.0.2.7 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 }],
      },
    });
    await withTimeout(twoSignals, WAIT, 'signalling processor');
    const [[callFrom, call], [iceFrom, ice]] = signals;
    assert.equal(callFrom, a.user.id);
    assert.equal(call.signalType, 'call');
    assert.equal(call.sessionID, '3f1c2a9e-77d4-4b0e-a1f2-9c8d7e6f5a4b');
    assert.equal(call.callType, 1);
    assert.equal(call.callerID, a.user.id);
    assert.deepEqual(call.opponentsIDs, [b.user.id]);
    assert.equal(call.platform, 'node');
    assert.equal(call.sdp, sdp);
    assert.deepEqual(call.userInfo, { name: 'Alice' });
    assert.equal(iceFrom, a.user.id);
    assert.equal(ice.signalType, 'iceCandidates');
    assert.deepEqual(ice.iceCandidates, [
      { candidate: 'candidate:1 1 udp 2122260223 192.0.2.7 54400 typ host', sdpMid: '0', sdpMLineIndex: '0' },
    ]);
    assert.deepEqual(systemMessages, [], 'signalling is not a system message');
  } finally {
    disconnect(a, b);
  }
});

test('live notices: markInactive and markActive keep the connection and messages still arrive', async () => {
  const a = await online();
  const b = await online();
  try {
    const dialog = await a.cc.chat.dialog.create({ type: 3, occupants_ids: [b.user.id] });
    const disconnected = record(b.cc, 'onDisconnectedListener');
    // The SDK sends the IQ and ignores its answer; the test reads it off
    // the SDK's XMPP client: a result, not an error.
    const answers = [];
    b.cc.chat.xmppClient.on('stanza', (st) => {
      if (st.is('iq') && String(st.attrs.id).endsWith(':markActive')) answers.push(st.attrs.type);
    });
    b.cc.chat.markInactive();
    await withTimeout(b.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping after markInactive');
    let got = next(b.cc, 'onMessageListener');
    let id = a.cc.chat.send(b.user.id, { type: 'chat', body: 'in the background', extension: { save_to_history: 1, dialog_id: dialog._id } });
    let [, msg] = await withTimeout(got, WAIT, 'onMessageListener while inactive');
    assert.equal(msg.id, id);
    b.cc.chat.markActive();
    await withTimeout(b.cc.chat.pingWithTimeout(WAIT), WAIT + 500, 'ping after markActive');
    got = next(b.cc, 'onMessageListener');
    id = a.cc.chat.send(b.user.id, { type: 'chat', body: 'back again', extension: { save_to_history: 1, dialog_id: dialog._id } });
    [, msg] = await withTimeout(got, WAIT, 'onMessageListener after markActive');
    assert.equal(msg.id, id);
    assert.deepEqual(answers, ['result', 'result'], 'markInactive and markActive answered');
    assert.deepEqual(disconnected, [], 'the connection stayed up');
    assert.equal(b.cc.chat.isConnected, true);
  } finally {
    disconnect(a, b);
  }
});
