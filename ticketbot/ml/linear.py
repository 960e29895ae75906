"""The compiled, numpy-only form of a fitted TF-IDF + linear text classifier.

:func:`ticketbot.ml.training.compile_model` builds it from the fitted scikit-learn parts
(vectorizers, linear model, calibrator); its probabilities equal theirs (a test checks it).
It is saved as plain data (:meth:`LinearTextClassifier.to_state`) and rebuilt only after the
whole structure is checked (:meth:`LinearTextClassifier.from_state`, :mod:`ticketbot.ml.codec`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from ticketbot.ml.codec import InvalidModelData, Schema, encode_array
from ticketbot.ml.text import KINDS, Analyzer

WORD_CACHE_SIZE = 1 << 16
"""Distinct words whose character n-gram columns a block keeps (16 MiB at most, measured)."""


@dataclass
class TfidfBlock:
    """One TF-IDF vectorizer: its analyzer, vocabulary (term -> local column) and idf weights.

    Columns of this block start at ``offset`` in the model's feature space; each block is
    L2-normalised on its own then multiplied by ``weight``, like one vectorizer of a
    scikit-learn ``FeatureUnion`` with ``transformer_weights``.
    """

    analyzer: Analyzer
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    sublinear_tf: bool = True
    weight: float = 1.0

    def __post_init__(self) -> None:
        self._word_columns: dict[str, np.ndarray] = {}

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Return the (columns, values) of the non-zero TF-IDF features of ``text``."""
        # This is the classifier's hot path (one call per block per ticket).
        if self.analyzer.kind == "char_wb":
            columns, values = self._char_counts(text)
        else:
            # Counter counts in C, and map() looks the distinct terms up in C too.
            counts = Counter(self.analyzer(text))
            size = len(counts)
            columns = np.fromiter(
                map(self.vocabulary.get, counts.keys(), repeat(-1)), dtype=np.intp, count=size
            )
            values = np.fromiter(counts.values(), dtype=np.float64, count=size)
            known = columns >= 0
            columns, values = columns[known], values[known]
        if not len(columns):
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        if self.sublinear_tf:
            values = 1.0 + np.log(values)
        values *= self.idf[columns]
        values *= self.weight / np.sqrt(values @ values)
        return columns + self.offset, values

    def _char_counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns, counts) of a ``char_wb`` block: a word's n-grams never depend on its
        neighbours, so each distinct word is looked up once and its known columns cached
        (3 to 4 times faster than counting the n-gram strings of every ticket)."""
        cache = self._word_columns
        parts = []
        for word in self.analyzer.words(text):
            columns = cache.get(word)
            if columns is None:
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()  # bounded: a server reads unlimited new words
                terms = self.analyzer.word_terms(word)
                columns = np.fromiter(
                    map(self.vocabulary.get, terms, repeat(-1)), dtype=np.intp, count=len(terms)
                )
                columns = columns[columns >= 0]
                cache[word] = columns
            parts.append(columns)
        if not parts:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        columns, counts = np.unique(np.concatenate(parts), return_counts=True)
        return columns, counts.astype(np.float64)


@dataclass
class LinearHead:
    """A calibrated linear model over the model's features.

    ``coef`` has one row per feature and one column per class; probabilities are
    ``softmax(x @ coef + intercept)`` (a linear SVM or logistic regression with its
    calibration folded in). A model may average several heads (an ensemble).
    """

    coef: np.ndarray
    intercept: np.ndarray
    weight: float = 1.0


class LinearTextClassifier:
    """Predicts class probabilities for texts; the pickled form of every ticketbot model."""

    def __init__(
        self, blocks: list[TfidfBlock], heads: list[LinearHead], classes: list[str]
    ) -> None:
        if not heads:
            raise ValueError("a classifier needs at least one head")
        n_features = sum(len(block.idf) for block in blocks)
        for head in heads:
            if head.coef.shape != (n_features, len(classes)):
                raise ValueError(
                    f"head shape {head.coef.shape} does not match "
                    f"{n_features} features x {len(classes)} classes"
                )
        self.blocks = blocks
        self.heads = heads
        self.classes = list(classes)

    @property
    def n_features(self) -> int:
        """Number of TF-IDF features (all blocks together)."""
        return sum(len(block.idf) for block in self.blocks)

    def predict_proba(self, text: str) -> np.ndarray:
        """Probability of each class (in the order of :attr:`classes`) for one text."""
        parts = [block.transform(text) for block in self.blocks]
        columns = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
        total_weight = sum(head.weight for head in self.heads)
        probabilities = np.zeros(len(self.classes))
        for head in self.heads:
            scores = values @ head.coef[columns] + head.intercept
            scores = np.exp(scores - scores.max())
            probabilities += head.weight * scores / scores.sum()
        return probabilities / total_weight

    def predict_proba_many(self, texts: list[str]) -> np.ndarray:
        """Probabilities for several texts: one row per text."""
        if not texts:
            return np.empty((0, len(self.classes)))
        return np.vstack([self.predict_proba(text) for text in texts])

    def rank(self, text: str, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` most probable classes for ``text``, best first, with their probability."""
        probabilities = self.predict_proba(text)
        order = np.argsort(-probabilities, kind="stable")[:top]
        return [(self.classes[i], float(probabilities[i])) for i in order]

    def predict(self, text: str) -> str:
        """The most probable class of ``text``."""
        return self.rank(text, top=1)[0][0]


