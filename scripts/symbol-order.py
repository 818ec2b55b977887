#!/usr/bin/env python3
"""Writes the release binary's symbol order (`make symbol-order`): the functions that
`trackerd run` executes, hottest first, for lld's --symbol-ordering-file.

With the code a running tracker uses gathered at the front of .text, it touches far fewer pages
of its binary: replaying at 10 fixes/s, 5.4 MiB of the binary's code resident became 3.7 MiB
(issue 17). Names the binary no longer has are ignored at link time, so a stale list costs only
locality; regenerate it after large changes.

How: the bench's steady scenario (a replay at 10 fixes/s to a local mosquitto over TLS, every
fix published, then SIGTERM) under valgrind's callgrind, its functions in the binary ranked by
their own instruction counts. Usage: symbol-order.py TRACKERD SHARED_DIR > ORDER_FILE
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Benchmarks"))
import bench  # noqa: E402  (bench.py reads TRACKERD and SHARED from sys.argv)


def executed(profile, binary):
    """The functions of `binary` in a callgrind profile (--compress-strings=no), with the
    instructions each ran itself."""
    cost, current, in_binary, after_call = {}, None, False, False
    with open(profile) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("ob="):
                in_binary = line[3:] == binary
            elif line.startswith("fn="):
                current = re.sub(r"'\d+$", "", line[3:]) if in_binary else None
                if current is not None:
                    cost.setdefault(current, 0)
            elif line.startswith("calls="):
                after_call = True
            elif current and line and line[0] in "0123456789+-*":
                if after_call:
                    after_call = False  # the cost of the call, not the function's own
                else:
                    cost[current] += int(line.split()[-1])
            elif not line.startswith(("fl=", "fi=", "fe=", "cob=", "cfn=", "cfi=", "cfl=")):
                after_call = False
    return cost


def main():
    work = tempfile.mkdtemp(prefix="trackerd-order-", dir="/var/tmp")
    pki = os.path.join(work, "pki")
    os.makedirs(pki)
    subprocess.run(["bash", os.path.join(bench.REPO, "Tests/Fixtures/make-test-pki.sh"), pki], check=True,
                   stdout=subprocess.DEVNULL)
    # Swift's DWARF 5 stops valgrind's debug-info reader: a copy without it, same symbols.
    binary = os.path.join(work, "trackerd")
    subprocess.run(["strip", "--strip-debug", "-o", binary, bench.TRACKERD], check=True)
    broker = bench.Broker(pki, work)
    broker.start()
    try:
        cfg = os.path.join(work, "steady.toml")
        bench.config(cfg, pki, broker.port, os.path.join(work, "state"), bench.SHARED + "/testdata/tracks/seed-drive.nmea", 10)
        profile = os.path.join(work, "callgrind.out")
        p = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no",
                              "--callgrind-out-file=" + profile, binary, "run", "--config", cfg],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(60)
        p.send_signal(signal.SIGTERM)
        p.wait(120)
        cost = executed(profile, binary)
    finally:
        broker.stop()
    shutil.rmtree(work, ignore_errors=True)
    names = [name for name in sorted(cost, key=lambda name: -cost[name]) if not name.startswith("0x")]
    if len(names) < 500:
        sys.exit("symbol-order: only %d functions profiled: the run did not get going" % len(names))
    sys.stdout.write("\n".join(names) + "\n")


if __name__ == "__main__":
    main()
