"""One person's consent as the console's person page shows it: the timeline per purpose
and channel, the suppressions of their address, and their own links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.consent.ledger.actions import subject_history
from ehrlich.consent.ledger.suppression import suppressions_of
from ehrlich.consent.models import ConsentState, Suppression
from ehrlich.consent.schemas import ConsentEventView
from ehrlich.consent.signup.links import preferences_token
from ehrlich.consent.unsubscribe.links import unsubscribe_link
from ehrlich.crypto import Keyring
from ehrlich.settings import Settings


@dataclass(frozen=True)
class Channel:
    purpose: str
    channel: str
    state: str | None
    events: list[ConsentEventView] = field(default_factory=list)


@dataclass(frozen=True)
class ConsentOverview:
    channels: list[Channel]
    suppressions: list[Suppression]


@dataclass(frozen=True)
class PersonLinks:
    preferences: str
    unsubscribe: list[tuple[str, str, str]]  # purpose, channel, URL


def consent_overview(session: Session, audit: AuditLog, subject_id: str,
                     email_index: bytes | None, *, actor: str, now: datetime
                     ) -> ConsentOverview:
    """The timeline (oldest first within each purpose and channel); the read is audited."""
    states = {(s.purpose, s.channel): s.state for s in session.execute(
        select(ConsentState).where(ConsentState.subject_id == subject_id)).scalars()}
    channels: dict[tuple[str, str], Channel] = {}
    for event in subject_history(session, audit, subject_id, actor=actor, now=now):
        key = (event.purpose, event.channel)
        if key not in channels:
            channels[key] = Channel(event.purpose, event.channel, states.get(key))
        channels[key].events.append(event)
    found = suppressions_of(session, email_index) if email_index is not None else []
    return ConsentOverview(sorted(channels.values(), key=lambda c: (c.purpose, c.channel)),
                           found)


def person_links(settings: Settings, keyring: Keyring, subject_id: str,
                 channels: list[Channel], *, now: datetime) -> PersonLinks:
    """The person's preference page and an unsubscribe link per purpose and channel."""
    base = settings.base_url.rstrip("/")
    token = preferences_token(keyring, subject_id=subject_id, now=now)
    return PersonLinks(f"{base}/preferences/{token}", [
        (c.purpose, c.channel, unsubscribe_link(settings, keyring, subject_id=subject_id,
                                                purpose=c.purpose, channel=c.channel,
                                                now=now).url)
        for c in channels if c.channel != "none"])


def state_probe(*, purpose: str | None, channel: str | None, state: str | None
                ) -> Callable[[ColumnElement[str]], ColumnElement[bool]] | None:
    """For the contact list: "has a consent in this state for this purpose and channel",
    as an EXISTS on `consent_states`' primary key; None when nothing is asked."""
    if purpose is None and state is None:
        return None
    conditions = [getattr(ConsentState, name) == value for name, value in (
        ("purpose", purpose), ("channel", channel), ("state", state)) if value is not None]

    def probe(subject_id: ColumnElement[str]) -> ColumnElement[bool]:
        return exists().where(ConsentState.subject_id == subject_id, *conditions)

    return probe
