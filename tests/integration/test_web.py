# SPDX-License-Identifier: MIT
"""The embedded web UI as the daemon serves it: the app at /, its assets
under /ui/, the status page at /status, each with its content type, ETag,
caching and security headers; a 304 for a validator the browser already
has; and the public status data at /api/v1/public/status, which needs no
token and names the services that have open incidents in plain words."""
import pytest
from conftest import wait_for

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
teams: [{name: web}]
checks:
  - {name: flag, type: file, path: ./flag, every: 1s, team: web, impact: high,
     labels: {service: shop}}
"""

ASSETS = [
    ("/", "text/html; charset=utf-8", "no-cache"),
    ("/status", "text/html; charset=utf-8", "no-cache"),
    ("/ui/js/app.js", "text/javascript; charset=utf-8", "no-cache"),
    ("/ui/css/hale.css", "text/css; charset=utf-8", "no-cache"),
    ("/ui/vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8", "public, max-age=604800"),
    ("/ui/vendor/uPlot.min.css", "text/css; charset=utf-8", "public, max-age=604800"),
]


@pytest.fixture
def d(make_daemon):
    d = make_daemon(CONFIG)
    d.start()
    return d


@pytest.mark.parametrize("path,ctype,cache", ASSETS)
def test_assets_are_served_with_their_type_validator_and_caching(d, path, ctype, cache):
    r = d.get(path)
    assert r.status == 200
    assert r.headers["Content-Type"] == ctype
    assert r.headers["Cache-Control"] == cache
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10
    assert len(r.body) > 100
    if ctype.startswith("text/html"):
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp

    # The browser revalidates with the ETag it has: 304, no body, same validator.
    again = d.get(path, headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == ""
    assert again.headers["ETag"] == etag
    assert d.get(path, headers={"If-None-Match": f'"x", W/{etag}'}).status == 304
    # An old validator gets the new bytes.
    stale = d.get(path, headers={"If-None-Match": '"0000000000"'})
    assert stale.status == 200 and stale.body == r.body


def test_the_app_and_status_page_need_no_token_but_data_does(d):
    page = d.get("/").body
    assert '<script type="module" src="/ui/js/app.js">' in page
    assert "/ui/js/status.js" in d.get("/status").body
    assert d.get("/api/v1/incidents").status == 401
    assert d.get("/ui/js/nope.js").status == 404
    assert d.post("/", body=b"{}").status == 405


def test_the_public_status_names_a_broken_service_in_plain_words(d):
    r = d.get("/api/v1/public/status")
    assert r.status == 200, r.body
    assert r.headers["Cache-Control"] == "no-store"
    s = wait_for(lambda: (lambda j: j if j["services"] else None)(d.get("/api/v1/public/status").json()),
                 what="the broken service on the status page")
    assert s["state"] == "outage"
    assert s["summary"] == "1 service has a problem."
    [svc] = s["services"]
    assert svc["name"] == "shop" and svc["state"] == "outage"
    assert svc["progress"] == "investigating" and svc["being_fixed"] is False
    assert svc["message"] == "shop is down. We are looking into it."
    assert svc["since"].endswith("Z")
    # Nothing internal: no titles, checks, labels or people.
    assert set(svc) == {"name", "state", "progress", "being_fixed", "since", "incidents", "message"}

    admin = d.token("alice", "admin")
    [inc] = d.get("/api/v1/incidents?state=open", token=admin).json()["incidents"]
    assert d.post(f"/api/v1/incidents/{inc['id']}/ack", token=admin).status == 200
    [svc] = d.get("/api/v1/public/status").json()["services"]
    assert svc["progress"] == "identified" and svc["being_fixed"] is True

    # Fixed: the flag file appears, the check recovers, the incident resolves.
    (d.workdir / "flag").write_text("")
    s = wait_for(lambda: (lambda j: j if not j["services"] else None)(d.get("/api/v1/public/status").json()),
                 what="the service to recover")
    assert s["state"] == "operational" and s["summary"] == "All services are working."


def test_a_token_on_the_public_route_is_neither_needed_nor_checked(d):
    assert d.get("/api/v1/public/status", token="hale_not-a-real-token").status == 200
    assert d.get("/api/v1/public/nothing").status == 404
