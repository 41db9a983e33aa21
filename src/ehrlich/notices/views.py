"""A notice in one language: what the public pages and the records of processing show."""

from __future__ import annotations

from dataclasses import dataclass

from ehrlich.notices.i18n import duration_text, strings
from ehrlich.notices.schemas import Notice


@dataclass(frozen=True)
class RecipientView:
    id: str
    name: str
    role: str
    role_short: str
    country: str
    outside_eea: bool
    safeguards: str


@dataclass(frozen=True)
class PurposeView:
    id: str
    title: str
    description: str
    legal_basis: str
    legal_basis_id: str
    legitimate_interest: str
    data_subjects: str
    data: list[str]
    channel: str
    channel_id: str
    retention: str
    recipients: list[RecipientView]
    consent_text: str


@dataclass(frozen=True)
class NoticeView:
    lang: str
    controller_name: str
    controller_address: str
    contact: str
    dpo: str
    authority: str
    purposes: list[PurposeView]
    recipients: list[RecipientView]
    data: list[str]
    security_measures: str


def _text(texts: dict[str, str] | None, lang: str) -> str:
    if not texts:
        return ""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()))


def localise(notice: Notice, lang: str) -> NoticeView:
    words = strings(lang)
    recipients = {
        r.id: RecipientView(r.id, r.name, words["processor" if r.role == "processor"
                                               else "controller_role"],
                            words[f"role.{r.role}"], r.country, r.outside_eea,
                            _text(r.safeguards, lang))
        for r in notice.recipients}
    purposes = []
    for p in notice.purposes:
        period = p.retention.period
        retention = (f"{duration_text(period.amount, period.unit, lang)} "
                     f"{_text(p.retention.starts, lang)}")
        purposes.append(PurposeView(
            id=p.id, title=_text(p.title, lang), description=_text(p.description, lang),
            legal_basis=words[f"basis.{p.legal_basis}"], legal_basis_id=p.legal_basis,
            legitimate_interest=_text(p.legitimate_interest, lang),
            data_subjects=_text(p.data_subjects, lang) or words["data_subjects"],
            data=[_text(notice.data_categories[c], lang) for c in p.data_categories],
            channel=words[f"channel.{p.channel}"], channel_id=p.channel, retention=retention,
            recipients=[recipients[r] for r in p.recipients],
            consent_text=_text(p.consent.text, lang) if p.consent else ""))
    used = [c for c in notice.data_categories
            if any(c in p.data_categories for p in notice.purposes)]
    dpo = notice.controller.dpo
    return NoticeView(
        lang=lang, controller_name=notice.controller.name,
        controller_address=notice.controller.address, contact=notice.controller.contact,
        dpo=" ".join(x for x in (dpo.name, f"<{dpo.contact}>") if x) if dpo else "",
        authority=notice.controller.supervisory_authority or "",
        purposes=purposes, recipients=list(recipients.values()),
        data=[_text(notice.data_categories[c], lang) for c in used],
        security_measures=_text(notice.security_measures, lang))
