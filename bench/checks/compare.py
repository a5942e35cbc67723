#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/checks/compare.py: two hale builds side by side, to measure a change.

Both run the same checks at the same time against one private nginx (so
both see the same machine), and the CPU each used is printed with their
ratio, then the peak resident memory of each during the measurement
(sampled every second). Run it twice with the builds swapped: a real change
shows both ways.

  bench/checks/compare.py OLD_HALE NEW_HALE [--kind http|tcp|mix] [--checks 10000] [--seconds 30]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Nginx, ProcStat  # noqa: E402
from run import Hale, say  # noqa: E402


def checks_yaml(kind, n, port, tag):
    lines = ["checks:"]
    for i in range(n):
        if kind == "http" or (kind == "mix" and i % 2 == 0):
            lines.append(f"  - {{name: c-{i}, type: http, url: 'http://127.0.0.1:{port}/{tag}{i}', every: 10s, timeout: 5s}}")
        else:
            lines.append(f"  - {{name: c-{i}, type: tcp, host: 127.0.0.1, port: {port}, every: 10s, timeout: 5s}}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="the first hale binary (the baseline)")
    ap.add_argument("b", help="the second hale binary")
    ap.add_argument("--kind", choices=["http", "tcp", "mix"], default="http")
    ap.add_argument("--checks", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=30)
    a = ap.parse_args()
    nginx = Nginx()
    daemons = []
    try:
        say(f"{a.checks} {a.kind} checks every 10 s in each build, for {a.seconds} s")
        for binary, tag in ((a.a, "a"), (a.b, "b")):
            daemons.append(Hale(binary, checks_yaml(a.kind, a.checks, nginx.port, tag)).start())
        time.sleep(12)  # one whole interval: every check has its phase
        stats = [ProcStat(d.proc.pid) for d in daemons]
        cpu0, t0 = [s.cpu_seconds() for s in stats], time.monotonic()
        while time.monotonic() - t0 < a.seconds:
            for s in stats:
                s.rss_bytes()
            time.sleep(1)
        dt = time.monotonic() - t0
        cpu = [(s.cpu_seconds() - c) * 60 / dt for s, c in zip(stats, cpu0)]
        print(f"{a.kind}: A {cpu[0]:.2f}  B {cpu[1]:.2f} CPU s/min  B/A {cpu[1] / cpu[0]:.3f}")
        rss = [s.peak_rss / 2**20 for s in stats]
        print(f"{a.kind}: peak RSS A {rss[0]:.1f}  B {rss[1]:.1f} MiB")
    finally:
        for d in daemons:
            d.stop()
        nginx.stop()


if __name__ == "__main__":
    main()
