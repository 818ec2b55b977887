#!/usr/bin/env python3
"""trackerd's benchmarks (`make bench`): figures, never pass/fail thresholds.

Every figure that has a natural baseline is reported as a ratio to it, measured in the same run:
  1. drain 100,000 queued fixes to a local mosquitto (TLS, client certificates) vs
     `mosquitto_pub -l -q 1` sending the same 100,000 payloads over the same kind of connection;
  2. bytes written to disk per fix (/proc/PID/io write_bytes), online and offline, and with
     every-message durability the files' peak size as messages per MiB of free space;
  3. peak and steady RSS of `trackerd run` replaying at 10 fixes/s, how much of it is
     anonymous (the rest: file pages of the binary and its libraries), and its working set (RSS
     once the file pages only start-up touched are paged out);
  4. CPU time per 1,000 fixes (that replay, and the drain), and that replay's context
     switches per fix; against mosquitto_pub publishing the same rate over the same TLS;
  5. size of the stripped release binary built with -static-stdlib;
  6. geofence cost per fix with 1, 100 and 10,000 zones (50-vertex polygons), from `trackerd
     simulate` on a 50,000-fix drive against the same run with no zone (below the run-to-run
     spread it says so instead of printing a number);
  7. the reporting policy (issue 13) on the seed drive and on a generated city drive with stops,
     turns and 3 m of noise: messages per hour against publishing every fix, and the largest
     distance between the true path and the path drawn by joining the published fixes;
  8. `trackerd decode` against gpsd's `gpsdecode` on the same 12 MB capture (the 20 receiver
     captures of ../shared/testdata/gpsd, concatenated), CPU seconds, best of 3; and, repeatable
     on a noisy machine, valgrind's instruction counts: decode per byte of a 1 MB capture, and
     the steady loop per fix (`trackerd run` on a 2,000-fix drive, no endpoint);
  9. idle wake-ups per second: a connected tracker whose receiver (a pty) sends nothing, as the
     kernel counts its threads' context switches over 20 s; and its wake-ups per cycle while the
     receiver talks at a UART's pace (9600 baud, 16-byte pieces).
Standard library only. Usage: bench.py TRACKERD SHARED_DIR [SECTION ...] (sections: geofences,
reporting, decode, idle, pipeline; default all).
"""
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TRACKERD, SHARED = sys.argv[1], sys.argv[2]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")
results = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checksum_line(body):
    x = 0
    for ch in body.encode():
        x ^= ch
    return "$%s*%02X\r\n" % (body, x)


