"""Processor sync: a purpose's consented audience pushed to a recipient of the notice, as CSV
over SFTP to a real OpenSSH server on loopback or by signed webhook to a real HTTP receiver;
each person pushed is in the disclosure log and their access report; after the first full
push only the changes go; a withdrawal or an erasure sends a removal; a recipient without a
basis is refused and nobody is released."""

from __future__ import annotations

import csv
import io
import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from ehrlich.errors import ConfigurationError, InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.rights.service import RightsService
from ehrlich.sharing.errors import NoBasisForRecipient
from ehrlich.sharing.files import BOM
from ehrlich.sharing.models import (
    Disclosure,
    DisclosureBatch,
    ProcessorMember,
    ProcessorRun,
    ProcessorSync,
)
from ehrlich.sharing.processor_settings import RunView, SyncSettings
from ehrlich.sharing.processors import ProcessorSyncService
from ehrlich.sharing.service import SharingService
from ehrlich.sharing.tasks import DUE_TASK
from ehrlich.subjects.schemas import SubjectChanges
from tests.backup.conftest import sshd  # noqa: F401 - the real sshd fixture, used by name
from tests.conftest import NOW
from tests.factories import publish_notice, record
from tests.jobs import run_jobs
from tests.sharing.helpers import OPERATOR, audit, person
from tests.sharing.receiver import Receiver

