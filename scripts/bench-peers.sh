#!/usr/bin/env bash
# Measures Parley side by side with ejabberd and Prosody on this machine,
# with the same load tool (`parley bench xmpp`) and the same scenario, one
# server at a time on 127.0.0.1:5222, and prints one table.
#
# The peers (those SERVERS names) are installed (apt-get, once) and configured exactly as
# ../shared/bench-peers/README.md (beside the repository) says, from the files in that directory
# (copied into /etc at run time). Parley is built from this tree (or from
# PARLEY_REV) and run with a fresh data dir, twice: routing only
# (--history=false, what the peers do) and with save_to_history=1.
#
# Scenario (bench-peers README): CONNS sessions logged in with 50 in flight;
# PAIRS pairs (sender i writes to receiver i+PAIRS) exchanging 175-byte
# <message type='chat'> stanzas, each phase WARMUP unmeasured then DURATION
# measured, then at most DRAIN for the last deliveries: a closed loop with 8
# in flight per sender (saturation), then open loops at 2,000 and 5,000
# msgs/s. The load tool runs on one core (taskset -c 1).
#
# Usage (as root, Debian 12):  scripts/bench-peers.sh
# Environment: CONNS (2000) PAIRS (50) WINDOW (8) RATES (2000,5000)
#   WARMUP (3s) DURATION (20s) DRAIN (10s) SIZE (175) LOGIN_CONCURRENCY (50)
#   SERVERS ("ejabberd prosody prosody-gengc parley-routing parley-history";
#     also "parley-group": save_to_history=1 in group dialogs of GROUP_SIZE
#     members (10), every pair a group, every member's copy a delivery; the
#     peers have no such scenario; and "parley-history-lists",
#     "parley-group-lists": parley-history and parley-group with every
#     user holding a default block list of LISTS_ITEMS items (100); and
#     "parley-history-alerts": parley-history with chat alerts for every
#     message (`bench xmpp --push-alerts`): the app gets VAPID keys, every
#     user a Web Push subscription to a sink the load tool runs on
#     127.0.0.1 (it answers 201 and counts, decrypting nothing), and every
#     session marks itself inactive after its initial presence, so every
#     recipient is alerted while still receiving live; the table adds the
#     pushes the sink received. The issue-14 check, in one sitting:
#     SERVERS="parley-history parley-history-alerts"); and
#     "parley-group-alerts": parley-group with the same alerts (every
#     member's copy calls for one)
#   PUSH_SINK_DELAY (unset: none): for the -alerts runs, how long the sink
#     holds each answer (a Go duration, e.g. 200ms: a slow push provider)
#   PRIVACY_ITEMS (0: none): every user of the parley-routing, -history and
#     -group runs gets a default block list of this many items before the
#     chat (an even number: the SDK writes two items, user JID and
#     muc.{domain}/{id}, per blocked user; one-way deny with <message/>
#     <presence-in/><presence-out/><iq/>), naming users signed up for it who
#     take no part in the run: nothing is blocked, but every stanza is
#     checked against a full list. The load tool sets them over XMPP, as the
#     SDK does, so the server must support privacy lists (a PARLEY_REV from
#     before them fails those runs); 0 sends nothing. The issue-12 check, in
#     one sitting: SERVERS="parley-history parley-history-lists parley-group
#     parley-group-lists"
#   LISTS_ITEMS (100): the block list length of the "-lists" runs
#   BENCH_PEERS_DIR (unset: ../shared/bench-peers beside the repository, that
#     is $(dirname "$0")/../../shared/bench-peers resolved; from a linked git
#     worktree elsewhere, the one beside the main worktree)
#   PARLEY_REV (unset: the Parley server is built from the working tree; a
#     git revision, e.g. HEAD: built from that commit through git archive,
#     leaving the working tree alone; the load tool is always the tree's)
#   RESULTS_DIR (unset: the JSON reports and server logs are deleted)
#
# It stops every server it started (by PID, on any exit) and restores what it
# touched: the config files it installed, the peers' state and log dirs
# (users are registered into them), its scratch dirs. Only the installed
# packages (ejabberd, prosody, jq) stay.
set -euo pipefail

