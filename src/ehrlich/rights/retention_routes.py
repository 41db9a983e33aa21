"""The console's Retention page: what the declared retention periods would erase now (the
dry run, by purpose and reason; the subject references on request) and running it.

Seeing it needs `posture.read` (auditor, admin, owner); the references also need
`subjects.list`; running it needs `subjects.erase` and a fresh sign-in, like any erasure.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ehrlich.admin.deps import StaffDep, check_csrf, require_fresh
from ehrlich.admin.templating import page
from ehrlich.admin.texts import FORM_EXPIRED
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.views import PurposeView, localise
from ehrlich.rights.retention import REASON_LABELS, RetentionService
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/retention", include_in_schema=False)
PATH = "/admin/retention"
SHOWN = 500  # subject references listed on the page; the command lists them all


@router.get("", response_class=HTMLResponse)
def retention_page(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                   subjects: Annotated[int, Query(ge=0, le=1)] = 0,
                   erased: Annotated[int, Query(ge=-1, le=10**9)] = -1) -> HTMLResponse:
    require(active.role, Permission.POSTURE_READ)
    return _page(request, instance, now, active, subjects=bool(subjects), erased=erased)


def _page(request: Request, instance: Instance, now: datetime, active: ActiveSession, *,
          subjects: bool = False, erased: int = -1, message: str | None = None,
          status: int = 200) -> HTMLResponse:
    plan = instance.service(RetentionService).plan(instance.db, now=now)
    purposes: list[PurposeView] = []  # none before a notice is published (the page says so)
    # worded as the public notice words them, in the page's language
    with instance.db.read() as session, contextlib.suppress(NoticeNotPublished):
        purposes = localise(instance.notices.current(session).notice,
                            negotiate(request)).purposes
    may_list = allowed(active.role, Permission.SUBJECTS_LIST)
    return page(request, "rights/retention.html", {
        "plan": plan, "purposes": purposes, "reasons": REASON_LABELS, "now": now,
        "show_subjects": subjects and may_list, "may_list": may_list, "shown": SHOWN,
        "may_run": allowed(active.role, Permission.SUBJECTS_ERASE), "erased": erased,
        "message": message}, active=active, status_code=status)


@router.post("/run")
def run(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
        csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    require(active.role, Permission.SUBJECTS_ERASE)
    require_fresh(active, instance, now, PATH)
    if not check_csrf(request, instance, active, csrf):
        return _page(request, instance, now, active, status=403,
                     message=translations(negotiate(request)).gettext(FORM_EXPIRED))
    done = instance.service(RetentionService).run(instance.db, now=now,
                                                  actor=f"staff:{active.user_id}")
    return RedirectResponse(f"{PATH}?erased={len(done.erased)}", status_code=303)
