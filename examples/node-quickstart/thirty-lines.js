// The README's "Node app in 30 lines" (examples/run.sh runs it): two users, a message, the history.
const ConnectyCube = require('connectycube').default; // CommonJS: the SDK is the `default` export
const env = process.env, ms = 10000;
const endpoints = { api_url: env.PARLEY_API_URL || 'http://localhost:8080', chat: env.PARLEY_DOMAIN || 'localhost',
  chat_url: env.PARLEY_CHAT_URL || 'ws://localhost:5291' };
const within = (p, what) => Promise.race([p, new Promise((_, no) => setTimeout(no, ms, new Error(`${what}: timed out`)))]);

async function user(login) { // one SDK instance per user: sessions and chat are per instance
  const cc = new ConnectyCube.ConnectyCube(), password = 'secret-password';
  cc.init({ appId: Number(env.PARLEY_APP_ID || 1), authKey: env.PARLEY_AUTH_KEY }, { endpoints, timeout: ms, debug: { mode: 0 } });
  await cc.createSession(); // an application session, to sign up
  const { user } = await cc.users.signup({ login, password });
  await cc.createSession({ login, password }); // log in
  await within(cc.chat.connect({ userId: user.id, password }), 'chat connect');
  return { cc, id: user.id };
}

(async () => {
  const tag = Date.now().toString(36), alice = await user(`alice${tag}`), bob = await user(`bob${tag}`);
  const dialog = await alice.cc.chat.dialog.create({ type: 3, occupants_ids: [bob.id] });
  const received = new Promise((ok) => { bob.cc.chat.onMessageListener = (from, msg) => ok(msg); });
  alice.cc.chat.send(bob.id, { type: 'chat', body: 'Hello Bob!', extension: { save_to_history: 1, dialog_id: dialog._id } });
  console.log('bob received:', (await within(received, 'message')).body);
  const history = await bob.cc.chat.message.list({ chat_dialog_id: dialog._id });
  console.log('history:', history.items.map((m) => m.message));
  process.exit(history.items.length === 1 ? 0 : 1);
})().catch((e) => { console.error('failed:', e.message || JSON.stringify(e)); process.exit(1); });
