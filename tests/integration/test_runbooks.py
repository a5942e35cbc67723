# SPDX-License-Identifier: MIT
"""Runbooks end to end, through the real daemon and real processes on
127.0.0.1, driven as a user would drive them (events, the API, the CLI):
the data-transfer example (retries with backoff, a fallback, the
escalation when both fail), a hung step killed with its whole process
group, a hostile label reaching a step as inert data, the circuit
breaker, approval gates (approve, reject, expiry), a run cut short by a
SIGKILL of the daemon, and a runbook quarantined after relapses then
re-enabled. (The real nginx heal is in test_runbooks_heal.py.)"""
import json
import os
import signal
from pathlib import Path

import pytest
from conftest import run_hale, wait_for

FINAL = {"healed", "completed", "failed", "suspended", "rejected", "expired", "canceled",
         "interrupted"}
OPEN = {"new", "acknowledged", "in_progress"}


def post_json(d, path, token, body):
    return d.post(path, token=token, body=json.dumps(body).encode(),
                  headers={"Content-Type": "application/json"})


def send_event(d, token, labels, severity="critical"):
    r = post_json(d, "/api/v1/events", token, {"labels": labels, "severity": severity})
    assert r.status == 200, r.body
    return r.json()["events"][0]


def get_run(d, token, run_id):
    """The run and its steps (one entry per attempt), from GET /api/v1/runs/{id}."""
    r = d.get(f"/api/v1/runs/{run_id}", token=token)
    assert r.status == 200, r.body
    body = r.json()
    run = body["run"] if "run" in body else body
    steps = body.get("steps", run.get("steps", []))
    return run, steps


def runs(d, token, query=""):
    r = d.get("/api/v1/runs" + query, token=token)
    assert r.status == 200, r.body
    return r.json()["runs"]


def wait_run_of(d, token, incident_id, timeout=30):
    """The first run on an incident, once it exists."""
    return wait_for(lambda: next(iter(runs(d, token, f"?incident={incident_id}")), None),
                    timeout=timeout, what=f"a run on incident {incident_id}")


def wait_outcome(d, token, run_id, outcomes=FINAL, timeout=30):
    def ended():
        run, steps = get_run(d, token, run_id)
        return (run, steps) if run["outcome"] in outcomes else None
    return wait_for(ended, timeout=timeout, what=f"run {run_id} in {sorted(outcomes)}")


def incident(d, token, n):
    r = d.get(f"/api/v1/incidents/{n}", token=token)
    assert r.status == 200, r.body
    body = r.json()
    return body["incident"], body["timeline"]


def start_run(d, token, runbook, labels=None, incident_id=None):
    body = {}
    if labels is not None:
        body["labels"] = labels
    if incident_id is not None:
        body["incident"] = incident_id
    return post_json(d, f"/api/v1/runbooks/{runbook}/runs", token, body)


def attempts_of(steps, name):
    return [s for s in steps if s["name"] == name]


def texts(timeline, kind=None):
    return [e["text"] for e in timeline if kind is None or e["kind"] == kind]


def process_groups():
    """{pgid: [pid, ...]} of every live process (zombies are dead: left out)."""
    out = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgid = fields[0], int(fields[2])
        if state not in ("Z", "X"):
            out.setdefault(pgid, []).append(int(p.name))
    return out


def alive(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] not in ("Z", "X")


def header(extra=""):
    return """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{name: data}, {name: ops}]
""" + extra


# ---- the data-transfer example from the seeds ----

# push.sh PROTOCOL DATASET: one line per attempt in attempts.log; it goes
# through only when the protocol is listed in `works`.
PUSH = """#!/bin/sh
echo "$1 $HALE_ATTEMPT $(date +%s.%N)" >> "@WORK@/attempts.log"
if grep -qx "$1" "@WORK@/works" 2>/dev/null; then
    mkdir -p "@WORK@/inbox" && echo data > "@WORK@/inbox/$2.csv"
    echo "$1: sent $2"
    exit 0
fi
echo "$1: connection refused by the remote side" >&2
exit 1
"""

