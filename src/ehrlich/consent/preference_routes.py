"""The preference centre and the person's proof pages, reached by their preference link."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from ehrlich.consent import preferences
from ehrlich.consent.evidence import gpc_signal
from ehrlich.consent.offers import offers
from ehrlich.consent.proof import build_proof
from ehrlich.consent.signup_links import read_preferences_token
from ehrlich.consent.web import (
    NO_STORE,
    STATE_LABELS,
    TEXTS,
    evidence_of,
    origin_allowed,
    page_language,
)
from ehrlich.crypto import TokenInvalid
from ehrlich.errors import NotFound
from ehrlich.instance.service import Instance
from ehrlich.notices.service import PublishedNotice
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.web.deps import InstanceDep, NowDep
from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)


def _invalid(request: Request) -> HTMLResponse:
    lang = page_language(request)
    t = TEXTS[lang]
    return render(request, "consent/message.html", {
        "t": t, "lang": lang, "title": t["invalid_title"], "text": t["invalid"]},
        status_code=400)


def _choices(session: Session, request: Request, instance: Instance, subject_id: str,
             now: datetime, *, message: str | None = None,
             published: PublishedNotice | None = None,
             known: preferences.States | None = None) -> dict[str, Any]:
    """The page's content, read in the caller's transaction (a write one under GPC,
    which withdraws purposes shared with third parties)."""
    lang = page_language(request)
    evidence = evidence_of(request)
    published = published or instance.notices.current(session)
    available = offers(published, lang)
    honoured = preferences.honour_gpc(session, instance.audit, subject_id, available,
                                      evidence=evidence, now=now)
    shown = preferences.choices(session, subject_id, available,
                                gpc=gpc_signal(evidence.sec_gpc),
                                known=None if honoured else known)
    return {"t": TEXTS[lang], "lang": lang, "states": STATE_LABELS[lang], "choices": shown,
            "message": message, "gpc": gpc_signal(evidence.sec_gpc),
            "gpc_changed": bool(honoured),
            "contact": published.notice.controller.contact}


def _page(request: Request, token: str, context: dict[str, Any]) -> HTMLResponse:
    response = render(request, "consent/preferences.html", {**context, "token": token})
    response.headers.update(NO_STORE)
    return response


def _person(request: Request, instance: Instance, token: str, now: datetime, *,
            change: bool = False) -> str | None:
    """The subject a preference link names, or None for a bad link (or, for a change,
    a post from another site)."""
    try:
        subject_id = read_preferences_token(instance.keyring, token, now=now)
    except TokenInvalid:
        return None
    if change and not origin_allowed(request, instance.settings, cross_site=False):
        return None
    return subject_id


@router.get("/preferences/{token}", response_class=HTMLResponse)
def preferences_page(token: str, request: Request, instance: InstanceDep, now: NowDep
                     ) -> HTMLResponse:
    subject_id = _person(request, instance, token, now)
    if subject_id is None:
        return _invalid(request)
    gpc = gpc_signal(evidence_of(request).sec_gpc)
    with instance.db.write() if gpc else instance.db.read() as session:
        context = _choices(session, request, instance, subject_id, now)
    return _page(request, token, context)


@router.post("/preferences/{token}", response_class=HTMLResponse)
def preferences_save(token: str, request: Request, instance: InstanceDep, now: NowDep,
                     purpose: Annotated[list[str] | None, Form(max_length=64)] = None
                     ) -> HTMLResponse:
    subject_id = _person(request, instance, token, now, change=True)
    if subject_id is None:
        return _invalid(request)
    lang = page_language(request)
    try:
        with instance.db.write() as session:
            published = instance.notices.current(session)
            known = preferences.change(session, instance.audit, subject_id,
                                       offers(published, lang), published,
                                       ticked=set(purpose or []), token=token,
                                       form="preference-centre",
                                       evidence=evidence_of(request), now=now)
            context = _choices(session, request, instance, subject_id, now,
                               message=TEXTS[lang]["saved"], published=published,
                               known=known)
    except (SubjectErased, SubjectNotFound):  # the link outlived its person: nothing changed
        return _invalid(request)
    return _page(request, token, context)


@router.post("/preferences/{token}/withdraw-all", response_class=HTMLResponse)
def preferences_withdraw_all(token: str, request: Request, instance: InstanceDep,
                             now: NowDep) -> HTMLResponse:
    subject_id = _person(request, instance, token, now, change=True)
    if subject_id is None:
        return _invalid(request)
    lang = page_language(request)
    with instance.db.write() as session:
        preferences.withdraw_all(session, instance.audit, subject_id,
                                 evidence=evidence_of(request), now=now)
        context = _choices(session, request, instance, subject_id, now,
                           message=TEXTS[lang]["withdrawn_all"])
    return _page(request, token, context)


@router.get("/preferences/{token}/proof/{event_id}", response_class=HTMLResponse)
def person_proof(token: str, event_id: str, request: Request, instance: InstanceDep,
                 now: NowDep) -> HTMLResponse:
    subject_id = _person(request, instance, token, now)
    if subject_id is None:
        return _invalid(request)
    lang = page_language(request)
    try:
        with instance.db.read() as session:
            proof = build_proof(session, event_id[:64], subject_id=subject_id)
    except NotFound:
        return _invalid(request)
    response = render(request, "consent/proof.html", {
        "t": TEXTS[lang], "lang": lang, "proof": proof, "back": f"/preferences/{token}"})
    response.headers.update(NO_STORE)
    return response
