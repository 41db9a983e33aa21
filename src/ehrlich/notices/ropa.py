"""Records of processing activities (GDPR Art. 30(1)) generated from a published notice."""

from __future__ import annotations

from ehrlich.notices.schemas import VersionInfo
from ehrlich.notices.service import PublishedNotice
from ehrlich.notices.views import PurposeView, localise
from ehrlich.spreadsheets import csv_text

COLUMNS = ("activity", "purpose", "legal_basis", "data_subjects", "data_categories",
           "recipients", "third_country_transfers", "erasure_time_limit",
           "security_measures", "controller", "controller_contact", "dpo",
           "notice_version", "notice_sha256")


def _recipients(p: PurposeView) -> str:
    return "; ".join(f"{r.name} ({r.role_short}, {r.country})" for r in p.recipients)


def _transfers(p: PurposeView) -> str:
    return "; ".join(f"{r.name} → {r.country}: {r.safeguards}" for r in p.recipients
                     if r.outside_eea)


def rows(published: PublishedNotice, lang: str) -> list[dict[str, str]]:
    view, info = localise(published.notice, lang), published.info
    return [{
        "activity": p.id, "purpose": f"{p.title}: {p.description}",
        "legal_basis": p.legal_basis + (f" — {p.legitimate_interest}"
                                        if p.legitimate_interest else ""),
        "data_subjects": p.data_subjects, "data_categories": "; ".join(p.data),
        "recipients": _recipients(p), "third_country_transfers": _transfers(p),
        "erasure_time_limit": p.retention, "security_measures": view.security_measures,
        "controller": f"{view.controller_name}, {view.controller_address}",
        "controller_contact": view.contact, "dpo": view.dpo,
        "notice_version": str(info.number), "notice_sha256": info.sha256,
    } for p in view.purposes]


def as_csv(published: PublishedNotice, lang: str) -> str:
    records = rows(published, lang)
    return csv_text([COLUMNS, *([r[c] for c in COLUMNS] for r in records)],
                    lineterminator="\n")


def _header(info: VersionInfo) -> str:
    return (f"Generated from notice version {info.number} "
            f"(SHA-256 `{info.sha256}`), published {info.published_at:%Y-%m-%d %H:%M} UTC "
            f"by {info.publisher}.")


def as_markdown(published: PublishedNotice, lang: str) -> str:
    view = localise(published.notice, lang)
    lines = ["# Records of processing activities (GDPR Art. 30(1))", "",
             _header(published.info), "",
             "## Controller", "",
             f"- Name and address: {view.controller_name}, {view.controller_address}",
             f"- Contact: {view.contact}"]
    if view.dpo:
        lines.append(f"- Data protection officer: {view.dpo}")
    lines += ["", "## Technical and organisational security measures (Art. 32)", "",
              view.security_measures or "_not stated in the notice_", ""]
    for row in rows(published, lang):
        lines += [f"## Activity `{row['activity']}`", "",
                  "| item | record |", "|---|---|"]
        for key in ("purpose", "legal_basis", "data_subjects", "data_categories",
                    "recipients", "third_country_transfers", "erasure_time_limit"):
            value = row[key].replace("|", "\\|").replace("\n", " ") or "none"
            lines.append(f"| {key.replace('_', ' ')} | {value} |")
        lines.append("")
    return "\n".join(lines)
