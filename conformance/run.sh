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

tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-conformance.XXXXXX")"
server_pid=""

log_tail() {
  if [[ -s "$tmp/server.log" ]]; then
    echo "---- server log (last 60 lines of $tmp/server.log) ----" >&2
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
      echo "run.sh: server did not stop within 10 s after SIGTERM; sending SIGKILL" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

cleanup() {
  stop_server
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
app_json="$(timeout 30 "$tmp/parley" app create --data-dir "$tmp/data" --name conformance \
  --dialog-extensions location,color,level 2>"$tmp/app-create.err")" \
  || { cat "$tmp/app-create.err" >&2; fail "parley app create failed"; }
read -r APP_ID AUTH_KEY AUTH_SECRET < <(printf '%s' "$app_json" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const a = JSON.parse(s);
    if (!Number.isInteger(a.id) || typeof a.auth_key !== "string" || !a.auth_key) process.exit(1);
    console.log(a.id, a.auth_key, a.auth_secret ?? "");
  });
') || fail "parley app create did not print one JSON object {id, auth_key, auth_secret}: $app_json"

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

stop_server

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
