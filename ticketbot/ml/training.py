"""Training, cross-validation and compilation of TF-IDF + logistic-regression classifiers.

This is the one pipeline behind ``ticketbot train department`` and ``ticketbot train intent``;
only the :class:`TrainingSpec` differs. scikit-learn is imported here and nowhere on the
prediction path.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ticketbot.ml.linear import LinearHead, LinearTextClassifier, TfidfBlock
from ticketbot.ml.text import Analyzer

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step_description, done, total)`` while training runs."""


class TrainingDataError(ValueError):
    """The training data cannot train a model; the message says what to fix."""


@dataclass(frozen=True)
class FeatureSpec:
    """One TF-IDF block of the feature space."""

    kind: str
    ngram_min: int
    ngram_max: int
    min_df: int = 1
    max_df: float = 1.0
    max_features: int | None = None
    sublinear_tf: bool = True


@dataclass(frozen=True)
class TrainingSpec:
    """Everything that defines how a model is trained (recorded in its manifest)."""

    features: tuple[FeatureSpec, ...]
    C: float = 10.0
    class_weight: str | None = None
    max_iter: int = 2000
    cv_folds: int = 5
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the spec."""
        return asdict(self)


@dataclass
class CrossValidation:
    """Out-of-fold predictions of a cross-validation, and the figures derived from them."""

    folds: int
    labels: list[str]
    truth: list[str]
    predicted: list[str]
    accuracy: float
    macro_f1: float
    probabilities: np.ndarray | None = None
    """Out-of-fold class probabilities, columns in the order of :attr:`labels`."""

    def summary(self) -> dict[str, Any]:
        """The figures that go into a manifest."""
        return {
            "folds": self.folds,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
        }


@dataclass
class TrainingResult:
    """A compiled model with its cross-validation and how long training took."""

    model: LinearTextClassifier
    cv: CrossValidation | None
    fit_seconds: float
    rows: int
    data_sha256: str
    label_counts: dict[str, int] = field(default_factory=dict)


def data_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 of the training rows in order, independent of how a CSV quoted them."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(label.encode("utf-8") + b"\t" + text.encode("utf-8") + b"\n")
    return digest.hexdigest()


def read_labelled_csv(
    path: Path, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[str]]:
    """Read ``(texts, labels)`` from a CSV with a header; rows with an empty text or label
    are skipped. Raises :class:`TrainingDataError` with a clear message on a bad file."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in (text_column, label_column) if c not in columns]
            if missing:
                raise TrainingDataError(
                    f"{path}: no column {', '.join(map(repr, missing))}; the header has "
                    f"{', '.join(map(repr, columns)) or 'no columns'}. Name the columns with "
                    f"--text-column and --label-column."
                )
            texts, labels = [], []
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if text and label:
                    texts.append(text)
                    labels.append(label)
    except FileNotFoundError:
        raise TrainingDataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise TrainingDataError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except csv.Error as error:
        raise TrainingDataError(f"{path}: not a valid CSV file ({error})") from None
    return texts, labels


def check_training_data(labels: Sequence[str], folds: int) -> int:
    """Validate the label distribution and return the number of CV folds it allows."""
    counts = Counter(labels)
    if len(counts) < 2:
        raise TrainingDataError(f"training needs at least 2 different labels, found {len(counts)}")
    rare = sorted(label for label, n in counts.items() if n < 2)
    if rare:
        raise TrainingDataError(
            f"every label needs at least 2 examples; too few for: {', '.join(rare)}"
        )
    return max(2, min(folds, min(counts.values())))


