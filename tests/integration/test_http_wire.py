# SPDX-License-Identifier: MIT
"""The http kind's own HTTP/1.1 client (plain http:// URLs) against small
raw-socket servers that record the request they got and answer with canned
bytes: the exact request sent, and answers nginx never gives (chunks split
across writes, a body ended by closing, an interim 100, garbage, a cut
answer, no answer at all, a body over the limit, no reason phrase, a HEAD
answer with a length but no body). Also: a proxy in the environment still
goes through libcurl, and an IPv6 literal's Host header. `hale check`
runs the checks; nothing here asserts timing."""
import json
import os
import socket
import threading
import time

import pytest

from conftest import free_port, run_hale, wait_for

# Empty values: no proxy, whatever the environment running the tests has.
NO_PROXY_ENV = {"http_proxy": "", "all_proxy": "", "ALL_PROXY": "", "HTTP_PROXY": ""}

HOLD = object()  # in an answer: keep the connection open until the client ends it


class Server:
    """Listens on a free port; for each connection reads one request (head
    and Content-Length body), records its bytes, then plays `answer`: bytes
    are sent, a float is a pause in seconds, HOLD waits for the client to
    end the connection. Then closes its side."""

    def __init__(self, answer, host="127.0.0.1", family=socket.AF_INET):
        self.answer = answer
        self.requests = []
        self.ends = []  # per connection: "eof", "reset" (how the client ended a HOLD)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.threads = [threading.Thread(target=self.accept_loop, daemon=True)]
        self.threads[0].start()

    def accept_loop(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self.serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    @staticmethod
    def read_request(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            got = conn.recv(65536)
            if not got:
                return data
            data += got
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            got = conn.recv(65536)
            if not got:
                break
            body += got
        return head + b"\r\n\r\n" + body

    def serve(self, conn):
        conn.settimeout(30)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            request = self.read_request(conn)
            with self.lock:
                self.requests.append(request)
            for part in self.answer:
                if part is HOLD:
                    self.hold(conn)
                elif isinstance(part, float):
                    time.sleep(part)
                else:
                    conn.sendall(part)
        except OSError:
            pass  # the client may end the connection while we write: it has what it needs
        finally:
            conn.close()

    def hold(self, conn):
        try:
            while conn.recv(65536):
                pass
            end = "eof"
        except ConnectionResetError:
            end = "reset"
        with self.lock:
            self.ends.append(end)

    def request(self):
        """The one request received (fails when there were none or more)."""
        with self.lock:
            assert len(self.requests) == 1, self.requests
            return self.requests[0]

    def stop(self):
        self.stopped.set()
        for t in self.threads:
            t.join(timeout=35)
        self.listener.close()


@pytest.fixture
def serve():
    """serve(answer, ...) -> a started Server; all are stopped after the test."""
    made = []

    def make(answer, **kw):
        s = Server(answer, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def run_checks(tmp_path, checks, env=None, timeout=30):
    """Runs `hale check --json` on a config holding `checks` (YAML list items);
    returns (exit code, {name: observation})."""
    (tmp_path / "var").mkdir(exist_ok=True)
    cfg = tmp_path / "hale.yaml"
    cfg.write_text(f"""server:
  listen: "127.0.0.1:1"
  data_dir: ./var
checks:
{checks}""")
    full_env = dict(NO_PROXY_ENV)
    full_env.update(env or {})
    r = run_hale("check", "-c", str(cfg), "--json", env=full_env, timeout=timeout)
    assert r.stdout, (r.returncode, r.stderr)
    return r.returncode, {o["check"]: o for o in json.loads(r.stdout)}


def sample(obs, label):
    found = [s["value"] for s in obs["samples"] or [] if s["label"] == label]
    assert len(found) == 1, obs
    return found[0]


def parse_request(raw):
    """(request line, [(name, value)], body) of raw request bytes."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, raw
    lines = head.decode("ascii").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        assert colon, (line, raw)
        headers.append((name, value.strip()))
    return lines[0], headers, body


def values(headers, name):
    return [v for n, v in headers if n.lower() == name.lower()]


OK_2 = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]


# ---- 1. the request ----

def test_get_request_is_what_curl_would_send_with_the_configured_headers(tmp_path, serve):
    s = serve(OK_2)
    rc, out = run_checks(tmp_path, f"""\
  - name: get
    type: http
    url: "http://127.0.0.1:{s.port}/path?q=1#x"
    timeout: 10s
    headers: {{X-Test: a, Accept: text/plain, X-Empty: ""}}
""")
    assert rc == 0 and out["get"]["status"] == "ok", out
    line, headers, body = parse_request(s.request())
    assert line == "GET /path?q=1 HTTP/1.1"  # the fragment stays with the client
    assert values(headers, "Host") == [f"127.0.0.1:{s.port}"]
    ua = values(headers, "User-Agent")
    assert len(ua) == 1 and ua[0].startswith("hale/") and len(ua[0]) > len("hale/"), headers
    assert values(headers, "Connection") == ["close"]
    assert values(headers, "X-Test") == ["a"]
    assert values(headers, "Accept") == ["text/plain"]  # replaces */*, not added to it
    assert values(headers, "X-Empty") == [""]
    assert values(headers, "Content-Length") == [] and body == b""


def test_default_accept_and_post_body(tmp_path, serve):
    s = serve(OK_2)
    rc, out = run_checks(tmp_path, f"""\
  - {{name: post, type: http, url: "http://127.0.0.1:{s.port}/form", method: POST, body: "a=1",
     timeout: 10s}}
""")
    assert rc == 0 and out["post"]["status"] == "ok", out
    line, headers, body = parse_request(s.request())
    assert line == "POST /form HTTP/1.1"
    assert values(headers, "Accept") == ["*/*"]
    assert values(headers, "Content-Length") == ["3"]
    assert values(headers, "Content-Type") == ["application/x-www-form-urlencoded"]
    assert body == b"a=1"


def test_put_sends_put_and_a_bare_url_asks_for_slash(tmp_path, serve):
    s = serve(OK_2)
    rc, out = run_checks(tmp_path, f"""\
  - {{name: put, type: http, url: "http://127.0.0.1:{s.port}", method: PUT, timeout: 10s}}
""")
    assert rc == 0 and out["put"]["status"] == "ok", out
    line, headers, _ = parse_request(s.request())
    assert line == "PUT / HTTP/1.1"
    assert values(headers, "Host") == [f"127.0.0.1:{s.port}"]


# ---- answers nginx does not give ----

def test_chunked_answer_split_across_writes_is_joined(tmp_path, serve):
    s = serve([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
               0.05, b"8\r\nhello wo\r\n", 0.05, b"5\r\nrld, \r\n", 0.05,
               b"b\r\nfrom chunk", 0.05, b"s\r\n0\r\n\r\n"])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: chunked, type: http, url: "http://127.0.0.1:{s.port}/", timeout: 10s,
     expect: {{body: "hello world, from chunks$"}}}}
""")
    obs = out["chunked"]
    assert rc == 0 and obs["status"] == "ok", obs
    assert sample(obs, "size") == len("hello world, from chunks")
    assert obs["summary"].startswith("HTTP/1.1 200 OK - 24 bytes"), obs


def test_http_1_0_body_ended_by_close(tmp_path, serve):
    body = b"start " + b"." * 40000 + b" end"
    s = serve([b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", 0.05,
               body[:20000], 0.05, body[20000:]])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: closed, type: http, url: "http://127.0.0.1:{s.port}/", timeout: 10s,
     expect: {{body: "^start \\\\.+ end$"}}}}
