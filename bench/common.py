# SPDX-License-Identifier: MIT
"""Helpers shared by the benchmark programs: a private nginx, process
sampling from /proc, percentiles, and the machine description that goes
into docs/benchmarks.md with every figure."""
import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def machine():
    cpu = "unknown cpu"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = int(open("/proc/meminfo").readline().split()[1]) // 1024
    return f"{os.cpu_count()} cores ({cpu}), {mem} MiB, Linux {platform.release()}"


class ProcStat:
    """CPU seconds and resident memory of one process, read from /proc."""

    def __init__(self, pid):
        self.pid = pid
        self.peak_rss = 0

    def cpu_seconds(self):
        fields = open(f"/proc/{self.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def rss_bytes(self):
        rss = int(open(f"/proc/{self.pid}/statm").read().split()[1]) * PAGE
        self.peak_rss = max(self.peak_rss, rss)
        return rss


class Nginx:
    """A private nginx on a free port that logs each request with its time in ms."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="hale-bench-nginx-"))
        self.port = free_port()
        (self.dir / "logs").mkdir()
        # The worker (nobody, when started as root) reopens the logs on SIGUSR1.
        self.dir.chmod(0o755)
        (self.dir / "logs").chmod(0o777)
        conf = f"""
worker_processes 1;
error_log {self.dir}/logs/error.log;
pid {self.dir}/nginx.pid;
events {{ worker_connections 16384; }}
http {{
    log_format t '$msec $uri';
    access_log {self.dir}/logs/access.log t buffer=256k flush=1s;
    client_body_temp_path {self.dir}/tmp;
    proxy_temp_path {self.dir}/tmp;
    fastcgi_temp_path {self.dir}/tmp;
    uwsgi_temp_path {self.dir}/tmp;
    scgi_temp_path {self.dir}/tmp;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""
        (self.dir / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-p", str(self.dir), "-c",
                                      str(self.dir / "nginx.conf"), "-g", "daemon off;"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def request_times(self, prefix="/"):
        """Seconds (Unix) of every request for a path starting with prefix
        logged so far, after a flush."""
        os.kill(self.proc.pid, signal.SIGUSR1)  # reopen logs: flushes the buffer
        time.sleep(0.5)
        path = self.dir / "logs" / "access.log"
        if not path.exists():
            return []
        lines = (line.split(" ", 1) for line in path.read_text().splitlines())
        return [float(t) for t, uri in lines if uri.startswith(prefix)]

    def reset_log(self):
        path = self.dir / "logs" / "access.log"
        if path.exists():
            path.unlink()
        os.kill(self.proc.pid, signal.SIGUSR1)
        time.sleep(0.3)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def passes(times, gap=1.0):
    """Groups request times into passes separated by at least `gap` seconds
    of silence; returns the length in seconds of each complete pass."""
    times = sorted(times)
    out, start, prev = [], None, None
    for t in times:
        if start is None:
            start = prev = t
        elif t - prev > gap:
            out.append(prev - start)
            start = t
        prev = t
    return out[1:]  # the first pass may have started before sampling
