// The page's script: the connectycube SDK's browser bundle (global
// `ConnectyCube`) against Parley. Runs on the Run button, or at once with
// ?autorun=1. The outcome is on <body data-state="done|failed">, which the
// headless check (check.js) waits for. Every wait is bounded.
'use strict';

(function main() {
  const params = new URLSearchParams(location.search);
  const config = { ...window.PARLEY_CONFIG };
  for (const key of Object.keys(config)) {
    if (params.has(key)) config[key] = params.get(key);
  }
  config.appId = Number(config.appId);
  const TIMEOUT_MS = 10000;

  const $ = (id) => document.getElementById(id);
  if (params.has('text')) $('text').value = params.get('text');

  function log(text, cls) {
    const li = document.createElement('li');
    li.textContent = text;
    if (cls) li.className = cls;
    $('log').append(li);
  }

  function bounded(promise, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // One SDK instance per user (sessions and chat are per instance); the
  // endpoints and credentials are shared, and every init sets them all.
  function newClient() {
    const cc = new ConnectyCube.ConnectyCube();
    cc.init(
      { appId: config.appId, authKey: config.authKey },
      {
        endpoints: { api_url: config.apiUrl, chat: config.domain, chat_url: config.chatUrl },
        // The server acknowledges each message once stored (onSentMessageCallback).
        chat: { streamManagement: { enable: true } },
        timeout: TIMEOUT_MS,
        debug: { mode: 0 },
      },
    );
    return cc;
  }

  async function signup(cc, name) {
    const login = `${name}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const password = 'browser-example';
    await bounded(cc.createSession(), 'application session');
    const { user } = await bounded(cc.users.signup({ login, password, full_name: name }), `${name}: sign up`);
    return { cc, name, login, password, user };
  }

  function showHistory(items, names) {
    const list = $('history');
    list.replaceChildren();
    for (const m of items) {
      const li = document.createElement('li');
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = `${names[m.sender_id] || m.sender_id}: `;
      li.append(who, document.createTextNode(m.message));
      li.dataset.messageId = m._id;
      list.append(li);
    }
  }

  async function run() {
    if (!config.authKey) throw new Error('no auth key: set authKey in config.js or ?authKey= in the address');
    log(`Parley at ${config.apiUrl} (chat ${config.chatUrl}), app ${config.appId}`);

    const me = await signup(newClient(), 'me');
    const friend = await signup(newClient(), 'friend');
    await bounded(me.cc.createSession({ login: me.login, password: me.password }), 'log in');
    log(`logged in as ${me.login} (user ${me.user.id}); friend is ${friend.login} (user ${friend.user.id})`);

    await bounded(me.cc.chat.connect({ userId: me.user.id, password: me.password }), 'chat connect');
    log('connected to chat');
    // The friend is a second SDK instance in this page only to have someone
    // who answers: it logs in, connects and replies to what it receives.
    await bounded(friend.cc.createSession({ login: friend.login, password: friend.password }), 'friend: log in');
    await bounded(friend.cc.chat.connect({ userId: friend.user.id, password: friend.password }), 'friend: chat connect');
    friend.cc.chat.onMessageListener = (from, msg) => {
      friend.cc.chat.send(from, {
        type: 'chat',
        body: `got "${msg.body}"`,
        extension: { save_to_history: 1, dialog_id: msg.dialog_id },
        markable: 1,
      });
    };
    log('friend connected to chat (it answers every message)');

    const dialog = await bounded(me.cc.chat.dialog.create({ type: 3, occupants_ids: [friend.user.id] }), 'dialog create');
    log(`private dialog ${dialog._id}`);

    const body = $('text').value;
    const acked = new Promise((resolve, reject) => {
      me.cc.chat.onSentMessageCallback = (lost, sent) => (lost ? reject(new Error('message not stored')) : resolve(sent));
    });
    const reply = new Promise((resolve) => {
      me.cc.chat.onMessageListener = (from, msg) => resolve(msg);
    });
    const id = me.cc.chat.send(friend.user.id, {
      type: 'chat',
      body,
      extension: { save_to_history: 1, dialog_id: dialog._id },
      markable: 1,
    });
    await bounded(acked, 'server acknowledgement');
    log(`sent "${body}" (id ${id}), stored by the server`);
    const answer = await bounded(reply, "the friend's reply");
    log(`received live from friend: "${answer.body}"`);

    // The reply is stored before it is delivered, so the history holds both.
    const history = await bounded(
      me.cc.chat.message.list({ chat_dialog_id: dialog._id, sort_asc: 'date_sent', limit: 50 }),
      'message list',
    );
    showHistory(history.items, { [me.user.id]: 'me', [friend.user.id]: 'friend' });
    log(`history: ${history.items.length} message(s)`);
    await bounded(Promise.resolve(friend.cc.chat.disconnect()), 'friend: disconnect');
    await bounded(Promise.resolve(me.cc.chat.disconnect()), 'disconnect');
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

  async function start() {
    $('run').disabled = true;
    document.body.dataset.state = 'running';
    try {
      await run();
      log('done');
      document.body.dataset.state = 'done';
    } catch (err) {
      log(`failed: ${describe(err)}`, 'error');
      document.body.dataset.state = 'failed';
    } finally {
      $('run').disabled = false;
    }
  }

  $('run').addEventListener('click', start);
  if (params.get('autorun') === '1') start();
})();
