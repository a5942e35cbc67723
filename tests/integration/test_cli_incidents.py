# SPDX-License-Identifier: MIT
"""`hale incidents`, `hale problems` and `hale report` against a real daemon:
a command check that always fails opens an incident, and a responder works
it from the command line while the API confirms each step."""
import json
import time

from conftest import free_port, run_hale

# Two checks that are critical at every run (exit status 2, as a Monitoring
# Plugin says critical), so each opens an incident within a second or two.
CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams:
  - name: ops
  - name: web
checks:
  - {name: always-down, type: command, run: [/bin/sh, -c, "echo down; exit 2"], every: 1s, team: ops}
@MORE@"""
SECOND_CHECK = """  - {name: also-down, type: command, run: [/bin/sh, -c, "echo down; exit 2"], every: 1s, team: ops}
"""

TOKEN_HINT = ("HALE_TOKEN is missing or not valid: create one with "
              "'hale token create NAME --role responder'")


def start(make_daemon, checks=1):
    d = make_daemon(CONFIG.replace("@MORE@", SECOND_CHECK if checks > 1 else ""))
    d.start()
    token = d.token("oncall", "responder")
    return d, token, {"HALE_URL": d.url, "HALE_TOKEN": token}


def hale(env, *args, **kw):
    return run_hale(*args, env=env, **kw)


def wait_incidents(env, count, timeout=20):
    """Polls `hale incidents list --json` until count incidents of our checks show."""
    deadline = time.monotonic() + timeout
    while True:
        r = hale(env, "incidents", "list", "--json")
        if r.returncode == 0:
            found = [i for i in json.loads(r.stdout)["incidents"]
                     if i["check"] in ("always-down", "also-down")]
            if len(found) >= count:
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} incident(s) did not open within {timeout} s: "
                                 f"rc={r.returncode} {r.stdout} {r.stderr}")
        time.sleep(0.2)


def api_incident(d, token, n):
    r = d.get(f"/api/v1/incidents/{n}", token=token)
    assert r.status == 200, r.body
    return r.json()


def test_incident_worked_from_the_cli(make_daemon):
    d, token, env = start(make_daemon)
    inc = wait_incidents(env, 1)[0]
    n = inc["id"]
    assert inc["state"] == "new"

    r = hale(env, "incidents", "ack", str(n))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"incident {n} acknowledged\n"
    got = api_incident(d, token, n)["incident"]
    assert got["state"] == "acknowledged"
    assert got["acknowledged"] is not None

    r = hale(env, "incidents", "note", str(n), "disk", "was", "full")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"incident {n}: note added\n"
    r = hale(env, "incidents", "note", str(n), "-", input="read from stdin\n")
    assert r.returncode == 0, r.stderr
    notes = [(t["text"], t["actor"]) for t in api_incident(d, token, n)["timeline"]
             if t["kind"] == "note"]
    assert notes == [("disk was full", "user:oncall"), ("read from stdin", "user:oncall")]

    r = hale(env, "incidents", "assign", str(n), "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"incident {n} assigned to team web\n"
    assert api_incident(d, token, n)["incident"]["team"] == "web"

    r = hale(env, "incidents", "assign", str(n), "--user", "alice", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["incident"]["assignee"] == "alice"
    got = api_incident(d, token, n)["incident"]
    assert (got["team"], got["assignee"]) == ("web", "alice")

    # The lifecycle refuses close before resolve: exit 1 and the API's reason.
    r = hale(env, "incidents", "close", str(n))
    assert r.returncode == 1
    refused = d.post(f"/api/v1/incidents/{n}/close", token=token)
    assert refused.status == 409
    assert refused.json()["reason"] in r.stderr
    assert api_incident(d, token, n)["incident"]["state"] == "in_progress"

    r = hale(env, "incidents", "resolve", str(n), "--cause", "disk full")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"incident {n} resolved (cause: disk full)\n"
    got = api_incident(d, token, n)["incident"]
    assert got["state"] == "resolved"
    assert got["root_cause"] == "disk full"
    assert "oncall" in got["resolved_by"]
    assert got["resolved"] is not None

    r = hale(env, "incidents", "close", str(n))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"incident {n} closed\n"
    got = api_incident(d, token, n)["incident"]
    assert got["state"] == "closed"
    assert got["closed"] is not None

    # A closed incident takes no more changes, and the CLI says why.
    r = hale(env, "incidents", "ack", str(n))
    assert r.returncode == 1
    assert f"incident {n}" in r.stderr


def test_list_pages_filters_and_shows(make_daemon):
    d, token, env = start(make_daemon, checks=2)
    found = wait_incidents(env, 2)
    ids = sorted(i["id"] for i in found)

    r = hale(env, "incidents", "list", "--limit", "1", "--json")
    assert r.returncode == 0, r.stderr
    page = json.loads(r.stdout)
    assert len(page["incidents"]) == 1 and page["next_cursor"] is not None

    r = hale(env, "incidents", "list", "--limit", "1", "--all", "--json")
    assert r.returncode == 0, r.stderr
    every = json.loads(r.stdout)
    assert every["next_cursor"] is None
    listed = [i["id"] for i in every["incidents"]]
    assert set(ids) <= set(listed)
    assert listed == sorted(listed, reverse=True)  # newest first, across pages

    # The table: a header, then one row per incident, not a TTY so no colour.
    r = hale(env, "incidents", "list", "--all")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "PRI", "STATE", "SEVERITY", "TEAM", "ASSIGNEE", "AGE",
                                "TITLE"]
    assert "\033" not in r.stdout
    assert {int(line.split()[0]) for line in lines[1:]} >= set(ids)
    assert all(line.split()[2] == "new" for line in lines[1:])

    assert hale(env, "incidents", "ack", str(ids[0])).returncode == 0
    r = hale(env, "incidents", "list", "--state", "acknowledged", "--json")
    assert r.returncode == 0, r.stderr
    assert [i["id"] for i in json.loads(r.stdout)["incidents"]] == [ids[0]]
    r = hale(env, "incidents", "list", "--state", "new,in_progress", "--since", "1h", "--json")
    assert r.returncode == 0, r.stderr
    assert ids[0] not in [i["id"] for i in json.loads(r.stdout)["incidents"]]

    r = hale(env, "incidents", "show", str(ids[0]))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"incident {ids[0]}: ")
    assert "TIME" in r.stdout and "ACTOR" in r.stdout and "KIND" in r.stdout
    assert "user:oncall" in r.stdout  # the ack, in the timeline
    r = hale(env, "incidents", "show", str(ids[0]), "--json")
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["incident"]["id"] == ids[0] and isinstance(shown["timeline"], list)
    assert r.stdout.startswith('{\n  "incident"')  # pretty, two spaces

    r = hale(env, "incidents", "show", "999999")
    assert r.returncode == 1 and r.stderr.startswith("hale incidents show: ")


def test_reports_and_problems(make_daemon, tmp_path):
    d, token, env = start(make_daemon)
    n = wait_incidents(env, 1)[0]["id"]

    out = tmp_path / "report.md"
    r = hale(env, "report", "incident", str(n), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert out.read_text().strip()  # the body as it came; it counts durations up to now

    r = hale(env, "report", "incident", str(n), "--format", "json")
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)

    r = hale(env, "report", "summary", "--since", "1d", "--format", "html")
    assert r.returncode == 0, r.stderr
    assert "<" in r.stdout

    r = hale(env, "problems", "list", "--json")
    assert r.returncode == 0, r.stderr
    assert isinstance(json.loads(r.stdout)["problems"], list)
    assert hale(env, "problems", "list").returncode == 0
    r = hale(env, "problems", "show", "999999")
    assert r.returncode == 1 and r.stderr.startswith("hale problems show: ")


def test_open_by_hand_work_a_problem_read_the_audit(make_daemon):
    d, token, env = start(make_daemon)
    r = hale(env, "incidents", "open", "--title", "printer on fire", "--team", "web",
             "--impact", "high", "--severity", "critical", "--label", "floor=3",
             "--description", "-", input="smoke from room 3.14\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("incident ") and r.stdout.endswith(" opened (P1)\n")
    n = int(r.stdout.split()[1])
    got = api_incident(d, token, n)
    inc = got["incident"]
    assert (inc["type"], inc["team"], inc["labels"]) == ("incident", "web", {"floor": "3"})
    assert got["timeline"][-1]["text"] == "smoke from room 3.14"

    r = hale(env, "incidents", "open", "--request", "--title", "a new laptop for Bob", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["incident"]["type"] == "request"

    # Twice more: the trouble recurs (problem_after 3), and a problem opens.
    for _ in range(2):
        assert hale(env, "incidents", "open", "--title", "Printer on fire").returncode == 0
    problems = json.loads(hale(env, "problems", "list", "--json").stdout)["problems"]
    assert len(problems) == 1
    p = problems[0]["id"]

    r = hale(env, "problems", "update", str(p), "--state", "known_error")
    assert r.returncode == 1
    assert "known error needs its root cause" in r.stderr
    r = hale(env, "problems", "update", str(p), "--state", "known_error", "--cause",
             "the fuser overheats", "--workaround", "print in draft mode")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"problem {p} is known_error now\n"
    r = hale(env, "problems", "update", str(p), "--note", "vendor ticket 4711")
    assert r.stdout == f"problem {p} updated\n"
    r = hale(env, "problems", "show", str(p))
    assert r.returncode == 0, r.stderr
    assert "the fuser overheats" in r.stdout and "print in draft mode" in r.stdout
    assert "vendor ticket 4711" in r.stdout and "open -> known_error" in r.stdout
    assert "printer on fire" in r.stdout.lower()

    # The audit log is an admin's: the responder is refused, the admin reads it.
    r = hale(env, "audit")
    assert r.returncode == 1 and "this token's role cannot do that" in r.stderr
    admin = dict(env, HALE_TOKEN=d.token("root", "admin"))
    r = hale(admin, "audit", "--since", "1h")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["TIME", "ACTOR", "ACTION", "TARGET", "ORIGIN"]
    assert any("user:oncall" in x and "problem.known_error" in x and f"problem:{p}" in x
               for x in lines)
    r = hale(admin, "audit", "--limit", "1", "--all", "--json")
    assert r.returncode == 0, r.stderr
    everything = json.loads(r.stdout)
    assert everything["next_cursor"] is None
    actions = [e["action"] for e in everything["audit"]]
    assert actions.count("incident.open") == 3 and actions.count("request.open") == 1
    r = hale(admin, "audit", "--limit", "1")
    assert len(r.stdout.splitlines()) == 2 and "--all lists every page" in r.stderr


def test_viewer_cannot_act(make_daemon):
    d, token, env = start(make_daemon)
    n = wait_incidents(env, 1)[0]["id"]
    viewer = dict(env, HALE_TOKEN=d.token("dashboard", "viewer"))
    assert hale(viewer, "incidents", "list").returncode == 0
    r = hale(viewer, "incidents", "ack", str(n))
    assert r.returncode == 1
    assert "this token's role cannot do that" in r.stderr
    assert "dashboard" in r.stderr  # the API's reason names the token
    assert api_incident(d, token, n)["incident"]["state"] == "new"


def test_unreachable_url_says_what_to_do():
    url = f"http://127.0.0.1:{free_port()}"
    r = run_hale("incidents", "list", env={"HALE_URL": url, "HALE_TOKEN": "hale_x"})
    assert r.returncode == 1
    assert r.stderr == (f"hale incidents list: cannot reach hale at {url}: "
                        "is 'hale serve' running? (set HALE_URL or --url)\n")
    r = run_hale("incidents", "ack", "1", "--url", url)
    assert r.returncode == 1 and f"cannot reach hale at {url}" in r.stderr


def test_missing_or_bad_token_gives_the_hint(daemon):
    for token in ("", "hale_not-a-real-token"):
        r = run_hale("incidents", "list", env={"HALE_URL": daemon.url, "HALE_TOKEN": token})
        assert r.returncode == 1
        assert r.stderr == f"hale incidents list: {TOKEN_HINT}\n"
    r = run_hale("incidents", "ack", "1", "--url", daemon.url, "--token", "wrong",
                 env={"HALE_TOKEN": ""})
    assert r.returncode == 1 and TOKEN_HINT in r.stderr


def test_usage_errors_exit_64():
    r = run_hale("incidents", "ack")
    assert r.returncode == 64 and "missing the incident number N" in r.stderr
    r = run_hale("incidents", "resolve", "x")
    assert r.returncode == 64 and "'x' is not an incident number" in r.stderr
    r = run_hale("incidents", "list", "--colour")
    assert r.returncode == 64 and "unknown option '--colour'" in r.stderr
