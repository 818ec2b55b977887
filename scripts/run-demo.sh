#!/usr/bin/env bash
# make run: the whole system on one machine. localcloud (a CA, a claim certificate and the
# provisioning template on a real Mosquitto), then trackerd on the recorded drive across the
# original geofence: first-boot provisioning, fixes arriving at the broker, the
# InBoundary/OutOfBoundary notifications, and one remote change: a zone pushed mid-drive through
# the thing's device shadow. Ctrl-C stops everything this script started.
set -euo pipefail
bin=${BIN:-.build/debug}
shared=${SHARED:-../shared}
speed=${RUN_SPEED:-10}
port=${RUN_PORT:-18883}
http_port=${RUN_HTTP_PORT:-8080}
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

# The depot of the original design, for the dashboard's map from the start (the shadow's zones
# join it once pushed).
cat > "$demo/depot.geojson" <<'JSON'
{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "depot"},
 "geometry": {"type": "Polygon", "coordinates": [[[10.1, 10.1], [10.2, 10.1], [10.2, 10.2], [10.1, 10.2], [10.1, 10.1]]]}}]}
JSON

say "localcloud serve on port $port (Mosquitto with TLS and ACLs; geofence events to its log); the dashboard: http://127.0.0.1:$http_port/"
"$bin/localcloud" serve "$demo/cloud" --port "$port" --http-port "$http_port" --zones "$demo/depot.geojson" 2> >(grep --line-buffered -v '^mosquitto:' | sed -u 's/^/[localcloud] /' >&2) &
pids+=($!)
for _ in $(seq 1 100); do grep -q . "$demo/cloud/broker/acl" 2>/dev/null && nc -z 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.1; done

# trackerd's configuration: localcloud's, plus a device id and the original design's geofence
# (as the polygon the shadow will name too, so that its state carries over the push).
{
    printf '[device]\nid = "10000000demo"\n'
    cat "$demo/cloud/trackerd.toml"
    printf '\n[[geofence]]\nname = "depot"\npolygon = [[10.1, 10.1], [10.1, 10.2], [10.2, 10.2], [10.2, 10.1]]\n'
} > "$demo/trackerd.toml"

# The fleet's zones as an operator pushes them mid-drive: the depot unchanged, and a yard on
# the drive's southern leg ([lng, lat], GeoJSON's order).
cat > "$demo/zones.json" <<'JSON'
{"geofences": {"type": "FeatureCollection", "features": [
  {"type": "Feature", "properties": {"name": "depot"},
   "geometry": {"type": "Polygon", "coordinates": [[[10.1, 10.1], [10.2, 10.1], [10.2, 10.2], [10.1, 10.2], [10.1, 10.1]]]}},
  {"type": "Feature", "properties": {"name": "south-yard", "max_speed_mps": 20},
   "geometry": {"type": "Polygon", "coordinates": [[[10.16, 10.03], [10.26, 10.03], [10.26, 10.07], [10.16, 10.07], [10.16, 10.03]]]}}]}}
JSON

say "fixes arriving at the broker (localcloud's received.jsonl)"
touch "$demo/cloud/received.jsonl"
tail -n 0 -F "$demo/cloud/received.jsonl" 2>/dev/null | sed -u 's/^/[received] /' &
pids+=($!)

say "trackerd: first boot with the claim certificate, then the drive at ${speed}x (Ctrl-C stops)"
"$bin/trackerd" run --config "$demo/trackerd.toml" --replay "$shared/testdata/tracks/seed-drive.nmea" \
    --replay-speed "$speed" 2> >(tee "$demo/trackerd.log" | sed -u 's/^/[trackerd] /' >&2) &
trackerd=$!
pids+=($trackerd)

# Mid-drive (once the van has left the depot), the zone set changes through the device shadow:
# trackerd applies it without a restart, reports it back, and enters south-yard later on.
(
    until grep -q 'geofence depot: OnExit' "$demo/trackerd.log" 2>/dev/null; do sleep 0.2; done
    say "operator: localcloud shadow $demo/cloud tracker_10000000demo --desired zones.json (depot + south-yard)"
    "$bin/localcloud" shadow "$demo/cloud" tracker_10000000demo --port "$port" --desired "$demo/zones.json" \
        | sed -E 's/^([a-z]+\/[a-z]+) .*"version":([0-9]+).*/[operator] \1, shadow version \2/' 
) &
pids+=($!)
wait "$trackerd"
