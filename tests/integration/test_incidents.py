# SPDX-License-Identifier: MIT
"""Incidents end to end through the real daemon and its SQLite store: a
failing check opens an incident, people work it through the API under the
lifecycle, the check recovering resolves it and failing again reopens it,
reports are served, and a daemon SIGKILLed during a burst of notes loses
none that the API acknowledged."""
import json
import signal
import threading

import pytest
from conftest import wait_for

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{name: web}]
checks:
  - {name: flag, type: file, path: ./flag, every: 1s, team: web, impact: high,
     labels: {service: web}}
"""


def post_json(d, path, token, body):
    return d.post(path, token=token, body=json.dumps(body).encode(),
                  headers={"Content-Type": "application/json"})


@pytest.fixture
def desk(make_daemon):
    d = make_daemon(CONFIG)
    d.start()
    return d, d.token("alice", "admin"), d.token("watcher", "viewer")


def incidents(d, token, query=""):
    r = d.get("/api/v1/incidents" + query, token=token)
    assert r.status == 200, r.body
    return r.json()["incidents"]


def test_a_failing_check_opens_an_incident_people_work_it(desk):
    d, token, viewer = desk
    first = wait_for(lambda: incidents(d, viewer), what="an incident")[0]
    assert first["title"] == "flag is critical"
    assert first["state"] == "new"
    assert first["priority"] == "P1"  # high impact, critical
    assert first["team"] == "web" and first["labels"] == {"service": "web", "check": "flag"}
    n = first["id"]

    # A viewer reads but cannot act.
    assert d.post(f"/api/v1/incidents/{n}/ack", token=viewer).status == 403
    # The lifecycle refuses, with a reason.
    r = d.post(f"/api/v1/incidents/{n}/close", token=token)
    assert r.status == 409 and "resolve it before closing it" in r.json()["reason"]
    assert d.post(f"/api/v1/incidents/{n}/ack", token=token).json()["incident"]["state"] == \
        "acknowledged"
    assert d.post(f"/api/v1/incidents/{n}/ack", token=token).status == 409
    assert post_json(d, f"/api/v1/incidents/{n}/notes", token, {"text": ""}).status == 400
    assert post_json(d, f"/api/v1/incidents/{n}/notes", token, {"text": "on it"}).status == 200
    r = post_json(d, f"/api/v1/incidents/{n}/assign", token, {"assignee": "bob"})
    assert r.json()["incident"]["state"] == "in_progress"
    for path in ("/api/v1/incidents/999", "/api/v1/incidents/999/report"):
        r = d.get(path, token=token)
        assert r.status == 404 and "GET /api/v1/incidents lists them" in r.json()["reason"]
    assert d.get("/api/v1/incidents?state=bogus", token=token).status == 400
    # since takes what the CLI takes: a duration, or an RFC 3339 time with any offset.
    assert len(incidents(d, viewer, "?since=2000-01-01T01:00:00%2B01:00")) == 1
    assert incidents(d, viewer, "?since=2999-01-01T00:00:00Z") == []

    # The check recovering resolves it; failing again soon reopens it.
    (d.workdir / "flag").write_text("x")
    wait_for(lambda: incidents(d, viewer)[0]["state"] == "resolved", what="resolved")
    got = d.get(f"/api/v1/incidents/{n}", token=viewer).json()
    assert got["incident"]["resolved_by"] == "hale"
    kinds = [e["kind"] for e in got["timeline"]]
    assert kinds.count("note") == 1 and "assignment" in kinds
    texts = [e["text"] for e in got["timeline"]]
    assert "on it" in texts and any("is ok again" in t for t in texts)
    (d.workdir / "flag").unlink()
    wait_for(lambda: incidents(d, viewer)[0]["reopened"] == 1, what="reopened")
    assert len(incidents(d, viewer)) == 1

    # A misspelt field is refused, naming it, not dropped; an overlong cause too.
    r = post_json(d, f"/api/v1/incidents/{n}/resolve", token, {"casue": "flag file removed"})
    assert r.status == 400 and r.json()["field"] == "casue", r.body
    r = post_json(d, f"/api/v1/incidents/{n}/resolve", token, {"cause": "x" * (64 * 1024 + 1)})
    assert r.status == 413 and r.json()["field"] == "cause", r.body
    r = post_json(d, f"/api/v1/incidents/{n}/ack", token, {"text": "hello"})
    assert r.status == 400 and r.json()["field"] == "text", r.body

    # Resolved by a person with a cause, then closed.
    r = post_json(d, f"/api/v1/incidents/{n}/resolve", token, {"cause": "flag file removed"})
    assert r.json()["incident"]["resolved_by"] == "alice"
    assert d.post(f"/api/v1/incidents/{n}/close", token=token).json()["incident"]["state"] == \
        "closed"
    assert incidents(d, viewer, "?state=closed")[0]["root_cause"] == "flag file removed"

    # Reports of it, in every format.
    r = d.get(f"/api/v1/incidents/{n}/report", token=viewer)
    assert r.status == 200 and "flag file removed" in r.body and "on it" in r.body
    r = d.get(f"/api/v1/incidents/{n}/report?format=json", token=viewer)
    assert r.json()["incident"]["id"] == n
    r = d.get("/api/v1/reports/summary?since=1d&format=html", token=viewer)
    assert r.status == 200 and "<svg" in r.body
    r = d.get("/api/v1/reports/summary?since=1d&format=json", token=viewer)
    assert r.status == 200, r.body


def test_pages_follow_the_cursor(desk):
    d, token, viewer = desk
    n = wait_for(lambda: incidents(d, viewer), what="an incident")[0]["id"]
    # Four incidents: the check recovers, a person closes, the check fails again.
    for _ in range(3):
        (d.workdir / "flag").write_text("x")
        wait_for(lambda: incidents(d, viewer)[0]["state"] == "resolved", what="resolved")
        assert d.post(f"/api/v1/incidents/{n}/close", token=token).status == 200
        (d.workdir / "flag").unlink()
        n = wait_for(lambda: incidents(d, viewer, "?state=open"), what="the next")[0]["id"]
    seen, cursor = [], None
    while True:
        r = d.get("/api/v1/incidents?limit=3" + (f"&cursor={cursor}" if cursor else ""),
                  token=viewer).json()
        seen += [i["id"] for i in r["incidents"]]
        cursor = r["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == 4 == len(set(seen))
    problems = d.get("/api/v1/problems", token=viewer).json()["problems"]
    # The check's events have one fingerprint (its labels and check=flag): one problem.
    flag_fp = d.get(f"/api/v1/incidents/{n}", token=viewer).json()["incident"]["fingerprint"]
    assert problems and problems[0]["fingerprint"] == flag_fp and len(flag_fp) == 16
    one = d.get(f"/api/v1/problems/{problems[0]['id']}", token=viewer).json()
    assert len(one["incidents"]) >= 3


def test_sigkill_during_a_burst_loses_no_acknowledged_note(desk):
    d, token, viewer = desk
    n = wait_for(lambda: incidents(d, viewer), what="an incident")[0]["id"]
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def writer(k):
        i = 0
        while not stop.is_set():
            text = f"note {k}-{i}"
            try:
                r = post_json(d, f"/api/v1/incidents/{n}/notes", token, {"text": text})
            except OSError:
                return
            if r.status == 200:
                with lock:
                    acked.append(text)
            i += 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 200, what="200 acknowledged notes")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    d.start()
    got = d.get(f"/api/v1/incidents/{n}", token=viewer).json()
    stored = {e["text"] for e in got["timeline"] if e["kind"] == "note"}
    missing = [t for t in acked if t not in stored]
    assert not missing, f"{len(missing)} acknowledged notes lost, e.g. {missing[:3]}"


def test_any_bytes_a_check_prints_reach_the_api_as_text(make_daemon):
    d = make_daemon("""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {name: raw, type: command, run: [/bin/sh, -c, "printf 'down \\\\377\\\\n'; exit 2"], every: 1s}
