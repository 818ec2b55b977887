#!/usr/bin/env bash
# make run: the whole system on one machine. localcloud (a CA, a claim certificate and the
# provisioning template on a real Mosquitto), then trackerd on the recorded drive across the
# original geofence: first-boot provisioning, fixes arriving at the broker, and the
# InBoundary/OutOfBoundary notifications. Ctrl-C stops everything this script started.
set -euo pipefail
bin=${BIN:-.build/debug}
shared=${SHARED:-../shared}
speed=${RUN_SPEED:-10}
port=${RUN_PORT:-18883}
demo=${DEMO_DIR:-$PWD/.build/demo}

rm -rf "$demo"
mkdir -p "$demo"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    say "stopped; everything is in $demo (received.jsonl, registry.json, logs)"
}
trap cleanup INT TERM EXIT

say "localcloud init: CA, broker certificate, claim certificate, template iotDeviceTemplateName"
"$bin/localcloud" init "$demo/cloud" --port "$port"

say "localcloud serve on port $port (Mosquitto with TLS and ACLs; geofence events to its log)"
"$bin/localcloud" serve "$demo/cloud" --port "$port" 2> >(grep --line-buffered -v '^mosquitto:' | sed -u 's/^/[localcloud] /' >&2) &
pids+=($!)
for _ in $(seq 1 100); do grep -q . "$demo/cloud/broker/acl" 2>/dev/null && nc -z 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.1; done

# trackerd's configuration: localcloud's, plus a device id and the original design's geofence.
{
    printf '[device]\nid = "10000000demo"\n'
    cat "$demo/cloud/trackerd.toml"
    printf '\n[[geofence]]\nname = "depot"\nbox = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }\n'
} > "$demo/trackerd.toml"

say "fixes arriving at the broker (localcloud's received.jsonl)"
touch "$demo/cloud/received.jsonl"
tail -n 0 -F "$demo/cloud/received.jsonl" 2>/dev/null | sed -u 's/^/[received] /' &
pids+=($!)

say "trackerd: first boot with the claim certificate, then the drive at ${speed}x (Ctrl-C stops)"
"$bin/trackerd" run --config "$demo/trackerd.toml" --replay "$shared/testdata/tracks/seed-drive.nmea" \
    --replay-speed "$speed" 2> >(sed -u 's/^/[trackerd] /' >&2) &
pids+=($!)
wait "${pids[-1]}"
