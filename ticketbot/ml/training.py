"""Training, cross-validation and compilation of TF-IDF + linear text classifiers.

This is the one recipe behind ``ticketbot train department`` and ``ticketbot train intent``;
only the :class:`TrainingSpec` differs:

1. TF-IDF blocks (word n-grams, character n-grams, subject-line n-grams), each
   L2-normalised and weighted, fitted once on all rows;
2. a linear model (linear SVM or logistic regression) fitted on k folds: its out-of-fold
   decision scores give the cross-validated figures and train a multinomial logistic
   calibrator (scores -> probabilities);
3. the linear model refitted on all rows, the calibrator folded into it: the result is one
   linear map and a softmax, compiled into a numpy-only :class:`LinearTextClassifier`.

The vocabulary and idf weights of step 1 are computed on all rows, the cross-validation
folds included: they use no label, and refitting them per fold would triple training time.
scikit-learn is imported here and nowhere on the prediction path.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ticketbot.ml.linear import LinearHead, LinearTextClassifier, TfidfBlock
from ticketbot.ml.text import Analyzer, training_cache

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step_description, done, total)`` while training runs."""

LARGE_DATA_ROWS = 5000
"""From this many rows, rare terms (seen once) are dropped: they only add noise and memory."""


class TrainingDataError(ValueError):
    """The training data cannot train a model; the message says what to fix."""


@dataclass(frozen=True)
class FeatureSpec:
    """One TF-IDF block of the feature space.

    ``min_df`` None means automatic: 1 below :data:`LARGE_DATA_ROWS` rows, else 2.
    ``tokens`` is the number of leading (distinct, for ``pairs``) words a ``subject`` or
    ``pairs`` block looks at. ``min_rows``: the block is left out when training on fewer rows
    (word pairs help on tens of thousands of tickets, and spread a few hundred too thin).
    """

    kind: str
    ngram_min: int
    ngram_max: int
    weight: float = 1.0
    min_df: int | None = None
    max_df: float = 1.0
    max_features: int | None = None
    sublinear_tf: bool = True
    tokens: int = 8
    min_rows: int = 0


@dataclass(frozen=True)
class TrainingSpec:
    """Everything that defines how a model is trained (recorded in its manifest).

    ``model`` is ``"linear_svm"`` (scikit-learn's LinearSVC) or ``"logistic"``.
    ``calibration`` turns its scores into probabilities: ``"temperature"`` (one scale for all
    scores: the ranking is unchanged, and it cannot overfit few examples of many classes) or
    ``"logistic"`` (a multinomial logistic regression on the scores). ``C`` None
    means automatic: 1.0 below :data:`LARGE_DATA_ROWS` rows, 0.3 above (the best values by
    cross-validation on the bundled tickets and on a 38,000-ticket public data set).
    """

    features: tuple[FeatureSpec, ...]
    model: str = "linear_svm"
    C: float | None = None
    class_weight: str | None = "balanced"
    max_iter: int = 2000
    cv_folds: int = 5
    calibration: str = "temperature"
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
    cv: CrossValidation
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
    """Read ``(texts, labels)`` from a CSV with a header (see :func:`read_labelled_rows`)."""
    texts, labels, _ = read_labelled_rows(path, text_column, label_column)
    return texts, labels


