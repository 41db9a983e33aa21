"""The Recipients pages and `ehrlich recipients sync`: configure a sync with the fields the
notice declares (errors next to their fields, nothing saved), "run now" on the queue and
the last runs with their outcome; the command's dry run and its refusal of a recipient
without a basis; German from the catalogue."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ehrlich.instance.service import Instance
from ehrlich.sharing.models import Disclosure, ProcessorRun, ProcessorSync
from ehrlich.sharing.processor_settings import SyncSettings
from ehrlich.sharing.processors import ProcessorSyncService
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    form_value,
    open_session,
    settings,
)
from tests.conftest import Cli
from tests.factories import Staff, publish_notice
from tests.jobs import run_jobs
from tests.sharing.helpers import OPERATOR, person
from tests.sharing.receiver import Receiver
from tests.sharing.test_console import _staff

Maker = Callable[..., Staff]


def _csrf(console: TestClient, recipient: str = "mailer") -> str:  # noqa: F811
    return form_value(console.get(f"/admin/processors/{recipient}").text, "csrf")


def _count(instance: Instance, table: type) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_configure_run_now_and_the_last_runs(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    listing = console.get("/admin/processors")
    assert listing.status_code == 200
    assert 'href="/admin/processors/mailer"' in listing.text
    page = console.get("/admin/processors/mailer")
    assert 'name="field_email"' in page.text
    assert 'name="field_name"' not in page.text  # declared, but no field a sync can carry
    assert 'name="field_phone"' not in page.text  # not declared for the newsletter

    bad = console.post("/admin/processors/mailer/newsletter", data={
        "csrf": _csrf(console), "method": "webhook", "field_phone": "on",
        "endpoint": "http://mailer.example/hook", "schedule": "hourly"})
    assert bad.status_code == 422
    assert 'id="newsletter-endpoint-error"' in bad.text
    assert "phone: not declared" in bad.text
    assert 'value="http://mailer.example/hook"' in bad.text  # the input is kept
    assert _count(instance, ProcessorSync) == 0

    receiver = Receiver().start()
    try:
        saved = console.post("/admin/processors/mailer/newsletter", data={
            "csrf": _csrf(console), "method": "webhook", "field_email": "on",
            "endpoint": receiver.url, "schedule": "hourly"})
        assert saved.status_code == 200, saved.text
        assert "whsec_" in saved.text  # the secret, shown once
        shown = re.search(r"whsec_[A-Za-z0-9+/=]+", saved.text)
        assert shown is not None
        receiver.secret = shown.group(0)
        assert "whsec_" not in console.get("/admin/processors/mailer").text

        queued = console.post("/admin/processors/mailer/newsletter/run",
                              data={"csrf": _csrf(console)})
        assert queued.status_code == 202
        run_jobs(instance)  # the sync, then the webhook delivery it queued
        run_jobs(instance)
    finally:
        receiver.stop()
    [message] = receiver.received
    assert message.valid
    assert message.payload["data"]["people"] == [{"id": ada, "email": "ada@example.org"}]
    after = console.get("/admin/processors/mailer")
    assert 'id="newsletter-runs"' in after.text
    assert ">full<" in after.text
    assert ">ok<" in after.text
    assert ">Corrected</th>" in after.text  # people rectified since, sent again
    german = console.get("/admin/processors/mailer", headers={"accept-language": "de"})
    assert "Jetzt ausführen" in german.text
    assert "Letzte Läufe" in german.text


def test_roles_without_the_export_right_see_but_cannot_configure_or_run(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    publish_notice(instance)
    open_session(console, _staff(instance, make_staff, "support"), clock.now)
    page = console.get("/admin/processors/mailer")
    assert page.status_code == 200
    assert 'action="/admin/processors/mailer/newsletter"' not in page.text
    csrf = form_value(console.get("/admin/account").text, "csrf")
    assert console.post("/admin/processors/mailer/newsletter", data={
        "csrf": csrf, "method": "sftp"}).status_code == 403
    assert console.post("/admin/processors/mailer/newsletter/run",
                        data={"csrf": csrf}).status_code == 403
    assert console.get("/admin/processors/nobody").status_code == 422


def test_the_command_runs_a_dry_run_and_refuses_a_recipient_without_a_basis(
        cli: Cli, instance: Instance, tmp_path: Path) -> None:
    version = publish_notice(instance)
    person(instance, "ada@example.org", version=version)
    person(instance, "bob@example.org", version=version)
    base = ("--data-dir", str(instance.settings.data_dir), "recipients", "sync")
    refused = cli(*base, "carrier", "--purpose", "newsletter")
    assert refused.returncode == 2
    assert "does not name 'carrier' as a recipient for 'newsletter'" in refused.stderr
    assert "nobody was released" in refused.stderr
    unconfigured = cli(*base, "mailer", "--purpose", "newsletter", "--dry-run")
    assert unconfigured.returncode == 5
    assert "configure it first" in unconfigured.stderr
    key = tmp_path / "key"
    key.write_text("not used by a dry run")
    with instance.db.write() as session:
        instance.service(ProcessorSyncService).configure(
            session, "mailer", "newsletter", SyncSettings(
                "sftp", ("email",), sftp_host="127.0.0.1", sftp_user="upload",
                sftp_path="/upload", sftp_key=str(key)), OPERATOR, now=instance.jobs.clock())
    dry = cli(*base, "mailer", "--purpose", "newsletter", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2 would be added, 0 removed, 0 corrected; nothing was sent" in dry.stdout
    for table in (ProcessorRun, Disclosure):
        assert _count(instance, table) == 0
