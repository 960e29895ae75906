"""Text normalisation and the analyzers that turn a text into TF-IDF terms.

The same functions run at training time (inside scikit-learn's ``TfidfVectorizer``) and at
prediction time (inside :class:`ticketbot.ml.linear.LinearTextClassifier`), so both always see
exactly the same terms. Changing them changes every model: bump ``ANALYZER_VERSION`` then.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

ANALYZER_VERSION = 5

_DIGITS = re.compile(r"\d+")
_REPEATS = re.compile(r"(.)\1{2,}")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"(?u)\b\w\w+\b|#")


def _strip_accents_slowly(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Latin letters with diacritics and the combining marks, folded one character at a time as
# NFKD would fold them in any text (a character's decomposition does not depend on its
# neighbours, and the marks are dropped): str.translate does it in one C loop.
_LATIN_FOLDS = str.maketrans(
    {
        chr(code): _strip_accents_slowly(chr(code))
        for code in [*range(0x80, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00)]
    }
)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=1 << 12)
def _fold_run(run: str) -> str:
    return _strip_accents_slowly(run)


def strip_accents(text: str) -> str:
    """Remove diacritics ("é" -> "e") so that typed-without-accents French still matches."""
    if text.isascii():
        return text
    folded = text.translate(_LATIN_FOLDS)
    if folded.isascii():
        return folded
    # What is left ("œ", "’", "€", other scripts): folded run by run, the ASCII between
    # runs kept as it is (the whole text through NFKD cost 5 times as much on tickets).
    return _NON_ASCII.sub(lambda found: _fold_run(found.group()), folded)


@lru_cache(maxsize=1 << 10)
def normalize(text: str) -> str:
    """Lowercase, strip accents, map every number to ``0`` and squeeze letter runs ("plzzz").

    Cached: each TF-IDF block of a model normalises the same text in turn. The cache is
    small, so that a server reading tickets for months keeps a bounded memory;
    :func:`training_cache` makes it hold every row while a model is trained.
    """
    text = strip_accents(text.lower())
    text = _DIGITS.sub("0", text)
    text = _REPEATS.sub(r"\1\1", text)
    return _WHITESPACE.sub(" ", text).strip()


_normalize = normalize
"""What the analyzers call: :func:`normalize`, or a larger cache of it while training."""


@contextmanager
def training_cache(rows: int) -> Iterator[None]:
    """While training on ``rows`` texts, cache every normalised text: the TF-IDF blocks read
    all rows one block after the other (about 15% of feature time on 38,000 tickets).
    The cache is dropped on exit."""
    global _normalize
    previous = _normalize
    _normalize = lru_cache(maxsize=max(rows, 1 << 10))(normalize.__wrapped__)
    try:
        yield
    finally:
        _normalize = previous


KINDS = ("word", "char_wb", "subject", "pairs")


@dataclass(frozen=True)
class Analyzer:
    """Callable turning a raw text into a list of terms.

    ``kind`` is ``"word"`` (word n-grams), ``"char_wb"`` (character n-grams inside word
    boundaries, padded with one space, as scikit-learn's ``char_wb``) or ``"subject"`` (word
    n-grams of the first ``tokens`` words only: tickets start with their subject line) or
    ``"pairs"`` (unordered sets of ``ngram_min`` to ``ngram_max`` distinct words, in any order
    and at any distance, among the first ``tokens`` distinct words: "printer" with "badge"
    means something else than "printer" with "toner", which single words and adjacent
    n-grams cannot say to a linear model).
    Only the first ``max_chars`` characters are read: what follows in very long tickets is
    mostly quoted mail history, which slows prediction without making it more accurate.
    """

    kind: str
    ngram_min: int
    ngram_max: int
    tokens: int = 8
    max_chars: int = 1000

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown analyzer kind {self.kind!r}: use one of {', '.join(map(repr, KINDS))}"
            )
        if not 1 <= self.ngram_min <= self.ngram_max:
            raise ValueError("ngram range must satisfy 1 <= min <= max")
        if self.kind == "pairs" and self.ngram_min < 2:
            raise ValueError("a 'pairs' analyzer combines at least 2 words: use ngram_min >= 2")

    def __call__(self, text: str) -> list[str]:
        normalized = _normalize(text[: self.max_chars])
        if self.kind == "word":
            return self._word_ngrams(_WORD.findall(normalized))
        if self.kind == "subject":
            return self._word_ngrams(_WORD.findall(normalized)[: self.tokens])
        if self.kind == "pairs":
            return self._word_sets(_WORD.findall(normalized))
        return self._char_wb_ngrams(normalized)

    def _word_ngrams(self, tokens: list[str]) -> list[str]:
        terms = list(tokens) if self.ngram_min == 1 else []
        for n in range(max(self.ngram_min, 2), self.ngram_max + 1):
            terms.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return terms

    def _word_sets(self, tokens: list[str]) -> list[str]:
        # The first `tokens` distinct words, sorted so that a set has one spelling.
        words = sorted(list(dict.fromkeys(tokens))[: self.tokens])
        terms: list[str] = []
        for n in range(self.ngram_min, self.ngram_max + 1):
            terms.extend("|".join(chosen) for chosen in combinations(words, n))
        return terms

    def _char_wb_ngrams(self, normalized: str) -> list[str]:
        terms: list[str] = []
        for word in normalized.split():
            terms.extend(self.word_terms(word))
        return terms

    def words(self, text: str) -> list[str]:
        """The normalised words of ``text`` that a ``char_wb`` analyzer reads, in order."""
        return _normalize(text[: self.max_chars]).split()

    def word_terms(self, word: str) -> tuple[str, ...]:
        """The ``char_wb`` terms of one normalised word: a text's terms are those of its
        :meth:`words`, concatenated."""
        return _word_char_ngrams(word, self.ngram_min, self.ngram_max)


@lru_cache(maxsize=1 << 15)
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
