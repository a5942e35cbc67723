#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/heal: how fast hale starts healing, and how fast a dead process is
running again, hale beside Monit, as the runbooks issue asks.

  start  10,000 events with distinct fingerprints, one request each, routed
         to a runbook whose first step is /bin/true: the time from the
         event accepted to that step's process spawned. Read two ways:
         hale_run_start_delay_seconds (a histogram: bucket bounds) and the
         stored times (the incident's opening to the first step's start,
         per run, in milliseconds).
  respawn a watched process SIGKILLed 40 times: the time until it runs
         again. hale: a process check by pidfile every second (its pidfd
         watch runs the check at the death), its runbook starts the program
         again and verifies; 5 s between kills, or the check would be
         flapping, and hale heals no flapping check. Monit: `set daemon 1`, `check process ... with pidfile
         ... start program = ...`. Both use the same start program, which
         stamps the time it ran; hale first, then Monit, in one run.

Prints progress on stderr, then a Markdown section for docs/benchmarks.md.
  bench/heal/run.py [--only start,respawn] [--events 10000] [--trials 40]
                    [--hale build/release/hale]
"""
import argparse
import ctypes
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import ROOT, machine, percentile  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_checks", ROOT / "bench/checks/run.py")
bench_checks = importlib.util.module_from_spec(_spec)
sys.path.insert(0, str(ROOT / "bench/checks"))
_spec.loader.exec_module(bench_checks)
Hale, histogram = bench_checks.Hale, bench_checks.histogram
from monit import Monit  # noqa: E402


def say(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def unix_seconds(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


class Api:
    """hale's API with an admin token: events need `report`, runs `read`."""

    def __init__(self, hale):
        self.base = f"http://127.0.0.1:{hale.port}"
        r = subprocess.run([hale.binary, "token", "create", "-c", str(hale.dir / "hale.yaml"),
                            "bench-admin", "--role", "admin"], capture_output=True, text=True,
                           check=True)
        self.token = r.stdout.strip()

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def pages(self, path, key):
        """Every element of a paged list, following next_cursor."""
        out, cursor = [], None
        while True:
            sep = "&" if "?" in path else "?"
            page = self.call("GET", path + (f"{sep}cursor={cursor}" if cursor else ""))
            out += page[key]
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def histogram_sum(text, name):
    """Cumulative buckets {le: count} of a histogram, summed over its label sets."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = float(line.split('le="', 1)[1].split('"', 1)[0])
            out[le] = out.get(le, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def bucket_quantile(buckets, q):
    total = buckets.get(float("inf"), 0.0)
    for le in sorted(buckets):
        if total and buckets[le] >= q * total:
            return le
    return float("nan")


START_CONFIG = """routes:
  - { match: '{alertname="HealBench"}', runbook: bench-heal }
runbooks:
  - name: bench-heal
    # One target per event (the n label), so no run waits for another.
    guard: { max_runs: 10, per: 1h, key: n }
    steps:
      - { name: first, run: [/bin/true], timeout: 10s }
