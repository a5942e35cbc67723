# SPDX-License-Identifier: MIT
"""Events through the real daemon: hale's events body and Alertmanager's
webhook (the captured payloads of ../shared/fixtures) answered once
durable with what became of each event, refused whole with the index and
field at fault, tokens and roles answered as JSON; repeats counted and
Alertmanager's repeated deliveries changing nothing; the events received
read back; silences made through the API holding events back, and one
bound to an incident ending when its events resolve it; an outage of a thousand events (db and the twenty web services
that need it, in batches, db first or last) ending as one root incident
about db with the others its symptoms, closed out by the resolutions; and
`hale send-event` firing and resolving."""
import json
import signal
import threading
import os
from pathlib import Path

import pytest

from conftest import ROOT, http, run_hale, wait_for

FIXTURES = Path(os.environ.get("HALE_FIXTURES", ROOT.parent / "shared" / "fixtures"))

WEB = [f"web-{k:02d}" for k in range(1, 21)]

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{name: dba}]
services:
  - {name: db}
""" + "".join(f"  - {{name: {w}, depends_on: [db]}}\n" for w in WEB) + """
routes:
  - {match: '{service="db"}', team: dba, priority: P1}
"""


@pytest.fixture
def d(make_daemon):
    daemon = make_daemon(CONFIG)
    daemon.start()
    daemon.tokens = {role: daemon.token(f"t-{role}", role)
                     for role in ("reporter", "admin", "viewer", "responder")}
    return daemon


def post(d, path, body, token=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http("POST", d.url + path, token=token or d.tokens["reporter"], body=data,
                headers={"Content-Type": "application/json"})


def get(d, path):
    r = d.get(path, token=d.tokens["viewer"])
    assert r.status == 200, r.body
    return r.json()


def incidents(d, query=""):
    return get(d, "/api/v1/incidents?limit=500" + query)["incidents"]


def assert_json_error(r, status, error):
    assert r.status == status, (r.status, r.body)
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status and body["error"] == error and body["reason"], body
    return body


def fixture(name):
    return (FIXTURES / name).read_bytes()


def test_alertmanager_payloads_as_captured(d):
    want = {
        "alertmanager-webhook-firing-2alerts-legacy-prometheus-msteams.json": ["new", "new"],
        "alertmanager-webhook-firing-truncated-captured-am0.25.json": ["new", "new"],
        "alertmanager-webhook-firing.json": ["new"],
        # web02 was never seen firing: its resolution is ignored.
        "alertmanager-webhook-mixed-status-captured-am0.25.json": ["new", "ignore"],
        "alertmanager-webhook-resolved-captured-am0.25.json": ["resolve", "resolve"],
    }
    for name, verdicts in want.items():
        r = post(d, "/api/v1/alertmanager", fixture(name))
        assert r.status == 200, (name, r.body)
        body = r.json()
        assert body["accepted"] == len(verdicts)
        assert [e["verdict"] for e in body["events"]] == verdicts, (name, body)
    opened = incidents(d)
    assert len(opened) == 6
    disk = [i for i in opened if i["labels"].get("alertname") == "DiskRunningFull"]
    assert len(disk) == 2 and all(i["state"] == "resolved" for i in disk)
    assert all(i["resolved_by"] == "t-reporter" for i in disk)
    probe = [i for i in opened if i["labels"].get("alertname") == "ProbeFailure"][0]
    assert probe["state"] == "new" and probe["severity"] == "critical"
    # Alertmanager's fingerprint is hale's.
    captured = json.loads(fixture("alertmanager-webhook-firing-truncated-captured-am0.25.json"))
    assert sorted(i["fingerprint"] for i in disk) == \
        sorted(a["fingerprint"] for a in captured["alerts"])

    # The same notification again (a retry, the other peer of an HA pair): nothing changes.
    before = get(d, f"/api/v1/incidents/{probe['id']}")
    r = post(d, "/api/v1/alertmanager", fixture("alertmanager-webhook-firing.json"))
    assert r.status == 200 and r.json()["events"][0]["verdict"] == "duplicate"
    assert "delivered again" in r.json()["events"][0]["reason"]
    after = get(d, f"/api/v1/incidents/{probe['id']}")
    assert after["incident"]["events"] == before["incident"]["events"] == 1
    assert after["incident"]["repeats"] == 0
    assert len(after["timeline"]) == len(before["timeline"])
    # The resolved notification again: the incidents are resolved already, so ignored.
    r = post(d, "/api/v1/alertmanager", fixture("alertmanager-webhook-resolved-captured-am0.25.json"))
    assert [e["verdict"] for e in r.json()["events"]] == ["ignore", "ignore"]

    # Every event received is kept, with its verdict; the delivery again is a repeat of its row.
    evs = get(d, f"/api/v1/events?incident={probe['id']}")["events"]
    assert [(e["verdict"], e["repeats"]) for e in evs] == [("new", 1)]
    assert evs[0]["last_received"]
    assert evs[0]["source"] == "alertmanager" and evs[0]["sender"] == "user:t-reporter"
    assert evs[0]["annotations"]["alertmanager_receiver"]
    assert len(get(d, "/api/v1/events?limit=1000")["events"]) == 9 + 2


def test_alertmanager_refusals(d):
    err = assert_json_error(post(d, "/api/v1/alertmanager", {"version": "3", "alerts": []}), 400,
                            "invalid_event")
    assert err["index"] == -1 and err["field"] == "version"
    # Alertmanager never resends a refused notification: an alert hale cannot
    # read is left out (and logged), the others are taken.
    body = json.loads(fixture("alertmanager-webhook-firing.json"))
    body["alerts"].append({"labels": {}})
    r = post(d, "/api/v1/alertmanager", body)
    assert r.status == 200, r.body
    assert len(r.json()["events"]) == len(body["alerts"]) - 1
    assert len(incidents(d)) == 1
    assert "alert 1 of" in d.logs() and "left out" in d.logs()
    # None readable: refused, naming the first.
    err = assert_json_error(post(d, "/api/v1/alertmanager", {"version": "4", "alerts": [
        {"labels": {}}]}), 400, "invalid_event")
    assert err["index"] == 0 and err["field"] == "labels"


def test_events_body_answers_and_refusals(d):
    one = {"labels": {"alertname": "DiskFull", "instance": "web-01"}, "severity": "critical",
           "annotations": {"summary": "Disk / on web-01 is 97% full"}}
    r = post(d, "/api/v1/events", one)
    assert r.status == 200, r.body
    ev = r.json()["events"][0]
    assert ev["verdict"] == "new" and ev["index"] == 0 and len(ev["fingerprint"]) == 16
    n = ev["incident"]
    inc = get(d, f"/api/v1/incidents/{n}")["incident"]
    assert inc["title"] == "Disk / on web-01 is 97% full"
    assert inc["events"] == 1 and inc["service"] is None and inc["symptom_of"] is None

    # Repeats are counted on the incident, listed once on its timeline.
    for _ in range(3):
        assert post(d, "/api/v1/events", [one]).json()["events"][0]["verdict"] == "duplicate"
    got = get(d, f"/api/v1/incidents/{n}")
    assert got["incident"]["events"] == 4 and got["incident"]["repeats"] == 3
    assert sum("repeated" in t["text"] for t in got["timeline"]) == 1

    # A batch with one bad event is refused whole, naming it.
    bad = [one, {"lables": {"a": "b"}}]
    err = assert_json_error(post(d, "/api/v1/events", bad), 400, "invalid_event")
    assert err["index"] == 1 and err["field"] == "lables"
    err = assert_json_error(post(d, "/api/v1/events", [{"labels": {"port": 8080}}]), 400,
                            "invalid_event")
    assert err["field"] == "labels.port"
    assert_json_error(post(d, "/api/v1/events", b"[{"), 400, "invalid_json")
    many = [{"labels": {"a": str(k)}} for k in range(10001)]
    err = assert_json_error(post(d, "/api/v1/events", many), 413, "payload_too_large")
    assert err["index"] == -1
    assert get(d, f"/api/v1/incidents/{n}")["incident"]["events"] == 4
    assert post(d, "/api/v1/events", []).json() == {"accepted": 0, "events": []}

    # Tokens and roles.
    assert_json_error(http("POST", d.url + "/api/v1/events", body=json.dumps(one).encode(),
                           headers={"Content-Type": "application/json"}), 401, "unauthorized")
    assert_json_error(post(d, "/api/v1/events", one, token=d.tokens["viewer"]), 403, "forbidden")
    assert_json_error(post(d, "/api/v1/alertmanager", {}, token=d.tokens["responder"]), 403,
                      "forbidden")
    assert d.get("/api/v1/events", token=d.tokens["reporter"]).status == 403
    assert post(d, "/api/v1/events", one, token=d.tokens["admin"]).status == 200

    # The end resolves it, by the sender.
    r = post(d, "/api/v1/events", {**one, "status": "resolved"})
    assert r.json()["events"][0]["verdict"] == "resolve"
    inc = get(d, f"/api/v1/incidents/{n}")["incident"]
    assert inc["state"] == "resolved" and inc["resolved_by"] == "t-reporter"

    # The events read back, a page at a time.
    seen, repeats, cursor = [], 0, None
    while True:
        page = get(d, "/api/v1/events?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["id"] for e in page["events"]]
        repeats += sum(e["repeats"] for e in page["events"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    # Six events received: the repeats of the first are counted on its row; the admin's (another
    # sender) and the end are rows of their own.
    assert len(seen) == 3 and seen == sorted(seen, reverse=True)
    assert len(seen) + repeats == 6
    assert d.get("/api/v1/events?limit=0", token=d.tokens["viewer"]).status == 400
    assert d.get("/api/v1/events?incident=x", token=d.tokens["viewer"]).status == 400


def outage_events(db_first, repeats=49):
    """A thousand events of one outage: db and twenty web services, each alerting repeatedly."""
    db = {"labels": {"alertname": "DbDown", "service": "db"}, "severity": "critical"}
    web = [{"labels": {"alertname": "Http5xx", "service": w}} for _ in range(repeats) for w in WEB]
    return [db] + web if db_first else web + [db]


@pytest.mark.parametrize("db_first", [True, False], ids=["db-first", "db-last"])
def test_an_outage_is_one_root_incident(d, db_first):
    events = outage_events(db_first)
    assert len(events) == 981
    for k in range(0, len(events), 250):
        r = post(d, "/api/v1/events", events[k:k + 250])
        assert r.status == 200, r.body
    # The rest of the thousand: more db alerts, counted on its incident.
    for _ in range(19):
        assert post(d, "/api/v1/events", events[0 if db_first else -1]).status == 200

    opened = incidents(d)
    roots = [i for i in opened if i["symptom_of"] is None]
    assert len(roots) == 1, [(i["id"], i["service"], i["symptom_of"]) for i in opened]
    root = roots[0]
    assert root["service"] == "db" and root["team"] == "dba" and root["priority"] == "P1"
    assert root["root_cause"] == "probable root cause: service db is down"
    assert all(i["symptom_of"] == root["id"] for i in opened if i is not root)
    assert len(opened) == (1 if db_first else len(WEB))
    assert sum(i["events"] for i in opened) == 1000

    # Everything ends: the outage closes out.
    ends = [{**e, "status": "resolved"} for e in outage_events(db_first, repeats=1)]
    r = post(d, "/api/v1/events", ends)
    assert r.status == 200
    assert all(i["state"] == "resolved" for i in incidents(d)), incidents(d)


def send_event(d, *args, token=None):
    env = {"HALE_URL": d.url, "HALE_TOKEN": token or d.tokens["reporter"]}
    return run_hale("send-event", *args, env=env)


def test_send_event_fires_and_resolves(d):
    r = send_event(d, "--label", "alertname=BackupLate", "--label", "job=nightly",
                   "--severity", "critical", "--summary", "The nightly backup is late",
                   "--annotation", "runbook_url=https://runbooks.example.com/backup")
    assert r.returncode == 0, r.stderr
    assert "new" in r.stdout and "incident 1" in r.stdout
    inc = get(d, "/api/v1/incidents/1")["incident"]
    assert inc["title"] == "The nightly backup is late" and inc["severity"] == "critical"
    assert inc["labels"] == {"alertname": "BackupLate", "job": "nightly"}
    r = send_event(d, "--label", "alertname=BackupLate", "--label", "job=nightly", "--resolve",
                   "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["events"][0]["verdict"] == "resolve"
    assert get(d, "/api/v1/incidents/1")["incident"]["state"] == "resolved"

    # Refusals: usage, the daemon's, tokens.
    r = send_event(d, "--severity", "critical")
    assert r.returncode == 64 and "--label" in r.stderr
    r = send_event(d, "--label", "9x=1")
    assert r.returncode == 1 and "9x" in r.stderr
    r = send_event(d, "--label", "a=b", token=d.tokens["viewer"])
    assert r.returncode == 1 and "report" in r.stderr
    r = run_hale("send-event", "--help")
    assert r.returncode == 0 and "--resolve" in r.stdout


def test_silences_hold_events_back_and_end_with_their_incident(d):
    admin = d.tokens["admin"]
    r = post(d, "/api/v1/silences", {"matchers": '{job="backup"}', "for": "1h",
                                     "comment": "moving the backup server"}, token=admin)
    assert r.status == 201, r.body
    sid = r.json()["silence"]["id"]
    r = post(d, "/api/v1/events", {"labels": {"alertname": "BackupLate", "job": "backup"}})
    ev = r.json()["events"][0]
    assert ev["verdict"] == "silenced" and ev["incident"] is None
    assert f"silence {sid}" in ev["reason"]
    assert incidents(d) == []
    recorded = get(d, "/api/v1/events")["events"][0]
    assert recorded["verdict"] == "silenced" and recorded["silence"] == sid

    # A silence bound to an incident ends once its events resolve it.
    n = post(d, "/api/v1/events", {"labels": {"alertname": "DbDown", "service": "db"}}
             ).json()["events"][0]["incident"]
    r = post(d, "/api/v1/silences", {"matchers": '{service="db"}', "incident": n}, token=admin)
    assert r.status == 201, r.body
    bound = r.json()["silence"]["id"]
    held = post(d, "/api/v1/events", {"labels": {"alertname": "DbSlow", "service": "db"}})
    assert held.json()["events"][0]["verdict"] == "silenced"
    post(d, "/api/v1/events", {"labels": {"alertname": "DbDown", "service": "db"},
                               "status": "resolved"})
    assert get(d, f"/api/v1/incidents/{n}")["incident"]["state"] == "resolved"

    wait_for(lambda: get(d, f"/api/v1/silences/{bound}")["silence"]["state"] == "expired",
             what="the bound silence ends")
    r = post(d, "/api/v1/events", {"labels": {"alertname": "DbSlow", "service": "db"}})
    assert r.json()["events"][0]["verdict"] == "new"


def test_repeats_are_counted_on_one_row_across_a_kill(d):
    """The same event five times is one row with four repeats; the count is
    durable once acknowledged (SIGKILL), and the next repeat after the
    restart counts on the same row."""
    ev = {"labels": {"alertname": "QueueLong", "service": "db"}, "status": "firing",
          "severity": "warning", "summary": "mail queue is long"}
    for _ in range(5):
        r = post(d, "/api/v1/events", ev)
        assert r.status == 200, r.body
        assert r.json()["events"][0]["verdict"] in ("new", "duplicate")
    incident = r.json()["events"][0]["incident"]
    rows = get(d, f"/api/v1/events?incident={incident}")["events"]
    assert len(rows) == 1, rows
    assert rows[0]["repeats"] == 4 and rows[0]["last_received"], rows[0]
    assert rows[0]["verdict"] == "new"

    d.signal(signal.SIGKILL)
    d.proc.wait()
    d.log_file.close()
    d.start()
    rows = get(d, f"/api/v1/events?incident={incident}")["events"]
    assert len(rows) == 1 and rows[0]["repeats"] == 4, rows
    r = post(d, "/api/v1/events", ev)
    assert r.status == 200 and r.json()["events"][0]["verdict"] == "duplicate", r.body
    again = get(d, f"/api/v1/events?incident={incident}")["events"]
    assert [(e["id"], e["repeats"]) for e in again] == [(rows[0]["id"], 5)], again
    # Something else said is an event of its own.
    r = post(d, "/api/v1/events", dict(ev, summary="mail queue is longer"))
    assert r.status == 200, r.body
    assert len(get(d, f"/api/v1/events?incident={incident}")["events"]) == 2


def test_requests_that_arrive_together_each_get_their_own_answer(d):
    """Requests the loop takes in one wake-up are submitted together (one
    of them past the size of a shared submit); each is answered with the
    outcomes of its own events, in its order: the same fingerprints and
    incidents as the same bodies sent again one at a time."""
    def body(k):
        n = 999 if k == 0 else k % 4 + 1
        return [{"labels": {"alertname": f"Together{k}", "part": str(i)}} for i in range(n)]

    def send(k, answers, barrier):
        barrier.wait()
        answers[k] = post(d, "/api/v1/events", body(k))

    for rnd in range(3):
        answers, barrier = {}, threading.Barrier(12)
        threads = [threading.Thread(target=send, args=(rnd * 12 + k, answers, barrier))
                   for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k, r in answers.items():
            assert r.status == 200, r.body
            got = r.json()
            n = len(body(k))
            assert got["accepted"] == n and [e["index"] for e in got["events"]] == list(range(n))
            assert {e["verdict"] for e in got["events"]} == {"new"}, got
            again = post(d, "/api/v1/events", body(k)).json()
            assert [(e["fingerprint"], e["incident"]) for e in again["events"]] == \
                [(e["fingerprint"], e["incident"]) for e in got["events"]]
            assert {e["verdict"] for e in again["events"]} == {"duplicate"}
