"""Console page for backups: the list with each one's verification, the latest runs,
"run now" and "verify now" (both jobs on the queue), how to open a backup with standard
tools, and whether the recovery key is still on this machine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.admin.texts import form_expired
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.backup import posture
from ehrlich.backup.keys import recovery_identity_path
from ehrlich.backup.schemas import ARCHIVE_SUFFIX
from ehrlich.backup.tasks import RUN_NOW, VERIFY_NOW
from ehrlich.errors import EhrlichError
from ehrlich.i18n import negotiate, translations
from ehrlich.posture.i18n import STATUS_LABELS
from ehrlich.posture.service import run_report
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/backups", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=200)]



def _page(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep, *,
          flash: tuple[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    service = instance.backup
    try:
        backups = list(reversed(service.list_backups()))
    except EhrlichError as exc:  # an unreachable destination: say so, show the rest
        backups, flash = [], flash or ("error", exc.message)
    lang = negotiate(request)
    [recovery] = run_report(instance, now=now, selected=(posture.recovery_key_offline,),
                            language=lang).results
    newest = backups[0].backup_id if backups else "ID"
    return page(request, "backup/admin_backups.html", {
        "backups": backups, "runs": service.recent_runs(), "recovery": recovery,
        "where": service.destination, "schedule": instance.settings.backup_schedule.strip(),
        "archive": newest + ARCHIVE_SUFFIX, "sidecar": newest + ".manifest.json",
        "recovery_key": recovery_identity_path(instance.settings.key_file).name,
        "may_run": allowed(active.role, Permission.BACKUP_RUN), "flash": flash,
        "status_labels": {key: translations(lang).gettext(text)
                          for key, text in STATUS_LABELS.items()}},
        active=active, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def backups_page(request: Request, instance: InstanceDep, now: NowDep,
                 active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.POSTURE_READ)
    return _page(request, instance, now, active)


@router.post("/run", response_class=HTMLResponse)
def run_now(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
            csrf: FormStr = "") -> HTMLResponse:
    require(active.role, Permission.BACKUP_RUN)
    tr = translations(negotiate(request))
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, now, active, status_code=403,
                     flash=("error", form_expired(request)))
    instance.jobs.enqueue(RUN_NOW, actor=f"staff:{active.user_id}")
    return _page(request, instance, now, active, status_code=202, flash=("ok", tr.gettext(
        "A backup was queued; it is made and verified by the worker. Reload this page in a "
        "minute.")))


@router.post("/verify", response_class=HTMLResponse)
def verify_now(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
               backup_id: FormStr = "", csrf: FormStr = "") -> HTMLResponse:
    require(active.role, Permission.BACKUP_RUN)
    tr = translations(negotiate(request))
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, now, active, status_code=403,
                     flash=("error", form_expired(request)))
    if backup_id not in {b.backup_id for b in instance.backup.list_backups()}:
        return _page(request, instance, now, active, status_code=404, flash=(
            "error", tr.gettext("backup_id: no complete backup with this id")))
    instance.jobs.enqueue(VERIFY_NOW, backup_id, actor=f"staff:{active.user_id}")
    return _page(request, instance, now, active, status_code=202, flash=("ok", tr.gettext(
        "The verification of %(backup_id)s was queued. Reload this page in a minute.")
        % {"backup_id": backup_id}))
