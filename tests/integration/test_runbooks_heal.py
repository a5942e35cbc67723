# SPDX-License-Identifier: MIT
"""The heal, end to end: a real nginx on 127.0.0.1 (its own prefix and a
free port) killed with SIGKILL; its check goes critical, the incident
opens with its runbook, the runbook restarts nginx, its verify step runs
the check again until it is ok, and the incident is resolved by hale with
every step and its output on the timeline. Behaviour only: generous
waits, nothing asserts timing."""
import os
import signal
import socket
import subprocess

import pytest

from conftest import free_port, wait_for

NGINX = "/usr/sbin/nginx"


class Nginx:
    """A private nginx, one process (no workers left behind by a SIGKILL)."""

    def __init__(self, workdir):
        self.dir = workdir / "nginx"
        (self.dir / "logs").mkdir(parents=True)
        (self.dir / "tmp").mkdir()
        self.port = free_port()
        self.conf = self.dir / "nginx.conf"
        self.pidfile = self.dir / "nginx.pid"
        self.conf.write_text(f"""
master_process off;
error_log {self.dir}/logs/error.log;
pid {self.pidfile};
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

    def start(self):
        """Started as the runbook will: nginx daemonizes itself."""
        subprocess.run([NGINX, "-p", str(self.dir), "-c", str(self.conf)], check=True, timeout=10)
        wait_for(self.listening, what="nginx listening")

    def pid(self):
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def kill(self):
        pid = self.pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not self.listening(), what="nginx gone")


@pytest.fixture
def nginx(tmp_path):
    if not os.access(NGINX, os.X_OK):
        pytest.skip("nginx is not installed")
    n = Nginx(tmp_path)
    n.start()
    yield n
    n.kill()


def test_sigkilled_nginx_is_healed_and_the_timeline_shows_every_step(make_daemon, nginx):
    d = make_daemon(f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{{name: web}}]
checks:
  - name: nginx-http
    type: http
    url: "http://127.0.0.1:{nginx.port}/health"
    every: 1s
    timeout: 1s
    expect: {{status: 200}}
    labels: {{service: nginx}}
    runbook: restart-nginx
    team: web
runbooks:
  - name: restart-nginx
    team: web
    steps:
      - name: status
        purpose: diagnose
        run: [/bin/sh, -c, 'echo "pid file: $(cat {nginx.pidfile})"; echo "run $HALE_RUN_ID for incident $HALE_INCIDENT_ID"']
      - name: restart
        run: [{NGINX}, -p, "{nginx.dir}", -c, "{nginx.conf}"]
        timeout: 10s
      - name: prove
        verify: nginx-http
        within: 20s
""")
    d.start()
    token = d.token("ops", "viewer")
    wait_for(lambda: d.get("/api/v1/checks/nginx-http", token).json()["status"] == "ok",
             what="nginx-http ok")

    nginx.kill()

    def incident():
        r = d.get("/api/v1/incidents/1", token)
        return r.json() if r.status == 200 else None

    opened = wait_for(incident, timeout=30, what="incident 1 opened")
    assert opened["incident"]["runbook"] == "restart-nginx", opened
    healed = wait_for(lambda: (i := incident()) and i["incident"]["state"] == "resolved" and i,
                      timeout=60, what="incident 1 resolved")
    assert healed["incident"]["resolved_by"] == "hale", healed["incident"]
    assert nginx.listening(), "the runbook started nginx again"

    timeline = healed["timeline"]
    texts = [(e["kind"], e["text"]) for e in timeline]
    by_runbook = [e for e in timeline if e["actor"] == "runbook:restart-nginx"]
    assert by_runbook, texts
    started = [t for k, t in texts if k == "step_started"]
    finished = [t for k, t in texts if k == "step_finished"]
    outputs = [t for k, t in texts if k == "step_output"]
    assert [s.split(" (")[0] for s in started] == [
        "step 1/3 status", "step 2/3 restart", "step 3/3 prove"], started
    assert f"-c {nginx.conf}" in started[1], started[1]
    assert all(" succeeded: " in f for f in finished) and len(finished) == 3, finished
    assert any("run 1 for incident 1" in o for o in outputs), outputs
    assert any(o.startswith("ok: ") for o in outputs), outputs  # the verify's check result
    states = [t for k, t in texts if k == "state"]
    assert any("healed by run 1 of restart-nginx: verify nginx-http ok" in s for s in states), states

    metrics = d.get("/metrics").body
    assert 'hale_runs_total{runbook="restart-nginx",outcome="healed"} 1' in metrics, metrics
    assert "hale_runs_in_flight 0" in metrics
    assert "hale_run_start_delay_seconds_count 1" in metrics
