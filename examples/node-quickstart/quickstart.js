// Parley quick start: the official connectycube SDK (6.1.2) in Node against a
// Parley server. Two users sign up and log in, open a private dialog, send a
// message each way over chat (XMPP over WebSocket), and read the history back
// over REST. Every step is printed; the exit status is 0 on success, 1 with a
// message naming the failed step otherwise. Every wait is bounded.
//
//   PARLEY_AUTH_KEY=... node quickstart.js
//
// Configuration (environment; the defaults are those of a local `parley serve`):
//   PARLEY_API_URL   REST base URL             http://localhost:8080
//   PARLEY_CHAT_URL  XMPP over WebSocket URL   ws://localhost:5291
//   PARLEY_DOMAIN    XMPP domain (--domain)    localhost
//   PARLEY_APP_ID    application id            1
//   PARLEY_AUTH_KEY  application auth key      (required: printed by the first
//                    `parley serve`, later by `parley app list`)
//   PARLEY_TIMEOUT_MS  bound of each step      10000

'use strict';

// The package's CommonJS entry exports a namespace: the SDK object is its
// `default` (in an ES module: `import ConnectyCube from 'connectycube'`).
const ConnectyCube = require('connectycube').default;

const config = {
  apiUrl: process.env.PARLEY_API_URL || 'http://localhost:8080',
  chatUrl: process.env.PARLEY_CHAT_URL || 'ws://localhost:5291',
  domain: process.env.PARLEY_DOMAIN || 'localhost',
  appId: Number(process.env.PARLEY_APP_ID || 1),
  authKey: process.env.PARLEY_AUTH_KEY || '',
  timeoutMs: Number(process.env.PARLEY_TIMEOUT_MS || 10000),
};

// One SDK instance per user: sessions and chat connections are per instance
// (`new ConnectyCube.ConnectyCube()`); the default export is one more
// instance. Endpoints and credentials are shared by all instances, and
// init() sets them again each time, so each init passes them all.
function newClient() {
  const cc = new ConnectyCube.ConnectyCube();
  cc.init(
    { appId: config.appId, authKey: config.authKey },
    {
      endpoints: { api_url: config.apiUrl, chat: config.domain, chat_url: config.chatUrl },
      // Stream management: the server acknowledges each message once it is
      // stored, and the SDK reports it through onSentMessageCallback.
      chat: { streamManagement: { enable: true } },
      timeout: config.timeoutMs, // bounds every REST request
      debug: { mode: 0 },
    },
  );
  return cc;
}

let step = 'start';
function log(text) {
  console.log(`[${new Date().toISOString().slice(11, 23)}] ${text}`);
}

// Resolves or rejects with `promise`, or rejects after the step's bound.
function bounded(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${config.timeoutMs} ms`)), config.timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves with the arguments of the next call of one of the SDK's chat
// callbacks (onMessageListener, onSentMessageCallback, ...).
function nextCall(cc, callback) {
  return new Promise((resolve) => {
    cc.chat[callback] = (...args) => resolve(args);
  });
}

// Signs a new user up (through an application session) and logs in.
async function signupAndLogin(name) {
  const cc = newClient();
  const login = `${name}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const password = 'quickstart-password';
  await bounded(cc.createSession(), 'application session');
  const { user } = await bounded(cc.users.signup({ login, password, full_name: name }), 'sign up');
  const session = await bounded(cc.createSession({ login, password }), 'log in');
  log(`${name}: signed up and logged in as ${login} (user id ${user.id}, session user ${session.user_id})`);
  return { cc, name, user, password };
}

async function connectChat(u) {
  await bounded(u.cc.chat.connect({ userId: u.user.id, password: u.password }), `${u.name}: chat connect`);
  log(`${u.name}: connected to chat at ${config.chatUrl}`);
}

// Sends `body` from `from` to `to` in `dialog`; resolves once the server has
// stored it (acknowledged) and `to` has received it live.
async function sendAndReceive(from, to, dialog, body) {
  const stored = nextCall(from.cc, 'onSentMessageCallback');
  const received = nextCall(to.cc, 'onMessageListener');
  const id = from.cc.chat.send(to.user.id, {
    type: 'chat',
    body,
    extension: { save_to_history: 1, dialog_id: dialog._id },
    markable: 1,
  });
  const [failed] = await bounded(stored, `${from.name}: server acknowledgement of message ${id}`);
  if (failed) throw new Error(`the server did not store message ${id}`);
  const [senderId, message] = await bounded(received, `${to.name}: live delivery of message ${id}`);
  if (senderId !== from.user.id || message.body !== body) {
    throw new Error(`${to.name} received ${JSON.stringify(message)} from ${senderId}, expected "${body}" from ${from.user.id}`);
  }
  log(`${from.name} -> ${to.name}: "${body}" stored and received (id ${id})`);
  return id;
}

async function main() {
  if (!config.authKey) {
    throw new Error('PARLEY_AUTH_KEY is not set: use the auth key `parley serve` printed at its first start, '
      + 'or find it with `parley app list --data-dir DIR`');
  }
  log(`Parley at ${config.apiUrl} (chat ${config.chatUrl}, domain ${config.domain}), app ${config.appId}`);

  step = 'sign up and log in';
  const alice = await signupAndLogin('alice');
  const bob = await signupAndLogin('bob');

  step = 'connect chat';
  await connectChat(alice);
  await connectChat(bob);

  step = 'create a private dialog';
  const dialog = await bounded(alice.cc.chat.dialog.create({ type: 3, occupants_ids: [bob.user.id] }), 'dialog create');
  log(`alice: private dialog ${dialog._id} with bob`);

  step = 'chat';
  const sent = [
    await sendAndReceive(alice, bob, dialog, 'Hi Bob, this is Parley.'),
    await sendAndReceive(bob, alice, dialog, 'Hi Alice, loud and clear!'),
  ];

  step = 'read the history';
  const history = await bounded(
    bob.cc.chat.message.list({ chat_dialog_id: dialog._id, sort_asc: 'date_sent', limit: 50 }),
    'message list',
  );
  log(`bob: history of dialog ${dialog._id} (${history.items.length} messages):`);
  for (const m of history.items) log(`  ${m.sender_id === alice.user.id ? 'alice' : 'bob  '}: ${m.message}`);
  const ids = history.items.map((m) => m._id);
  if (ids.length !== 2 || !sent.every((id) => ids.includes(id))) {
    throw new Error(`history holds ${JSON.stringify(ids)}, expected exactly the two messages sent ${JSON.stringify(sent)}`);
  }

  step = 'disconnect';
  for (const u of [alice, bob]) await bounded(Promise.resolve(u.cc.chat.disconnect()), `${u.name}: disconnect`);
  log('done: two users, a private dialog, a message each way, the history');
}

// The SDK rejects a failed request with a plain {code, info} object.
function describe(err) {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'code' in err) {
    // an HTTP status with the error body, or a network error's code (ECONNREFUSED)
    return typeof err.code === 'number' ? `HTTP ${err.code} ${JSON.stringify(err.info)}` : `network error ${err.code}`;
  }
  return JSON.stringify(err);
}

main().then(
  () => process.exit(0), // the SDK may keep timers alive: exit explicitly
  (err) => {
    console.error(`quickstart failed at step "${step}": ${describe(err)}`);
    if (step === 'sign up and log in' || step === 'connect chat') {
      console.error(`is Parley running at ${config.apiUrl} / ${config.chatUrl}, with app ${config.appId} and that auth key?`);
    }
    process.exit(1);
  },
);
