#!/usr/bin/env bash
# Parley conformance suite runner.
#
#   conformance/run.sh                   build, start a server, run all tests, check the ratchet
#   conformance/run.sh --update-passing  same, then add every passing test to passing.txt
#   conformance/run.sh [--update-passing] tests/users.test.js ...   run only the given files
#
# Exit status is non-zero if any test fails or any test listed in passing.txt
# did not pass. The output ends with the node test runner's summary lines.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

update_passing=0
files=()
ratchet_args=()
for arg in "$@"; do
  case "$arg" in
    --update-passing) update_passing=1 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "run.sh: unknown option $arg" >&2; exit 2 ;;
    *) [[ -f "$arg" ]] || { echo "run.sh: no such test file: $arg" >&2; exit 2; }
       files+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")") ;;
  esac
done

# shellcheck source=../scripts/lib/suite-server.sh
source "$repo/scripts/lib/suite-server.sh"
SUITE_NAME=run.sh
SUITE_SERVER_PID=""

tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-conformance.XXXXXX")"

log_tail() { suite_log_tail "$tmp/server.log" 60 --show-path; }

cleanup() {
  suite_stop_server
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "run.sh: $*" >&2
  log_tail
  exit 1
}

# ---- build -----------------------------------------------------------------
(cd "$repo" && go build -o "$tmp/parley" ./cmd/parley) || fail "go build ./cmd/parley failed"

# ---- node dependencies -----------------------------------------------------
cd "$here"
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2 || fail "npm ci failed"
fi

# ---- ports -----------------------------------------------------------------
read -r HTTP WS XMPP < <(suite_free_ports 3) || fail "could not pick free ports"

# ---- server ----------------------------------------------------------------
suite_start_server "$tmp/parley" "$tmp/data" "$tmp/server.log" "$HTTP" "$WS" "$XMPP" || fail "$SUITE_ERROR"

# ---- application -----------------------------------------------------------
suite_app_create --expect "one JSON object {id, auth_key, auth_secret}" \
  "$tmp/parley" "$tmp/data" "$tmp/app-create.err" --name conformance \
  --dialog-extensions location,color,level || fail "$SUITE_ERROR"
APP_ID="$SUITE_APP_ID" AUTH_KEY="$SUITE_AUTH_KEY" AUTH_SECRET="$SUITE_AUTH_SECRET"

export PARLEY_API_URL="http://127.0.0.1:$HTTP"
export PARLEY_APP_ID="$APP_ID"
export PARLEY_AUTH_KEY="$AUTH_KEY"
export PARLEY_AUTH_SECRET="$AUTH_SECRET"
export PARLEY_DOMAIN=localhost
export PARLEY_CHAT_URL="ws://127.0.0.1:$WS"
export PARLEY_XMPP_ADDR="127.0.0.1:$XMPP"
export PARLEY_BIN="$tmp/parley"
export PARLEY_DATA_DIR="$tmp/data"

# ---- tests -----------------------------------------------------------------
if (( ${#files[@]} > 0 )); then
  ratchet_args+=(--allow-missing)   # only some files run: tests of the others are not "missing"
else
  shopt -s nullglob
  files=(tests/*.test.js tests/*.test.mjs)
  shopt -u nullglob
fi
(( ${#files[@]} > 0 )) || fail "no test files found"

if [[ -t 1 ]]; then export FORCE_COLOR=1; fi

test_status=0
node --test --test-concurrency=1 --test-timeout=60000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tmp/results.tap" \
  "${files[@]}" | tee "$tmp/spec.out" || test_status=$?

suite_stop_server

print_summary() {
  # The spec reporter's "ℹ tests/pass/fail/..." lines (possibly coloured).
  grep -E "^(${esc}\[[0-9;]*m)*ℹ " "$tmp/spec.out" | tail -n 8 || true
}
esc=$'\e'

ratchet_status=0
if (( update_passing )); then
  node ratchet.js update "$tmp/results.tap" passing.txt ${ratchet_args[@]+"${ratchet_args[@]}"} 2>"$tmp/ratchet.out" || ratchet_status=$?
else
  node ratchet.js check "$tmp/results.tap" passing.txt ${ratchet_args[@]+"${ratchet_args[@]}"} 2>"$tmp/ratchet.out" || ratchet_status=$?
fi

if (( test_status != 0 || ratchet_status != 0 )); then
  # Diagnostics first, then the runner's summary again so the output ends with it.
  echo
  if [[ -s "$tmp/ratchet.out" ]]; then cat "$tmp/ratchet.out"; fi
  log_tail 2>&1
  echo
  echo "---- summary ----"
  print_summary
  exit 1
fi
if (( update_passing )) && [[ -s "$tmp/ratchet.out" ]]; then
  # Successful update: mention it before the summary is repeated last.
  echo
  cat "$tmp/ratchet.out"
  echo
  echo "---- summary ----"
  print_summary
fi
exit 0
