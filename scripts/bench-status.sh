#!/usr/bin/env bash
# Measures Parley's status streaming fan-out (issue 12): WATCHERS sessions,
# each subscribed (REALTIME.md §16.3) to the same WATCHED users, who come
# online one after another; for each, the time from its initial presence to
# its "online" push (<iq type='result' from='{watched}'><query
# xmlns='jabber:iq:last' seconds='0'/></iq>) at every watcher, p50 / p99 /
# max per watched user and over all pushes, and how many arrived of how
# many expected. A push missing after WAIT fails the run (exit 1).
#
# It builds parley from this tree, starts a server on a fresh data dir on
# free loopback ports (per-IP connection cap and per-session stanza rate
# lifted: every session comes from 127.0.0.1), creates an app, and runs
# `parley bench status` against it in a second process (the load tool and
# the server each hold WATCHERS+WATCHED connections: 10,000 sessions need a
# file limit above 10,000 in both; the script raises the soft limit to the
# hard one). The users are signed up over REST by the load tool. The load
# tool runs on core LOAD_CPU when the machine has two cores or more.
#
# Usage:  scripts/bench-status.sh
#         WATCHERS=200 WATCHED=3 scripts/bench-status.sh     (a quick check)
# Environment: WATCHERS (10000) WATCHED (10) WAIT (30s) QUIET (2s: pause
#   between the subscriptions and the first presence) TRANSPORT (tcp, or ws)
#   LOGIN_CONCURRENCY (50) LOAD_CPU (1; empty: not pinned)
#   RESULTS_DIR (unset: the JSON report and the server log are deleted)
#
# It stops the server it started (by PID, on any exit) and deletes its
# scratch dir.
set -euo pipefail

WATCHERS=${WATCHERS:-10000}
WATCHED=${WATCHED:-10}
WAIT=${WAIT:-30s}
QUIET=${QUIET:-2s}
TRANSPORT=${TRANSPORT:-tcp}
LOGIN_CONCURRENCY=${LOGIN_CONCURRENCY:-50}
LOAD_CPU=${LOAD_CPU-1}
REPO=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-status: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "Go is not installed"
command -v curl >/dev/null || die "curl is needed (the server's health check)"
need=$((WATCHERS + WATCHED + 100))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$need" ] ||
  die "open files limit $(ulimit -n) is under the $need connections each process holds: raise the hard limit (ulimit -Hn)"

listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
free_port() { # a free loopback port from $1 up
  local p=$1
  while listening "$p"; do p=$((p + 1)); done
  echo "$p"
}

work=$(mktemp -d /tmp/bench-status.XXXXXX)
server_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$server_pid" 2>/dev/null && kill -KILL "$server_pid" 2>/dev/null || true
  fi
  if [ -n "${RESULTS_DIR:-}" ]; then
    mkdir -p "$RESULTS_DIR" && cp -a "$work/status.json" "$work/server.log" "$RESULTS_DIR/" 2>/dev/null &&
      say "report and server log kept in $RESULTS_DIR"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building parley from the working tree"
(cd "$REPO" && go build -o "$work/parley" ./cmd/parley)
PARLEY=$work/parley
mkdir "$work/data"
app=$("$PARLEY" app create --name bench-status --data-dir "$work/data")
app_id=$(printf '%s' "$app" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p')
auth_key=$(printf '%s' "$app" | sed -n 's/.*"auth_key": *"\([^"]*\)".*/\1/p')
[ -n "$app_id" ] && [ -n "$auth_key" ] || die "parley app create printed no id and auth key: $app"
http=$(free_port 18580)
ws=$(free_port $((http + 1)))
xmpp=$(free_port $((ws + 1)))
say "starting parley on 127.0.0.1 (REST $http, WebSocket $ws, XMPP $xmpp)"
PARLEY_MAX_STANZA_RATE=0 "$PARLEY" serve --data-dir "$work/data" --http-addr "127.0.0.1:$http" \
    --ws-addr "127.0.0.1:$ws" --xmpp-addr "127.0.0.1:$xmpp" --log-level warn --max-conns-per-ip 100000 \
    > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$http/health" >/dev/null 2>&1 && break; sleep 0.2; done
listening "$xmpp" || die "the server did not start: $(tail -3 "$work/server.log" | tr '\n' ' ')"

pin=()
if [ -n "$LOAD_CPU" ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then pin=(taskset -c "$LOAD_CPU"); fi
say "machine: $(nproc) cores; load:$(uptime | sed 's/.*load average: //')"
say "$WATCHERS watchers x $WATCHED watched users over $TRANSPORT; wait $WAIT per watched user"
set +e
"${pin[@]}" "$PARLEY" bench status --transport "$TRANSPORT" --xmpp "127.0.0.1:$xmpp" --ws "ws://127.0.0.1:$ws" \
    --api "http://127.0.0.1:$http" --app "$app_id" --auth-key "$auth_key" --domain localhost \
    --watchers "$WATCHERS" --watched "$WATCHED" --wait "$WAIT" --quiet "$QUIET" \
    --login-concurrency "$LOGIN_CONCURRENCY" --server-pid "$server_pid" --json > "$work/status.json"
rc=$?
set -e
[ -s "$work/status.json" ] || die "the load tool failed (exit $rc); server log: $(tail -3 "$work/server.log" | tr '\n' ' ')"

# The figures, from the JSON report (the raw report without jq).
if command -v jq >/dev/null; then
  jq -r '
    def ms: . / 1e6 | (. * 10 | round / 10 | tostring) + " ms";
    "Status fan-out: \(.watchers) watchers (\(.transport)), each subscribed to \(.watched) users; \(.logins_per_second | round) logins/s, \(.watchers * .watched) subscriptions in \(.subscribe_seconds * 10 | round / 10) s",
    "",
    "| watched user | pushes | p50 | p99 | max |",
    "|---|---|---|---|---|",
    (.users[] as $u | "| \($u.jid) | \($u.received)/\(.watchers) | \($u.p50_ns | ms) | \($u.p99_ns | ms) | \($u.max_ns | ms) |"),
    "| all | \(.received)/\(.expected) (\(.missing) missing) | \(.p50_ns | ms) | \(.p99_ns | ms) | \(.max_ns | ms) |",
    "",
    "server CPU per fan-out (one user online, every watcher told): \(.server_cpu_ms_per_fanout | round) ms; other pushes (after a subscribe, repeats): \(.other_pushes)"
  ' "$work/status.json"
else
  cat "$work/status.json"
fi
exit "$rc"
