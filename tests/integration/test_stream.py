# SPDX-License-Identifier: MIT
"""The live stream (GET /api/v1/stream) and `hale incidents watch` against
the real daemon: a file check the test flips opens and resolves an incident,
people act on it through the API, and a viewer's stream shows each change as
it happens; a reconnect with Last-Event-ID gets exactly what it missed; the
daemon stops promptly with streams open; a client that never reads is cut
instead of growing the daemon's memory."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading

import pytest

from conftest import HALE_BIN, wait_for

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{name: web}]
checks:
  - {name: flag, type: file, path: ./flag, every: 1s, team: web, labels: {service: web}}
"""


class Stream:
    """One GET /api/v1/stream, read message by message."""

    def __init__(self, d, token, query="", last_id=None, timeout=20):
        self.conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if last_id:
            headers["Last-Event-ID"] = last_id
        self.conn.request("GET", "/api/v1/stream" + query, headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.last_id = None

    def body_json(self):
        return json.loads(self.resp.read())

    def next(self):
        """The next message as {"id", "event", "data"} (data parsed), or None at the end."""
        msg = {"id": None, "event": "message", "data": None}
        data = []
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode().rstrip("\r\n")
            if line == "":
                if data:
                    msg["data"] = json.loads("\n".join(data))
                    if msg["id"]:
                        self.last_id = msg["id"]
                    return msg
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name in ("id", "event"):
                msg[name] = value
                if name == "id":
                    self.last_id = value

    def until(self, pred, what="message"):
        seen = []
        while True:
            m = self.next()
            if m is None:
                raise AssertionError(f"the stream ended before {what}; saw {seen}")
            seen.append(m)
            if pred(m):
                return m, seen

    def close(self):
        self.conn.close()


def incident_where(state):
    return lambda m: m["event"] == "incident" and m["data"]["state"] == state


def post_json(d, path, token, body):
    return d.post(path, token=token, body=json.dumps(body).encode(),
                  headers={"Content-Type": "application/json"})


def metric(d, line_re):
    m = re.search(line_re, d.get("/metrics").body, re.M)
    return float(m.group(1)) if m else None


@pytest.fixture
def desk(make_daemon):
    d = make_daemon(CONFIG)
    (d.workdir / "flag").write_text("ok")
    d.start()
    return d, d.token("alice", "responder"), d.token("watcher", "viewer")


def test_stream_shows_check_and_incident_changes_live(desk):
    d, actor, viewer = desk
    s = Stream(d, viewer)
    assert s.status == 200
    assert s.resp.getheader("Content-Type") == "text/event-stream"
    assert s.resp.getheader("Cache-Control") == "no-cache"
    assert s.resp.getheader("X-Accel-Buffering") == "no"
    hello = s.next()
    assert hello["event"] == "hello" and hello["data"]["resumed"] is False
    assert hello["id"] == hello["data"]["id"]

    (d.workdir / "flag").unlink()
    check, _ = s.until(lambda m: m["event"] == "check")
    assert check["data"]["check"] == "flag"
    assert (check["data"]["status"], check["data"]["previous"]) == ("critical", "ok")
    assert "does not exist" in check["data"]["summary"] and check["data"]["time"]
    opened, _ = s.until(incident_where("new"))
    inc = opened["data"]
    assert inc["title"] == "flag is critical" and inc["team"] == "web"
    assert "timeline" not in inc
    # The same shape as GET /api/v1/incidents/{id}.
    got = d.get(f"/api/v1/incidents/{inc['id']}", token=viewer).json()["incident"]
    assert got == inc

    assert d.post(f"/api/v1/incidents/{inc['id']}/ack", token=actor).status == 200
    acked, _ = s.until(incident_where("acknowledged"))
    assert acked["data"]["acknowledged"] is not None
    assert post_json(d, f"/api/v1/incidents/{inc['id']}/notes", actor,
                     {"text": "looking"}).status == 200
    noted, _ = s.until(lambda m: m["event"] == "incident")
    assert noted["data"]["updated"] >= acked["data"]["updated"]

    (d.workdir / "flag").write_text("back")
    recovered, _ = s.until(lambda m: m["event"] == "check")
    assert (recovered["data"]["status"], recovered["data"]["previous"]) == ("ok", "critical")
    s.until(incident_where("resolved"))
    ids = [int(m.split("-")[1]) for m in (hello["id"], check["id"], recovered["id"])]
    assert ids == sorted(ids) and len(set(ids)) == 3
    s.close()


def test_reconnect_gets_exactly_what_was_missed(desk):
    d, actor, viewer = desk
    reference = Stream(d, viewer)   # sees everything
    s = Stream(d, viewer)
    reference.next()
    s.next()
    (d.workdir / "flag").unlink()
    opened, _ = s.until(incident_where("new"))
    n = opened["data"]["id"]
    reference.until(lambda m: m["id"] == opened["id"])
    last = s.last_id
    s.close()

    # Changes while the client is away.
    assert d.post(f"/api/v1/incidents/{n}/ack", token=actor).status == 200
    assert post_json(d, f"/api/v1/incidents/{n}/notes", actor, {"text": "away"}).status == 200
    (d.workdir / "flag").write_text("back")
    _, missed = reference.until(incident_where("resolved"))

    again = Stream(d, viewer, last_id=last)
    hello = again.next()
    assert hello["event"] == "hello" and hello["data"]["resumed"] is True
    replayed = [again.next() for _ in missed]
    assert [(m["id"], m["event"], m["data"]) for m in replayed] == \
        [(m["id"], m["event"], m["data"]) for m in missed]

    # Nothing twice: the next change comes next.
    (d.workdir / "flag").unlink()
    after = again.next()
    assert after["event"] == "check" and after["data"]["status"] == "critical"
    again.close()
    reference.close()

    # Filtered: only incidents, from the same point.
    only = Stream(d, viewer, query="?types=incident", last_id=last)
    assert only.next()["data"]["types"] == ["incident"]
    first = only.next()
    assert first["event"] == "incident" and first["data"]["state"] == "acknowledged"
    only.close()


def test_unknown_or_old_ids_reset(desk):
    d, _, viewer = desk
    s = Stream(d, viewer, last_id="00000000-3")
    hello = s.next()
    assert hello["data"]["resumed"] is False
    reset = s.next()
    assert reset["event"] == "reset" and reset["id"] == hello["data"]["id"]
    assert "fetch what you show again" in reset["data"]["reason"]
    s.close()


def test_refusals_are_json(desk):
    d, actor, viewer = desk
    s = Stream(d, None)
    assert s.status == 401
    assert s.body_json()["error"] == "unauthorized"
    s = Stream(d, viewer, query="?types=bogus")
    assert s.status == 400
    body = s.body_json()
    assert body["error"] == "bad_request" and '"bogus"' in body["reason"]
    reporter = d.token("pusher", "reporter")
    s = Stream(d, reporter)
    assert s.status == 403 and s.body_json()["error"] == "forbidden"


def test_a_reload_keeps_streams(desk):
    d, _, viewer = desk
    s = Stream(d, viewer)
    s.next()
    d.signal(signal.SIGHUP)
    d.wait_log("configuration reloaded")
    (d.workdir / "flag").unlink()
    s.until(incident_where("new"))
    s.close()


def test_the_daemon_stops_promptly_with_streams_open(desk):
    d, _, viewer = desk
    streams = [Stream(d, viewer) for _ in range(3)]
    for s in streams:
        s.next()
    # Under the drain's 10 s: the streams end at once instead of holding it.
    d.stop(timeout=8)
    for s in streams:
        assert s.next() is None
        s.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def test_a_client_that_never_reads_is_cut(make_daemon):
    # Each incident message carries the check's labels: half a megabyte here.
    big = "x" * (512 * 1024)
    d = make_daemon(CONFIG.replace("labels: {service: web}", f"labels: {{service: web, big: {big}}}")
                    .replace("data_dir: ./var", "data_dir: ./var\n  request_timeout: 2s"))
    d.start()
    actor, viewer = d.token("alice", "responder"), d.token("watcher", "viewer")
    n = wait_for(lambda: d.get("/api/v1/incidents", token=viewer).json()["incidents"],
                 what="an incident")[0]["id"]

    # A small window, and never a read.
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", d.port))
    stuck.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {viewer}"
                  "\r\n\r\n".encode())
    wait_for(lambda: metric(d, r"^hale_api_streams (\S+)") == 1, what="the stream open")
    before = rss_kib(d.proc.pid)

    # 60 changes of 0.5 MiB each: 30 MiB the stuck client would have to hold.
    def note(i):
        r = post_json(d, f"/api/v1/incidents/{n}/notes", actor, {"text": f"note {i}"})
        assert r.status == 200, r.body
    threads = [threading.Thread(target=lambda k=k: [note(k * 10 + i) for i in range(10)])
               for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Each change was sent to the streams before its note was answered.
    if os.environ.get("HALE_PRESET") != "asan":  # ASan keeps freed memory in quarantine
        grown = rss_kib(d.proc.pid) - before
        assert grown < 15 * 1024, f"RSS grew by {grown} KiB"
    d.wait_log("fell more than 1 MiB behind")
    assert metric(d, r'^hale_api_streams_cut_total\{reason="slow"\} (\S+)') == 1
    # The server lets go of it (at the latest at request_timeout, the socket being full).
    wait_for(lambda: metric(d, r"^hale_api_streams (\S+)") == 0, what="the stream dropped")
    stuck.close()


# ---- hale incidents watch ---------------------------------------------------


def watch(d, token, *args):
    env = dict(os.environ, HALE_URL=d.url, HALE_TOKEN=token)
    return subprocess.Popen([HALE_BIN, "incidents", "watch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def read_line(proc, timeout=20):
    """The next line of proc's stdout, or an assertion after timeout."""
    got = []
    t = threading.Thread(target=lambda: got.append(proc.stdout.readline()))
    t.daemon = True
    t.start()
    t.join(timeout)
    if not got or not got[0]:
        raise AssertionError(f"no line from hale incidents watch within {timeout} s")
    return got[0]


def stop_watch(proc):
    proc.send_signal(signal.SIGINT)
    rc = proc.wait(timeout=10)
    return rc, proc.stderr.read()


def test_watch_prints_each_change_as_it_happens(desk):
    d, actor, viewer = desk
    table = watch(d, viewer)
    raw = watch(d, viewer, "--json")
    wait_for(lambda: metric(d, r"^hale_api_streams (\S+)") == 2, what="both watching")

    (d.workdir / "flag").unlink()
    line = read_line(table)
    fields = line.split()
    assert fields[3:5] == ["new", "critical"], line
    assert line.rstrip().endswith("flag is critical")
    assert "\033" not in line  # not a terminal: no colour
    first = json.loads(read_line(raw))
    assert first["state"] == "new" and first["title"] == "flag is critical"
    assert fields[1] == str(first["id"])

    assert d.post(f"/api/v1/incidents/{first['id']}/ack", token=actor).status == 200
    assert read_line(table).split()[3] == "acknowledged"
    assert json.loads(read_line(raw))["state"] == "acknowledged"

    for proc in (table, raw):
        rc, err = stop_watch(proc)
        assert rc == 0, err
        assert "watching the incidents of hale at" in err


def test_watch_reconnects_when_the_daemon_restarts(desk):
    d, actor, viewer = desk
    proc = watch(d, viewer)
    wait_for(lambda: metric(d, r"^hale_api_streams (\S+)") == 1, what="watching")
    d.stop()
    d.start()
    # Changes before it is back are not replayed (another run): it says so, below.
    wait_for(lambda: metric(d, r"^hale_api_streams (\S+)") == 1, what="watching again")
    (d.workdir / "flag").unlink()
    line = read_line(proc, timeout=30)
    assert " new " in line and "flag is critical" in line
    rc, err = stop_watch(proc)
    assert rc == 0, err
    assert "connection lost" in err and "reconnected" in err
    # Another run of the daemon: what happened meanwhile cannot be replayed, and it says so.
    assert "changes were missed" in err


def test_watch_refused_without_a_valid_token(desk):
    d, _, _ = desk
    proc = watch(d, "hale_not-a-token")
    assert proc.wait(timeout=10) == 1
    assert "HALE_TOKEN is missing or not valid" in proc.stderr.read()


RUN_CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
runbooks:
  - name: gated
    steps:
      - {name: look, run: [/bin/echo, looked]}
      - {name: ask, approve: "go on?", timeout: 1h}
      - {name: after, run: [/bin/true]}
"""


def test_stream_shows_a_run_start_wait_and_end(make_daemon):
    d = make_daemon(RUN_CONFIG)
    d.start()
    actor, viewer = d.token("alice", "responder"), d.token("watcher", "viewer")
    s = Stream(d, viewer, query="?types=run")
    assert s.status == 200 and s.next()["event"] == "hello"
    r = d.post("/api/v1/runbooks/gated/runs", token=actor, body=b"{}")
    assert r.status == 201, r.body
    rid = r.json()["run"]

    def of_run(outcome=None, step=None):
        return lambda m: (m["event"] == "run" and m["data"]["run"]["id"] == rid and
                          (outcome is None or m["data"]["run"]["outcome"] == outcome) and
                          (step is None or (m["data"]["step"] or {}).get("name") == step))

    first, seen = s.until(of_run())
    assert first["data"]["run"]["runbook"] == "gated"
    assert first["data"]["run"]["steps_total"] == 3
    looked, _ = s.until(of_run(step="look"))
    assert looked["data"]["step"]["action"] == "run"
    waiting, _ = s.until(of_run(outcome="waiting"))
    assert waiting["data"]["run"]["approval"]["question"] == "go on?"
    # The same shape as GET /api/v1/runs/{id}.
    got = d.get(f"/api/v1/runs/{rid}", token=viewer).json()["run"]
    assert got == waiting["data"]["run"]

    assert d.post(f"/api/v1/runs/{rid}/approve", token=actor).status == 200
    done, seen = s.until(of_run(outcome="completed"))
    assert any(m["data"]["run"]["approval"]["decided_by"] == "user:alice" for m in seen
               if m["event"] == "run" and m["data"]["run"].get("approval"))
    assert all(m["event"] == "run" for m in seen)
    assert done["data"]["run"]["ended"] is not None
    s.close()
    r = d.get("/api/v1/stream?types=bogus", token=viewer)
    assert r.status == 400 and "run" in r.json()["reason"]
