"""Public consent pages: signup (and its embeddable twin), confirmation, cancel, GPC.

Every page works without JavaScript; the only script is the CAPTCHA solver,
served from /static and needed only once an address looks automated (a browser
without JavaScript takes the `<noscript>` path of `consent.signup.gate` instead). The
form's rules live in `consent.signup.form`; these routes render what it decides.
`/embed/signup` is the one page other sites may frame (`signup_origins`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse

from ehrlich.consent.signup.double_opt_in import (
    cancel,
    check_confirm_link,
    confirm_link,
    titles_to_confirm,
)
from ehrlich.consent.signup.form import FormOutcome, SignupForm, form_language, submit_form
from ehrlich.consent.signup.offers import offers
from ehrlich.consent.web.common import (
    NO_STORE,
    client_address,
    evidence_of,
    message_texts,
    origin_allowed,
)
from ehrlich.i18n import N_, negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.web.deps import InstanceDep, NowDep
from ehrlich.web.field_errors import FormFields, field_errors
from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]
GPC_UPDATED = date(2026, 11, 29)
FIELDS: FormFields = {
    "email": ("email", N_("Email address")), "name": ("name", N_("Name")),
    "purpose": ("purpose", N_("What you want to receive")),
    "consents": ("purpose", N_("What you want to receive")),
    "notice_version": ("", N_("Privacy notice")), "notice_hash": ("", N_("Privacy notice")),
}
"""The form's fields as its problems name them: the input's id and visible label."""


def _notice_page(request: Request, lang: str, key: str, *, embed: bool, status: int
                 ) -> HTMLResponse:
    """A page that says why the form cannot be used (no notice yet, mail off)."""
    response = render(request, "consent/message.html", {
        "lang": lang, **message_texts(lang, key), "embed": embed}, status_code=status)
    response.headers.update(NO_STORE)
    return response


def _form_page(request: Request, instance: Instance, *, embed: bool, lang: str,
               status: int = 200, errors: list[tuple[str, str]] | None = None,
               values: dict[str, Any] | None = None, challenge: dict[str, Any] | None = None,
               message: str | None = None) -> HTMLResponse:
    assert instance.signups is not None
    if not instance.signups.mail_on:  # before anyone submitted: nothing was attempted
        return _notice_page(request, lang, "mail_off", embed=embed, status=503)
    try:
        published = instance.signups.published(instance.db)
    except NoticeNotPublished:
        return _notice_page(request, lang, "not_open", embed=embed, status=503)
    context = {"lang": lang, "embed": embed, "errors": field_errors(errors or [], FIELDS, lang),
               "values": values or {}, "challenge": challenge, "message": message,
               "offers": offers(published, lang), "version": published.info.number,
               "notice": published.notice, "action": "/embed/signup" if embed else "/signup"}
    response = render(request, "consent/signup.html", context, status_code=status)
    response.headers.update(NO_STORE)
    return response


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, instance: InstanceDep) -> HTMLResponse:
    return _form_page(request, instance, embed=False, lang=negotiate(request))


@router.get("/embed/signup", response_class=HTMLResponse)
def signup_embed(request: Request, instance: InstanceDep) -> HTMLResponse:
    return _form_page(request, instance, embed=True, lang=negotiate(request))


def _answer(request: Request, instance: Instance, outcome: FormOutcome, *, embed: bool,
            values: dict[str, Any]) -> HTMLResponse:
    """The page for what the form's rules decided, in the language the form was shown in."""
    lang = outcome.language
    tr = translations(lang)
    if outcome.status == "sent":
        response = render(request, "consent/message.html", {
            "lang": lang, **message_texts(lang, "sent"), "embed": embed,
            "gpc": outcome.gpc_honoured})
        response.headers.update(NO_STORE)
        return response
    if outcome.status == "closed":
        return _notice_page(request, lang, "closed", embed=embed, status=503)
    if outcome.status == "not-open":
        return _notice_page(request, lang, "not_open", embed=embed, status=503)
    if outcome.status == "limited":
        response = _form_page(request, instance, embed=embed, lang=lang, status=429,
                              values=values,
                              message=tr.gettext("Too many signups from your network. "
                                                 "Please try again in an hour."))
        response.headers["Retry-After"] = "3600"
        return response
    if outcome.status == "captcha":
        return _form_page(request, instance, embed=embed, lang=lang, status=429,
                          values=values, challenge=outcome.challenge,
                          message=tr.gettext("Please wait a moment while your browser proves "
                                             "it is not a robot, then send the form again."))
    return _form_page(request, instance, embed=embed, lang=lang, status=422,
                      errors=outcome.errors, values=values)


