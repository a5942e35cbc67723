# SPDX-License-Identifier: MIT
"""Line protocol through the real daemon: samples written with a reporter
token land in the series a metric check reads; the check goes critical
once the breach has held for its `for:` (on the samples' own times) and
back to ok; a batch with one bad line is refused whole with its line and
column; tokens, roles and the body cap answer JSON errors; the series
share the history memory and /metrics says how. Each verdict is asked for
with POST /api/v1/checks/NAME/run, so nothing waits on a timer."""
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import http

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
  max_body: 1KiB
checks:
  - name: web-cpu
    type: metric
    series: cpu_usage_user
    match: '{host="web1"}'
    warn: "80"
    crit: "90"
    for: 20s
    every: 1h
  - name: disk
    type: metric
    series: disk_used_percent
    crit: "95"
    every: 1h
"""


@pytest.fixture
def d(make_daemon):
    daemon = make_daemon(CONFIG)
    daemon.start()
    daemon.tokens = {role: daemon.token(f"t-{role}", role)
                     for role in ("reporter", "admin", "viewer", "responder")}
    return daemon


def write(d, body, token=None, query="", headers=None):
    token = token or d.tokens["reporter"]
    return http("POST", f"{d.url}/api/v1/write{query}", token=token, body=body.encode(),
                headers={"Content-Type": "text/plain; charset=utf-8", **(headers or {})})


def run(d, check):
    r = d.post(f"/api/v1/checks/{check}/run", d.tokens["responder"])
    assert r.status == 200, r.body
    return r.json()["observation"]


def assert_json_error(r, status, error):
    assert r.status == status, (r.status, r.body)
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status and body["error"] == error and body["reason"], body
    return body


def test_metric_check_goes_critical_after_for_and_back(d):
    now = int(time.time())
    assert run(d, "web-cpu")["summary"].startswith("no data yet")
    # Seconds precision; web2 breaches too, but the check matches web1 only.
    r = write(d, f"cpu,host=web1,cpu=total usage_user=95,usage_system=3 {now - 60}\n"
                 f"cpu,host=web2,cpu=total usage_user=99 {now - 60}\n", query="?precision=s")
    assert r.status == 204, r.body
    assert r.body == ""
    o = run(d, "web-cpu")
    assert o["status"] == "ok", o
    assert "beyond crit 90 for 0 of the 20s it must hold" in o["summary"]
    # 10 s later by the samples' clock, still held too briefly; 20 s, long enough.
    write(d, f"cpu,host=web1,cpu=total usage_user=96 {now - 50}", query="?precision=s")
    assert run(d, "web-cpu")["status"] == "ok"
    write(d, f"cpu,host=web1,cpu=total usage_user=97 {(now - 40) * 1000}", query="?precision=ms")
    o = run(d, "web-cpu")
    assert o["status"] == "critical", o
    assert o["summary"].startswith('cpu_usage_user{cpu="total",host="web1"} = 97, beyond crit 90')
    assert [s["label"] for s in o["samples"]] == ['cpu_usage_user{cpu="total",host="web1"}']
    check = d.get("/api/v1/checks/web-cpu", d.tokens["viewer"]).json()
    assert check["status"] == "critical"
    # Back within: ok at once. No timestamp: the time of receipt.
    write(d, "cpu,host=web1,cpu=total usage_user=12.5\n")
    o = run(d, "web-cpu")
    assert o["status"] == "ok" and o["summary"].endswith("= 12.5"), o


def test_a_bad_line_refuses_the_whole_batch(d):
    body = ("# disks\n"
            "disk,host=db1,path=/ used_percent=97\n"
            "disk,host=db1,path=/var used_percent=ninety\n")
    r = write(d, body)
    err = assert_json_error(r, 400, "invalid_line_protocol")
    assert err["line"] == 3 and err["column"] == 38, err
    assert err["reason"].startswith("line 3, column 38: field \"used_percent\": expected a value")
    assert "nothing of the batch was stored" in err["reason"]
    # The good line before it was not stored either.
    assert run(d, "disk")["summary"].startswith("no data yet: no series disk_used_percent")
    assert write(d, body.replace("ninety", "12i")).status == 204
    o = run(d, "disk")
    assert o["status"] == "critical"
    assert o["summary"] == ('disk_used_percent{host="db1",path="/"} = 97, beyond crit 95; '
                            '1 of 2 series breach')


def test_bad_parameters_and_reserved_names(d):
    err = assert_json_error(write(d, "m v=1", query="?precision=h"), 400, "bad_request")
    assert "ns, us, ms or s" in err["reason"]
    err = assert_json_error(write(d, "hale_check_status value=0"), 400, "invalid_line_protocol")
    assert "hale's own" in err["reason"]
    assert_json_error(write(d, "# only a comment\n"), 400, "invalid_line_protocol")
    r = write(d, "m v=1", headers={"Content-Encoding": "gzip"})
    assert_json_error(r, 415, "unsupported_media_type")


def test_tokens_roles_and_size(d):
    assert_json_error(http("POST", f"{d.url}/api/v1/write", body=b"m v=1"), 401, "unauthorized")
    assert_json_error(write(d, "m v=1", token="hale_not-a-real-token"), 401, "unauthorized")
    err = assert_json_error(write(d, "m v=1", token=d.tokens["viewer"]), 403, "forbidden")
    assert "report" in err["reason"]
    assert write(d, "m v=1", token=d.tokens["admin"]).status == 204
    big = "".join(f"m,host=h{i} v={i}\n" for i in range(200))
    assert len(big) > 1024
    assert_json_error(write(d, big), 413, "payload_too_large")
    # The daemon keeps serving.
    assert write(d, "m v=2").status == 204


def test_metric_check_on_hales_own_check_samples(make_daemon):
    # As the demo does: an http check's response time, judged by a metric check.
    d = make_daemon("""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {name: self, type: http, url: "http://127.0.0.1:@PORT@/healthz", every: 1h}
  - {name: self-tcp, type: tcp, host: 127.0.0.1, port: @PORT@, every: 1h}
  - name: self-latency
    type: metric
    series: hale_check_sample
    match: '{check="self", label="time"}'
    crit: "5"
    every: 1h
