"""Console pages of the breach register: the list with each open breach's 72-hour clock,
recording a suspected breach, and one breach with its forms (the record, the count of
people from the audit chain, the notice to the people, closing).

Handlers parse the form, call one `BreachService` operation (which audits), and
render. Reading needs `breaches.read` (auditor, admin, owner); changing needs
`breaches.manage` (admin, owner).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.admin.texts import FORM_EXPIRED
from ehrlich.auth.api_tokens import list_api_tokens
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.breach.draft import notices_of
from ehrlich.breach.schemas import (
    STATUS_LABELS,
    TELL_LABELS,
    TELL_PEOPLE,
    BreachChanges,
    NewBreach,
    Scope,
    parse,
)
from ehrlich.breach.service import BreachService
from ehrlich.errors import Conflict, FieldProblem, InvalidInput
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/breaches", include_in_schema=False)
PATH = "/admin/breaches"
FormStr = Annotated[str, Form(max_length=4096)]
Many = Annotated[list[str], Form(max_length=64)]
Opt = Annotated[str | None, Form(max_length=4096)]
LABELS = {"tell_labels": TELL_LABELS, "status_labels": STATUS_LABELS,
          "tell_choices": TELL_PEOPLE}
TEXT_FIELDS = ("title", "what_happened", "consequences", "measures", "authority_reference",
               "authority_not_notified", "tell_people", "tell_people_reason", "notice_en",
               "notice_de")
TIME_FIELDS = ("noticed_at", "authority_notified_at", "people_notified_at")


def _breaches(instance: Instance) -> BreachService:
    return instance.service(BreachService)


def _actor(active: ActiveSession) -> str:
    return f"staff:{active.user_id}"


def _expired(request: Request) -> str:
    return translations(negotiate(request)).gettext(FORM_EXPIRED)


def _time(name: str, text: str) -> datetime | None:
    """From a form's YYYY-MM-DD HH:MM (UTC, a `T` between is fine too) or a date; empty is
    None."""
    if not text.strip():
        return None
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput.one(name, "enter a time as YYYY-MM-DD HH:MM (UTC)") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _local(at: datetime | None) -> str:
    """A stored time as the forms show it (UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if at else ""


def _categories(session: Session, breaches: BreachService, lang: str) -> list[tuple[str, str]]:
    notice = breaches.notice(session)
    if notice is None:
        return []
    return [(slug, names.get(lang) or names["en"]) for slug, names in
            notice.data_categories.items()]


@router.get("", response_class=HTMLResponse)
def breach_list(request: Request, instance: InstanceDep, active: StaffDep, now: NowDep
                ) -> HTMLResponse:
    require(active.role, Permission.BREACHES_READ)
    rows = _breaches(instance).listing(instance.db)
    return page(request, "breach/list.html", {
        "rows": rows, "now": now, **LABELS,
        "may_manage": allowed(active.role, Permission.BREACHES_MANAGE)}, active=active)


def _new_page(request: Request, instance: Instance, active: ActiveSession, *,
              values: dict[str, object] | None = None, errors: dict[str, str] | None = None,
              message: str | None = None, status: int = 200) -> HTMLResponse:
    with instance.db.read() as session:
        categories = _categories(session, _breaches(instance), negotiate(request))
    return page(request, "breach/new.html", {
        "values": values or {}, "errors": errors or {}, "message": message,
        "categories": categories}, active=active, status_code=status)


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, instance: InstanceDep, active: StaffDep, now: NowDep
             ) -> HTMLResponse:
    require(active.role, Permission.BREACHES_MANAGE)
    return _new_page(request, instance, active, values={"noticed_at": _local(now)})


def _problems(exc: InvalidInput) -> dict[str, str]:
    return {p.field.split(".")[0]: p.reason for p in exc.problems}