TRANSFER = """checks:
  - {name: delivered, type: file, path: ./inbox/nightly.csv, every: 1h,
     runbook: data-transfer, team: data, labels: {dataset: nightly}}
runbooks:
  - name: data-transfer
    description: resend a failed transfer, then fall back to HTTPS
    team: data
    steps:
      - name: transfer
        run: [/bin/sh, "@WORK@/push.sh", sftp, "${labels.dataset}"]
        timeout: 10s
        retry: {times: 3, backoff: 200ms, max_backoff: 1s}
        on_failure: continue
      - name: fallback
        when: {failed: transfer}
        run: [/bin/sh, "@WORK@/push.sh", https, "${labels.dataset}"]
        timeout: 10s
        on_failure: escalate
      - {name: prove, verify: delivered, within: 5s}
      - {name: tell, notify: "the nightly dataset was resent"}
"""


def transfer_daemon(make_daemon, works):
    d = make_daemon(header())
    work = d.workdir
    (work / "push.sh").write_text(PUSH.replace("@WORK@", str(work)))
    (work / "works").write_text("".join(p + "\n" for p in works))
    d.write_config(header(TRANSFER.replace("@WORK@", str(work))).replace("@PORT@", str(d.port)))
    d.start()
    token = d.token("alice", "admin")
    # The check runs every hour: run it now, the file is missing, it opens the incident.
    assert d.post("/api/v1/checks/delivered/run", token=token).status == 200
    inc = wait_for(lambda: next(iter(d.get("/api/v1/incidents", token=token)
                                     .json()["incidents"]), None), what="the incident")
    assert inc["runbook"] == "data-transfer"
    return d, token, inc["id"]


def attempts_log(work):
    lines = (work / "attempts.log").read_text().split()
    return [(lines[i], int(lines[i + 1]), float(lines[i + 2])) for i in range(0, len(lines), 3)]


def test_transfer_is_retried_with_backoff_then_the_fallback_heals(make_daemon):
    d, token, n = transfer_daemon(make_daemon, works=["https"])
    run = wait_run_of(d, token, n)
    assert run["runbook"] == "data-transfer" and run["automatic"] is True
    run, steps = wait_outcome(d, token, run["id"])
    assert run["outcome"] == "healed", (run, steps)

    # Four sftp attempts (the first and 3 retries), each told its number, then https once.
    log = attempts_log(d.workdir)
    assert [(p, a) for p, a, _ in log] == [("sftp", 1), ("sftp", 2), ("sftp", 3), ("sftp", 4),
                                           ("https", 1)]
    # Backoff: at least 200 ms, 400 ms, 800 ms between the sftp attempts (doubling, under 1 s).
    gaps = [log[i + 1][2] - log[i][2] for i in range(3)]
    for gap, least in zip(gaps, (0.2, 0.4, 0.8)):
        assert gap >= least - 0.02, gaps

    transfer = attempts_of(steps, "transfer")
    assert [s["attempt"] for s in transfer] == [1, 2, 3, 4]
    assert all(s["outcome"] == "failed" for s in transfer)
    assert "connection refused" in transfer[0]["output"]
    assert [s["outcome"] for s in attempts_of(steps, "fallback")] == ["succeeded"]
    assert "https: sent nightly" in attempts_of(steps, "fallback")[0]["output"]
    assert attempts_of(steps, "prove")[-1]["outcome"] == "succeeded"

    inc, timeline = incident(d, token, n)
    assert inc["state"] == "resolved" and inc["resolved_by"] == "hale"
    assert any("healed by run" in t for t in texts(timeline, "state")), timeline
    started = texts(timeline, "step_started")
    assert [t.split(":", 1)[0] for t in started if t.startswith("step 1/4 ")] == \
        [f"step 1/4 transfer (remediate, attempt {a})" for a in (1, 2, 3, 4)], started
    assert any(t.startswith("step 2/4 fallback") for t in started), started
    assert any("connection refused" in t for t in texts(timeline, "step_output"))
    assert any("fallback succeeded" in t for t in texts(timeline, "step_finished"))
    assert any("the nightly dataset was resent" in t for t in texts(timeline, "notification"))

    # hale_runs_total counts it.
    assert 'hale_runs_total{runbook="data-transfer",outcome="healed"} 1' in \
        d.get("/metrics").body


