"""Console page Recipients: each recipient of the notice with its webhook endpoint (set
or changed here, the new secret shown once), the notifications sent to recipients with
their outcome (delivered, failing after n tries, given up), and the tasks for staff
where a recipient has no endpoint ("mark done", with who and when).

Handlers parse the form, call one sharing operation, and render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.admin.texts import FORM_EXPIRED
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.errors import InvalidInput
from ehrlich.i18n import N_, negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.sharing.notifications import RecipientNotices
from ehrlich.sharing.webhooks import LABELS, STATUSES, Webhooks
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/recipients", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]
Short = Annotated[str, Query(max_length=64)]
FLASHES = {"task": N_("The task is recorded as done."),
           "endpoint": N_("The endpoint is saved.")}


def _page(request: Request, instance: Instance, active: ActiveSession, *,
          status_filter: str = "", subject: str = "", flash: str | None = None,
          message: str | None = None, secret: tuple[str, str] | None = None,
          errors: dict[str, dict[str, str]] | None = None,
          values: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    chosen = next((s for s in STATUSES if s == status_filter), None)
    notices = instance.service(RecipientNotices)
    with instance.db.read() as session:
        overview = notices.overview(session)
        deliveries = instance.service(Webhooks).deliveries(
            session, status=chosen, reference=subject or None, limit=100)
        tasks = notices.tasks(session, reference=subject or None)
    return page(request, "sharing/recipients.html", {
        "overview": overview, "deliveries": deliveries, "tasks": tasks,
        "names": {r.id: r.name for r in overview},
        "statuses": STATUSES, "labels": LABELS,
        "query": {"status": chosen or "", "subject": subject},
        "may_configure": allowed(active.role, Permission.TOKENS_MANAGE),
        "may_close": allowed(active.role, Permission.REQUESTS_MANAGE),
        "flash": flash, "message": message, "secret": secret, "errors": errors or {},
        "values": values or {}}, active=active, status_code=status)


@router.get("", response_class=HTMLResponse)
def recipients_page(request: Request, instance: InstanceDep, active: StaffDep,
                    status: Short = "", subject: Short = "",
                    done: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    require(active.role, Permission.REQUESTS_READ)
    flash = (translations(negotiate(request)).gettext(FLASHES[done]) if done in FLASHES
             else None)
    return _page(request, instance, active, status_filter=status, subject=subject.strip(),
                 flash=flash)


@router.post("/{recipient}/endpoint", response_class=HTMLResponse)
def set_endpoint(recipient: str, request: Request, instance: InstanceDep, now: NowDep,
                 active: StaffDep, url: FormStr = "", keep_secret: FormStr = "",
                 csrf: FormStr = "") -> Response:
    require(active.role, Permission.TOKENS_MANAGE)
    recipient = recipient[:64]
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, active, status=403, values={recipient: url},
                     message=translations(negotiate(request)).gettext(FORM_EXPIRED))
    try:
        with instance.db.write() as session:
            secret = instance.service(RecipientNotices).set_endpoint(
                session, recipient, url, actor=f"staff:{active.user_id}", now=now,
                rotate=not keep_secret)
    except InvalidInput as exc:
        problems = {p.field: p.reason for p in exc.problems}
        return _page(request, instance, active, status=422, values={recipient: url},
                     errors={recipient: problems}, message=problems.get("recipient"))
    if secret is None:
        return RedirectResponse("/admin/recipients?done=endpoint", status_code=303)
    return _page(request, instance, active, secret=(recipient, secret))


@router.post("/tasks/{task_id}/done", response_class=HTMLResponse)
def task_done(task_id: str, request: Request, instance: InstanceDep, now: NowDep,
              active: StaffDep, note: FormStr = "", csrf: FormStr = "") -> Response:
    require(active.role, Permission.REQUESTS_MANAGE)
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, active, status=403,
                     message=translations(negotiate(request)).gettext(FORM_EXPIRED))
    try:
        with instance.db.write() as session:
            instance.service(RecipientNotices).mark_done(
                session, task_id, actor=f"staff:{active.user_id}", note=note, now=now)
    except InvalidInput as exc:
        return _page(request, instance, active, status=422, values={task_id[:64]: note},
                     errors={task_id[:64]: {p.field: p.reason for p in exc.problems}})
    return RedirectResponse("/admin/recipients?done=task", status_code=303)


