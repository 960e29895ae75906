"""Department routing on real tickets: ../shared/data/it_tickets/train.csv (38,323 IT tickets,
8 labels), fixed stratified 80/20 hold-out (random_state=42).

The model is trained by the same code and recipe as `ticketbot train department --data CSV`
(api/training.py DEPARTMENT_SPEC); a plain TF-IDF word 1-2 + logistic regression is trained on
the same split for reference. Also times the full `ticketbot train department --data` command
(5-fold cross-validation included) on all rows.

    python -m bench.department_it_tickets [--no-record] [--skip-cli]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import IT_TICKETS, bench_parser, percentile, record, require


def expected_calibration_error(
    predicted: list[str], truth: list[str], confidences: list[float], bins: int = 10
) -> float:
    """Mean gap between confidence and accuracy, over equal-width confidence bins."""
    total = 0.0
    for low in [i / bins for i in range(bins)]:
        chosen = [
            (p == t, c)
            for p, t, c in zip(predicted, truth, confidences, strict=True)
            if low < c <= low + 1 / bins
        ]
        if chosen:
            accuracy = sum(ok for ok, _ in chosen) / len(chosen)
            confidence = sum(c for _, c in chosen) / len(chosen)
            total += len(chosen) / len(truth) * abs(accuracy - confidence)
    return total


def reference_logistic(train_x, train_y, test_x, test_y) -> dict[str, float]:
    """TF-IDF word 1-2 + LogisticRegression(C=1) on the same split: accuracy, macro-F1, fit
    seconds; and, on the same features, how often a hold-out ticket with a near-copy in the
    training tickets (cosine >= 0.8) carries the near-copy's label (a measure of label noise).
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        started = time.perf_counter()
        vectorizer = TfidfVectorizer(ngram_range=(1, 2))
        train_features = vectorizer.fit_transform(train_x)
        classifier = LogisticRegression(C=1, max_iter=1000).fit(train_features, train_y)
        seconds = time.perf_counter() - started
        test_features = vectorizer.transform(test_x)
        predicted = classifier.predict(test_features)
        similarity = (test_features @ train_features.T).tocsr()  # rows are L2-normalised
    nearest = np.asarray(similarity.argmax(axis=1)).ravel()
    close = np.asarray(similarity.max(axis=1).todense()).ravel() >= 0.8
    same = np.asarray(train_y, dtype=object)[nearest] == np.asarray(test_y, dtype=object)
    return {
        "accuracy": accuracy_score(test_y, predicted),
        "macro_f1": f1_score(test_y, predicted, average="macro"),
        "seconds": seconds,
        "near_copies": float(close.mean()),
        "near_copy_agreement": float(same[close].mean()),
    }


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--skip-cli", action="store_true", help="do not time the CLI command")
    args = parser.parse_args()

    from sklearn.model_selection import train_test_split

    from ticketbot.api.training import DEPARTMENT_SPEC
    from ticketbot.ml.evaluation import classification_report
    from ticketbot.ml.training import read_labelled_csv, train

    texts, labels = read_labelled_csv(require(IT_TICKETS))
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=0.2, stratify=labels, random_state=42
    )
    started = time.perf_counter()
    result = train(DEPARTMENT_SPEC, train_x, train_y)
    fit_seconds = time.perf_counter() - started
    model = result.model

    latencies, predicted, confidences = [], [], []
    for text in test_x:
        t = time.perf_counter()
        label, confidence = model.rank(text, top=1)[0]
        latencies.append((time.perf_counter() - t) * 1000)
        predicted.append(label)
        confidences.append(confidence)
    started = time.perf_counter()
    model.predict_proba_many(test_x)
    batch_ms = (time.perf_counter() - started) * 1000 / len(test_x)
    report = classification_report(test_y, predicted)
    calibration_error = expected_calibration_error(predicted, test_y, confidences)
    reference = reference_logistic(train_x, train_y, test_x, test_y)

    cli = None
    if not args.skip_cli:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            command = [
                str(Path(sys.executable).with_name("ticketbot")),
                "train",
                "department",
                "--data",
                str(IT_TICKETS),
                "--out",
                str(Path(tmp) / "department.pkl"),
            ]
            subprocess.run(command, check=True, capture_output=True)
            cli = time.perf_counter() - started

    coverage = []
    for threshold in (0.5, 0.7, 0.9):
        kept = [
            (p, t) for p, t, c in zip(predicted, test_y, confidences, strict=True) if c >= threshold
        ]
        coverage.append(
            f"| {threshold:.1f} | {len(kept) / len(test_y):.1%} | "
            f"{sum(p == t for p, t in kept) / len(kept):.3f} |"
        )
    table = (
        "| figure | ticketbot | TF-IDF word 1-2 + LR (reference) |\n| --- | --- | --- |\n"
        f"| hold-out accuracy (floor 0.87) | {report['accuracy']:.4f} "
        f"| {reference['accuracy']:.4f} |\n"
        f"| hold-out macro-F1 | {report['macro_f1']:.4f} | {reference['macro_f1']:.4f} |\n"
        f"| 5-fold CV accuracy on the 80% (from training) | {result.cv.accuracy:.4f} | - |\n"
        f"| training time on the 80%, 5-fold CV included (goal < 60 s) | {fit_seconds:.1f} s "
        f"| {reference['seconds']:.1f} s (one fit, no CV) |\n"
        f"| prediction, one ticket at a time: p50 / p99 (goal < 1 ms) | "
        f"{statistics.median(latencies):.3f} ms / {percentile(latencies, 0.99):.3f} ms | - |\n"
        f"| prediction in a batch, per ticket | {batch_ms:.3f} ms | - |\n"
        f"| expected calibration error of the confidence (10 bins) | {calibration_error:.3f} "
        "| - |\n"
    )
    if cli is not None:
        table += (
            f"| `ticketbot train department --data train.csv` (all 38,323 rows, whole "
            f"command) | {cli:.1f} s | - |\n"
        )
    routing = (
        "| route automatically when confidence >= | share of tickets | accuracy on them |\n"
        "| --- | --- | --- |\n" + "\n".join(coverage)
    )
    goal = (
        f"The floor of 0.87 is {'held' if report['accuracy'] >= 0.87 else '**not held**'}; the "
        "earlier goal of 0.88 is parked (the linear plateau is real: see "
        "docs/department-model.md for everything tried)."
    )
    noise = (
        f"{reference['near_copies']:.0%} of the hold-out tickets have a near-copy among the "
        "training tickets (cosine >= 0.8 on TF-IDF word 1-2), and only "
        f"{reference['near_copy_agreement']:.1%} of them carry its label: label noise caps "
        "what any model can score here."
    )
    print(table)
    print(routing)
    print(goal, noise)
    if not args.no_record:
        record(
            "Department routing on real IT tickets",
            "`python -m bench.department_it_tickets`: `../shared/data/it_tickets/train.csv`, "
            "stratified 80/20 hold-out (random_state=42), trained by the code of "
            "`ticketbot train department` (TF-IDF word 1-2 + character 2-5 (x0.7) + subject "
            "line (x0.5) + word pairs among the first 12 distinct words (x0.7), linear SVM "
            "with class weights, calibrated by a temperature fitted on its 5-fold out-of-fold "
            "scores, compiled to numpy).\n\n"
            f"{table}\n{goal} {noise} What the product does with that: tickets under the "
            "review threshold are flagged `needs_review`, and the confident ones are right far "
            f"more often:\n\n{routing}\n",
        )


if __name__ == "__main__":
    main()