def test_transfer_that_fails_both_ways_escalates_to_its_team(make_daemon):
    d, token, n = transfer_daemon(make_daemon, works=[])
    run = wait_run_of(d, token, n)
    run, steps = wait_outcome(d, token, run["id"])
    assert run["outcome"] == "failed", (run, steps)
    assert [p for p, _, _ in attempts_log(d.workdir)] == ["sftp"] * 4 + ["https"]
    assert [s["outcome"] for s in attempts_of(steps, "fallback")] == ["failed"]
    # Escalated at the fallback: nothing after it ran.
    assert not [s for s in attempts_of(steps, "prove") + attempts_of(steps, "tell")
                if s["outcome"] in ("succeeded", "failed", "running")]
    assert not (d.workdir / "inbox" / "nightly.csv").exists()

    inc, timeline = incident(d, token, n)
    assert inc["state"] in OPEN and inc["resolved_by"] is None
    assert inc["team"] == "data"
    assert any("escalat" in t.lower() for t in texts(timeline, "notification")), timeline
    assert not any("the nightly dataset was resent" in t for t in texts(timeline))


# ---- a hung step and its children ----

HANG = """runbooks:
  - name: hang
    team: ops
    steps:
      - name: stuck
        timeout: 1s
        # Two children, one of which ignores SIGTERM, and the shell waits on them.
        shell: |
          echo $$ > "@WORK@/pids"
          sleep 300 &
          echo $! >> "@WORK@/pids"
          (trap "" TERM; exec sleep 301) &
          echo $! >> "@WORK@/pids"
          echo forked
          wait
      - {name: after, run: [/usr/bin/touch, "@WORK@/after"]}
"""


def test_a_hung_step_is_killed_with_its_children_at_its_timeout(make_daemon):
    d = make_daemon(header())
    work = d.workdir
    d.write_config(header(HANG.replace("@WORK@", str(work))).replace("@PORT@", str(d.port)))
    d.start()
    token = d.token("alice", "admin")
    r = start_run(d, token, "hang")
    assert r.status == 201, r.body
    run_id = r.json()["run"]
    pids = wait_for(lambda: len((work / "pids").read_text().split()) == 3 if
                    (work / "pids").exists() else None, what="the step's children")
    assert pids
    shell, child, stubborn = (int(x) for x in (work / "pids").read_text().split())
    assert alive(child) and alive(stubborn)

    run, steps = wait_outcome(d, token, run_id)
    assert run["outcome"] == "failed"
    stuck = attempts_of(steps, "stuck")[-1]
    assert stuck["outcome"] == "failed" and stuck["timed_out"] is True
    assert "forked" in stuck["output"]
    assert not (work / "after").exists()
    # Nothing of the step's process group is left: not the shell, not its
    # children, not the one that ignores SIGTERM.
    wait_for(lambda: shell not in process_groups(), timeout=15,
             what="the step's process group gone")
    assert not any(alive(p) for p in (shell, child, stubborn))


# ---- a hostile label is data ----

RECORD = """import json, os, sys
with open(sys.argv[1], "w") as f:
    json.dump({"argv": sys.argv[2:], "env": os.environ.get("HALE_LABEL_HOST")}, f)
"""

INERT = """routes:
  - {match: '{alertname="HostDown"}', runbook: inert, team: ops}
runbooks:
  - name: inert
    team: ops
    steps:
      - name: argv
        run: [/usr/bin/python3, "@WORK@/record.py", "@WORK@/argv.json", "${labels.host}"]
      - name: script
        shell: 'printf "%s" "$HALE_LABEL_HOST" > "$OUT"'
        env: {OUT: "@WORK@/shell.out"}
"""


def test_a_hostile_label_reaches_the_step_as_inert_bytes(make_daemon):
    d = make_daemon(header())
    work = d.workdir
    (work / "record.py").write_text(RECORD)
    d.write_config(header(INERT.replace("@WORK@", str(work))).replace("@PORT@", str(d.port)))
    d.start()
    token = d.token("alice", "admin")
    victim = work / "var" / "x"  # what `rm -rf x` would remove, in the steps' directory
    victim.mkdir(parents=True)
    (victim / "keep").write_text("keep")
    pwned = work / "pwned"
    evil = f"$(touch {pwned}); rm -rf x"

    ev = send_event(d, token, {"alertname": "HostDown", "host": evil})
    assert ev["verdict"] == "new" and ev["incident"]
    run = wait_run_of(d, token, ev["incident"])
    run, steps = wait_outcome(d, token, run["id"])
    assert run["outcome"] == "completed", (run, steps)
    assert run["labels"]["host"] == evil

    seen = json.loads((work / "argv.json").read_text())
    assert seen == {"argv": [evil], "env": evil}
    assert (work / "shell.out").read_text() == evil
    assert not pwned.exists()
    assert (victim / "keep").exists()


