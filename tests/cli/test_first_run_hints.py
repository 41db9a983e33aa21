"""The commands `init` and `serve` print work when pasted as they are, from where the
user stands (after `make run`: `.venv/bin/ehrlich`, not on PATH); the one-time password
is mentioned only while it can still be used."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from ehrlich.auth.roles import Role
from ehrlich.cli.context import now
from ehrlich.domains import open_instance
from ehrlich.settings import load_settings
from tests.e2e.servers import free_port

OWNER = "owner@example.org"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    return env


def _run(cwd: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(shlex.split(command), cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory laid out as after `make run`: the program at .venv/bin/ehrlich."""
    program = tmp_path / ".venv" / "bin" / "ehrlich"
    program.parent.mkdir(parents=True)
    program.write_text(f"#!{sys.executable}\nfrom ehrlich.cli.program import run\nrun()\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    r = _run(tmp_path, ".venv/bin/ehrlich init --data-dir .ehrlich/data "
                       "--key-file .ehrlich/keys/ehrlich.key")
    assert r.returncode == 0, r.stderr
    return tmp_path


def _pasted(output: str, after: str) -> str:
    match = re.search(re.escape(after) + r"[^`]*`([^`]+)`", output)
    assert match is not None, output
    return match.group(1)


def test_init_prints_a_publish_command_that_works_from_the_checkout(checkout: Path) -> None:
    r = _run(checkout, ".venv/bin/ehrlich init --data-dir .ehrlich/data2 "
                       "--key-file .ehrlich/keys2/other.key")
    assert r.returncode == 0, r.stderr
    command = _pasted(r.stdout, "publish it with")
    assert command == (".venv/bin/ehrlich --data-dir .ehrlich/data2 notice publish "
                       ".ehrlich/data2/notice.yaml")
    published = _run(checkout, command)
    assert published.returncode == 0, published.stderr
    assert "Published version 1" in published.stdout


def _banner(cwd: Path) -> str:
    """What `serve` prints before it starts listening; the server is stopped after."""
    lines = []
    with subprocess.Popen(
            [".venv/bin/ehrlich", "--data-dir", ".ehrlich/data", "serve", "--port",
             str(free_port())], cwd=cwd, env=_env(), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True) as proc:
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if "API access" in line:
                    break
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return "".join(lines)


def test_serve_mentions_the_one_time_password_only_while_it_can_be_used(
        checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _banner(checkout)
    assert f"sign in as {OWNER} with the one-time password" in first
    publish = _pasted(first, "Signup form:")
    assert publish.startswith(".venv/bin/ehrlich --data-dir .ehrlich/data notice publish ")
    assert _run(checkout, publish).returncode == 0
    token = _pasted(first, "create a token with")
    assert _run(checkout, token.replace("NAME", "shop")).returncode == 0

    monkeypatch.chdir(checkout)
    instance = open_instance(load_settings(checkout / ".ehrlich/data/ehrlich.toml"))
    try:
        with instance.db.write() as session:
            owner = instance.staff.users.by_email(session, OWNER)
            assert owner is not None
            instance.staff.users.change_password(session, owner.id, "a long own passphrase 42",
                                                 now=now())
        changed = _banner(checkout)
        assert "one-time password" not in changed
        assert "notice publish" not in changed  # published already

        with instance.db.write() as session:
            instance.staff.users.reset(session, owner.id, actor="test", actor_role=Role.OWNER,
                                       now=now() - timedelta(days=30))
    finally:
        instance.close()
    expired = _banner(checkout)
    assert f"sign in as {OWNER}" not in expired
    reset = _pasted(expired, "has expired; make a new one with")
    assert reset == f".venv/bin/ehrlich --data-dir .ehrlich/data user reset {OWNER}"
    again = _run(checkout, reset)
    assert again.returncode == 0, again.stderr
    assert f"sign in as {OWNER} with the one-time password" in _banner(checkout)


def test_doctor_writes_its_fixes_as_commands_that_work_when_pasted(checkout: Path) -> None:
    r = _run(checkout, ".venv/bin/ehrlich doctor --format json")
    assert r.returncode == 1  # no notice published yet
    fixes = {c["id"]: c["fix"] for c in json.loads(r.stdout)["checks"]}
    assert not [f for f in fixes.values() if "`ehrlich " in f]
    publish = _pasted(fixes["notice.published"], "run")
    assert publish.startswith(".venv/bin/ehrlich --data-dir .ehrlich/data notice publish ")
    assert publish.endswith(".ehrlich/data/notice.yaml")
    published = _run(checkout, publish)
    assert published.returncode == 0, published.stderr


def test_an_error_advises_a_command_that_works_when_pasted(checkout: Path) -> None:
    r = _run(checkout, ".venv/bin/ehrlich audit verify --anchor 12")
    assert r.returncode == 2
    head = _pasted(r.stderr, "write it as SEQ:HASH, as")
    assert head == ".venv/bin/ehrlich --data-dir .ehrlich/data audit head"
    printed = _run(checkout, head)
    assert printed.returncode == 0, printed.stderr
