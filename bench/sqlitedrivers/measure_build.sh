#!/usr/bin/env bash
# Measures, for a tiny main importing each SQLite driver (probe/*):
#   1. cold build time: `go build` with an empty, throw-away GOCACHE, so the
#      standard library and the driver are compiled from scratch (the module
#      cache with the downloaded sources stays warm; `go clean -cache` is
#      deliberately NOT used because it would wipe the shared build cache);
#   2. size of a stripped binary (-ldflags='-s -w');
#   3. whether the binary is static, and whether it cross-compiles with
#      CGO_ENABLED=0 (throw-away GOCACHE again).
# Output goes to stdout; README.md quotes build.txt, made with
#   ./measure_build.sh 2>&1 | tee build.txt
set -euo pipefail
cd "$(dirname "$0")"

RUNS=${RUNS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# name|package|extra go build flags
probes=(
	"baseline|./probe/baseline|"
	"modernc|./probe/modernc|"
	"mattn|./probe/mattn|"
	"mattn+fts5|./probe/mattn|-tags=sqlite_fts5"
	"ncruces|./probe/ncruces|"
	"ncruces+fts5|./probe/ncruces-fts5|"
)

echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# $(go version); nproc=$(nproc); $(lscpu | grep 'Model name' | tr -s ' ')"
echo "# gcc: $(gcc --version | head -1)"
echo
echo "## cold build (fresh GOCACHE each run): wall s, user s, sys s"
for p in "${probes[@]}"; do
	IFS='|' read -r name pkg flags <<<"$p"
	for run in $(seq 1 "$RUNS"); do
		cache=$(mktemp -d)
		# shellcheck disable=SC2086
		t=$( { GOCACHE=$cache /usr/bin/time -f '%e %U %S' \
			go build $flags -o "$out/$name" "$pkg" >/dev/null; } 2>&1 | tail -1)
		rm -rf "$cache"
		read -r wall user sys <<<"$t"
		printf 'cold-build %-13s run=%d wall=%6.1fs user=%6.1fs sys=%5.1fs\n' \
			"$name" "$run" "$wall" "$user" "$sys"
	done
done

echo
echo "## stripped binary size (-ldflags='-s -w', default CGO_ENABLED=$(go env CGO_ENABLED))"
for p in "${probes[@]}"; do
	IFS='|' read -r name pkg flags <<<"$p"
	# shellcheck disable=SC2086
	go build $flags -ldflags='-s -w' -o "$out/$name" "$pkg"
	size=$(stat -c %s "$out/$name")
	printf 'size %-13s %10d bytes %7.2f MiB  %s\n' "$name" "$size" \
		"$(echo "$size/1048576" | bc -l)" "$("$out/$name" 2>&1 | head -1)"
	printf '     %-13s %s\n' "" "$(file -b "$out/$name" | cut -d, -f1,2,4 )"
	if ldd "$out/$name" >/dev/null 2>&1; then
		printf '     %-13s ldd: %s\n' "" "$(ldd "$out/$name" | awk '{print $1}' | tr '\n' ' ')"
	fi
done

echo
echo "## CGO_ENABLED=0 builds (one throw-away GOCACHE for this section)"
cache=$(mktemp -d)
for target in linux/amd64 linux/arm64 darwin/arm64 windows/amd64; do
	for p in "modernc|./probe/modernc" "ncruces+fts5|./probe/ncruces-fts5" "mattn|./probe/mattn"; do
		IFS='|' read -r name pkg <<<"$p"
		bin="$out/x-$name"
		if res=$(GOCACHE=$cache CGO_ENABLED=0 GOOS=${target%/*} GOARCH=${target#*/} \
			go build -ldflags='-s -w' -o "$bin" "$pkg" 2>&1); then
			status="builds, $(stat -c %s "$bin") bytes"
			if [ "$target" = linux/amd64 ]; then
				status="$status, $(file -b "$bin" | cut -d, -f4 | sed 's/^ //'), runs: $("$bin" 2>&1 | head -1 || true)"
			fi
		else
			status="FAILS: $(echo "$res" | tail -1)"
		fi
		printf 'cgo0 %-13s %-13s %s\n' "$target" "$name" "$status"
	done
done
rm -rf "$cache"