""")
    obs = out["closed"]
    assert rc == 0 and obs["status"] == "ok", obs
    assert obs["summary"].startswith("HTTP/1.0 200 OK"), obs
    assert sample(obs, "size") == len(body)


def test_interim_100_continue_then_the_final_answer(tmp_path, serve):
    s = serve([b"HTTP/1.1 100 Continue\r\n\r\n", 0.05,
               b"HTTP/1.1 200 Fine\r\nContent-Length: 5\r\n\r\nfinal"])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: cont, type: http, url: "http://127.0.0.1:{s.port}/", method: POST, body: "x",
     timeout: 10s, expect: {{status: 200, body: "^final$"}}}}
""")
    obs = out["cont"]
    assert rc == 0 and obs["status"] == "ok", obs
    assert obs["summary"].startswith("HTTP/1.1 200 Fine - 5 bytes"), obs
    assert sample(obs, "status") == 200


def test_garbage_answer_is_invalid(tmp_path, serve):
    s = serve([b"hello\r\n\r\n"])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: junk, type: http, url: "http://127.0.0.1:{s.port}/", timeout: 10s}}
""")
    obs = out["junk"]
    assert rc == 2 and obs["status"] == "critical", obs
    assert "invalid HTTP answer" in obs["summary"], obs
    assert f"127.0.0.1:{s.port}" in obs["summary"], obs  # which URL


def test_closed_without_answer_and_closed_mid_body(tmp_path, serve):
    silent = serve([])
    short = serve([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: silent, type: http, url: "http://127.0.0.1:{silent.port}/", timeout: 10s}}
  - {{name: short, type: http, url: "http://127.0.0.1:{short.port}/", timeout: 10s}}
""")
    assert rc == 2, out
    assert out["silent"]["status"] == "critical", out["silent"]
    assert "closed the connection without answering" in out["silent"]["summary"], out["silent"]
    assert out["short"]["status"] == "critical", out["short"]
    assert "before the end" in out["short"]["summary"], out["short"]


