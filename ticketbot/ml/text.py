"""Text normalisation and the analyzers that turn a text into TF-IDF terms.

The same functions run at training time (inside scikit-learn's ``TfidfVectorizer``) and at
prediction time (inside :class:`ticketbot.ml.linear.LinearTextClassifier`), so both always see
exactly the same terms. Changing them changes every model: bump ``ANALYZER_VERSION`` then.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

ANALYZER_VERSION = 4

_DIGITS = re.compile(r"\d+")
_REPEATS = re.compile(r"(.)\1{2,}")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"(?u)\b\w\w+\b|#")


def strip_accents(text: str) -> str:
    """Remove diacritics ("é" -> "e") so that typed-without-accents French still matches."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 16)
def normalize(text: str) -> str:
    """Lowercase, strip accents, map every number to ``0`` and squeeze letter runs ("plzzz").

    Cached: each TF-IDF block of a model normalises the same texts.
    """
    text = strip_accents(text.lower())
    text = _DIGITS.sub("0", text)
    text = _REPEATS.sub(r"\1\1", text)
    return _WHITESPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Analyzer:
    """Callable turning a raw text into a list of terms.

    ``kind`` is ``"word"`` (word n-grams), ``"char_wb"`` (character n-grams inside word
    boundaries, padded with one space, as scikit-learn's ``char_wb``) or ``"subject"`` (word
    n-grams of the first ``tokens`` words only: tickets start with their subject line).
    Only the first ``max_chars`` characters are read: what follows in very long tickets is
    mostly quoted mail history, which slows prediction without making it more accurate.
    """

    kind: str
    ngram_min: int
    ngram_max: int
    tokens: int = 8
    max_chars: int = 1000

    def __post_init__(self) -> None:
        if self.kind not in ("word", "char_wb", "subject"):
            raise ValueError(
                f"unknown analyzer kind {self.kind!r}: use 'word', 'char_wb' or 'subject'"
            )
        if not 1 <= self.ngram_min <= self.ngram_max:
            raise ValueError("ngram range must satisfy 1 <= min <= max")

    def __call__(self, text: str) -> list[str]:
        normalized = normalize(text[: self.max_chars])
        if self.kind == "word":
            return self._word_ngrams(_WORD.findall(normalized))
        if self.kind == "subject":
            return self._word_ngrams(_WORD.findall(normalized)[: self.tokens])
        return self._char_wb_ngrams(normalized)

    def _word_ngrams(self, tokens: list[str]) -> list[str]:
        terms = list(tokens) if self.ngram_min == 1 else []
        for n in range(max(self.ngram_min, 2), self.ngram_max + 1):
            terms.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return terms

    def _char_wb_ngrams(self, normalized: str) -> list[str]:
        terms: list[str] = []
        for word in normalized.split():
            terms.extend(_word_char_ngrams(word, self.ngram_min, self.ngram_max))
        return terms


@lru_cache(maxsize=1 << 18)
def _word_char_ngrams(word: str, ngram_min: int, ngram_max: int) -> tuple[str, ...]:
    """Character n-grams of one word padded with spaces (cached: words repeat a lot)."""
    padded = f" {word} "
    length = len(padded)
    grams: list[str] = []
    for n in range(ngram_min, ngram_max + 1):
        if length <= n:
            # A word no longer than n is counted once, whole, as scikit-learn does.
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return tuple(grams)
