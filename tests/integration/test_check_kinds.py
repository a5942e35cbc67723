# SPDX-License-Identifier: MIT
"""Each kind of check against the real thing, through the real daemon:
nginx stopped and started again (http, tcp), a watched process killed with
SIGKILL, the Monitoring Plugins run unchanged, a command that hangs and
forks killed with its children at its timeout, and a flow that misses its
heartbeat. Behaviour only, with generous waits: nothing asserts timing."""
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import free_port, run_hale, wait_for

PLUGINS = Path("/usr/lib/nagios/plugins")


class Nginx:
    """A private nginx on a free port, started and stopped by the test."""

    def __init__(self, workdir):
        self.dir = workdir / "nginx"
        (self.dir / "logs").mkdir(parents=True)
        self.port = free_port()
        (self.dir / "nginx.conf").write_text(f"""
worker_processes 1;
error_log {self.dir}/logs/error.log;
pid {self.dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {self.dir}/tmp;
    proxy_temp_path {self.dir}/tmp;
    fastcgi_temp_path {self.dir}/tmp;
    uwsgi_temp_path {self.dir}/tmp;
    scgi_temp_path {self.dir}/tmp;
    server {{
        listen 127.0.0.1:{self.port};
        location /health {{ return 200 "ok\\n"; }}
    }}
}}
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-p", str(self.dir), "-c",
                                      str(self.dir / "nginx.conf"), "-g", "daemon off;"])
        wait_for(self.listening, what="nginx listening")

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def nginx(tmp_path):
    n = Nginx(tmp_path)
    n.start()
    yield n
    n.stop()


def state(d, token, name):
    r = d.get(f"/api/v1/checks/{name}", token)
    assert r.status == 200, r.body
    return r.json()


def status_becomes(d, token, name, status, timeout=20):
    return wait_for(lambda: (s := state(d, token, name))["status"] == status and s,
                    timeout=timeout, what=f"{name} {status}")


def test_nginx_stopped_and_started_again(make_daemon, nginx):
    d = make_daemon(f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {{name: web, type: http, url: "http://127.0.0.1:{nginx.port}/health", every: 1s, timeout: 1s,
     expect: {{status: 200, body: "^ok"}}}}
  - {{name: web-port, type: tcp, host: 127.0.0.1, port: {nginx.port}, every: 1s, timeout: 1s}}
""")
    d.start()
    token = d.token("ops", "admin")
    for name in ("web", "web-port"):
        status_becomes(d, token, name, "ok")
    nginx.stop()
    web = status_becomes(d, token, "web", "critical")
    assert "refused" in web["summary"], web
    assert "refused" in status_becomes(d, token, "web-port", "critical")["summary"]
    nginx.start()
    for name in ("web", "web-port"):
        status_becomes(d, token, name, "ok")
    metrics = d.get("/metrics").body
    assert 'hale_check_status{check="web",type="http"} 0' in metrics


def test_sigkilled_process_is_seen_without_waiting_for_the_interval(make_daemon, tmp_path):
    victim = subprocess.Popen(["sleep", "1000"])
    pidfile = tmp_path / "victim.pid"
    pidfile.write_text(f"{victim.pid}\n")
    d = make_daemon(f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {{name: victim, type: process, pidfile: {pidfile}, every: 1h}}
""")
    d.start()
    token = d.token("ops", "admin")
    try:
        ok = d.post("/api/v1/checks/victim/run", token)  # the first run, now, not in an hour
        assert ok.status == 200 and ok.json()["observation"]["status"] == "ok", ok.body
        victim.kill()
        victim.wait()
        # The interval is an hour: only the pidfd watch can make this critical.
        seen = status_becomes(d, token, "victim", "critical", timeout=10)
        assert seen["last_run"] is not None
    finally:
        if victim.poll() is None:
            victim.kill()


def test_monitoring_plugins_run_unchanged(make_daemon):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        open_port = listener.getsockname()[1]
        d = make_daemon(f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {{name: tcp-open, type: command, run: [{PLUGINS}/check_tcp, -H, 127.0.0.1, -p, "{open_port}"], every: 1h}}
  - {{name: tcp-closed, type: command, run: [{PLUGINS}/check_tcp, -H, 127.0.0.1, -p, "{free_port()}"], every: 1h}}
  - {{name: disk, type: command, run: [{PLUGINS}/check_disk, -w, "1%", -c, "0%", -p, /], every: 1h}}
  - {{name: procs, type: command, run: [{PLUGINS}/check_procs, -c, "1:"], every: 1h}}
""")
        r = run_hale("check", "-c", str(d.config), "--json", timeout=60)
    results = {c["check"]: c for c in json.loads(r.stdout)}
    assert results["tcp-open"]["status"] == "ok", results["tcp-open"]
    assert results["tcp-closed"]["status"] == "critical", results["tcp-closed"]
    assert results["disk"]["status"] in ("ok", "warning", "critical")
    assert any(s["unit"] in ("MB", "B", "%") for s in results["disk"]["samples"]), results["disk"]
    assert results["procs"]["status"] == "ok", results["procs"]
    assert r.returncode == 2  # the worst status: tcp-closed is critical


def group_alive(pgid):
    """Whether any non-zombie process is still in process group pgid."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def test_hanging_command_is_killed_with_its_children(make_daemon, tmp_path):
    marker = tmp_path / "pgid"
    d = make_daemon(f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - name: hangs
    type: command
    run: [/bin/sh, -c, "ps -o pgid= $$ > {marker}; sleep 300 & sleep 300 & wait"]
    every: 1h
    timeout: 2s
""")
    d.start()
    token = d.token("ops", "admin")
    r = d.post("/api/v1/checks/hangs/run", token, timeout=30)
    assert r.status == 200, r.body
    result = r.json()["observation"]
    assert result["status"] == "critical" and "timed out" in result["summary"], result
    pgid = int(marker.read_text().strip())
    wait_for(lambda: not group_alive(pgid), timeout=10, what="the process group gone")


def test_heartbeat_reports_and_then_goes_missing(make_daemon):
    d = make_daemon("""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {name: nightly-transfer, type: heartbeat, every: 2s}
""")
    d.start()
    admin = d.token("ops", "admin")
    reporter = d.token("feed", "reporter")
    r = d.post("/api/v1/heartbeats/nightly-transfer", reporter,
               body=json.dumps({"status": "ok", "count": 120}).encode())
    assert r.status in (200, 202), r.body
    status_becomes(d, admin, "nightly-transfer", "ok")
    # No more reports: late, then missing.
    missing = status_becomes(d, admin, "nightly-transfer", "critical", timeout=30)
    assert missing["summary"], missing
    r = d.post("/api/v1/heartbeats/nightly-transfer", reporter,
               body=json.dumps({"status": "failed", "message": "sftp refused"}).encode())
    assert r.status in (200, 202)
    failed = status_becomes(d, admin, "nightly-transfer", "critical")
    assert "sftp refused" in failed["summary"] or "fail" in failed["summary"], failed
    assert d.post("/api/v1/heartbeats/nope", reporter).status == 404


def test_heartbeat_by_a_touched_file(make_daemon):
    d = make_daemon("""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {name: export, type: heartbeat, every: 2s, grace: 1s, path: ./export.done}
""")
    d.start()
    admin = d.token("ops", "admin")
    status_becomes(d, admin, "export", "critical", timeout=30)  # never touched yet

    def touched_and_ok():
        (d.workdir / "export.done").touch()  # the job, finishing every cycle
        return state(d, admin, "export")["status"] == "ok"

    wait_for(touched_and_ok, what="export ok while its file is touched")
