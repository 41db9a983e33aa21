"""Mail through the job queue: outages delay mail and lose none; maintenance holds it."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from ehrlich.domains import open_instance
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.jobs.models import QueuedJob
from ehrlich.jobs.store import load_payload
from ehrlich.mail.interfaces import NullMailSender, OutgoingMail, Unsubscribe
from ehrlich.mail.maintenance import MaintenanceSwitch
from ehrlich.mail.service import QueuedMailSender
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.instances import InstanceTemplates
from tests.jobs import run_jobs
from tests.mail.smtp_server import SmtpServer

LATER = timedelta(days=2)


def queued_payloads(instance: Instance) -> list[dict[str, Any]]:
    """The first argument of every `mail.send` job waiting in the queue."""
    with instance.db.read() as session:
        texts = session.execute(select(QueuedJob.payload)).scalars().all()
    return [load_payload(text)[0][0] for text in texts]


def newsletter(to: str = "ada@example.org") -> OutgoingMail:
    return OutgoingMail(to=to, subject="News", text="Hello", html="<p>Hello</p>",
                        category="marketing",
                        unsubscribe=Unsubscribe("https://shop.example/unsubscribe/t1"))


def test_configured_instance_sends_through_the_queue(instance: Instance, smtp: SmtpServer
                                                     ) -> None:
    assert isinstance(instance.mail, QueuedMailSender)
    smtp.start()
    instance.mail.send(newsletter())
    assert smtp.received == []  # accepted, not yet delivered
    assert run_jobs(instance) == 1
    [got] = smtp.received
    msg = message_from_bytes(got.data, policy=policy.default)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got.rcpt_tos == ["ada@example.org"]


def test_outage_delays_and_loses_nothing_and_delivers_once(instance: Instance,
                                                           smtp: SmtpServer) -> None:
    instance.mail.send(newsletter())
    assert run_jobs(instance) == 1  # server down: the try fails
    assert instance.jobs.counts()["later"] == 1  # ... and is scheduled again
    assert run_jobs(instance) == 0  # not before its delay
    assert run_jobs(instance, later=LATER) == 1  # still down: a second try, rescheduled
    assert instance.jobs.counts()["later"] == 1
    smtp.start()
    assert run_jobs(instance, later=LATER) == 1
    assert len(smtp.received) == 1
    assert run_jobs(instance, later=LATER) == 0
    assert instance.jobs.counts()["later"] == 0
    assert len(smtp.received) == 1


def test_retries_keep_the_same_message_id(instance: Instance, smtp: SmtpServer) -> None:
    instance.mail.send(newsletter())
    run_jobs(instance)
    [queued] = queued_payloads(instance)
    first_id = queued["message_id"]
    smtp.start()
    run_jobs(instance, later=LATER)
    msg = message_from_bytes(smtp.received[0].data, policy=policy.default)
    assert msg["Message-ID"] == first_id


def test_maintenance_holds_mail_without_using_up_tries(instance: Instance, smtp: SmtpServer
                                                       ) -> None:
    smtp.start()
    switch = MaintenanceSwitch(instance.settings.effective_maintenance_file)
    switch.turn_on(reason="restore", now=NOW)
    assert switch.is_on()
    assert switch.reason() == "restore"
    instance.mail.send(newsletter())
    for _ in range(instance.settings.mail_retries + 2):  # more rounds than there are tries
        assert run_jobs(instance, later=LATER) == 1
    assert smtp.received == []
    switch.turn_off()
    assert run_jobs(instance, later=LATER) == 1
    assert len(smtp.received) == 1


def test_final_refusal_is_not_retried(instance: Instance, smtp: SmtpServer) -> None:
    smtp.handler.rcpt_reply = "550 5.1.1 no such user"
    smtp.start()
    instance.mail.send(newsletter())
    assert run_jobs(instance) == 1
    assert instance.jobs.counts()["later"] == 0
    assert instance.jobs.pending_count() == 0
    assert instance.jobs.counts()["failed"] == 1  # kept for the operator


def test_bad_mail_fails_in_the_caller_and_queues_nothing(instance: Instance) -> None:
    with pytest.raises(InvalidInput):
        instance.mail.send(OutgoingMail(to="ada@example.org", subject="x", text="x",
                                        category="marketing"))
    assert instance.jobs.pending_count() == 0


def test_without_smtp_the_instance_uses_the_null_sender(
        tmp_path: Path, instance_templates: InstanceTemplates) -> None:
    plain = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k")
    instance_templates.install(plain)
    opened = open_instance(plain)
    try:
        assert isinstance(opened.mail, NullMailSender)
        assert "mail.send" in opened.jobs.task_names
    finally:
        opened.close()


def test_the_queue_holds_no_address_or_text_in_the_clear(instance: Instance,
                                                         smtp: SmtpServer) -> None:
    secret_text = "Your personal offer, Grace"
    instance.mail.send(OutgoingMail(
        to="grace.hopper@navy.example", subject="Offer", text=secret_text,
        html=f"<p>{secret_text}</p>", category="marketing",
        unsubscribe=Unsubscribe("https://shop.example/unsubscribe/t1")))
    with instance.db.read() as session:
        [stored_text] = session.execute(select(QueuedJob.payload)).scalars()
    stored = stored_text.encode()
    if instance.db.is_sqlite:  # the whole database file, freed pages and the WAL included
        db_file = Path(instance.db.engine.url.database or "")
        stored += b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    for needle in (b"grace.hopper", b"navy.example", secret_text.encode(), b"Offer"):
        assert needle not in stored
    smtp.start()
    assert run_jobs(instance) == 1
    [got] = smtp.received
    assert got.rcpt_tos == ["grace.hopper@navy.example"]
    assert secret_text in message_from_bytes(got.data, policy=policy.default).get_body(
        ("plain",)).get_content()


def test_a_mail_queued_in_the_clear_by_an_older_version_is_still_delivered(
        instance: Instance, smtp: SmtpServer) -> None:
    from ehrlich.mail.service import SEND_TASK, open_job

    assert isinstance(instance.mail, QueuedMailSender)
    instance.mail.send(newsletter())
    [sealed] = queued_payloads(instance)
    with instance.db.write() as session:
        session.execute(delete(QueuedJob))
    clear = open_job(instance.keyring, sealed)
    assert clear["to"] == "ada@example.org"
    instance.jobs.enqueue(SEND_TASK, clear)  # the old, unsealed form
    smtp.start()
    assert run_jobs(instance) == 1
    assert [m.rcpt_tos for m in smtp.received] == [["ada@example.org"]]


def test_a_sealed_mail_job_is_bound_to_its_message_id(instance: Instance) -> None:
    from ehrlich.errors import IntegrityFailure
    from ehrlich.mail.service import open_job, seal_job

    job = {"message_id": "<a@shop.example>", "category": "marketing", "to": "a@example.org",
           "mail_from": "shop@example.org", "message": b"x", "unsubscribe_url": None}
    sealed = seal_job(instance.keyring, job)
    assert open_job(instance.keyring, sealed) == job
    with pytest.raises(IntegrityFailure):
        open_job(instance.keyring, {**sealed, "message_id": "<b@shop.example>"})


class Crash(BaseException):
    """The worker process dies here (as far from its handling as a SIGKILL)."""


LEASE_GONE = timedelta(minutes=2)  # past the lease of the dead worker in `run_jobs`


def _crash_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
    real = getattr(owner, name)
    fired: list[bool] = []

    def crashing(*args: Any, **kwargs: Any) -> Any:
        if not fired:
            fired.append(True)
            raise Crash
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, crashing)


def test_the_one_message_window_a_crash_after_the_server_took_the_mail(
        instance: Instance, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The server has answered the end of DATA; the worker dies before it commits the
    acknowledgement. The mail goes again, with the same Message-ID, and the log says so."""
    from ehrlich.jobs import JobRun

    smtp.start()
    instance.mail.send(newsletter())
    _crash_once(monkeypatch, JobRun, "acknowledge")
    with pytest.raises(Crash):
        run_jobs(instance)
    assert len(smtp.received) == 1
    assert run_jobs(instance) == 0  # the dead worker's lease still runs
    assert run_jobs(instance, later=LEASE_GONE) == 1
    first, second = (message_from_bytes(m.data, policy=policy.default) for m in smtp.received)
    assert first["Message-ID"] == second["Message-ID"]
    assert "may arrive twice" in caplog.text
    assert instance.jobs.pending_count() == 0


def test_a_crash_before_the_server_took_the_mail_sends_it_once(
        instance: Instance, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import smtplib

    smtp.start()
    instance.mail.send(newsletter())
    _crash_once(monkeypatch, smtplib.SMTP, "sendmail")
    with pytest.raises(Crash):
        run_jobs(instance)
    assert smtp.received == []
    assert run_jobs(instance, later=LEASE_GONE) == 1
    assert len(smtp.received) == 1
