#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/ingest/events.py: events per second through POST /api/v1/events,
durable, deduplicated and routed, against the real Alertmanager's POST
/api/v2/alerts with the same load, in one run on one machine.

Both daemons run for the whole benchmark, each on 127.0.0.1: hale (release
build, a services graph, routes, a reporter token) and Alertmanager (memory
only, no cluster, one route to a receiver with no integrations). wrk, one
thread and --connections keep-alive connections, drives one of them at a
time for --seconds: the two would otherwise fight over the same two cores,
and the one that uses more threads would win. The windows alternate,
hale first in odd rounds and Alertmanager first in even ones, so the other
work on the machine falls on both alike; each window is repeated --rounds
times, and the spread is printed.

The events: --distinct label sets, as Prometheus alerts carry them (alertname,
instance, job, service, severity, cluster, team), with a summary, a
description and a runbook URL; cycled in order, so the first pass opens
incidents (new, join, symptom, root cause) and every later event is a
duplicate, as when Prometheus sends its firing alerts again each evaluation.
Requests carry one event (hale: an object; Alertmanager: an array of one),
or a batch (an array) of each --batches size.

Afterwards: every answer must be 2xx, and each daemon's own count must
cover wrk's (hale's 200s; the alerts Alertmanager received). hale is
stopped and its database read: the events table (its rows, and the
repeats counted on them: an event that repeats the last one of its
fingerprint on its open incident is counted, not stored again) must cover
every event of the requests hale answered 200, and no more than those
plus the requests in flight when wrk stopped (wrk closes its connections without waiting for
them; hale saves them all the same); the incidents must be few, at most
one per service.

Prints progress, then the figures for docs/benchmarks.md.
  bench/ingest/events.py [--seconds 10] [--rounds 3] [--connections 8]
                         [--distinct 1000] [--batches 1,100,1000]
                         [--hale build/release/hale] [--no-alertmanager]
