# SPDX-License-Identifier: MIT
"""Retention end to end through the real daemon: with a short retention,
an incident closed through the API disappears after a compaction pass
while the open one stays whole; the pass is logged and counted on
/metrics; and a note longer than the cap is stored cut, saying how much."""
import json
import re
from conftest import wait_for

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
retention:
  closed_incidents: 1s
  every: 1s
  output_max: 1KiB
checks:
  - {name: flag, type: file, path: ./flag, every: 1s}
  - {name: stuck, type: file, path: ./never, every: 1s}
"""


def incidents(d, token):
    r = d.get("/api/v1/incidents", token=token)
    assert r.status == 200, r.body
    return {i["title"]: i for i in r.json()["incidents"]}


def metric(d, name, labels=""):
    text = d.get("/metrics").body
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_a_closed_incident_expires_the_open_one_stays(make_daemon):
    d = make_daemon(CONFIG)
    d.start()
    token = d.token("alice", "admin")
    both = wait_for(lambda: len(incidents(d, token)) == 2 and incidents(d, token),
                    what="two incidents")
    flag, stuck = both["flag is critical"]["id"], both["stuck is critical"]["id"]

    # The flag check recovers, a person closes its incident.
    (d.workdir / "flag").write_text("x")
    wait_for(lambda: incidents(d, token)["flag is critical"]["state"] == "resolved",
             what="resolved")
    r = d.post(f"/api/v1/incidents/{flag}/close", token=token)
    assert r.status == 200 and r.json()["incident"]["state"] == "closed", r.body
    # The newest incident is kept whatever its age (its id must not be handed out again):
    # one opened by hand after it, so the closed one is not the newest, whichever check came last.
    r = d.post("/api/v1/incidents", token=token, body=json.dumps({"title": "later"}).encode())
    assert r.status == 201, r.body

    # A pass after the second it is kept: gone from the list and by id.
    wait_for(lambda: "flag is critical" not in incidents(d, token), what="the closed one gone")
    assert d.get(f"/api/v1/incidents/{flag}", token=token).status == 404
    # The open one is whole, whatever its age.
    got = d.get(f"/api/v1/incidents/{stuck}", token=token).json()
    assert got["incident"]["state"] == "new"
    assert [e["kind"] for e in got["timeline"]][:2] == ["event", "state"]

    d.wait_log("compaction: 1 closed incidents")
    assert metric(d, "hale_store_deleted_rows_total", '{kind="incident"}') == 1
    assert metric(d, "hale_store_deleted_rows_total", '{kind="timeline"}') >= 4
    # Every kind the store deletes has its series, this incident's outbox rows included.
    assert metric(d, "hale_store_deleted_rows_total", '{kind="notification"}') == 0
    assert metric(d, "hale_store_compactions_total", '{result="ok"}') >= 1
    assert metric(d, "hale_store_size_bytes") > 0


def test_a_note_longer_than_the_cap_is_stored_cut(make_daemon):
    d = make_daemon(CONFIG)
    d.start()
    token = d.token("alice", "admin")
    n = wait_for(lambda: incidents(d, token).get("stuck is critical"), what="an incident")["id"]
    text = "first line\n" + "x" * 5000 + "\nlast line"
    r = d.post(f"/api/v1/incidents/{n}/notes", token=token,
               body=json.dumps({"text": text}).encode())
    assert r.status == 200, r.body
    notes = [e["text"] for e in d.get(f"/api/v1/incidents/{n}", token=token).json()["timeline"]
             if e["kind"] == "note"]
    assert len(notes) == 1
    note = notes[0]
    assert len(note.encode()) <= 1024
    assert note.startswith("first line\n") and note.endswith("\nlast line")
    cut = int(re.search(r"\[\.\.\. (\d+) bytes cut\]", note).group(1))
    assert len(note.encode()) - len(f"\n[... {cut} bytes cut]\n") + cut == len(text)
