#!/usr/bin/env bash
# make test-system: the Debian package under a real systemd. A Debian bookworm container
# (debootstrap --variant=minbase, booted with systemd-nspawn) gets the .deb; localcloud runs on
# the host's loopback, which the container shares. The test shows, in the container: the package
# installs without starting an unconfigured service; a configuration error fails the unit for
# good; once configured the unit reaches READY, sandboxed; the device provisions and its fixes
# reach localcloud; the journal carries trackerd's fields; `systemctl stop` is clean; neither a
# restart nor an upgrade provisions again; jobs install packages (and roll back); a rotation moves
# the device key into a PKCS#11 token under the hardened unit; purge removes the device's state.
#   usage: system-test.sh TRACKERD_DEB LOCALCLOUD_BINARY   (as root; SHARED = ../shared)
set -euo pipefail
deb=$(realpath "$1")
localcloud=$(realpath "$2")
shared=$(realpath "${SHARED:-../shared}")
[ "$(id -u)" = 0 ] || { echo "system-test: needs root (debootstrap, systemd-nspawn)"; exit 1; }

cache=${TRACKERD_SYSTEM_TEST_CACHE:-$PWD/.build/system-test}
mkdir -p "$cache"
work=$(mktemp -d "$cache/run-XXXXXX")
root=$work/root
started=$(date +%s)
pids=()
failures=0

step() { printf '\n== system test: %s\n' "$*"; }
pass() { printf '   ok: %s\n' "$*"; }
fail() { printf '   FAILED: %s\n' "$*"; failures=$((failures + 1)); }
check() { # description, command...
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "${nspawn:-}" ] && kill -0 "$nspawn" 2>/dev/null; then
        # SIGTERM asks the container's systemd to shut down; it gets 30 s before SIGKILL.
        kill -TERM "$nspawn" 2>/dev/null || true
        timeout 30 tail --pid="$nspawn" -f /dev/null || kill -KILL "$nspawn" 2>/dev/null || true
    fi
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do timeout 10 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true; done
    if [ "$status" != 0 ] || [ "$failures" != 0 ]; then
        echo "system-test: logs kept in $work (container boot log boot.log, localcloud.log)"
        rm -rf "$root"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT INT TERM

# wait_for_line SECONDS PATTERN COUNT COMMAND...: COMMAND's output (a followed file or journal;
# an executable, not a shell function, so that the PID below is the follower itself) until COUNT
# lines match PATTERN, or fail after SECONDS. The follower is stopped by PID.
wait_for_line() {
    local seconds=$1 pattern=$2 count=$3 fd follower matched rc=0
    shift 3
    exec {fd}< <(exec "$@" 2>/dev/null)
    follower=$!
    # Not `>/dev/null`: GNU grep then takes a shortcut that ignores -m and reads to the end.
    matched=$(timeout "$seconds" grep -c -m "$count" -- "$pattern" <&"$fd") || rc=$?
    kill -TERM "$follower" 2>/dev/null || true
    exec {fd}<&-
    return "$rc"
}

