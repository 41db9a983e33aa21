"""The preference centre and the person's proof pages, reached by their preference link."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from ehrlich.consent.ledger.proof import build_proof
from ehrlich.consent.preferences import centre as preference_centre
from ehrlich.consent.preferences.centre import CentreView
from ehrlich.consent.signup.links import read_preferences_token
from ehrlich.consent.web.common import (
    NO_STORE,
    STATE_LABELS,
    evidence_of,
    message_texts,
    origin_allowed,
    proof_context,
)
from ehrlich.crypto import TokenInvalid
from ehrlich.errors import NotFound
from ehrlich.i18n import negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.notices.views import channel_label
from ehrlich.subjects.errors import SubjectErased, SubjectNotFound
from ehrlich.web.deps import InstanceDep, NowDep
from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)


def _invalid(request: Request) -> HTMLResponse:
    lang = negotiate(request)
    return render(request, "consent/message.html", {
        "lang": lang, **message_texts(lang, "invalid")}, status_code=400)


def _erased(request: Request) -> HTMLResponse:
    lang = negotiate(request)
    return render(request, "consent/message.html", {
        "lang": lang, **message_texts(lang, "erased")}, status_code=410)


def _page(request: Request, token: str, shown: CentreView, *, message: str | None = None
          ) -> HTMLResponse:
    lang = negotiate(request)
    response = render(request, "consent/preferences.html", {
        "lang": lang, "states": STATE_LABELS, "choices": shown.choices,
        "message": message, "gpc": shown.gpc, "gpc_changed": shown.gpc_changed,
        "contact": shown.contact, "token": token})
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
    try:
        shown = preference_centre.view(instance.db, instance.audit, instance.notices,
                                       subject_id, language=negotiate(request),
                                       evidence=evidence_of(request), now=now)
    except SubjectErased:  # the link outlived its person: nothing changed
        return _erased(request)
    except SubjectNotFound:
        return _invalid(request)
    return _page(request, token, shown)


@router.post("/preferences/{token}", response_class=HTMLResponse)
def preferences_save(token: str, request: Request, instance: InstanceDep, now: NowDep,
                     purpose: Annotated[list[str] | None, Form(max_length=64)] = None
                     ) -> HTMLResponse:
    subject_id = _person(request, instance, token, now, change=True)
    if subject_id is None:
        return _invalid(request)
    lang = negotiate(request)
    try:
        shown = preference_centre.save(instance.db, instance.audit, instance.notices,
                                       subject_id, language=lang, ticked=set(purpose or []),
                                       token=token, evidence=evidence_of(request), now=now)
    except SubjectErased:  # the link outlived its person: nothing changed
        return _erased(request)
    except SubjectNotFound:
        return _invalid(request)
    return _page(request, token, shown, message=translations(lang).gettext("Saved."))


@router.post("/preferences/{token}/withdraw-all", response_class=HTMLResponse)
def preferences_withdraw_all(token: str, request: Request, instance: InstanceDep,
                             now: NowDep) -> HTMLResponse:
    subject_id = _person(request, instance, token, now, change=True)
    if subject_id is None:
        return _invalid(request)
    lang = negotiate(request)
    try:
        shown = preference_centre.withdraw_all(instance.db, instance.audit, instance.notices,
                                               subject_id, language=lang,
                                               evidence=evidence_of(request), now=now)
    except SubjectErased:  # the link outlived its person: nothing changed
        return _erased(request)
    except SubjectNotFound:
        return _invalid(request)
    return _page(request, token, shown,
                 message=translations(lang).gettext("Everything is withdrawn."))


@router.get("/preferences/{token}/proof/{event_id}", response_class=HTMLResponse)
def person_proof(token: str, event_id: str, request: Request, instance: InstanceDep,
                 now: NowDep) -> HTMLResponse:
    subject_id = _person(request, instance, token, now)
    if subject_id is None:
        return _invalid(request)
    lang = negotiate(request)
    try:
        with instance.db.read() as session:
            proof = build_proof(session, event_id[:64], subject_id=subject_id)
            title = instance.notices.purpose_title(session, proof.purpose, lang)
    except NotFound:
        return _invalid(request)
    response = render(request, "consent/proof.html", {
        "lang": lang, "back": f"/preferences/{token}", **proof_context(
            proof, purpose_title=title, channel=channel_label(translations(lang),
                                                              proof.channel))})
    response.headers.update(NO_STORE)
    return response
