# SPDX-License-Identifier: MIT
"""`hale validate` as a user runs it: silence and 0 for a good file, every
error located like a compiler's and 2 for a bad one."""
import re

from conftest import ROOT, run_hale

ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$")


def validate(path):
    return run_hale("validate", "-c", str(path))


def test_demo_config_is_valid_and_silent():
    r = validate(ROOT / "examples" / "demo.yaml")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""


def test_summary_confirms_what_was_loaded():
    r = run_hale("validate", "--summary", "-c", str(ROOT / "examples" / "demo.yaml"))
    assert r.returncode == 0
    assert "checks" in r.stdout and "runbooks" in r.stdout


def test_every_error_is_reported_with_its_position(tmp_path):
    cfg = tmp_path / "hale.yaml"
    cfg.write_text(
        "server:\n"
        "  listen: 127.0.0.1:8080\n"
        "checks:\n"
        "  - name: web\n"
        "    type: http\n"
        "    url: http://127.0.0.1:8081/health\n"
        "    timout: 2s\n"
        "    every: 10x\n"
        "    runbook: restart-wbe\n"
        "runbooks:\n"
        "  - name: restart-web\n"
        "    steps:\n"
        "      - run: [systemctl, restart, web]\n")
    r = validate(cfg)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    parsed = [ERROR_LINE.match(l) for l in lines]
    assert all(parsed), lines
    where = [(m["file"], int(m["line"]), int(m["col"])) for m in parsed]
    assert where == sorted(where), "errors come in file order"
    by_line = {int(m["line"]): m for m in parsed}
    assert by_line[7]["col"] == "5" and 'did you mean "timeout"' in by_line[7]["msg"]
    assert by_line[8]["col"] == "14" and "10x" in by_line[8]["msg"]  # at the bad unit
    assert 'did you mean "restart-web"' in by_line[9]["msg"]
    assert all(m["file"] == str(cfg) for m in parsed)


def test_missing_file(tmp_path):
    r = validate(tmp_path / "nope.yaml")
    assert r.returncode == 2
    assert str(tmp_path / "nope.yaml") in r.stderr
    assert "No such file or directory" in r.stderr


def test_directory_instead_of_file(tmp_path):
    r = validate(tmp_path)
    assert r.returncode == 2
    assert "directory" in r.stderr


def test_yaml_syntax_error_is_located(tmp_path):
    cfg = tmp_path / "hale.yaml"
    cfg.write_text("server:\n  listen: [127.0.0.1\n")
    r = validate(cfg)
    assert r.returncode == 2
    m = ERROR_LINE.match(r.stderr.splitlines()[0])
    assert m and m["file"] == str(cfg)


def test_config_from_environment(tmp_path):
    cfg = tmp_path / "hale.yaml"
    cfg.write_text("server:\n  listen: 127.0.0.1:8080\n")
    r = run_hale("validate", env={"HALE_CONFIG": str(cfg)})
    assert r.returncode == 0, r.stderr
