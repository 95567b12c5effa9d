#!/usr/bin/env bash
# Runs every check Parley has: formatting, go vet, the Go tests (with the
# race detector) and the conformance suite, which drives the real binary with
# the official connectycube SDK. This is the README's test command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null || { echo "test.sh: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "test.sh: Node.js 20+ and npm are needed for the conformance suite" >&2; exit 1; }

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './conformance/*'))
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:" >&2; echo "$unformatted" >&2; exit 1
fi

echo "== go vet"
go vet ./...

echo "== S3-compatible server for the S3 blob store's tests (SeaweedFS, scripts/s3server.sh)"
# Built once into ~/.cache/parley (minutes on a fresh machine), started
# here, stopped at exit. PARLEY_S3_REQUIRED makes a missing server a test
# failure, not a skip.
if [ -z "${PARLEY_S3_TEST_ENDPOINT:-}" ]; then
  eval "$(bash scripts/s3server.sh start)"
  trap 'bash scripts/s3server.sh stop' EXIT
fi
export PARLEY_S3_REQUIRED=1

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

echo "== conformance (official connectycube SDK against the real binary)"
bash conformance/run.sh