# ---- the circuit breaker ----

GUARD = """routes:
  - {match: '{alertname="DiskFull"}', runbook: clean, team: ops}
runbooks:
  - name: clean
    team: ops
    guard: {max_runs: 2, per: 1h, key: host}
    steps:
      - {name: tidy, run: [/bin/true]}
"""


def test_the_guard_trips_after_max_runs_on_a_target_and_says_so(make_daemon):
    d = make_daemon(header(GUARD))
    d.start()
    token = d.token("alice", "admin")

    def disk_full(host, n):
        ev = send_event(d, token, {"alertname": "DiskFull", "host": host, "disk": f"d{n}"})
        assert ev["verdict"] == "new", ev
        run = wait_run_of(d, token, ev["incident"])
        run, _ = wait_outcome(d, token, run["id"])
        return ev["incident"], run

    assert disk_full("web-01", 1)[1]["outcome"] == "completed"
    assert disk_full("web-01", 2)[1]["outcome"] == "completed"
    n, run = disk_full("web-01", 3)
    assert run["outcome"] == "suspended"
    assert run["target"] == "web-01"
    assert "guard" in run["reason"]
    inc, timeline = incident(d, token, n)
    assert inc["state"] in OPEN and inc["team"] == "ops"
    assert any("guard" in t for t in texts(timeline)), timeline
    # Another host is another target.
    assert disk_full("web-02", 4)[1]["outcome"] == "completed"
    # By hand too, and across a restart: the breaker is in the store.
    r = start_run(d, token, "clean", {"host": "web-01"})
    assert r.status == 409 and "guard" in r.json()["reason"], r.body
    d.stop()
    d.start()
    r = start_run(d, token, "clean", {"host": "web-01"})
    assert r.status == 409 and "guard" in r.json()["reason"], r.body
    assert start_run(d, token, "clean", {"host": "web-03"}).status == 201


# ---- approval gates ----

GATE = """routes:
  - {match: '{alertname="Gate"}', runbook: gate, team: ops}
  - {match: '{alertname="QuickGate"}', runbook: quick-gate, team: ops}
runbooks:
  - name: gate
    team: ops
    steps:
      - {name: ask, approve: "restart the database?", timeout: 1h}
      - {name: act, run: [/usr/bin/touch, "${labels.marker}"]}
  - name: quick-gate
    team: ops
    steps:
      - {name: ask, approve: "anyone there?", timeout: 1s}
      - {name: act, run: [/usr/bin/touch, "${labels.marker}"]}
"""


@pytest.fixture
def gates(make_daemon):
    d = make_daemon(header())
    d.write_config(header(GATE).replace("@PORT@", str(d.port)))
    d.start()
    return d, d.token("alice", "admin"), d.token("watcher", "viewer")


def waiting_run(d, token, alertname, marker):
    ev = send_event(d, token, {"alertname": alertname, "marker": str(marker)})
    run = wait_run_of(d, token, ev["incident"])
    run, _ = wait_outcome(d, token, run["id"], outcomes={"waiting"} | FINAL)
    return ev["incident"], run


def test_an_approved_gate_goes_on(gates):
    d, token, viewer = gates
    marker = d.workdir / "approved"
    n, run = waiting_run(d, token, "Gate", marker)
    assert run["outcome"] == "waiting"
    assert run["approval"]["question"] == "restart the database?" and run["approval"]["deadline"]
    assert not marker.exists()
    # A viewer reads but does not decide; an unknown run is 404.
    assert post_json(d, f"/api/v1/runs/{run['id']}/approve", viewer, {}).status == 403
    assert post_json(d, "/api/v1/runs/999999/approve", token, {}).status == 404

    r = post_json(d, f"/api/v1/runs/{run['id']}/approve", token, {"comment": "backups are fresh"})
    assert r.status == 200, r.body
    run, _ = wait_outcome(d, token, run["id"])
    assert run["outcome"] == "completed"
    assert marker.exists()
    # Decided once: a second answer is a conflict.
    assert post_json(d, f"/api/v1/runs/{run['id']}/reject", token, {}).status == 409
    _, timeline = incident(d, token, n)
    approvals = texts(timeline, "approval")
    assert any("waiting for approval: restart the database?" in t for t in approvals)
    assert any("approved by user:alice" in t and "backups are fresh" in t for t in approvals)
    audit = d.get("/api/v1/audit", token=token).json()["audit"]
    assert any(a["action"] == "run.approve" and a["actor"] == "user:alice" for a in audit)