def hale_side_connections(port):
    """Sockets (any state) whose remote end is 127.0.0.1:port: the client's."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                found.append(fields[1:4])
    return found


def test_no_answer_in_time_says_so_and_leaves_no_connection(tmp_path, serve):
    s = serve([HOLD])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: mute, type: http, url: "http://127.0.0.1:{s.port}/", timeout: 500ms}}
""", timeout=20)
    obs = out["mute"]
    assert rc == 2 and obs["status"] == "critical", obs
    assert "timed out" in obs["summary"], obs
    assert obs["long_output"] == f"no answer from http://127.0.0.1:{s.port}/ yet", obs
    # hale has exited; the server ends its side once it sees the client's end.
    wait_for(lambda: len(s.ends) == 1, timeout=10, what="the client's end seen")
    wait_for(lambda: not hale_side_connections(s.port), timeout=5,
             what="no client socket left (TIME_WAIT, FIN_WAIT)")


def test_slow_body_in_time_out_tells_how_far_it_got(tmp_path, serve):
    s = serve([b"HTTP/1.1 200 Slow\r\nContent-Length: 100\r\n\r\nabc", HOLD])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: slow, type: http, url: "http://127.0.0.1:{s.port}/", timeout: 500ms}}
""", timeout=20)
    obs = out["slow"]
    assert rc == 2 and obs["status"] == "critical", obs
    assert obs["long_output"] == "HTTP/1.1 200 Slow; 3 bytes of body so far", obs


def test_body_over_one_mib_is_judged_on_its_first_mib(tmp_path, serve):
    mib = 1 << 20
    body = b"x" * mib + b"tail" * 1000
    answer = [b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body), body]
    head_ok = serve(answer)
    tail = serve(answer)
    rc, out = run_checks(tmp_path, f"""\
  - {{name: head-ok, type: http, url: "http://127.0.0.1:{head_ok.port}/", timeout: 10s,
     expect: {{body: "^x"}}}}
  - {{name: tail, type: http, url: "http://127.0.0.1:{tail.port}/", timeout: 10s,
     expect: {{body: "tail"}}}}
