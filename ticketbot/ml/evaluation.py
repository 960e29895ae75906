"""Evaluating a classifier on labelled texts: accuracy, macro-F1, per-class figures, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def classification_report(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Figures comparing ``predicted`` with ``truth`` (labels of both, in a stable order).

    Returns ``{"rows", "accuracy", "macro_f1", "per_class": {label: {precision, recall, f1,
    support}}, "confusion": {"labels": [...], "matrix": [[...]]}}``, rows of the matrix being
    the true label and columns the predicted one.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    order = list(labels) if labels else sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=order, zero_division=0
    )
    present = [i for i, label in enumerate(order) if label in set(truth)]
    macro_f1 = float(sum(f1[i] for i in present) / len(present)) if present else 0.0
    return {
        "rows": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(macro_f1, 4),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(order)
        },
        "confusion": {
            "labels": order,
            "matrix": confusion_matrix(truth, predicted, labels=order).tolist(),
        },
    }


def plot_confusion(report: dict[str, Any], path: Path, title: str) -> None:
    """Save the confusion matrix of ``report`` as a PNG (needs matplotlib: ticketbot[plot])."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install 'ticketbot[plot]'") from None
    labels = report["confusion"]["labels"]
    matrix = report["confusion"]["matrix"]
    size = max(5.0, 0.6 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    peak = max((max(row) for row in matrix), default=0) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            colour = "white" if count > peak / 2 else "black"
            axes.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=8)
    axes.set_title(f"{title}\naccuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