CONNS=${CONNS:-2000}
PAIRS=${PAIRS:-50}
WINDOW=${WINDOW:-8}
RATES=${RATES:-2000,5000}
PRIVACY_ITEMS=${PRIVACY_ITEMS:-0}
LISTS_ITEMS=${LISTS_ITEMS:-100}
WARMUP=${WARMUP:-3s}
DURATION=${DURATION:-20s}
DRAIN=${DRAIN:-10s}
SIZE=${SIZE:-175}
LOGIN_CONCURRENCY=${LOGIN_CONCURRENCY:-50}
SERVERS=${SERVERS:-"ejabberd prosody prosody-gengc parley-routing parley-history"}
REPO=$(cd "$(dirname "$0")/.." && pwd)

# peers_dir: BENCH_PEERS_DIR, else ../shared/bench-peers beside this
# repository; a linked worktree (git worktree add) may live anywhere, so
# then beside the main worktree, which holds the common git directory.
peers_dir() {
  if [ -n "${BENCH_PEERS_DIR:-}" ]; then echo "$BENCH_PEERS_DIR"; return; fi
  local d="$REPO/../shared/bench-peers" common
  if [ ! -d "$d" ] && common=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
    [ -d "$(dirname "$common")/../shared/bench-peers" ] && d="$(dirname "$common")/../shared/bench-peers"
  fi
  if [ -d "$d" ]; then (cd "$d" && pwd); else echo "$d"; fi
}
PEERS=$(peers_dir)

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-peers: %s\n' "$*" >&2; exit 1; }

# The peers' files first: a wrong directory is said before anything is
# installed or started.
for f in ejabberd-bench.yml ejabberdctl-bench.cfg prosody-bench.cfg.lua gen-users.sh register-ejabberd.sh register-prosody.sh; do
  [ -r "$PEERS/$f" ] || die "$PEERS/$f is missing: set BENCH_PEERS_DIR to the bench-peers directory (default: ../shared/bench-peers beside the repository)"
done
[ "$(id -u)" = 0 ] || die "run as root (apt-get, and the peers run as their own users)"
for n in "$PRIVACY_ITEMS" "$LISTS_ITEMS"; do
  case $n in ''|*[!0-9]*) die "PRIVACY_ITEMS and LISTS_ITEMS must be even numbers, 0 or more (got '$n')" ;; esac
  [ $((n % 2)) = 0 ] || die "PRIVACY_ITEMS and LISTS_ITEMS must be even: two items per blocked user (got $n)"
done
[ "$(nproc)" -ge 2 ] || die "needs 2 cores: the load tool takes core 1"
command -v go >/dev/null || die "Go is not installed"

# pid_on_port PORT: the PID listening on 127.0.0.1:PORT (or [::1]), if any.
pid_on_port() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

listening 5222 && die "port 5222 is taken (PID $(pid_on_port 5222)): one XMPP server at a time"

# ---- install (idempotent) -------------------------------------------------
installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# Only the peers SERVERS names: a Parley-only run (the issue-12 block-list
# side by side) needs neither.
wanted=(jq)
case " $SERVERS " in *" ejabberd "*) wanted+=(ejabberd) ;; esac
case " $SERVERS " in *" prosody "*|*" prosody-gengc "*) wanted+=(prosody) ;; esac
missing=()
for p in "${wanted[@]}"; do installed "$p" || missing+=("$p"); done
declare -A install_error=()
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq || say "apt-get update failed; trying the install anyway"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>"/tmp/bench-peers-apt.$$"; then
    # One at a time, so that a peer that cannot be installed does not keep
    # the other (or Parley) from being measured; the table says why.
    for p in "${missing[@]}"; do
      if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null 2>"/tmp/bench-peers-apt.$$"; then
        install_error[$p]="apt-get install -y $p: $(tail -1 "/tmp/bench-peers-apt.$$")"
        say "${install_error[$p]}"
      fi
    done
  fi
  rm -f "/tmp/bench-peers-apt.$$"
