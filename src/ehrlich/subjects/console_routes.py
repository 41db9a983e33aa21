"""Console pages for contacts: the masked list and exact search, the person page, and the
actions each role may take there (reveal, rectify, export, erase, note).

Handlers parse the form, call one staff-subjects operation (which checks the role and
audits), and render. Values are masked unless revealed with a reason.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from ehrlich.admin.deps import StaffDep, check_csrf, require_fresh
from ehrlich.admin.templating import page
from ehrlich.admin.texts import form_expired
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.consent.ledger.machine import State
from ehrlich.consent.ledger.person import consent_overview, person_links, state_probe
from ehrlich.consent.ledger.service import history
from ehrlich.consent.schemas import ACTION_LABELS, METHOD_LABELS
from ehrlich.consent.web.common import STATE_LABELS
from ehrlich.errors import InvalidInput
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.views import channel_label
from ehrlich.sharing.copies import CopiesService
from ehrlich.sharing.schemas import KIND_CONTACT, CopyRequest
from ehrlich.subjects.errors import DuplicateContact
from ehrlich.subjects.listing import ContactFilters, subject_facts
from ehrlich.subjects.models import STATE_ERASED
from ehrlich.subjects.schemas import NoteInput, SubjectChanges, SubjectView
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/contacts", include_in_schema=False)
PATH = "/admin/contacts"
STATES: tuple[State, ...] = ("active", "requested", "withdrawn", "expired", "renewal-needed")
FormStr = Annotated[str, Form(max_length=4096)]
Short = Annotated[str, Query(max_length=200)]
RECTIFY_FIELDS = ("email", "name", "phone", "attributes")
EXPORT_FIELDS = (*RECTIFY_FIELDS, "source", "notes", "consent_events")


def _purposes(instance: Instance, lang: str) -> list[tuple[str, str]]:
    """(`purpose/channel`, its title and channel in `lang`) of the published notice's
    purposes with a channel, for the filter."""
    tr = translations(lang)
    with instance.db.read() as session:
        try:
            notice = instance.notices.current(session).notice
        except NoticeNotPublished:
            return []
        return [(f"{p.id}/{p.channel}", f"{instance.notices.purpose_title(session, p.id, lang)}"
                 f" / {channel_label(tr, p.channel)}")
                for p in notice.purposes if p.channel != "none"]


def _filters(bad_date: str, *, purpose: str, state: str, source: str, since: str,
             until: str) -> tuple[ContactFilters, dict[str, str]]:
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            days[name] = date.fromisoformat(text.strip()) if text.strip() else None
        except ValueError:
            errors[name] = bad_date
            days[name] = None
    purpose_id, _, channel = purpose.partition("/")
    consent = state_probe(purpose=purpose_id or None, channel=channel or None,
                          state=state if state in STATES else None)
    return ContactFilters(consent=consent, source=source.strip() or None,
                          since=days["since"], until=days["until"]), errors


@router.get("", response_class=HTMLResponse)
def contacts(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
             q: Annotated[str, Query(max_length=320)] = "", purpose: Short = "",
             state: Short = "", source: Short = "", since: Short = "", until: Short = "",
             after: Annotated[str, Query(max_length=36)] = "") -> HTMLResponse:
    require(active.role, Permission.SUBJECTS_LIST)
    lang = negotiate(request)
    tr = translations(lang)
    staff = instance.staff.subjects_for(active)
    filters, errors = _filters(tr.gettext("Enter a date as YYYY-MM-DD."), purpose=purpose,
                               state=state, source=source, since=since, until=until)
    rows, more = [], False
    if q.strip():
        text = q.strip()
        try:
            rows = staff.search(instance.db, email=text if "@" in text else None,
                                phone=None if "@" in text else text, now=now)
        except InvalidInput:
            errors["q"] = tr.gettext("Enter a whole email address or phone number.")
    elif not errors:
        rows, more = staff.list_page(instance.db, filters, after=after or None, now=now)
    query = {"purpose": purpose, "state": state, "source": source, "since": since,
             "until": until}
    kept = {k: v for k, v in query.items() if v}
    next_url = (f"{PATH}?{urlencode(kept | {'after': rows[-1].id})}" if more and rows
                else None)
    return page(request, "contacts/list.html", {
        "rows": rows, "q": q, "query": query, "errors": errors,
        "purposes": _purposes(instance, lang), "states": STATES, "state_labels": STATE_LABELS,
        "next_url": next_url, "first_url": f"{PATH}?{urlencode(kept)}" if after else None,
        # the unfiltered list's first page is empty: say where contacts come from
        "no_contacts": not rows and not q.strip() and not kept and not after and not errors,
        "may_import": allowed(active.role, Permission.SUBJECTS_IMPORT)},
        active=active, status_code=422 if errors else 200)


def _person_page(request: Request, instance: Instance, now: datetime, active: ActiveSession,
                 subject_id: str, *, revealed: SubjectView | None = None,
                 reason: str = "", errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None, flash: str | None = None,
                 message: str | None = None, status: int = 200) -> HTMLResponse:
    staff = instance.staff.subjects_for(active)
    actor = f"staff:{active.user_id}"
    with instance.db.write() as session:
        facts = subject_facts(session, subject_id)
        if facts.state == STATE_ERASED:
            return page(request, "contacts/erased.html", {"facts": facts},
                        active=active, status_code=status)
        masked = staff.masked(session, subject_id, now=now)
        notes = staff.notes(session, subject_id)
        emails = instance.staff.users.emails_of(session, {n.author for n in notes})
        overview = consent_overview(session, instance.audit, subject_id, facts.email_index,
                                    actor=actor, now=now)
        lang = negotiate(request)
        titles = {c.purpose: instance.notices.purpose_title(session, c.purpose, lang)
                  for c in overview.channels}
    channels = {c.channel: channel_label(translations(lang), c.channel)
                for c in overview.channels}
    links = (person_links(instance.settings, instance.keyring, subject_id, overview.channels,
                          now=now) if allowed(active.role, Permission.SUBJECTS_REVEAL)
             else None)
    may = {p.name.lower(): allowed(active.role, p) for p in Permission}
    return page(request, "contacts/person.html", {
        "person": masked, "revealed": revealed, "reason": reason,
        "notes": notes, "staff_emails": emails, "overview": overview, "links": links, "may": may,
        "errors": errors or {}, "values": values or {}, "flash": flash,
        "message": message, "copy_days": instance.service(CopiesService).keep_days,
        # the ledger's ids (purpose, channel, state, action, method) in the page's words
        "titles": titles, "channels": channels, "state_labels": STATE_LABELS,
        "action_labels": ACTION_LABELS, "method_labels": METHOD_LABELS},
        active=active, status_code=status)


@router.get("/{subject_id}", response_class=HTMLResponse)
def person(subject_id: str, request: Request, instance: InstanceDep, now: NowDep,
           active: StaffDep, done: Annotated[str, Query(max_length=20)] = ""
           ) -> HTMLResponse:
    require(active.role, Permission.SUBJECTS_LIST)
    lang = negotiate(request)
    tr = translations(lang)
    flash = {"rectified": tr.gettext("The changes were saved."),
             "note": tr.gettext("The note was added.")}.get(done)
    return _person_page(request, instance, now, active, subject_id[:64], flash=flash)


def _expired(request: Request, instance: Instance, now: datetime, active: ActiveSession,
             subject_id: str) -> HTMLResponse:
    return _person_page(request, instance, now, active, subject_id,
                        message=form_expired(request), status=403)


def _field_errors(exc: InvalidInput | ValidationError) -> dict[str, str]:
    if isinstance(exc, InvalidInput):
        return {p.field.split(".")[-1]: p.reason for p in exc.problems}
    return {str(e["loc"][0]) if e["loc"] else "body": str(e["msg"]) for e in exc.errors()}


@router.post("/{subject_id}/reveal", response_class=HTMLResponse)
def reveal(subject_id: str, request: Request, instance: InstanceDep, now: NowDep,
           active: StaffDep, reason: FormStr = "", csrf: FormStr = "") -> HTMLResponse:
    require(active.role, Permission.SUBJECTS_REVEAL)
    subject_id = subject_id[:64]
    if not check_csrf(request, instance, active, csrf):
        return _expired(request, instance, now, active, subject_id)
    try:
        with instance.db.write() as session:  # the audit entry commits before the page
            view = instance.staff.subjects_for(active).get(session, subject_id,
                                                            reason=reason, now=now)
    except InvalidInput as exc:
        return _person_page(request, instance, now, active, subject_id,
                            errors=_field_errors(exc), values={"reason": reason},
                            status=422)
    return _person_page(request, instance, now, active, subject_id, revealed=view,
                        reason=reason.strip())


@router.post("/{subject_id}/export")
def export(subject_id: str, request: Request, instance: InstanceDep, now: NowDep,
           active: StaffDep, reason: FormStr = "", destination: FormStr = "",
           expires: FormStr = "", csrf: FormStr = "") -> Response:
    require(active.role, Permission.SUBJECTS_EXPORT)
    subject_id = subject_id[:64]
    if not check_csrf(request, instance, active, csrf):
        return _expired(request, instance, now, active, subject_id)
    copies = instance.service(CopiesService)
    actor = f"staff:{active.user_id}"
    try:
        with instance.db.write() as session:  # the copy is recorded before it leaves
            view, notes = instance.staff.subjects_for(active).export(session, subject_id,
                                                                     now=now)
            events = history(session, subject_id)
            issued = copies.issue(session, CopyRequest(
                KIND_CONTACT, subject_id, EXPORT_FIELDS, "json", reason, destination,
                _expiry_day(expires)), holder=actor, now=now)
            body: dict[str, Any] = {
                "subject": view.model_dump(mode="json"),
                "notes": [n.model_dump(mode="json") for n in notes],
                "consent_events": [e.model_dump(mode="json") for e in events],
                "copy": {"id": issued.id, "issued_at": now.isoformat(), "issued_by": actor,
                         "reason": " ".join(reason.split()),
                         "destination": " ".join(destination.split()),
                         "destroy_by": issued.expires_at.isoformat()}}
            data = json.dumps(body, ensure_ascii=False, indent=2).encode()
            copies.complete(session, issued.id, rows=1,
                            digest="sha256:" + hashlib.sha256(data).hexdigest(), now=now)
    except InvalidInput as exc:
        return _person_page(request, instance, now, active, subject_id,
                            errors={f"export_{k}": v for k, v in _field_errors(exc).items()},
                            values={"export_reason": reason,
                                    "export_destination": destination,
                                    "export_expires": expires}, status=422)
    return Response(data, media_type="application/json", headers={
        "content-disposition": f'attachment; filename="contact-{subject_id}.json"',
        "cache-control": "no-store", "x-ehrlich-copy": issued.id})


def _expiry_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput.one("expires", "enter a date as YYYY-MM-DD") from None


def _rectify_page(request: Request, active: ActiveSession, subject_id: str, *,
                  values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  message: str | None = None, status: int = 200) -> HTMLResponse:
    return page(request, "contacts/rectify.html", {
        "subject_id": subject_id,
        "values": values or {}, "errors": errors or {}, "message": message},
        active=active, status_code=status)


@router.get("/{subject_id}/rectify", response_class=HTMLResponse)
def rectify_form(subject_id: str, request: Request, instance: InstanceDep,
                 active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.SUBJECTS_RECTIFY)
    with instance.db.read() as session:
        subject_facts(session, subject_id)
    return _rectify_page(request, active, subject_id[:64])


def _changes(values: dict[str, str]) -> SubjectChanges:
    given: dict[str, Any] = {k: v.strip() for k, v in values.items() if v.strip()}
    if "attributes" in given:
        try:
            given["attributes"] = json.loads(given["attributes"])
        except ValueError:
            raise InvalidInput.one("attributes", "is not valid JSON") from None
        if not isinstance(given["attributes"], dict):
            raise InvalidInput.one("attributes", "must be a JSON object")
    return SubjectChanges.model_validate(given)


@router.post("/{subject_id}/rectify", response_class=HTMLResponse)
def rectify(subject_id: str, request: Request, instance: InstanceDep, now: NowDep,
            active: StaffDep, email: FormStr = "", name: FormStr = "", phone: FormStr = "",
            attributes: Annotated[str, Form(max_length=70_000)] = "", csrf: FormStr = ""
            ) -> Response:
    require(active.role, Permission.SUBJECTS_RECTIFY)
    subject_id = subject_id[:64]
    values = {"email": email, "name": name, "phone": phone, "attributes": attributes}
    if not check_csrf(request, instance, active, csrf):
        return _rectify_page(request, active, subject_id, values=values, status=403,
                             message=form_expired(request))
    try:
        changes = _changes(values)
        with instance.db.write() as session:
            instance.staff.subjects_for(active).rectify(session, subject_id, changes, now=now)
    except (InvalidInput, ValidationError) as exc:
        return _rectify_page(request, active, subject_id, values=values,
                             errors=_field_errors(exc), status=422)
    except DuplicateContact as exc:
        return _rectify_page(request, active, subject_id, values=values,
                             errors={"email": exc.message}, status=409)
    return RedirectResponse(f"{PATH}/{subject_id}?done=rectified", status_code=303)


def _erase_page(request: Request, active: ActiveSession, subject_id: str, *,
                reason: str = "", errors: dict[str, str] | None = None,
                message: str | None = None, status: int = 200) -> HTMLResponse:
    return page(request, "contacts/erase.html", {
        "subject_id": subject_id, "reason": reason,
        "errors": errors or {}, "message": message}, active=active, status_code=status)


@router.get("/{subject_id}/erase", response_class=HTMLResponse)
def erase_form(subject_id: str, request: Request, instance: InstanceDep,
               active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.SUBJECTS_ERASE)
    with instance.db.read() as session:
        subject_facts(session, subject_id)
    return _erase_page(request, active, subject_id[:64])


@router.post("/{subject_id}/erase", response_class=HTMLResponse)
def erase(subject_id: str, request: Request, instance: InstanceDep, now: NowDep,
          active: StaffDep, reason: FormStr = "", csrf: FormStr = "") -> Response:
    require(active.role, Permission.SUBJECTS_ERASE)
    subject_id = subject_id[:64]
    if not check_csrf(request, instance, active, csrf):
        return _erase_page(request, active, subject_id, reason=reason, status=403,
                           message=form_expired(request))
    require_fresh(active, instance, now, f"{PATH}/{subject_id}/erase")
    try:
        instance.staff.subjects_for(active).erase(instance.db, subject_id, reason=reason,
                                                  now=now)
    except InvalidInput as exc:
        return _erase_page(request, active, subject_id, reason=reason,
                           errors=_field_errors(exc), status=422)
    return RedirectResponse(f"{PATH}/{subject_id}", status_code=303)


@router.post("/{subject_id}/notes", response_class=HTMLResponse)
def add_note(subject_id: str, request: Request, instance: InstanceDep, now: NowDep,
             active: StaffDep, body: FormStr = "", csrf: FormStr = "") -> Response:
    require(active.role, Permission.SUBJECTS_NOTE)
    subject_id = subject_id[:64]
    if not check_csrf(request, instance, active, csrf):
        return _expired(request, instance, now, active, subject_id)
    try:
        note = NoteInput(body=body)
        with instance.db.write() as session:
            instance.staff.subjects_for(active).add_note(session, subject_id, note, now=now)
    except (InvalidInput, ValidationError) as exc:
        return _person_page(request, instance, now, active, subject_id,
                            errors={f"note_{k}": v for k, v in _field_errors(exc).items()},
                            values={"note": body}, status=422)
    return RedirectResponse(f"{PATH}/{subject_id}?done=note", status_code=303)