def build_pipeline(spec: TrainingSpec) -> Any:
    """The scikit-learn pipeline described by ``spec`` (not fitted)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    vectorizers = [
        (
            f"{feature.kind}_{feature.ngram_min}_{feature.ngram_max}",
            TfidfVectorizer(
                analyzer=Analyzer(feature.kind, feature.ngram_min, feature.ngram_max),
                min_df=feature.min_df,
                max_df=feature.max_df,
                max_features=feature.max_features,
                sublinear_tf=feature.sublinear_tf,
                dtype=np.float64,
            ),
        )
        for feature in spec.features
    ]
    classifier = LogisticRegression(
        C=spec.C, class_weight=spec.class_weight, max_iter=spec.max_iter
    )
    return Pipeline([("features", FeatureUnion(vectorizers)), ("classifier", classifier)])


def compile_pipeline(pipeline: Any) -> LinearTextClassifier:
    """Turn a fitted pipeline from :func:`build_pipeline` into a :class:`LinearTextClassifier`."""
    blocks = []
    offset = 0
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        vocabulary = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
        idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        blocks.append(
            TfidfBlock(vectorizer.analyzer, vocabulary, idf, offset, vectorizer.sublinear_tf)
        )
        offset += len(idf)
    classifier = pipeline.named_steps["classifier"]
    coef = np.asarray(classifier.coef_, dtype=np.float64)
    intercept = np.asarray(classifier.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:
        # Binary logistic regression: sigmoid(z) == softmax([-z/2, z/2])[1].
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    head = LinearHead(np.ascontiguousarray(coef.T, dtype=np.float32), intercept)
    return LinearTextClassifier(blocks, [head], [str(c) for c in classifier.classes_])


def cross_validate(
    spec: TrainingSpec,
    texts: Sequence[str],
    labels: Sequence[str],
    progress: Progress | None = None,
) -> CrossValidation:
    """Stratified k-fold cross-validation (k from the spec, fewer if a label is rare)."""
    from sklearn.base import clone
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    folds = check_training_data(labels, spec.cv_folds)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=spec.seed)
    text_array = np.asarray(texts, dtype=object)
    label_array = np.asarray(labels, dtype=object)
    classes = sorted(set(labels))
    probabilities = np.zeros((len(labels), len(classes)))
    template = build_pipeline(spec)
    for done, (train, test) in enumerate(splitter.split(text_array, label_array)):
        if progress:
            progress(f"cross-validation fold {done + 1}/{folds}", done, folds)
        fitted = clone(template).fit(text_array[train], label_array[train])
        # Stratified folds keep every label in every training split, so the columns match.
        probabilities[test] = fitted.predict_proba(text_array[test])
    if progress:
        progress("cross-validation done", folds, folds)
    truth = list(labels)
    predicted_list = [classes[i] for i in probabilities.argmax(axis=1)]
    return CrossValidation(
        folds=folds,
        labels=classes,
        truth=truth,
        predicted=predicted_list,
        accuracy=float(accuracy_score(truth, predicted_list)),
        macro_f1=float(f1_score(truth, predicted_list, average="macro")),
        probabilities=probabilities,
    )


def train(
    spec: TrainingSpec,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    validate: bool = True,
    progress: Progress | None = None,
) -> TrainingResult:
    """Cross-validate (unless ``validate`` is false), then fit on all rows and compile."""
    if len(texts) != len(labels):
        raise TrainingDataError("texts and labels differ in length")
    from threadpoolctl import threadpool_limits

    check_training_data(labels, spec.cv_folds)
    build_pipeline(spec)  # imports scikit-learn, so that its thread pools exist to be limited
    # One BLAS thread: these sparse problems gain nothing from more, and spinning BLAS
    # threads made a 0.3 s fit take 5 s on a busy two-core machine.
    with threadpool_limits(limits=1):
        cv = cross_validate(spec, texts, labels, progress) if validate else None
        if progress:
            progress("fitting the final model", 0, 1)
        started = time.perf_counter()
        pipeline = build_pipeline(spec).fit(list(texts), list(labels))
        model = compile_pipeline(pipeline)
        fit_seconds = time.perf_counter() - started
    if progress:
        progress("final model fitted", 1, 1)
    return TrainingResult(
        model=model,
        cv=cv,
        fit_seconds=fit_seconds,
        rows=len(texts),
        data_sha256=data_sha256(texts, labels),
        label_counts=dict(sorted(Counter(labels).items())),
    )


def train_and_save(
    spec: TrainingSpec,
    texts: Sequence[str],
    labels: Sequence[str],
    out: Path,
    *,
    kind: str,
    source: str,
    extra: dict[str, Any] | None = None,
    validate: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train a model, save it to ``out`` with its manifest, and return the manifest.

    ``kind`` names the model ("department", "intent"); ``source`` says where the data came
    from; ``extra`` adds kind-specific manifest entries.
    """
    from datetime import UTC, datetime

    from ticketbot.ml.store import save_model

    result = train(spec, texts, labels, validate=validate, progress=progress)
    manifest = {
        "kind": kind,
        "labels": result.model.classes,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "source": source,
            "sha256": result.data_sha256,
            "rows": result.rows,
            "label_counts": result.label_counts,
        },
        "cv": result.cv.summary() if result.cv else None,
        "fit_seconds": round(result.fit_seconds, 2),
        "features": result.model.n_features,
        "spec": spec.as_dict(),
        **(extra or {}),
    }
    return save_model(result.model, out, manifest)
