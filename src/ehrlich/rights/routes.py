"""`/my-data`: a person asks for a link to their data, and behind it sees everything held
(a printable page, JSON and CSV downloads), corrects it and erases it.

No JavaScript is needed; the only script is the CAPTCHA solver once a network
looks automated, with the same `<noscript>` way through as the signup form.
Every page answers a bad or expired link the same way, changes nothing, and
is never cached.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ehrlich.consent.schemas import ACTION_LABELS, METHOD_LABELS
from ehrlich.consent.web.common import (
    NO_STORE,
    STATE_LABELS,
    client_address,
    origin_allowed,
)
from ehrlich.crypto import TokenExpired, TokenInvalid
from ehrlich.errors import InvalidInput
from ehrlich.i18n import N_, negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.rights.links import LINK_HOURS, LinkClaims
from ehrlich.rights.report import report_csv, report_json
from ehrlich.rights.schemas import BASIS_LABELS, AccessReport
from ehrlich.rights.service import LANGUAGES, LinkOutcome, RightsService
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.web.deps import InstanceDep, NowDep
from ehrlich.web.field_errors import FormFields, field_errors
from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]
Gone = (SubjectErased, SubjectNotFound)
MESSAGES = {
    "sent": (N_("Please check your mail"),
             N_("If we hold data under this address, we have sent it a link to your data. "
                "The link works for %(hours)s hours.")),
    "invalid": (N_("This link is not valid"),
                N_("The link is damaged or not meant for this page. Nothing was changed. "
                   "You can ask for a new one.")),
    "expired": (N_("This link has expired"), N_("Nothing was changed. Please ask for a new "
                                                 "link.")),
    "erased": (N_("Your data is erased"),
               N_("We hold no data about you under this link any more.")),
    "foreign": (N_("This form may not be sent from that site"), N_("Nothing was changed.")),
}
"""The title and text of each page that only says what happened (`rights/message.html`)."""
ASK_FIELDS: FormFields = {"email": ("email", N_("Email address"))}
CORRECT_FIELDS: FormFields = {
    "name": ("name", N_("Name")), "language": ("language", N_("Language for our mails")),
    "other": ("other", N_("Anything else to correct (we check it and answer within one "
                          "month)"))}
"""The fields of the two forms as their problems name them: the input's id and label."""


def _page(request: Request, template: str, context: dict[str, Any], *, status: int = 200
          ) -> HTMLResponse:
    response = render(request, template, {"lang": negotiate(request), **context},
                      status_code=status)
    response.headers.update(NO_STORE)
    return response


def _message(request: Request, key: str, *, status: int) -> HTMLResponse:
    tr = translations(negotiate(request))
    title, text = MESSAGES[key]
    return _page(request, "rights/message.html", {
        "title": tr.gettext(title), "text": tr.gettext(text) % {"hours": LINK_HOURS},
        "again": key in ("invalid", "expired")}, status=status)


def _rights(instance: Instance) -> RightsService:
    return instance.service(RightsService)


def _form(request: Request, *, status: int = 200, errors: list[tuple[str, str]] | None = None,
          email: str = "", challenge: dict[str, Any] | None = None,
          message: str | None = None, lang: str | None = None) -> HTMLResponse:
    """The form that asks for the link, in `lang` (the one it was shown in) or the page's."""
    lang = lang or negotiate(request)
    return _page(request, "rights/ask.html", {
        "lang": lang, "errors": field_errors(errors or [], ASK_FIELDS, lang), "email": email,
        "challenge": challenge, "message": message}, status=status)


def _mail_off(request: Request, instance: Instance) -> HTMLResponse:
    """Without SMTP no link can go out: say so, and where to write instead."""
    return _page(request, "rights/mail_off.html", {
        "contact": _rights(instance).controller_contact(instance.db)}, status=503)


@router.get("/my-data", response_class=HTMLResponse)
def ask_page(request: Request, instance: InstanceDep) -> HTMLResponse:
    if not _rights(instance).mail_on:
        return _mail_off(request, instance)
    return _form(request)


@router.post("/my-data", response_class=HTMLResponse)
def ask(request: Request, instance: InstanceDep, now: NowDep, email: FormStr = "",
        language: FormStr = "", website: FormStr = "", altcha: FormStr = "",
        no_script: FormStr = "") -> HTMLResponse:
    if not origin_allowed(request, instance.settings, cross_site=False):
        return _message(request, "foreign", status=403)
    if not _rights(instance).mail_on:
        return _mail_off(request, instance)
    if website:  # the honeypot: a person never fills it in
        return _message(request, "sent", status=200)
    lang = language if language in LANGUAGES else negotiate(request)
    outcome = _rights(instance).ask_for_link(
        instance.db, instance.mail, email, language=lang, client=client_address(request),
        captcha=altcha or None, no_script=bool(no_script), now=now)
    return _answer(request, outcome, email=email, lang=lang)


def _answer(request: Request, outcome: LinkOutcome, *, email: str, lang: str
            ) -> HTMLResponse:
    """The page for what the form's rules decided; "sent" whether the address is known."""
    tr = translations(lang)
    if outcome.status == "invalid":
        return _form(request, status=422, email=email, errors=outcome.errors, lang=lang)
    if outcome.status == "limited":
        response = _form(request, status=429, email=email, lang=lang, message=tr.gettext(
            "Too many requests from your network. Please try again in an hour."))
        response.headers["Retry-After"] = "3600"
        return response
    if outcome.status == "captcha":
        return _form(request, status=429, email=email, challenge=outcome.challenge, lang=lang,
                     message=tr.gettext("Please wait a moment while your browser proves it "
                                        "is not a robot, then send the form again."))
    return _message(request, "sent", status=200)


