# shellcheck shell=bash
# Starting a Parley for a test suite: the shell pieces conformance/run.sh,
# examples/run.sh and e2e/run.sh share. Source it; it defines functions and
# nothing else (no traps, no variables set, no commands run), and every
# function is safe under `set -euo pipefail`.
#
#   SUITE_NAME         the caller's name, the prefix of the messages printed here
#                      (e.g. "examples/run.sh"); set it before calling.
#   SUITE_SERVER_PID   the server suite_start_server started ("" when none).
#   SUITE_ERROR        why the last function that returned non-zero failed:
#                      the caller passes it to its own fail().
#   SUITE_APP_ID, SUITE_AUTH_KEY, SUITE_AUTH_SECRET, SUITE_APP_JSON
#                      set by suite_app_create.
#
# A typical caller:
#   source "$repo/scripts/lib/suite-server.sh"
#   SUITE_NAME=examples/run.sh
#   read -r HTTP WS XMPP < <(suite_free_ports 3) || fail "could not pick free ports"
#   suite_start_server "$tmp/parley" "$tmp/data" "$tmp/server.log" "$HTTP" "$WS" "$XMPP" || fail "$SUITE_ERROR"
#   suite_app_create "$tmp/parley" "$tmp/data" "$tmp/app-create.err" --name examples || fail "$SUITE_ERROR"
#   ...
#   suite_stop_server

# suite_free_ports N: prints N distinct free TCP ports on 127.0.0.1, one line,
# separated by spaces (all are held open together, then closed, so they differ).
suite_free_ports() {
  local n="${1:-1}"
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    Promise.all(Array.from({ length: n }, () => new Promise((res, rej) => {
      const s = net.createServer(); s.once("error", rej);
      s.listen(0, "127.0.0.1", () => res(s));
    }))).then((ss) => {
      console.log(ss.map((s) => s.address().port).join(" "));
      ss.forEach((s) => s.close());
    });
  ' "$n"
}

# suite_log_tail LOG LINES [--show-path] [--no-end]: prints the last LINES
# lines of LOG to stderr between marker lines, if LOG is not empty.
# --show-path names LOG in the header; --no-end leaves out the closing marker.
suite_log_tail() {
  local log="$1" lines="$2" show_path=0 end=1
  shift 2
  while (( $# > 0 )); do
    case "$1" in
      --show-path) show_path=1 ;;
      --no-end) end=0 ;;
    esac
    shift
  done
  [[ -s "$log" ]] || return 0
  if (( show_path )); then
    echo "---- server log (last $lines lines of $log) ----" >&2
  else
    echo "---- server log (last $lines lines) ----" >&2
  fi
  tail -n "$lines" "$log" >&2 || true
  if (( end )); then echo "---- end of server log ----" >&2; fi
  return 0
}

# suite_stop_pid PID [WHAT]: SIGTERM, up to 10 s for a clean exit, then
# SIGKILL; reaps PID. With WHAT, says "$SUITE_NAME: WHAT did not stop within
# 10 s after SIGTERM; sending SIGKILL" when it comes to that. No-op when PID
# is empty or gone.
suite_stop_pid() {
  local pid="${1:-}" what="${2:-}"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local _
  for _ in $(seq 1 100); do             # up to 10 s for a clean shutdown
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    if [[ -n "$what" ]]; then
      echo "${SUITE_NAME:-suite}: $what did not stop within 10 s after SIGTERM; sending SIGKILL" >&2
    fi
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  return 0
}

# suite_stop_server [--quiet]: stops SUITE_SERVER_PID (see suite_stop_pid;
# --quiet: no message before SIGKILL) and clears it.
suite_stop_server() {
  if [[ "${1:-}" == --quiet ]]; then
    suite_stop_pid "${SUITE_SERVER_PID:-}"
  else
    suite_stop_pid "${SUITE_SERVER_PID:-}" server
  fi
  SUITE_SERVER_PID=""
}