def read_labelled_rows(
    path: Path, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[str], list[tuple[int, str]]]:
    """Read ``(texts, labels, skipped)`` from a CSV with a header.

    Column names are matched in any case. Rows with an empty text or label, or with more or
    fewer fields than the header, are left out and listed in ``skipped`` as ``(line number,
    reason)``. Raises :class:`TrainingDataError` with a clear message on a bad file.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None) or []
            names = [name.strip().casefold() for name in header]
            missing = [c for c in (text_column, label_column) if c.casefold() not in names]
            if missing:
                raise TrainingDataError(
                    f"{path}: no column {', '.join(map(repr, missing))}; the header has "
                    f"{', '.join(map(repr, header)) or 'no columns'}. Name the columns with "
                    f"--text-column and --label-column."
                )
            text_at, label_at = (
                names.index(text_column.casefold()),
                names.index(label_column.casefold()),
            )
            texts, labels, skipped = [], [], []
            for row in reader:
                line = reader.line_num
                if not any(field.strip() for field in row):
                    continue
                if len(row) != len(header):
                    skipped.append((line, f"{len(row)} fields where the header has {len(header)}"))
                    continue
                text, label = row[text_at].strip(), row[label_at].strip()
                if not text or not label:
                    skipped.append((line, "no text" if not text else "no label"))
                    continue
                texts.append(text)
                labels.append(label)
    except FileNotFoundError:
        raise TrainingDataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise TrainingDataError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except csv.Error as error:
        raise TrainingDataError(f"{path}: not a valid CSV file ({error})") from None
    return texts, labels, skipped


def describe_skipped(path: Path, skipped: list[tuple[int, str]], shown: int = 10) -> str:
    """One line saying which rows of ``path`` were left out and why."""
    listed = "; ".join(f"line {line}: {reason}" for line, reason in skipped[:shown])
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{path}: {len(skipped)} rows left out ({listed}{more})"


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


def build_vectorizer(spec: TrainingSpec, rows: int) -> Any:
    """The (unfitted) scikit-learn ``FeatureUnion`` of the spec's TF-IDF blocks."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    blocks, weights = [], {}
    for index, feature in enumerate(spec.features):
        if rows < feature.min_rows:
            continue
        name = f"{index}_{feature.kind}_{feature.ngram_min}_{feature.ngram_max}"
        min_df = feature.min_df or (1 if rows < LARGE_DATA_ROWS else 2)
        vectorizer = TfidfVectorizer(
            analyzer=Analyzer(feature.kind, feature.ngram_min, feature.ngram_max, feature.tokens),
            min_df=min_df if min_df <= max(1, rows // 2) else 1,
            max_df=feature.max_df,
            max_features=feature.max_features,
            sublinear_tf=feature.sublinear_tf,
            dtype=np.float64,
        )
        blocks.append((name, vectorizer))
        weights[name] = feature.weight
    return FeatureUnion(blocks, transformer_weights=weights)


def build_classifier(spec: TrainingSpec, rows: int) -> Any:
    """The (unfitted) linear model of the spec for ``rows`` training rows."""
    C = spec.C if spec.C is not None else (1.0 if rows < LARGE_DATA_ROWS else 0.3)
    if spec.model == "linear_svm":
        from sklearn.svm import LinearSVC

        return LinearSVC(
            C=C, class_weight=spec.class_weight, max_iter=spec.max_iter, random_state=spec.seed
        )
    if spec.model == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=C, class_weight=spec.class_weight, max_iter=spec.max_iter)
    raise ValueError(f"unknown model {spec.model!r}: use 'linear_svm' or 'logistic'")


