"""The shipped department model on the independent tickets (written by people who never saw
the training data; see tests/data/independent/README.md)."""

from __future__ import annotations

import csv

import pytest

from tests.support import REPO
from ticketbot.api.classifier import DepartmentClassifier, review_figures
from ticketbot.paths import shipped_model

INDEPENDENT = REPO / "tests" / "data" / "independent"


@pytest.fixture(scope="module")
def classifier():
    return DepartmentClassifier.load(shipped_model("department"))


@pytest.fixture(scope="module", params=["departments_test.csv", "departments_dev.csv"])
def routed(request, classifier):
    with open(INDEPENDENT / request.param, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return rows, [classifier.route(row["text"]) for row in rows]


def test_accuracy_overall_and_on_short_tickets(routed):
    rows, routings = routed
    right = [r.department == row["label"] for row, r in zip(rows, routings, strict=True)]
    short = [ok for ok, row in zip(right, rows, strict=True) if len(row["text"].split()) <= 6]
    assert sum(right) / len(right) >= 0.97
    assert len(short) >= 80 and sum(short) / len(short) >= 0.95


def test_needs_review_catches_the_errors_without_flagging_everything(routed, classifier):
    rows, routings = routed
    figures = review_figures(routings, [row["label"] for row in rows], classifier.review_threshold)
    assert figures["errors_flagged"] >= 0.8, figures
    assert figures["flagged"] <= 0.15, figures


def test_test_set_has_80_tickets_per_department_and_30_percent_short():
    with open(INDEPENDENT / "departments_test.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = {row["label"] for row in rows}
    assert all(sum(row["label"] == label for row in rows) == 80 for label in labels)
    assert len(labels) == 5
    assert sum(2 <= len(row["text"].split()) <= 6 for row in rows) / len(rows) >= 0.3