"""
import argparse
import json
import math
import re
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import ROOT, ProcStat, free_port, machine  # noqa: E402

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"

# db and queue fail on their own; api needs both; the web tier needs api;
# batch and mail stand alone. 20 services in all.
SERVICES = ["db", "queue", "api", "batch", "mail"] + [f"web-{k:02d}" for k in range(1, 16)]
DEPENDS = {"api": ["db", "queue"], **{s: ["api"] for s in SERVICES if s.startswith("web-")}}
ALERTS = [("HighLatency", "warning"), ("HighErrorRate", "critical"), ("InstanceDown", "critical"),
          ("DiskWillFillIn4Hours", "warning"), ("CPUThrottlingHigh", "info")]

# Built once per thread, in init(): the requests are bytes ready to send, so
# wrk spends its time on the connections, not on formatting.
LUA = """
local bodies = {{}}
for line in io.lines("{bodies}") do bodies[#bodies + 1] = line end
local reqs = {{}}
local n = 0
function init(args)
  local headers = {{["Content-Type"] = "application/json"{auth}}}
  for k, body in ipairs(bodies) do
    reqs[k] = wrk.format("POST", "{path}", headers, body)
  end
end
function request()
  n = n % #reqs + 1
  return reqs[n]
end
"""


def say(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def events(distinct):
    """distinct label sets, each once, the services interleaved (event k is
    about service k % 20) so a batch touches every service."""
    out = []
    for k in range(distinct):
        service = SERVICES[k % len(SERVICES)]
        alertname, severity = ALERTS[(k // len(SERVICES)) % len(ALERTS)]
        host = k // (len(SERVICES) * len(ALERTS))
        instance = f"{service}-{host:03d}.prod.example.com:9100"
        labels = {"alertname": alertname, "instance": instance, "job": "node",
                  "service": service, "severity": severity, "cluster": "eu-west-1",
                  "team": "web" if service.startswith("web-") else service}
        annotations = {
            "summary": f"{alertname} on {instance}",
            "description": f"{alertname} has been firing on {instance} of {service} for more "
                           f"than 5 minutes (cluster eu-west-1).",
            "runbook_url": f"https://runbooks.example.com/{service}/{alertname.lower()}"}
        out.append({"labels": labels, "annotations": annotations})
    return out


def bodies(evs, size, single_object):
    """The request bodies of batches of size events, cycling over evs in
    order: as many as it takes to come back to the first event."""
    count = len(evs) // math.gcd(len(evs), size)
    out = []
    for b in range(count):
        batch = [evs[(b * size + i) % len(evs)] for i in range(size)]
        out.append(json.dumps(batch[0] if single_object else batch, separators=(",", ":")))
    return out


def get(url, token=None, timeout=30):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read().decode()


def wait_up(url, proc, log, what):
    deadline = time.monotonic() + 60
    while True:
        try:
            get(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit(f"bench_events: {what} did not start: " + log.read_text())
            time.sleep(0.05)


def counter(metrics, name, labels):
    m = re.search(re.escape(name + labels) + r" (\d+(?:\.\d+)?(?:e\+\d+)?)", metrics)
    return int(float(m.group(1))) if m else 0


class Hale:
    path = "/api/v1/events"

    def __init__(self, binary, work):
        self.binary = binary
        self.dir = work / "hale"
        self.dir.mkdir()
        self.port = free_port()
        self.conf = self.dir / "hale.yaml"
        services = "\n".join(
            f"  - {{name: {s}" + (f", depends_on: [{', '.join(DEPENDS[s])}]" if s in DEPENDS
                                  else "") + "}" for s in SERVICES)
        self.conf.write_text(f"""server:
  listen: 127.0.0.1:{self.port}
  data_dir: ./var
  log_level: warn
  max_body: 16MiB
teams:
  - {{name: web}}
  - {{name: data}}
  - {{name: platform}}
services:
{services}
routes:
  - {{match: '{{severity="critical"}}', priority: P1, continue: true}}
  - {{match: '{{service=~"web-.*"}}', team: web}}
  - {{match: '{{service=~"db|queue"}}', team: data}}
  - {{team: platform}}
""")
        self.log = self.dir / "hale.log"
        self.proc = subprocess.Popen([binary, "serve", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        wait_up(f"http://127.0.0.1:{self.port}/healthz", self.proc, self.log, "hale")
        self.token = subprocess.run([binary, "token", "create", "-c", str(self.conf), "bench",
                                     "--role", "reporter"], capture_output=True, text=True,
                                    check=True).stdout.strip()
        self.auth = f', ["Authorization"] = "Bearer {self.token}"'
        self.answered = 0  # 200s counted by hale, cumulative

    def name(self):
        return "hale"

    def ok_count(self):
        return counter(get(f"http://127.0.0.1:{self.port}/metrics"), "hale_http_requests_total",
                       '{route="/api/v1/events",code="200"}')

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(timeout=60) != 0:
            sys.exit("bench_events: hale did not stop cleanly: " + self.log.read_text())

    def database(self):
        db = sqlite3.connect(f"file:{self.dir / 'var' / 'hale.db'}?mode=ro", uri=True)
        try:
            rows, repeats = db.execute("SELECT COUNT(*), COALESCE(SUM(repeats), 0) FROM events"
                                       ).fetchone()
        except sqlite3.OperationalError:  # a hale from before repeats (schema 9), to compare
            rows, repeats = db.execute("SELECT COUNT(*), 0 FROM events").fetchone()
        verdicts = dict(db.execute("SELECT verdict, COUNT(*) FROM events GROUP BY verdict"))
        # A repeat is a duplicate, counted on the row of the event it repeats.
        verdicts["duplicate"] = verdicts.get("duplicate", 0) + repeats
        rows = (rows, repeats)
        incidents = db.execute("SELECT COUNT(*), COUNT(DISTINCT service) FROM incidents").fetchone()
        held = db.execute("SELECT COUNT(DISTINCT fingerprint) FROM events").fetchone()[0]
        db.close()
        size = sum(f.stat().st_size for f in (self.dir / "var").glob("hale.db*"))
        return rows, verdicts, incidents, held, size


class Alertmanager:
    path = "/api/v2/alerts"
    auth = ""

    def __init__(self, binary, work):
        self.dir = work / "alertmanager"
        self.dir.mkdir()
        self.port = free_port()
        conf = self.dir / "alertmanager.yml"
        conf.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
        self.log = self.dir / "alertmanager.log"
        self.proc = subprocess.Popen(
            [binary, f"--config.file={conf}", f"--storage.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        wait_up(f"http://127.0.0.1:{self.port}/-/ready", self.proc, self.log, "Alertmanager")

    def name(self):
        return "Alertmanager"

    def ok_count(self):
        """Alerts received (not requests): Alertmanager counts no requests by route and code."""
        return counter(get(f"http://127.0.0.1:{self.port}/metrics"),
                       "alertmanager_alerts_received_total", '{status="firing",version="v2"}')

    def held(self):
        """The alerts it holds: one per fingerprint, as hale's incidents hold them."""
        return len(json.loads(get(f"http://127.0.0.1:{self.port}/api/v2/alerts")))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


class Peak:
    """Samples a process's RSS every 50 ms until stopped; keeps the peak."""

    def __init__(self, pid):
        self.stat = ProcStat(pid)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.wait(0.05):
            self.stat.rss_bytes()

    def stop(self):
        self.done.set()
        self.thread.join()
        self.stat.rss_bytes()
        return self.stat.peak_rss


def settled(daemon):
    """The daemon's count once the requests in flight when wrk stopped are done."""
    last, deadline = daemon.ok_count(), time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = daemon.ok_count()
        if now == last:
            return now
        last = now
    sys.exit(f"bench_events: {daemon.name()} still answering 30 s after the load stopped")


def window(daemon, size, work, a):
    """One wrk run against daemon with batches of size: its figures."""
    script = work / f"{daemon.name()}-{size}.lua"
    if not script.exists():
        lines = work / f"{daemon.name()}-{size}.bodies"
        lines.write_text("\n".join(bodies(a.evs, size, size == 1 and isinstance(daemon, Hale)))
                         + "\n")
        script.write_text(LUA.format(bodies=lines, path=daemon.path, auth=daemon.auth))
    stat = ProcStat(daemon.proc.pid)
    before = daemon.ok_count()
    cpu0 = stat.cpu_seconds()
    peak = Peak(daemon.proc.pid)
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", "-t1", f"-c{a.connections}", f"-d{a.seconds}s", "--latency",
                          "-s", str(script), f"http://127.0.0.1:{daemon.port}{daemon.path}"],
                         capture_output=True, text=True, check=True).stdout
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss = peak.stop()
    cpu = stat.cpu_seconds() - cpu0
    after = settled(daemon)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    w = {"daemon": daemon.name(), "size": size, "requests": requests,
         "rate": requests / a.seconds, "events_rate": requests * size / a.seconds,
         "p50": lat.get("50"), "p99": lat.get("99"),
         "non2xx": int(non2xx.group(1)) if non2xx else 0,
         "errors": errors.group(1) if errors else "",
         "cpu": cpu / a.seconds, "rss": rss,
         "wrk_cpu": (wrk1.ru_utime + wrk1.ru_stime - wrk0.ru_utime - wrk0.ru_stime) / a.seconds,
         "counted": after - before}
    say(f"{w['daemon']:12} batch {size:5}: {w['rate']:9.0f} requests/s {w['events_rate']:10.0f} "
        f"events/s p50 {w['p50']} p99 {w['p99']}, {w['cpu']:.2f} CPU s/s, "
        f"RSS {rss / 1048576:.0f} MiB, wrk {w['wrk_cpu']:.2f} CPU s/s")
    return w