def _submission(*, embed: bool) -> Callable[..., HTMLResponse]:
    """The POST handler of the signup page or of its embeddable twin."""

    def submit(request: Request, instance: InstanceDep, now: NowDep, email: FormStr = "",
               name: FormStr = "", language: FormStr = "", notice_version: FormStr = "",
               purpose: Annotated[list[str] | None, Form(max_length=64)] = None,
               website: FormStr = "", altcha: FormStr = "", no_script: FormStr = ""
               ) -> HTMLResponse:
        posted = SignupForm(email=email, name=name, language=language,
                            notice_version=notice_version, purposes=purpose or [],
                            website=website, altcha=altcha, no_script=bool(no_script))
        values = {"email": email, "name": name, "purposes": posted.purposes}
        if not origin_allowed(request, instance.settings, cross_site=True):
            lang = form_language(language, negotiate(request))
            message = translations(lang).gettext("This form may not be sent from that site.")
            return _form_page(request, instance, embed=embed, lang=lang, status=403,
                              message=message)
        assert instance.signups is not None
        outcome = submit_form(
            instance.signups, instance.db, instance.mail, posted,
            page_language=negotiate(request), address=client_address(request),
            evidence=evidence_of(request),
            form_url=str(request.url_for("signup_embed" if embed else "signup_page")), now=now)
        return _answer(request, instance, outcome, embed=embed, values=values)

    return submit


router.post("/signup", response_class=HTMLResponse, name="signup")(_submission(embed=False))
router.post("/embed/signup", response_class=HTMLResponse,
            name="signup_embedded")(_submission(embed=True))


def _message(request: Request, key: str, *, status: int = 200, **extra: Any) -> HTMLResponse:
    lang = negotiate(request)
    response = render(request, "consent/message.html", {
        "lang": lang, **message_texts(lang, key), **extra}, status_code=status)
    response.headers.update(NO_STORE)
    return response


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(token: str, request: Request, instance: InstanceDep, now: NowDep
                 ) -> HTMLResponse:
    """Only shows the button: mail scanners follow links."""
    problem = check_confirm_link(instance.keyring, token, now=now)
    if problem is not None:
        return _message(request, problem, status=400 if problem == "invalid" else 410)
    lang = negotiate(request)
    tr = translations(lang)
    response = render(request, "consent/button.html", {
        "lang": lang, "title": tr.gettext("Confirm your subscription"),
        "text": tr.gettext("Please confirm with the button below."),
        "items_intro": tr.gettext("You asked us to send you:"),
        "items": titles_to_confirm(instance.db, instance.keyring, instance.notices, token,
                                   language=lang, now=now),
        "button": tr.gettext("Confirm"), "action": f"/confirm/{token}?lang={lang}"})
    response.headers.update(NO_STORE)
    return response


@router.post("/confirm/{token}", response_class=HTMLResponse)
def confirm_post(token: str, request: Request, instance: InstanceDep, now: NowDep
                 ) -> HTMLResponse:
    if not origin_allowed(request, instance.settings, cross_site=False):
        return _message(request, "invalid", status=403)
    outcome = confirm_link(instance.db, instance.audit, instance.keyring, instance.notices,
                           token, language=negotiate(request),
                           evidence=evidence_of(request), now=now)
    status = {"confirmed": 200, "already": 200, "stale": 409, "invalid": 400,
              "expired": 410}[outcome.status]
    return _message(request, outcome.status, status=status, gpc=bool(outcome.gpc_withdrawn),
                    preferences=outcome.preferences_token)


@router.get("/cancel/{token}", response_class=HTMLResponse)
def cancel_page(token: str, request: Request) -> HTMLResponse:
    lang = negotiate(request)
    tr = translations(lang)
    response = render(request, "consent/button.html", {
        "lang": lang, "title": tr.gettext("Cancel the request"),
        "text": tr.gettext("Do you want to cancel this request? Then we send you nothing. "
                           "One click is enough."),
        "button": tr.gettext("Cancel the request"),
        "action": f"/cancel/{token}?lang={lang}", "one_click": True})
    response.headers.update(NO_STORE)
    return response


@router.post("/cancel/{token}", response_class=HTMLResponse)
def cancel_post(token: str, request: Request, instance: InstanceDep, now: NowDep
                ) -> HTMLResponse:
    """RFC 8058 one-click: no cookie, no CSRF token, no redirect; the same answer always."""
    with instance.db.write() as session:
        cancel(session, instance.audit, instance.keyring, token, evidence=evidence_of(request),
               now=now)
    return _message(request, "cancelled")


@router.get("/.well-known/gpc.json")
def gpc_json() -> JSONResponse:
    """Global Privacy Control support resource (GPC specification, section 3.5)."""
    return JSONResponse({"gpc": True, "lastUpdate": GPC_UPDATED.isoformat()},
                        headers={"Cache-Control": "max-age=86400"})