fi
installed jq || die "jq is needed for the table: ${install_error[jq]:-not installed}"
# A package's own service must not hold 5222 (containers forbid the start
# through policy-rc.d; on a full system it would be running now).
listening 5222 && die "port 5222 is taken after the install (PID $(pid_on_port 5222)): stop the distribution's service first"

# ---- scratch, and what to restore -----------------------------------------
work=$(mktemp -d /tmp/bench-peers.XXXXXX)
chmod 755 "$work" # ejabberd (its own user) reads the XEP-0227 import file from here
mkdir -p "$work/backup" "$work/results"
server_pid=""   # the one server running now
server_name=""
epmd_before=$(pid_on_port 4369 || true)
created_prosody_tmp=""
etc_files=(/etc/ejabberd/ejabberd-bench.yml /etc/ejabberd/ejabberdctl-bench.cfg
           /etc/prosody/prosody-bench.cfg.lua /etc/prosody/prosody-bench-gengc.cfg.lua)
state_dirs=(/var/lib/ejabberd /var/log/ejabberd /var/lib/prosody /var/log/prosody)
for f in "${etc_files[@]}"; do
  if [ -e "$f" ]; then cp -a "$f" "$work/backup/$(basename "$f")"; fi
done
for d in "${state_dirs[@]}"; do
  if [ -d "$d" ]; then tar -C "$d" -cpf "$work/backup/$(echo "$d" | tr / _).tar" .; fi
done

# stop_server: TERM the running server by its PID, wait up to 20 s, then KILL.
stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    say "stopping $server_name (PID $server_pid)"
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$server_pid" 2>/dev/null; then
      say "$server_name did not stop in 20 s: KILL"
      kill -KILL "$server_pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  server_pid=""
  # ejabberd starts epmd if none runs; stop it only if it is ours (another
  # Erlang program, RabbitMQ for one, may share the one that was there).
  local e
  e=$(pid_on_port 4369 || true)
  if [ -n "$e" ] && [ "$e" != "$epmd_before" ] && [ "$(ps -o user= -p "$e" 2>/dev/null)" = ejabberd ]; then
    kill -TERM "$e" 2>/dev/null || true
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  for f in "${etc_files[@]}"; do
    if [ -e "$work/backup/$(basename "$f")" ]; then cp -a "$work/backup/$(basename "$f")" "$f"; else rm -f "$f"; fi
  done
  for d in "${state_dirs[@]}"; do
    local t
    t="$work/backup/$(echo "$d" | tr / _).tar"
    if [ -f "$t" ] && [ -d "$d" ]; then
      find "$d" -mindepth 1 -delete
      tar -C "$d" -xpf "$t"
    fi
  done
  [ -n "$created_prosody_tmp" ] && rm -rf /tmp/xmppbench-prosody
  if [ -n "${RESULTS_DIR:-}" ]; then
    mkdir -p "$RESULTS_DIR" && cp -a "$work/results/." "$RESULTS_DIR/" && say "reports and logs kept in $RESULTS_DIR"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the load tool and the server -----------------------------------------
say "building parley (the load tool) from the working tree"
(cd "$REPO" && go build -o "$work/parley" ./cmd/parley)
PARLEY=$work/parley
SERVER=$PARLEY
head=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
server_build="working tree at $head"
if [ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ]; then server_build="$server_build with uncommitted changes"; fi
if [ -n "${PARLEY_REV:-}" ]; then
  say "building the Parley server from $PARLEY_REV"
  mkdir "$work/src"
  git -C "$REPO" archive "$PARLEY_REV" | tar -x -C "$work/src"
  (cd "$work/src" && go build -o "$work/parley-server" ./cmd/parley)
  SERVER=$work/parley-server
  server_build="commit $(git -C "$REPO" rev-parse --short "$PARLEY_REV")"
fi