def test_a_rejected_gate_escalates(gates):
    d, token, _ = gates
    marker = d.workdir / "rejected"
    n, run = waiting_run(d, token, "Gate", marker)
    assert run["outcome"] == "waiting"
    # As a person would: the CLI.
    env = {"HALE_URL": d.url, "HALE_TOKEN": token}
    r = run_hale("approve", str(run["id"]), "--reject", "--comment", "not during business hours",
                 env=env)
    assert r.returncode == 0, r.stderr
    run, steps = wait_outcome(d, token, run["id"])
    assert run["outcome"] == "rejected"
    assert not marker.exists()
    assert not [s for s in attempts_of(steps, "act") if s["outcome"] != "skipped"]
    inc, timeline = incident(d, token, n)
    assert inc["state"] in OPEN and inc["team"] == "ops"
    assert any("rejected by user:alice" in t and "not during business hours" in t
               for t in texts(timeline, "approval")), timeline
    audit = d.get("/api/v1/audit", token=token).json()["audit"]
    assert any(a["action"] == "run.reject" for a in audit)
    # Once decided, the CLI says so and fails.
    r = run_hale("approve", str(run["id"]), env=env)
    assert r.returncode != 0


def test_an_unanswered_gate_expires_and_escalates(gates):
    d, token, _ = gates
    marker = d.workdir / "expired"
    ev = send_event(d, token, {"alertname": "QuickGate", "marker": str(marker)})
    run = wait_run_of(d, token, ev["incident"])
    run, _ = wait_outcome(d, token, run["id"])
    assert run["outcome"] == "expired"
    assert not marker.exists()
    inc, timeline = incident(d, token, ev["incident"])
    assert inc["state"] in OPEN and inc["team"] == "ops"
    assert any("escalat" in t.lower() for t in texts(timeline, "notification")), timeline
    assert post_json(d, f"/api/v1/runs/{run['id']}/approve", token, {}).status == 409


# ---- a run cut short by a crash ----

CRASH = """routes:
  - {match: '{alertname="Slow"}', runbook: slow, team: ops}
runbooks:
  - name: slow
    team: ops
    steps:
      - name: long
        timeout: 10m
        shell: 'echo $$ > "@WORK@/pid"; exec sleep 300'
"""


def test_a_run_cut_short_by_sigkill_is_interrupted_and_escalated_after_restart(make_daemon):
    d = make_daemon(header())
    work = d.workdir
    d.write_config(header(CRASH.replace("@WORK@", str(work))).replace("@PORT@", str(d.port)))
    d.start()
    token = d.token("alice", "admin")
    ev = send_event(d, token, {"alertname": "Slow"})
    run = wait_run_of(d, token, ev["incident"])
    wait_for(lambda: (work / "pid").exists() and (work / "pid").read_text().strip(),
             what="the step started")
    step_pid = int((work / "pid").read_text())
    # The step's pid is stored with its attempt: what the next start kills.
    wait_for(lambda: [s for s in get_run(d, token, run["id"])[1]
                      if s["outcome"] == "running" and s["pid"] == step_pid],
             what="the step's pid stored")
    assert get_run(d, token, run["id"])[0]["outcome"] == "running"
    d.signal(signal.SIGKILL)
    d.proc.wait(timeout=10)
    d.log_file.close()
    assert alive(step_pid)  # the step outlived the daemon that was killed
    d.start()
    run, steps = wait_outcome(d, token, run["id"])
    assert run["outcome"] == "interrupted"
    assert not [s for s in steps if s["outcome"] == "running"]
    # The start killed the step's process group: no process of it is left.
    wait_for(lambda: step_pid not in process_groups(), timeout=15,
             what="the step's process group gone")
    assert not alive(step_pid)
    words = f"step 1/1 long: its process group (pid {step_pid}), left by the stop, was killed"
    wait_for(lambda: words in texts(incident(d, token, ev["incident"])[1]),
             what="the timeline saying the group was killed")
    inc, timeline = incident(d, token, ev["incident"])
    assert inc["state"] in OPEN and inc["team"] == "ops"
    assert any("interrupt" in t.lower() for t in texts(timeline)), timeline
    assert any("escalat" in t.lower() for t in texts(timeline, "notification")), timeline
    assert runs(d, token, "?outcome=interrupted")[0]["id"] == run["id"]


