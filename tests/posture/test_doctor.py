"""`ehrlich doctor` and `ehrlich user`: a fresh instance lists what to fix; fixed, it passes."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.auth.totp import code_at
from ehrlich.cli.main import app
from ehrlich.domains import open_instance
from ehrlich.mailroom.posture import named
from ehrlich.posture.schemas import Finding, PostureContext, Status, check
from ehrlich.posture.service import run_report
from ehrlich.settings import Settings, load_settings


def _cli(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, str]:
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(app, ["init", "--data-dir", str(data_dir), "--key-file",
                                      str(tmp_path / "keys" / "ehrlich.key"),
                                      "--owner-email", "boss@example.org"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1]
    return data_dir, password


def _doctor(data_dir: Path) -> tuple[int, dict[str, str]]:
    code, output = _cli(data_dir, "doctor", "--format", "json")
    doc = json.loads(output)
    return code, {c["id"]: c["status"] for c in doc["checks"]}


def test_fresh_instance_lists_what_to_fix_and_passes_once_fixed(fresh: tuple[Path, str]) -> None:
    data_dir, password = fresh
    code, statuses = _doctor(data_dir)
    assert code == 1
    assert statuses["auth.second_factor"] == "fail"
    assert statuses["auth.initial_passwords"] == "warn"
    assert statuses["keys.file"] == "pass"
    assert statuses["audit.chain"] == "pass"
    assert statuses["notice.published"] == "fail"
    _, text = _cli(data_dir, "doctor")
    assert "authenticator app" in text  # the fix is spelled out

    instance = open_instance(load_settings(data_dir=data_dir))
    now = datetime.now(UTC)
    try:
        with instance.db.write() as session:
            owner = instance.staff.users.by_email(session, "boss@example.org")
            assert owner is not None
            assert instance.staff.users.passwords.verify(owner.password_hash, password)
            token = instance.staff.sessions.create(session, owner.id, stage=STAGE_FULL,
                                                   now=now)
            row = instance.staff.sessions.row(session, token)
            assert row is not None
            secret = instance.staff.users.begin_enrolment(session, owner.id, row).secret
            instance.staff.users.confirm_enrolment(session, owner.id, row,
                                                   code_at(secret, now), now=now)
            instance.staff.users.change_password(session, owner.id,
                                                 "marble-thistle-anchor-58", now=now)
    finally:
        instance.close()
    published, output = _cli(data_dir, "notice", "publish", str(data_dir / "notice.yaml"),
                             "--publisher", "Boss")
    assert published == 0, output
    code, statuses = _doctor(data_dir)
    assert code == 0
    assert statuses["notice.published"] in {"pass", "warn"}
    assert set(statuses.values()) <= {"pass", "warn"}
    assert statuses["web.https"] == "warn"  # plain HTTP on this machine


def test_a_readable_key_file_stops_everything_with_the_fix(fresh: tuple[Path, str]) -> None:
    data_dir, _ = fresh
    key_file = data_dir.parent / "keys" / "ehrlich.key"
    key_file.chmod(0o644)
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "doctor"])
    assert result.exit_code != 0
    assert "chmod 600" in str(result.exception)


def test_public_http_and_weak_database_password_fail(fresh: tuple[Path, str]) -> None:
    data_dir, _ = fresh
    settings = load_settings(data_dir=data_dir)
    instance = open_instance(settings)
    try:
        public = replace(instance, settings=Settings(**{
            **settings.model_dump(), "base_url": "http://crm.example.org", "host": "192.0.2.5",
            "redis_url": "redis://cache.example.org:6379/0", "trusted_proxies": "*"}))
        report = {r.id: r for r in run_report(public, now=datetime.now(UTC)).results}
    finally:
        instance.close()
    assert report["web.https"].status == Status.FAIL
    assert "https" in report["web.https"].fix
    assert report["secrets.defaults"].status == Status.FAIL
    assert report["web.proxies"].status == Status.WARN


def test_a_domain_adds_a_check_with_one_function(fresh: tuple[Path, str]) -> None:
    @check("demo.backups", "Backups are verified")
    def backups(ctx: PostureContext) -> Finding:
        return Finding(Status.FAIL, "never verified", "run `ehrlich backup verify`")

    instance = open_instance(load_settings(data_dir=fresh[0]))
    try:
        report = run_report(instance, now=datetime.now(UTC), selected=(backups,))
    finally:
        instance.close()
    assert report.failed
    assert report.results[0].fix == "run `ehrlich backup verify`"


def test_user_commands(fresh: tuple[Path, str]) -> None:
    data_dir, _ = fresh
    code, output = _cli(data_dir, "user", "add", "--role", "support", "anna@example.org")
    assert code == 0
    assert re.search(r"\S{20,}", output.strip().splitlines()[-1])
    code, output = _cli(data_dir, "user", "list")
    assert "anna@example.org" in output
    assert "support" in output
    code, output = _cli(data_dir, "user", "reset", "--second-factor", "anna@example.org")
    assert code == 0
    code, _ = _cli(data_dir, "user", "disable", "anna@example.org")
    assert code == 0
    _, output = _cli(data_dir, "user", "list")
    assert "disabled" in output
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "user", "add", "--role",
                                      "wizard", "b@example.org"])
    assert "role" in str(result.exception)


def test_doctor_says_mail_is_off_and_how_to_turn_it_on(fresh: tuple[Path, str]) -> None:
    data_dir, _ = fresh
    _, statuses = _doctor(data_dir)
    assert statuses["mail.smtp"] == "warn"
    _, text = _cli(data_dir, "doctor")
    unwrapped = " ".join(text.split())
    assert "mail is off" in unwrapped
    assert "EHRLICH_SMTP_HOST" in text
    (data_dir / "ehrlich.toml").write_text((data_dir / "ehrlich.toml").read_text()
                                           + '\nsmtp_host = "127.0.0.1"\n'
                                           'smtp_from = "Shop <news@shop.example>"\n')
    _, statuses = _doctor(data_dir)
    assert statuses["mail.smtp"] == "pass"
    assert statuses["mail.sender_name"] == "pass"


def test_doctor_asks_for_a_sender_name(fresh: tuple[Path, str]) -> None:
    """A bare From address shows people no name they know in their inbox."""
    data_dir, _ = fresh
    _, statuses = _doctor(data_dir)
    assert statuses["mail.sender_name"] == "pass"  # no mail at all: "Mail is sent" warns
    (data_dir / "ehrlich.toml").write_text((data_dir / "ehrlich.toml").read_text()
                                           + '\nsmtp_host = "127.0.0.1"\n'
                                           'smtp_from = "news@shop.example"\n')
    _, statuses = _doctor(data_dir)
    assert statuses["mail.sender_name"] == "warn"
    _, output = _cli(data_dir, "doctor", "--format", "json")
    found = next(c for c in json.loads(output)["checks"] if c["id"] == "mail.sender_name")
    assert found["detail"].startswith("mail comes from news@shop.example with no name")
    assert "smtp_from = 'Your Shop <news@shop.example>'" in found["fix"]


@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
               min_size=1, max_size=40).filter(lambda s: s.strip() == s and s.strip()))
def test_a_suggested_sender_reads_back_as_its_name_and_address(name: str) -> None:
    assert parseaddr(named(name, "news@shop.example")) == (name, "news@shop.example")
