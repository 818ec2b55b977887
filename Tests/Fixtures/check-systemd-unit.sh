#!/usr/bin/env bash
# make test: systemd/trackerd.service must pass `systemd-analyze verify` with nothing on stderr
# (verify exits 0 even for unknown keys) and score 1.5 or lower in `systemd-analyze security`.
set -euo pipefail
unit=${1:-systemd/trackerd.service}
binary=${2:-$PWD/.build/debug/trackerd}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify checks that ExecStart exists: point it at the binary just built. It also opens every
# man: page in Documentation=: give it the package's, where man looks first.
sed "s|/usr/bin/trackerd|$binary|" "$unit" > "$work/trackerd.service"
mkdir -p "$work/man/man8"
sed "s/@VERSION@/check/" "$(dirname "$0")/../../packaging/debian/trackerd.8" > "$work/man/man8/trackerd.8"
problems=$(MANPATH="$work/man:" systemd-analyze verify "$work/trackerd.service" 2>&1 || true)
if [ -n "$problems" ]; then
    echo "systemd-analyze verify $unit:"; echo "$problems"; exit 1
fi
score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "systemd-analyze security gave no score"; exit 1; }
if awk "BEGIN { exit !($score > 1.5) }"; then
    echo "systemd-analyze security: $unit scores $score, above 1.5"; exit 1
fi
echo "systemd unit: verify passes, security exposure $score (limit 1.5)"
