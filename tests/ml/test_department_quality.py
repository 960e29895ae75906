"""The shipped department model on the held-out evaluation file (never used for training)."""

from __future__ import annotations

from ticketbot.api import BUNDLED_TICKETS, HELD_OUT_TICKETS
from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.ml.evaluation import classification_report
from ticketbot.ml.text import normalize
from ticketbot.ml.training import read_labelled_csv
from ticketbot.paths import shipped_model

EVAL_FILE = HELD_OUT_TICKETS


def test_held_out_macro_f1_at_least_085():
    classifier = DepartmentClassifier.load(shipped_model("department"))
    texts, labels = read_labelled_csv(EVAL_FILE)
    assert len(texts) >= 200
    report = classification_report(labels, [classifier.model.predict(t) for t in texts])
    assert report["macro_f1"] >= 0.85, report


def _trigrams(text: str) -> set[str]:
    folded = normalize(text)
    return {folded[i : i + 3] for i in range(len(folded) - 2)}


def test_evaluation_file_has_no_near_duplicate_of_training_data():
    train_texts, _ = read_labelled_csv(BUNDLED_TICKETS)
    eval_texts, _ = read_labelled_csv(EVAL_FILE)
    training = [_trigrams(t) for t in train_texts]
    for text in eval_texts:
        grams = _trigrams(text)
        closest = max(len(grams & other) / len(grams | other) for other in training)
        assert closest < 0.7, text
