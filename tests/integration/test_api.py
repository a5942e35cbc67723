# SPDX-License-Identifier: MIT
"""The HTTP API's guard rails, end to end: tokens and roles, and every bad
request answered with a JSON error while the daemon keeps serving."""
import http.client
import json
import subprocess
import time

import pytest

from conftest import run_hale


def assert_json_error(r, status):
    assert r.status == status, (r.status, r.body)
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status
    assert body["error"] and body["reason"], body
    return body


@pytest.fixture
def tokens(daemon):
    return {role: daemon.token(f"t-{role}", role)
            for role in ("viewer", "responder", "admin", "reporter", "requester")}


@pytest.mark.parametrize("path", ["/api/v1/status", "/api/v1/nope", "/api/v1/", "/api/v1/tokens"])
def test_no_token_is_401_whatever_the_path(daemon, path):
    r = daemon.get(path)
    body = assert_json_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in body["reason"]


def test_bad_token_is_401_and_probing_reveals_nothing(daemon, tokens):
    known = daemon.get("/api/v1/status", "hale_not-a-real-token")
    unknown = daemon.get("/api/v1/does-not-exist", "hale_not-a-real-token")
    assert_json_error(known, 401)
    assert_json_error(unknown, 401)
    assert known.body == unknown.body


def test_viewer_reads_but_may_not_reload(daemon, tokens):
    r = daemon.get("/api/v1/status", tokens["viewer"])
    assert r.status == 200
    status = r.json()
    assert status["version"] and status["pid"] > 0 and status["uptime_seconds"] >= 0
    assert_json_error(daemon.post("/api/v1/reload", tokens["viewer"]), 403)
    assert_json_error(daemon.get("/api/v1/tokens", tokens["responder"]), 403)


def test_roles_that_may_not_read(daemon, tokens):
    for role in ("reporter", "requester"):
        assert_json_error(daemon.get("/api/v1/status", tokens[role]), 403)


def test_whoami_names_the_token_and_its_role(daemon, tokens):
    r = daemon.get("/api/v1/whoami", tokens["responder"])
    assert r.status == 200
    me = r.json()
    assert me["name"] == "t-responder" and me["role"] == "responder"


def test_admin_lists_tokens_without_secrets(daemon, tokens):
    r = daemon.get("/api/v1/tokens", tokens["admin"])
    assert r.status == 200
    assert {t["name"] for t in r.json()["tokens"]} >= {"t-viewer", "t-admin"}
    for secret in tokens.values():
        assert secret not in r.body


def test_unknown_route_404_and_wrong_method_405(daemon, tokens):
    assert_json_error(daemon.get("/api/v1/nothing-here", tokens["admin"]), 404)
    r = daemon.post("/api/v1/status", tokens["admin"])
    assert_json_error(r, 405)
    assert "GET" in r.headers["Allow"]


def test_oversized_body_is_413(daemon, tokens, tmp_path):
    body = tmp_path / "big.json"
    body.write_bytes(b'{"x":"' + b"a" * (2 * 1024 * 1024) + b'"}')
    # curl, as a user would send it (it asks 100-continue for a large body).
    r = subprocess.run(["curl", "-s", "-w", "\\n%{http_code}", "-X", "POST",
                        "-H", f"Authorization: Bearer {tokens['admin']}",
                        "-H", "Content-Type: application/json",
                        "--data-binary", f"@{body}", daemon.url + "/api/v1/reload"],
                       capture_output=True, text=True, timeout=30)
    text, code = r.stdout.rsplit("\n", 1)
    assert code == "413"
    assert json.loads(text)["error"] == "payload_too_large"
    assert daemon.get("/healthz").status == 200


def test_oversized_body_refused_before_it_is_sent(daemon, tokens):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    conn.putrequest("POST", "/api/v1/reload")
    conn.putheader("Authorization", f"Bearer {tokens['admin']}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(64 * 1024 * 1024))
    conn.putheader("Expect", "100-continue")
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 413
    assert json.loads(r.read())["status"] == 413
    conn.close()


def test_oversized_chunked_body_is_413(daemon, tokens):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=10)

    def chunks():
        for _ in range(24):  # 1.5 MiB against the default 1 MiB cap
            yield b"a" * 65536

    conn.request("POST", "/api/v1/reload", body=chunks(), encode_chunked=True,
                 headers={"Authorization": f"Bearer {tokens['admin']}",
                          "Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 413
    assert json.loads(r.read())["status"] == 413
    conn.close()
    assert daemon.get("/healthz").status == 200


def test_bad_json_is_400_with_position(daemon, tokens):
    r = daemon.post("/api/v1/reload", tokens["admin"], body=b'{"a": tru}')
    body = assert_json_error(r, 400)
    assert "line 1" in body["reason"] or "column" in body["reason"], body


def test_wrong_content_type_is_415(daemon, tokens):
    r = daemon.post("/api/v1/reload", tokens["admin"], body=b"a=b",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_json_error(r, 415)


def test_reload_over_the_api(daemon, tokens):
    r = daemon.post("/api/v1/reload", tokens["admin"])
    assert r.status == 200 and r.json()["reloaded"] is True
    daemon.write_config(daemon.config.read_text() + "checks: 3\n")
    r = daemon.post("/api/v1/reload", tokens["admin"])
    body = assert_json_error(r, 422)
    err = body["errors"][0]
    assert err["line"] == 4 and err["column"] == 9 and err["file"].endswith("hale.yaml")
    assert "expected a list" in err["message"]
    assert daemon.get("/api/v1/status", tokens["viewer"]).status == 200


def test_revoked_token_stops_working_without_restart(daemon, tokens):
    assert daemon.get("/api/v1/whoami", tokens["viewer"]).status == 200
    r = run_hale("token", "revoke", "-c", str(daemon.config), "t-viewer")
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if daemon.get("/api/v1/whoami", tokens["viewer"]).status == 401:
            break
        time.sleep(0.2)
    assert_json_error(daemon.get("/api/v1/whoami", tokens["viewer"]), 401)
    assert daemon.get("/api/v1/whoami", tokens["admin"]).status == 200


def test_tokens_file_holds_no_secret(daemon, tokens):
    text = (daemon.workdir / "var" / "tokens").read_text()
    for secret in tokens.values():
        assert secret not in text
    assert oct((daemon.workdir / "var" / "tokens").stat().st_mode & 0o777) == "0o600"
