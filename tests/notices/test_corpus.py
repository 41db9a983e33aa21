"""The wording rules against a labelled corpus of English and German sentences.

Positive: refusal phrasing (an opt-out box) or a double/triple negative.
Negative: plain wording, including withdrawal notes ("you can unsubscribe at
any time"), which must not be flagged. Precision and recall per language are
printed in the terminal summary and recorded as test properties.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ehrlich.notices.lint import check_text
from tests.notices.conftest import REPORT

CORPUS = Path(__file__).with_name("wording_corpus.tsv")
NEGATION_RULES = {"refusal-phrasing", "double-negative"}


def _corpus() -> list[tuple[str, bool, str]]:
    rows = []
    lines = [ln for ln in CORPUS.read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("#")]
    for line in lines[1:]:
        lang, label, sentence = line.split("\t")
        rows.append((lang, label == "1", sentence))
    return rows


def _flagged(sentence: str, lang: str) -> bool:
    return any(h.rule in NEGATION_RULES for h in check_text(sentence, lang, "consent"))


def test_corpus_is_big_enough_and_balanced() -> None:
    rows = _corpus()
    assert len(rows) >= 60
    for lang in ("en", "de"):
        labels = [label for row_lang, label, _ in rows if row_lang == lang]
        assert sum(labels) >= 15
        assert len(labels) - sum(labels) >= 15


@pytest.mark.parametrize("lang", ["en", "de"])
def test_precision_and_recall(lang: str, record_property: pytest.RecordProperty) -> None:
    tp = fp = fn = tn = 0
    misses = []
    for row_lang, label, sentence in _corpus():
        if row_lang != lang:
            continue
        flagged = _flagged(sentence, lang)
        tp += label and flagged
        fp += (not label) and flagged
        fn += label and not flagged
        tn += (not label) and not flagged
        if flagged != label:
            misses.append(f"{'missed' if label else 'false alarm'}: {sentence}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    record_property(f"precision_{lang}", round(precision, 3))
    record_property(f"recall_{lang}", round(recall, 3))
    REPORT.append(f"{lang}: precision {precision:.3f}, recall {recall:.3f} "
                  f"(tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    REPORT.extend(f"  {m}" for m in misses)
    assert precision >= 0.9, misses
    assert recall >= 0.9, misses


@pytest.mark.parametrize(("sentence", "lang"), [
    ("You can unsubscribe at any time.", "en"),
    ("I can opt out at any time with one click.", "en"),
    ("Sie können sich jederzeit abmelden.", "de"),
    ("Ich kann meine Einwilligung jederzeit widerrufen.", "de"),
])
def test_withdrawal_notes_are_not_negation_tricks(sentence: str, lang: str) -> None:
    assert not _flagged(sentence, lang)