""")
    d.start()
    token = d.token("viewer", "viewer")
    n = wait_for(lambda: incidents(d, token), what="an incident")[0]["id"]
    r = d.get(f"/api/v1/incidents/{n}", token=token)
    assert r.status == 200, r.body
    assert any("down \ufffd" in e["text"] for e in r.json()["timeline"])


def test_a_check_that_recovered_while_hale_was_down_resolves_at_start(desk):
    d, token, viewer = desk
    n = wait_for(lambda: incidents(d, viewer), what="an incident")[0]["id"]
    d.stop()
    (d.workdir / "flag").write_text("x")
    d.start()
    got = wait_for(lambda: [i for i in incidents(d, viewer) if i["state"] == "resolved"],
                   what="resolved after the restart")
    assert got[0]["id"] == n and got[0]["resolved_by"] == "hale"


def test_an_unreadable_row_is_a_500_and_the_daemon_keeps_serving(desk):
    import sqlite3
    d, token, viewer = desk
    n = wait_for(lambda: incidents(d, viewer), what="an incident")[0]["id"]
    db = sqlite3.connect(d.workdir / "var" / "hale.db", timeout=10)
    db.execute("UPDATE incidents SET state = 'weird' WHERE id = ?", (n,))
    db.commit()
    db.close()
    for path in (f"/api/v1/incidents/{n}", f"/api/v1/incidents/{n}/report"):
        r = d.get(path, token=viewer)
        assert r.status == 500 and r.json()["error"] == "internal", r.body
    assert d.get("/healthz").status == 200


def test_list_filters_by_priority_service_and_title_text(make_daemon):
    d = make_daemon("""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{name: web}]
