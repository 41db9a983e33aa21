"""The notice linter: wording rules over every text, structural rules over the notice.

`check_text` applies the data-driven wording rules to one text in one
language (the labelled corpus in the tests drives it directly); `lint_notice`
walks a loaded notice, adds the structural rules and names line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ehrlich.notices.loader import LoadedNotice
from ehrlich.notices.placeholders import placeholder_findings
from ehrlich.notices.readability import readability
from ehrlich.notices.rules import RuleSet, default_rules
from ehrlich.notices.schemas import Finding, Path, Purpose, Severity

_SENTENCE = re.compile(r"[^.!?;]+[.!?;]*")


@dataclass(frozen=True)
class TextHit:
    rule: str
    severity: Severity
    start: int
    end: int
    message: str
    suggestion: str


@dataclass(frozen=True)
class _Text:
    path: Path
    lang: str
    kind: str
    text: str
    purpose: Purpose | None


def _negations(text: str, lang: str, rules: RuleSet) -> Iterator[TextHit]:
    rule = rules.negation
    cues, notes = rule.cues.get(lang, ()), rule.withdrawal_notes.get(lang, ())
    for sentence in _SENTENCE.finditer(text):
        body = sentence.group()
        for note in notes:
            body = note.sub(lambda m: " " * len(m.group()), body)
        found = [m.group() for cue in cues for m in cue.finditer(body)]
        if len(found) >= rule.min_cues:
            yield TextHit(rule.id, rule.severity, sentence.start(), sentence.end(),
                          rule.message.format(count=len(found), cues=", ".join(found)),
                          rule.suggestion)


def check_text(text: str, lang: str, kind: str, rules: RuleSet | None = None) -> list[TextHit]:
    """Apply the wording rules for `kind` ("consent", "description", "retention")."""
    rules = rules or default_rules()
    hits: list[TextHit] = []
    if kind in rules.negation.applies_to:
        hits.extend(_negations(text, lang, rules))
    for rule in rules.patterns:
        if kind not in rule.applies_to:
            continue
        for pattern in rule.patterns.get(lang, ()):
            match = pattern.search(text)
            if match:
                hits.append(TextHit(rule.id, rule.severity, match.start(), match.end(),
                                    rule.message.format(match=match.group()),
                                    rule.suggestion))
                break
    read = rules.readability
    if kind in read.applies_to and lang in read.thresholds:
        score = readability(text, lang)
        if score.words >= read.min_words and score.score < read.thresholds[lang]:
            hits.append(TextHit(read.id, read.severity, 0, len(text), read.message.format(
                formula=score.formula, score=score.score, threshold=read.thresholds[lang]),
                read.suggestion))
    return hits


def _texts(loaded: LoadedNotice) -> Iterator[_Text]:
    for i, purpose in enumerate(loaded.notice.purposes):
        base: Path = ("purposes", i)
        for name in ("title", "description"):
            for lang, text in getattr(purpose, name).items():
                yield _Text((*base, name, lang), lang, "description", text, purpose)
        for lang, text in purpose.retention.starts.items():
            yield _Text((*base, "retention", "starts", lang), lang, "retention", text, purpose)
        if purpose.consent is not None:
            for lang, text in purpose.consent.text.items():
                yield _Text((*base, "consent", "text", lang), lang, "consent", text, purpose)


def _locate(loaded: LoadedNotice, path: Path, offset: int) -> tuple[int, int]:
    """Line and column of character `offset` inside the scalar at `path`."""
    pos = loaded.positions.of(path)
    value = loaded.positions.values.get(path)
    if value is None:
        return pos.line, pos.column
    if value.style is None or value.style in ("'", '"'):
        text_line = loaded.text.splitlines()[value.line - 1]
        rest = text_line[value.column - 1:]
        if len(rest) > offset:  # a single-line scalar: the offset is a column offset
            return value.line, value.column + offset + (1 if value.style else 0)
        return value.line, value.column
    if value.style == "|":
        text = loaded.text.splitlines()
        line = value.line + 1 + _text_of(loaded, path)[:offset].count("\n")
        indent = len(text[line - 1]) - len(text[line - 1].lstrip())
        column = offset - (_text_of(loaded, path)[:offset].rfind("\n") + 1)
        return line, indent + 1 + column
    return value.line, value.column


def _text_of(loaded: LoadedNotice, path: Path) -> str:
    node: object = loaded.notice.model_dump()
    for part in path:
        node = node[part]  # type: ignore[index]
    return str(node)


def _structural(loaded: LoadedNotice, rules: RuleSet) -> Iterator[tuple[Path, str, Severity,
                                                                        str, str]]:
    notice = loaded.notice
    for placeholder, rule, params in placeholder_findings(notice):
        severity, message, suggestion = rules.structural(rule)
        yield placeholder, rule, severity, message.format(**params), suggestion
    seen_texts: dict[tuple[str, str], str] = {}
    for i, purpose in enumerate(notice.purposes):
        if purpose.legal_basis != "consent":
            continue
        consent = purpose.consent
        for lang in notice.languages:
            if consent is None or lang not in consent.text:
                severity, message, suggestion = rules.structural("consent-text-missing")
                where: Path = ("purposes", i, "consent", "text") if consent else (
                    "purposes", i, "legal_basis")
                yield (where, "consent-text-missing", severity,
                       message.format(purpose=purpose.id, language=lang),
                       suggestion.format(language=lang))
        if consent is None:
            continue
        if consent.default == "ticked":
            severity, message, suggestion = rules.structural("preselected-default")
            yield (("purposes", i, "consent", "default"), "preselected-default", severity,
                   message, suggestion)
        for lang, text in consent.text.items():
            path: Path = ("purposes", i, "consent", "text", lang)
            key = (lang, " ".join(text.lower().split()))
            if key in seen_texts:
                severity, message, suggestion = rules.structural("bundled-text")
                yield path, "bundled-text", severity, message.format(
                    other=seen_texts[key]), suggestion
            seen_texts.setdefault(key, purpose.id)
            for other in notice.purposes:
                title = other.title.get(lang, "")
                if other.id != purpose.id and len(title) >= 4 and title.lower() in text.lower():
                    severity, message, suggestion = rules.structural("names-other-purpose")
                    yield path, "names-other-purpose", severity, message.format(
                        other=other.id, title=title), suggestion.format(other=other.id)


def lint_notice(loaded: LoadedNotice, rules: RuleSet | None = None) -> list[Finding]:
    """Every finding in the notice, in file order."""
    rules = rules or default_rules()
    findings: list[Finding] = []
    for item in _texts(loaded):
        for hit in check_text(item.text, item.lang, item.kind, rules):
            severity = hit.severity
            if hit.rule == "vague-recipient" and item.purpose and item.purpose.recipients:
                severity = "warning"  # named recipients exist; the wording is still vague
            line, column = _locate(loaded, item.path, hit.start)
            findings.append(Finding(loaded.file, line, column, hit.rule, severity,
                                    hit.message, hit.suggestion))
    for path, rule, severity, message, suggestion in _structural(loaded, rules):
        pos = loaded.positions.of(path)
        findings.append(Finding(loaded.file, pos.line, pos.column, rule, severity, message,
                                suggestion))
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule))


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
