# SPDX-License-Identifier: MIT
"""Silences through the real daemon: created, listed, shown and expired over
the API by role, bad bodies refused naming the field, the configuration's
silences listed and refused on expiry, a restart keeping a silence and its
state, and `hale silence` end to end."""
import json
import re
import signal
from datetime import datetime, timedelta, timezone

import pytest

from conftest import http, run_hale

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
silences:
  - match: '{service="db"}'
    weekly: Sun 02:00-04:00
    comment: weekly vacuum
  - match: '{service="web", env="prod"}'
    ends: 2099-01-01T00:00:00Z
"""


def rfc3339(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_hours(h):
    return rfc3339(datetime.now(timezone.utc) + timedelta(hours=h))


def post_json(d, path, token, body):
    return d.post(path, token=token, body=json.dumps(body).encode())


def delete(d, path, token):
    return http("DELETE", d.url + path, token=token)


@pytest.fixture
def silenced(make_daemon):
    d = make_daemon(CONFIG)
    d.start()
    return d, d.token("alice", "responder"), d.token("watcher", "viewer"), d.token("root", "admin")


def create(d, token, **body):
    r = post_json(d, "/api/v1/silences", token, body)
    assert r.status == 201, r.body
    return r.json()["silence"]


def listed(d, token, query=""):
    r = d.get("/api/v1/silences" + query, token=token)
    assert r.status == 200, r.body
    return r.json()


def assert_bad_field(r, field, words):
    assert r.status == 400, r.body
    got = r.json()
    assert got["error"] == "bad_request" and got["field"] == field, got
    assert words in got["reason"], got
    return got


def test_silences_created_listed_shown_and_expired_by_role(silenced):
    d, alice, viewer, root = silenced
    r = post_json(d, "/api/v1/silences", viewer, {"matchers": '{service="web"}', "for": "2h"})
    assert r.status == 403, r.body

    r = post_json(d, "/api/v1/silences", alice,
                  {"matchers": '{service="web"}', "for": "2h", "comment": "deploying 4.2"})
    assert r.status == 201, r.body
    s = r.json()["silence"]
    assert r.headers["Location"] == f"/api/v1/silences/{s['id']}"
    assert s["id"] == 1 and s["source"] == "api" and s["state"] == "active"
    assert s["matchers"] == '{service="web"}' and s["comment"] == "deploying 4.2"
    assert s["created_by"] == "user:alice" and s["ended"] is None and s["weekly"] is None
    starts = datetime.fromisoformat(s["starts"].replace("Z", "+00:00"))
    ends = datetime.fromisoformat(s["ends"].replace("Z", "+00:00"))
    assert ends - starts == timedelta(hours=2)

    # Durable before the answer: a viewer reads it back as it was answered.
    got = d.get("/api/v1/silences/1", token=viewer)
    assert got.status == 200 and got.json()["silence"] == s

    weekly = create(d, alice, matchers='{team="ops"}', weekly="mon-fri 22:00-06:00")
    assert weekly["weekly"] == "Mon-Fri 22:00-06:00" and weekly["ends"] is None
    assert weekly["state"] in ("active", "pending")
    later = create(d, alice, matchers='{service="mail"}', starts=in_hours(24), ends=in_hours(30))
    assert later["state"] == "pending"

    ids = [x["id"] for x in listed(d, viewer)["silences"]]
    assert ids == [3, 2, 1, -1, -2]  # newest first, then the configuration's

    assert delete(d, "/api/v1/silences/1", viewer).status == 403
    r = delete(d, "/api/v1/silences/1", alice)
    assert r.status == 200, r.body
    gone = r.json()["silence"]
    assert gone["state"] == "expired" and gone["ended_by"] == "user:alice"
    assert gone["ended"] == gone["ends"]
    again = delete(d, "/api/v1/silences/1", alice)
    assert again.status == 409 and "expired already" in again.json()["reason"], again.body
    assert delete(d, "/api/v1/silences/99", alice).status == 404
    assert d.get("/api/v1/silences/99", token=viewer).status == 404
    assert d.get("/api/v1/silences/abc", token=viewer).status == 404

    # Expired ones are history: listed when asked for.
    assert [x["id"] for x in listed(d, viewer, "?state=expired")["silences"]] == [1]
    assert [x["id"] for x in listed(d, viewer, "?state=pending")["silences"]] == \
        [x["id"] for x in listed(d, viewer)["silences"] if x["state"] == "pending"]
    assert 1 not in [x["id"] for x in listed(d, viewer, "?state=active,pending")["silences"]]
    r = d.get("/api/v1/silences?state=over", token=viewer)
    assert r.status == 400 and "active, pending or expired" in r.json()["reason"]

    actions = [(a["actor"], a["action"], a["target"])
               for a in d.get("/api/v1/audit", token=root).json()["audit"]
               if a["action"].startswith("silence.")]
    assert actions == [("user:alice", "silence.create", "silence:1"),
                       ("user:alice", "silence.create", "silence:2"),
                       ("user:alice", "silence.create", "silence:3"),
                       ("user:alice", "silence.expire", "silence:1")]


def test_silences_pages_run_through_stored_then_configured(silenced):
    d, alice, viewer, _ = silenced
    for k in range(3):
        create(d, alice, matchers=f'{{service="s{k}"}}', **{"for": "1h"})
    seen, cursor = [], None
    while True:
        page = listed(d, viewer, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["silences"]) <= 2
        seen += [x["id"] for x in page["silences"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [3, 2, 1, -1, -2]


def test_silences_bad_bodies_name_the_field(silenced):
    d, alice, _, _ = silenced

    def post(body):
        return post_json(d, "/api/v1/silences", alice, body)

    assert_bad_field(post({"for": "2h"}), "matchers", "matchers is required")
    got = assert_bad_field(post({"matchers": '{service="web" x}', "for": "2h"}), "matchers",
                           "at byte 15")
    assert got["offset"] == 15
    assert_bad_field(post({"matchers": "{}", "for": "2h"}), "matchers", "needs matchers")
    assert_bad_field(post({"matchers": '{env!="prod"}', "for": "2h"}), "matchers",
                     "without labels")
    assert_bad_field(post({"matchers": '{service="web"}', "for": "-2h"}), "for",
                     "longer than 0")
    assert_bad_field(post({"matchers": '{service="web"}', "for": "0s"}), "for", "longer than 0")
    assert_bad_field(post({"matchers": '{service="web"}', "starts": in_hours(3),
                           "ends": in_hours(2)}), "ends", "ends must come after starts")
    assert_bad_field(post({"matchers": '{service="web"}', "ends": in_hours(-1)}), "ends",
                     "over already")
    assert_bad_field(post({"matchers": '{service="web"}', "ends": "tomorrow"}), "ends",
                     "RFC 3339")
    got = assert_bad_field(post({"matchers": '{service="web"}', "weekly": "Mon-Fry 22:00-06:00"}),
                           "weekly", "expected a day")
    assert got["offset"] == 4
    assert_bad_field(post({"matchers": '{service="web"}'}), "ends", "a silence needs an end")
    assert_bad_field(post({"matchers": '{service="web"}', "for": "1h", "ends": in_hours(2)}),
                     "for", "not both")
    assert_bad_field(post({"matchers": '{service="web"}', "for": "1h", "until": "x"}), "until",
                     "not a field")
    assert_bad_field(post({"matchers": '{service="web"}', "incident": 42}), "incident",
                     "there is no incident 42")
    assert_bad_field(post({"matchers": '{service="web"}', "incident": "42"}), "incident",
                     "the number of an open incident")

    # Bound to an incident: an open one is accepted, a resolved one would never end it.
    r = post_json(d, "/api/v1/incidents", alice, {"title": "db failover"})
    assert r.status == 201, r.body
    n = r.json()["incident"]["id"]
    bound = create(d, alice, matchers='{service="db"}', incident=n, comment="failover")
    assert bound["incident"] == n and bound["ends"] is None and bound["state"] == "active"
    assert post_json(d, f"/api/v1/incidents/{n}/resolve", alice, {}).status == 200
    r = post({"matchers": '{service="db"}', "incident": n})
    assert r.status == 409 and "resolved already" in r.json()["reason"], r.body
    # Nothing refused was stored.
    assert [x["id"] for x in listed(d, alice, "?state=active,pending,expired")["silences"]
            if x["id"] > 0] == [bound["id"]]


def test_config_silences_are_listed_and_refused_on_expiry(silenced):
    d, alice, viewer, _ = silenced
    configured = [x for x in listed(d, viewer)["silences"] if x["source"] == "config"]
    assert [(x["id"], x["matchers"], x["weekly"], x["comment"], x["created_by"])
            for x in configured] == [
        (-1, '{service="db"}', "Sun 02:00-04:00", "weekly vacuum", "config"),
        (-2, '{service="web", env="prod"}', None, "", "config")]
    assert configured[1]["state"] == "active"
    assert d.get("/api/v1/silences/-2", token=viewer).json()["silence"] == configured[1]
    r = delete(d, "/api/v1/silences/-1", alice)
    assert r.status == 409, r.body
    assert "hale.yaml:5): remove it there and reload" in r.json()["reason"]
    assert delete(d, "/api/v1/silences/-3", alice).status == 404

    # A reload replaces them.
    d.write_config(CONFIG.replace("@PORT@", str(d.port)).split("  - match: '{service=\"web\"")[0])
    d.signal(signal.SIGHUP)
    d.wait_log("configuration reloaded")
    assert [x["id"] for x in listed(d, viewer)["silences"]] == [-1]


def test_a_restart_keeps_api_silences_and_their_state(make_daemon):
    d = make_daemon(CONFIG)
    d.start()
    alice = d.token("alice", "responder")
    kept = create(d, alice, matchers='{service="web"}', **{"for": "2h"})
    weekly = create(d, alice, matchers='{service="db"}', weekly="Sat,Sun 00:00-24:00")
    ended = create(d, alice, matchers='{service="mail"}', **{"for": "2h"})
    assert delete(d, f"/api/v1/silences/{ended['id']}", alice).status == 200
    before = {x["id"]: x for x in listed(d, alice)["silences"]}
    d.stop()

    d.start()
    after = {x["id"]: x for x in listed(d, alice)["silences"]}
    assert after[kept["id"]] == before[kept["id"]]
    assert after[weekly["id"]] == before[weekly["id"]]
    assert after[ended["id"]]["state"] == "expired"
    assert after[ended["id"]]["ended_by"] == "user:alice"
    # Still in force: it can be expired after the restart, and ids go on.
    assert delete(d, f"/api/v1/silences/{kept['id']}", alice).status == 200
    assert create(d, alice, matchers='{service="x"}', **{"for": "1h"})["id"] == 4


def test_hale_silence_end_to_end(silenced):
    d, alice, viewer, _ = silenced
    env = {"HALE_URL": d.url, "HALE_TOKEN": alice}

    def hale(*args, token_env=env):
        return run_hale(*args, env=token_env)

    r = hale("silence", "add", '{service="web"}', "--for", "2h", "--comment", "deploy")
    assert r.returncode == 0, r.stderr
    # Made for 2h: it ends in 2h (1h59m on a slow machine where a second went by).
    assert re.fullmatch(r'silence 1 \{service="web"\} added: active, ends in (2h|1h59m)\n',
                        r.stdout), r.stdout
    r = hale("silence", "add", '{service="db"}', "--weekly", "Mon-Fri 22:00-06:00", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["silence"]["weekly"] == "Mon-Fri 22:00-06:00"
    r = hale("silence", "add", '{service="x"}', "--from", in_hours(24), "--until", in_hours(30))
    assert r.returncode == 0 and "pending, starts in" in r.stdout, r.stdout + r.stderr

    r = hale("silence", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATE", "MATCHERS", "WHEN", "COMMENT", "CREATED_BY"]
    assert [line.split()[0] for line in lines[1:]] == ["3", "2", "1", "-1", "-2"]
    assert "deploy" in lines[3] and "user:alice" in lines[3]
    assert "weekly vacuum" in lines[4] and "config" in lines[4]

    r = hale("silence", "expire", "1")
    assert r.returncode == 0 and r.stdout.strip() == 'silence 1 {service="web"} expired', r.stdout
    r = hale("silence", "expire", "1")
    assert r.returncode == 1 and "expired already" in r.stderr, r.stderr
    r = hale("silence", "expire", "-1")
    assert r.returncode == 1 and "comes from the configuration" in r.stderr, r.stderr

    # Expired ones are hidden unless asked for.
    assert "1 " not in [line[:2] for line in hale("silence", "list").stdout.splitlines()]
    r = hale("silence", "list", "--all")
    assert [line.split()[0] for line in r.stdout.splitlines()[1:]] == ["3", "2", "1", "-1", "-2"]
    r = hale("silence", "list", "--state", "expired", "--json")
    assert [x["id"] for x in json.loads(r.stdout)["silences"]] == [1]

    r = hale("silence", "show", "-1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('silence -1: {service="db"}\n'), r.stdout
    assert "weekly vacuum" in r.stdout
    r = hale("silence", "show", "1")
    assert "ended by      user:alice" in r.stdout, r.stdout

    # Refusals say what to do, before sending or from the API.
    r = hale("silence", "add", '{service="web"}')
    assert r.returncode == 64 and "say how long" in r.stderr
    r = hale("silence", "add", '{service="web"}', "--for", "-2h")
    assert r.returncode == 64 and "not a duration" in r.stderr
    r = hale("silence", "add", '{service="web" ', "--for", "1h")
    assert r.returncode == 1 and "matchers: missing closing '}' (at byte" in r.stderr, r.stderr
    r = hale("silence", "add", '{service="web"}', "--weekly", "Mon-Fry 10:00-11:00")
    assert r.returncode == 1 and "weekly: expected a day" in r.stderr, r.stderr
    r = hale("silence", "add", '{service="web"}', "--for", "1h",
             token_env={"HALE_URL": d.url, "HALE_TOKEN": viewer})
    assert r.returncode == 1 and "this token's role cannot do that" in r.stderr, r.stderr
    r = hale("silence", "show", "abc")
    assert r.returncode == 64 and "not a silence number" in r.stderr
    for sub in ("add", "list", "show", "expire"):
        r = hale("silence", sub, "--help")
        assert r.returncode == 0 and r.stdout.startswith(f"Usage: hale silence {sub}"), r.stdout
