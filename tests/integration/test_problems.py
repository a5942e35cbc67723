# SPDX-License-Identifier: MIT
"""People at work on the desk through the real daemon: incidents and
requests opened by hand, problems moved through their lifecycle with a
root cause and a workaround, and the audit log read back, tokens file
changes included. Every POST is checked for its role and its refusals."""
import json

import pytest

from conftest import run_hale, wait_for

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{name: web}]
checks:
  - {name: flag, type: file, path: ./flag, every: 1s, team: web, impact: high}
"""


def post_json(d, path, token, body):
    return d.post(path, token=token, body=json.dumps(body).encode())


@pytest.fixture
def desk(make_daemon):
    d = make_daemon(CONFIG)
    (d.workdir / "flag").write_text("x")  # the check is ok: no incident of its own yet
    d.start()
    return d, d.token("alice", "responder"), d.token("watcher", "viewer"), d.token("root", "admin")


def open_incident(d, token, **body):
    r = post_json(d, "/api/v1/incidents", token, body)
    assert r.status == 201, r.body
    return r.json()["incident"]


def assert_bad_field(r, field, words):
    assert r.status == 400, r.body
    got = r.json()
    assert got["error"] == "bad_request" and got["field"] == field, got
    assert words in got["reason"], got


def audit(d, token, query=""):
    r = d.get("/api/v1/audit" + query, token=token)
    assert r.status == 200, r.body
    return r.json()


def test_people_open_incidents_and_requests(desk):
    d, alice, viewer, _ = desk
    r = post_json(d, "/api/v1/incidents", alice,
                  {"title": "the payroll export is slow", "team": "web", "impact": "high",
                   "severity": "critical", "category": "data", "labels": {"service": "payroll"},
                   "description": "Ann from finance called at 9:05"})
    assert r.status == 201, r.body
    inc = r.json()["incident"]
    assert r.headers["Location"] == f"/api/v1/incidents/{inc['id']}"
    assert inc["type"] == "incident" and inc["state"] == "new"
    assert inc["priority"] == "P1"  # high impact, high urgency
    assert inc["category"] == "data" and inc["team"] == "web"
    assert inc["labels"] == {"service": "payroll"} and inc["check"] is None
    assert inc["fingerprint"] == "manual:incident:the payroll export is slow"
    got = d.get(f"/api/v1/incidents/{inc['id']}", token=viewer).json()
    assert got["incident"] == inc  # durable before the answer
    assert [(e["kind"], e["actor"], e["text"]) for e in got["timeline"]] == [
        ("state", "user:alice", "opened by user:alice as P1 (data)"),
        ("note", "user:alice", "Ann from finance called at 9:05")]

    req = open_incident(d, alice, title="a VPN token for Bob", type="request")
    assert req["type"] == "request" and req["priority"] == "P4"  # medium impact, info
    assert req["team"] is None and req["labels"] == {}

    # A request is worked like an incident, and resolved by the person.
    assert d.post(f"/api/v1/incidents/{req['id']}/ack", token=alice).status == 200
    r = d.post(f"/api/v1/incidents/{req['id']}/resolve", token=alice)
    assert r.json()["incident"]["resolved_by"] == "alice"

    # The check failing and recovering touches only its own incident.
    (d.workdir / "flag").unlink()
    wait_for(lambda: any(i["check"] == "flag" for i in
                         d.get("/api/v1/incidents", token=viewer).json()["incidents"]),
             what="the check's incident")
    (d.workdir / "flag").write_text("x")
    mine = wait_for(lambda: [i for i in d.get("/api/v1/incidents", token=viewer).json()["incidents"]
                             if i["check"] == "flag" and i["state"] == "resolved"],
                    what="the check's incident resolved")
    assert mine[0]["id"] not in (inc["id"], req["id"])
    assert d.get(f"/api/v1/incidents/{inc['id']}", token=viewer).json()["incident"]["state"] == "new"


def test_opening_refuses_bad_fields_and_viewers(desk):
    d, alice, viewer, _ = desk
    r = post_json(d, "/api/v1/incidents", viewer, {"title": "x"})
    assert r.status == 403 and r.json()["error"] == "forbidden"
    assert_bad_field(post_json(d, "/api/v1/incidents", alice, {}), "title", "title is required")
    assert_bad_field(post_json(d, "/api/v1/incidents", alice, {"title": " \t"}), "title",
                     "title is required")
    assert_bad_field(post_json(d, "/api/v1/incidents", alice, {"title": 5}), "title",
                     "must be a string")
    assert_bad_field(post_json(d, "/api/v1/incidents", alice, {"title": "x", "type": "ticket"}),
                     "type", 'expected incident or request, got "ticket"')
    assert_bad_field(post_json(d, "/api/v1/incidents", alice, {"title": "x", "impact": "huge"}),
                     "impact", "expected high, medium or low")
    assert_bad_field(post_json(d, "/api/v1/incidents", alice, {"title": "x", "severty": "info"}),
                     "severty", "not a field of this request")
    assert_bad_field(post_json(d, "/api/v1/incidents", alice,
                               {"title": "x", "labels": {"bad-name": "v"}}),
                     "labels", "not a label name")
    assert_bad_field(post_json(d, "/api/v1/incidents", alice, {"title": "x", "labels": {"a": 1}}),
                     "labels", "must be a string")
    r = post_json(d, "/api/v1/incidents", alice, {"title": "x" * 201})
    assert r.status == 413 and r.json()["field"] == "title"
    r = post_json(d, "/api/v1/incidents", alice, ["title"])
    assert r.status == 400 and "JSON object" in r.json()["reason"]
    assert d.get("/api/v1/incidents", token=viewer).json()["incidents"] == []


def test_problems_worked_by_people(desk):
    d, alice, viewer, root = desk
    # The same trouble reported three times (problem_after is 3): a problem.
    ids = [open_incident(d, alice, title=t)["id"] for t in
           ("Printer on fire", "printer on  fire", "PRINTER ON FIRE")]
    problems = d.get("/api/v1/problems", token=viewer).json()["problems"]
    assert len(problems) == 1
    n = problems[0]["id"]
    got = d.get(f"/api/v1/problems/{n}", token=viewer).json()
    assert got["problem"]["state"] == "open" and got["problem"]["incidents"] == 3
    assert sorted(i["id"] for i in got["incidents"]) == ids
    assert got["timeline"][0]["kind"] == "state" and "opened: 3 incidents" in \
        got["timeline"][0]["text"]

    path = f"/api/v1/problems/{n}"
    r = post_json(d, path, viewer, {"note": "x"})
    assert r.status == 403 and r.json()["error"] == "forbidden"
    assert post_json(d, "/api/v1/problems/99", alice, {"note": "x"}).status == 404
    assert_bad_field(post_json(d, path, alice, {"state": "known_error"}), "root_cause",
                     "known error needs its root cause")
    assert_bad_field(post_json(d, path, alice, {"state": "fixed"}), "state",
                     "expected open, known_error or resolved")
    assert_bad_field(post_json(d, path, alice, {"cause": "x"}), "cause",
                     "not a field of this request")
    r = post_json(d, path, alice, {})
    assert r.status == 400 and "say what to change" in r.json()["reason"]

    r = post_json(d, path, alice, {"state": "known_error", "root_cause": "toner overheats",
                                   "workaround": "print in black and white"})
    assert r.status == 200, r.body
    p = r.json()["problem"]
    assert (p["state"], p["root_cause"], p["workaround"]) == \
        ("known_error", "toner overheats", "print in black and white")
    r = post_json(d, path, alice, {"state": "open"})
    assert r.status == 409 and "not back to open" in r.json()["reason"]

    # The final report of a linked incident says where the problem stands.
    r = d.get(f"/api/v1/incidents/{ids[0]}/report", token=viewer)
    assert r.status == 200
    assert "(known_error)" in r.body and "toner overheats" in r.body and \
        "print in black and white" in r.body

    assert post_json(d, path, alice, {"state": "resolved"}).json()["problem"]["resolved"]
    assert post_json(d, path, alice, {"state": "resolved"}).status == 409
    # Resolved: the next report of it is not the old problem's (too few for a new one yet).
    again = open_incident(d, alice, title="printer on fire")
    assert again["problem"] is None
    assert d.get(path, token=viewer).json()["problem"]["incidents"] == 3
    # Reopened, with the reason.
    assert_bad_field(post_json(d, path, alice, {"state": "open"}), "note", "needs a note")
    r = post_json(d, path, alice, {"state": "open", "note": "it burns again"})
    assert r.status == 200 and r.json()["problem"]["state"] == "open"
    texts = [e["text"] for e in d.get(path, token=viewer).json()["timeline"]]
    assert texts[1:] == ["root cause: toner overheats", "workaround: print in black and white",
                         "open -> known_error", "known_error -> resolved", "resolved -> open",
                         "it burns again"]

    # Every change is in the audit log, with who and from where.
    entries = [e for e in audit(d, root)["audit"] if e["target"] == f"problem:{n}"]
    assert [e["action"] for e in entries] == [
        "problem.root_cause", "problem.workaround", "problem.known_error", "problem.resolve",
        "problem.reopen", "problem.note"]
    assert all(e["actor"] == "user:alice" and e["origin"] == "127.0.0.1" for e in entries)


def test_the_audit_log_pages_and_is_for_admins(desk):
    d, alice, viewer, root = desk
    for k in range(5):
        open_incident(d, alice, title=f"call {k}")
    for token in (viewer, alice):
        r = d.get("/api/v1/audit", token=token)
        assert r.status == 403 and r.json()["error"] == "forbidden"
    everything = audit(d, root)
    assert everything["next_cursor"] is None
    opened = [e for e in everything["audit"] if e["action"] == "incident.open"]
    assert [e["target"] for e in opened] == [f"incident:{k}" for k in range(1, 6)]
    # Oldest first, a page at a time.
    first = audit(d, root, "?limit=2")
    assert [e["id"] for e in first["audit"]] == [e["id"] for e in everything["audit"][:2]]
    rest = audit(d, root, f"?limit=1000&cursor={first['next_cursor']}")
    assert [e["id"] for e in first["audit"] + rest["audit"]] == \
        [e["id"] for e in everything["audit"]]
    assert audit(d, root, "?since=2999-01-01T00:00:00Z")["audit"] == []
    assert len(audit(d, root, "?since=1h")["audit"]) == len(everything["audit"])
    for query, name in (("?limit=0", "limit"), ("?since=soon", "since"), ("?cursor=x", "cursor")):
        r = d.get("/api/v1/audit" + query, token=root)
        assert r.status == 400 and r.json()["reason"].startswith(name + ":"), r.body


def test_token_changes_are_audited(desk):
    d, _, _, root = desk
    tokens = d.workdir / "var" / "tokens"

    def token_entries():
        return [e for e in audit(d, root)["audit"] if e["target"] == "token:ci"]

    secret = d.token("ci", "reporter")
    ci_hash = [line.split()[2] for line in tokens.read_text().splitlines()
               if line.startswith("ci ")][0]
    created = wait_for(token_entries, what="token.create in the audit log")
    assert [(e["action"], e["actor"], e["detail"]) for e in created] == \
        [("token.create", "tokens-file", {"role": "reporter"})]
    assert created[0]["origin"] == str(tokens)
    assert run_hale("token", "revoke", "-c", str(d.config), "ci").returncode == 0
    both = wait_for(lambda: len(token_entries()) == 2 and token_entries(),
                    what="token.revoke in the audit log")
    assert both[1]["action"] == "token.revoke" and both[1]["detail"] == {"role": "reporter"}
    body = d.get("/api/v1/audit", token=root).body
    assert secret not in body and ci_hash not in body
