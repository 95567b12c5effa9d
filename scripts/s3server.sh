#!/usr/bin/env bash
# The S3-compatible server the blob tests run the S3 store against:
# SeaweedFS (Apache-2.0) in its all-in-one `weed mini` mode, on 127.0.0.1.
#
#   eval "$(scripts/s3server.sh start)"   build if needed, start if not running,
#                                         print the PARLEY_S3_TEST_* exports
#   scripts/s3server.sh stop              stop the server this script started
#
# The binary is built once from tools/s3server (its own module, pinned in
# its go.mod and go.sum) into $PARLEY_TOOLS_DIR (default ~/.cache/parley),
# and rebuilt only when that go.mod changes. Its state lives in a temporary
# directory that `stop` removes. Everything is idempotent: `start` on a
# running server only prints the exports again.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PARLEY_TOOLS_DIR:-$HOME/.cache/parley}"
bin="$tools/bin/weed"
stamp="$tools/bin/weed.gomod.sha256"
run="${TMPDIR:-/tmp}/parley-s3server"
# Fixed ports off the usual ones (SeaweedFS's gRPC ports are these + 10000).
s3_port="${PARLEY_S3_PORT:-18333}"
master_port=19433 volume_port=18440 filer_port=18988
access_key="parley-test" secret_key="parley-test-secret"

log() { echo "s3server.sh: $*" >&2; }

build() {
  local want
  want="$(sha256sum "$repo/tools/s3server/go.mod" | cut -d' ' -f1)"
  if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  log "building SeaweedFS into $bin (once; a few minutes on a fresh machine)"
  mkdir -p "$tools/bin"
  local start=$SECONDS
  # Unoptimised (-N -l): it only serves tests, and compiles in about two
  # thirds of the time (4.6 against 7.3 minutes on 2 cores).
  (cd "$repo/tools/s3server" && go build -trimpath -ldflags=-s -gcflags='all=-N -l' -o "$bin.new" github.com/seaweedfs/seaweedfs/weed)
  mv "$bin.new" "$bin"
  echo "$want" >"$stamp"
  log "built in $((SECONDS - start))s ($(du -h "$bin" | cut -f1))"
}

alive() { curl -fsS -o /dev/null "http://127.0.0.1:$s3_port/status" 2>/dev/null || curl -sS -o /dev/null "http://127.0.0.1:$s3_port/" 2>/dev/null; }

exports() {
  echo "export PARLEY_S3_TEST_ENDPOINT=127.0.0.1:$s3_port PARLEY_S3_TEST_ACCESS_KEY=$access_key PARLEY_S3_TEST_SECRET_KEY=$secret_key"
}

start() {
  if [[ -f "$run/pid" ]] && kill -0 "$(cat "$run/pid")" 2>/dev/null && alive; then
    exports
    return
  fi
  build
  rm -rf "$run"
  mkdir -p "$run/data"
  # setsid and no inherited stdout/stderr: the server must not hold the
  # caller's pipes open (CI waits for them to close).
  AWS_ACCESS_KEY_ID=$access_key AWS_SECRET_ACCESS_KEY=$secret_key setsid "$bin" mini \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$run/data" \
    -master.port=$master_port -volume.port=$volume_port -filer.port=$filer_port -s3.port="$s3_port" \
    -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -admin.ui=false -master.telemetry=false \
    </dev/null >"$run/weed.log" 2>&1 &
  echo $! >"$run/pid"
  for _ in $(seq 1 300); do # up to 60 s
    if alive; then
      exports
      return
    fi
    kill -0 "$(cat "$run/pid")" 2>/dev/null || break
    sleep 0.2
  done
  log "SeaweedFS did not come up; last lines of $run/weed.log:"
  tail -n 30 "$run/weed.log" >&2 || true
  exit 1
}

stop() {
  [[ -f "$run/pid" ]] || return 0
  local pid
  pid="$(cat "$run/pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -rf "$run"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  build) build ;;
  *) echo "usage: $0 [start|stop|build]" >&2; exit 2 ;;
esac
