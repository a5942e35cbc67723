# SPDX-License-Identifier: MIT
"""Notifications end to end: the real daemon pages a local HTTP receiver
(127.0.0.1, records every request) through webhook notifiers. Healing
that fails pages once, with the steps tried and the links; a heal pages
no one; the next escalation level is paged when nobody acknowledges in
time, and not after an acknowledgement; a receiver that is down gets
every notification once, in order, after retries, even across a
restart; a 4xx is recorded and not retried; a burst is grouped.
Behaviour only: generous waits, nothing asserts timing."""
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import free_port, run_hale, wait_for


class Sink:
    """An HTTP receiver that records what it is sent and answers `status`;
    stop() takes it down (connections refused), start() brings it back on
    the same port."""

    def __init__(self):
        self.port = free_port()
        self.got = []
        self.raw = []  # (path, headers, body) of each message taken
        self.status = 200
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    status = sink.status
                    if status == 200:
                        sink.got.append((self.path, json.loads(body)))
                        sink.raw.append((self.path, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.allow_reuse_address = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def messages(self, path=None):
        with self.lock:
            return [m for p, m in self.got if path is None or p == path]


@pytest.fixture
def sink():
    s = Sink().start()
    yield s
    s.stop()


def config(sink, flag, team_extra="", step="exit 1"):
    return f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
notifiers:
  - {{name: hook, type: webhook, url: "http://127.0.0.1:{sink.port}/hook", secret: s3cret,
     retry: {{backoff: 200ms, max: 1s}}}}
  - {{name: pager, type: webhook, url: "http://127.0.0.1:{sink.port}/pager",
     retry: {{backoff: 200ms, max: 1s}}}}
teams:
  - name: web
    notify: [hook]
    rate_limit: 0s
    oncall: {{people: [alice], handover: "Mon 09:00"}}
{team_extra}
routes:
  - {{match: '{{owner="web"}}', team: web}}
checks:
  - {{name: flag, type: file, path: "{flag}", every: 1s, team: web, runbook: fix,
     labels: {{service: web}}}}
runbooks:
  - name: fix
    team: web
    docs: ["https://wiki.example/fix-flag"]
    steps:
      - {{name: repair, run: [/bin/sh, -c, '{step}']}}
      - {{name: prove, verify: flag, within: 5s}}
"""


def incident(d, token, n):
    r = d.get(f"/api/v1/incidents/{n}", token)
    return r.json() if r.status == 200 else None


def notification_texts(d, token, n):
    return [e["text"] for e in incident(d, token, n)["timeline"] if e["kind"] == "notification"]


def post_event(d, token, service, name, severity="critical", status=None):
    ev = {"labels": {"service": f"{service}-{name}", "alertname": name, "owner": "web"},
          "severity": severity,
          "annotations": {"summary": f"{name} on {service}", "advice": "look at the logs"}}
    if status:
        ev["status"] = status
    r = d.post("/api/v1/events", token=token, body=json.dumps(ev).encode())
    assert r.status == 200, r.body
    return r.json()["events"][0]["incident"]


def test_healing_failed_pages_once_with_the_steps_and_links(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    d = make_daemon(config(sink, flag))
    d.start()
    token = d.token("ops", "admin")
    wait_for(lambda: sink.messages("/hook"), timeout=60, what="a page")
    page = sink.messages("/hook")[0]
    assert page["reason"] == "escalated" and "failed" in page["summary"]
    assert page["incident"]["id"] == 1 and page["incident"]["check"] == "flag"
    assert page["incident"]["assignee"] == "alice"  # on call this week
    assert [s["step"] for s in page["steps"]][:1] == ["repair"]
    assert page["steps"][0]["outcome"] == "failed"
    assert page["docs"] == ["https://wiki.example/fix-flag"]
    # The link opens the incident's page in the web UI: the shell, which routes by the fragment.
    url = page["incident"]["url"]
    assert url == f"{d.url}/#/incidents/1", url
    assert d.get(url.split("#")[0][len(d.url):]).status == 200
    assert page["graph_url"].endswith("/api/v1/checks/flag/graph.svg")
    # Signed: a receiver can trust it.
    import hashlib
    import hmac
    _, headers, body = sink.raw[0]
    want = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hale-Signature"] == want
    wait_for(lambda: any("delivered to hook" in t for t in notification_texts(d, token, 1)),
             what="the delivery on the timeline")
    # Exactly one: nothing more comes for it while it stays open.
    d.stop()
    assert len(sink.messages("/hook")) == 1, sink.messages()


def test_a_heal_pages_no_one(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    d = make_daemon(config(sink, flag, step=f"touch {flag}"))
    d.start()
    token = d.token("ops", "admin")
    healed = wait_for(lambda: (i := incident(d, token, 1)) and
                      i["incident"]["state"] == "resolved" and i, timeout=60, what="healed")
    assert healed["incident"]["resolved_by"] == "hale"
    d.stop()
    assert sink.messages() == []
    assert not [e for e in healed["timeline"] if e["kind"] == "notification"]


def test_a_notify_step_tells_the_team_and_is_not_a_page(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    cfg = config(sink, flag).replace(
        "      - {name: repair,", "      - {notify: 'repairing the flag'}\n      - {name: repair,")
    d = make_daemon(cfg)
    d.start()
    wait_for(lambda: len(sink.messages("/hook")) == 2, timeout=60, what="the step, then the page")
    step, page = sink.messages("/hook")
    assert step["reason"] == "step" and step["summary"] == "repairing the flag"
    assert page["reason"] == "escalated" and "failed" in page["summary"]
    d.stop()


def test_a_notify_step_to_users_reaches_the_users_channel(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    cfg = config(sink, flag, team_extra="    users: {notify: [news]}\n").replace(
        "teams:\n",
        f'  - {{name: news, type: webhook, url: "http://127.0.0.1:{sink.port}/news"}}\n'
        "teams:\n", 1).replace(
        "      - {name: repair,",
        "      - {notify: 'the site is slow, we are on it', to: users}\n      - {name: repair,")
    d = make_daemon(cfg)
    d.start()
    wait_for(lambda: sink.messages("/news") and sink.messages("/hook"), timeout=60,
             what="the users' message and the page")
    news = sink.messages("/news")[0]
    assert news["reason"] == "users" and news["summary"] == "the site is slow, we are on it"
    # The timeline says whom the step told: the team's users, not the team.
    token = d.token("viewer", "viewer")
    assert "to web's users: the site is slow, we are on it" in notification_texts(d, token, 1)
    # Words to the users are not words to the team: the team hears only its page.
    d.stop()
    assert [m["reason"] for m in sink.messages("/hook")] == ["escalated"]


def test_an_incidents_notifications_by_api_and_cli(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    cfg = config(sink, flag).replace(
        "      - {name: repair,", "      - {notify: 'repairing the flag'}\n      - {name: repair,")
    d = make_daemon(cfg)
    d.start()
    token = d.token("viewer", "viewer")

    def both_delivered():
        r = d.get("/api/v1/incidents/1/notifications", token)
        got = r.json()["notifications"] if r.status == 200 else []
        return len(got) == 2 and all(n["state"] == "delivered" for n in got) and got

    got = wait_for(both_delivered, timeout=60, what="the step and the page delivered")
    page, step = got  # newest first
    assert page["reason"] == "escalated" and step["reason"] == "step"
    assert page["notifier"] == "hook" and page["level"] == 1 and page["attempts"] == 1
    assert page["error"] is None and page["next_attempt"] is None and page["settled"]
    assert page["id"] > step["id"] and page["created"] >= step["created"]
    assert d.get("/api/v1/incidents/99/notifications", token).status == 404
    env = {"HALE_URL": d.url, "HALE_TOKEN": token}
    r = run_hale("incidents", "notifications", "1", env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["CREATED", "NOTIFIER", "REASON", "LEVEL"]
    assert lines[1].split()[1:5] == ["hook", "escalated", "1", "delivered"]
    assert lines[2].split()[1:3] == ["hook", "step"]
    r = run_hale("incidents", "notifications", "1", "--json", env=env)
    assert json.loads(r.stdout)["notifications"][0]["reason"] == "escalated"
    d.stop()


LEVELS = """    escalation:
      - {after: 2s, notify: [pager]}
"""


def test_the_next_level_is_paged_unless_acknowledged(make_daemon, sink, tmp_path):
    d = make_daemon(config(sink, tmp_path / "no-such-dir" / "flag", team_extra=LEVELS))
    (tmp_path / "no-such-dir").mkdir()
    (tmp_path / "no-such-dir" / "flag").write_text("")
    d.start()
    token = d.token("ops", "admin")
    reporter = d.token("am", "reporter")

    # Not acknowledged: level 2 (the pager) after its delay.
    a = post_event(d, reporter, "api", "Down")
    wait_for(lambda: sink.messages("/pager"), timeout=30, what="level 2 paged")
    lvl = sink.messages("/pager")[0]
    assert lvl["reason"] == "level" and lvl["incident"]["id"] == a
    assert sink.messages("/hook")[0]["incident"]["id"] == a

    # Acknowledged before the delay: no level 2.
    b = post_event(d, reporter, "api", "Slow")
    wait_for(lambda: len(sink.messages("/hook")) == 2, what="level 1 of the second")
    assert d.post(f"/api/v1/incidents/{b}/ack", token=token).status == 200
    wait_for(lambda: any("escalation stopped" in t for t in notification_texts(d, token, b)),
             what="the chain stopped")
    # Longer than the level's delay, with a tick to spare: polling for an absence.
    wait_for(lambda: any("delivered" in t for t in notification_texts(d, token, b)),
             what="level 1 delivered")
    d.stop()
    assert [m["incident"]["id"] for m in sink.messages("/pager")] == [a]
    d.start()
    import time
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        assert [m["incident"]["id"] for m in sink.messages("/pager")] == [a]
        time.sleep(0.2)


def test_a_receiver_down_gets_everything_once_in_order_even_across_a_restart(
        make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    flag.write_text("")
    d = make_daemon(config(sink, flag, team_extra="    notify_on: [opened, escalated, resolved]\n"))
    d.start()
    reporter = d.token("am", "reporter")
    token = d.token("ops", "admin")
    sink.stop()
    a = post_event(d, reporter, "api", "Down")
    b = post_event(d, reporter, "api", "Slow")
    post_event(d, reporter, "api", "Down", status="resolved")
    wait_for(lambda: any("attempt 2 failed" in t for t in notification_texts(d, token, a)),
             what="retries while the receiver is down")
    # A restart while it is still down: the outbox is kept.
    d.stop()
    d.start()
    wait_for(lambda: any("attempt" in t and "failed" in t
                         for t in notification_texts(d, token, b)), what="retrying after restart")
    sink.start()
    want = {a: ["opened", "escalated", "resolved"], b: ["opened", "escalated"]}

    def arrived():
        got = {}
        for m in sink.messages("/hook"):
            got.setdefault(m["incident"]["id"], []).append(m["reason"])
        return got == want and got

    wait_for(arrived, timeout=30, what=f"{want}")
    assert d.get("/metrics").body.count('hale_notifications_total{notifier="hook",result="delivered"} 5')
    d.stop()
    # Once each: nothing was sent twice.
    assert len(sink.messages("/hook")) == 5


def test_a_refusing_receiver_is_not_retried_forever(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    flag.write_text("")
    d = make_daemon(config(sink, flag))
    d.start()
    reporter = d.token("am", "reporter")
    token = d.token("ops", "admin")
    sink.status = 400
    a = post_event(d, reporter, "api", "Down")
    texts = wait_for(lambda: [t for t in notification_texts(d, token, a) if "failed for good" in t],
                     what="the failure recorded")
    assert "HTTP 400" in texts[0] and "not retried" in texts[0]
    metrics = d.get("/metrics").body
    assert 'hale_notifications_total{notifier="hook",result="failed"} 1' in metrics
    assert "hale_notifications_pending 0" in metrics
    d.stop()


def test_a_burst_is_grouped(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    flag.write_text("")
    d = make_daemon(config(sink, flag).replace("rate_limit: 0s", "rate_limit: 3s"))
    d.start()
    reporter = d.token("am", "reporter")
    ids = [post_event(d, reporter, "api", f"Alert{k}") for k in range(10)]
    def told():
        return [g["id"] for m in sink.messages("/hook")
                for g in (m["grouped"] or [m["incident"]])]

    wait_for(lambda: len(told()) == 10, timeout=30, what="all ten told")
    msgs = sink.messages("/hook")
    assert len(msgs) < 10, msgs
    grouped = [m for m in msgs if m["grouped"]]
    assert grouped and grouped[-1]["incident"]["id"] == grouped[-1]["grouped"][0]["id"]
    assert sorted(told()) == sorted(ids)
    d.stop()


class SmtpSink:
    """A minimal SMTP receiver on 127.0.0.1: it takes every mail and keeps
    (sender, recipients, data). No STARTTLS offered, so hale sends plain."""

    def __init__(self):
        import socketserver

        sink = self
        self.mails = []
        self.lock = threading.Lock()

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.reply("220 sink ready")
                sender, rcpts = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode().strip()
                    verb = cmd.split(" ", 1)[0].split(":", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 sink")
                    elif verb == "MAIL":
                        sender = cmd.split(":", 1)[1].strip()
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip())
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 go on")
                        data = []
                        while (part := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(part)
                        with sink.lock:
                            sink.mails.append((sender, rcpts, b"".join(data).decode()))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_every_channel_delivers(make_daemon, sink, tmp_path):
    smtp = SmtpSink()
    try:
        flag = tmp_path / "flag"
        flag.write_text("")
        log = tmp_path / "exec.log"
        d = make_daemon(f"""server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
notifiers:
  - {{name: chat, type: slack, url: "http://127.0.0.1:{sink.port}/slack"}}
  - {{name: pd, type: pagerduty, routing_key: abc123,
     url: "http://127.0.0.1:{sink.port}/pd"}}
  - {{name: mail, type: email, smtp: "smtp://127.0.0.1:{smtp.port}",
     from: hale@example.com, to: [ops@example.com, lead@example.com]}}
  - {{name: log, type: exec, argv: [/bin/sh, -c, "cat >> {log}"]}}
teams:
  - {{name: web, notify: [chat, pd, mail, log], rate_limit: 0s,
     notify_on: [escalated, resolved]}}
routes:
  - {{match: '{{owner="web"}}', team: web}}
""")
        d.start()
        reporter = d.token("am", "reporter")
        a = post_event(d, reporter, "api", "Down")
        wait_for(lambda: sink.messages("/slack") and sink.messages("/pd") and smtp.mails and
                 log.exists() and log.read_text().strip(), what="every channel told")
        slack = sink.messages("/slack")[0]
        assert f"/incidents/{a}" in slack["text"] and slack["blocks"]
        pd = sink.messages("/pd")[0]
        assert pd["routing_key"] == "abc123" and pd["event_action"] == "trigger"
        assert pd["dedup_key"] == str(a) and pd["payload"]["severity"] == "critical"
        sender, rcpts, data = smtp.mails[0]
        assert sender == "<hale@example.com>"
        assert rcpts == ["<ops@example.com>", "<lead@example.com>"]
        assert f"Subject: [hale] P2 escalated: Down on api (incident #{a})" in data
        import email
        mail = email.message_from_string(data)
        plain = [p.get_payload(decode=True).decode() for p in mail.walk()
                 if p.get_content_type() == "text/plain"]
        assert plain and "look at the logs" in plain[0]
        doc = json.loads(log.read_text().splitlines()[0])
        assert doc["reason"] == "escalated" and doc["advice"] == ["look at the logs"]

        # Acknowledged by a person: PagerDuty hears it by the same dedup_key.
        admin = d.token("ops", "admin")
        assert d.post(f"/api/v1/incidents/{a}/ack", token=admin).status == 200
        wait_for(lambda: len(sink.messages("/pd")) == 2, what="the acknowledge")
        ack = sink.messages("/pd")[1]
        assert ack["event_action"] == "acknowledge" and ack["dedup_key"] == str(a), ack
        assert ack["routing_key"] == "abc123"

        # Resolved: the page follows the incident (PagerDuty resolves by dedup_key).
        post_event(d, reporter, "api", "Down", status="resolved")
        wait_for(lambda: len(sink.messages("/pd")) == 3, what="the resolve")
        assert sink.messages("/pd")[2]["event_action"] == "resolve"
        assert sink.messages("/pd")[2]["dedup_key"] == str(a)
        wait_for(lambda: len(smtp.mails) == 2 and len(log.read_text().splitlines()) == 2,
                 what="every channel told of the end")
        d.stop()
    finally:
        smtp.stop()


def test_a_run_cut_by_a_crash_pages_after_the_restart(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    started = tmp_path / "started"
    d = make_daemon(config(sink, flag, step=f"touch {started}; sleep 60"))
    d.start()
    wait_for(started.exists, timeout=60, what="the repair running")
    # hale dies without a word: the run is found interrupted at the next
    # start, and its escalation is paged like any other.
    d.signal(signal.SIGKILL)
    d.proc.wait(timeout=10)
    d.log_file.close()
    assert sink.messages("/hook") == []
    d.start()
    wait_for(lambda: sink.messages("/hook"), timeout=30, what="the page after the restart")
    page = sink.messages("/hook")[0]
    assert page["reason"] == "escalated" and "interrupted" in page["summary"], page
    d.stop()
    assert len(sink.messages("/hook")) == 1, sink.messages()


def test_a_run_interrupted_by_a_stop_pages_after_the_restart(make_daemon, sink, tmp_path):
    flag = tmp_path / "flag"
    started = tmp_path / "started"
    d = make_daemon(config(sink, flag, step=f"touch {started}; sleep 60"))
    d.start()
    token = d.token("ops", "admin")
    wait_for(started.exists, timeout=60, what="the repair running")
    # SIGTERM while the run is in flight: it ends interrupted and escalates
    # while hale stops. The page may go out before the stop completes, or
    # wait in the outbox for the next start: either way it arrives once.
    d.stop()
    d.start()
    wait_for(lambda: sink.messages("/hook"), timeout=30, what="the page after the restart")
    page = sink.messages("/hook")[0]
    assert page["reason"] == "escalated" and "interrupted" in page["summary"], page
    assert page["incident"]["id"] == 1
    wait_for(lambda: any("delivered to hook" in t for t in notification_texts(d, token, 1)),
             what="the delivery on the timeline")
    d.stop()
    assert len(sink.messages("/hook")) == 1, sink.messages()