"""


def bench_start(binary, events):
    say(f"start: {events} events, one request each, to a runbook whose first step is /bin/true")
    hale = Hale(binary, START_CONFIG).start()
    try:
        api = Api(hale)
        before = histogram_sum(hale.metrics(), "hale_run_start_delay_seconds")
        t0 = time.monotonic()
        for i in range(events):
            api.call("POST", "/api/v1/events",
                     {"labels": {"alertname": "HealBench", "n": str(i)}, "severity": "critical"})
            if (i + 1) % 1000 == 0:
                say(f"start: {i + 1}/{events} events sent "
                    f"({(i + 1) / (time.monotonic() - t0):.0f}/s)")
        rate = events / (time.monotonic() - t0)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            after = histogram_sum(hale.metrics(), "hale_run_start_delay_seconds")
            done = after.get(float("inf"), 0.0) - before.get(float("inf"), 0.0)
            if done >= events:
                break
            time.sleep(0.5)
        delta = {le: after[le] - before.get(le, 0.0) for le in after}
        say(f"start: {int(done)} runs started; reading the stored times")
        opened = {i["id"]: unix_seconds(i["opened"])
                  for i in api.pages("/api/v1/incidents?limit=500", "incidents")}
        stored = []
        for n, run in enumerate(api.pages("/api/v1/runs?runbook=bench-heal&limit=500", "runs")):
            got = api.call("GET", f"/api/v1/runs/{run['id']}")
            steps = got.get("steps", got.get("run", {}).get("steps", []))
            if steps and steps[0].get("started") and run.get("incident") in opened:
                stored.append((unix_seconds(steps[0]["started"]) - opened[run["incident"]]) * 1000)
            if (n + 1) % 2000 == 0:
                say(f"start: {n + 1} runs read")
        return dict(events=events, rate=rate, runs=int(done),
                    h50=bucket_quantile(delta, 0.5), h99=bucket_quantile(delta, 0.99),
                    s50=percentile(stored, 50), s99=percentile(stored, 99),
                    smax=max(stored or [float("nan")]), n_stored=len(stored))
    finally:
        hale.stop()


def start_program(work):
    """What both supervisors run to start the victim: a daemon in a session
    of its own, its pid in the pidfile, the time it ran stamped."""
    script = work / "start-victim"
    # Like a daemon's parent, it returns once the daemon has detached (its
    # own session): hale ends whatever is left of a step's process group
    # when the step exits, and a child caught before its setsid() would go.
    script.write_text(f"""#!/bin/sh
setsid sleep 100000 </dev/null >/dev/null 2>&1 &
pid=$!
n=0
while [ "$(cut -d' ' -f6 /proc/$pid/stat 2>/dev/null)" != "$pid" ] && [ $n -lt 100000 ]; do
    n=$((n + 1))
done
echo $pid > {work}/victim.pid
date +%s.%N >> {work}/started
""")
    script.chmod(0o755)
    return script


def victim_pid(work):
    try:
        return int((work / "victim.pid").read_text())
    except (OSError, ValueError):
        return 0


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def stamps(work):
    path = work / "started"
    return [float(x) for x in path.read_text().split()] if path.exists() else []


def kill_and_time(work, settle, ready):
    """SIGKILLs the victim once ready() says the supervisor watches it again;
    returns the ms until the start program ran again, or None."""
    deadline = time.monotonic() + 30
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(settle + random.uniform(0, 1))  # any phase of Monit's 1 s cycle
    pid, n = victim_pid(work), len(stamps(work))
    killed = time.time()
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        return None  # the last start did not leave it running
    try:
        os.waitpid(pid, 0)  # ours when its parent exited (subreaper): reaped as init would
    except ChildProcessError:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        s = stamps(work)
        if len(s) > n and alive(victim_pid(work)):
            return (s[n] - killed) * 1000.0
        time.sleep(0.001)
    return None


def become_subreaper():
    """The victims' parent exits at once (they are daemons): they would be
    reparented to init, which here reaps late and leaves them zombies for a
    second or two, which both supervisors see as still there. Adopted by
    this process instead, each is reaped at its death."""
    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def bench_respawn(binary, trials):
    become_subreaper()
    work = Path(tempfile.mkdtemp(prefix="hale-bench-heal-"))
    prog = start_program(work)
    subprocess.run([str(prog)], check=True)
    say(f"respawn: hale, process check by pidfile + runbook (start, verify), {trials} SIGKILLs")
    hale = Hale(binary, f"""checks:
  - {{ name: victim, type: process, pidfile: {work}/victim.pid, every: 1s, runbook: respawn }}
runbooks:
  - name: respawn
    relapse: {{ quarantine_above: 100% }}   # every trial is a relapse: never quarantine
    steps:
      - {{ name: start, run: [{prog}], timeout: 10s }}
      - {{ name: prove, verify: victim, within: 10s }}
