#!/usr/bin/env bash
# Blob transfer benchmark: upload and download of one file through a real
# `parley serve` (separate process), next to `cp` of the same file on the
# same disk, and the server's peak RSS (VmHWM of /proc/PID/status, read
# before and after each transfer: VmHWM is the high-water mark since the
# process started, so an unchanged value means the transfer took no more
# memory than the server already had).
#
#   scripts/bench-blobs.sh [SIZE_MIB]            local store (default 1024 MiB)
#   BLOB_STORE='s3://BUCKET?endpoint=HOST:PORT&secure=false' PARLEY_S3_ACCESS_KEY=.. PARLEY_S3_SECRET_KEY=.. \
#     scripts/bench-blobs.sh 1024     S3 store (the bucket must exist); also times curl straight to the S3 server
#
# Uploads and downloads go through curl on 127.0.0.1, the way the SDK does
# it (a multipart POST to the ticket's URL, then GET /blobs/{uid}?token=).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mib="${1:-1024}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-blobs.XXXXXX")"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/parley" "$repo/cmd/parley"
data="$tmp/data"
app="$("$tmp/parley" app create --data-dir "$data" --name bench)"
app_id="$(jq -r .id <<<"$app")" auth_key="$(jq -r .auth_key <<<"$app")"
"$tmp/parley" app update --data-dir "$data" --id "$app_id" --blob-max-size $(((size_mib + 1) << 20)) >/dev/null

port=$((20000 + RANDOM % 20000))
api="http://127.0.0.1:$port"
store_args=()
[[ -n "${BLOB_STORE:-}" ]] && store_args=(--blob-store "$BLOB_STORE")
"$tmp/parley" serve --data-dir "$data" --http-addr "127.0.0.1:$port" --ws-addr 127.0.0.1:0 --xmpp-addr 127.0.0.1:0 \
  --log-level warn "${store_args[@]}" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS "$api/health" >/dev/null 2>&1 && break; sleep 0.1; done

hwm() { awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status"; }
json() { curl -fsS -H 'Content-Type: application/json' "$@"; }
json -X POST "$api/users.json" -H "CB-AuthKey: $auth_key" \
  -d '{"user":{"login":"bench","password":"bench-password"}}' >/dev/null
token="$(json -X POST "$api/session.json" \
  -d "{\"application_id\":$app_id,\"auth_key\":\"$auth_key\",\"user\":{\"login\":\"bench\",\"password\":\"bench-password\"}}" | jq -r .session.token)"

file="$tmp/file.bin"
head -c $((size_mib << 20)) /dev/urandom >"$file"
sync
mibs() { awk -v mib="$1" -v s="$2" 'BEGIN { printf "%.0f", mib / s }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

t0=$(now); cp "$file" "$tmp/copy.bin"; sync; t1=$(now)
cp_s=$(elapsed "$t0" "$t1"); rm -f "$tmp/copy.bin"
direct=""
if [[ "${BLOB_STORE:-}" == s3://* ]]; then
  # The S3 server's own speed: one signed PUT and GET of the file with curl.
  bucket="${BLOB_STORE#s3://}"; bucket="${bucket%%[/?]*}"
  endpoint="${BLOB_STORE#*endpoint=}"; endpoint="${endpoint%%&*}"
  sig=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$PARLEY_S3_ACCESS_KEY:$PARLEY_S3_SECRET_KEY")
  t0=$(now); curl -fsS "${sig[@]}" -T "$file" "http://$endpoint/$bucket/bench-direct.bin" -o /dev/null; t1=$(now)
  put_s=$(elapsed "$t0" "$t1")
  t0=$(now); curl -fsS "${sig[@]}" "http://$endpoint/$bucket/bench-direct.bin" -o "$tmp/direct.bin"; sync; t1=$(now)
  get_s=$(elapsed "$t0" "$t1")
  curl -fsS "${sig[@]}" -X DELETE "http://$endpoint/$bucket/bench-direct.bin" -o /dev/null || true
  rm -f "$tmp/direct.bin"
  direct="curl PUT ${put_s}s  $(mibs "$size_mib" "$put_s") MiB/s, GET ${get_s}s  $(mibs "$size_mib" "$get_s") MiB/s (straight to the S3 server)"
fi

blob="$(json -X POST "$api/blobs.json" -H "CB-Token: $token" -d '{"blob":{"name":"big.bin","content_type":"application/octet-stream"}}')"
id="$(jq -r .blob.id <<<"$blob")" uid="$(jq -r .blob.uid <<<"$blob")"
params="$(jq -r .blob.blob_object_access.params <<<"$blob")"
form=()
IFS='&' read -ra kvs <<<"${params#*\?}"
for kv in "${kvs[@]}"; do form+=(-F "$kv"); done
hwm_before=$(hwm)
t0=$(now)
curl -fsS -o /dev/null -X POST "${params%%\?*}" "${form[@]}" -F "file=@$file;type=application/octet-stream"
sync; t1=$(now)
up_s=$(elapsed "$t0" "$t1"); hwm_up=$(hwm)
json -X PUT "$api/blobs/$id/complete.json" -H "CB-Token: $token" -d "{\"size\":$((size_mib << 20))}" >/dev/null

t0=$(now)
curl -fsS -o "$tmp/down.bin" "$api/blobs/$uid?token=$token"
sync; t1=$(now)
down_s=$(elapsed "$t0" "$t1"); hwm_down=$(hwm)
cmp -s "$file" "$tmp/down.bin" || { echo "bench-blobs.sh: downloaded bytes differ" >&2; exit 1; }

echo "file ${size_mib} MiB, store ${BLOB_STORE:-local}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cp        ${cp_s}s  $(mibs "$size_mib" "$cp_s") MiB/s"
[[ -n "$direct" ]] && echo "$direct"
echo "upload    ${up_s}s  $(mibs "$size_mib" "$up_s") MiB/s   server peak RSS ${hwm_before} MiB before, ${hwm_up} MiB after"
echo "download  ${down_s}s  $(mibs "$size_mib" "$down_s") MiB/s   server peak RSS ${hwm_down} MiB after"
