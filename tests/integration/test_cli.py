# SPDX-License-Identifier: MIT
"""The command line as a newcomer meets it: help, version, mistakes."""
import re

from conftest import run_hale


def commands():
    out = run_hale("--help").stdout
    section = out.split("Commands:", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in section.strip().splitlines()]


def test_help_lists_every_command():
    r = run_hale("--help")
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: hale COMMAND")
    assert {"serve", "validate", "token"} <= set(commands())


def test_every_command_has_help():
    for cmd in commands():
        r = run_hale(cmd, "--help")
        assert r.returncode == 0, f"hale {cmd} --help: {r.stderr}"
        assert r.stdout.startswith(f"Usage: hale {cmd}"), r.stdout
        again = run_hale("help", cmd)
        assert again.returncode == 0 and again.stdout == r.stdout


def test_token_subcommands_have_help():
    for sub in ("create", "list", "revoke"):
        r = run_hale("token", sub, "--help")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"Usage: hale token {sub}"), r.stdout


def test_version():
    r = run_hale("--version")
    assert r.returncode == 0
    assert re.fullmatch(r"hale \d+\.\d+\.\d+\n", r.stdout)


def test_unknown_command_points_to_help():
    r = run_hale("serv")
    assert r.returncode == 64
    assert "'serv' is not a command" in r.stderr
    assert "hale --help" in r.stderr


def test_unknown_option_points_to_command_help():
    r = run_hale("validate", "--frobnicate")
    assert r.returncode == 64
    assert "hale validate --help" in r.stderr


def test_no_arguments_prints_usage_to_stderr():
    r = run_hale()
    assert r.returncode == 64
    assert "Usage: hale COMMAND" in r.stderr
