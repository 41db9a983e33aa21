"""The console's Recipients page: an endpoint set here shows its secret once (stored
sealed) and a bad URL is named next to its field; a failing delivery shows its tries and
last answer; a task for staff is marked done with who and when; roles see and do only
what they may; `ehrlich recipients` does the same from the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.instance.service import Instance
from ehrlich.sharing.models import RecipientEndpoint, RecipientTask
from ehrlich.sharing.notifications import ERASED, RECTIFIED, RecipientNotices
from ehrlich.sharing.webhooks import Webhooks
from ehrlich.storage.base import new_id, utcnow
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    open_session,
    settings,
)
from tests.conftest import NOW, Cli
from tests.factories import Staff, publish_notice
from tests.jobs import run_jobs
from tests.sharing.receiver import Receiver
from tests.sharing.test_console import _csrf, _staff

Maker = Callable[..., Staff]


def _task(instance: Instance, recipient: str = "carrier", event: str = ERASED,
          reference: str = "subject-1") -> str:
    task_id = new_id()
    with instance.db.write() as session:
        session.add(RecipientTask(id=task_id, recipient=recipient, event=event,
                                  reference=reference, created_at=NOW))
    return task_id


def test_an_endpoint_set_in_the_console_shows_its_secret_once(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    publish_notice(instance)
    open_session(console, _staff(instance, make_staff, "owner"), clock.now)
    page = console.get("/admin/recipients")
    assert page.status_code == 200
    assert "Spree Kurier GmbH" in page.text
    csrf = _csrf(console)
    bad = console.post("/admin/recipients/mailer/endpoint",
                       data={"url": "http://mail.example/hook", "csrf": csrf})
    assert bad.status_code == 422
    assert 'id="url-mailer-error"' in bad.text
    assert 'value="http://mail.example/hook"' in bad.text
    unknown = console.post("/admin/recipients/nobody/endpoint",
                           data={"url": "https://x.example/h", "csrf": csrf})
    assert unknown.status_code == 422
    assert "not a recipient of the published notice" in unknown.text
    with instance.db.read() as session:
        assert session.execute(select(RecipientEndpoint)).first() is None
    done = console.post("/admin/recipients/mailer/endpoint",
                        data={"url": "https://mail.example/hooks/ehrlich", "csrf": csrf})
    assert done.status_code == 200
    found = re.search(r'id="secret">(whsec_[A-Za-z0-9+/=]+)<', done.text)
    assert found
    assert found.group(1) not in console.get("/admin/recipients").text
    with instance.db.read() as session:
        row = session.execute(select(RecipientEndpoint)).scalar_one()
    assert found.group(1).encode() not in row.secret_ct
    assert row.set_by.startswith("staff:")
    kept = console.post("/admin/recipients/mailer/endpoint", data={
        "url": "https://mail.example/v2", "keep_secret": "1", "csrf": csrf},
        follow_redirects=False)
    assert kept.status_code == 303
    with instance.db.read() as session:
        assert session.execute(select(RecipientEndpoint)).scalar_one().secret_ct == (
            row.secret_ct)


def test_a_failing_delivery_and_a_task_show_and_the_task_is_closed_with_who_and_when(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    publish_notice(instance)
    receiver = Receiver(statuses=[503]).start()
    try:
        with instance.db.write() as session:
            instance.service(RecipientNotices).set_endpoint(
                session, "mailer", receiver.url, actor="cli:op", now=utcnow())
            instance.service(Webhooks).queue(
                session, recipient="mailer", event=ERASED, message_id="msg_1",
                data={"subject_id": "subject-9"}, reference="subject-9", now=utcnow())
        run_jobs(instance)
        run_jobs(instance, later=timedelta(seconds=31))
    finally:
        receiver.stop()
    task_id = _task(instance)
    support = _staff(instance, make_staff, "support")
    open_session(console, support, clock.now)
    page = console.get("/admin/recipients?status=failing")
    assert "HTTP 503" in page.text
    assert re.search(r'<td class="num">2</td>', page.text)  # two tries so far
    assert "subject-1" in page.text  # the open task
    _task(instance, event=RECTIFIED, reference="subject-2")
    tasks = console.get("/admin/recipients").text
    # by the name the notice gives the recipient, not its id
    assert "Tell Spree Kurier GmbH that person subject-1 was erased" in tasks
    assert "Tell Spree Kurier GmbH that the record of person subject-2 was corrected" in tasks
    assert "/endpoint" not in page.text  # support may not configure endpoints
    csrf = _csrf(console)
    empty = console.post(f"/admin/recipients/tasks/{task_id}/done",
                         data={"note": "", "csrf": csrf})
    assert empty.status_code == 422
    assert f'id="note-{task_id}-error"' in empty.text
    closed = console.post(f"/admin/recipients/tasks/{task_id}/done", data={
        "note": "Mail to privacy@carrier.example", "csrf": csrf}, follow_redirects=False)
    assert closed.status_code == 303
    with instance.db.read() as session:
        row = session.get(RecipientTask, task_id)
    assert row is not None
    assert (row.done_by, row.done_at) == (f"staff:{support.id}", clock.now)
    assert console.post("/admin/recipients/mailer/endpoint", data={
        "url": "https://x.example/h", "csrf": csrf}).status_code == 403


def test_a_marketer_does_not_see_the_recipients_page(
        instance: Instance, console: TestClient, make_staff: Maker,  # noqa: F811
        clock: Clock) -> None:  # noqa: F811
    publish_notice(instance)
    open_session(console, _staff(instance, make_staff, "marketer"), clock.now)
    assert console.get("/admin/recipients").status_code == 403


def test_the_recipients_commands(cli: Cli, instance: Instance) -> None:
    publish_notice(instance)
    task_id = _task(instance)

    def run(*args: str) -> tuple[int, str, str]:
        done = cli("--data-dir", str(instance.settings.data_dir), "recipients", *args)
        return done.returncode, done.stdout, done.stderr

    code, out, err = run("set-endpoint", "mailer", "https://mail.example/hooks")
    assert code == 0, err
    assert re.search(r"whsec_[A-Za-z0-9+/=]{40,}", out)
    code, _, err = run("set-endpoint", "nobody", "https://mail.example/hooks")
    assert code == 2
    assert "recipient" in err
    code, out, _ = run("list")
    assert "https://mail.example/hooks" in out
    assert "carrier" in out
    code, out, _ = run("tasks")
    assert task_id in out
    code, _, err = run("task-done", task_id, "--note", "x")
    assert code == 2
    assert "note" in err
    code, out, err = run("task-done", task_id, "--note", "Phoned their privacy desk")
    assert code == 0, err
    code, out, _ = run("tasks")
    assert task_id not in out
    code, out, _ = run("deliveries", "--status", "failing")
    assert code == 0
    assert run("deliveries", "--status", "lost")[0] == 2
