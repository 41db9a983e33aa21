"""The linter's rules, read from `lint_rules.yaml` (rules as data) and compiled once.

Their messages and suggestions are texts of the gettext catalogue like any other
(`extract_rule_texts` hands them to `pybabel extract`); `rules_in` gives the rules with
them in one language, the `{fields}` filled in after translation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import IO, Any

import yaml

from ehrlich.i18n import translations
from ehrlich.notices.schemas import Severity

FLAGS = re.IGNORECASE | re.UNICODE


@dataclass(frozen=True)
class PatternRule:
    id: str
    severity: Severity
    applies_to: frozenset[str]
    message: str
    suggestion: str
    patterns: dict[str, tuple[re.Pattern[str], ...]]


@dataclass(frozen=True)
class NegationRule:
    id: str
    severity: Severity
    applies_to: frozenset[str]
    min_cues: int
    message: str
    suggestion: str
    cues: dict[str, tuple[re.Pattern[str], ...]]
    withdrawal_notes: dict[str, tuple[re.Pattern[str], ...]]


@dataclass(frozen=True)
class ReadabilityRule:
    id: str
    severity: Severity
    applies_to: frozenset[str]
    min_words: int
    message: str
    suggestion: str
    thresholds: dict[str, float]


@dataclass(frozen=True)
class RuleSet:
    negation: NegationRule
    patterns: tuple[PatternRule, ...]
    readability: ReadabilityRule
    structure: dict[str, dict[str, str]]

    def structural(self, rule_id: str) -> tuple[Severity, str, str]:
        entry = self.structure[rule_id]
        severity: Severity = "warning" if entry["severity"] == "warning" else "error"
        return severity, entry["message"], entry["suggestion"]


def _compile(by_lang: dict[str, list[str]]) -> dict[str, tuple[re.Pattern[str], ...]]:
    return {lang: tuple(re.compile(p, FLAGS) for p in patterns)
            for lang, patterns in by_lang.items()}


def _severity(value: str) -> Severity:
    if value not in ("error", "warning"):
        raise ValueError(f"unknown severity {value!r}")
    return "error" if value == "error" else "warning"


def parse_rules(data: dict[str, Any]) -> RuleSet:
    neg = data["negation"]
    negation = NegationRule(
        neg["id"], _severity(neg["severity"]), frozenset(neg["applies_to"]), neg["min_cues"],
        neg["message"], neg["suggestion"], _compile(neg["cues"]),
        _compile(neg["withdrawal_notes"]))
    patterns = tuple(
        PatternRule(r["id"], _severity(r["severity"]), frozenset(r["applies_to"]), r["message"],
                    r["suggestion"],
                    _compile({k: v for k, v in r.items() if len(k) == 2}))
        for r in data["patterns"])
    read = data["readability"]
    readability = ReadabilityRule(
        read["id"], _severity(read["severity"]), frozenset(read["applies_to"]),
        read["min_words"], read["message"], read["suggestion"],
        {lang: float(t["minimum"]) for lang, t in read["thresholds"].items()})
    return RuleSet(negation, patterns, readability, data["structure"])


@cache
def default_rules() -> RuleSet:
    text = (files("ehrlich.notices") / "lint_rules.yaml").read_text(encoding="utf-8")
    return parse_rules(yaml.safe_load(text))


@cache
def rules_in(language: str) -> RuleSet:
    """The default rules with their messages and suggestions in `language` (English where
    the catalogue has no translation)."""
    rules = default_rules()
    catalogue = translations(language)

    def tr(text: str) -> str:
        return catalogue.gettext(text) if text else text  # "" would give the header

    return RuleSet(
        replace(rules.negation, message=tr(rules.negation.message),
                suggestion=tr(rules.negation.suggestion)),
        tuple(replace(rule, message=tr(rule.message), suggestion=tr(rule.suggestion))
              for rule in rules.patterns),
        replace(rules.readability, message=tr(rules.readability.message),
                suggestion=tr(rules.readability.suggestion)),
        {rule_id: {**entry, "message": tr(entry["message"]),
                   "suggestion": tr(entry["suggestion"])}
         for rule_id, entry in rules.structure.items()})


TRANSLATED_KEYS = ("message", "suggestion")


def extract_rule_texts(fileobj: IO[bytes], keywords: object, comment_tags: object,
                       options: object) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extraction method (babel.cfg's `[extractors]`): every message and suggestion
    of a rules file, for the catalogue."""
    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TRANSLATED_KEYS and isinstance(value, str) and value:
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for text in walk(yaml.safe_load(fileobj.read().decode("utf-8"))):
        yield 0, None, text, []