""")
    d.start()
    d.tokens = {"responder": d.token("r", "responder")}
    assert run(d, "self-latency")["status"] == "unknown"
    assert run(d, "self")["status"] == "ok"
    o = run(d, "self-latency")
    assert o["status"] == "ok", o
    assert o["summary"].startswith('hale_check_sample{check="self",label="time",unit="s"} = ')

    # Of an http or tcp check's samples only the response time gets history: the
    # others stay in the observation and on /metrics.
    run(d, "self-tcp")
    for check, samples in (("self", {"time", "size", "status"}), ("self-tcp", {"time", "connect"})):
        c = d.get(f"/api/v1/checks/{check}", d.tokens["responder"]).json()
        assert {s["label"] for s in c["observation"]["samples"]} == samples, c
        assert sorted((h["label"], h["unit"]) for h in c["history"]) == [("status", ""), ("time", "s")]
        assert len([h for h in c["history"] if h["label"] == "status"][0]["points"]) == 1
    text = d.get("/metrics", d.tokens["responder"]).body
    assert 'hale_check_sample{check="self",label="size",unit="B"}' in text
    assert 'hale_check_sample{check="self-tcp",label="connect",unit="s"}' in text


def metric(d, name):
    r = d.get("/metrics")
    assert r.status == 200
    for fam in text_string_to_metric_families(r.body):
        for s in fam.samples:
            if s.name == name:
                return s.value
    return None


def test_series_share_history_memory_and_show_it_on_metrics(make_daemon):
    # A budget small enough for 200 series of 400 points each to pass it.
    config = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
history:
  points: 1000
  memory: 64KiB
"""
    d = make_daemon(config)
    d.start()
    token = d.token("r", "reporter")
    assert metric(d, "hale_series_budget_bytes") == 64 * 1024
    assert metric(d, "hale_series") == 0
    now = int(time.time()) - 4000
    for k in range(0, 400, 50):
        body = "".join(f"temp,room=r{i} value={(i + t) % 97 / 10} {now + t * 10}\n"
                       for t in range(k, k + 50) for i in range(200))
        assert write(d, body, token=token, query="?precision=s").status == 204
    assert metric(d, "hale_series") == 200
    held = metric(d, "hale_series_points")
    assert 200 <= held < 200 * 400
    assert metric(d, "hale_series_dropped_points_total") == 200 * 400 - held
    # Within the budget, but for the newest chunks every series keeps.
    assert 0 < metric(d, "hale_series_bytes") <= 64 * 1024 + 200 * 128
    assert metric(d, "hale_series_metadata_bytes") > 200 * 64
    # A reload brings a new budget.
    d.write_config(config.replace("64KiB", "8MiB").replace("@PORT@", str(d.port)))
    r = d.post("/api/v1/reload", d.token("a", "admin"))
    assert r.status == 200, r.body
    assert metric(d, "hale_series_budget_bytes") == 8 * 1024 * 1024