def synthetic_drive(path, count):
    """`count` one-second RMC fixes, no two alike."""
    with open(path, "w") as f:
        for n in range(count):
            s = 8 * 3600 + n
            day = 2 + s // 86400
            s %= 86400
            minutes = 9.0 + (n % 500000) * 0.00001
            f.write(checksum_line("GPRMC,%02d%02d%02d.00,A,10%07.4f,N,01009.0000,E,10.0,0.0,%02d0320,,,A"
                                  % (s // 3600, s // 60 % 60, s % 60, minutes, day)))


def proc_io(pid):
    try:
        with open("/proc/%d/io" % pid) as f:
            return dict(line.split(": ") for line in f.read().split("\n") if line)
    except OSError:
        return None


def thread_switches(pid):
    """Context switches (voluntary and not: its wake-ups) of each of the process's threads:
    {tid: (name, count)}."""
    counts = {}
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                total, name = 0, "?"
                for line in f:
                    if line.startswith("Name:"):
                        name = line.split(None, 1)[1].strip()
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
            counts[task] = (name, total)
        except OSError:
            pass
    return counts


def proc_switches(pid):
    """Context switches of all the process's threads."""
    return sum(count for _, count in thread_switches(pid).values())


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_rss_kib(pid):
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM", "RssAnon", "RssFile")):
                key, value = line.split(":")
                values[key] = int(value.split()[0])
    return values


class Broker:
    def __init__(self, pki, work):
        self.port = free_port()
        self.conf = os.path.join(work, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write(("user root\n" if os.getuid() == 0 else "") + """per_listener_settings false
persistence false
log_dest stderr
log_type error
allow_anonymous false
max_inflight_messages 100
max_queued_messages 200000
listener %d 127.0.0.1
cafile %s/ca.pem
certfile %s/server.pem
keyfile %s/server.key
require_certificate true
use_identity_as_username true
""" % (self.port, pki, pki, pki))
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["mosquitto", "-c", self.conf], stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def config(path, pki, port, state, replay, speed, extra="", mqtt_extra=""):
    with open(path, "w") as f:
        f.write("""[device]
id = "bench-1"
[gps]
source = "replay"
replay_file = "%s"
replay_speed = %s
[mqtt]
endpoint = "localhost"
port = %d
ca_file = "%s/ca.pem"
cert_file = "%s/client.pem"
key_file = "%s/client.key"
reconnect_min_s = 0.05
reconnect_max_s = 0.2
%s
[queue]
max_messages = 200000
max_bytes = 268435456
%s
[store]
dir = "%s"
[report]
# Every fix a message, no trip events: the figures count fixes, as before [report].
policy = "every-fix"
stop_speed_mps = 50
""" % (replay, speed, port, pki, pki, pki, mqtt_extra, extra, state))


def run_until(args, marker, timeout, on_line=None):
    """Starts trackerd, returns (process, last /proc/PID/io sample before `marker`, cpu seconds)."""
    p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    io = cpu = None
    for line in p.stderr:
        if on_line:
            on_line(p, line)
        if marker in line:
            io = proc_io(p.pid)
            cpu = proc_cpu_seconds(p.pid)
            break
        if time.time() > deadline:
            break
    return p, io, cpu


def geofences(work):
    """Per-fix cost of N 50-vertex polygon zones: simulate's time on a drive minus its time on an
    empty track (configuration parsing), against the same difference with no zone."""
    import math
    import random
    # Long enough that the zones' cost stands out of the process's run-to-run noise: 50,000
    # fixes through the zones' area (the seed drive's 2,481 gave differences below it).
    fixes = 50_000
    drive = os.path.join(work, "geo-drive.nmea")
    synthetic_drive(drive, fixes)
    empty = os.path.join(work, "empty-geo.nmea")
    open(empty, "w").close()
    rng = random.Random(5)

    def cost(n):
        cfg = os.path.join(work, "geo-%d.toml" % n)
        with open(cfg, "w") as f:
            f.write('[device]\nid = "bench"\n')
            for i in range(n):
                lat, lon = 9.6 + rng.random() * 1.2, 9.6 + rng.random() * 1.2
                r = 0.003
                points = ", ".join("[%.6f, %.6f]" % (lat + r * math.sin(2 * math.pi * k / 50), lon + r * math.cos(2 * math.pi * k / 50))
                                   for k in range(50))
                f.write('[[geofence]]\nname = "z%d"\npolygon = [%s]\n' % (i, points))
        best, spread = {}, 0.0
        for track in (empty, drive):
            times = []
            for _ in range(5):
                start = time.time()
                subprocess.run([TRACKERD, "simulate", "--config", cfg, track], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                times.append(time.time() - start)
            best[track] = min(times)
            # Run-to-run noise: how far the median run is from the best one.
            spread = max(spread, sorted(times)[len(times) // 2] - min(times))
        return (best[drive] - best[empty]) / fixes, spread / fixes

    base, base_noise = cost(0)
    for n in (1, 100, 10_000):
        per_fix, noise = cost(n)
        extra = per_fix - base
        # A difference smaller than the run-to-run spread is not a measurement: say so rather
        # than print it (it can even come out negative).
        resolution = max(noise, base_noise)
        if extra < resolution:
            results["geofence_us_per_fix_%d_zones" % n] = None
            results["geofence_us_per_fix_%d_zones_below" % n] = round(resolution * 1e6, 2)
            print("geofences: %d zones of 50 vertices: below the resolution of this measurement (< %.2f us per fix; "
                  "the pipeline without zones takes %.2f us per fix)" % (n, resolution * 1e6, base * 1e6))
        else:
            results["geofence_us_per_fix_%d_zones" % n] = round(extra * 1e6, 2)
            print("geofences: %d zones of 50 vertices: %.2f us per fix (over the pipeline without zones, %.2f us per fix)"
                  % (n, extra * 1e6, base * 1e6))


def fill(work, pki, broker, drive, state, extra=""):
    """The queue filled offline (broker stopped) from `drive`, on disk after a clean stop."""
    broker.stop()
    shutil.rmtree(state, ignore_errors=True)
    cfg = os.path.join(work, "fill-capped.toml")
    config(cfg, pki, broker.port, state, drive, 0, extra)
    p, _, _ = run_until([TRACKERD, "run", "--config", cfg], "fix source ended", 120)
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    broker.start()


def drain_with_subscriber(work, pki, broker, state, empty, count, queue_extra):
    """Drains `state` at the default cap; returns (seconds from connect to the last PUBACK,
    the most publishes the subscriber saw in one second)."""
    stamps = os.path.join(work, "stamps.txt")
    out = open(stamps, "w")
    sub = subprocess.Popen(["mosquitto_sub", "-h", "localhost", "-p", str(broker.port), "--cafile", pki + "/ca.pem",
                            "--cert", pki + "/client.pem", "--key", pki + "/client.key", "-i", "bench-sub", "-q", "1",
                            "-t", "gpsTopic", "-t", "trackers/+/backlog", "-t", "trackers/+/status", "-F", "%U %t"], stdout=out)
    time.sleep(1)  # the subscription is in place before the drain begins
    cfg = os.path.join(work, "drain-capped.toml")
    config(cfg, pki, broker.port, state, empty, 0, queue_extra)
    marks = {}

    def mark(_, line):
        if "connected to" in line and "connected" not in marks:
            marks["connected"] = time.time()

    start = time.time()
    p, _, _ = run_until([TRACKERD, "run", "--config", cfg], "every queued message is acknowledged", 1200, mark)
    done = time.time()
    p.wait(30)
    time.sleep(1)
    sub.terminate()
    sub.wait(10)
    out.close()
    per_second = {}
    with open(stamps) as f:
        for line in f:
            second = int(float(line.split()[0]))
            per_second[second] = per_second.get(second, 0) + 1
    return done - marks.get("connected", start), max(per_second.values() or [0])


def capped_drain(work, pki, broker, drive, n, empty):
    """Issue 12: 100,000 queued fixes at the default cap (100 publishes/s), in batches of 50,
    against one message per fix at the same cap (measured on the first 3,000: at the cap the rate
    is constant, so the time for 100,000 follows)."""
    state = os.path.join(work, "state-capped")
    fill(work, pki, broker, drive, state)
    batched_s, batched_peak = drain_with_subscriber(work, pki, broker, state, empty, n, "")
    single_n = 3_000
    single_drive = os.path.join(work, "single.nmea")
    synthetic_drive(single_drive, single_n)
    fill(work, pki, broker, single_drive, state)
    single_s, single_peak = drain_with_subscriber(work, pki, broker, state, empty, single_n, "backlog_batch = 1")
    batched_rate, single_rate = n / batched_s, single_n / single_s
    results["capped_drain_fixes_per_s_batched"] = round(batched_rate)
    results["capped_drain_fixes_per_s_single"] = round(single_rate, 1)
    results["capped_drain_batched_over_single"] = round(batched_rate / single_rate, 1)
    results["capped_drain_peak_publishes_per_s"] = max(batched_peak, single_peak)
    print("drain at the cap (100 publishes/s): %d fixes in batches of 50 in %.1f s (%.0f fixes/s); one per message %.1f fixes/s "
          "(%d fixes in %.1f s; 100,000 would take %.0f s): batched/single = %.1f; peak %d publishes in one second"
          % (n, batched_s, batched_rate, single_rate, single_n, single_s, n / single_rate, batched_rate / single_rate,
             max(batched_peak, single_peak)))


def reporting(work):
    """Issue 13: messages per hour, adaptive against every fix, and how far the drawn path
    strays from the true one (each true point against the segment of published fixes around it)."""
    city_route = os.path.join(work, "city-route.json")
    with open(city_route, "w") as f:
        json.dump({"start": "2020-03-02T08:00:00Z", "speed_mps": 12,
                   "waypoints": [[10.05, 10.05], [10.05, 10.08], [10.07, 10.09], [10.08, 10.08], [10.08, 10.05],
                                 [10.06, 10.04], [10.05, 10.05]],
                   "leg_speeds_mps": [12, 15, 9, 14, 11, 13],
                   "stops": [[1, 300], [3, 600], [5, 120], [6, 900]],
                   "outages": [[1500, 1520]], "jitter_m": 3}, f)
    subprocess.run([sys.executable, os.path.join(SHARED, "tools/make_track.py"), "--seed", "5", "city", city_route, work], check=True)
    drives = [("seed drive", os.path.join(SHARED, "testdata/tracks/seed-drive.nmea"), os.path.join(SHARED, "testdata/tracks/seed-drive.truth.jsonl")),
              ("city drive with stops", os.path.join(work, "city.nmea"), os.path.join(work, "city.truth.jsonl"))]
    for name, track, truth_file in drives:
        truth = []
        with open(truth_file) as f:
            for line in f:
                t = json.loads(line)
                lat, lon = t.get("path_lat", t.get("lat")), t.get("path_lon", t.get("lon"))
                if lat is not None:
                    truth.append((t["time"], lat, lon))
        counts = {}
        published = []
        for policy in ("adaptive", "every-fix"):
            cfg = os.path.join(work, "report-%s.toml" % policy)
            with open(cfg, "w") as f:
                f.write('[device]\nid = "1"\n[payload]\nformat = "extended"\n[report]\npolicy = "%s"\n' % policy)
            out = subprocess.run([TRACKERD, "simulate", "--config", cfg, track], capture_output=True, text=True, check=True).stdout
            fixes = [json.loads(l)["payload"] for l in out.splitlines() if json.loads(l)["topic"] == "gpsTopic"]
            counts[policy] = len(fixes)
            if policy == "adaptive":
                published = [(p["time"], p["gpsLat"], p["gpsLng"]) for p in fixes]
        def seconds(stamp):
            return time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        hours = (seconds(truth[-1][0]) - seconds(truth[0][0]) + 1) / 3600.0
        worst = 0.0
        j = 0
        for time_, lat, lon in truth:
            while j + 1 < len(published) and published[j + 1][0] <= time_:
                j += 1
            if j + 1 >= len(published) or published[j][0] > time_:
                continue
            worst = max(worst, segment_distance((lat, lon), published[j][1:], published[j + 1][1:]))
        key = "report_" + name.split()[0]
        results[key + "_messages_per_hour"] = round(counts["adaptive"] / hours, 1)
        results[key + "_every_fix_over_adaptive"] = round(counts["every-fix"] / counts["adaptive"], 1)
        results[key + "_max_path_error_m"] = round(worst, 1)
        print("reporting, %s (%.2f h): %d messages (%.1f per hour) against %d for every fix: %.1fx fewer; "
              "the drawn path within %.1f m of the true one" % (name, hours, counts["adaptive"], counts["adaptive"] / hours,
                                                                counts["every-fix"], counts["every-fix"] / counts["adaptive"], worst))


def segment_distance(p, a, b):
    """Metres from p to the segment a-b (lat, lon), on a local flat projection."""
    k = 111320.0
    c = math.cos(math.radians(p[0]))
    ax, ay = (a[1] - p[1]) * k * c, (a[0] - p[0]) * k
    bx, by = (b[1] - p[1]) * k * c, (b[0] - p[0]) * k
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
    return math.hypot(ax + t * dx, ay + t * dy)


def child_cpu(args, stdin=None):
    """CPU seconds (user + system) of one run of `args`, its output thrown away."""
    start = os.times()
    with open(stdin) if stdin else open(os.devnull) as source:
        subprocess.run(args, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    end = os.times()
    return (end.children_user - start.children_user) + (end.children_system - start.children_system)


def instructions(args, work, stdin=None):
    """valgrind --tool=callgrind's instruction count for one run (repeatable, unlike time).
    Swift's DWARF 5 stops valgrind's debug-info reader, so it runs a copy without it."""
    binary = os.path.join(work, "trackerd.nodebug")
    if not os.path.exists(binary):
        subprocess.run(["strip", "--strip-debug", "-o", binary, TRACKERD], check=True)
    out = os.path.join(work, "callgrind.out")
    with open(stdin) if stdin else open(os.devnull) as source:
        run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary] + args[1:],
                             stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in run.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    raise RuntimeError("callgrind gave no count: " + run.stderr[-300:])


def decode(work):
    """8. decode against gpsdecode, and instruction counts for decode and the steady loop."""
    capture = os.path.join(work, "capture-12mb.nmea")
    logs = sorted(os.path.join(SHARED, "testdata/gpsd", f) for f in os.listdir(os.path.join(SHARED, "testdata/gpsd")) if f.endswith(".log"))
    with open(capture, "wb") as out:
        while out.tell() < 12_000_000:
            for log in logs:
                with open(log, "rb") as f:
                    out.write(f.read())
    size = os.path.getsize(capture)
    ours = min(child_cpu([TRACKERD, "decode", capture]) for _ in range(3))
    theirs = min(child_cpu(["gpsdecode"], stdin=capture) for _ in range(3))
    results["decode_cpu_s"] = round(ours, 3)
    results["gpsdecode_cpu_s"] = round(theirs, 3)
    results["decode_speed_vs_gpsdecode"] = round(theirs / ours, 2)
    print("decode %.1f MB: trackerd %.2f s, gpsdecode %.2f s CPU (best of 3): trackerd is %.2fx gpsdecode's speed"
          % (size / 1e6, ours, theirs, theirs / ours))
    small = os.path.join(work, "capture-1mb.nmea")
    with open(capture, "rb") as f, open(small, "wb") as out:
        out.write(f.read(1_000_000))
    count = instructions([TRACKERD, "decode", small], work)
    results["decode_instructions_per_byte"] = round(count / 1_000_000, 1)
    print("decode: %d instructions for 1 MB, %.0f per byte (callgrind)" % (count, count / 1_000_000))
    # The steady loop: fixes through the engine, reporting policy and zones, no broker.
    drive = os.path.join(work, "steady-2000.nmea")
    synthetic_drive(drive, 2000)
    cfg = os.path.join(work, "no-endpoint.toml")
    with open(cfg, "w") as f:
        f.write('[device]\nid = "bench-1"\n[gps]\nsource = "replay"\nreplay_file = "%s"\nreplay_speed = 0\n'
                '[store]\ndir = "%s"\n[report]\npolicy = "every-fix"\n' % (drive, os.path.join(work, "state-no-endpoint")))
    empty = os.path.join(work, "empty-0.nmea")
    open(empty, "w").close()
    with open(os.path.join(work, "no-endpoint-empty.toml"), "w") as f:
        f.write(open(cfg).read().replace(drive, empty))
    full = instructions([TRACKERD, "run", "--config", cfg], work)
    base = instructions([TRACKERD, "run", "--config", os.path.join(work, "no-endpoint-empty.toml")], work)
    results["loop_instructions_per_fix"] = round((full - base) / 2000)
    results["start_and_stop_instructions"] = base
    print("steady loop: %d instructions per fix (2,000 fixes, no endpoint; start and stop alone: %d)" % ((full - base) / 2000, base))


def idle(work, pki, broker):
    """9. Wake-ups of a connected tracker whose receiver sends nothing."""
    import pty
    master, slave = pty.openpty()
    device = os.ttyname(slave)
    cfg = os.path.join(work, "idle.toml")
    config(cfg, pki, broker.port, os.path.join(work, "state-idle"), os.path.join(work, "unused.nmea"), 1)
    with open(cfg) as f:
        text = f.read()
    text = text.replace('source = "replay"', 'source = "serial"\ndevice = "%s"\nbaud = 9600' % device)
    with open(cfg, "w") as f:
        f.write(text)
    broker.start()
    p = subprocess.Popen([TRACKERD, "run", "--config", cfg], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    for line in p.stderr:
        if "connected to" in line or time.time() > deadline:
            break
    time.sleep(5)  # past the start's own work

    first, start = thread_switches(p.pid), time.time()
    time.sleep(20)
    last, elapsed = thread_switches(p.pid), time.time() - start
    per_thread = {}
    for task, (name, count) in last.items():
        key = "%s/%s" % (name, task)
        per_thread[key] = (count - first.get(task, (name, 0))[1]) / elapsed
    rate = sum(per_thread.values())
    threads = len(last)

    # 9b. The same tracker while its receiver talks as a UART does: a cycle a second, its bytes
    # at 9600 baud (960 a second) in 16-byte pieces (a FIFO's trigger level), every fix published.
    with open(os.path.join(SHARED, "testdata/tracks/seed-drive.nmea"), "rb") as f:
        lines = f.read().split(b"\n")
    cycles = [b"\n".join(lines[i * 4:(i + 1) * 4]) + b"\n" for i in range(20)]
    before, begin = thread_switches(p.pid), time.time() + 0.5
    for n, cycle in enumerate(cycles):
        for k in range(0, len(cycle), 16):
            time.sleep(max(0, begin + n + k / 960 - time.time()))
            os.write(master, cycle[k:k + 16])
    time.sleep(max(0, begin + len(cycles) - time.time()))
    after = thread_switches(p.pid)
    talking = (sum(count for _, count in after.values()) - sum(count for _, count in before.values())) / len(cycles)
    results["serial_9600_wakeups_per_cycle"] = round(talking, 1)
    p.send_signal(signal.SIGTERM)
    p.wait(10)
    os.close(master)
    os.close(slave)
    broker.stop()
    results["idle_wakeups_per_s"] = round(rate, 1)
    results["idle_threads"] = threads
    print("idle (connected, receiver silent): %.1f wake-ups per second over 20 s, %d threads" % (rate, threads))
    busy = sorted(per_thread.items(), key=lambda item: -item[1])
    print("  by thread: " + ", ".join("%s %.1f" % item for item in busy if item[1] >= 0.05))
    print("serial receiver at 9600 baud (a cycle a second in 16-byte pieces, every fix published): %.1f wake-ups per cycle (%d bytes a cycle)"
          % (talking, sum(len(cycle) for cycle in cycles) / len(cycles)))


def main():
    sections = sys.argv[3:] or ["geofences", "reporting", "decode", "idle", "pipeline"]
    work = tempfile.mkdtemp(prefix="trackerd-bench-", dir="/var/tmp")
    pki = os.path.join(work, "pki")
    os.makedirs(pki)
    subprocess.run(["bash", os.path.join(REPO, "Tests/Fixtures/make-test-pki.sh"), pki], check=True)
    broker = Broker(pki, work)
    try:
        if "geofences" in sections:
            geofences(work)
        if "reporting" in sections:
            reporting(work)
        if "decode" in sections:
            decode(work)
        if "idle" in sections:
            idle(work, pki, broker)
        if "pipeline" in sections:
            bench(work, pki, broker)
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))


def bench(work, pki, broker):
    # 5. binary size
    stripped = os.path.join(work, "trackerd.stripped")
    shutil.copy(TRACKERD, stripped)
    subprocess.run(["strip", stripped], check=True)
    results["binary_bytes_stripped"] = os.path.getsize(stripped)
    print("stripped release binary (-static-stdlib): %.1f MB" % (os.path.getsize(stripped) / 1e6))

    n = 100_000
    drive = os.path.join(work, "drive.nmea")
    synthetic_drive(drive, n)
    empty = os.path.join(work, "empty.nmea")
    open(empty, "w").close()

    # Fill the queue offline: 100,000 fixes, then a clean stop writes them all to disk.
    state = os.path.join(work, "state-drain")
    cfg = os.path.join(work, "fill.toml")
    config(cfg, pki, broker.port, state, drive, 0)
    p, io, _ = run_until([TRACKERD, "run", "--config", cfg], "fix source ended", 120)
    time.sleep(6)  # one commit interval: the offline batch reaches the disk
    io = proc_io(p.pid)
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    offline_bytes = int(io["write_bytes"]) if io else None
    if offline_bytes is not None:
        results["offline_disk_bytes_per_fix"] = round(offline_bytes / n, 1)
        print("offline: %.1f bytes written to disk per fix (%d fixes, batched commits)" % (offline_bytes / n, n))

    # 2b. every-message durability offline: each fix its own transaction. Peak size of the
    # database and its WAL, as messages per MiB of free space (the figure an SD card that is
    # nearly full cares about), and bytes written per fix.
    em_n = 10_000
    em_drive = os.path.join(work, "every-message.nmea")
    synthetic_drive(em_drive, em_n)
    em_state = os.path.join(work, "state-every-message")
    cfg = os.path.join(work, "every-message.toml")
    config(cfg, pki, broker.port, em_state, em_drive, 0, 'durability = "every-message"')
    peak = {"db": 0, "wal": 0}

    def sample(_, line):
        for key, name in (("db", "queue.db"), ("wal", "queue.db-wal")):
            try:
                peak[key] = max(peak[key], os.path.getsize(os.path.join(em_state, name)))
            except OSError:
                pass

    p, io, _ = run_until([TRACKERD, "run", "--config", cfg, "--log-level", "debug"], "fix source ended", 300, sample)
    sample(None, "")
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    size = peak["db"] + peak["wal"]
    results["every_message_wal_peak_bytes"] = peak["wal"]
    results["every_message_msgs_per_mib"] = round(em_n / (size / 1048576))
    if io:
        results["every_message_disk_bytes_per_fix"] = round(int(io["write_bytes"]) / em_n, 1)
    print("every-message: %d fixes in %d bytes (database %d, WAL peak %d): %d messages per MiB%s"
          % (em_n, size, peak["db"], peak["wal"], results["every_message_msgs_per_mib"],
             ", %.0f bytes written per fix" % (int(io["write_bytes"]) / em_n) if io else ""))

    # 1. Drain to the broker, against mosquitto_pub -l with the same payloads.
    broker.start()
    for inflight in (20, 100):
        if inflight == 100:
            broker.stop()
            shutil.rmtree(state)
            config(cfg, pki, broker.port, state, drive, 0)
            p, _, _ = run_until([TRACKERD, "run", "--config", cfg], "fix source ended", 120)
            time.sleep(6)
            p.send_signal(signal.SIGTERM)
            p.wait(30)
            broker.start()
        drain_cfg = os.path.join(work, "drain.toml")
        # As before issue 12: no cap, one message per fix.
        config(drain_cfg, pki, broker.port, state, empty, 0, "max_inflight = %d\nbacklog_batch = 1" % inflight, "max_publish_rate = 0")
        start = time.time()
        marks = {}

        def mark(_, line):
            if "connected to" in line and "connected" not in marks:
                marks["connected"] = time.time()

        p, _, cpu = run_until([TRACKERD, "run", "--config", drain_cfg], "every queued message is acknowledged", 600, mark)
        done = time.time()
        elapsed = done - start
        p.wait(30)
        rate = n / elapsed
        connected_rate = n / (done - marks.get("connected", start))
        results["drain_msgs_per_s_inflight_%d" % inflight] = round(rate)
        results["drain_msgs_per_s_after_connect_inflight_%d" % inflight] = round(connected_rate)
        results["drain_cpu_s_per_1000_inflight_%d" % inflight] = round(cpu / n * 1000, 4)
        print("drain %d queued fixes, max_inflight %d: %.0f msg/s from process start (%.2f s), %.0f msg/s from connect; CPU %.3f s per 1,000"
              % (n, inflight, rate, elapsed, connected_rate, cpu / n * 1000))

    payloads = os.path.join(work, "payloads.txt")
    with open(payloads, "w") as f:
        for i in range(n):
            f.write('{"gpsDeviceID":"bench-1","gpsLat":10.15%05d,"gpsLng":10.15,"gpsDatTm":"03/02/2020  08:03:20.000"}\n' % i)
    start = time.time()
    with open(payloads) as f:
        subprocess.run(["mosquitto_pub", "-h", "localhost", "-p", str(broker.port), "--cafile", pki + "/ca.pem",
                        "--cert", pki + "/client.pem", "--key", pki + "/client.key", "-i", "bench-pub", "-q", "1",
                        "-t", "gpsTopic", "-l"], stdin=f, check=True)
    base = n / (time.time() - start)
    results["mosquitto_pub_msgs_per_s"] = round(base)
    for inflight in (20, 100):
        results["drain_ratio_to_mosquitto_pub_inflight_%d" % inflight] = round(results["drain_msgs_per_s_inflight_%d" % inflight] / base, 2)
    print("baseline mosquitto_pub -l -q 1: %.0f msg/s; trackerd/mosquitto_pub = %.2f (inflight 20), %.2f (inflight 100)"
          % (base, results["drain_ratio_to_mosquitto_pub_inflight_20"], results["drain_ratio_to_mosquitto_pub_inflight_100"]))

    capped_drain(work, pki, broker, drive, n, empty)

    # 2. Online: fixes acknowledged within spill_after_s never reach the disk.
    online_state = os.path.join(work, "state-online")
    online_drive = os.path.join(work, "online.nmea")
    synthetic_drive(online_drive, 10_000)
    cfg = os.path.join(work, "online.toml")
    config(cfg, pki, broker.port, online_state, online_drive, 0)
    p, io, _ = run_until([TRACKERD, "run", "--config", cfg], "every queued message is acknowledged", 120)
    p.wait(30)
    if io:
        results["online_disk_bytes_per_fix"] = round(int(io["write_bytes"]) / 10_000, 2)
        print("online: %.2f bytes written to disk per fix (10,000 fixes acknowledged in time)" % (int(io["write_bytes"]) / 10_000))

    # 3 and 4. RSS and CPU replaying the seed drive at 10 fixes/s (speed 10) for 60 s.
    cfg = os.path.join(work, "steady.toml")
    config(cfg, pki, broker.port, os.path.join(work, "state-steady"), SHARED + "/testdata/tracks/seed-drive.nmea", 10)
    p = subprocess.Popen([TRACKERD, "run", "--config", cfg], stderr=subprocess.DEVNULL)
    samples = []
    cpu_start = switches_start = None
    for second in range(60):
        time.sleep(1)
        if second == 10:
            cpu_start = proc_cpu_seconds(p.pid)
            switches_start = proc_switches(p.pid)
        samples.append(proc_rss_kib(p.pid))
    cpu = proc_cpu_seconds(p.pid) - cpu_start
    switches = proc_switches(p.pid) - switches_start
    working_set = working_set_kib(p.pid)
    p.send_signal(signal.SIGTERM)
    p.wait(10)
    steady = statistics.median(s["VmRSS"] for s in samples[10:])
    anon = statistics.median(s["RssAnon"] for s in samples[10:])
    peak = max(s["VmHWM"] for s in samples)
    results["rss_peak_kib"] = peak
    results["rss_steady_kib"] = steady
    # RssFile: pages of the binary and the shared libraries, clean and reclaimable (the kernel
    # maps up to 64 KiB around each page touched); RssAnon is the process's own memory.
    results["rss_steady_anon_kib"] = anon
    if working_set:
        results["rss_working_set_kib"] = working_set
    fixes = 50 * 10 * 0.977  # seed drive: 2481 of 2541 cycles have a fix
    results["replay_cpu_s_per_1000"] = round(cpu / fixes * 1000, 4)
    results["replay_wakeups_per_fix"] = round(switches / fixes, 1)
    print("replay at 10 fixes/s: RSS peak %d KiB, steady %d KiB (%d KiB of it anonymous, the rest file pages of the binary and its libraries%s); CPU %.3f s per 1,000 fixes; %.1f context switches per fix"
          % (peak, steady, anon, "; %d KiB once the pages only start-up touched are paged out" % working_set if working_set else "",
             cpu / fixes * 1000, switches / fixes))

    # The same rate through mosquitto_pub: one C client publishing 10 messages/s at QoS 1 over
    # the same TLS, the cost of a publish and its PUBACK on this machine (its wake-ups included).
    base_cpu, base_switches = paced_mosquitto_pub(pki, broker.port, 10, 50)
    results["paced_mosquitto_pub_cpu_s_per_1000"] = round(base_cpu * 1000, 4)
    results["replay_cpu_ratio_to_paced_mosquitto_pub"] = round(cpu / fixes / base_cpu, 2)
    print("baseline mosquitto_pub -l -q 1 at 10 messages/s: CPU %.3f s per 1,000 messages, %.1f context switches per message; trackerd/mosquitto_pub = %.2f"
          % (base_cpu * 1000, base_switches, cpu / fixes / base_cpu))


def paced_mosquitto_pub(pki, port, rate, seconds):
    """CPU seconds and context switches per message of mosquitto_pub -l publishing `rate`
    messages a second, measured after 5 s of warm-up."""
    p = subprocess.Popen(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile", pki + "/ca.pem",
                          "--cert", pki + "/client.pem", "--key", pki + "/client.key", "-i", "bench-paced", "-q", "1",
                          "-t", "gpsTopic", "-l"], stdin=subprocess.PIPE)
    line = b'{"gpsDeviceID":"bench-1","gpsLat":10.15,"gpsLng":10.15,"gpsDatTm":"03/02/2020  08:03:20.000"}\n'
    due = time.time()
    cpu_start = switches_start = None
    for n in range((seconds + 5) * rate):
        if n == 5 * rate:
            cpu_start, switches_start = proc_cpu_seconds(p.pid), proc_switches(p.pid)
        p.stdin.write(line)
        p.stdin.flush()
        due += 1 / rate
        time.sleep(max(0, due - time.time()))
    cpu, switches = proc_cpu_seconds(p.pid) - cpu_start, proc_switches(p.pid) - switches_start
    p.stdin.close()
    p.wait(10)
    count = seconds * rate
    return cpu / count, switches / count


def working_set_kib(pid):
    """RSS 20 s after the kernel was asked to page out the process's read-only file mappings
    (process_madvise MADV_PAGEOUT, Linux 5.10, as root): what the steady loop touches again,
    without what only start-up touched. None where the call is refused."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd_open, process_madvise, pageout = 434, 440, 21  # x86_64 and arm64 alike

    class IOVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    pidfd = libc.syscall(pidfd_open, pid, 0)
    if pidfd < 0:
        return None
    try:
        with open("/proc/%d/maps" % pid) as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and fields[5].startswith("/") and "w" not in fields[1]:
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    region = IOVec(start, end - start)
                    if libc.syscall(process_madvise, pidfd, ctypes.byref(region), 1, pageout, 0) < 0:
                        return None
    finally:
        os.close(pidfd)
    time.sleep(20)
    return proc_rss_kib(pid)["VmRSS"]


if __name__ == "__main__":
    main()
