"""The console's Backups page: "back up now" and "verify now" go through the job queue,
and the page lists what they did with the commands that open the newest backup."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    form_value,
    open_session,
)
from tests.backup.conftest import add_subjects
from tests.factories import Staff
from tests.jobs import run_jobs_when_enqueued


def test_back_up_now_then_verify_now_from_the_console(
        console: TestClient, make_staff: Callable[..., Staff], clock: Clock,  # noqa: F811
        instance: Instance) -> None:
    add_subjects(instance, 2)
    admin = make_staff("admin")
    open_session(console, admin, clock.now)
    run_jobs_when_enqueued(instance)  # run the jobs in this process, as a worker would
    page = console.get("/admin/backups").text
    queued = console.post("/admin/backups/run", data={"csrf": form_value(page, "csrf")})
    assert queued.status_code == 202
    assert "A backup was queued" in queued.text
    [listed] = instance.backup.list_backups()
    assert listed.verified == "ok"
    assert listed.backup_id in queued.text
    archive = f"{listed.backup_id}.tar.zst.age"
    assert (f"age -d -i backup-recovery.agekey {archive} | zstd -d | tar xv"
            in queued.text)
    again = console.post("/admin/backups/verify", data={
        "csrf": form_value(page, "csrf"), "backup_id": listed.backup_id})
    assert again.status_code == 202
    with instance.db.read() as session:
        actions = [(e.actor, e.action) for e in session.execute(select(AuditEntry).where(
            AuditEntry.action.like("backup.%")).order_by(AuditEntry.seq)).scalars()]
    assert actions == [(f"staff:{admin.id}", "backup.create"),
                       (f"staff:{admin.id}", "backup.verify"),
                       (f"staff:{admin.id}", "backup.verify")]
    unknown = console.post("/admin/backups/verify", data={
        "csrf": form_value(page, "csrf"), "backup_id": "ehrlich-nothing"})
    assert unknown.status_code == 404
    assert "no complete backup with this id" in unknown.text
    assert re.search(r'class="badge ok">verified</span>', again.text)