""").start()
    api = Api(hale)
    api.call("POST", "/api/v1/checks/victim/run")  # it watches the victim from now on
    hale_ms = []
    healed = lambda: sum(r["outcome"] == "healed" for r in api.pages(
        "/api/v1/runs?runbook=respawn&limit=500", "runs"))
    try:
        for i in range(trials):
            want = i
            # 5 s of ok results between kills: a process killed every second
            # or two is flapping, and hale does not heal a flapping check.
            ms = kill_and_time(work, 5.0, lambda: healed() >= want)
            hale_ms.append(ms)
            say(f"respawn: hale trial {i + 1}/{trials}: {ms:.1f} ms" if ms is not None
                else f"respawn: hale trial {i + 1}/{trials}: not running again within 10 s")
        # The last run ends before hale stops, so no run is cut short.
        deadline = time.monotonic() + 15
        while healed() < trials and time.monotonic() < deadline:
            time.sleep(0.05)
        outcomes = {}
        for r in api.pages("/api/v1/runs?runbook=respawn&limit=500", "runs"):
            outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    finally:
        hale.stop()

    say(f"respawn: Monit (set daemon 1), the same start program, {trials} SIGKILLs")
    monit = Monit(f'check process victim with pidfile {work}/victim.pid\n'
                  f'    start program = "{prog}"\n', 1).start()
    monit_ms = []
    try:
        for i in range(trials):
            # Monit must have seen the victim alive before the next kill.
            ms = kill_and_time(work, 2.5, lambda: True)
            monit_ms.append(ms)
            say(f"respawn: Monit trial {i + 1}/{trials}: {ms:.0f} ms" if ms is not None
                else f"respawn: Monit trial {i + 1}/{trials}: not running again within 10 s")
    finally:
        monit.stop()
        pid = victim_pid(work)
        if alive(pid):
            subprocess.run(["kill", "-KILL", str(pid)])
    return hale_ms, monit_ms, outcomes


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="start,respawn", help="start, respawn or both")
    ap.add_argument("--events", type=int, default=10000, help="events of the start benchmark")
    ap.add_argument("--trials", type=int, default=40, help="SIGKILLs of the respawn benchmark")
    ap.add_argument("--hale", default=str(ROOT / "build" / "release" / "hale"))
    a = ap.parse_args()
    only = set(a.only.split(","))
    out = [f"### Heal (`bench/heal/run.py --events {a.events} --trials {a.trials}`)", "",
           f"Machine: {machine()}.", ""]
    if "start" in only:
        s = bench_start(a.hale, a.events)
        out += ["| event accepted to first step spawned | events | p50 | p99 | max |",
                "|---|---|---|---|---|",
                f"| hale_run_start_delay_seconds (bucket bounds) | {s['runs']:,} | "
                f"≤ {s['h50'] * 1000:g} ms | ≤ {s['h99'] * 1000:g} ms | |",
                f"| stored times (incident opened to first step started, ms resolution) | "
                f"{s['n_stored']:,} | {s['s50']:.0f} ms | {s['s99']:.0f} ms | {s['smax']:.0f} ms |",
                "", f"Events sent one request at a time, {s['rate']:.0f}/s.", ""]
    if "respawn" in only:
        h, m, outcomes = bench_respawn(a.hale, a.trials)
        hv, mv = [x for x in h if x is not None], [x for x in m if x is not None]
        out += [f"| SIGKILL to running again ({a.trials} trials) | p50 | p99 | min | max | missed |",
                "|---|---|---|---|---|---|",
                f"| hale (pidfd watch, runbook start + verify) | {percentile(hv, 50):.1f} ms | "
                f"{percentile(hv, 99):.1f} ms | {min(hv or [float('nan')]):.1f} ms | "
                f"{max(hv or [float('nan')]):.1f} ms | {len(h) - len(hv)} |",
                f"| Monit (set daemon 1, start program) | {percentile(mv, 50):.0f} ms | "
                f"{percentile(mv, 99):.0f} ms | {min(mv or [float('nan')]):.0f} ms | "
                f"{max(mv or [float('nan')]):.0f} ms | {len(m) - len(mv)} |",
                "", f"Median, Monit / hale: **{percentile(mv, 50) / percentile(hv, 50):.0f}x**. "
                f"hale's runs: " + ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items()))
                + ".", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
