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

# shellcheck source=../scripts/lib/suite-server.sh
source "$repo/scripts/lib/suite-server.sh"
SUITE_NAME=examples/run.sh
SUITE_SERVER_PID=""

tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-examples.XXXXXX")"

log_tail() { suite_log_tail "$tmp/server.log" 60; }

# A failed run keeps its temp dir (server log, screenshots, page console).
keep_tmp=0
cleanup() {
  suite_stop_server
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
read -r HTTP WS XMPP < <(suite_free_ports 3) || fail "could not pick free ports"

# ---- server ----------------------------------------------------------------
suite_start_server "$tmp/parley" "$tmp/data" "$tmp/server.log" "$HTTP" "$WS" "$XMPP" || fail "$SUITE_ERROR"

# ---- application -----------------------------------------------------------
suite_app_create "$tmp/parley" "$tmp/data" "$tmp/app-create.err" --name examples || fail "$SUITE_ERROR"
APP_ID="$SUITE_APP_ID" AUTH_KEY="$SUITE_AUTH_KEY"

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

suite_stop_server
echo "examples: $passed passed, 0 failed, $skipped skipped"
