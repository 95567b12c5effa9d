#!/usr/bin/env bash
# Parley end-to-end suite: ConnectyCube's React chat widget
# (@connectycube/chat-widget 0.43.0) in headless Chromium against the real
# binary, with a second and third user on the official Node SDK.
#
#   e2e/run.sh
#   E2E_PARLEY_BIN=/path/to/parley e2e/run.sh    against a binary built elsewhere
#
# Builds the binary, starts it with TLS (a self-signed certificate made for
# the run: the widget's SDK only speaks https to endpoints.api) on free ports
# with a temporary data dir and an app, builds the page (vite build), serves
# it from another origin, and runs suite.mjs. Installs Debian's chromium
# (and openssl) with apt-get when missing. On failure the screenshots, the
# page's console and the server log stay in the folder it prints.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
started=$SECONDS

tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-e2e.XXXXXX")"
server_pid=""
static_pid=""
keep=0

stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop_pid "$static_pid"
  stop_pid "$server_pid"
  if (( keep )); then echo "e2e: artifacts kept in $tmp" >&2
  else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  keep=1
  echo "e2e/run.sh: $*" >&2
  if [[ -s "$tmp/server.log" ]]; then echo "---- server log (last 40 lines) ----" >&2; tail -n 40 "$tmp/server.log" >&2; fi
  exit 1
}

# ---- system packages: Debian's chromium, openssl for the certificate --------
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
if (( ${#missing[@]} > 0 )); then
  echo "e2e: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo -n); fi
  timeout 600 "${sudo[@]}" apt-get update -qq >&2 || fail "apt-get update failed"
  timeout 600 "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2 || fail "apt-get install ${missing[*]} failed"
fi

# ---- build ------------------------------------------------------------------
# E2E_PARLEY_BIN runs a binary built elsewhere (another branch, a release) instead.
if [[ -n "${E2E_PARLEY_BIN:-}" ]]; then
  cp "$E2E_PARLEY_BIN" "$tmp/parley" || fail "cannot copy E2E_PARLEY_BIN=$E2E_PARLEY_BIN"
else
  (cd "$repo" && go build -o "$tmp/parley" ./cmd/parley) || fail "go build ./cmd/parley failed"
fi

cd "$here"
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  timeout 600 npm ci --no-audit --no-fund --prefer-offline >&2 || fail "npm ci failed"
fi
timeout 300 npx vite build --outDir "$tmp/page" >"$tmp/vite.log" 2>&1 || { cat "$tmp/vite.log" >&2; fail "vite build failed"; }

# ---- certificate ---------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/openssl.log" || { cat "$tmp/openssl.log" >&2; fail "openssl req failed"; }

# ---- ports --------------------------------------------------------------------
read -r HTTP WS XMPP STATIC < <(node -e '
  const net = require("node:net");
  Promise.all([0, 1, 2, 3].map(() => new Promise((res, rej) => {
    const s = net.createServer(); s.once("error", rej);
    s.listen(0, "127.0.0.1", () => res(s));
  }))).then((ss) => {
    console.log(ss.map((s) => s.address().port).join(" "));
    ss.forEach((s) => s.close());
  });
') || fail "could not pick free ports"

# ---- server -------------------------------------------------------------------
mkdir -p "$tmp/data"
"$tmp/parley" serve --data-dir "$tmp/data" \
  --http-addr "127.0.0.1:$HTTP" --ws-addr "127.0.0.1:$WS" --xmpp-addr "127.0.0.1:$XMPP" \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
  --domain localhost >"$tmp/server.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + 30))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$tmp/cert.pem" "https://127.0.0.1:$HTTP/health" || true)" == "200" ]]; do
  kill -0 "$server_pid" 2>/dev/null || { server_pid=""; fail "server exited during startup"; }
  (( SECONDS < deadline )) || fail "server did not answer 200 on /health within 30 s"
  sleep 0.2
done

app_json="$(timeout 30 "$tmp/parley" app create --data-dir "$tmp/data" --name e2e 2>"$tmp/app-create.err")" \
  || { cat "$tmp/app-create.err" >&2; fail "parley app create failed"; }
read -r APP_ID AUTH_KEY < <(printf '%s' "$app_json" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const a = JSON.parse(s); console.log(a.id, a.auth_key);
  });
') || fail "parley app create did not print {id, auth_key}: $app_json"

# ---- the page, from another origin ---------------------------------------------
node serve.js "$tmp/page" "$STATIC" >"$tmp/static.log" 2>&1 &
static_pid=$!
deadline=$((SECONDS + 10))
until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$STATIC/"; do
  (( SECONDS < deadline )) || fail "the page's static server did not start"
  sleep 0.1
done

# ---- steps --------------------------------------------------------------------
echo "e2e: Parley https://127.0.0.1:$HTTP, page http://127.0.0.1:$STATIC, artifacts $tmp (kept on failure)"
status=0
E2E_PAGE_URL="http://127.0.0.1:$STATIC" E2E_API="127.0.0.1:$HTTP" E2E_DOMAIN=localhost \
E2E_APP_ID="$APP_ID" E2E_AUTH_KEY="$AUTH_KEY" E2E_ARTIFACTS="$tmp" \
NODE_EXTRA_CA_CERTS="$tmp/cert.pem" \
  timeout 420 node suite.mjs || status=$?
echo "e2e: $((SECONDS - started)) s in all (build, page, server, steps)" >&2
if (( status != 0 )); then
  keep=1
  echo "e2e: failed; screenshots, console.log (the page's console), xmpp.log (its XMPP frames), rest.log (its REST calls) and server.log are in $tmp" >&2
  exit 1
fi