# bench NAME PID ARGS...: the scenario against the server on 5222, pinned
# to core 1, the JSON report into results/NAME.json. A failed run is
# recorded, not fatal: the table says so and the other servers still run.
bench() {
  local name=$1 pid=$2; shift 2
  say "measuring $name (server PID $pid): $CONNS sessions, $PAIRS pairs, closed loop $WINDOW in flight, open loop $RATES msgs/s"
  if ! taskset -c 1 "$PARLEY" bench xmpp --transport tcp --xmpp 127.0.0.1:5222 --domain localhost \
      --conns "$CONNS" --pairs "$PAIRS" --window "$WINDOW" --rate "0,$RATES" \
      --warmup "$WARMUP" --duration "$DURATION" --drain "$DRAIN" --size "$SIZE" \
      --login-concurrency "$LOGIN_CONCURRENCY" --server-pid "$pid" --json "$@" \
      > "$work/results/$name.json" 2> >(tee "$work/results/$name.progress" >&2); then
    say "$name: the load tool failed: $(tail -c 300 "$work/results/$name.progress" | tr '\r' '\n' | tail -1)"
    tail -c 300 "$work/results/$name.progress" | tr '\r' '\n' | tail -1 > "$work/results/$name.failed"
  fi
}

wait_port() { # wait_port PORT SECONDS
  for _ in $(seq 1 $(($2 * 5))); do listening "$1" && return 0; sleep 0.2; done
  return 1
}

# ---- ejabberd -------------------------------------------------------------
# fail NAME REASON: the server is not measured; the table says why.
fail() { say "$1: $2"; echo "$2" > "$work/results/$1.failed"; stop_server; }

# as_ejabberd ARGS: ejabberdctl as the ejabberd user without su, which would
# reset the open-files limit to 1024; bounded.
as_ejabberd() {
  (cd /var/lib/ejabberd && exec timeout 120 env HOME=/var/lib/ejabberd \
      setpriv --reuid=ejabberd --regid=ejabberd --init-groups \
      ejabberdctl --ctl-config /etc/ejabberd/ejabberdctl-bench.cfg "$@")
}

run_ejabberd() {
  installed ejabberd || { fail ejabberd "not installed: ${install_error[ejabberd]:-}"; return; }
  install -o ejabberd -g ejabberd -m 600 "$PEERS/ejabberd-bench.yml" /etc/ejabberd/ejabberd-bench.yml
  install -o root -g ejabberd -m 640 "$PEERS/ejabberdctl-bench.cfg" /etc/ejabberd/ejabberdctl-bench.cfg
  say "starting ejabberd"
  local out
  out=$(as_ejabberd start 2>&1) || { fail ejabberd "ejabberdctl start: $out"; return; }
  server_name=ejabberd
  for _ in $(seq 1 300); do [ -s /run/ejabberd/ejabberd.pid ] && break; sleep 0.2; done
  server_pid=$(cat /run/ejabberd/ejabberd.pid 2>/dev/null || true)
  if [ -z "$server_pid" ]; then # no pid file: whatever ejabberd listens with, so that it is stopped
    server_pid=$(pid_on_port 5222 || true)
    [ -n "$server_pid" ] && [ "$(ps -o user= -p "$server_pid")" != ejabberd ] && server_pid=""
  fi
  if ! { as_ejabberd started >/dev/null 2>&1 && [ -n "$server_pid" ] && wait_port 5222 30; }; then
    fail ejabberd "did not start: $(tail -3 /var/log/ejabberd/error.log 2>/dev/null | tr '\n' ' ')"
    return
  fi
  say "registering $CONNS users (XEP-0227 import)"
  (cd "$work" && TMPDIR=$work timeout 600 "$PEERS/register-ejabberd.sh" "$CONNS" pass) >&2 ||
    { fail ejabberd "register-ejabberd.sh $CONNS failed"; return; }
  bench ejabberd "$server_pid" --peer
  mkdir -p "$work/results/ejabberd-logs"
  cp -a /var/log/ejabberd/. "$work/results/ejabberd-logs/" 2>/dev/null || true
  stop_server
}