@router.post("", response_class=HTMLResponse)
def record(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
           title: FormStr = "", what_happened: FormStr = "", noticed_at: FormStr = "",
           people_estimate: FormStr = "", data_categories: Many | None = None,
           csrf: FormStr = "") -> Response:
    require(active.role, Permission.BREACHES_MANAGE)
    chosen = data_categories or []
    values: dict[str, object] = {"title": title, "what_happened": what_happened,
                                 "noticed_at": noticed_at, "people_estimate": people_estimate,
                                 "data_categories": chosen}
    if not check_csrf(request, instance, active, csrf):
        return _new_page(request, instance, active, values=values, message=_expired(request),
                         status=403)
    given, problems = _fields({"noticed_at": noticed_at, "people_estimate": people_estimate},
                              None)
    try:
        try:
            data = parse(NewBreach, title=title, what_happened=what_happened,
                         noticed_at=given.get("noticed_at") or now, data_categories=chosen,
                         people_estimate=given.get("people_estimate"))
        except InvalidInput as exc:
            raise InvalidInput(problems + exc.problems) from None
        if problems:
            raise InvalidInput(problems)
        made = _breaches(instance).open(instance.db, data, actor=_actor(active), now=now)
    except InvalidInput as exc:
        return _new_page(request, instance, active, values=values, errors=_problems(exc),
                         status=422)
    return RedirectResponse(f"{PATH}/{made.id}?done=opened", status_code=303)


def _show(request: Request, instance: Instance, active: ActiveSession, breach_id: str, *,
          now: datetime, flash: str | None = None, errors: dict[str, str] | None = None,
          values: dict[str, object] | None = None, message: str | None = None,
          status: int = 200) -> HTMLResponse:
    breaches = _breaches(instance)
    shown = breaches.get(instance.db, breach_id)
    lang = negotiate(request)
    manage = allowed(active.role, Permission.BREACHES_MANAGE)
    with instance.db.read() as session:
        notice = breaches.notice(session)
        categories = _categories(session, breaches, lang)
        actors: list[tuple[str, str]] = []
        if manage:
            if allowed(active.role, Permission.STAFF_MANAGE):
                actors += [(f"staff:{u.id}", u.email) for u in
                           instance.staff.users.list_all(session, role=active.role)]
            actors += [(f"token:{t.id}", f"API token “{t.name}”") for t in
                       list_api_tokens(session)]
    current: dict[str, object] = {name: getattr(shown, name) or "" for name in TEXT_FIELDS}
    current.update({name: _local(getattr(shown, name)) for name in TIME_FIELDS})
    current.update({f"notice_{code}": text for code, text in notices_of(shown, notice).items()})
    current.update({"data_categories": shown.data_categories,
                    "people_estimate": "" if shown.people_estimate is None
                    else str(shown.people_estimate),
                    "scope_actor": shown.scope_actor or "",
                    "scope_start": _local(shown.scope_start),
                    "scope_end": _local(shown.scope_end) or _local(now)})
    current.update(values or {})
    return page(request, "breach/show.html", {
        "b": shown, "now": now, "flash": flash, "errors": errors or {}, "values": current,
        "message": message, "may_manage": manage and shown.status == "open",
        "categories": categories, "category_names": dict(categories), "actors": actors,
        **LABELS}, active=active, status_code=status)


@router.get("/{breach_id}", response_class=HTMLResponse)
def show(breach_id: str, request: Request, instance: InstanceDep, now: NowDep,
         active: StaffDep, done: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    require(active.role, Permission.BREACHES_READ)
    tr = translations(negotiate(request))
    flash = {"opened": tr.gettext("The breach is recorded. The 72-hour clock is running."),
             "saved": tr.gettext("The breach record is saved."),
             "scoped": tr.gettext("The people affected are counted from the audit log."),
             "closed": tr.gettext("The breach is closed.")}.get(done)
    return _show(request, instance, active, breach_id[:64], now=now, flash=flash)


def _refused(request: Request, instance: Instance, active: ActiveSession, breach_id: str,
             exc: InvalidInput | Conflict, *, now: datetime, values: dict[str, object]
             ) -> HTMLResponse:
    if isinstance(exc, InvalidInput):
        return _show(request, instance, active, breach_id, now=now, errors=_problems(exc),
                     values=values, status=422)
    return _show(request, instance, active, breach_id, now=now, message=exc.message,
                 values=values, status=409)


@router.post("/{breach_id}", response_class=HTMLResponse)
def save(breach_id: str, request: Request, instance: InstanceDep, now: NowDep,
         active: StaffDep, title: Opt = None, what_happened: Opt = None,
         noticed_at: Opt = None, people_estimate: Opt = None, consequences: Opt = None,
         measures: Opt = None, authority_notified_at: Opt = None,
         authority_reference: Opt = None, authority_not_notified: Opt = None,
         tell_people: Opt = None, tell_people_reason: Opt = None,
         people_notified_at: Opt = None, notice_en: Opt = None, notice_de: Opt = None,
         data_categories: Many | None = None, categories_shown: Opt = None,
         csrf: FormStr = "") -> Response:
    """The record's form and the notice form post here: only the fields they carry change."""
    require(active.role, Permission.BREACHES_MANAGE)
    breach_id = breach_id[:64]
    sent = {"title": title, "what_happened": what_happened, "noticed_at": noticed_at,
            "people_estimate": people_estimate, "consequences": consequences,
            "measures": measures, "authority_notified_at": authority_notified_at,
            "authority_reference": authority_reference,
            "authority_not_notified": authority_not_notified, "tell_people": tell_people,
            "tell_people_reason": tell_people_reason,
            "people_notified_at": people_notified_at, "notice_en": notice_en,
            "notice_de": notice_de}
    texts = {name: text for name, text in sent.items() if text is not None}
    values: dict[str, object] = {**texts}
    if categories_shown is not None:
        values["data_categories"] = data_categories or []
    if not check_csrf(request, instance, active, csrf):
        return _show(request, instance, active, breach_id, now=now, values=values,
                     message=_expired(request), status=403)
    try:
        given, problems = _fields(texts, data_categories if categories_shown is not None
                                  else None)
        if problems:
            raise InvalidInput(problems)
        changes = parse(BreachChanges, **given)
        _breaches(instance).update(instance.db, breach_id, changes, actor=_actor(active),
                                   now=now)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, instance, active, breach_id, exc, now=now, values=values)
    return RedirectResponse(f"{PATH}/{breach_id}?done=saved", status_code=303)