# until_true SECONDS COMMAND...: COMMAND again every 0.1 s until it succeeds, or fail after
# SECONDS. Only for states that announce themselves nowhere we could wait on (a PID appearing,
# a socket starting to answer, a unit's STATUS= text).
until_true() {
    local deadline=$(( $(date +%s) + $1 ))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# --- the root file system, cached ----------------------------------------------------------
# The mirror apt uses on this machine (deb822 .sources or the one-line format).
mirror=$( { sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
            sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\)[[:space:]]\+bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null || true
          } | { grep -v security || true; } | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
# What the package needs (its Depends without versions) plus systemd and dbus to boot, and a
# PKCS#11 token with OpenSSL's engine for it (the package Suggests them) for the key-in-hardware step.
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[[:space:]]*(.*//; s/^[[:space:]]*//' | grep . | sort -u | paste -sd, -)
include="systemd,systemd-sysv,dbus,softhsm2,libengine-pkcs11-openssl,$depends"
key=$(printf '%s\n' bookworm minbase "$mirror" "$include" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$key
step "root file system (bookworm minbase from $mirror; $include)"
if [ -f "$rootfs/.complete" ]; then
    pass "cached in $rootfs"
else
    # Built aside and renamed when complete, so an interrupted debootstrap is never reused.
    rm -rf "$rootfs.partial"
    if ! debootstrap --variant=minbase --include="$include" bookworm "$rootfs.partial" "$mirror" > "$work/debootstrap.log" 2>&1; then
        echo "debootstrap failed:"; tail -20 "$work/debootstrap.log"; exit 1
    fi
    # The cache is never booted: each run boots a copy, so nothing a test does leaks into the next.
    rm -rf "$rootfs.partial/var/cache/apt/archives/"*.deb
    touch "$rootfs.partial/.complete"
    mv "$rootfs.partial" "$rootfs"
    pass "built in $(( $(date +%s) - started )) s, cached in $rootfs"
fi
cp -a "$rootfs" "$root"
echo "127.0.0.1 localhost" > "$root/etc/hosts"
echo "trackerd-system-test" > "$root/etc/hostname"
mkdir -p "$root/srv/trackerd-test"
cp "$deb" "$root/srv/trackerd-test/"
cp "$shared/testdata/tracks/seed-drive.nmea" "$root/srv/trackerd-test/drive.nmea"

# --- localcloud on the host's loopback -------------------------------------------------------
port=$(python3 -c '
import random, socket
ports = list(range(20000, 32000)); random.shuffle(ports)
for p in ports:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: s.close()')
step "localcloud on 127.0.0.1:$port"
"$localcloud" init "$work/cloud" --port "$port" > /dev/null
http_port=$((port + 2))
"$localcloud" serve "$work/cloud" --port "$port" --http-port "$http_port" 2> "$work/localcloud.log" &
pids+=($!)
check "localcloud is ready" wait_for_line 30 'localcloud ready' 1 tail -n +1 -F "$work/localcloud.log"

# --- boot ------------------------------------------------------------------------------------
# Commands run in the container's namespaces. systemd refuses a client on its private socket
# whose PID it cannot see, so systemctl needs the PID namespace too.
inside() { nsenter -t "$leader" -m -u -i -p -- "$@"; }
# boot_container: systemd-nspawn on $root, until its systemd is up (again after a power cut).
boot_container() {
    systemd-nspawn --register=no --keep-unit --console=read-only -q -D "$root" -b >> "$work/boot.log" 2>&1 &
    nspawn=$!
    leader=""
    found_leader() { kill -0 "$nspawn" 2>/dev/null && leader=$(pgrep -P "$nspawn" -x systemd); }
    until_true 30 found_leader || { echo "the container's systemd did not start:"; cat "$work/boot.log"; exit 1; }
    # is-system-running --wait waits for the boot, but only once systemd listens on its socket.
    state=""
    booted() { state=$(inside systemctl is-system-running --wait 2>&1); [ "$state" = running ] || [ "$state" = degraded ]; }
    until_true 60 booted || true
    check "the container's systemd is up ($state)" test "$state" = running -o "$state" = degraded
    [ "$state" = running ] || inside systemctl --failed --no-pager || true
}
step "booting the container (systemd-nspawn --register=no --keep-unit -b)"
boot_container

# --- install -----------------------------------------------------------------------------------
step "dpkg -i $(basename "$deb") in the running container"
install_log=$(inside dpkg -i "/srv/trackerd-test/$(basename "$deb")" 2>&1) || { echo "$install_log"; exit 1; }
check "postinst says why it did not start" grep -q 'trackerd: not started: set \[mqtt\] endpoint' <<< "$install_log"
check "the unit is enabled" test "$(inside systemctl is-enabled trackerd)" = enabled
check "the unit is not running" test "$(inside systemctl is-active trackerd || true)" = inactive
groups_of=$(inside id -nG trackerd 2>&1 || true)
check "system user trackerd, groups: $groups_of" grep -qw dialout <<< "$groups_of"
check "the conffile is registered" grep -q '/etc/trackerd/trackerd.toml' <<< "$(inside dpkg-query -W -f='${Conffiles}' trackerd)"
inside systemctl start trackerd
result=$(inside systemctl show trackerd -p ActiveState -p ConditionResult -p Result --value | paste -sd' ')
check "started unconfigured, ExecCondition= skips it (state result: $result)" test "$(inside systemctl is-active trackerd || true)" = inactive

step "a configuration with an error: the unit fails (not skipped) and is not restarted"
cp "$root/etc/trackerd/trackerd.toml" "$work/example.toml"
printf '[mqtt]\nendpoint = "localhost"\nport = 70000\n' > "$root/etc/trackerd/trackerd.toml"
if inside systemctl start trackerd 2>/dev/null; then fail "systemctl start succeeded"; else pass "systemctl start failed"; fi
shown=$(inside systemctl show trackerd -p Result -p ExecMainStatus -p NRestarts | sort | paste -sd' ')
check "exit 78, no restart ($shown)" test "$shown" = "ExecMainStatus=78 NRestarts=0 Result=exit-code"
journal_text=$(inside journalctl -u trackerd --no-pager -o cat)
check "the journal names file, line and key" grep -q '/etc/trackerd/trackerd.toml:3: mqtt.port' <<< "$journal_text"
inside systemctl reset-failed trackerd
cp "$work/example.toml" "$root/etc/trackerd/trackerd.toml"

# --- configure and start -----------------------------------------------------------------------
step "configuring: localcloud's CA and claim certificate, the drive, the original geofence"
install -D -m 0644 "$work/cloud/ca/ca.pem" "$root/etc/trackerd/ca.pem"
install -D -m 0644 "$work/cloud/claim/certificate.pem.crt" "$root/etc/trackerd/claim/certificate.pem.crt"
install -D -m 0600 "$work/cloud/claim/private.pem.key" "$root/etc/trackerd/claim/private.pem.key"
inside chown -R trackerd:trackerd /etc/trackerd/claim
inside chmod 0700 /etc/trackerd/claim
cat > "$root/etc/trackerd/trackerd.toml" <<TOML
[device]
id = "10000000cafe"

[gps]
source = "replay"
replay_file = "/srv/trackerd-test/drive.nmea"
replay_speed = 5.0

[mqtt]
endpoint = "localhost"
port = $port
ca_file = "/etc/trackerd/ca.pem"
topic = "gpsTopic"

[provisioning]
method = "csr"
template = "iotDeviceTemplateName"
parameters = { SerialNumber = "{serial}" }
claim_cert = "/etc/trackerd/claim/certificate.pem.crt"
claim_key = "/etc/trackerd/claim/private.pem.key"

[report]
# The package and its unit are under test here, not the reporting rules: every fix.
policy = "every-fix"

[[geofence]]
name = "depot"
box = { min_lat = 10.1, max_lat = 10.2, min_lng = 10.1, max_lng = 10.2 }

[jobs]
# localcloud serves job files with its own CA.
ca_file = "/etc/trackerd/ca.pem"
TOML
thing=tracker_10000000cafe

# journal_events: trackerd's native journal entries, one "EVENT key=value ..." line each.
journal_events() {
    inside journalctl -u trackerd -o json --no-pager | python3 -c '
import json, sys
for line in sys.stdin:
    entry = json.loads(line)
    if "TRACKERD_EVENT" in entry:
        fields = " ".join("%s=%s" % (k, v) for k, v in sorted(entry.items()) if k.isupper() and not k.startswith("_") and k not in ("MESSAGE", "TRACKERD_EVENT", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC"))
        print(entry["TRACKERD_EVENT"], fields, "invocation=" + entry.get("_SYSTEMD_INVOCATION_ID", "?"))'
}
gps_lines() { grep -c "\"clientId\":\"$thing\".*\"topic\":\"gpsTopic\"" "$work/cloud/received.jsonl" || true; }

step "systemctl start trackerd (Type=notify: returns once trackerd sent READY=1)"
if inside systemctl start trackerd; then pass "systemctl start returned 0"; else fail "systemctl start failed"; fi
check "the unit is active (running)" test "$(inside systemctl show trackerd -p SubState --value)" = running
status_text=$(inside systemctl show trackerd -p StatusText --value)
echo "   STATUS=$status_text"
# The registry: its snapshot, and the journal a registration appends to.
registered_things() {
    python3 -c 'import json, sys
things = json.load(open(sys.argv[1]))
for line in open(sys.argv[2]) if __import__("os").path.exists(sys.argv[2]) else []:
    if line.strip(): t = json.loads(line); things[t["thingName"]] = t
print(" ".join(sorted(things)))' "$work/cloud/registry.json" "$work/cloud/registry.log"
}
check "the device provisioned itself as $thing" test "$(registered_things)" = "$thing"
check "fixes reach localcloud" wait_for_line 60 "\"clientId\":\"$thing\".*\"topic\":\"gpsTopic\"" 5 tail -n +1 -F "$work/cloud/received.jsonl"
check "the geofence event reaches localcloud" wait_for_line 60 "\"topic\":\"trackers/$thing/geofence\"" 1 tail -n +1 -F "$work/cloud/received.jsonl"
dashboard=$(python3 -c 'import json, sys, urllib.request
things = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/things" % sys.argv[1], timeout=10))["things"]
print(" ".join("%s:%s:%s" % (t["thingName"], t["connected"], t["lastPosition"] is not None) for t in things))' "$http_port")
check "the dashboard's API shows it online with a position ($dashboard)" test "$dashboard" = "$thing:True:True"
# The sandbox as the kernel sees it, not as the unit file says.
main_pid=$(inside systemctl show trackerd -p MainPID --value)
proc_status=$(inside cat "/proc/$main_pid/status")
field() { sed -n "s/^$1:[[:space:]]*//p" <<< "$proc_status" | awk '{print $1}'; }
check "runs as user trackerd (uid $(field Uid))" test "$(field Uid)" = "$(inside id -u trackerd)"
check "no capabilities, not even in the bounding set" test "$(field CapBnd)" = 0000000000000000
check "no_new_privs" test "$(field NoNewPrivs)" = 1
check "a seccomp filter" test "$(field Seccomp)" = 2
# STATUS= is rewritten as things change; wait for the connected one.
status_text=""
connected_status() {
    status_text=$(inside systemctl show trackerd -p StatusText --value)
    [[ $status_text == "connected to localhost:$port as $thing;"*"last fix"* ]]
}
until_true 20 connected_status || true
check "STATUS=$status_text" grep -q "^connected to localhost:$port as $thing; queue [0-9]*; last fix" <<< "$status_text"
status_out=$(inside trackerd status 2>&1 || true)
check "trackerd status names the thing" grep -q "$thing" <<< "$status_out"
# The runtime directory is 0750 trackerd:trackerd: another user is told why, a member of the group
# is shown the status (the daemon's PID belongs to another user there).
rc=0; stranger=$(inside setpriv --reuid=65534 --regid=65534 --clear-groups trackerd status 2>&1) || rc=$?
check "trackerd status as another user: exit $rc, '$stranger'" test "$rc" = 4 -a -n "$(grep 'Permission denied.*group trackerd' <<< "$stranger")"
rc=0; member=$(inside setpriv --reuid=65534 --regid="$(inside id -g trackerd)" --clear-groups trackerd status 2>&1) || rc=$?
check "trackerd status as a member of group trackerd: exit $rc" test "$rc" = 0 -a -n "$(grep "$thing" <<< "$member")"

step "journalctl -u trackerd -o json"
events=$(journal_events)
echo "$events" | sed 's/^/   /'
check "provisioned, with THING= and CERTIFICATE_ID=" grep -qE "^provisioned .*CERTIFICATE_ID=[0-9a-f]{8}.*THING=$thing" <<< "$events"
check "connected, with ENDPOINT= and THING=" grep -qE "^connected .*ENDPOINT=localhost:$port.*THING=$thing" <<< "$events"
check "geofence, with GEOFENCE_EVENT=, STATE= and ZONE=" grep -qE "^geofence .*GEOFENCE_EVENT=OnEnter.*STATE=InBoundary.*ZONE=depot" <<< "$events"
journal_text=$(inside journalctl -u trackerd --no-pager -o cat)
check "no key or certificate in the journal" test "$(grep -c -- '-----BEGIN' <<< "$journal_text")" = 0
first_invocation=$(inside systemctl show trackerd -p InvocationID --value)

step "systemctl stop trackerd"
stop_started=$(date +%s%N)
inside systemctl stop trackerd
stop_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
shown=$(inside systemctl show trackerd -p Result -p ExecMainCode -p ExecMainStatus | sort | paste -sd' ')
check "clean stop in $stop_ms ms ($shown)" test "$shown" = "ExecMainCode=1 ExecMainStatus=0 Result=success"
check "the broker got the offline presence" wait_for_line 10 '"payload":{"state":"offline"}' 1 tail -n +1 -F "$work/cloud/received.jsonl"

step "systemctl start trackerd again: the device keeps its certificate"
before=$(gps_lines)
if inside systemctl start trackerd; then pass "systemctl start returned 0"; else fail "systemctl start failed"; fi
second_invocation=$(inside systemctl show trackerd -p InvocationID --value)
check "a new invocation" test "$second_invocation" != "$first_invocation"
check "fixes keep reaching localcloud" wait_for_line 60 "\"clientId\":\"$thing\".*\"topic\":\"gpsTopic\"" $((before + 5)) tail -n +1 -F "$work/cloud/received.jsonl"
events=$(journal_events)
check "connected again as $thing" grep -qE "^connected .*THING=$thing.*invocation=$second_invocation" <<< "$events"
check "provisioned exactly once" test "$(grep -c '^provisioned ' <<< "$events")" = 1
check "one thing in localcloud's registry" test "$(registered_things)" = "$thing"

step "dpkg -i the same package again (an upgrade): configuration kept, service restarted"
third_before=$(inside systemctl show trackerd -p InvocationID --value)
if upgrade_log=$(inside dpkg -i "/srv/trackerd-test/$(basename "$deb")" 2>&1); then pass "dpkg -i returned 0"; else fail "dpkg -i: $upgrade_log"; fi
check "the edited configuration is kept" grep -q "^port = $port\$" "$root/etc/trackerd/trackerd.toml"
check "the service runs again, restarted" test "$(inside systemctl is-active trackerd)" = active -a \
    "$(inside systemctl show trackerd -p InvocationID --value)" != "$third_before"
check "still provisioned exactly once" test "$(journal_events | grep -c '^provisioned ')" = 1

# --- AWS IoT Jobs: a package over the air ------------------------------------------------------
# A second build with a higher version: the same files with the control file and the version
# trackerd reports bumped (the binary reads /usr/lib/trackerd/version), served by localcloud.
files_port=$((port + 1))
mkdir -p "$work/cloud/files"
# build_package VERSION [EDIT...]: the package under test with its control file and the version
# trackerd reports set to VERSION, after EDIT (run with the unpacked tree as $1), in DIR/files.
build_package() {
    local version=$1 tree=$work/repack/pkg; shift
    rm -rf "$tree"; mkdir -p "$work/repack"; dpkg-deb -R "$deb" "$tree"
    sed -i "s/^Version: .*/Version: $version/" "$tree/DEBIAN/control"
    echo "$version" > "$tree/usr/lib/trackerd/version"
    if [ $# -gt 0 ]; then "$@" "$tree"; fi
    (cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$tree/DEBIAN/md5sums"
    dpkg-deb --root-owner-group -Zxz -b "$tree" "$work/cloud/files/trackerd-$version.deb" > /dev/null
}
new_version=0.1.1~jobtest
build_package "$new_version"
new_deb=$work/cloud/files/trackerd-$new_version.deb
new_sha=$(sha256sum "$new_deb" | cut -c1-64)
new_size=$(stat -c %s "$new_deb")
job_line() { echo "jobs: $thing $1 now .*\"status\":\"$2\""; }

step "an install-package job with a wrong sha256: FAILED, nothing installed"
printf '{"operation":"install-package","url":"https://localhost:%s/trackerd-%s.deb","sha256":"%s","size":%s,"version":"%s"}\n' \
    "$files_port" "$new_version" "$(printf '0%.0s' $(seq 64))" "$new_size" "$new_version" > "$work/job-bad.json"
"$localcloud" job "$work/cloud" create --thing "$thing" --document "$work/job-bad.json" --job-id bad-hash-1 --port "$port" > /dev/null
check "the job ends FAILED" wait_for_line 120 "$(job_line bad-hash-1 FAILED)" 1 tail -n +1 -F "$work/localcloud.log"
check "with the reason" grep -q 'bad-hash-1 now .*sha256 mismatch' "$work/localcloud.log"
check "the old version keeps running" test "$(inside dpkg-query -W -f='${Version}' trackerd)" = "$(dpkg-deb -f "$deb" Version)" -a \
    "$(inside systemctl is-active trackerd)" = active

step "an install-package job: trackerd $new_version over the air"
printf '{"operation":"install-package","url":"https://localhost:%s/trackerd-%s.deb","sha256":"%s","size":%s,"version":"%s"}\n' \
    "$files_port" "$new_version" "$new_sha" "$new_size" "$new_version" > "$work/job-upgrade.json"
"$localcloud" job "$work/cloud" create --thing "$thing" --document "$work/job-upgrade.json" --job-id upgrade-1 --port "$port" > /dev/null
check "the job ends SUCCEEDED" wait_for_line 240 "$(job_line upgrade-1 SUCCEEDED)" 1 tail -n +1 -F "$work/localcloud.log"
check "reported by the new version" grep -q "upgrade-1 now .*\"version\":\"$new_version\"" "$work/localcloud.log"
check "dpkg has trackerd $new_version" test "$(inside dpkg-query -W -f='${Version}' trackerd)" = "$new_version"
check "it runs and says so" grep -q "\"version\":\"$new_version\"" <<< "$(inside cat /run/trackerd/status.json)"
check "the update unit saw it connect" wait_for_line 30 "upgrade-1: trackerd $new_version is running and connected" 1 \
    nsenter -t "$leader" -m -u -i -p -- journalctl -u trackerd-update -f -o cat --no-pager
inside journalctl -u trackerd-update --no-pager -o cat | sed 's/^/   /' | tail -3
check "each job ran once" test "$(grep -c "jobs: $thing upgrade-1 now .*SUCCEEDED" "$work/localcloud.log")" = 1

step "an install-package job whose version never comes up: the previous one goes back in, FAILED"
# A build whose trackerd cannot run at all; the update unit gets 20 s instead of 120 for it.
broken_version=0.1.2~broken
break_binary() { printf '#!/bin/sh\necho "this trackerd is broken" >&2\nexit 1\n' > "$1/usr/bin/trackerd"; }
build_package "$broken_version" break_binary
broken_deb=$work/cloud/files/trackerd-$broken_version.deb
mkdir -p "$root/etc/systemd/system/trackerd-update.service.d"
printf '[Service]\nEnvironment=TRACKERD_UPDATE_DEADLINE=20\n' > "$root/etc/systemd/system/trackerd-update.service.d/deadline.conf"
inside systemctl daemon-reload
printf '{"operation":"install-package","url":"https://localhost:%s/trackerd-%s.deb","sha256":"%s","size":%s,"version":"%s"}\n' \
    "$files_port" "$broken_version" "$(sha256sum "$broken_deb" | cut -c1-64)" "$(stat -c %s "$broken_deb")" "$broken_version" > "$work/job-broken.json"
"$localcloud" job "$work/cloud" create --thing "$thing" --document "$work/job-broken.json" --job-id broken-1 --port "$port" > /dev/null
check "the job ends FAILED" wait_for_line 180 "$(job_line broken-1 FAILED)" 1 tail -n +1 -F "$work/localcloud.log"
check "with the update unit's reason" grep -q "broken-1 now .*did not connect within 20 s; trackerd $new_version was reinstalled" "$work/localcloud.log"
check "trackerd $new_version is installed again" test "$(inside dpkg-query -W -f='${Version}' trackerd)" = "$new_version"
check "and running" test "$(inside systemctl is-active trackerd)" = active
rm -rf "$root/etc/systemd/system/trackerd-update.service.d"
inside systemctl daemon-reload

step "an install-package job that dpkg refuses: FAILED with dpkg's words, the version in place keeps running"
refused_version=0.1.2~refused
fail_preinst() { printf '#!/bin/sh\necho "preinst: this build refuses to install" >&2\nexit 1\n' > "$1/DEBIAN/preinst"; chmod 0755 "$1/DEBIAN/preinst"; }
build_package "$refused_version" fail_preinst
refused_deb=$work/cloud/files/trackerd-$refused_version.deb
printf '{"operation":"install-package","url":"https://localhost:%s/trackerd-%s.deb","sha256":"%s","size":%s,"version":"%s"}\n' \
    "$files_port" "$refused_version" "$(sha256sum "$refused_deb" | cut -c1-64)" "$(stat -c %s "$refused_deb")" "$refused_version" > "$work/job-refused.json"
"$localcloud" job "$work/cloud" create --thing "$thing" --document "$work/job-refused.json" --job-id refused-1 --port "$port" > /dev/null
check "the job ends FAILED" wait_for_line 180 "$(job_line refused-1 FAILED)" 1 tail -n +1 -F "$work/localcloud.log"
check "with dpkg's words" grep -q "refused-1 now .*dpkg -i failed: .*pre-installation script subprocess returned error exit status 1" "$work/localcloud.log"
check "trackerd $new_version is still installed and running" test "$(inside dpkg-query -W -f='${Version}' trackerd)" = "$new_version" -a \
    "$(inside systemctl is-active trackerd)" = active
check "the configuration is kept" grep -q "^port = $port\$" "$root/etc/trackerd/trackerd.toml"

step "a power cut during an install-package download: the same job resumes after the boot and ends once"
# localcloud again, serving at 500 kB/s so that the download can be cut half way.
kill -TERM "${pids[0]}"; timeout 10 tail --pid="${pids[0]}" -f /dev/null || true
"$localcloud" serve "$work/cloud" --port "$port" --http-port "$http_port" --files-rate 500000 2>> "$work/localcloud.log" &
pids[0]=$!
check "localcloud is back, slow" wait_for_line 30 'at 500000 bytes/s' 1 tail -n +1 -F "$work/localcloud.log"
cut_version=0.1.3~jobtest
build_package "$cut_version"
cut_deb=$work/cloud/files/trackerd-$cut_version.deb
printf '{"operation":"install-package","url":"https://localhost:%s/trackerd-%s.deb","sha256":"%s","size":%s,"version":"%s"}\n' \
    "$files_port" "$cut_version" "$(sha256sum "$cut_deb" | cut -c1-64)" "$(stat -c %s "$cut_deb")" "$cut_version" > "$work/job-cut.json"
"$localcloud" job "$work/cloud" create --thing "$thing" --document "$work/job-cut.json" --job-id upgrade-2 --port "$port" > /dev/null
check "the download passes 30 %" wait_for_line 120 "job upgrade-2: downloaded 30 %" 1 \
    nsenter -t "$leader" -m -u -i -p -- journalctl -u trackerd -f -o cat --no-pager
# The container's PID 1 killed: every process in it dies at once, as in a power cut (killing
# systemd-nspawn alone leaves the container running).
kill -KILL "$leader"; timeout 30 tail --pid="$nspawn" -f /dev/null || true
check "nothing of the old boot runs" test -z "$(pgrep -f 'trackerd run --config /etc/trackerd/trackerd.toml' || true)"
kept=$(stat -c %s "$root/var/lib/trackerd/jobs/upgrade-2.download" 2>/dev/null || echo 0)
check "power cut: $kept bytes of $(stat -c %s "$cut_deb") kept" test "$kept" -gt 0 -a "$kept" -lt "$(stat -c %s "$cut_deb")"
boot_container
if wait_for_line 180 "$(job_line upgrade-2 SUCCEEDED)" 1 tail -n +1 -F "$work/localcloud.log"; then pass "the job ends SUCCEEDED"; else
    fail "the job ends SUCCEEDED"
    inside journalctl -b --no-pager -o short-monotonic -u trackerd -u trackerd-update | grep -v 'thread priority' | grep -B2 -A25 'installing trackerd 0.1.3' | head -60 | sed 's/^/   | /'
fi
check "the operator's configuration survived every install and rollback" grep -q "^port = $port\$" "$root/etc/trackerd/trackerd.toml"
check "trackerd $cut_version runs" test "$(inside dpkg-query -W -f='${Version}' trackerd)" = "$cut_version" -a "$(inside systemctl is-active trackerd)" = active
cut_journal=$(inside journalctl -u trackerd --no-pager -o cat -b)
check "the download resumed after the boot" grep -q "job upgrade-2: resuming the download" <<< "$cut_journal"
check "not from the start (no 10 % after the boot)" test "$(grep -c 'job upgrade-2: downloaded 10 %' <<< "$cut_journal")" = 0
check "the job ran once" test "$(grep -c "jobs: $thing upgrade-2 now .*SUCCEEDED" "$work/localcloud.log")" = 1

step "the device key moved into a PKCS#11 token (SoftHSM2) by a rotation, under the hardened unit with the README's drop-in"
# The token belongs to trackerd (made as trackerd, in softhsm's group directory); the PIN file too.
inside usermod -a -G softhsm trackerd
inside setpriv --reuid=trackerd --regid=trackerd --init-groups -- softhsm2-util --init-token --free --label trackerd \
    --pin 4711 --so-pin 5678 > /dev/null
printf '4711\n' > "$root/etc/trackerd/token.pin"
inside chown trackerd:trackerd /etc/trackerd/token.pin
inside chmod 0600 /etc/trackerd/token.pin
# A 365-day certificate with rotate_before_days = 3650: due at once, and the next key is made in the token.
cat >> "$root/etc/trackerd/trackerd.toml" <<TOML

[credentials]
key = "pkcs11:token=trackerd;object=device"
pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"
pin_file = "/etc/trackerd/token.pin"
rotate_before_days = 3650
TOML
mkdir -p "$root/etc/systemd/system/trackerd.service.d"
cat > "$root/etc/systemd/system/trackerd.service.d/token.conf" <<UNIT
[Service]
SupplementaryGroups=dialout softhsm
ReadWritePaths=/var/lib/softhsm/tokens
UNIT
inside systemctl daemon-reload
before=$(gps_lines)
old_certificate=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificateId"])' "$root/var/lib/trackerd/provisioning.json")
if inside systemctl restart trackerd; then pass "systemctl restart returned 0 (READY after the rotation)"; else
    fail "systemctl restart failed"
    inside journalctl -u trackerd --no-pager -o cat -n 30 | sed 's/^/   | /'
fi
# The rotation comes before READY=1: its journal entry is there once restart returned.
events=$(journal_events)
check "rotated, the journal says (certificate-rotated)" grep -qE "^certificate-rotated .*OLD_CERTIFICATE_ID=$old_certificate" <<< "$events"
token_state=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("credentials") or "device")' "$root/var/lib/trackerd/provisioning.json")
check "the device key is in the token: $token_state/private-key.uri" grep -q '^pkcs11:token=trackerd;object=device;id=' "$root/var/lib/trackerd/$token_state/private-key.uri"
check "no private key file under /var/lib/trackerd" test -z "$(grep -rl 'PRIVATE KEY' "$root/var/lib/trackerd" || true)"
check "fixes keep reaching localcloud, signed in the token" wait_for_line 60 "\"clientId\":\"$thing\".*\"topic\":\"gpsTopic\"" $((before + 5)) tail -n +1 -F "$work/cloud/received.jsonl"
check "localcloud revoked the certificate with the file key ($old_certificate)" \
    wait_for_line 30 "is online with its new certificate .*revoked $old_certificate" 1 tail -n +1 -F "$work/localcloud.log"

step "dpkg --purge trackerd"
if purge_log=$(inside dpkg --purge trackerd 2>&1); then pass "dpkg --purge returned 0"; else fail "dpkg --purge: $purge_log"; fi
check "the service is stopped" test "$(inside systemctl is-active trackerd || true)" = inactive
check "its state (queue, device certificate and key) is gone" test ! -e "$root/var/lib/trackerd" -a ! -e "$root/var/lib/private/trackerd"
check "the conffile is gone" test ! -e "$root/etc/trackerd/trackerd.toml"
check "the operator's claim pair stays" test -f "$root/etc/trackerd/claim/private.pem.key"

elapsed=$(( $(date +%s) - started ))
if [ "$failures" = 0 ]; then
    echo; echo "system test: passed in $elapsed s"
else
    echo; echo "system test: $failures check(s) FAILED ($elapsed s)"; exit 1
fi
