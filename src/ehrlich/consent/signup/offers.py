"""What the signup form and the preference centre offer, read from the published notice.

An offer is a consent-based purpose with a published consent text, reachable
by email (the signup form collects an address). It shares data with a third
party when one of its recipients is a controller in its own right: those are
the purposes a Global Privacy Control signal withdraws or never grants.
"""

from __future__ import annotations

from dataclasses import dataclass

from ehrlich.notices.schemas import Notice
from ehrlich.notices.service import PublishedNotice

SIGNUP_CHANNEL = "email"


@dataclass(frozen=True)
class Offer:
    purpose: str
    channel: str
    title: str
    description: str
    text: str
    language: str
    third_party: bool
    third_parties: tuple[str, ...]


def _pick(values: dict[str, str], language: str) -> tuple[str, str]:
    if language in values:
        return values[language], language
    lang = "en" if "en" in values else next(iter(values))
    return values[lang], lang


def language_of(raw: str | None, notice: Notice) -> str:
    """The notice language closest to a request's language (en when none fits)."""
    base = (raw or "").strip().lower().split(",", 1)[0].split(";", 1)[0].split("-", 1)[0]
    return base if base in notice.languages else ("en" if "en" in notice.languages
                                                  else notice.languages[0])


def offers(published: PublishedNotice, language: str) -> list[Offer]:
    notice = published.notice
    found: list[Offer] = []
    for purpose in notice.purposes:
        if purpose.legal_basis != "consent" or purpose.consent is None:
            continue
        if purpose.channel != SIGNUP_CHANNEL:
            continue
        text, lang = _pick(purpose.consent.text, language)
        controllers = tuple(r.name for r in (notice.recipient(i) for i in purpose.recipients)
                            if r is not None and r.role == "controller")
        found.append(Offer(purpose=purpose.id, channel=purpose.channel,
                           title=_pick(purpose.title, lang)[0],
                           description=_pick(purpose.description, lang)[0], text=text,
                           language=lang, third_party=bool(controllers),
                           third_parties=controllers))
    return found


def offer_map(published: PublishedNotice, language: str) -> dict[str, Offer]:
    return {o.purpose: o for o in offers(published, language)}
