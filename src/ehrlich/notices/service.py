"""Checking, publishing and reading notices.

Publishing refuses a notice with lint errors, stores an immutable version
(number, SHA-256 of the canonical content, time, publisher) unless the content
equals the current version, and — in the same transaction — audits it and asks
the renewal marker to flag the consents of every purpose that widened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.errors import Conflict, InvalidInput, NotFound
from ehrlich.i18n import translations
from ehrlich.notices.brand_cache import BrandCache
from ehrlich.notices.diff import Widening, human_diff, widened_purposes
from ehrlich.notices.errors import NoticeInvalid, NoticeNotPublished
from ehrlich.notices.interfaces import RenewalMarker
from ehrlich.notices.lint import has_errors, lint_notice
from ehrlich.notices.loader import LoadedNotice, load_notice
from ehrlich.notices.models import NoticeVersion
from ehrlich.notices.rules import rules_in
from ehrlich.notices.schemas import Finding, Notice, VersionInfo
from ehrlich.notices.views import in_language


@dataclass(frozen=True)
class PublishedNotice:
    info: VersionInfo
    notice: Notice
    source: str


@dataclass(frozen=True)
class ConsentOffer:
    """What a form shows for one consent purpose, and what the consent event must record."""

    notice_version: int
    notice_hash: str
    """`sha256:<hex>` of the notice version's canonical content."""
    purpose: str
    channel: str
    language: str
    text: str
    data_categories: tuple[str, ...]
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class NoticePage:
    """One published version and the list of all versions, for the public pages."""

    published: PublishedNotice
    versions: list[VersionInfo]

    @property
    def is_current(self) -> bool:
        return self.published.info.number == self.versions[-1].number


@dataclass(frozen=True)
class PublishOutcome:
    version: VersionInfo
    created: bool
    diff: list[str]
    widened: list[Widening]
    renewals: int
    warnings: list[Finding]


@dataclass(frozen=True)
class PublishImpact:
    """What publishing a text would do now, computed without writing anything."""

    unchanged: bool
    """The text's content equals the current version: publishing would create nothing."""
    number: int
    """The version number publishing would create."""
    diff: list[str]
    widened: list[Widening]
    renewals: int
    """People whose consent would be marked for renewal."""
    warnings: list[Finding]