def _analyzer_state(analyzer: Analyzer) -> dict:
    return {
        "kind": analyzer.kind,
        "ngram_min": analyzer.ngram_min,
        "ngram_max": analyzer.ngram_max,
        "tokens": analyzer.tokens,
        "max_chars": analyzer.max_chars,
    }


def _analyzer_from(data: Schema) -> Analyzer:
    try:
        return Analyzer(
            data.str("kind", KINDS),
            data.int("ngram_min", 1, 10),
            data.int("ngram_max", 1, 10),
            data.int("tokens", 1, 1000),
            data.int("max_chars", 1, 1_000_000),
        )
    except ValueError as error:
        if isinstance(error, InvalidModelData):
            raise
        raise InvalidModelData(f"{data.where}: {error}") from None


def classifier_state(model: LinearTextClassifier) -> dict:
    """``model`` as plain data (see :mod:`ticketbot.ml.codec`)."""
    return {
        "classes": list(model.classes),
        "blocks": [
            {
                "analyzer": _analyzer_state(block.analyzer),
                "vocabulary": dict(block.vocabulary),
                "idf": encode_array(block.idf),
                "offset": block.offset,
                "sublinear_tf": bool(block.sublinear_tf),
                "weight": float(block.weight),
            }
            for block in model.blocks
        ],
        "heads": [
            {
                "coef": encode_array(head.coef),
                "intercept": encode_array(head.intercept),
                "weight": float(head.weight),
            }
            for head in model.heads
        ],
    }


def classifier_from_state(data: Schema) -> LinearTextClassifier:
    """A classifier rebuilt from plain data, every part checked first."""
    classes = data.strings("classes")
    blocks, offset = [], 0
    for index, raw in enumerate(data.list("blocks", limit=16)):
        block = Schema(raw, f"{data.where}.blocks[{index}]")
        idf = block.array("idf", (None,), "float64")
        if block.int("offset", 0, 2**31) != offset:
            raise InvalidModelData(f"{block.where}.offset: expected {offset}")
        blocks.append(
            TfidfBlock(
                _analyzer_from(block.schema("analyzer")),
                block.vocabulary("vocabulary", len(idf)),
                idf,
                offset,
                block.bool("sublinear_tf"),
                block.float("weight"),
            )
        )
        offset += len(idf)
    heads = []
    for index, raw in enumerate(data.list("heads", limit=16)):
        head = Schema(raw, f"{data.where}.heads[{index}]")
        heads.append(
            LinearHead(
                head.array("coef", (offset, len(classes)), "float32"),
                head.array("intercept", (len(classes),), "float64"),
                head.float("weight"),
            )
        )
    if not heads:
        raise InvalidModelData(f"{data.where}.heads: a classifier needs at least one head")
    return LinearTextClassifier(blocks, heads, classes)
