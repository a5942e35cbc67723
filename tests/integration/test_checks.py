# SPDX-License-Identifier: MIT
"""Checks end to end: the real daemon runs file and disk checks on its
schedule, shows them over the API and in /metrics, runs one on demand, and
`hale check` runs them without a daemon. Behaviour only, with generous
timeouts: nothing here asserts timing."""
import json

import pytest

from conftest import free_port, run_hale, wait_for

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {name: flag, type: file, path: ./flag, every: 1s, content: "ready"}
  - {name: root-disk, type: disk, path: /, every: 1s, warn: 99%, crit: 100%}
"""


@pytest.fixture
def checked(make_daemon):
    d = make_daemon(CONFIG)
    (d.workdir / "flag").write_text("ready\n")
    d.start()
    token = d.token("ops", "admin")
    return d, token


def check_state(d, token, name):
    r = d.get(f"/api/v1/checks/{name}", token)
    assert r.status == 200, r.body
    return r.json()


def test_api_lists_checks_and_follows_a_file(checked):
    d, token = checked
    r = d.get("/api/v1/checks", token)
    assert r.status == 200, r.body
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert checks["flag"]["type"] == "file" and checks["root-disk"]["type"] == "disk"

    wait_for(lambda: check_state(d, token, "flag")["last_run"], what="a first run")
    assert check_state(d, token, "flag")["status"] == "ok"

    (d.workdir / "flag").unlink()
    state = wait_for(lambda: (s := check_state(d, token, "flag"))["status"] == "critical" and s,
                     what="flag critical")
    assert "does not exist" in state["summary"]
    d.wait_log('check=flag msg="critical (hard)')

    (d.workdir / "flag").write_text("ready\n")
    wait_for(lambda: check_state(d, token, "flag")["status"] == "ok", what="flag ok again")
    d.wait_log('check=flag msg="ok (hard)')

    detail = check_state(d, token, "flag")
    labels = {h["label"] for h in detail["history"]}
    assert {"status", "size"} <= labels
    assert detail["observation"]["samples"]


def test_history_points_asked_for(checked):
    d, token = checked
    wait_for(lambda: any(h["label"] == "status" and len(h["points"]) >= 3
                         for h in check_state(d, token, "flag")["history"]), what="three runs")
    whole = {h["label"]: h["points"] for h in check_state(d, token, "flag")["history"]}
    r = d.get("/api/v1/checks/flag?points=2", token)
    assert r.status == 200, r.body
    for h in r.json()["history"]:
        # The newest two, oldest first: the end of what the series holds.
        assert len(h["points"]) == 2
        assert h["points"][0][0] < h["points"][1][0]
        assert h["points"][0][0] >= whole[h["label"]][-2][0]
    for bad in ("0", "-1", "abc", "1000001"):
        r = d.get(f"/api/v1/checks/flag?points={bad}", token)
        assert r.status == 400, (bad, r.body)
        assert r.json()["error"] == "bad_request" and "points must be a whole number" in r.json()["reason"]
    assert d.get("/healthz").status == 200


def test_run_now_answers_with_the_observation(checked):
    d, token = checked
    r = d.post("/api/v1/checks/root-disk/run", token)
    assert r.status == 200, r.body
    body = r.json()
    assert body["check"] == "root-disk"
    obs = body["observation"]
    assert obs["status"] in ("ok", "warning", "critical")
    assert "% used" in obs["summary"]
    assert any(s["label"] == "used_pct" and s["unit"] == "%" for s in obs["samples"])

    assert d.post("/api/v1/checks/nope/run", token).status == 404
    viewer = d.token("viewer", "viewer")
    assert d.post("/api/v1/checks/flag/run", viewer).status == 403
    assert d.get("/api/v1/checks", viewer).status == 200
    # Not a heartbeat check: 409; unknown: 404.
    assert d.post("/api/v1/heartbeats/flag", token, body=b'{"status":"ok"}').status == 409
    assert d.post("/api/v1/heartbeats/nope", token).status == 404
    assert d.post("/api/v1/heartbeats/flag", token, body=b'{"status":"maybe"}').status == 400


def test_metrics_have_check_families(checked):
    d, token = checked
    wait_for(lambda: check_state(d, token, "root-disk")["last_run"], what="a disk run")
    text = d.get("/metrics").body
    assert 'hale_check_status{check="flag",type="file"}' in text
    assert "hale_check_runs_total{" in text
    assert 'hale_check_sample{check="root-disk",label="used_pct",unit="%"}' in text


def test_reload_keeps_states(checked):
    d, token = checked
    (d.workdir / "flag").unlink()
    wait_for(lambda: check_state(d, token, "flag")["status"] == "critical", what="critical")
    r = d.post("/api/v1/reload", token)
    assert r.status == 200, r.body
    state = check_state(d, token, "flag")
    assert state["status"] == "critical" and state["summary"]
    d.stop()
    # Carried over: the state change was logged once, not again after the reload.
    assert d.logs().count('check=flag msg="critical (hard)') == 1


def write_config(tmp_path, text):
    (tmp_path / "var").mkdir(exist_ok=True)
    cfg = tmp_path / "hale.yaml"
    cfg.write_text(text.replace("@PORT@", "1"))
    return cfg


def test_hale_check_prints_plugin_lines_and_exits_with_the_worst(tmp_path):
    (tmp_path / "flag").write_text("ready\n")
    cfg = write_config(tmp_path, CONFIG + "  - {name: gone, type: file, path: ./nothing}\n")
    r = run_hale("check", "-c", str(cfg))
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("flag OK - ")
    assert "| size=" in lines[0]
    assert lines[2].startswith("gone CRITICAL - ") and "does not exist" in lines[2]

    r = run_hale("check", "-c", str(cfg), "flag")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("flag OK")

    r = run_hale("check", "-c", str(cfg), "--json", "flag", "gone")
    assert r.returncode == 2
    out = json.loads(r.stdout)
    assert [o["check"] for o in out] == ["flag", "gone"]
    assert out[0]["status"] == "ok" and out[1]["status"] == "critical"
    assert {"summary", "long_output", "duration_ms", "samples"} <= set(out[0])
    assert {"label", "value", "unit", "warn", "crit", "min", "max"} <= set(out[0]["samples"][0])


def test_hale_check_runs_http_checks_and_returns(tmp_path):
    """`hale check` ends once its checks have: http ones too, answered or refused."""
    import http.server
    import threading

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        cfg = write_config(tmp_path, f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {{name: up, type: http, url: "http://127.0.0.1:{port}/", timeout: 5s}}
  - {{name: down, type: http, url: "http://127.0.0.1:{free_port()}/", timeout: 5s}}
""")
        # A hang would end in TimeoutExpired: the run once took forever.
        r = run_hale("check", "-c", str(cfg), timeout=20)
    finally:
        server.shutdown()
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("up HTTP/1.0 200 OK"), lines  # Python's server speaks 1.0
    assert lines[1].startswith("down CRITICAL - ") and "refused" in lines[1], lines


def test_hale_check_unknown_name_is_a_usage_error(tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    r = run_hale("check", "-c", str(cfg), "flags")
    assert r.returncode == 64
    assert 'no check named "flags"' in r.stderr
    assert 'did you mean "flag"' in r.stderr
    assert "root-disk" in r.stderr
    assert run_hale("check", "--help").returncode == 0