def spread(values):
    return statistics.median(values), min(values), max(values)


def fmt_ms(s):
    """wrk's latency ("1.23ms", "456.00us", "1.02s") in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", s or "")
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def report(a, windows, hale_check, am_active):
    print(f"command: bench/ingest/events.py --seconds {a.seconds} --rounds {a.rounds} "
          f"--connections {a.connections} --distinct {a.distinct} "
          f"--batches {','.join(map(str, a.sizes))}"
          + (" --no-alertmanager" if a.no_alertmanager else ""))
    print(f"machine: {machine()}")
    one = len(json.dumps(a.evs[0], separators=(",", ":")))
    print(f"events: {a.distinct:,} distinct over {len(SERVICES)} services, "
          f"{len(a.evs[0]['labels'])} labels and {len(a.evs[0]['annotations'])} annotations "
          f"each, about {one} bytes of JSON an event")
    print()
    print("| daemon | batch | round | requests/s | events/s | latency p50 | p99 | "
          "CPU s/s | CPU µs an event | RSS peak | wrk CPU s/s | answers |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for w in windows:
        answers = f"{w['requests']:,}" + (f", {w['non2xx']} not 2xx" if w["non2xx"] else ", all 2xx")
        if w["errors"]:
            answers += f", socket errors: {w['errors']}"
        print(f"| {w['daemon']} | {w['size']:,} | {w['round']} | {w['rate']:,.0f} | "
              f"{w['events_rate']:,.0f} | {w['p50']} | {w['p99']} | {w['cpu']:.2f} | "
              f"{w['cpu'] / w['events_rate'] * 1e6:.1f} | "
              f"{w['rss'] / 1048576:.1f} MiB | {w['wrk_cpu']:.2f} | {answers} |")
    print()
    print("| batch | hale events/s (median, min-max) | Alertmanager events/s | "
          "hale / Alertmanager (median, by round) | hale p99 | Alertmanager p99 |")
    print("|---|---|---|---|---|---|")
    for size in a.sizes:
        h = [w for w in windows if w["daemon"] == "hale" and w["size"] == size]
        m = [w for w in windows if w["daemon"] == "Alertmanager" and w["size"] == size]
        hm, hlo, hhi = spread([w["events_rate"] for w in h])
        line = f"| {size:,} | {hm:,.0f} ({hlo:,.0f}-{hhi:,.0f}) | "
        if m:
            mm, mlo, mhi = spread([w["events_rate"] for w in m])
            ratios = [x["events_rate"] / y["events_rate"] for x, y in zip(h, m)]
            line += (f"{mm:,.0f} ({mlo:,.0f}-{mhi:,.0f}) | **{statistics.median(ratios):.2f}** "
                     f"({', '.join(f'{r:.2f}' for r in ratios)}) | ")
            line += (f"{max(fmt_ms(w['p99']) for w in h):.2f} ms (worst) | "
                     f"{max(fmt_ms(w['p99']) for w in m):.2f} ms (worst) |")
        else:
            line += f"| | {max(fmt_ms(w['p99']) for w in h):.2f} ms (worst) | |"
        print(line)
    print()
    rss = max(w["rss"] for w in windows if w["daemon"] == "hale")
    print(f"RSS peak: hale {rss / 1048576:.1f} MiB", end="")
    if not a.no_alertmanager:
        am = max(w["rss"] for w in windows if w["daemon"] == "Alertmanager")
        print(f", Alertmanager {am / 1048576:.1f} MiB; Alertmanager holds {am_active} "
              f"alerts", end="")
    print()
    (stored, repeats), verdicts, incidents, held, size, acked = hale_check
    rows = stored + repeats
    print(f"hale: {acked:,} events in requests answered 200; the events table holds {rows:,} "
          f"({stored:,} rows and {repeats:,} repeats counted on them; the {rows - acked:,} more "
          f"were in flight when wrk stopped and closed its connections); "
          f"{held:,} distinct fingerprints; {incidents[0]} incidents over {incidents[1]} services; "
          "verdicts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(verdicts.items())))
    print(f"hale's database after the run: {size / 1048576:,.0f} MiB, {size / max(rows, 1):.0f} "
          f"bytes an event received, {size / max(stored, 1):.0f} a row")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--distinct", type=int, default=1000)
    ap.add_argument("--batches", default="1,100,1000")
    ap.add_argument("--hale", default=str(ROOT / "build" / "release" / "hale"))
    ap.add_argument("--alertmanager", default=ALERTMANAGER)
    ap.add_argument("--no-alertmanager", action="store_true")
    a = ap.parse_args()
    a.sizes = [int(s) for s in a.batches.split(",")]
    if not shutil.which("wrk"):
        sys.exit("bench_events: wrk is needed (apt-get install wrk)")
    if not a.no_alertmanager and not Path(a.alertmanager).exists():
        sys.exit(f"bench_events: {a.alertmanager} is missing (apt-get install "
                 "prometheus-alertmanager), or run with --no-alertmanager")
    a.evs = events(a.distinct)

    work = Path(tempfile.mkdtemp(prefix="hale-bench-events-"))
    hale = Hale(a.hale, work)
    peers = [hale]
    try:
        if not a.no_alertmanager:
            peers.append(Alertmanager(a.alertmanager, work))
        say(f"{a.distinct} distinct events over {len(SERVICES)} services; wrk: 1 thread, "
            f"{a.connections} connections, {a.seconds} s a window")
        windows, acked, cut = [], 0, 0
        for r in range(1, a.rounds + 1):
            for size in a.sizes:
                for d in (peers if r % 2 else peers[::-1]):
                    time.sleep(1)  # what the last window left (a commit, a GC) is done
                    w = window(d, size, work, a)
                    w["round"] = r
                    windows.append(w)
                    if d is hale:
                        acked += w["counted"] * size
                        cut += a.connections * size  # at most, in flight when wrk stopped
        am_active = peers[1].held() if len(peers) > 1 else 0
        bad = [w for w in windows if w["non2xx"] or
               (w["daemon"] == "hale" and w["counted"] < w["requests"]) or
               (w["daemon"] == "Alertmanager" and w["counted"] < w["requests"] * w["size"])]
    finally:
        for d in peers:
            d.stop()
    (stored, repeats), verdicts, incidents, held, size = hale.database()
    report(a, windows, ((stored, repeats), verdicts, incidents, held, size, acked), am_active)
    rows = stored + repeats
    ok = not bad and acked <= rows <= acked + cut and incidents[0] <= len(SERVICES)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"FAILED: {len(bad)} windows with refused or uncounted answers; {rows} events "
            f"stored for {acked} acknowledged; {incidents[0]} incidents (files in {work})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
