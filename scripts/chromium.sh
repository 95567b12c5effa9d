#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed (/usr/bin/chromium), for the
# browser example and the widget's end-to-end suite: installs it with
# apt-get when missing (as root, or through sudo without a password).
# Prints nothing when it is there already.
set -euo pipefail
bin=${PARLEY_CHROMIUM:-/usr/bin/chromium}
[ -x "$bin" ] && exit 0
run() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n env DEBIAN_FRONTEND=noninteractive "$@"; else
  echo "chromium.sh: $bin is missing and this user cannot install packages (apt-get install chromium)" >&2; exit 1; fi; }
echo "chromium.sh: installing Debian's chromium (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
run apt-get update -qq >/dev/null
run apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x "$bin" ] || { echo "chromium.sh: apt-get finished but $bin is still missing" >&2; exit 1; }
echo "chromium.sh: $("$bin" --version 2>/dev/null || echo chromium) installed" >&2
