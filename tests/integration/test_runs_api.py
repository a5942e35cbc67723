# SPDX-License-Identifier: MIT
"""The runs and runbooks through the API and the CLI, against a real
daemon: runs started by hand, listed and shown step by step; approval
gates answered; refusals (404 unknown, 409 not waiting or in flight, 403
for a viewer, 400 naming a bad field); `hale run` following a run to its
end with the right exit status, and `hale run --dry-run` offline."""
import json

from conftest import run_hale, wait_for

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
runbooks:
  - name: echo-host
    guard: { max_runs: 2, per: 1h, key: host }
    steps:
      - { name: say, run: [/bin/echo, "${labels.host}"], env: { WHO: "${labels.host}" } }
      - { name: env, shell: 'printf "%s|%s" "$WHO" "$HALE_LABEL_HOST"', env: { WHO: "${labels.host}" } }
  - name: fails
    steps:
      - { name: boom, run: [/bin/sh, -c, "echo broken; exit 3"] }
  - name: gated
    steps:
      - { name: ask, approve: "go on?", timeout: 1h }
      - { name: after, run: [/bin/true] }
"""


def started(make_daemon):
    d = make_daemon(CONFIG)
    d.start()
    return d, d.token("alice", "responder"), d.token("grafana", "viewer")


def start(d, token, runbook, body):
    return d.post(f"/api/v1/runbooks/{runbook}/runs", token=token, body=json.dumps(body).encode())


def run_over(d, token, rid):
    def over():
        r = d.get(f"/api/v1/runs/{rid}", token=token).json()
        return r if r["run"]["outcome"] not in ("running", "waiting") else None
    return wait_for(over, what=f"run {rid} over")


def test_runs_started_listed_and_shown(make_daemon):
    d, alice, viewer = started(make_daemon)
    hostile = "$(touch /tmp/pwned); rm -rf x \"q\" 'q'"
    r = start(d, alice, "echo-host", {"labels": {"host": hostile}})
    assert r.status == 201, r.body
    rid = r.json()["run"]
    shown = run_over(d, viewer, rid)
    run = shown["run"]
    assert run["outcome"] == "completed"
    assert run["runbook"] == "echo-host" and run["target"] == hostile
    assert run["automatic"] is False and run["actor"] == "user:alice"
    assert run["incident"] is None and run["steps_total"] == 2
    steps = shown["steps"]
    assert [s["name"] for s in steps] == ["say", "env"]
    assert all(s["outcome"] == "succeeded" and s["exit_status"] == 0 for s in steps)
    # the label reached both steps as inert data, byte for byte
    assert steps[0]["output"].startswith(hostile)
    assert hostile + "|" + hostile in steps[1]["output"]

    listed = d.get("/api/v1/runs?runbook=echo-host", token=viewer).json()
    assert [x["id"] for x in listed["runs"]] == [rid]
    assert d.get("/api/v1/runs?runbook=fails", token=viewer).json()["runs"] == []
    assert d.get("/api/v1/runs?outcome=completed", token=viewer).json()["runs"][0]["id"] == rid

    rbs = d.get("/api/v1/runbooks", token=viewer).json()["runbooks"]
    echo = next(x for x in rbs if x["name"] == "echo-host")
    assert echo["stats"]["runs"] == 1 and echo["stats"]["completed"] == 1
    assert echo["guard"] == {"max_runs": 2, "per": "1h", "key": "host"}
    assert echo["quarantine"] is None
    assert echo["targets"][0]["target"] == hostile


def test_runs_refusals(make_daemon):
    d, alice, viewer = started(make_daemon)
    r = d.get("/api/v1/runs/999", token=viewer)
    assert r.status == 404 and "no run 999" in r.json()["reason"]
    assert start(d, alice, "nope", {}).status == 404
    r = start(d, viewer, "echo-host", {"labels": {"host": "a"}})
    assert r.status == 403
    r = start(d, alice, "echo-host", {"labels": {"host": 5}})
    assert r.status == 400 and r.json()["field"] == "labels"
    r = start(d, alice, "echo-host", {"incident": "x"})
    assert r.status == 400 and r.json()["field"] == "incident"
    r = start(d, alice, "echo-host", {"lables": {}})
    assert r.status == 400 and "lables" in r.json()["reason"]
    r = d.get("/api/v1/runs?outcome=cured", token=viewer)
    assert r.status == 400 and "outcome" in r.json()["reason"]

    # approve a run that is not waiting: 409
    rid = start(d, alice, "fails", {}).json()["run"]
    assert run_over(d, viewer, rid)["run"]["outcome"] == "failed"
    r = d.post(f"/api/v1/runs/{rid}/approve", token=alice)
    assert r.status == 409, r.body
    assert d.post("/api/v1/runs/999/approve", token=alice).status == 404
    assert d.post("/api/v1/runbooks/echo-host/enable", token=alice).status == 409

    # the guard: two runs per hour on one host, the third refused with a reason
    for _ in range(2):
        run_over(d, viewer, start(d, alice, "echo-host", {"labels": {"host": "h"}}).json()["run"])
    r = start(d, alice, "echo-host", {"labels": {"host": "h"}})
    assert r.status == 409 and r.json()["reason"]
    assert start(d, alice, "echo-host", {"labels": {"host": "other"}}).status == 201


def test_runs_approval_gate(make_daemon):
    d, alice, viewer = started(make_daemon)
    rid = start(d, alice, "gated", {}).json()["run"]
    waiting = wait_for(lambda: d.get(f"/api/v1/runs/{rid}", token=viewer).json()["run"]
                       ["outcome"] == "waiting", what="run waiting")
    assert waiting
    run = d.get(f"/api/v1/runs/{rid}", token=viewer).json()["run"]
    assert run["approval"]["question"] == "go on?"
    assert d.post(f"/api/v1/runs/{rid}/approve", token=viewer).status == 403
    r = d.post(f"/api/v1/runs/{rid}/approve", token=alice, body=b'{"comment": 7}')
    assert r.status == 400 and r.json()["field"] == "comment"
    r = d.post(f"/api/v1/runs/{rid}/approve", token=alice, body=b'{"comment": "fine"}')
    assert r.status == 200, r.body
    assert r.json()["run"]["approval"]["decided_by"] == "user:alice"
    assert run_over(d, viewer, rid)["run"]["outcome"] == "completed"

    rid = start(d, alice, "gated", {}).json()["run"]
    wait_for(lambda: d.get(f"/api/v1/runs/{rid}", token=viewer).json()["run"]["outcome"]
             == "waiting", what="run waiting")
    res = run_hale("approve", str(rid), "--reject", "--comment", "no",
                   env={"HALE_URL": d.url, "HALE_TOKEN": alice})
    assert res.returncode == 0, res.stderr
    assert run_over(d, viewer, rid)["run"]["outcome"] == "rejected"


def test_cli_run_follows_to_the_end(make_daemon):
    d, alice, viewer = started(make_daemon)
    env = {"HALE_URL": d.url, "HALE_TOKEN": alice}
    r = run_hale("run", "echo-host", "--label", "host=web1", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "step 1/2 say (run, remediate, attempt 1) succeeded: exit 0" in r.stdout
    assert "completed" in r.stdout.splitlines()[-1]
    r = run_hale("run", "fails", env=env)
    assert r.returncode == 1
    assert "step 1/1 boom (run, remediate, attempt 1) failed: exit 3" in r.stdout
    r = run_hale("run", "nope", env=env)
    assert r.returncode == 1 and "nope" in r.stderr

    rv = run_hale("runs", env={"HALE_URL": d.url, "HALE_TOKEN": viewer})
    assert rv.returncode == 0 and "echo-host" in rv.stdout and "fails" in rv.stdout
    rid = d.get("/api/v1/runs?runbook=fails", token=viewer).json()["runs"][0]["id"]
    rv = run_hale("runs", "show", str(rid), env={"HALE_URL": d.url, "HALE_TOKEN": viewer})
    assert rv.returncode == 0 and "| broken" in rv.stdout
    rv = run_hale("runbooks", "stats", "fails", env={"HALE_URL": d.url, "HALE_TOKEN": viewer})
    assert rv.returncode == 0 and "fails" in rv.stdout


def test_cli_dry_run_offline(tmp_path):
    cfg = tmp_path / "hale.yaml"
    cfg.write_text(CONFIG.replace("@PORT@", "1"))
    r = run_hale("run", "echo-host", "--dry-run", "-c", str(cfg), "--label",
                 "host=$(touch /tmp/pwned)")
    assert r.returncode == 0, r.stderr
    assert 'argv: ["/bin/echo", "$(touch /tmp/pwned)"]' in r.stdout
    assert 'HALE_LABEL_HOST="$(touch /tmp/pwned)"' in r.stdout
    assert "nothing was started" in r.stdout
    r = run_hale("run", "echo-host", "--dry-run", "-c", str(cfg))
    assert r.returncode == 0
    assert 'cannot run: step "say": the event has no label "host"' in r.stdout