# ---- Prosody --------------------------------------------------------------
prosody_registered=""
run_prosody() { # run_prosody NAME CONFIG
  local name=$1 cfg=$2
  installed prosody || { fail "$name" "not installed: ${install_error[prosody]:-}"; return; }
  install -o root -g prosody -m 640 "$PEERS/prosody-bench.cfg.lua" /etc/prosody/prosody-bench.cfg.lua
  if [ "$cfg" != /etc/prosody/prosody-bench.cfg.lua ]; then
    # The README's fix for Lua's incremental GC, as a global setting
    # (before the VirtualHost section, where it would be host-scoped).
    sed '/^VirtualHost /i gc = { mode = "generational" }\n' "$PEERS/prosody-bench.cfg.lua" > "$cfg.tmp"
    install -o root -g prosody -m 640 "$cfg.tmp" "$cfg" && rm -f "$cfg.tmp"
    grep -q '^gc = { mode = "generational" }' "$cfg" || { fail "$name" "could not add the gc setting to $cfg"; return; }
  fi
  if [ ! -d /tmp/xmppbench-prosody ]; then
    mkdir /tmp/xmppbench-prosody && created_prosody_tmp=1
  fi
  chown prosody:prosody /tmp/xmppbench-prosody
  if [ -z "$prosody_registered" ]; then
    say "registering $CONNS Prosody users (prosodyctl, two at a time)"
    (cd "$work" && timeout 1200 "$PEERS/register-prosody.sh" "$CONNS" pass) >&2 ||
      { fail "$name" "register-prosody.sh $CONNS failed"; return; }
    prosody_registered=1
  fi
  say "starting $name"
  (cd /var/lib/prosody && exec env HOME=/var/lib/prosody setpriv --reuid=prosody --regid=prosody --init-groups \
      prosody -F --config "$cfg") > "$work/results/$name.stdout" 2>&1 &
  server_name=$name
  server_pid=$!
  wait_port 5222 30 || { fail "$name" "did not listen on 5222: $(tail -3 "$work/results/$name.stdout" | tr '\n' ' ')"; return; }
  bench "$name" "$server_pid" --peer
  cp -a /tmp/xmppbench-prosody/prosody.log "$work/results/$name.log" 2>/dev/null || true
  stop_server
}

# ---- Parley ---------------------------------------------------------------
free_port() { # a free loopback port from $1 up
  local p=$1
  while listening "$p"; do p=$((p + 1)); done
  echo "$p"
}

run_parley() { # run_parley NAME HISTORY ITEMS [LOAD TOOL FLAGS]
  local name=$1 history=$2 items=$3 data="$work/$1-data"
  shift 3
  local alerts=""
  case " $* " in *" --push-alerts "*) alerts=1 ;; esac
  # The flag only with lists: without them the command line is exactly
  # the one of the runs before the option existed, and a PARLEY_REV server
  # without privacy lists is never sent a privacy IQ.
  if [ "$items" != 0 ]; then set -- "$@" --privacy-items "$items"; fi
  mkdir -p "$data"
  local app http ws
  app=$("$SERVER" app create --name bench --data-dir "$data") || { fail "$name" "parley app create failed"; return; }
  if [ -n "$alerts" ]; then
    # Web Push alerts are signed with the app's VAPID keys (RFC 8292).
    "$SERVER" app update --data-dir "$data" --id "$(jq -r .id <<<"$app")" --vapid-generate \
        --vapid-subject mailto:bench@example.com >/dev/null ||
      { fail "$name" "parley app update --vapid-generate failed"; return; }
  fi
  http=$(free_port 18480)
  ws=$(free_port $((http + 1)))
  say "starting parley ($name) on 127.0.0.1:5222, REST on $http"
  # 2,000 sessions come from one address: lift the per-IP cap (1,000).
  # The closed loop saturates the server on purpose, with few senders on
  # a fast machine over the per-session stanza rate: lift that too, through
  # its variable, which builds from before the flag existed ignore
  # (PARLEY_REV compares them).
  PARLEY_MAX_STANZA_RATE=0 "$SERVER" serve --data-dir "$data" --http-addr "127.0.0.1:$http" --ws-addr "127.0.0.1:$ws" \
      --xmpp-addr 127.0.0.1:5222 --log-level warn --max-conns-per-ip 100000 \
      > "$work/results/$name.log" 2>&1 &
  server_name=$name
  server_pid=$!
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$http/health" >/dev/null 2>&1 && break; sleep 0.2; done
  wait_port 5222 5 || { fail "$name" "did not start: $(tail -3 "$work/results/$name.log" | tr '\n' ' ')"; return; }
  bench "$name" "$server_pid" --api "http://127.0.0.1:$http" \
      --app "$(jq -r .id <<<"$app")" --auth-key "$(jq -r .auth_key <<<"$app")" --history="$history" "$@"
  stop_server
  rm -rf "$data"
}

