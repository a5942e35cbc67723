#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/checks: hale's check scheduler against Monit's, side by side in one
run on one machine, as the issue about checks asks.

  http   hale: 5,000 http + 5,000 tcp checks every 10 s; Monit: 5,000
         `check host ... protocol http` every 5 s (the same request rate),
         both at once against one private nginx, so both see the same
         machine; measured in three windows. CPU seconds per minute, peak RSS,
         hale's schedule lateness (p99 from its own histogram) and the length
         of Monit's passes (from nginx's access log).
  command hale: 5,000 command checks (/bin/true) every 30 s under its
         child limit; Monit: 5,000 `check program` (/bin/true), one pass.
  death  a watched process SIGKILLed 20 times: time until hale records the
         check critical (pidfd watch) and until Monit runs its exec action
         (`set daemon 1`).

Prints progress, then a Markdown section for docs/benchmarks.md.
  bench/checks/run.py [--seconds 60] [--only http,command,death] [--hale build/release/hale]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import ROOT, Nginx, ProcStat, free_port, machine, passes, percentile  # noqa: E402
from monit import Monit, http_checks, process_check, program_checks  # noqa: E402


def say(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class Hale:
    def __init__(self, binary, checks_yaml, extra_server=""):
        self.dir = Path(tempfile.mkdtemp(prefix="hale-bench-"))
        self.port = free_port()
        (self.dir / "hale.yaml").write_text(
            f"server:\n  listen: 127.0.0.1:{self.port}\n  data_dir: ./var\n"
            f"  log_level: warn\n{extra_server}{checks_yaml}")
        self.binary = binary

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve", "-c", str(self.dir / "hale.yaml")],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.dir / "hale.log", "w"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("hale did not start: " + (self.dir / "hale.log").read_text())

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            return r.read().decode()

    def api(self, path, token, post=False):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                     headers={"Authorization": f"Bearer {token}"},
                                     data=b"" if post else None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def token(self):
        r = subprocess.run([self.binary, "token", "create", "-c", str(self.dir / "hale.yaml"),
                            "bench", "--role", "responder"], capture_output=True, text=True)
        return r.stdout.strip()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def histogram(text, name):
    """Cumulative buckets {le: count} of an unlabelled histogram."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def quantile_bound(before, after, q):
    """The smallest bucket bound under which at least q of the runs fell."""
    delta = {le: after[le] - before.get(le, 0.0) for le in after}
    total = delta.get(float("inf"), 0.0)
    if total <= 0:
        return float("nan"), 0
    for le in sorted(delta):
        if delta[le] >= q * total:
            return le, int(total)
    return float("inf"), int(total)


def bench_http(binary, seconds, windows=3):
    """hale and Monit at the same time against one nginx, so both see the
    same machine (these machines are noisy: CPU figures of runs one after
    the other differ by a quarter). Measured over `windows` equal windows,
    each giving a ratio, so the spread shows too."""
    nginx = Nginx()
    hale = monit = None
    try:
        say(f"http: hale with 10,000 checks (5,000 http + 5,000 tcp, every 10 s) and Monit with "
            f"5,000 http host checks every 5 s, side by side, for {seconds} s")
        checks = ["checks:"]
        for i in range(5000):
            checks.append(f"  - {{name: http-{i}, type: http, url: 'http://127.0.0.1:{nginx.port}/h{i}', every: 10s, timeout: 5s}}")
            checks.append(f"  - {{name: tcp-{i}, type: tcp, host: 127.0.0.1, port: {nginx.port}, every: 10s, timeout: 5s}}")
        hale = Hale(binary, "\n".join(checks) + "\n").start()
        monit = Monit(http_checks(nginx.port, 5000, prefix="/m"), 5).start()
        time.sleep(12)  # one whole interval: every check has its phase
        before = histogram(hale.metrics(), "hale_check_lateness_seconds")
        nginx.reset_log()
        hs, ms = ProcStat(hale.proc.pid), ProcStat(monit.proc.pid)
        rows, t_end = [], time.monotonic() + seconds
        for w in range(windows):
            h0, m0, t0 = hs.cpu_seconds(), ms.cpu_seconds(), time.monotonic()
            while time.monotonic() < t0 + seconds / windows:
                hs.rss_bytes()
                ms.rss_bytes()
                time.sleep(0.5)
            dt = time.monotonic() - t0
            rows.append(((hs.cpu_seconds() - h0) * 60 / dt, (ms.cpu_seconds() - m0) * 60 / dt))
            say(f"http: window {w + 1}/{windows}: hale {rows[-1][0]:.2f}, Monit {rows[-1][1]:.2f} CPU s/min")
        elapsed = seconds + max(0.0, time.monotonic() - t_end)
        after = histogram(hale.metrics(), "hale_check_lateness_seconds")
        hale_times, monit_times = nginx.request_times("/h"), nginx.request_times("/m")
        p99, runs = quantile_bound(before, after, 0.99)
        cpu = lambda k: sum(r[k] for r in rows) / len(rows)
        # Every hale run is one check (the histogram counts them all, tcp
        # included); each Monit check is one request in nginx's log.
        hale_r = dict(cpu=cpu(0), rss=hs.peak_rss, p99=p99, runs=runs, rate=runs / elapsed,
                      http_rate=len(hale_times) / elapsed)
        monit_r = dict(cpu=cpu(1), rss=ms.peak_rss, pass_p50=percentile(passes(monit_times), 50),
                       rate=len(monit_times) / elapsed, http_rate=len(monit_times) / elapsed)
        ratios = [(h / hale_r["rate"]) / (m / monit_r["rate"]) for h, m in rows]
        return hale_r, monit_r, ratios
    finally:
        if hale:
            hale.stop()
        if monit:
            monit.stop()
        nginx.stop()


def bench_command(binary, seconds):
    say(f"command: hale with 5,000 command checks (/bin/true) every 30 s for {seconds} s")
    checks = ["checks:"] + [f"  - {{name: c{i}, type: command, run: [/bin/true], every: 30s, timeout: 10s}}"
                            for i in range(5000)]
    hale = Hale(binary, "\n".join(checks) + "\n").start()
    time.sleep(31)
    before = histogram(hale.metrics(), "hale_check_lateness_seconds")
    peak_children, t0 = 0, time.monotonic()
    st = ProcStat(hale.proc.pid)
    cpu0 = st.cpu_seconds()
    while time.monotonic() - t0 < seconds:
        kids = subprocess.run(["pgrep", "-c", "-P", str(hale.proc.pid)], capture_output=True,
                              text=True).stdout.strip()
        peak_children = max(peak_children, int(kids or 0))
        st.rss_bytes()
        time.sleep(0.05)
    cpu = (st.cpu_seconds() - cpu0) * 60.0 / (time.monotonic() - t0)
    after = histogram(hale.metrics(), "hale_check_lateness_seconds")
    hale.stop()
    p99, runs = quantile_bound(before, after, 0.99)
    hale_r = dict(p99=p99, runs=runs, peak_children=peak_children, cpu=cpu, rss=st.peak_rss)

    say("command: Monit with 5,000 `check program` (/bin/true), one pass (set daemon 5)")
    marks = Path(tempfile.mkdtemp(prefix="hale-bench-marks-")) / "marks"
    monit = Monit(program_checks(5000, marks), 5).start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        stamps = marks.read_text().split() if marks.exists() else []
        if len(stamps) >= 2:
            break
        time.sleep(0.5)
    monit.stop()
    stamps = [float(x) for x in stamps]
    monit_r = dict(pass_s=stamps[1] - stamps[0] if len(stamps) >= 2 else float("nan"))
    return hale_r, monit_r


def unix_seconds(rfc3339):
    """"2026-11-21T14:59:25.123Z" as Unix seconds; 0 for None."""
    if not rfc3339:
        return 0.0
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def start_victim(pidfile):
    p = subprocess.Popen(["sleep", "100000"])
    pidfile.write_text(f"{p.pid}\n")
    return p


def bench_death(binary, trials=20):
    work = Path(tempfile.mkdtemp(prefix="hale-bench-death-"))
    pidfile = work / "victim.pid"
    victim = start_victim(pidfile)
    say(f"death: hale watching a process by pidfile, {trials} SIGKILLs")
    hale = Hale(binary, f"checks:\n  - {{name: victim, type: process, pidfile: {pidfile}, every: 1m}}\n").start()
    token = hale.token()
    hale.api("/api/v1/checks/victim/run", token, post=True)
    hale_ms = []
    for _ in range(trials):
        time.sleep(1.0)
        killed = time.time()
        victim.kill()
        victim.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            c = hale.api("/api/v1/checks/victim", token)
            seen = unix_seconds(c.get("last_run"))
            if c.get("status") == "critical" and seen >= killed - 0.001:
                hale_ms.append((seen - killed) * 1000.0)
                break
            time.sleep(0.002)
        victim = start_victim(pidfile)
        # A run finds the new process and watches it (the interval is a minute).
        hale.api("/api/v1/checks/victim/run", token, post=True)
    hale.stop()

    say(f"death: Monit (set daemon 1) watching the same way, {trials} SIGKILLs")
    detected = work / "detected"
    monit = Monit(process_check(pidfile, detected), 1).start()
    monit_ms = []
    for i in range(trials):
        time.sleep(2.5)  # Monit must have seen the process alive again
        killed = time.time()
        victim.kill()
        victim.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            stamps = detected.read_text().split() if detected.exists() else []
            if len(stamps) > i:
                monit_ms.append((float(stamps[i]) - killed) * 1000.0)
                break
            time.sleep(0.002)
        victim = start_victim(pidfile)
    monit.stop()
    victim.kill()
    return hale_ms, monit_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--only", default="http,command,death")
    ap.add_argument("--hale", default=str(ROOT / "build" / "release" / "hale"))
    a = ap.parse_args()
    only = set(a.only.split(","))
    out = [f"### Checks (`bench/checks/run.py --seconds {a.seconds}`)", "",
           f"Machine: {machine()}. Monit 5.33 and hale in the same run against the same private nginx: at the same time for http/tcp, one after the other for the rest.", ""]
    if "http" in only:
        h, m, ratios = bench_http(a.hale, a.seconds)
        per = lambda r: r["cpu"] / max(r["rate"], 1) * 1000
        out += ["| http/tcp checks | checks | interval | checks/s | of which http/s | CPU s/min | CPU s/min per 1,000 checks/s | peak RSS | schedule |",
                "|---|---|---|---|---|---|---|---|---|",
                f"| hale | 10,000 (5,000 http + 5,000 tcp) | 10 s | {h['rate']:.0f} | {h['http_rate']:.0f} | {h['cpu']:.2f} | {per(h):.2f} | {h['rss'] / 2**20:.1f} MiB | lateness p99 ≤ {h['p99'] * 1000:.0f} ms over {h['runs']} runs |",
                f"| Monit | 5,000 http | 5 s | {m['rate']:.0f} | {m['http_rate']:.0f} | {m['cpu']:.2f} | {per(m):.2f} | {m['rss'] / 2**20:.1f} MiB | a pass takes {m['pass_p50']:.2f} s (median) |",
                "", f"CPU per check, hale / Monit: **{per(h) / per(m):.2f}** (by window: "
                + ", ".join(f"{r:.2f}" for r in ratios) + ").", ""]
    if "command" in only:
        h, m = bench_command(a.hale, a.seconds)
        out += ["| command checks (/bin/true) | checks | interval | schedule | children at once (peak) | CPU s/min | peak RSS |",
                "|---|---|---|---|---|---|---|",
                f"| hale | 5,000 | 30 s | lateness p99 ≤ {h['p99'] * 1000:.0f} ms over {h['runs']} runs | {h['peak_children']} (limit 64) | {h['cpu']:.2f} | {h['rss'] / 2**20:.1f} MiB |",
                f"| Monit | 5,000 | 5 s | one pass takes {m['pass_s']:.1f} s | 1 | | |", ""]
    if "death" in only:
        h, m = bench_death(a.hale)
        out += ["| process death to detection (SIGKILL, 20 trials) | p50 | p99 | max |",
                "|---|---|---|---|",
                f"| hale (pidfd watch) | {percentile(h, 50):.1f} ms | {percentile(h, 99):.1f} ms | {max(h or [float('nan')]):.1f} ms |",
                f"| Monit (set daemon 1) | {percentile(m, 50):.0f} ms | {percentile(m, 99):.0f} ms | {max(m or [float('nan')]):.0f} ms |",
                "", f"Median, Monit / hale: **{percentile(m, 50) / percentile(h, 50):.0f}x**.", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
