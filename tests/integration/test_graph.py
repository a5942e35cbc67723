# SPDX-License-Identifier: MIT
"""The check graph end to end: GET /api/v1/checks/{name}/graph.svg draws
what the real daemon keeps of a check (its samples as lines, its states as
a strip), as an SVG document any XML parser reads; a check with no run yet
says so in the image; bad sizes and unknown checks are refused in JSON."""
import xml.etree.ElementTree as ET

import pytest

from conftest import http, wait_for

SVG = "{http://www.w3.org/2000/svg}"

CONFIG = """server:
  listen: "127.0.0.1:@PORT@"
  data_dir: ./var
checks:
  - {name: flag, type: file, path: ./flag, every: 1s}
  - {name: later, type: file, path: ./flag, every: 1h}
"""


@pytest.fixture
def graphed(make_daemon):
    d = make_daemon(CONFIG)
    (d.workdir / "flag").write_text("ready\n")
    d.start()
    return d, d.token("viewer", "viewer")


def graph(d, token, name, query=""):
    return d.get(f"/api/v1/checks/{name}/graph.svg{query}", token)


def test_graph_draws_samples_and_states(graphed):
    d, token = graphed

    def runs():
        r = d.get("/api/v1/checks/flag", token)
        history = {h["label"]: h["points"] for h in r.json()["history"]}
        return len(history.get("size", [])) >= 2 and history
    wait_for(runs, what="two runs of flag")

    r = graph(d, token, "flag")
    assert r.status == 200, r.body
    assert r.headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(r.body)
    assert root.tag == SVG + "svg"
    assert root.get("width") == "600" and root.get("height") == "240"
    assert root.find(SVG + "title").text == "flag"
    # the size sample is a line inside the plot, the status a green strip
    lines = root.findall(SVG + "polyline")
    assert lines, r.body
    for x, y in (p.split(",") for p in lines[0].get("points").split()):
        assert 64 <= float(x) <= 584 and 28 <= float(y) <= 188
    fills = {rect.get("fill") for rect in root.findall(SVG + "rect")}
    assert "#2ca02c" in fills
    legend = [t.text for t in root.findall(SVG + "text")]
    assert "size (B)" in legend

    r = graph(d, token, "flag", "?width=300&height=150")
    root = ET.fromstring(r.body)
    assert (root.get("width"), root.get("height")) == ("300", "150")


def test_graph_of_a_check_not_run_yet_says_so(graphed):
    d, token = graphed
    r = graph(d, token, "later")
    assert r.status == 200
    root = ET.fromstring(r.body)
    texts = [t.text for t in root.findall(SVG + "text")]
    # a check due in an hour may have run once at start: either way the image is valid
    assert root.findall(SVG + "polyline") or "no data yet" in texts


def test_graph_refusals(graphed):
    d, token = graphed
    r = graph(d, token, "nope")
    assert r.status == 404 and r.json()["error"] == "not_found"
    assert "GET /api/v1/checks" in r.json()["reason"]
    for q in ("?width=5", "?height=abc", "?width=3000", "?width="):
        r = graph(d, token, "flag", q)
        assert r.status == 400, q
        assert "width" in r.json()["reason"]
    r = http("GET", d.url + "/api/v1/checks/flag/graph.svg")
    assert r.status == 401