say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "load before the run:$(uptime | sed 's/.*load average: //')"
started_at=$(date -u +%FT%TZ)
for s in $SERVERS; do
  case $s in
    ejabberd) run_ejabberd ;;
    prosody) run_prosody prosody /etc/prosody/prosody-bench.cfg.lua ;;
    prosody-gengc) run_prosody prosody-gengc /etc/prosody/prosody-bench-gengc.cfg.lua ;;
    parley-routing) run_parley parley-routing false "$PRIVACY_ITEMS" ;;
    parley-history) run_parley parley-history true "$PRIVACY_ITEMS" ;;
    parley-group) run_parley parley-group true "$PRIVACY_ITEMS" --group-size "${GROUP_SIZE:-10}" ;;
    parley-history-lists) run_parley parley-history-lists true "$LISTS_ITEMS" ;;
    parley-group-lists) run_parley parley-group-lists true "$LISTS_ITEMS" --group-size "${GROUP_SIZE:-10}" ;;
    parley-history-alerts) run_parley parley-history-alerts true "$PRIVACY_ITEMS" --push-alerts \
        ${PUSH_SINK_DELAY:+--push-sink-delay "$PUSH_SINK_DELAY"} ;;
    parley-group-alerts) run_parley parley-group-alerts true "$PRIVACY_ITEMS" --group-size "${GROUP_SIZE:-10}" --push-alerts \
        ${PUSH_SINK_DELAY:+--push-sink-delay "$PUSH_SINK_DELAY"} ;;
    *) die "unknown server $s in SERVERS" ;;
  esac
done
say "load after the run:$(uptime | sed 's/.*load average: //')"

