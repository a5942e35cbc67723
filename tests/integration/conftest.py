# SPDX-License-Identifier: MIT
"""Shared fixtures of the end-to-end tests: they run the real hale binary
(HALE_BIN, default build/debug/hale) on 127.0.0.1 with a temporary data
dir, talk to it over real HTTP, and stop it at the end of each test.
Under the asan preset a daemon that leaks or trips a sanitizer exits
non-zero, and stop() asserts a clean exit, so those failures surface here."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HALE_BIN = os.path.abspath(os.environ.get("HALE_BIN", str(ROOT / "build" / "debug" / "hale")))
START_TIMEOUT = 15 if os.environ.get("HALE_PRESET") == "asan" else 10


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_hale(*args, env=None, input=None, timeout=30):
    """Runs `hale ARGS...` to completion; returns the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([HALE_BIN, *args], capture_output=True, text=True, env=full_env,
                          input=input, timeout=timeout)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


def http(method, url, token=None, body=None, headers=None, timeout=10):
    """One HTTP request; returns a Response for any status (no raising)."""
    req = urllib.request.Request(url, method=method, data=body)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None and not (headers and "Content-Type" in headers):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read().decode())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read().decode())


class Daemon:
    """A `hale serve` process with its own config, data dir and port."""

    def __init__(self, workdir, config_text=None, port=None, env=None):
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.config = self.workdir / "hale.yaml"
        self.log_path = self.workdir / "hale.log"
        self.env = env or {}
        self.proc = None
        self.write_config(config_text)

    def write_config(self, text=None):
        if text is None:
            text = minimal_config(self.port)
        self.config.write_text(text)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait=True):
        env = dict(os.environ)
        env.update(self.env)
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HALE_BIN, "serve", "-c", str(self.config)],
                                     stdout=self.log_file, stderr=self.log_file, env=env,
                                     cwd=self.workdir)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hale exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                if http("GET", self.url + "/healthz", timeout=1).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"hale did not answer /healthz in {START_TIMEOUT} s:\n{self.logs()}")

    def logs(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, text, timeout=10, count=1):
        """Waits until text has been logged count times in all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.logs().count(text) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged {count}x within {timeout} s:\n{self.logs()}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        """SIGTERM, then assert the daemon exited 0 within timeout."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"hale did not stop within {timeout} s:\n{self.logs()}")
        self.log_file.close()
        assert rc == 0, f"hale exited with {rc}:\n{self.logs()}"
        return rc

    def token(self, name, role):
        r = run_hale("token", "create", "-c", str(self.config), name, "--role", role)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def get(self, path, token=None, **kw):
        return http("GET", self.url + path, token=token, **kw)

    def post(self, path, token=None, body=b"{}", **kw):
        return http("POST", self.url + path, token=token, body=body, **kw)


def minimal_config(port, extra=""):
    return f"""server:
  listen: "127.0.0.1:{port}"
  data_dir: ./var
{extra}"""


@pytest.fixture
def daemon(tmp_path):
    """A started daemon on a minimal config; stopped (and checked) after the test."""
    d = Daemon(tmp_path)
    d.start()
    yield d
    d.stop()


@pytest.fixture
def make_daemon(tmp_path):
    """A factory for daemons with a given config; all are stopped after the test."""
    made = []

    def make(config_text=None, env=None, sub="d"):
        workdir = tmp_path / f"{sub}{len(made)}"
        workdir.mkdir()
        d = Daemon(workdir, env=env)
        if config_text is not None:
            d.write_config(config_text.replace("@PORT@", str(d.port)))
        made.append(d)
        return d

    yield make
    for d in made:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()


def wait_for(fn, timeout=30, what="condition"):
    """Polls fn until it returns something true, and returns that; fails
    naming what was awaited and the last value when timeout s pass."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s (last: {last!r})")