def _claims(instance: Instance, token: str, now: datetime) -> LinkClaims | str:
    try:
        return _rights(instance).read_link(token, now=now)
    except TokenExpired:
        return "expired"
    except TokenInvalid:
        return "invalid"


def _refused(request: Request, problem: str) -> HTMLResponse:
    return _message(request, problem, status=410 if problem == "expired" else 400)


def _report_page(request: Request, token: str, report: AccessReport, *,
                 message: str | None = None, errors: list[tuple[str, str]] | None = None,
                 values: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    return _page(request, "rights/report.html", {
        "token": token, "report": report, "message": message,
        "errors": field_errors(errors or [], CORRECT_FIELDS, negotiate(request)),
        "values": values or {}, "languages": LANGUAGES, "action_labels": ACTION_LABELS,
        "basis_labels": BASIS_LABELS, "state_labels": STATE_LABELS,
        "method_labels": METHOD_LABELS,
        "titles": {p.id: p.title for p in report.purposes}}, status=status)


@router.get("/my-data/{token}", response_class=HTMLResponse)
def my_data(token: str, request: Request, instance: InstanceDep, now: NowDep
            ) -> HTMLResponse:
    claims = _claims(instance, token, now)
    if isinstance(claims, str):
        return _refused(request, claims)
    try:
        report = _rights(instance).self_service(instance.db, claims, "access",
                                                language=negotiate(request), now=now)
    except Gone:
        return _message(request, "erased", status=410)
    return _report_page(request, token, report)


@router.get("/my-data/{token}/data.{kind}")
def download(token: str, kind: str, request: Request, instance: InstanceDep, now: NowDep
             ) -> Response:
    claims = _claims(instance, token, now)
    if isinstance(claims, str):
        return _refused(request, claims)
    if kind not in ("json", "csv"):
        return _message(request, "invalid", status=404)
    try:
        report = _rights(instance).self_service(instance.db, claims, "portability",
                                                language=negotiate(request), now=now)
    except Gone:
        return _message(request, "erased", status=410)
    body, media = ((report_json(report), "application/json") if kind == "json"
                   else (report_csv(report), "text/csv; charset=utf-8"))
    return Response(body, media_type=media, headers={
        **NO_STORE, "content-disposition": f'attachment; filename="my-data.{kind}"'})


@router.post("/my-data/{token}/correct", response_class=HTMLResponse)
def correct(token: str, request: Request, instance: InstanceDep, now: NowDep,
            name: FormStr = "", language: FormStr = "",
            other: Annotated[str, Form(max_length=4000)] = "") -> HTMLResponse:
    claims = _claims(instance, token, now)
    if isinstance(claims, str):
        return _refused(request, claims)
    if not origin_allowed(request, instance.settings, cross_site=False):
        return _message(request, "foreign", status=403)
    rights = _rights(instance)
    lang = negotiate(request)
    tr = translations(lang)
    values = {"name": name, "language": language, "other": other}
    try:
        outcome = rights.correct(instance.db, claims, name=name, language=language,
                                 other=other, now=now)
    except Gone:
        return _message(request, "erased", status=410)
    except InvalidInput as exc:
        report = rights.report(instance.db, claims.subject_id, actor="subject:my-data",
                               language=lang, now=now)
        return _report_page(request, token, report, values=values, status=422,
                            errors=[(p.field, p.reason) for p in exc.problems])
    parts = []
    if outcome.changed:
        parts.append(tr.gettext("Your changes are saved."))
    if outcome.request_id:
        parts.append(tr.gettext("We have passed your request on; you will hear from us "
                                "within one month."))
    report = rights.report(instance.db, claims.subject_id, actor="subject:my-data",
                           language=lang, now=now)
    return _report_page(request, token, report,
                        message=" ".join(parts) or tr.gettext("Nothing was changed."))


@router.get("/my-data/{token}/erase", response_class=HTMLResponse)
def erase_page(token: str, request: Request, instance: InstanceDep, now: NowDep
               ) -> HTMLResponse:
    claims = _claims(instance, token, now)
    if isinstance(claims, str):
        return _refused(request, claims)
    try:
        holds = _rights(instance).erasure_plan(instance.db, claims.subject_id,
                                               language=negotiate(request), now=now)
    except Gone:
        return _message(request, "erased", status=410)
    return _page(request, "rights/erase.html", {"token": token, "holds": holds})


@router.post("/my-data/{token}/erase", response_class=HTMLResponse)
def erase(token: str, request: Request, instance: InstanceDep, now: NowDep,
          confirm: FormStr = "") -> HTMLResponse:
    claims = _claims(instance, token, now)
    if isinstance(claims, str):
        return _refused(request, claims)
    if not origin_allowed(request, instance.settings, cross_site=False):
        return _message(request, "foreign", status=403)
    if confirm != "yes":
        return erase_page(token, request, instance, now)
    try:
        outcome = _rights(instance).erase(instance.db, claims.subject_id,
                                          actor="subject:my-data", language=negotiate(request),
                                          channel="self-service", now=now)
    except Gone:
        return _message(request, "erased", status=410)
    return _page(request, "rights/erased.html", {"outcome": outcome})