def canonical_json(notice: Notice) -> str:
    return json.dumps(notice.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def content_hash(notice: Notice) -> str:
    return hashlib.sha256(canonical_json(notice).encode("utf-8")).hexdigest()


def _info(row: NoticeVersion) -> VersionInfo:
    return VersionInfo(row.number, row.sha256, row.published_at, row.publisher)


def _published(row: NoticeVersion) -> PublishedNotice:
    return PublishedNotice(_info(row), Notice.model_validate_json(row.canonical), row.source)


_HEADS = select(NoticeVersion.number, NoticeVersion.sha256, NoticeVersion.published_at,
                NoticeVersion.publisher)
# Built once: every signup, preference and consent page asks for the current version.
_LATEST_HEAD = _HEADS.order_by(NoticeVersion.number.desc()).limit(1)
_HEAD_OF = _HEADS.where(NoticeVersion.number == bindparam("number"))
_BODY_OF = select(NoticeVersion.canonical, NoticeVersion.source).where(
    NoticeVersion.number == bindparam("number"))
PARSED_VERSIONS_KEPT = 16
MAX_VERSION = 2**31 - 1


def check_notice(text: str, *, file: str, language: str = "en"
                 ) -> tuple[LoadedNotice, list[Finding]]:
    """Load and lint; schema problems raise NoticeInvalid, lint findings are returned
    (their messages in `language`)."""
    loaded = load_notice(text, file=file)
    return loaded, lint_notice(loaded, rules_in(language))


class NoticesService:
    def __init__(self, audit: AuditLog, renewals: RenewalMarker) -> None:
        self._audit = audit
        self._renewals = renewals
        # Versions never change, so each is parsed once per process: every signup,
        # preference and consent page reads the current one.
        self._parsed: dict[tuple[int, str], PublishedNotice] = {}
        self.brand = BrandCache()
        """The brand the public pages show (`branding.current_brand`), kept a few seconds."""

    def _read(self, session: Session, head: Row[int, str, datetime, str] | None
              ) -> PublishedNotice | None:
        if head is None:
            return None
        key = (head.number, head.sha256)
        found = self._parsed.get(key)
        if found is None:
            canonical, source = session.connection().execute(
                _BODY_OF, {"number": head.number}).one()
            found = PublishedNotice(VersionInfo(*head), Notice.model_validate_json(canonical),
                                    source)
            if len(self._parsed) >= PARSED_VERSIONS_KEPT:
                self._parsed.clear()
            self._parsed[key] = found
        return found

    def _latest(self, session: Session) -> NoticeVersion | None:
        return session.execute(
            select(NoticeVersion).order_by(NoticeVersion.number.desc()).limit(1)
        ).scalar_one_or_none()

    def publish(self, session: Session, text: str, *, file: str, publisher: str,
                now: datetime) -> PublishOutcome:
        """Publish the notice in `text` unless it has lint errors or equals the current one."""
        loaded, findings = check_notice(text, file=file)
        if has_errors(findings):
            raise NoticeInvalid([f for f in findings if f.severity == "error"])
        warnings = [f for f in findings if f.severity == "warning"]
        notice, digest = loaded.notice, content_hash(loaded.notice)
        latest = self._latest(session)
        if latest is not None and latest.sha256 == digest:
            return PublishOutcome(_info(latest), False, [], [], 0, warnings)
        previous = _published(latest).notice if latest is not None else None
        number = latest.number + 1 if latest is not None else 1
        row = NoticeVersion(number=number, sha256=digest, canonical=canonical_json(notice),
                            source=text, published_at=now, publisher=publisher)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("another notice version was published at the same moment; "
                           "run the command again") from None
        self.brand.forget_after_commit(session)  # the controller may name the business
        widened = widened_purposes(previous, notice) if previous is not None else []
        renewals = 0
        if widened:
            renewals = self._renewals.mark_for_renewal(
                session, [w.purpose_id for w in widened], notice_version=number, now=now)
        self._audit.record(session, AuditEvent(
            actor=publisher, action="notice.publish", target=f"notice:v{number}",
            detail={"sha256": digest, "widened": [w.purpose_id for w in widened],
                    "renewals": renewals}), now=now)
        diff = human_diff(previous, notice, old_label=f"version {number - 1}",
                          new_label=f"version {number}")
        return PublishOutcome(_info(row), True, diff, widened, renewals, warnings)

    def impact(self, session: Session, text: str, *, file: str, language: str = "en"
               ) -> PublishImpact:
        """What `publish` would do with `text` now (lint errors raise NoticeInvalid);
        nothing is written: the renewal count is a read of the active consents. The
        diff's labels and the findings are in `language`."""
        loaded, findings = check_notice(text, file=file, language=language)
        if has_errors(findings):
            raise NoticeInvalid([f for f in findings if f.severity == "error"])
        warnings = [f for f in findings if f.severity == "warning"]
        latest = self._latest(session)
        if latest is not None and latest.sha256 == content_hash(loaded.notice):
            return PublishImpact(True, latest.number, [], [], 0, warnings)
        previous = _published(latest).notice if latest is not None else None
        number = latest.number + 1 if latest is not None else 1
        widened = widened_purposes(previous, loaded.notice) if previous is not None else []
        renewals = self._renewals.count_for_renewal(session, [w.purpose_id for w in widened])
        tr = translations(language)
        diff = human_diff(previous, loaded.notice,
                          old_label=tr.gettext("version %(number)d") % {"number": number - 1},
                          new_label=tr.gettext("version %(number)d (draft)") % {
                              "number": number})
        return PublishImpact(False, number, diff, widened, renewals, warnings)

    def diff_to_previous(self, session: Session, number: int, *, language: str = "en"
                         ) -> list[str]:
        """The readable diff from version `number - 1` (nothing, for the first) to `number`,
        its labels in `language`."""
        new = self.version(session, number).notice
        old = self.version(session, number - 1).notice if number > 1 else None
        label = translations(language).gettext("version %(number)d")
        return human_diff(old, new, old_label=label % {"number": number - 1},
                          new_label=label % {"number": number})

    def current(self, session: Session) -> PublishedNotice:
        latest = self._read(session, session.connection().execute(_LATEST_HEAD).first())
        if latest is None:
            raise NoticeNotPublished("no notice has been published yet; "
                                     "run `ehrlich notice publish FILE`")
        return latest

    def version(self, session: Session, number: int) -> PublishedNotice:
        if not 1 <= number <= MAX_VERSION:  # the column is a 32-bit integer
            raise NotFound(f"there is no notice version {number}")
        found = self._read(session, session.connection().execute(
            _HEAD_OF, {"number": number}).first())
        if found is None:
            raise NotFound(f"there is no notice version {number}")
        return found

    def versions(self, session: Session) -> list[VersionInfo]:
        rows = session.execute(select(NoticeVersion).order_by(NoticeVersion.number)).scalars()
        return [_info(r) for r in rows]

    def count(self, session: Session) -> int:
        return session.execute(select(func.count()).select_from(NoticeVersion)).scalar_one()

    def page(self, session: Session, number: int | None = None) -> NoticePage:
        """The current (or the numbered) version with the version list."""
        published = self.current(session) if number is None else self.version(session, number)
        return NoticePage(published, self.versions(session))

    def purpose_title(self, session: Session, purpose_id: str, language: str) -> str:
        """The published notice's title of a purpose in `language` (English, or the id,
        where it has none: a purpose since removed, or no notice yet)."""
        try:
            purpose = self.current(session).notice.purpose(purpose_id)
        except NoticeNotPublished:
            return purpose_id
        return in_language(purpose.title, language) if purpose is not None else purpose_id

    def consent_offer(self, session: Session, purpose_id: str, language: str, *,
                      version: int | None = None) -> ConsentOffer:
        """The exact consent text of a purpose in a language, bound to the notice version."""
        published = self.current(session) if version is None else self.version(session, version)
        purpose = published.notice.purpose(purpose_id)
        if purpose is None:
            raise NotFound(f"notice version {published.info.number} has no purpose "
                           f"{purpose_id!r}")
        if purpose.consent is None:
            raise InvalidInput.one("purpose", f"{purpose_id!r} is based on "
                                   f"{purpose.legal_basis}, not on consent")
        if language not in purpose.consent.text:
            raise InvalidInput.one("language", f"purpose {purpose_id!r} has no consent text in "
                                   f"{language!r}")
        return ConsentOffer(
            notice_version=published.info.number, notice_hash=f"sha256:{published.info.sha256}",
            purpose=purpose.id, channel=purpose.channel, language=language,
            text=purpose.consent.text[language], data_categories=tuple(purpose.data_categories),
            recipients=tuple(purpose.recipients))
