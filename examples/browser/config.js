// Where the page finds Parley: the defaults of a local `parley serve`.
// authKey is the one `parley serve` printed at its first start (later:
// `parley app list`). Any field can be overridden in the query string,
// e.g. index.html?authKey=...&appId=2
window.PARLEY_CONFIG = {
  apiUrl: 'http://localhost:8080', // REST base URL, no trailing slash
  chatUrl: 'ws://localhost:5291', // XMPP over WebSocket (https pages need wss)
  domain: 'localhost', // XMPP domain (parley serve --domain)
  appId: 1,
  authKey: '',
};
