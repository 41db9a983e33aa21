"""The public signup form's rules, between the posted fields and `SignupService.sign_up`.

The language is the one the form was shown in (its hidden `language` field),
so every page that answers the post, the consent texts recorded and the
confirmation mail all speak it: what is recorded is what was shown. The
honeypot gets the answer of a signup that went well; the bot defences
(`SignupGate`) may ask for the CAPTCHA, or take the no-JavaScript path, or
refuse. While mail is off or no notice is published, nothing is counted or
written and the page says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from ehrlich.consent.errors import SignupsClosed
from ehrlich.consent.schemas import Evidence, SignupConsent, SignupInput
from ehrlich.consent.signup.offers import Offer, offer_map
from ehrlich.consent.signup.service import SignupService
from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.mail.interfaces import MailSender
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.storage.database import Database

LANGUAGES = ("en", "de")
MAX_PURPOSES = 20
FormStatus = Literal["sent", "invalid", "captcha", "limited", "closed", "not-open"]


@dataclass(frozen=True)
class SignupForm:
    """The fields of the form as posted (strings, as a browser sends them)."""

    email: str
    name: str
    language: str
    notice_version: str
    purposes: list[str]
    website: str
    """the honeypot"""
    altcha: str
    """the CAPTCHA solution, filled in by /static/captcha.js"""
    no_script: bool
    """sent from inside `<noscript>`: the browser runs no JavaScript"""


@dataclass(frozen=True)
class FormOutcome:
    status: FormStatus
    language: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    challenge: dict[str, Any] | None = None
    gpc_honoured: bool = False


def form_language(submitted: str, page: str) -> str:
    """The language the form was shown in; the page's own when the field is missing."""
    return submitted if submitted in LANGUAGES else page


def submit_form(signups: SignupService, db: Database, mail: MailSender, posted: SignupForm,
                *, page_language: str, address: str, evidence: Evidence, form_url: str,
                now: datetime) -> FormOutcome:
    """Apply the form's rules and sign the person up; say what the page must show."""
    lang = form_language(posted.language, page_language)
    if not signups.mail_on:
        return FormOutcome("closed", lang)
    try:
        published = signups.published(db)
    except NoticeNotPublished:
        return FormOutcome("not-open", lang)
    if posted.website:  # a person never fills it in; answer as if all went well
        return FormOutcome("sent", lang)
    assert signups.gate is not None
    decision = signups.gate.admit(address, captcha=posted.altcha or None,
                                  no_script=posted.no_script, now=now)
    if decision.verdict != "ok":
        return FormOutcome(decision.verdict, lang, challenge=decision.challenge)
    return _sign_up(signups, db, mail, posted, offer_map(published, lang), lang=lang,
                    evidence=evidence, form_url=form_url, now=now)


def _sign_up(signups: SignupService, db: Database, mail: MailSender, posted: SignupForm,
             texts: dict[str, Offer], *, lang: str, evidence: Evidence, form_url: str,
             now: datetime) -> FormOutcome:
    """The signup itself, with the texts of the language the form was shown in."""
    try:
        missing = ([FieldProblem("email", "is empty")] if not posted.email.strip() else []) + (
            [FieldProblem("purpose", "tick at least one")] if not posted.purposes else [])
        if missing:
            raise InvalidInput(missing)
        version = posted.notice_version
        data = SignupInput(
            email=posted.email, name=posted.name or None, language=lang,
            notice_version=int(version) if version.isascii() and version.isdigit() else 0,
            consents=[SignupConsent(purpose=p, text=texts[p].text if p in texts else "?")
                      for p in posted.purposes[:MAX_PURPOSES]],
            form=form_url)
        receipt = signups.sign_up(db, mail, data, method="form", evidence=evidence, now=now)
    except SignupsClosed:
        return FormOutcome("closed", lang)
    except InvalidInput as exc:
        return FormOutcome("invalid", lang, [(p.field, p.reason) for p in exc.problems])
    except ValidationError as exc:  # lengths and shapes
        return FormOutcome("invalid", lang, [
            (".".join(str(x) for x in e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in exc.errors()])
    return FormOutcome("sent", lang, gpc_honoured=bool(receipt.gpc_honoured))