# suite_start_server [--scheme http|https] [--cacert FILE] [--timeout S]
#                    BIN DATA_DIR LOG HTTP WS XMPP [SERVE_FLAG...]
# Creates DATA_DIR, starts `BIN serve` on 127.0.0.1 HTTP/WS/XMPP with domain
# localhost and the extra SERVE_FLAGs (e.g. --tls-cert C --tls-key K), its
# output in LOG, in the background (SUITE_SERVER_PID), and waits up to S
# seconds (30) for 200 on SCHEME://127.0.0.1:HTTP/health (curl trusting
# --cacert FILE when given). Returns 1 with SUITE_ERROR set when the server
# exits first (SUITE_SERVER_PID is then "") or does not answer in time (it
# keeps running: the caller's cleanup stops it).
suite_start_server() {
  local scheme=http timeout=30
  local -a curl_tls=()
  while (( $# > 0 )); do
    case "$1" in
      --scheme) scheme="$2"; shift 2 ;;
      --cacert) curl_tls=(--cacert "$2"); shift 2 ;;
      --timeout) timeout="$2"; shift 2 ;;
      *) break ;;
    esac
  done
  local bin="$1" data="$2" log="$3" http="$4" ws="$5" xmpp="$6"
  shift 6
  SUITE_ERROR=""
  mkdir -p "$data" || { SUITE_ERROR="cannot create the data dir $data"; return 1; }
  "$bin" serve --data-dir "$data" \
    --http-addr "127.0.0.1:$http" --ws-addr "127.0.0.1:$ws" --xmpp-addr "127.0.0.1:$xmpp" \
    "$@" --domain localhost >"$log" 2>&1 &
  SUITE_SERVER_PID=$!

  local deadline=$((SECONDS + timeout))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 ${curl_tls[@]+"${curl_tls[@]}"} \
                "$scheme://127.0.0.1:$http/health" || true)" == "200" ]]; do
    if ! kill -0 "$SUITE_SERVER_PID" 2>/dev/null; then
      wait "$SUITE_SERVER_PID" 2>/dev/null || true
      SUITE_SERVER_PID=""
      SUITE_ERROR="server exited during startup"
      return 1
    fi
    if (( SECONDS >= deadline )); then
      SUITE_ERROR="server did not answer 200 on /health within $timeout s"
      return 1
    fi
    sleep 0.2
  done
  return 0
}

# suite_app_create [--expect TEXT] BIN DATA_DIR ERR_FILE [APP_CREATE_FLAG...]
# Runs `BIN app create --data-dir DATA_DIR APP_CREATE_FLAG...` (30 s at most,
# its stderr in ERR_FILE) and parses the one JSON object it prints into
# SUITE_APP_ID, SUITE_AUTH_KEY and SUITE_AUTH_SECRET ("" when absent), the
# text itself in SUITE_APP_JSON. Returns 1 with SUITE_ERROR set when the
# command fails (its stderr is copied to ours) or prints something else
# (TEXT, "one JSON object {id, auth_key, ...}" by default, says what was
# expected).
suite_app_create() {
  local expect="one JSON object {id, auth_key, ...}"
  if [[ "${1:-}" == --expect ]]; then expect="$2"; shift 2; fi
  local bin="$1" data="$2" err="$3"
  shift 3
  SUITE_ERROR="" SUITE_APP_JSON="" SUITE_APP_ID="" SUITE_AUTH_KEY="" SUITE_AUTH_SECRET=""
  if ! SUITE_APP_JSON="$(timeout 30 "$bin" app create --data-dir "$data" "$@" 2>"$err")"; then
    cat "$err" >&2
    SUITE_ERROR="parley app create failed"
    return 1
  fi
  local fields
  if ! fields="$(printf '%s' "$SUITE_APP_JSON" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let a;
      try { a = JSON.parse(s); } catch { process.exit(1); }
      if (!a || !Number.isInteger(a.id) || typeof a.auth_key !== "string" || !a.auth_key) process.exit(1);
      console.log(a.id, a.auth_key, a.auth_secret ?? "");
    });
  ')" || [[ -z "$fields" ]]; then
    SUITE_ERROR="parley app create did not print $expect: $SUITE_APP_JSON"
    return 1
  fi
  read -r SUITE_APP_ID SUITE_AUTH_KEY SUITE_AUTH_SECRET <<<"$fields" || true
  return 0
}
