"""Console pages for the processor syncs: Processor sync (the notice's recipients and their
syncs) and one page per recipient to configure each purpose's sync (method, endpoint or
SFTP server, schedule, the fields the notice declares), run it now and see its last runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.admin.texts import form_expired
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.errors import InvalidInput
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.sharing.console_routes import caller_of
from ehrlich.sharing.errors import NoBasisForRecipient
from ehrlich.sharing.processor_settings import LINKS, METHODS, SCHEDULES, SyncSettings
from ehrlich.sharing.processors import ProcessorSyncService
from ehrlich.sharing.routes import RECIPIENT
from ehrlich.sharing.service import SharingService
from ehrlich.sharing.tasks import SYNC_TASK
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/processors", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=500)]
Recipient = Annotated[str, Path(pattern=RECIPIENT)]
Purpose = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


@router.get("", response_class=HTMLResponse)
def recipient_list(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.AGGREGATES_READ)
    negotiate(request)
    syncs = instance.service(ProcessorSyncService)
    caller = caller_of(active)
    rows = []
    with instance.db.read() as session:
        notice = instance.service(SharingService).notice(session)
        for r in notice.recipients if notice else []:
            purposes = syncs.targets(session, r.id)
            rows.append({"id": r.id, "name": r.name, "role": r.role,
                         "syncs": [(p.id, syncs.get(session, r.id, p.id, caller, runs=1))
                                   for p in purposes]})
    return page(request, "sharing/processors.html", {"recipients": rows}, active=active)


def _recipient_page(request: Request, instance: Instance, active: ActiveSession,
                    recipient: str, *, values: dict[str, dict[str, str]] | None = None,
                    errors: dict[str, dict[str, str]] | None = None,
                    flash: tuple[str, str] | None = None, status: int = 200) -> HTMLResponse:
    lang = negotiate(request)
    syncs = instance.service(ProcessorSyncService)
    caller = caller_of(active)
    with instance.db.read() as session:
        notice = instance.service(SharingService).notice(session)
        found = notice.recipient(recipient) if notice else None
        if found is None:
            raise NoBasisForRecipient.one("recipient", f"the published notice does not name "
                                          f"{recipient!r} as a recipient")
        sections = []
        for purpose in syncs.targets(session, recipient):
            view = syncs.get(session, recipient, purpose.id, caller)
            current = _values(view.settings) if view else {"method": "sftp",
                                                          "schedule": "manual",
                                                          "sftp_port": "22"}
            sections.append({
                "purpose": purpose, "title": purpose.title.get(lang) or purpose.title["en"],
                "sync": view, "allowed": syncs.allowed_fields(session, recipient, purpose.id),
                "values": (values or {}).get(purpose.id, current),
                "errors": (errors or {}).get(purpose.id, {})})
    return page(request, "sharing/processor.html", {
        "recipient": found, "name": found.name,
        "sections": sections, "methods": METHODS, "schedules": list(SCHEDULES),
        "links": LINKS, "may_edit": allowed(active.role, Permission.AUDIENCES_EXPORT),
        "flash": flash}, active=active, status_code=status)


def _values(s: SyncSettings) -> dict[str, str]:
    return {"method": s.method, "schedule": s.schedule, "endpoint": s.endpoint,
            "sftp_host": s.sftp_host, "sftp_port": str(s.sftp_port), "sftp_user": s.sftp_user,
            "sftp_path": s.sftp_path, "sftp_key": s.sftp_key,
            "sftp_known_hosts": s.sftp_known_hosts,
            **{f"field_{f}": "on" for f in s.fields}}


@router.get("/{recipient}", response_class=HTMLResponse)
def recipient_page(request: Request, instance: InstanceDep, active: StaffDep,
                   recipient: Recipient) -> HTMLResponse:
    require(active.role, Permission.AGGREGATES_READ)
    return _recipient_page(request, instance, active, recipient)


@router.post("/{recipient}/{purpose}", response_class=HTMLResponse)
async def configure(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                    recipient: Recipient, purpose: Purpose, csrf: FormStr = "",
                    method: FormStr = "", schedule: FormStr = "manual", endpoint: FormStr = "",
                    sftp_host: FormStr = "", sftp_port: FormStr = "22", sftp_user: FormStr = "",
                    sftp_path: FormStr = "", sftp_key: FormStr = "",
                    sftp_known_hosts: FormStr = "") -> HTMLResponse:
    require(active.role, Permission.AUDIENCES_EXPORT)
    form = await request.form()
    fields = tuple(str(k)[6:] for k in form if str(k).startswith("field_"))
    values = {"method": method, "schedule": schedule, "endpoint": endpoint,
              "sftp_host": sftp_host, "sftp_port": sftp_port, "sftp_user": sftp_user,
              "sftp_path": sftp_path, "sftp_key": sftp_key,
              "sftp_known_hosts": sftp_known_hosts, **{f"field_{f}": "on" for f in fields}}
    if not check_csrf(request, instance, active, csrf):
        return _recipient_page(request, instance, active, recipient, status=403,
                               values={purpose: values},
                               flash=("error", form_expired(request)))
    tr = translations(negotiate(request))
    port = int(sftp_port) if sftp_port.strip().isdigit() else 0
    try:
        with instance.db.write() as session:
            _, secret = instance.service(ProcessorSyncService).configure(
                session, recipient, purpose, SyncSettings(
                    method, fields, schedule, endpoint, sftp_host, port, sftp_user,
                    sftp_path, sftp_key, sftp_known_hosts), caller_of(active),
                now=now)
    except InvalidInput as exc:
        errors = {p.field.split(".")[-1]: p.reason for p in exc.problems}
        return _recipient_page(request, instance, active, recipient, status=422,
                               values={purpose: values}, errors={purpose: errors})
    message = tr.gettext("The sync was saved.")
    if secret:
        message += " " + tr.gettext(
            "Give the processor this signing secret now; it is not shown again: %(secret)s"
        ) % {"secret": secret}
    return _recipient_page(request, instance, active, recipient, flash=("ok", message))


@router.post("/{recipient}/{purpose}/run", response_class=HTMLResponse)
def run_now(request: Request, instance: InstanceDep, active: StaffDep,
            recipient: Recipient, purpose: Purpose, csrf: FormStr = "") -> HTMLResponse:
    require(active.role, Permission.AUDIENCES_EXPORT)
    if not check_csrf(request, instance, active, csrf):
        return _recipient_page(request, instance, active, recipient, status=403,
                               flash=("error", form_expired(request)))
    tr = translations(negotiate(request))
    syncs = instance.service(ProcessorSyncService)
    with instance.db.read() as session:
        syncs.allowed_fields(session, recipient, purpose)  # refuses without a basis
        if syncs.get(session, recipient, purpose, caller_of(active)) is None:
            return _recipient_page(request, instance, active, recipient, status=404, flash=(
                "error", tr.gettext("Configure the sync before you run it.")))
    instance.jobs.enqueue(SYNC_TASK, recipient, purpose, caller_of(active).actor)
    return _recipient_page(request, instance, active, recipient, status=202, flash=(
        "ok", tr.gettext("The sync was queued; the worker runs it. Reload this page in a "
                         "minute to see its outcome.")))