def _softmax_form(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A binary linear model (one row) as two softmax columns: sigmoid(z) = softmax(-z/2, z/2)."""
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
    if coef.shape[0] == 1:
        return np.vstack([-coef, coef]) / 2, np.array([-intercept[0], intercept[0]]) / 2
    return coef, intercept


def _scores(model: Any, features: Any) -> np.ndarray:
    """Decision scores of a fitted linear model, one column per class (binary included)."""
    coef, intercept = _softmax_form(model.coef_, model.intercept_)
    return np.asarray(features @ coef.T) + intercept


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


class TemperatureCalibrator:
    """Probabilities ``softmax(scores / T)`` with the one temperature ``T`` that minimises the
    log-loss of the out-of-fold scores (Guo et al., 2017). Keeps the ranking of the scores."""

    def fit(self, scores: np.ndarray, labels: Sequence[str]) -> TemperatureCalibrator:
        from scipy.optimize import minimize_scalar

        self.classes_ = np.array(sorted(set(labels)), dtype=object)
        truth = np.searchsorted(self.classes_, np.asarray(labels, dtype=object))

        def log_loss(log_temperature: float) -> float:
            probabilities = _softmax(scores / np.exp(log_temperature))
            return -float(np.mean(np.log(probabilities[np.arange(len(truth)), truth] + 1e-12)))

        best = minimize_scalar(log_loss, bounds=(-6.0, 6.0), method="bounded")
        self.temperature_ = float(np.exp(best.x))
        k = len(self.classes_)
        self.coef_ = np.eye(k) / self.temperature_
        self.intercept_ = np.zeros(k)
        return self

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        return _softmax(scores / self.temperature_)


def build_calibrator(spec: TrainingSpec) -> Any:
    """The (unfitted) calibrator of the spec."""
    if spec.calibration == "temperature":
        return TemperatureCalibrator()
    if spec.calibration == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=1.0, max_iter=1000)
    raise ValueError(f"unknown calibration {spec.calibration!r}: use 'temperature' or 'logistic'")


def compile_model(vectorizer: Any, classifier: Any, calibrator: Any) -> LinearTextClassifier:
    """Fold a fitted vectorizer, linear model and calibrator into a :class:`LinearTextClassifier`.

    logits = (x @ W.T + b) @ A.T + c = x @ (A @ W).T + (A @ b + c), then softmax.
    """
    weights = vectorizer.transformer_weights or {}
    blocks, offset = [], 0
    for name, block in vectorizer.transformer_list:
        vocabulary = {term: int(column) for term, column in block.vocabulary_.items()}
        idf = np.asarray(block.idf_, dtype=np.float64)
        blocks.append(
            TfidfBlock(
                block.analyzer, vocabulary, idf, offset, block.sublinear_tf, weights.get(name, 1.0)
            )
        )
        offset += len(idf)
    base_coef, base_intercept = _softmax_form(classifier.coef_, classifier.intercept_)
    cal_coef, cal_intercept = _softmax_form(calibrator.coef_, calibrator.intercept_)
    coef = cal_coef @ base_coef
    intercept = cal_coef @ base_intercept + cal_intercept
    head = LinearHead(np.ascontiguousarray(coef.T, dtype=np.float32), intercept)
    return LinearTextClassifier(blocks, [head], [str(c) for c in classifier.classes_])


def train(
    spec: TrainingSpec,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    progress: Progress | None = None,
    jobs: int = 2,
) -> TrainingResult:
    """Train, cross-validate and compile a classifier (see the module docstring).

    ``jobs`` threads fit the folds (the linear solvers release the GIL).
    """
    from sklearn.base import clone
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    if len(texts) != len(labels):
        raise TrainingDataError("texts and labels differ in length")
    folds = check_training_data(labels, spec.cv_folds)
    texts, labels = list(texts), np.asarray(labels, dtype=object)
    classes = sorted(set(labels))
    step = _Steps(progress, total=folds + 2)
    started = time.perf_counter()
    # One BLAS thread: these sparse problems gain nothing from more, and spinning BLAS
    # threads made a 0.3 s fit take 5 s on a busy two-core machine. Imported first: only
    # loaded libraries can be limited.
    template = build_classifier(spec, len(texts))
    with threadpool_limits(limits=1):
        step("computing TF-IDF features")
        vectorizer = build_vectorizer(spec, len(texts))
        with training_cache(len(texts)):
            features = vectorizer.fit_transform(texts).tocsr()
        splits = list(
            StratifiedKFold(n_splits=folds, shuffle=True, random_state=spec.seed).split(
                features, labels
            )
        )
        out_of_fold = np.zeros((len(texts), len(classes)))

        def fit_fold(split: tuple[np.ndarray, np.ndarray]) -> None:
            train_rows, test_rows = split
            fitted = clone(template).fit(features[train_rows], labels[train_rows])
            # Stratified folds keep every label in every training split: same columns.
            out_of_fold[test_rows] = _scores(fitted, features[test_rows])
            step(f"{folds}-fold cross-validation and final fit")

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            final = pool.submit(lambda: clone(template).fit(features, labels))
            for future in [pool.submit(fit_fold, split) for split in splits]:
                future.result()
            classifier = final.result()
        step("calibration")
        calibrator = build_calibrator(spec).fit(out_of_fold, labels)
        probabilities = calibrator.predict_proba(out_of_fold)
    model = compile_model(vectorizer, classifier, calibrator)
    fit_seconds = time.perf_counter() - started
    predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    truth = [str(label) for label in labels]
    cv = CrossValidation(
        folds=folds,
        labels=classes,
        truth=truth,
        predicted=predicted,
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, average="macro")),
        probabilities=probabilities,
    )
    return TrainingResult(
        model=model,
        cv=cv,
        fit_seconds=fit_seconds,
        rows=len(texts),
        data_sha256=data_sha256(texts, list(truth)),
        label_counts=dict(sorted(Counter(truth).items())),
    )


class _Steps:
    """Thread-safe progress counting."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        import threading

        self.progress, self.total, self.done = progress, total, 0
        self.lock = threading.Lock()

    def __call__(self, description: str) -> None:
        if self.progress is None:
            return
        with self.lock:
            self.progress(description, self.done, self.total)
            self.done += 1


REVIEW_ERROR_SHARE = 0.9
"""The review threshold is set so that this share of cross-validated errors falls under it."""
REVIEW_RULE = (
    "the confidence under which 90% of the model's cross-validated errors fall: tickets "
    "routed with a lower confidence are flagged needs_review"
)


def review_threshold(cv: CrossValidation) -> dict[str, Any]:
    """The review threshold chosen from the model's own cross-validated errors, with what
    it flags on them (see :data:`REVIEW_RULE`)."""
    confidence = cv.probabilities.max(axis=1)
    wrong = np.array([p != t for p, t in zip(cv.predicted, cv.truth, strict=True)])
    if not wrong.any():
        threshold = float(confidence.min())
    else:
        threshold = float(np.quantile(confidence[wrong], REVIEW_ERROR_SHARE))
    threshold = round(threshold, 3)
    flagged = confidence < threshold
    return {
        "threshold": threshold,
        "rule": REVIEW_RULE,
        "cv_errors_flagged": round(float((flagged & wrong).sum() / max(int(wrong.sum()), 1)), 4),
        "cv_tickets_flagged": round(float(flagged.mean()), 4),
    }


def train_and_save(
    spec: TrainingSpec,
    texts: Sequence[str],
    labels: Sequence[str],
    out: Path,
    *,
    kind: str,
    source: str,
    extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
    review: bool = False,
) -> dict[str, Any]:
    """Train a model, save it to ``out`` with its manifest, and return the manifest.

    ``kind`` names the model ("department", "intent"); ``source`` says where the data came
    from; ``extra`` adds kind-specific manifest entries; ``review`` records the review
    threshold chosen from the cross-validated errors (:func:`review_threshold`).
    """
    from ticketbot.ml.store import save_model

    model, manifest = train_with_manifest(
        spec, texts, labels, kind=kind, source=source, extra=extra, progress=progress, review=review
    )
    return save_model(model, out, manifest)


def train_with_manifest(
    spec: TrainingSpec,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    kind: str,
    source: str,
    extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
    review: bool = False,
) -> tuple[LinearTextClassifier, dict[str, Any]]:
    """Train a model; returns it with the manifest entries :func:`train_and_save` records
    (the store adds its hash and version when it saves it)."""
    from datetime import UTC, datetime

    result = train(spec, texts, labels, progress=progress)
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
        "cv": result.cv.summary(),
        "fit_seconds": round(result.fit_seconds, 2),
        "features": result.model.n_features,
        "spec": spec.as_dict(),
        **({"review": review_threshold(result.cv)} if review else {}),
        **(extra or {}),
    }
    return result.model, manifest
