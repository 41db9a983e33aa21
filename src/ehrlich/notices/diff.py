"""What changed between two notices: a readable diff, and which purposes widened.

A purpose widens when what people agreed to no longer covers what will
happen: a new recipient (or a processor becoming a controller, or a
recipient moving outside the EU/EEA), a new data category, a longer
retention, another channel, or a changed consent text. Those consents need
renewal; narrowing (fewer recipients, shorter retention) does not.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from ehrlich.i18n import N_, translations
from ehrlich.notices.schemas import Notice, Purpose

Reason = tuple[str, Mapping[str, object]]
"""Why a purpose widened: an English template (marked for translation) and its fields."""


@dataclass(frozen=True)
class Widening:
    purpose_id: str
    why: tuple[Reason, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons in English (the command line, the audit)."""
        return self.reasons_in("en")

    def reasons_in(self, language: str) -> tuple[str, ...]:
        """The reasons in `language` (English where there is no translation)."""
        tr = translations(language)
        return tuple(tr.gettext(text).format_map(dict(fields)) for text, fields in self.why)


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _recipient_reasons(old: Notice, new: Notice, was: Purpose, now: Purpose
                       ) -> list[Reason]:
    reasons: list[Reason] = [(N_("new recipient '{recipient}'"), {"recipient": r})
                             for r in now.recipients if r not in was.recipients]
    for rid in now.recipients:
        before, after = old.recipient(rid), new.recipient(rid)
        if rid not in was.recipients or before is None or after is None:
            continue
        if before.role == "processor" and after.role == "controller":
            reasons.append((N_("recipient '{recipient}' is now a controller (was a "
                               "processor)"), {"recipient": rid}))
        if after.country != before.country and after.outside_eea:
            reasons.append((N_("recipient '{recipient}' is now in {country} (was {before}), "
                               "outside the EU/EEA"),
                            {"recipient": rid, "country": after.country,
                             "before": before.country}))
    return reasons


def _purpose_reasons(old: Notice, new: Notice, was: Purpose, now: Purpose) -> list[Reason]:
    reasons = _recipient_reasons(old, new, was, now)
    reasons += [(N_("new data category '{category}'"), {"category": c})
                for c in now.data_categories if c not in was.data_categories]
    if now.retention.period.longer_than(was.retention.period):
        reasons.append((N_("longer retention: {before} → {after}"), {
            "before": was.retention.duration, "after": now.retention.duration}))
    if now.channel != was.channel:
        reasons.append((N_("channel changed: {before} → {after}"),
                        {"before": was.channel, "after": now.channel}))
    if was.consent is not None:
        for lang, text in was.consent.text.items():
            current = now.consent.text.get(lang) if now.consent else None
            if current is None or not _same_text(text, current):
                reasons.append((N_("consent text changed ({language})"), {"language": lang}))
    return reasons


def widened_purposes(old: Notice, new: Notice) -> list[Widening]:
    """Purposes present in both notices whose new version covers more than the old."""
    widened = []
    for now in new.purposes:
        was = old.purpose(now.id)
        if was is None:
            continue
        reasons = _purpose_reasons(old, new, was, now)
        if reasons:
            widened.append(Widening(now.id, tuple(reasons)))
    return widened


def render_yaml(notice: Notice) -> str:
    """The notice as plain YAML, in a stable order, without comments."""
    data = notice.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def human_diff(old: Notice | None, new: Notice, *, old_label: str,
               new_label: str) -> list[str]:
    """A unified diff of the two notices' YAML renderings (empty when equal)."""
    before = render_yaml(old).splitlines() if old is not None else []
    after = render_yaml(new).splitlines()
    return list(difflib.unified_diff(before, after, fromfile=old_label, tofile=new_label,
                                     lineterm="", n=2))
