"""Public consent pages: signup (and its embeddable twin), confirmation, cancel, GPC.

Every page works without JavaScript; the only script is the CAPTCHA solver,
served from /static and needed only once an address looks automated.
`/embed/signup` is the one page other sites may frame (`signup_origins`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from ehrlich.consent.double_opt_in import cancel, check_confirm_link, confirm
from ehrlich.consent.offers import offer_map, offers
from ehrlich.consent.schemas import SignupConsent, SignupInput, SignupReceipt
from ehrlich.consent.web import (
    NO_STORE,
    TEXTS,
    client_address,
    evidence_of,
    origin_allowed,
    page_language,
)
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.web.deps import InstanceDep, NowDep
from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]
GPC_UPDATED = date(2026, 11, 29)


def _form_page(request: Request, instance: Instance, *, embed: bool, status: int = 200,
               errors: list[tuple[str, str]] | None = None, values: dict[str, Any] | None = None,
               challenge: dict[str, Any] | None = None, message: str | None = None
               ) -> HTMLResponse:
    lang = page_language(request)
    with instance.db.read() as session:
        try:
            published = instance.notices.current(session)
        except NoticeNotPublished:
            return render(request, "notice_missing.html", {"lang": lang}, status_code=503)
    context = {"t": TEXTS[lang], "lang": lang, "embed": embed, "errors": errors or [],
               "values": values or {}, "challenge": challenge, "message": message,
               "offers": offers(published, lang), "version": published.info.number,
               "notice": published.notice, "action": "/embed/signup" if embed else "/signup"}
    response = render(request, "consent/signup.html", context, status_code=status)
    response.headers.update(NO_STORE)
    return response


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, instance: InstanceDep) -> HTMLResponse:
    return _form_page(request, instance, embed=False)


@router.get("/embed/signup", response_class=HTMLResponse)
def signup_embed(request: Request, instance: InstanceDep) -> HTMLResponse:
    return _form_page(request, instance, embed=True)


def _gate(request: Request, instance: Instance, now: Any, *, embed: bool, altcha: str,
          values: dict[str, Any]) -> HTMLResponse | None:
    """None when the signup may go ahead; otherwise the page that says why not."""
    assert instance.signups.gate is not None
    t = TEXTS[page_language(request)]
    decision = instance.signups.gate.admit(client_address(request), captcha=altcha or None,
                                           now=now)
    if decision.verdict == "limited":
        response = _form_page(request, instance, embed=embed, status=429, values=values,
                              message=t["limited"])
        response.headers["Retry-After"] = "3600"
        return response
    if decision.verdict == "captcha":
        return _form_page(request, instance, embed=embed, status=429, values=values,
                          challenge=decision.challenge, message=t["captcha"])
    return None


def _submit(request: Request, instance: Instance, now: Any, *, embed: bool, email: str,
            name: str, language: str, notice_version: str, purpose: list[str], website: str,
            altcha: str) -> HTMLResponse:
    lang = page_language(request) if not language else ("de" if language == "de" else "en")
    t = TEXTS[lang]
    values = {"email": email, "name": name, "purposes": purpose}
    if not origin_allowed(request, instance.settings, cross_site=True):
        return _form_page(request, instance, embed=embed, status=403, message=t["origin"])
    if website:  # the honeypot: a person never fills it in; answer as if all went well
        return render(request, "consent/message.html", {
            "t": t, "lang": lang, "title": t["sent_title"], "text": t["sent"], "embed": embed})
    refused = _gate(request, instance, now, embed=embed, altcha=altcha, values=values)
    if refused is not None:
        return refused
    with instance.db.read() as session:
        texts = offer_map(instance.notices.current(session), lang)
    try:
        if not purpose:
            raise InvalidInput.one("purpose", "tick at least one")
        data = SignupInput(
            email=email, name=name or None, language=lang,
            notice_version=int(notice_version) if notice_version.isascii()
            and notice_version.isdigit() else 0,
            consents=[SignupConsent(purpose=p, text=texts[p].text if p in texts else "?")
                      for p in purpose[:20]],
            form=str(request.url_for("signup_embed" if embed else "signup_page")))
        receipt: SignupReceipt = instance.signups.sign_up(
            instance.db, instance.mail, data, method="form", evidence=evidence_of(request),
            now=now)
    except InvalidInput as exc:
        errors = [(p.field, p.reason) for p in exc.problems]
        return _form_page(request, instance, embed=embed, status=422, errors=errors,
                          values=values)
    except ValidationError as exc:  # lengths and shapes
        errors = [(".".join(str(x) for x in e["loc"]), e["msg"]) for e in exc.errors()]
        return _form_page(request, instance, embed=embed, status=422, errors=errors,
                          values=values)
    response = render(request, "consent/message.html", {
        "t": t, "lang": lang, "title": t["sent_title"], "text": t["sent"], "embed": embed,
        "gpc": bool(receipt.gpc_honoured)})
    response.headers.update(NO_STORE)
    return response


def _submission(*, embed: bool) -> Callable[..., HTMLResponse]:
    """The POST handler of the signup page or of its embeddable twin."""

    def submit(request: Request, instance: InstanceDep, now: NowDep, email: FormStr = "",
               name: FormStr = "", language: FormStr = "", notice_version: FormStr = "",
               purpose: Annotated[list[str] | None, Form(max_length=64)] = None,
               website: FormStr = "", altcha: FormStr = "") -> HTMLResponse:
        return _submit(request, instance, now, embed=embed, email=email, name=name,
                       language=language, notice_version=notice_version,
                       purpose=purpose or [], website=website, altcha=altcha)

    return submit


router.post("/signup", response_class=HTMLResponse, name="signup")(_submission(embed=False))
router.post("/embed/signup", response_class=HTMLResponse,
            name="signup_embedded")(_submission(embed=True))


def _message(request: Request, key: str, *, status: int = 200, **extra: Any) -> HTMLResponse:
    lang = page_language(request)
    t = TEXTS[lang]
    response = render(request, "consent/message.html", {
        "t": t, "lang": lang, "title": t[f"{key}_title"], "text": t[key], **extra},
        status_code=status)
    response.headers.update(NO_STORE)
    return response


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(token: str, request: Request, instance: InstanceDep, now: NowDep
                 ) -> HTMLResponse:
    """Only shows the button: mail scanners follow links."""
    problem = check_confirm_link(instance.keyring, token, now=now)
    if problem is not None:
        return _message(request, problem, status=400 if problem == "invalid" else 410)
    lang = page_language(request)
    response = render(request, "consent/button.html", {
        "t": TEXTS[lang], "lang": lang, "title": TEXTS[lang]["confirm_title"],
        "text": TEXTS[lang]["confirm_ask"], "button": TEXTS[lang]["confirm"],
        "action": f"/confirm/{token}"})
    response.headers.update(NO_STORE)
    return response


@router.post("/confirm/{token}", response_class=HTMLResponse)
def confirm_post(token: str, request: Request, instance: InstanceDep, now: NowDep
                 ) -> HTMLResponse:
    if not origin_allowed(request, instance.settings, cross_site=False):
        return _message(request, "invalid", status=403)
    lang = page_language(request)
    with instance.db.write() as session:
        available = offer_map(instance.notices.current(session), lang)
        outcome = confirm(session, instance.audit, instance.keyring, token, offers=available,
                          evidence=evidence_of(request), now=now)
    status = {"confirmed": 200, "already": 200, "stale": 409, "invalid": 400,
              "expired": 410}[outcome.status]
    return _message(request, outcome.status, status=status, gpc=bool(outcome.gpc_withdrawn),
                    preferences=outcome.preferences_token)


@router.get("/cancel/{token}", response_class=HTMLResponse)
def cancel_page(token: str, request: Request) -> HTMLResponse:
    lang = page_language(request)
    t = TEXTS[lang]
    response = render(request, "consent/button.html", {
        "t": t, "lang": lang, "title": t["cancel_title"], "text": t["cancel_ask"],
        "button": t["cancel"], "action": f"/cancel/{token}", "one_click": True})
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
