#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/ingest: line protocol samples per second through the real daemon,
end to end: wrk posts one batch (--lines lines as Telegraf's cpu input
writes them, four fields each) to POST /api/v1/write over keep-alive
connections on 127.0.0.1, for --seconds. Every answer must be 204; the
daemon's own request counter must agree with wrk's count; a metric check
then runs on one of the written series, so the samples provably landed.

Prints the command, the machine and the figures for docs/benchmarks.md.
  bench/ingest/run.py [--seconds 10] [--lines 1000] [--connections 4] [--hale build/release/hale]
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import ROOT, ProcStat, free_port, machine  # noqa: E402

FIELDS = 4

LUA = """
local f = assert(io.open("{body}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "text/plain; charset=utf-8"
"""


def say(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def batch(lines, hosts=250, cpus=4):
    out = []
    t = time.time_ns()  # fresh: the metric check judges what was written
    for i in range(lines):
        h, k = (i // cpus) % hosts, i % cpus
        idle = 50.0 + ((i * 7919) % 5000) / 100.0
        busy = 100.0 - idle
        out.append(f"cpu,cpu=cpu{k},host=web{h:04d} usage_user={busy * 0.7:.4f},"
                   f"usage_system={busy * 0.25:.4f},usage_idle={idle:.4f},"
                   f"usage_iowait={busy * 0.05:.4f} {t}\n")
    return "".join(out)


def request(port, method, path, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--hale", default=str(ROOT / "build" / "release" / "hale"))
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_ingest: wrk is needed (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="hale-bench-ingest-"))
    port = free_port()
    body = batch(a.lines)
    (work / "body.lp").write_text(body)
    (work / "hale.yaml").write_text(f"""server:
  listen: 127.0.0.1:{port}
  data_dir: ./var
  log_level: warn
  max_body: 16MiB
checks:
  - {{name: cpu0, type: metric, series: cpu_usage_idle, match: '{{host="web0000", cpu="cpu0"}}',
     crit: "@0:10", every: 1h}}
""")
    proc = subprocess.Popen([a.hale, "serve", "-c", str(work / "hale.yaml")],
                            stdout=subprocess.DEVNULL, stderr=open(work / "hale.log", "w"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request(port, "GET", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    sys.exit("bench_ingest: hale did not start: "
                             + (work / "hale.log").read_text())
                time.sleep(0.05)
        token = subprocess.run([a.hale, "token", "create", "-c", str(work / "hale.yaml"), "bench",
                                "--role", "reporter"], capture_output=True, text=True,
                               check=True).stdout.strip()
        admin = subprocess.run([a.hale, "token", "create", "-c", str(work / "hale.yaml"), "ops",
                                "--role", "admin"], capture_output=True, text=True,
                               check=True).stdout.strip()
        (work / "write.lua").write_text(LUA.format(body=work / "body.lp", token=token))
        stat = ProcStat(proc.pid)
        cpu0 = stat.cpu_seconds()
        say(f"wrk: {a.connections} connections, {a.seconds} s, {len(body)} bytes a batch")
        out = subprocess.run(["wrk", "-t1", f"-c{a.connections}", f"-d{a.seconds}s", "--latency",
                              "-s", str(work / "write.lua"),
                              f"http://127.0.0.1:{port}/api/v1/write"],
                             capture_output=True, text=True, check=True).stdout
        cpu = stat.cpu_seconds() - cpu0
        rss = stat.rss_bytes()
        total = int(re.search(r"(\d+) requests in", out).group(1))
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
        metrics = request(port, "GET", "/metrics")
        counted = re.search(r'hale_http_requests_total\{route="/api/v1/write",code="204"\} (\d+)',
                            metrics)
        run = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/checks/cpu0/run", method="POST",
            headers={"Authorization": f"Bearer {admin}"}), timeout=30).read())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    samples = a.lines * FIELDS
    print(f"command: bench/ingest/run.py --seconds {a.seconds} --lines {a.lines} "
          f"--connections {a.connections}")
    print(f"machine: {machine()}")
    print(f"batch: {a.lines} lines, {samples} samples, {len(body)} bytes")
    print(f"wrk: {total} requests, {rate:.1f} requests/s, latency p50 {lat.get('50')} "
          f"p99 {lat.get('99')}, non-2xx: {non2xx.group(1) if non2xx else 0}")
    print(f"hale counted: {counted.group(1) if counted else 'none'} answers 204")
    print(f"end to end: {rate * samples:,.0f} samples/s; hale used {cpu / a.seconds:.2f} CPU s/s, "
          f"RSS {rss / 1048576:.1f} MiB")
    print(f"check cpu0 on a written series: {run['observation']['status']}: "
          f"{run['observation']['summary']}")
    shutil.rmtree(work, ignore_errors=True)
    ok = not non2xx and counted and int(counted.group(1)) >= total
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
