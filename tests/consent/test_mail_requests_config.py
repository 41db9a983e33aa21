"""The unsubscribe mailbox's configuration: what is advertised, scheduled and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ehrlich.cli.main import app
from ehrlich.consent.tasks import MAILBOX_TASK
from ehrlich.consent.unsubscribe.links import unsubscribe_link
from ehrlich.consent.unsubscribe.posture import unsubscribe_mailbox
from ehrlich.domains import collect, open_instance
from ehrlich.errors import ConfigurationError
from ehrlich.instance.service import Instance
from ehrlich.mail.imap import ImapConfig
from ehrlich.posture.schemas import Status
from ehrlich.posture.service import run_report
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.instances import InstanceTemplates

READER = {"unsubscribe_imap_host": "imap.shop.example", "unsubscribe_imap_username": "u",
          "unsubscribe_imap_password": "secret-password-0815"}


def reconfigured(instance: Instance, **changes: Any) -> Instance:
    """The same instance opened again with other settings, as after a restart."""
    return open_instance(Settings(**{**instance.settings.model_dump(), **changes}))


def posture(instance: Instance) -> tuple[Status, str, str]:
    (result,) = run_report(instance, now=NOW, selected=(unsubscribe_mailbox,)).results
    return result.status, result.detail, result.fix


def mailto(instance: Instance) -> str | None:
    return unsubscribe_link(instance.settings, instance.keyring, subject_id="s1",
                            purpose="newsletter", channel="email", now=NOW).mailto


def test_the_check_is_listed_for_doctor() -> None:
    assert unsubscribe_mailbox in collect().checks


def test_a_mailto_without_a_reader_is_not_advertised_and_doctor_warns(
        instance: Instance) -> None:
    assert mailto(instance) is None
    assert posture(instance)[0] == Status.PASS
    assert MAILBOX_TASK not in instance.jobs.task_names

    unread = reconfigured(instance, mail_unsubscribe_mailto="unsubscribe@shop.example")
    try:
        assert mailto(unread) is None
        status, detail, fix = posture(unread)
        assert status == Status.WARN
        assert "unsubscribe@shop.example" in detail
        assert "EHRLICH_UNSUBSCRIBE_IMAP_HOST" in fix
        assert MAILBOX_TASK not in unread.jobs.task_names
    finally:
        unread.close()


def test_with_a_reader_the_mailto_is_advertised_and_polled(instance: Instance) -> None:
    read = reconfigured(instance, mail_unsubscribe_mailto="unsubscribe@shop.example", **READER)
    try:
        link = mailto(read)
        assert link is not None
        assert link.startswith("mailto:unsubscribe@shop.example?subject=unsubscribe%20")
        status, detail, _ = posture(read)
        assert status == Status.PASS
        assert "imap.shop.example:993" in detail
        assert "0815" not in detail
        assert MAILBOX_TASK in read.jobs.task_names
    finally:
        read.close()


def test_plain_imap_to_another_host_fails_the_check(instance: Instance) -> None:
    plain = reconfigured(instance, unsubscribe_imap_tls="none", **READER)
    try:
        status, detail, fix = posture(plain)
        assert status == Status.FAIL
        assert "readable" in detail
        assert "EHRLICH_UNSUBSCRIBE_IMAP_TLS" in fix
    finally:
        plain.close()


@pytest.mark.parametrize(("changes", "port"), [({}, 993),
                                               ({"unsubscribe_imap_tls": "starttls"}, 143),
                                               ({"unsubscribe_imap_port": 1993}, 1993)])
def test_the_port_follows_the_tls_mode(changes: dict[str, Any], port: int) -> None:
    config = ImapConfig.from_settings(Settings(**READER, **changes))
    assert config is not None
    assert config.port == port


def test_a_host_without_login_stops_start_up_naming_the_settings() -> None:
    with pytest.raises(ConfigurationError, match="EHRLICH_UNSUBSCRIBE_IMAP_PASSWORD"):
        ImapConfig.from_settings(Settings(unsubscribe_imap_host="imap.shop.example",
                                          unsubscribe_imap_username="u"))


def test_the_command_without_a_mailbox_names_what_to_set(
        tmp_path: Path, instance_templates: InstanceTemplates) -> None:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key")
    instance_templates.install(settings)
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "mail",
                                      "read-unsubscribes"])
    assert isinstance(result.exception, ConfigurationError)
    assert "EHRLICH_UNSUBSCRIBE_IMAP_HOST" in result.exception.message
