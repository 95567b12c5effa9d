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

# shellcheck source=../scripts/lib/suite-server.sh
source "$repo/scripts/lib/suite-server.sh"
SUITE_NAME=e2e/run.sh
SUITE_SERVER_PID=""

tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-e2e.XXXXXX")"
static_pid=""
keep=0

cleanup() {
  suite_stop_pid "$static_pid"
  suite_stop_pid "$SUITE_SERVER_PID"
  if (( keep )); then echo "e2e: artifacts kept in $tmp" >&2
  else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  keep=1
  echo "e2e/run.sh: $*" >&2
  suite_log_tail "$tmp/server.log" 40 --no-end
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
read -r HTTP WS XMPP STATIC < <(suite_free_ports 4) || fail "could not pick free ports"

# ---- server -------------------------------------------------------------------
suite_start_server --scheme https --cacert "$tmp/cert.pem" \
  "$tmp/parley" "$tmp/data" "$tmp/server.log" "$HTTP" "$WS" "$XMPP" \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" || fail "$SUITE_ERROR"

suite_app_create --expect "{id, auth_key}" "$tmp/parley" "$tmp/data" "$tmp/app-create.err" --name e2e \
  || fail "$SUITE_ERROR"
APP_ID="$SUITE_APP_ID" AUTH_KEY="$SUITE_AUTH_KEY"

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
