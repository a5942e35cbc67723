# SPDX-License-Identifier: MIT
"""The real Alertmanager (Debian's prometheus-alertmanager) sending to hale:
a webhook receiver pointed at POST /api/v1/alertmanager with a reporter
token, exactly as docs/events.md says to configure it. An alert posted to
Alertmanager opens an incident in hale; the same alert posted resolved
(endsAt in the past) resolves it; Alertmanager's repeated notifications
of the group change nothing on the way."""
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from conftest import free_port, http, wait_for

ALERTMANAGER = shutil.which("prometheus-alertmanager")

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
services:
  - {name: db}
"""

AM_CONFIG = """global:
  resolve_timeout: 1m
route:
  receiver: hale
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hale
    webhook_configs:
      - url: 'http://127.0.0.1:{port}/api/v1/alertmanager'
        send_resolved: true
        http_config:
          authorization:
            credentials: '{token}'
"""


def rfc3339(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture
def alertmanager(tmp_path):
    """Starts Alertmanager on 127.0.0.1 once given hale's port and a token; stops it after."""
    if not ALERTMANAGER:
        pytest.skip("prometheus-alertmanager is not installed (scripts/install-deps installs it)")
    procs = []

    def start(hale_port, token):
        port = free_port()
        conf = tmp_path / "alertmanager.yml"
        conf.write_text(AM_CONFIG.format(port=hale_port, token=token))
        log = open(tmp_path / "alertmanager.log", "wb")
        proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={conf}", f"--storage.path={tmp_path / 'am-data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=log, stderr=log)
        procs.append((proc, log))
        url = f"http://127.0.0.1:{port}"

        def ready():
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "alertmanager.log").read_text())
            try:
                return http("GET", url + "/-/ready", timeout=1).status == 200
            except OSError:
                return False
        wait_for(ready, what="Alertmanager ready")
        return url

    yield start
    for proc, log in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_alertmanager_opens_then_resolves_an_incident(make_daemon, alertmanager):
    d = make_daemon(CONFIG)
    d.start()
    reporter, viewer = d.token("alertmanager", "reporter"), d.token("watcher", "viewer")
    am = alertmanager(d.port, reporter)

    starts = datetime.now(timezone.utc) - timedelta(seconds=5)
    alert = {"labels": {"alertname": "DbDown", "service": "db", "severity": "critical"},
             "annotations": {"summary": "The database does not answer"},
             "startsAt": rfc3339(starts),
             "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up%3D%3D0"}

    def post_alert(a):
        r = http("POST", am + "/api/v2/alerts", body=json.dumps([a]).encode(),
                 headers={"Content-Type": "application/json"})
        assert r.status == 200, r.body

    def incidents():
        r = d.get("/api/v1/incidents", token=viewer)
        assert r.status == 200, r.body
        return r.json()["incidents"]

    post_alert(alert)
    opened = wait_for(incidents, what="hale opens the incident")
    assert len(opened) == 1
    inc = opened[0]
    assert inc["title"] == "The database does not answer"
    assert inc["severity"] == "critical" and inc["service"] == "db"
    assert inc["labels"] == alert["labels"]
    ev = d.get(f"/api/v1/events?incident={inc['id']}", token=viewer).json()["events"][-1]
    assert ev["source"] == "alertmanager" and ev["sender"] == "user:alertmanager"
    assert ev["annotations"]["alertmanager_generator_url"] == alert["generatorURL"]
    assert ev["annotations"]["alertmanager_receiver"] == "hale"

    # Posted again (a Prometheus re-evaluation): Alertmanager's next notification changes nothing.
    post_alert(alert)

    # Over: endsAt in the past. Alertmanager sends the resolved notification; hale resolves.
    post_alert({**alert, "endsAt": rfc3339(datetime.now(timezone.utc) - timedelta(seconds=1))})
    resolved = wait_for(lambda: [i for i in incidents() if i["state"] == "resolved"],
                        what="hale resolves the incident")
    assert resolved[0]["id"] == inc["id"]
    assert resolved[0]["resolved_by"] == "alertmanager"
    full = d.get(f"/api/v1/incidents/{inc['id']}", token=viewer).json()
    assert full["incident"]["repeats"] == 0  # deliveries again were not counted as repeats
    assert full["incident"]["events"] == 2   # the firing and the resolved
    assert len(incidents()) == 1