# ---- the table ------------------------------------------------------------
ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null | sed 's/-[^-]*$//'; }
# lists NAME: ", N-item block lists" when the run's users had them.
lists() {
  local n
  n=$(jq -r '.privacy_items // 0' "$work/results/$1.json" 2>/dev/null || echo 0)
  if [ -n "$n" ] && [ "$n" != 0 ]; then echo ", $n-item block lists"; fi
}
# alerts NAME: ", chat alerts ..." when the run had --push-alerts.
alerts() {
  local a d
  a=$(jq -r '.push_alerts // false' "$work/results/$1.json" 2>/dev/null || echo false)
  [ "$a" = true ] || return 0
  d=$(jq -r '.push_sink_delay_ns // 0' "$work/results/$1.json")
  if [ "$d" != 0 ]; then echo ", chat alerts (Web Push, sink answers after ${PUSH_SINK_DELAY:-$((d / 1000000))ms})"
  else echo ", chat alerts (Web Push)"; fi
}
title() {
  case $1 in
    ejabberd) echo "ejabberd $(ver ejabberd)" ;;
    prosody) echo "Prosody $(ver prosody)" ;;
    prosody-gengc) echo "Prosody $(ver prosody), generational GC" ;;
    parley-routing) echo "Parley, routing only$(lists "$1")" ;;
    parley-history|parley-history-lists|parley-history-alerts) echo "Parley, save_to_history=1$(lists "$1")$(alerts "$1")" ;;
    parley-group|parley-group-lists|parley-group-alerts) echo "Parley, groups of ${GROUP_SIZE:-10}, save_to_history=1 (copies)$(lists "$1")$(alerts "$1")" ;;
  esac
}
# cell NAME JQ: one figure of one server, or why there is none.
cell() {
  local f="$work/results/$1.json"
  if [ -s "$f" ]; then jq -r "$2" "$f"; elif [ -f "$work/results/$1.failed" ]; then echo "failed"; else echo "n/a"; fi
}
n_commas() { printf '%s' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
# The jq expressions: phase 0 is the closed loop, 1.. the open-loop rates.
fmt='def commas: if length > 3 then (.[:-3] | commas) + "," + .[-3:] else . end;
  def n: round | tostring | commas;
  def f2: . * 100 | round / 100 | tostring;
  def ms: . / 1e6 | (if . < 10 then (. * 10 | round / 10 | tostring) else n end) + " ms";'
row() { # row LABEL JQ
  local line="| $1 |"
  for s in $SERVERS; do line="$line $(cell "$s" "$fmt $2") |"; done
  echo "$line"
}
# open_latency I: p50 / p99 of open-loop phase I; "overloaded" when the
# server did not carry the offered rate (delivered under 95% of it within
# the window, or messages still undelivered after the drain), with what it
# did deliver; the delivered rate also when it fell short by over 1%.
open_latency() {
  echo ".phases[$1] as \$p | if \$p == null then \"not run\"
    else ((\$p.p50_ns | ms) + \" / \" + (\$p.p99_ns | ms)) as \$l
    | ((\$p.delivered_per_second | n) + \"/s delivered\") as \$d
    | if (\$p.delivered_per_second < 0.95 * \$p.offered_per_second or \$p.lost > 0 or \$p.aborted != null)
      then \"overloaded: \" + \$d + \", \" + (\$p.lost | n) + \" not delivered after the drain, \" + \$l
      elif \$p.delivered_per_second < 0.99 * \$p.offered_per_second then \$l + \" (\" + \$d + \")\"
      else \$l end end"
}
{
  echo
  echo "Side by side, $started_at, $(nproc) cores; load tool on core 1; $(n_commas "$CONNS") sessions, $PAIRS pairs, $SIZE-byte stanzas, $WARMUP warm-up + $DURATION measured per phase, $DRAIN drain; Parley server: $server_build"
  echo
  line="| |"; sep="|---|"
  for s in $SERVERS; do line="$line $(title "$s") |"; sep="$sep---|"; done
  echo "$line"; echo "$sep"
  row "server memory per idle authenticated session (RSS growth over the logins)" '(.rss_per_conn_kib | round | tostring) + " KiB"'
  row "logins per second ($LOGIN_CONCURRENCY in flight)" '.logins_per_second | round | n'
  row "1-1 chat, saturated ($WINDOW in flight per sender), delivered msgs/s" '.phases[0].delivered_per_second | round | n'
  row "server CPU per 1,000 messages (saturated)" '(.phases[0].cpu_ms_per_1000 | round | tostring) + " ms"'
  row "latency p50 / p99, saturated" '(.phases[0].p50_ns | ms) + " / " + (.phases[0].p99_ns | ms)'
  i=1
  for r in ${RATES//,/ }; do
    row "latency p50 / p99 at $(n_commas "$r") msgs/s offered" "$(open_latency $i)"
    row "server CPU per 1,000 messages at $(n_commas "$r") msgs/s" "(.phases[$i].cpu_ms_per_1000 | round | tostring) + \" ms\""
    i=$((i + 1))
  done
  row "messages not delivered within the ${DRAIN} drain (all phases)" '[.phases[].lost] | add | n'
  row "load tool CPU, cores (of its one), per phase" '[.phases[].tool_cpu_cores | f2] | join(" / ")'
  row "other work on the machine, cores, per phase" '[.phases[].other_cpu_cores | f2] | join(" / ")'
  case " $SERVERS " in
    *" parley-history-alerts "* | *" parley-group-alerts "*)
      row "Web Push alerts received by the sink: at the chat's end / after the ${DRAIN} drain, of those called for" \
        'if .push_alerts then (.pushes_run | n) + " / " + (.pushes_drained | n) + " of " + (.pushes_expected | n) else "–" end'
      row "Web Push alerts received per phase window" \
        'if .push_alerts then [.phases[] | (.pushes // 0) | n] | join(" / ") else "–" end'
      row "Web Push subscriptions set up (one REST login and POST per user)" \
        'if .push_alerts then (.push_setup_seconds | f2) + " s" else "–" end'
      ;;
  esac
}
