// Serves the page and the SDK's browser bundle (from node_modules, as npm
// installed it: the bundle is not committed) on its own origin, apart from
// Parley's, as a real deployment would.
//
//   node serve.js [PORT]     then open http://127.0.0.1:PORT/ (default 8000)
//
// Only the files the page needs are served.
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/config.js': ['config.js', 'text/javascript; charset=utf-8'],
  '/node_modules/connectycube/dist/connectycube.min.js': [
    'node_modules/connectycube/dist/connectycube.min.js', 'text/javascript; charset=utf-8'],
  '/node_modules/connectycube/dist/connectycube.min.js.map': [
    'node_modules/connectycube/dist/connectycube.min.js.map', 'application/json'],
};

/** Starts the page server on host:port (0: any free port); resolves with the http.Server. */
function serve({ host = '127.0.0.1', port = 0 } = {}) {
  const server = http.createServer((req, res) => {
    const entry = FILES[new URL(req.url, 'http://page').pathname];
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    fs.readFile(path.join(__dirname, entry[0]), (err, body) => {
      if (err) {
        const hint = entry[0].startsWith('node_modules/') ? ' (run npm ci in examples/browser)' : '';
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${entry[0]}: ${err.code}${hint}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': entry[1], 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? '' : body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

module.exports = { serve };

if (require.main === module) {
  const port = Number(process.argv[2] || 8000);
  serve({ port }).then(
    (s) => console.log(`page at http://127.0.0.1:${s.address().port}/ (Ctrl-C to stop)`),
    (err) => { console.error(`serve.js: ${err.message}`); process.exit(1); },
  );
}
