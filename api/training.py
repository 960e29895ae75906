"""The department classifier's training recipe and bundled data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ticketbot.api import BUNDLED_TICKETS
from ticketbot.ml.training import (
    LARGE_DATA_ROWS,
    FeatureSpec,
    Progress,
    TrainingSpec,
    describe_skipped,
    read_labelled_rows,
    train_and_save,
)

# Word uni/bigrams, character n-grams (typos, French morphology), the ticket's first words
# (its subject line) and, from 5,000 training rows, pairs of words that occur together among
# its first 12 distinct words; weighted 1 / 0.7 / 0.5 / 0.7; a calibrated linear SVM.
# See docs/department-model.md for how each part was chosen.
DEPARTMENT_SPEC = TrainingSpec(
    features=(
        FeatureSpec("word", 1, 2),
        FeatureSpec("char_wb", 2, 5, weight=0.7),
        FeatureSpec("subject", 1, 2, weight=0.5, tokens=8),
        FeatureSpec("pairs", 2, 2, weight=0.7, tokens=12, min_rows=LARGE_DATA_ROWS),
    ),
    model="linear_svm",
    class_weight="balanced",
)


def train_department(
    data: Path | None,
    out: Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train the department classifier on ``data`` (None: the bundled tickets) into ``out``.

    Rows left out of the CSV (no text or label, ragged) are told to ``warn`` with their line
    numbers. Returns the manifest written beside ``out``.
    """
    source = Path(data) if data else BUNDLED_TICKETS
    texts, labels, skipped = read_labelled_rows(source, text_column, label_column)
    if skipped and warn is not None:
        warn(describe_skipped(source, skipped))
    return train_and_save(
        DEPARTMENT_SPEC,
        texts,
        labels,
        Path(out),
        kind="department",
        source=source.name,
        progress=progress,
        review=True,
    )
