"""Readability scores: Flesch reading ease (English) and Amstad's German variant.

Syllables are counted as groups of vowels (English drops a silent final "e"),
which is how the usual implementations approximate them. Scores run from
about 0 (very hard) to 100 (very easy); 60-70 is plain language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_VOWELS = {"en": re.compile(r"[aeiouy]+"), "de": re.compile(r"[aeiouyäöü]+")}


@dataclass(frozen=True)
class Readability:
    formula: str
    score: float
    words: int
    sentences: int
    syllables: int


def syllables(word: str, lang: str) -> int:
    word = word.lower()
    count = len(_VOWELS.get(lang, _VOWELS["en"]).findall(word))
    if lang == "en" and count > 1 and word.endswith("e") and not word.endswith(("le", "ee")):
        count -= 1
    return max(count, 1)


def readability(text: str, lang: str) -> Readability:
    words = _WORD.findall(text)
    sentences = max(len([s for s in _SENTENCE_END.split(text.strip()) if s.strip()]), 1)
    n_words = max(len(words), 1)
    n_syllables = sum(syllables(w, lang) for w in words)
    per_sentence, per_word = n_words / sentences, n_syllables / n_words
    if lang == "de":
        return Readability("Amstad", 180 - per_sentence - 58.5 * per_word,
                           len(words), sentences, n_syllables)
    return Readability("Flesch", 206.835 - 1.015 * per_sentence - 84.6 * per_word,
                       len(words), sentences, n_syllables)