""")
    obs = out["head-ok"]
    assert obs["status"] == "ok", obs
    assert "body cut" in (obs["notes"] or ""), obs
    assert sample(obs, "size") == mib
    # What lies past the first MiB is not seen, and the summary says so.
    obs = out["tail"]
    assert obs["status"] == "critical", obs
    assert "body does not match /tail/ in its first 1 MiB" in obs["summary"], obs
    assert rc == 2


def test_status_without_reason_phrase(tmp_path, serve):
    bare = serve([b"HTTP/1.1 204\r\n\r\n"])
    spaced = serve([b"HTTP/1.1 204 \r\n\r\n"])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: bare, type: http, url: "http://127.0.0.1:{bare.port}/", timeout: 10s}}
  - {{name: spaced, type: http, url: "http://127.0.0.1:{spaced.port}/", timeout: 10s}}
""")
    assert rc == 0, out
    for name in ("bare", "spaced"):
        obs = out[name]
        assert obs["status"] == "ok", obs
        assert obs["summary"].startswith("HTTP/1.1 204 - 0 bytes"), obs
        assert sample(obs, "status") == 204


def test_head_answer_with_length_but_no_body_does_not_hang(tmp_path, serve):
    # The server keeps the connection open: waiting for 5 bytes would hang until the timeout.
    s = serve([b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", HOLD])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: head, type: http, url: "http://127.0.0.1:{s.port}/", method: HEAD, timeout: 10s}}
""")
    obs = out["head"]
    assert rc == 0 and obs["status"] == "ok", obs
    assert obs["summary"].startswith("HTTP/1.1 200 OK - 0 bytes"), obs
    line, _, _ = parse_request(s.request())
    assert line == "HEAD / HTTP/1.1"


def test_head_sends_no_body_even_when_one_is_configured(tmp_path, serve):
    s = serve(OK_2)
    rc, out = run_checks(tmp_path, f"""\
  - {{name: head, type: http, url: "http://127.0.0.1:{s.port}/", method: HEAD, body: "b", timeout: 10s}}
""")
    assert rc == 0 and out["head"]["status"] == "ok", out
    line, headers, body = parse_request(s.request())
    assert line == "HEAD / HTTP/1.1"
    assert values(headers, "Content-Length") == [] and body == b"", headers


def test_answers_that_have_no_body_whatever_their_length_says(tmp_path, serve):
    # A 304 with a length, the connection held open: reading a body would wait for the timeout.
    not_modified = serve([b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n", HOLD])
    no_content = serve([b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n"])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: cached, type: http, url: "http://127.0.0.1:{not_modified.port}/", timeout: 10s,
      headers: {{If-None-Match: '"v1"'}}, expect: {{status: 304}}}}
  - {{name: empty, type: http, url: "http://127.0.0.1:{no_content.port}/", timeout: 10s}}
""")
    assert rc == 0, out
    assert out["cached"]["summary"].startswith("HTTP/1.1 304 Not Modified - 0 bytes"), out
    assert out["empty"]["summary"].startswith("HTTP/1.1 204 No Content - 0 bytes"), out


def test_answers_libcurl_takes_are_taken(tmp_path, serve):
    # A length beside chunks (the chunks count), a control byte in a header value.
    both = serve([b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"2\r\nok\r\n0\r\n\r\n"])
    odd = serve([b"HTTP/1.1 200 OK\r\nX-Odd: a\x01b\r\nContent-Length: 2\r\n\r\nok"])
    rc, out = run_checks(tmp_path, f"""\
  - {{name: both, type: http, url: "http://127.0.0.1:{both.port}/", timeout: 10s, expect: {{body: "^ok$"}}}}
  - {{name: odd, type: http, url: "http://127.0.0.1:{odd.port}/", timeout: 10s}}
""")
    assert rc == 0, out
    assert sample(out["both"], "size") == 2, out
    assert out["odd"]["status"] == "ok", out


# ---- a name with two addresses, the first silent ----

NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"


@pytest.mark.skipif(not os.path.exists(NSS_WRAPPER), reason="needs libnss-wrapper")
def test_a_silent_first_address_gives_way_to_the_next(tmp_path, serve):
    s = serve(OK_2, host="127.0.0.1")
    # ::1 on the same port with a full queue: a connection there is never answered.
    silent = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    silent.bind(("::1", s.port))
    silent.listen(0)
    queued = [socket.create_connection(("::1", s.port), timeout=5)]
    extra = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    extra.setblocking(False)
    try:
        extra.connect(("::1", s.port))
    except BlockingIOError:
        pass
    queued.append(extra)
    # The name resolves to ::1 first, then 127.0.0.1 (nss_wrapper's hosts file).
    hosts = tmp_path / "hosts"
    hosts.write_text("::1 twofold.test\n127.0.0.1 twofold.test\n")
    env = {"LD_PRELOAD": NSS_WRAPPER, "NSS_WRAPPER_HOSTS": str(hosts),
           "NSS_WRAPPER_PASSWD": "/etc/passwd", "NSS_WRAPPER_GROUP": "/etc/group",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    # One check a run: nss_wrapper's first lookups race when two come at once.
    try:
        rc, web = run_checks(tmp_path, f"""\
  - {{name: web, type: http, url: "http://twofold.test:{s.port}/", timeout: 4s}}
""", env=env)
        rc2, port = run_checks(tmp_path, f"""\
  - {{name: port, type: tcp, host: twofold.test, port: {s.port}, timeout: 4s}}
""", env=env)
    finally:
        for q in queued:
            q.close()
        silent.close()
    # Each address gets half of the 4 s: the second answers before the run's timeout.
    assert rc == 0 and web["web"]["summary"].startswith("HTTP/1.1 200 OK"), web
    assert rc2 == 0, port
    assert port["port"]["summary"].startswith(f"connected to 127.0.0.1 port {s.port}"), port


# ---- what stays with libcurl, and IPv6 ----

def test_a_body_sent_in_chunks_goes_through_libcurl(tmp_path, serve):
    s = serve(OK_2)
    rc, out = run_checks(tmp_path, f"""\
  - {{name: up, type: http, url: "http://127.0.0.1:{s.port}/up", method: POST, body: "hello",
      headers: {{Transfer-Encoding: chunked}}, timeout: 10s}}
""")
    assert rc == 0 and out["up"]["status"] == "ok", out
    _, headers, _ = parse_request(s.request())
    assert values(headers, "Transfer-Encoding") == ["chunked"]
    assert values(headers, "Content-Length") == [], headers


def test_proxy_in_environment_is_used(tmp_path, serve):
    proxy = serve([b"HTTP/1.1 200 Proxied\r\nContent-Length: 2\r\n\r\nok"])
    target = free_port()  # nothing listens there: only the proxy can answer
    rc, out = run_checks(tmp_path, f"""\
  - {{name: via, type: http, url: "http://127.0.0.1:{target}/p?q=1", timeout: 10s}}
""", env={"http_proxy": f"http://127.0.0.1:{proxy.port}", "no_proxy": "", "NO_PROXY": ""})
    obs = out["via"]
    assert rc == 0 and obs["status"] == "ok", obs
    assert obs["summary"].startswith("HTTP/1.1 200 Proxied"), obs
    line, headers, _ = parse_request(proxy.request())
    assert line == f"GET http://127.0.0.1:{target}/p?q=1 HTTP/1.1"
    assert values(headers, "Host") == [f"127.0.0.1:{target}"]


def ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no ::1 on this machine")
def test_ipv6_literal_url(tmp_path, serve):
    s = serve(OK_2, host="::1", family=socket.AF_INET6)
    rc, out = run_checks(tmp_path, f"""\
  - {{name: v6, type: http, url: "http://[::1]:{s.port}/six", timeout: 10s}}
""")
    obs = out["v6"]
    assert rc == 0 and obs["status"] == "ok", obs
    line, headers, _ = parse_request(s.request())
    assert line == "GET /six HTTP/1.1"
    assert values(headers, "Host") == [f"[::1]:{s.port}"]