# ---- relapses, quarantine, re-enable ----

RELAPSE = """checks:
  - {name: flag, type: file, path: ./flag, every: 1h, runbook: make-flag, team: ops}
runbooks:
  - name: make-flag
    team: ops
    relapse: {within: 1h, quarantine_above: 50%, min_healed: 2}
    steps:
      - {name: make, run: [/usr/bin/touch, "@WORK@/flag"]}
      - {name: prove, verify: flag, within: 5s}
"""


def test_a_runbook_that_keeps_relapsing_is_quarantined_until_enabled(make_daemon):
    d = make_daemon(header())
    work = d.workdir
    d.write_config(header(RELAPSE.replace("@WORK@", str(work))).replace("@PORT@", str(d.port)))
    d.start()
    token = d.token("alice", "admin")
    env = {"HALE_URL": d.url, "HALE_TOKEN": token}

    def break_flag():
        (work / "flag").unlink(missing_ok=True)
        assert d.post("/api/v1/checks/flag/run", token=token).status == 200

    def runbook():
        rbs = d.get("/api/v1/runbooks", token=token).json()["runbooks"]
        return next(rb for rb in rbs if rb["name"] == "make-flag")

    def runs_ended(count):
        got = [r for r in runs(d, token, "?runbook=make-flag") if r["outcome"] in FINAL]
        return got if len(got) >= count else None

    # Healed twice, and twice the same failure came back: a relapse rate of 100%.
    for i in (1, 2):
        break_flag()
        got = wait_for(lambda: runs_ended(i), what=f"run {i} ended")
        assert got[0]["outcome"] == "healed", got
    break_flag()
    rb = wait_for(lambda: runbook()["quarantine"] and runbook(), what="the quarantine")
    assert "relapse" in rb["quarantine"]["reason"]
    assert rb["stats"]["healed"] == 2 and rb["stats"]["relapsed"] == 2
    # Quarantined: the incident that came back is escalated, not healed.
    inc = d.get("/api/v1/incidents", token=token).json()["incidents"][0]
    wait_for(lambda: any("quarantin" in t for t in texts(incident(d, token, inc["id"])[1])),
             what="the incident says the runbook is quarantined")
    assert incident(d, token, inc["id"])[0]["state"] in OPEN
    assert not (work / "flag").exists()

    r = run_hale("runbooks", "stats", "make-flag", env=env)
    assert r.returncode == 0 and "make-flag" in r.stdout, r.stderr
    r = run_hale("runbooks", "enable", "make-flag", env=env)
    assert r.returncode == 0, r.stderr
    assert runbook()["quarantine"] is None
    r = run_hale("runbooks", "enable", "make-flag", env=env)
    assert r.returncode != 0  # not quarantined any more
    audit = d.get("/api/v1/audit", token=token).json()["audit"]
    assert any(a["action"] == "runbook.enable" for a in audit)

    # Re-enabled, it heals again by itself.
    (work / "flag").touch()
    assert d.post("/api/v1/checks/flag/run", token=token).status == 200
    wait_for(lambda: incident(d, token, inc["id"])[0]["state"] == "resolved", what="resolved")
    before = len(runs(d, token, "?runbook=make-flag"))
    break_flag()
    got = wait_for(lambda: runs_ended(before + 1), what="a run after enable")
    assert got[0]["outcome"] == "healed"


def test_a_run_by_hand_is_refused_while_one_runs_on_its_target(make_daemon):
    d = make_daemon(header())
    work = d.workdir
    d.write_config(header(CRASH.replace("@WORK@", str(work))).replace("@PORT@", str(d.port)))
    d.start()
    token = d.token("alice", "admin")
    r = start_run(d, token, "slow")
    assert r.status == 201, r.body
    wait_for(lambda: (work / "pid").exists() and (work / "pid").read_text().strip(),
             what="the step started")
    r = start_run(d, token, "slow")
    assert r.status == 409, r.body
    assert start_run(d, token, "no-such-runbook").status == 404
    assert start_run(d, token, "slow", incident_id=999999).status == 404
    step_pid = int((work / "pid").read_text())
    d.stop()  # a clean stop kills the step's group
    wait_for(lambda: not alive(step_pid), timeout=10, what="the step killed at stop")
