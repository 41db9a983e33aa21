"""Console page for mail: whether it is on, how to turn it on, a test mail to oneself, the
queue of mail waiting (counts only) and whether mail is signed (DKIM), with the record to
publish."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.admin.texts import form_expired
from ehrlich.auth.roles import Permission, require
from ehrlich.counters.stores import open_store
from ehrlich.mail.service import SEND_TASK
from ehrlich.mail.status import DKIM_OFF, DKIM_TURN_ON, dkim_status, mail_status
from ehrlich.mailroom.trial import TestMailResult, send_test_mail
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/mail", include_in_schema=False)
STATUS_CODES = {"sent": 200, "off": 409, "throttled": 429, "deferred": 502, "refused": 502,
                "maintenance": 503}



def _page(request: Request, instance: InstanceDep, active: StaffDep, *,
          result: TestMailResult | None = None, status_code: int = 200) -> HTMLResponse:
    return page(request, "mail/admin_mail.html", {
        "mail": mail_status(instance.settings), "result": result,
        # counts only: a queued mail's recipient is personal data, its count is not
        "queue": instance.jobs.counts(SEND_TASK), "dkim": dkim_status(instance.settings),
        "dkim_off": DKIM_OFF, "dkim_turn_on": DKIM_TURN_ON}, active=active,
        status_code=status_code)


@router.get("", response_class=HTMLResponse)
def mail_page(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.POSTURE_READ)
    return _page(request, instance, active)


@router.post("/test", response_class=HTMLResponse)
def send_test(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
              csrf: Annotated[str, Form(max_length=4096)] = "") -> HTMLResponse:
    require(active.role, Permission.POSTURE_READ)
    if not check_csrf(request, instance, active, csrf):
        expired = form_expired(request)
        return _page(request, instance, active, status_code=403,
                     result=TestMailResult("deferred", expired))
    settings = instance.settings
    counters = open_store(instance.db, redis_url=settings.redis_url,
                          prefix=settings.redis_prefix)
    result = send_test_mail(settings, instance.db, instance.audit, counters, to=active.email,
                            user_id=active.user_id, now=now)
    return _page(request, instance, active, result=result,
                 status_code=STATUS_CODES[result.outcome])
