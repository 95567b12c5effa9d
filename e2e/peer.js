// The second user of the suite: the official connectycube SDK (6.1.2) in
// Node, as an app would use it, talking to the same Parley as the page.
// Every wait is bounded.
import { createHash } from 'node:crypto';
import ConnectyCube from 'connectycube';

export const WAIT_MS = 10_000;

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The login and password the widget derives from its userId prop (widget_<id>, SHA-256 hex of the login, 32 chars). */
export function widgetCredentials(userId) {
  const login = `widget_${userId}`;
  return { login, password: createHash('sha256').update(login).digest('hex').slice(0, 32) };
}

export class Peer {
  /** target: {apiUrl, chatUrl, domain, appId, authKey} */
  constructor(target) {
    this.target = target;
    this.cc = new ConnectyCube.ConnectyCube();
    this.cc.init(
      { appId: target.appId, authKey: target.authKey },
      {
        endpoints: { api_url: target.apiUrl, chat: target.domain, chat_url: target.chatUrl },
        debug: { mode: 0 },
        timeout: WAIT_MS,
      },
    );
    this.events = { message: [], typing: [], delivered: [], read: [], system: [], error: [] };
    this.waiters = [];
  }

  /** Signs up (if needed) and logs in with login/password; fullName on sign-up. */
  async signUpAndLogin({ login, password, fullName, externalId }) {
    await withTimeout(this.cc.createSession(), WAIT_MS, 'app session');
    const fields = { login, password, full_name: fullName };
    if (externalId) fields.external_id = externalId;
    await withTimeout(this.cc.users.signup(fields), WAIT_MS, `sign up ${login}`);
    const s = await withTimeout(this.cc.createSession({ login, password }), WAIT_MS, `log in ${login}`);
    this.user = s.user ?? (await this.cc.users.get(s.user_id)).user;
    this.userId = s.user_id;
    this.password = password;
    return this;
  }

  async connectChat() {
    const chat = this.cc.chat;
    const record = (kind) => (...args) => this.#push(kind, args);
    chat.onMessageListener = record('message');
    chat.onMessageTypingListener = record('typing');
    chat.onDeliveredStatusListener = record('delivered');
    chat.onReadStatusListener = record('read');
    chat.onSystemMessageListener = record('system');
    chat.onMessageErrorListener = record('error'); // (messageId, {code, info}): a refused message
    await withTimeout(chat.connect({ userId: this.userId, password: this.password }), WAIT_MS, 'chat connect');
    return this;
  }

  #push(kind, args) {
    this.events[kind].push(args);
    for (const w of [...this.waiters]) {
      if (w.kind === kind && w.match(args)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(args);
      }
    }
  }

  /** Resolves with the first event of kind (recorded or to come) that matches. */
  waitFor(kind, match, what, ms = WAIT_MS) {
    const seen = this.events[kind].find((args) => match(args));
    if (seen) return Promise.resolve(seen);
    return withTimeout(new Promise((resolve) => this.waiters.push({ kind, match, resolve })), ms, `${what} (${kind})`);
  }

  /** Downloads a blob as this user would (storage.privateUrl: ?token= of this user's session). */
  async download(uid) {
    const res = await withTimeout(fetch(this.cc.storage.privateUrl(uid)), WAIT_MS, `GET blob ${uid}`);
    return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
  }

  async close() {
    try {
      await withTimeout(this.cc.chat.disconnect(), 3000, 'chat disconnect');
    } catch {
      /* already gone */
    }
  }
}
