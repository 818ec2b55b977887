#!/usr/bin/python3
"""Plots `fleetsim model`'s JSON: connect requests per second at the broker over time, with
trackerd's full jitter and without, against the connect limit; and the share of the fleet
connected. Debian's matplotlib (python3-matplotlib), no display needed.

usage: fleetsim-plot.py model.json out.png
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source, target):
    with open(source) as f:
        report = json.load(f)
    runs = [("full jitter (trackerd)", report["jitter"], "#1f6fb2"), ("no jitter", report["noJitter"], "#c0392b")]
    scenario = report["jitter"]["scenario"]
    limit = scenario["connectLimit"]
    back = scenario["outageSeconds"]
    figure, (rate, share) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for name, run, colour in runs:
        attempts = run["attempts"]
        rate.plot(range(len(attempts)), [max(a, 0.8) for a in attempts], label=name, color=colour, linewidth=1)
        connected, total = [], 0
        for n in run["connects"]:
            total += n
            connected.append(100.0 * total / scenario["trackers"])
        share.plot(range(len(connected)), connected, label=name, color=colour)
    rate.axhline(limit, color="#444", linestyle="--", linewidth=1, label="connect limit (%d/s)" % limit)
    for axis in (rate, share):
        axis.axvline(back, color="#888", linestyle=":", linewidth=1)
        axis.grid(alpha=0.3)
    rate.set_yscale("log")
    rate.set_ylabel("connect requests per second")
    rate.set_title("%d trackers, broker away %d s: peak %.0fx lower with jitter"
                   % (scenario["trackers"], back, report["peakRatio"]))
    rate.legend(loc="upper right")
    share.set_ylabel("fleet connected (%)")
    share.set_xlabel("seconds since the broker went away (dotted: it is back)")
    share.set_ylim(0, 105)
    end = max(run["allConnectedSeconds"] for _, run, _ in runs)
    if end > 0:
        share.set_xlim(0, end * 1.1)
    figure.tight_layout()
    figure.savefig(target, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
