# SPDX-License-Identifier: MIT
"""`hale token`: create, list and revoke, as an operator uses them."""
import json

from conftest import Daemon, run_hale


def test_create_list_revoke(tmp_path):
    d = Daemon(tmp_path)
    cfg = str(d.config)
    r = run_hale("token", "create", "-c", cfg, "ci-bot", "--role", "reporter")
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip()
    assert secret.startswith("hale_") and len(secret) > 40
    assert "HALE_TOKEN" in r.stderr

    r = run_hale("token", "list", "-c", cfg)
    assert r.returncode == 0
    assert "ci-bot" in r.stdout and "reporter" in r.stdout and secret not in r.stdout

    r = run_hale("token", "list", "-c", cfg, "--json")
    listed = json.loads(r.stdout)
    names = [t["name"] for t in (listed["tokens"] if isinstance(listed, dict) else listed)]
    assert names == ["ci-bot"]

    assert run_hale("token", "revoke", "-c", cfg, "ci-bot").returncode == 0
    assert "ci-bot" not in run_hale("token", "list", "-c", cfg).stdout


def test_duplicate_name_and_unknown_role_say_what_to_do(tmp_path):
    d = Daemon(tmp_path)
    cfg = str(d.config)
    assert run_hale("token", "create", "-c", cfg, "ops", "--role", "admin").returncode == 0
    r = run_hale("token", "create", "-c", cfg, "ops", "--role", "admin")
    assert r.returncode != 0 and "revoke" in r.stderr
    r = run_hale("token", "create", "-c", cfg, "x", "--role", "god")
    assert r.returncode != 0
    for role in ("viewer", "responder", "admin", "reporter", "requester"):
        assert role in r.stderr


def test_revoke_unknown_name_fails(tmp_path):
    d = Daemon(tmp_path)
    r = run_hale("token", "revoke", "-c", str(d.config), "ghost")
    assert r.returncode != 0 and "ghost" in r.stderr
