"""The access report: everything held about one person (GDPR Art. 15), and its
machine-readable forms (Art. 20): JSON, and CSV for spreadsheets.

It is built from the services that own each part: the person's fields from
`SubjectsService.get` (the only path to plaintext; the read is audited), the
consent history with the exact texts and notice versions from the consent
ledger, retention and recipients per purpose from the published notice, and a
section from every service that implements `ReportSectionSource` (the
disclosure log). Every part is selected by the person's subject id or, for
suppressions, by their address's blind index: nothing of anyone else's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import is_dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from ehrlich.consent.ledger.service import current_state, history_rows
from ehrlich.consent.ledger.suppression import suppressions_of
from ehrlich.i18n import translations
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.service import NoticesService, PublishedNotice
from ehrlich.notices.views import duration_text, in_language
from ehrlich.rights.schemas import (
    AccessReport,
    ConsentEntry,
    PurposeEntry,
    ReportSectionSource,
)
from ehrlich.spreadsheets import BOM, csv_text
from ehrlich.subjects.service import SubjectsService

FORMAT = "ehrlich-access-report/1"


def purposes_of(published: PublishedNotice | None, named: dict[str, list[str]],
                language: str) -> list[PurposeEntry]:
    """The notice's purposes that the person's records name, in the notice's order."""
    if published is None:
        return []
    notice = published.notice
    tr = translations(language)
    found = []
    for purpose in notice.purposes:
        if purpose.id not in named:
            continue
        found.append(PurposeEntry(
            id=purpose.id, title=in_language(purpose.title, language),
            legal_basis=purpose.legal_basis,
            data_categories=[in_language(notice.data_categories.get(c), language) or c
                             for c in purpose.data_categories],
            retention=duration_text(tr, purpose.retention.period),
            retention_starts=in_language(purpose.retention.starts, language),
            recipients=[r.name for r in (notice.recipient(i) for i in purpose.recipients)
                        if r is not None],
            states=named[purpose.id]))
    return found


_ENTRY_COLUMNS = ("at", "purpose", "channel", "action", "legal_basis", "method",
                  "notice_version", "notice_hash", "language", "text_shown", "text_hash",
                  "form")


def _entries(rows: Sequence[Row[Any]]) -> list[ConsentEntry]:
    """The report's view of each consent event. Rows are read as plain tuples by
    position: a named attribute of a row costs about as much as the whole tuple."""
    if not rows:
        return []
    names = rows[0]._fields
    pick = itemgetter(*[names.index(c) for c in _ENTRY_COLUMNS])
    digest = names.index("hash")
    found = []
    for row in rows:
        cells = tuple(row)
        found.append(ConsentEntry(cells[digest].hex(), *pick(cells)))
    return found


def build_report(session: Session, subjects: SubjectsService, notices: NoticesService,
                 sources: Sequence[ReportSectionSource], subject_id: str, *, actor: str,
                 language: str, now: datetime) -> AccessReport:
    """The person's report; raises `SubjectNotFound` or `SubjectErased`."""
    person = subjects.get(session, subject_id, actor=actor, now=now)
    events = history_rows(session, subject_id)
    try:
        published: PublishedNotice | None = notices.current(session)
    except NoticeNotPublished:
        published = None
    consents = _entries(events)
    keys = sorted({(e.purpose, e.channel) for e in consents})
    states: dict[str, list[str]] = {}
    for purpose, channel in keys:
        states.setdefault(purpose, []).append(
            current_state(session, subject_id, purpose, channel))
    suppressed = ([s.purpose for s in suppressions_of(session, subjects.email_index(
        person.email))] if person.email else [])
    controller = published.notice.controller if published is not None else None
    return AccessReport(
        subject_id=person.id, made_at=now, email=person.email, name=person.name,
        phone=person.phone, attributes=dict(person.attributes), source=person.source,
        obtained_at=person.obtained_at, created_at=person.created_at,
        updated_at=person.updated_at,
        consents=consents,
        purposes=purposes_of(published, states, language), suppressed_for=sorted(suppressed),
        controller=controller.name if controller else "",
        controller_contact=controller.contact if controller else "",
        notice_version=published.info.number if published is not None else None,
        sections=[source.report_section(session, subject_id, language=language)
                  for source in sources])


def _plain(value: Any) -> Any:
    """JSON-ready values; dataclasses field by field (`asdict` deep-copies every value)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def report_json(report: AccessReport) -> str:
    """The report as one JSON document (Art. 20: structured, machine-readable)."""
    body = {"format": FORMAT, **_plain(report)}
    # one line: the indenting encoder is pure Python and several times slower
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def report_csv(report: AccessReport) -> str:
    """The report as one CSV file for spreadsheets: `section, field, value…` rows, every
    cell defused against formula injection, a byte-order mark first (as every export)."""
    rows: list[list[str]] = [["section", "item", "field", "value"]]
    person = {"subject_id": report.subject_id, "email": report.email, "name": report.name,
              "phone": report.phone, "source": report.source,
              "obtained_at": report.obtained_at, "created_at": report.created_at,
              "updated_at": report.updated_at}
    rows += [["person", "", k, _cell(v)] for k, v in person.items()]
    rows += [["attributes", "", k, _cell(v)] for k, v in sorted(report.attributes.items())]
    for number, event in enumerate(report.consents, start=1):
        rows += [["consent", str(number), k, _cell(v)] for k, v in vars(event).items()]
    for purpose in report.purposes:
        rows += [["purpose", purpose.id, k, _cell(v)] for k, v in vars(purpose).items()
                 if k != "id"]
    rows += [["suppression", "", "purpose", p] for p in report.suppressed_for]
    for section in report.sections:
        for number, row in enumerate(section.rows, start=1):
            rows += [[section.key, str(number), column, cell]
                     for column, cell in zip(section.columns, row, strict=False)]
    return BOM + csv_text(rows)