def _fields(texts: dict[str, str], categories: list[str] | None
            ) -> tuple[dict[str, object], list[FieldProblem]]:
    """The form's fields as `BreachChanges` input, and every bad field named."""
    given: dict[str, object] = {}
    problems: list[FieldProblem] = []
    for name, text in texts.items():
        if name in TIME_FIELDS:
            try:
                given[name] = _time(name, text)
            except InvalidInput as exc:
                problems += exc.problems
            if name == "noticed_at" and not text.strip():
                problems.append(FieldProblem(name, "enter when the breach was noticed"))
        elif name == "people_estimate":
            if text.strip() and not text.strip().isdigit():
                problems.append(FieldProblem(name, "enter a whole number, or leave it empty"))
            given[name] = int(text) if text.strip().isdigit() else None
        else:
            given[name] = text
    if categories is not None:
        given["data_categories"] = categories
    return given, problems


@router.post("/{breach_id}/scope", response_class=HTMLResponse)
def scope(breach_id: str, request: Request, instance: InstanceDep, now: NowDep,
          active: StaffDep, scope_actor: FormStr = "", scope_start: FormStr = "",
          scope_end: FormStr = "", csrf: FormStr = "") -> Response:
    require(active.role, Permission.BREACHES_MANAGE)
    breach_id = breach_id[:64]
    values: dict[str, object] = {"scope_actor": scope_actor, "scope_start": scope_start,
                                 "scope_end": scope_end}
    if not check_csrf(request, instance, active, csrf):
        return _show(request, instance, active, breach_id, now=now, values=values,
                     message=_expired(request), status=403)
    try:
        data = parse(Scope, actor=scope_actor, start=_time("start", scope_start),
                     end=_time("end", scope_end))
        _breaches(instance).scope(instance.db, breach_id, data, actor=_actor(active), now=now)
    except InvalidInput as exc:
        errors = {f"scope_{k}": v for k, v in _problems(exc).items()}
        return _show(request, instance, active, breach_id, now=now, errors=errors,
                     values=values, status=422)
    except Conflict as exc:
        return _refused(request, instance, active, breach_id, exc, now=now, values=values)
    return RedirectResponse(f"{PATH}/{breach_id}?done=scoped#people-h", status_code=303)


@router.post("/{breach_id}/close", response_class=HTMLResponse)
def close(breach_id: str, request: Request, instance: InstanceDep, now: NowDep,
          active: StaffDep, csrf: FormStr = "") -> Response:
    require(active.role, Permission.BREACHES_MANAGE)
    breach_id = breach_id[:64]
    if not check_csrf(request, instance, active, csrf):
        return _show(request, instance, active, breach_id, now=now,
                     message=_expired(request), status=403)
    try:
        _breaches(instance).close(instance.db, breach_id, actor=_actor(active), now=now)
    except (InvalidInput, Conflict) as exc:
        message = ("; ".join(p.reason for p in exc.problems) if isinstance(exc, InvalidInput)
                   else exc.message)
        return _show(request, instance, active, breach_id, now=now, message=message,
                     status=409)
    return RedirectResponse(f"{PATH}/{breach_id}?done=closed", status_code=303)