Sshd = tuple[str, Path, Path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def _sftp(sshd: Sshd, *fields: str, schedule: str = "manual") -> SyncSettings:  # noqa: F811
    url, key, known_hosts = sshd
    parts = urlsplit(url)
    assert parts.hostname
    assert parts.username
    assert parts.port
    return SyncSettings("sftp", fields or ("email",), schedule, sftp_host=parts.hostname,
                        sftp_port=parts.port, sftp_user=parts.username, sftp_path=parts.path,
                        sftp_key=str(key), sftp_known_hosts=str(known_hosts))


def _configure(instance: Instance, wanted: SyncSettings, recipient: str = "mailer",
               purpose: str = "newsletter") -> str | None:
    with instance.db.write() as session:
        _, secret = instance.service(ProcessorSyncService).configure(
            session, recipient, purpose, wanted, OPERATOR, now=NOW)
    return secret


def _run(instance: Instance, *, minutes: int = 1, **options: bool) -> RunView:
    return instance.service(ProcessorSyncService).run(
        "mailer", "newsletter", OPERATOR, now=NOW + timedelta(minutes=minutes), **options)


def _files(sshd: Sshd) -> dict[str, bytes]:  # noqa: F811
    folder = Path(urlsplit(sshd[0]).path)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def _count(instance: Instance, table: type) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_sftp_sync_writes_exactly_the_consented_people_and_the_declared_fields(
        instance: Instance, sshd: Sshd) -> None:  # noqa: F811
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    bob = person(instance, "bob@example.org", version=version)
    person(instance, "cyd@example.org", "granted", "withdrawn", version=version)
    person(instance, "dan@example.org", version=version + 7)  # a notice not naming mailer
    _configure(instance, _sftp(sshd, "email"))

    _run(instance)

    [(name, data)] = _files(sshd).items()
    assert name.startswith("mailer-newsletter-full-")
    assert name.endswith(".csv")
    expected = sorted([(ada, "ada@example.org"), (bob, "bob@example.org")])
    assert data == (BOM + "id,email\r\n" + "".join(
        f"{sid},{email}\r\n" for sid, email in expected)).encode()
    sharing = instance.service(SharingService)
    with instance.db.read() as session:
        [batch] = session.execute(select(DisclosureBatch)).scalars().all()
        assert (batch.recipient, batch.purpose, batch.basis, batch.fields, batch.people,
                batch.copy_id) == ("mailer", "newsletter", "consent", "id,email", 2, None)
        for sid in (ada, bob):
            [seen] = sharing.disclosures_of(session, sid)
            assert (seen.recipient, seen.fields, seen.basis, seen.at) == (
                "mailer", ("id", "email"), "consent", NOW + timedelta(minutes=1))
        [run] = session.execute(select(ProcessorRun)).scalars().all()
    assert (run.kind, run.outcome, run.added, run.removed, run.batch_id) == (
        "full", "ok", 2, 0, batch.id)
    report = instance.service(RightsService).report(instance.db, ada, actor="test",
                                                    language="en", now=NOW)
    [section] = [s for s in report.sections if s.key == "disclosures"]
    [row] = section.rows
    assert (row[0], row[1]) == ("Postwerk Mailing GmbH", "2026-11-29 12:01 UTC")
    assert row[3:] == ("your consent", "our reference number for you, email address")
    [read] = audit(instance, "subject.contacts.read")
    assert read.detail is not None
    assert f"disclosure:{batch.id}" in read.detail


def test_after_the_first_push_only_changes_go_and_a_withdrawal_sends_a_removal(
        instance: Instance, sshd: Sshd) -> None:  # noqa: F811
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    bob = person(instance, "bob@example.org", version=version)
    _configure(instance, _sftp(sshd, "email", "links"))
    _run(instance)
    record(instance, ada, "withdrawn", now=NOW + timedelta(minutes=2))
    eve = person(instance, "eve@example.org", version=version)

    _run(instance, minutes=3)

    files = _files(sshd)
    [changes] = [data for name, data in files.items() if "-changes-" in name]
    rows = list(csv.reader(io.StringIO(changes.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["change", "id", "email", "unsubscribe_url", "preferences_url"]
    assert rows[1] == ["removed", ada, "", "", ""]
    assert rows[2][:3] == ["added", eve, "eve@example.org"]
    assert rows[2][3].startswith(f"{instance.settings.base_url}/unsubscribe/")
    assert len(rows) == 3  # bob, unchanged, is not sent again
    with instance.db.read() as session:
        held = set(session.execute(select(ProcessorMember.subject_id)).scalars())
        runs = session.execute(select(ProcessorRun.kind, ProcessorRun.added,
                                      ProcessorRun.removed)
                               .order_by(ProcessorRun.started_at)).all()
    assert held == {bob, eve}
    assert [tuple(r) for r in runs] == [("full", 2, 0), ("changes", 1, 1)]
    assert _count(instance, Disclosure) == 3  # ada and bob once, eve once

    # an unchanged audience sends an empty changes file and discloses nobody new
    _run(instance, minutes=4)
    assert _count(instance, Disclosure) == 3


def test_the_periodic_job_sends_removals_for_an_erasure_between_scheduled_runs(
        instance: Instance, sshd: Sshd) -> None:  # noqa: F811
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    person(instance, "bob@example.org", version=version)
    _configure(instance, _sftp(sshd, "email", schedule="daily"))
    instance.jobs.enqueue(DUE_TASK)
    run_jobs(instance)
    run_jobs(instance)  # the sync the periodic job queued
    assert [n for n in _files(sshd) if "-full-" in n]
    instance.subjects.erase(instance.db, ada, actor="test", now=NOW)

    instance.jobs.enqueue(DUE_TASK)  # the daily push is not due: removals only
    run_jobs(instance)
    run_jobs(instance)

    [changes] = [data for name, data in _files(sshd).items() if "-changes-" in name]
    assert changes == (BOM + "change,id,email\r\n" + f"removed,{ada},\r\n").encode()
    with instance.db.read() as session:
        kinds = list(session.execute(select(ProcessorRun.kind)
                                     .order_by(ProcessorRun.started_at)).scalars())
    assert sorted(kinds) == ["full", "removals"]


def test_webhook_sync_delivers_signed_messages_and_a_withdrawal_sends_a_removal(
        instance: Instance, receiver: Receiver) -> None:
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    bob = person(instance, "bob@example.org", version=version)
    secret = _configure(instance, SyncSettings("webhook", ("email",), endpoint=receiver.url))
    assert secret is not None
    assert secret.startswith("whsec_")
    receiver.secret = secret

    _run(instance)
    run_jobs(instance)

    [added] = receiver.received
    assert added.valid
    assert added.payload["type"] == "audience.added"
    data = added.payload["data"]
    assert (data["recipient"], data["purpose"], data["full"]) == ("mailer", "newsletter", True)
    assert sorted(data["people"], key=lambda p: p["id"]) == sorted(
        [{"id": ada, "email": "ada@example.org"}, {"id": bob, "email": "bob@example.org"}],
        key=lambda p: p["id"])
    with instance.db.read() as session:
        assert instance.service(SharingService).recipients_of(session, bob) == ["mailer"]

    record(instance, ada, "withdrawn", now=NOW + timedelta(minutes=2))
    _run(instance, minutes=3, removals_only=True)
    run_jobs(instance)

    removal = receiver.received[-1]
    assert removal.valid
    assert removal.payload["type"] == "audience.removed"
    assert removal.payload["data"]["ids"] == [ada]
    assert "ada@example.org" not in removal.body.decode()


@pytest.mark.parametrize(("recipient", "purpose"), [
    ("carrier", "newsletter"),      # declared, but not for this purpose
    ("nobody", "newsletter"),       # not declared at all
    ("mailer", "no_such_purpose"),  # no such purpose
])
def test_a_recipient_without_a_basis_is_refused_and_nobody_is_released(
        instance: Instance, sshd: Sshd, recipient: str, purpose: str) -> None:  # noqa: F811
    publish_notice(instance)
    person(instance, "ada@example.org")
    with pytest.raises(NoBasisForRecipient) as refused:
        _configure(instance, _sftp(sshd), recipient, purpose)
    assert "nobody was released" in refused.value.message
    with pytest.raises(NoBasisForRecipient):
        instance.service(ProcessorSyncService).run(recipient, purpose, OPERATOR, now=NOW)
    for table in (ProcessorSync, ProcessorRun, DisclosureBatch, Disclosure):
        assert _count(instance, table) == 0
    assert audit(instance, "subject.contacts.read") == []
    assert _files(sshd) == {}


def test_only_fields_the_notice_declares_for_the_recipient_can_be_synced(
        instance: Instance, sshd: Sshd) -> None:  # noqa: F811
    publish_notice(instance)
    with pytest.raises(InvalidInput) as refused:
        _configure(instance, SyncSettings("sftp", ("phone",), "weekly", sftp_host="",
                                          sftp_path="relative", sftp_key="/no/such/key"))
    fields = {p.field: p.reason for p in refused.value.problems}
    assert set(fields) == {"fields", "schedule", "sftp_host", "sftp_user", "sftp_path",
                           "sftp_key"}
    assert "phone: not declared" in fields["fields"]
    assert _count(instance, ProcessorSync) == 0
    with pytest.raises(InvalidInput, match="endpoint"):
        _configure(instance, SyncSettings("webhook", ("email",),
                                          endpoint="http://mailer.example/hook"))


def test_a_failed_run_is_recorded_and_leaves_what_the_processor_holds_unchanged(
        instance: Instance, tmp_path: Path) -> None:
    version = publish_notice(instance)
    person(instance, "ada@example.org", version=version)
    key = tmp_path / "key"
    key.write_text("not a key")
    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    _configure(instance, SyncSettings("sftp", ("email",), sftp_host="127.0.0.1",
                                      sftp_port=port, sftp_user="upload",
                                      sftp_path="/upload", sftp_key=str(key)))
    with pytest.raises(ConfigurationError):
        _run(instance)
    with instance.db.read() as session:
        [run] = session.execute(select(ProcessorRun)).scalars().all()
        sync = session.execute(select(ProcessorSync)).scalar_one()
    assert (run.kind, run.outcome) == ("full", "failed")
    assert run.detail.startswith("ConfigurationError: cannot reach the SFTP server of mailer")
    assert "ada@example.org" not in run.detail
    assert (sync.last_success_at, sync.running_since) == (None, None)
    assert _count(instance, ProcessorMember) == 0  # the next run sends everyone again
    assert [e.action for e in audit(instance, "processor.failed")] == ["processor.failed"]


def _rectify(instance: Instance, subject_id: str, email: str, *, minutes: int) -> None:
    with instance.db.write() as session:
        instance.subjects.rectify(session, subject_id, SubjectChanges(email=email),
                                  actor="subject:my-data", now=NOW + timedelta(minutes=minutes))


def test_a_rectified_address_reaches_the_processor_as_a_change(
        instance: Instance, receiver: Receiver) -> None:
    """GDPR Art. 16 and 19: the processor's copy is corrected too. The next run sends the
    person again as `audience.changed` (a disclosure of the new value, logged as such);
    people not rectified are not sent again."""
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    bob = person(instance, "bob@example.org", version=version)
    receiver.secret = _configure(instance, SyncSettings("webhook", ("email",),
                                                        endpoint=receiver.url))
    _run(instance)
    run_jobs(instance)
    _rectify(instance, bob, "robert@example.org", minutes=2)

    dry = _run(instance, minutes=3, dry_run=True)
    assert (dry.added, dry.removed, dry.changed) == (0, 0, 1)
    run = _run(instance, minutes=3)
    assert (run.kind, run.added, run.removed, run.changed) == ("changes", 0, 0, 1)
    run_jobs(instance)

    # the Art. 19 notice (fields named, no values) and the sync's change (the new value)
    [notice, changed] = sorted(receiver.received[1:], key=lambda m: m.payload["type"],
                               reverse=True)
    assert (notice.payload["type"], notice.payload["data"]["fields"]) == (
        "subject.rectified", ["email"])
    assert b"robert" not in notice.body
    assert changed.valid
    assert changed.payload["type"] == "audience.changed"
    assert changed.payload["data"]["people"] == [{"id": bob, "email": "robert@example.org"}]
    assert "ada@example.org" not in changed.body.decode()
    assert len(receiver.received) == 3
    with instance.db.read() as session:
        seen = instance.service(SharingService).disclosures_of(session, bob)
        held = set(session.execute(select(ProcessorMember.subject_id)).scalars())
    assert len(seen) == 2  # the first push and the corrected address
    assert held == {ada, bob}
    synced = audit(instance, "processor.synced")[-1].detail
    assert synced is not None
    assert json.loads(synced)["changed"] == 1

    _run(instance, minutes=4)  # nothing changed since: nothing sent
    run_jobs(instance)
    assert len(receiver.received) == 3


def test_a_rectified_address_is_a_changed_row_in_the_sftp_file(
        instance: Instance, sshd: Sshd) -> None:  # noqa: F811
    version = publish_notice(instance)
    ada = person(instance, "ada@example.org", version=version)
    _configure(instance, _sftp(sshd, "email"))
    _run(instance)
    _rectify(instance, ada, "ada.lovelace@example.org", minutes=2)

    _run(instance, minutes=3)

    [changes] = [data for name, data in _files(sshd).items() if "-changes-" in name]
    rows = list(csv.reader(io.StringIO(changes.decode("utf-8-sig"), newline="")))
    assert rows == [["change", "id", "email"], ["changed", ada, "ada.lovelace@example.org"]]
