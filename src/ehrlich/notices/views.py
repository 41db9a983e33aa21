"""A notice in one language: what the public pages and the records of processing show."""

from __future__ import annotations

from dataclasses import dataclass

from ehrlich.i18n import N_, Translations, translations
from ehrlich.notices.durations import Duration
from ehrlich.notices.schemas import Notice

LEGAL_BASES = {"consent": N_("your consent (Art. 6(1)(a) GDPR)"),
               "contract": N_("our contract with you (Art. 6(1)(b) GDPR)"),
               "legal_obligation": N_("a legal obligation (Art. 6(1)(c) GDPR)"),
               "legitimate_interest": N_("our legitimate interest (Art. 6(1)(f) GDPR)")}
ROLES = {"processor": N_("processor"), "controller": N_("controller")}


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


def in_language(texts: dict[str, str] | None, lang: str) -> str:
    """A notice text in `lang`, else in English, else in its first language ("" for none)."""
    if not texts:
        return ""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()))


def channel_label(tr: Translations, channel: str) -> str:
    """A channel id as people read it, in `tr`'s language; one no notice declares (the
    consent API takes any well-formed channel) as it is."""
    return {"email": tr.pgettext("channel", "email"),
            "sms": tr.pgettext("channel", "text message"),
            "phone": tr.pgettext("channel", "phone"), "post": tr.pgettext("channel", "post"),
            "web": tr.pgettext("channel", "website"),
            "none": tr.pgettext("channel", "none")}.get(channel, channel)


def duration_text(tr: Translations, period: Duration) -> str:
    """A retention period ("2 years") as people read it in `tr`'s language."""
    amount = period.amount
    forms = {"day": tr.ngettext("%(num)d day", "%(num)d days", amount),
             "week": tr.ngettext("%(num)d week", "%(num)d weeks", amount),
             "month": tr.ngettext("%(num)d month", "%(num)d months", amount),
             "year": tr.ngettext("%(num)d year", "%(num)d years", amount)}
    return forms[period.unit] % {"num": amount}


def localise(notice: Notice, lang: str) -> NoticeView:
    tr = translations(lang)
    recipients = {
        r.id: RecipientView(r.id, r.name,
                            tr.gettext("processor (works on our behalf)")
                            if r.role == "processor"
                            else tr.gettext("controller (decides for itself)"),
                            tr.gettext(ROLES[r.role]), r.country, r.outside_eea,
                            in_language(r.safeguards, lang))
        for r in notice.recipients}
    purposes = []
    for p in notice.purposes:
        period = p.retention.period
        retention = (f"{duration_text(tr, period)} "
                     f"{in_language(p.retention.starts, lang)}")
        purposes.append(PurposeView(
            id=p.id, title=in_language(p.title, lang), description=in_language(p.description, lang),
            legal_basis=tr.gettext(LEGAL_BASES[p.legal_basis]), legal_basis_id=p.legal_basis,
            legitimate_interest=in_language(p.legitimate_interest, lang),
            data_subjects=(in_language(p.data_subjects, lang)
                           or tr.gettext("customers and prospects")),
            data=[in_language(notice.data_categories[c], lang) for c in p.data_categories],
            channel=channel_label(tr, p.channel), channel_id=p.channel, retention=retention,
            recipients=[recipients[r] for r in p.recipients],
            consent_text=in_language(p.consent.text, lang) if p.consent else ""))
    used = [c for c in notice.data_categories
            if any(c in p.data_categories for p in notice.purposes)]
    dpo = notice.controller.dpo
    return NoticeView(
        lang=lang, controller_name=notice.controller.name,
        controller_address=notice.controller.address, contact=notice.controller.contact,
        dpo=" ".join(x for x in (dpo.name, f"<{dpo.contact}>") if x) if dpo else "",
        authority=notice.controller.supervisory_authority or "",
        purposes=purposes, recipients=list(recipients.values()),
        data=[in_language(notice.data_categories[c], lang) for c in used],
        security_measures=in_language(notice.security_measures, lang))
