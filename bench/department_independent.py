"""Department routing on independent tickets, linear SVM against logistic regression.

Both models are trained on the bundled tickets (api/data/department_train.csv) with the same
TF-IDF features (api/training.py DEPARTMENT_SPEC), each calibrated by a temperature fitted on
its own 5-fold out-of-fold scores, each with its own review threshold chosen by the same rule
from its cross-validated errors. They are measured on the independent ticket sets of
tests/data/independent/ (written by people who never saw the training data) and on the older
held-out file api/data/department_eval.csv. The shipped model is the SVM.

    python -m bench.department_independent [--no-record]
"""

from __future__ import annotations

import csv
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import REPO, bench_parser, percentile, record

SETS = {
    "independent test": REPO / "tests" / "data" / "independent" / "departments_test.csv",
    "independent dev": REPO / "tests" / "data" / "independent" / "departments_dev.csv",
    "regression (written with the training data)": REPO / "api" / "data" / "department_eval.csv",
}
SHORT_WORDS = 6


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _measure(classifier, rows: list[dict[str, str]]) -> dict[str, float]:
    from ticketbot.api.classifier import review_figures

    routings = [classifier.route(r["text"]) for r in rows]
    right = [x.department == r["label"] for x, r in zip(routings, rows, strict=True)]
    short = [ok for ok, r in zip(right, rows, strict=True) if len(r["text"].split()) <= SHORT_WORDS]
    review = review_figures(routings, [r["label"] for r in rows], classifier.review_threshold)
    return {
        "accuracy": sum(right) / len(right),
        "short": sum(short) / len(short) if short else float("nan"),
        "short_rows": len(short),
        "errors": review["errors"],
        "errors_flagged": review["errors_flagged"],
        "flagged": review["flagged"],
    }


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()

    from ticketbot.api import BUNDLED_TICKETS
    from ticketbot.api.classifier import DepartmentClassifier
    from ticketbot.api.training import DEPARTMENT_SPEC
    from ticketbot.ml.training import read_labelled_csv, train_and_save
    from ticketbot.paths import shipped_model

    texts, labels = read_labelled_csv(BUNDLED_TICKETS)
    recipes = {
        "linear SVM (shipped)": DEPARTMENT_SPEC,
        "logistic regression C=10": replace(DEPARTMENT_SPEC, model="logistic", C=10.0),
    }
    models, fit_seconds, cv = {}, {}, {}
    with tempfile.TemporaryDirectory() as directory:
        for name, spec in recipes.items():
            started = time.perf_counter()
            manifest = train_and_save(
                spec,
                texts,
                labels,
                Path(directory) / f"{len(models)}.pkl",
                kind="department",
                source=BUNDLED_TICKETS.name,
                review=True,
            )
            fit_seconds[name] = time.perf_counter() - started
            cv[name] = manifest["cv"]["accuracy"]
            models[name] = DepartmentClassifier.load(Path(directory) / f"{len(models)}.pkl")
    shipped = DepartmentClassifier.load(shipped_model("department"))

    lines = [
        "| set | model | accuracy (goal >= 0.97) | 2-6 words (goal >= 0.95) | errors "
        "| errors flagged needs_review (goal >= 0.8) | tickets flagged (goal <= 0.15) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    shipped_figures = {}
    for set_name, path in SETS.items():
        rows = _rows(path)
        shipped_figures[set_name] = _measure(shipped, rows)
        for model_name, classifier in models.items():
            f = _measure(classifier, rows)
            lines.append(
                f"| {set_name} ({len(rows)}) | {model_name} | {f['accuracy']:.3f} "
                f"| {f['short']:.3f} ({f['short_rows']}) | {f['errors']} "
                f"| {f['errors_flagged']:.2f} | {f['flagged']:.3f} |"
            )
    texts_all = [r["text"] for path in SETS.values() for r in _rows(path)]
    latencies = []
    for text in texts_all * 3:
        started = time.perf_counter()
        shipped.route(text)
        latencies.append((time.perf_counter() - started) * 1000)
    training = (
        "| model | 5-fold CV accuracy on the bundled tickets | training time, CV included "
        "| review threshold chosen |\n| --- | ---: | ---: | ---: |\n"
        + "\n".join(
            f"| {name} | {cv[name]:.4f} | {fit_seconds[name]:.1f} s "
            f"| {models[name].review_threshold:.3f} |"
            for name in models
        )
    )
    test = shipped_figures["independent test"]
    body = (
        "\n".join(lines)
        + "\n\n"
        + training
        + f"\n\nShipped model (`trained_models/department.pkl`, review threshold "
        f"{shipped.review_threshold:.3f} from its manifest): independent test accuracy "
        f"{test['accuracy']:.3f}, {test['errors_flagged']:.2f} of its errors flagged, "
        f"{test['flagged']:.3f} of tickets flagged. Routing one ticket: p50 "
        f"{statistics.median(latencies):.3f} ms, p99 {percentile(latencies, 0.99):.3f} ms. "
        f"Bundled training tickets: {len(texts):,}."
    )
    print(body)
    if not args.no_record:
        record(
            "Department routing on independent tickets",
            "`python -m bench.department_independent`: a linear SVM and a logistic regression "
            "trained on the bundled tickets with the same TF-IDF features, each calibrated by "
            "a temperature fitted on its out-of-fold scores and given its own review threshold "
            "by the same rule (the confidence under which 90% of its cross-validated errors "
            "fall); measured on the independent ticket sets (tests/data/independent/, written "
            "by people who never saw the training data) and on the older held-out file.\n\n" + body,
        )


if __name__ == "__main__":
    main()
