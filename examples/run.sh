#!/usr/bin/env bash
# Runs the examples against the real binary, as CI does:
#
#   examples/run.sh            build parley, start it on free ports with a fresh data dir,
#                              create an app, run the Node quick start, then the browser page
#                              in headless Chromium (skipped, saying so, when Chromium is missing)
#
# PARLEY_CHROMIUM names the browser (default /usr/bin/chromium).
# Exit status is non-zero if an example fails; the server log's tail is printed then.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
chromium="${PARLEY_CHROMIUM:-/usr/bin/chromium}"

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) echo "examples/run.sh: unknown argument $1" >&2; exit 2 ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-examples.XXXXXX")"
server_pid=""

log_tail() {
  if [[ -s "$tmp/server.log" ]]; then
    echo "---- server log (last 60 lines) ----" >&2
    tail -n 60 "$tmp/server.log" >&2 || true
    echo "---- end of server log ----" >&2
  fi
}

stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do           # up to 10 s for a clean shutdown
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "examples/run.sh: server did not stop within 10 s after SIGTERM; sending SIGKILL" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

# A failed run keeps its temp dir (server log, screenshots, page console).
keep_tmp=0
cleanup() {
  stop_server
  if (( keep_tmp )); then echo "examples/run.sh: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "examples/run.sh: $*" >&2
  log_tail
  keep_tmp=1
  exit 1
}

# npm ci in $1 unless its node_modules is as new as its lock file.
npm_ci() {
  local dir="$1"
  if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    (cd "$dir" && timeout 300 npm ci --no-audit --no-fund >&2) || fail "npm ci in $dir failed"
  fi
}

command -v node >/dev/null && command -v npm >/dev/null || fail "Node.js 20+ and npm are needed"

# ---- build -----------------------------------------------------------------
echo "== examples: building parley"
(cd "$repo" && go build -o "$tmp/parley" ./cmd/parley) || fail "go build ./cmd/parley failed"
npm_ci "$here/node-quickstart"

# ---- ports -----------------------------------------------------------------
read -r HTTP WS XMPP < <(node -e '
  const net = require("node:net");
  Promise.all([0, 1, 2].map(() => new Promise((res, rej) => {
    const s = net.createServer(); s.once("error", rej);
    s.listen(0, "127.0.0.1", () => res(s));
  }))).then((ss) => {
    console.log(ss.map((s) => s.address().port).join(" "));
    ss.forEach((s) => s.close());
  });
') || fail "could not pick free ports"

# ---- server ----------------------------------------------------------------
mkdir -p "$tmp/data"
"$tmp/parley" serve --data-dir "$tmp/data" \
  --http-addr "127.0.0.1:$HTTP" --ws-addr "127.0.0.1:$WS" --xmpp-addr "127.0.0.1:$XMPP" \
  --domain localhost >"$tmp/server.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + 30))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$HTTP/health" || true)" == "200" ]]; do
  kill -0 "$server_pid" 2>/dev/null || { server_pid=""; fail "server exited during startup"; }
  (( SECONDS < deadline )) || fail "server did not answer 200 on /health within 30 s"
  sleep 0.2
done

# ---- application -----------------------------------------------------------
app_json="$(timeout 30 "$tmp/parley" app create --data-dir "$tmp/data" --name examples 2>"$tmp/app-create.err")" \
  || { cat "$tmp/app-create.err" >&2; fail "parley app create failed"; }
read -r APP_ID AUTH_KEY < <(printf '%s' "$app_json" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const a = JSON.parse(s);
    if (!Number.isInteger(a.id) || typeof a.auth_key !== "string" || !a.auth_key) process.exit(1);
    console.log(a.id, a.auth_key);
  });
') || fail "parley app create did not print one JSON object {id, auth_key, ...}: $app_json"

export PARLEY_API_URL="http://127.0.0.1:$HTTP"
export PARLEY_CHAT_URL="ws://127.0.0.1:$WS"
export PARLEY_DOMAIN=localhost
export PARLEY_APP_ID="$APP_ID"
export PARLEY_AUTH_KEY="$AUTH_KEY"

passed=0 skipped=0

# ---- Node quick start ------------------------------------------------------
echo "== examples: node-quickstart/quickstart.js"
timeout 120 node "$here/node-quickstart/quickstart.js" || fail "the Node quick start failed (exit $?)"
passed=$((passed + 1))
echo "== examples: node-quickstart/thirty-lines.js (the README's Node app)"
timeout 60 node "$here/node-quickstart/thirty-lines.js" || fail "the README's 30-line Node app failed (exit $?)"
passed=$((passed + 1))

# ---- browser page ----------------------------------------------------------
if [[ -x "$chromium" ]]; then
  echo "== examples: browser/ in headless Chromium ($chromium)"
  npm_ci "$here/browser"
  PARLEY_CHROMIUM="$chromium" PARLEY_ARTIFACTS="$tmp/browser" timeout 180 node "$here/browser/check.js" \
    || fail "the browser example failed (exit $?); screenshot and page console under $tmp/browser"
  passed=$((passed + 1))
else
  echo "== examples: SKIPPED the browser page: no Chromium at $chromium (apt-get install chromium, or set PARLEY_CHROMIUM)"
  skipped=$((skipped + 1))
fi

stop_server
echo "examples: $passed passed, 0 failed, $skipped skipped"
