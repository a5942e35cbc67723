# SPDX-License-Identifier: MIT
"""`hale routes test`: which route an event would take and why, offline,
against a real configuration file (and the demo's)."""
import json

from conftest import ROOT, run_hale

CONFIG = """\
notifiers:
  - { name: log, type: exec, argv: [/bin/true] }
  - { name: pager, type: exec, argv: [/bin/true] }
teams:
  - { name: web, notify: [log] }
  - { name: dba }
runbooks:
  - { name: restart-web, steps: [{ run: [/bin/true] }] }
routes:
  - { match: '{severity="critical"}', priority: P1, notifiers: [pager], continue: true }
  - { match: '{service="web"}', runbook: restart-web, team: web }
  - { match: '{service="db"}', team: dba, priority: P4 }
"""


def routes_test(tmp_path, *args, config=CONFIG):
    path = tmp_path / "hale.yaml"
    path.write_text(config)
    return run_hale("routes", "test", "-c", str(path), *args)


def test_explains_each_route_and_the_choice(tmp_path):
    r = routes_test(tmp_path, "--label", "service=db", "--label", "alertname=Down")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith('event {alertname="Down", service="db"}, warning, fingerprint ')
    assert 'route 1 {severity="critical"}: severity (not set) does not match severity="critical"' \
        in lines
    assert 'route 2 {service="web"}: service="db" does not match service="web"' in lines
    assert 'route 3 {service="db"}: matches' in lines
    assert "team       dba  (route 3)" in lines
    assert "priority   P4  (route 3)" in lines
    assert "runbook    none" in lines
    assert "notifiers  none" in lines


def test_continue_and_first_match(tmp_path):
    r = routes_test(tmp_path, "-l", "service=web", "-l", "severity=critical", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [x["outcome"] for x in out["routes"]] == ["matched", "matched", "not_tried"]
    assert out["routes"][0]["why"] == "matches; continue: the routes after it are tried too"
    assert out["matched"] is True
    assert (out["priority"], out["priority_route"]) == ("P1", 1)
    assert (out["runbook"], out["runbook_route"]) == ("restart-web", 2)
    assert (out["team"], out["team_route"]) == ("web", 2)
    assert out["notifiers"] == ["pager"]
    assert out["team_notifiers"] == ["log"]
    # the severity label set the event's severity
    assert out["severity"] == "critical"


def test_default_route_exits_1(tmp_path):
    r = routes_test(tmp_path, "--label", "service=mail", "--severity", "critical")
    assert r.returncode == 1, r.stderr
    assert "no route matched: the default applies" in r.stdout
    assert "runbook    none" in r.stdout
    assert "team       none" in r.stdout
    # critical is high urgency; the default impact is medium: P2 in ITIL's matrix
    assert "priority   P2  (the incidents matrix" in r.stdout
    r = routes_test(tmp_path, "--label", "service=mail", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["matched"] is False and out["priority_route"] is None
    assert out["priority"] == "P3"


def test_fingerprint_follows_engine_labels(tmp_path):
    config = CONFIG + "engine: { fingerprint_labels: [alertname] }\n"
    a = routes_test(tmp_path, "-l", "alertname=Down", "-l", "pod=a", "--json", config=config)
    b = routes_test(tmp_path, "-l", "pod=b", "-l", "alertname=Down", "--json", config=config)
    c = routes_test(tmp_path, "-l", "alertname=Up", "-l", "pod=a", "--json", config=config)
    fa, fb, fc = (json.loads(x.stdout)["fingerprint"] for x in (a, b, c))
    assert fa == fb != fc
    assert len(fa) == 16


def test_annotations_are_shown_not_routed(tmp_path):
    r = routes_test(tmp_path, "-l", "service=web", "-a", "summary=it broke", "--json")
    assert r.returncode == 0
    out = json.loads(r.stdout)
    assert out["annotations"] == {"summary": "it broke"}
    assert out["runbook"] == "restart-web"


def test_bad_usage(tmp_path):
    r = routes_test(tmp_path)
    assert r.returncode == 64
    assert "at least one --label" in r.stderr
    r = routes_test(tmp_path, "--label", "service")
    assert r.returncode == 64
    assert "--label 'service': expected NAME=VALUE" in r.stderr
    r = routes_test(tmp_path, "--label", "9x=1")
    assert r.returncode == 64
    assert "invalid label name" in r.stderr
    r = routes_test(tmp_path, "-l", "a=b", "--severity", "urgent")
    assert r.returncode == 64
    assert "use critical, warning or info" in r.stderr
    r = run_hale("routes", "frob")
    assert r.returncode == 64
    assert "'frob' is not a routes command" in r.stderr


def test_invalid_config_exits_2(tmp_path):
    r = routes_test(tmp_path, "-l", "a=b", config="routes:\n  - { match: '{a=~\"(\"}' }\n")
    assert r.returncode == 2
    assert "hale.yaml:2:" in r.stderr


def test_help():
    r = run_hale("routes", "test", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: hale routes test")
    assert "Exit status: 0 a route matched; 1 no route matched" in r.stdout


def test_demo_routes():
    demo = str(ROOT / "examples" / "demo.yaml")
    r = run_hale("routes", "test", "-c", demo, "-l", "service=demo", "-l", "alertname=DemoFlag")
    assert r.returncode == 0, r.stderr
    assert "runbook    recreate-demo-flag" in r.stdout