""")
    d.start()
    token, viewer = d.token("alice", "admin"), d.token("watcher", "viewer")
    opened = {}
    for title, impact in [("Checkout is SLOW", "high"), ("checkout errors", "low"),
                          ("payroll export slow", "high"), ("login slow", "medium")]:
        r = post_json(d, "/api/v1/incidents", token,
                      {"title": title, "impact": impact, "severity": "critical"})
        assert r.status in (200, 201), r.body
        i = r.json()["incident"]
        opened[title] = (i["id"], i["priority"])
    # Events name the service an incident is about.
    for alert, service in [("SearchSlow", "shop"), ("PayDown", "payroll")]:
        r = post_json(d, "/api/v1/events", token,
                      {"labels": {"alertname": alert, "service": service},
                       "severity": "critical", "summary": f"{alert} on {service}"})
        assert r.status in (200, 202), r.body
    wait_for(lambda: len(incidents(d, viewer)) == 6, what="six incidents")

    def titles(query):
        return [i["title"] for i in incidents(d, viewer, query)]

    assert titles("?service=shop") == ["SearchSlow on shop"]
    assert titles("?service=payroll") == ["PayDown on payroll"]
    assert titles("?service=shop&q=payroll") == []
    assert titles("?service=nowhere") == []
    assert titles("?q=checkout") == ["checkout errors", "Checkout is SLOW"]
    assert titles("?q=SLOW") == ["SearchSlow on shop", "login slow", "payroll export slow",
                                 "Checkout is SLOW"]
    p = opened["payroll export slow"][1]  # "P1".."P5"
    want = [i["title"] for i in incidents(d, viewer) if i["priority"] == p]
    assert "payroll export slow" in want and len(want) < 6
    assert titles(f"?priority={p[1]}") == want
    assert titles(f"?priority={p}") == want
    other = opened["checkout errors"][1]
    assert other != p
    assert titles(f"?priority={p[1]},{other[1]}&q=checkout") == ["checkout errors",
                                                                  "Checkout is SLOW"]
    assert titles("?q=nothing-like-it") == []

    # The cursor pages through the filtered list alone.
    seen, cursor = [], None
    while True:
        r = d.get("/api/v1/incidents?limit=1&q=slow" + (f"&cursor={cursor}" if cursor else ""),
                  token=viewer).json()
        seen += [i["title"] for i in r["incidents"]]
        cursor = r["next_cursor"]
        if not cursor:
            break
    assert seen == titles("?q=SLOW")

    for bad in ["?priority=6", "?priority=P0", "?priority=1,,2", "?priority=high",
                "?q=" + "x" * 201]:
        r = d.get("/api/v1/incidents" + bad, token=viewer)
        assert r.status == 400 and r.json()["error"] == "bad_request", (bad, r.body)
    assert "priority" in d.get("/api/v1/incidents?priority=6", token=viewer).json()["reason"]
