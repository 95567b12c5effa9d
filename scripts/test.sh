#!/usr/bin/env bash
# Runs every check Parley has: formatting, go vet, the Go tests (with the
# race detector), the conformance suite, which drives the real binary with
# the official connectycube SDK, the examples (the browser page in
# headless Chromium) and ConnectyCube's own chat widget driven in Chromium. This is the README's test command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null || { echo "test.sh: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "test.sh: Node.js 20.19+ and npm are needed for the conformance suite, the examples and the widget suite" >&2; exit 1; }
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' || {
  echo "test.sh: Node.js $(node --version) is too old: 20.19 or later is needed (the widget suite builds with Vite 8)" >&2; exit 1; }

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './conformance/*'))
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:" >&2; echo "$unformatted" >&2; exit 1
fi

# The S3 blob store's tests run against a real S3-compatible server,
# SeaweedFS (scripts/s3server.sh): built once into ~/.cache/parley (about
# five minutes on a fresh machine), started on loopback, stopped at exit.
# It is built and started in the background while everything that does
# not need it runs; its packages are tested last. PARLEY_S3_REQUIRED makes
# a missing server a test failure, not a skip.
s3_packages="./internal/blob/... ./internal/rest"
s3_pid=""
if [ -z "${PARLEY_S3_TEST_ENDPOINT:-}" ]; then
  s3_out=$(mktemp) s3_log=$(mktemp)
  # Its own process group, so that an early failure stops a build in
  # progress too (kill -- -PID).
  trap '[ -n "$s3_pid" ] && kill -- -"$s3_pid" 2>/dev/null; bash scripts/s3server.sh stop; rm -f "$s3_out" "$s3_log"' EXIT
  echo "== S3-compatible server (SeaweedFS): building and starting in the background"
  setsid bash scripts/s3server.sh start >"$s3_out" 2>"$s3_log" &
  s3_pid=$!
fi
export PARLEY_S3_REQUIRED=1

# Chromium (Debian's) for the browser checks, installed in the background
# when missing.
chromium_log=$(mktemp)
bash scripts/chromium.sh >"$chromium_log" 2>&1 &
chromium_pid=$!

echo "== go vet"
go vet ./...

echo "== go test -race (all but the blob store packages: $s3_packages)"
others=$(go list ./... | grep -v -x -e '.*/internal/blob' -e '.*/internal/blob/blobtest' -e '.*/internal/rest')
go test -race -count=1 -timeout 15m $others

echo "== conformance (official connectycube SDK against the real binary)"
bash conformance/run.sh

if ! wait "$chromium_pid"; then
  cat "$chromium_log" >&2
  echo "test.sh: Chromium could not be installed (scripts/chromium.sh)" >&2
  exit 1
fi
cat "$chromium_log"
echo "== examples (Node quick start, the 30-line app, the browser page in headless Chromium)"
bash examples/run.sh

echo "== e2e (ConnectyCube's chat widget in headless Chromium against the real binary)"
bash e2e/run.sh

if [ -n "$s3_pid" ]; then
  echo "== waiting for the S3-compatible server"
  if ! wait "$s3_pid"; then
    cat "$s3_log" >&2
    echo "test.sh: the S3-compatible server did not start" >&2
    exit 1
  fi
  s3_pid=""
  cat "$s3_log"
  eval "$(cat "$s3_out")"
fi
echo "== go test -race $s3_packages (the S3 blob store against SeaweedFS)"
go test -race -count=1 -timeout 15m $s3_packages
