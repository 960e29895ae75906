"""The compiled model predicts exactly what the scikit-learn pipeline it came from predicts."""

from __future__ import annotations

import numpy as np
import pytest

from ticketbot.ml.text import Analyzer, normalize
from ticketbot.ml.training import (
    FeatureSpec,
    TrainingDataError,
    TrainingSpec,
    _scores,
    build_classifier,
    build_vectorizer,
    compile_model,
    train,
)

TEXTS = [
    "Mon écran ne s'allume plus",
    "VPN down again",
    "imprimante bloquée",
    "reset my password",
    "Congé maternité : quels documents ?",
    "payslip missing",
    "attestation employeur",
    "mutuelle : ajout de mon conjoint",
    "note de frais refusée",
    "supplier invoice overdue",
    "remboursement du train",
    "budget 2027 du service",
    "chauffage en panne",
    "broken chair",
    "badge qui ne marche pas",
    "light flickering in room 2",
    "relire le contrat fournisseur",
    "NDA for the new partner",
    "demande RGPD d'un client",
    "trademark registration question",
]
LABELS = ["IT"] * 4 + ["HR"] * 4 + ["Finance"] * 4 + ["Facilities"] * 4 + ["Legal"] * 4
SPEC = TrainingSpec(
    (
        FeatureSpec("word", 1, 2),
        FeatureSpec("char_wb", 2, 4, weight=0.7),
        FeatureSpec("subject", 1, 1, weight=0.5, tokens=2),
        FeatureSpec("pairs", 2, 2, weight=0.6, tokens=4),
    ),
    cv_folds=2,
)


def test_normalize_folds_case_accents_numbers_and_repeats():
    assert normalize("  ÉCRAN   Noir n°1234 stppp ") == "ecran noir n°0 stpp"


def test_char_analyzer_pads_words_and_keeps_short_words_once():
    analyzer = Analyzer("char_wb", 2, 3)
    assert analyzer("ab") == [" a", "ab", "b ", " ab", "ab "]
    assert analyzer("a") == [" a", "a ", " a "]


def test_word_analyzer_builds_ngrams():
    assert Analyzer("word", 1, 2)("Ticket #12 bloqué") == [
        "ticket",
        "#",
        "bloque",
        "ticket #",
        "# bloque",
    ]


def test_pairs_analyzer_combines_the_first_distinct_words_in_any_order():
    analyzer = Analyzer("pairs", 2, 2, tokens=3)
    assert analyzer("VPN down, vpn DOWN again now") == ["again|down", "again|vpn", "down|vpn"]
    assert analyzer("down vpn") == analyzer("vpn down") == ["down|vpn"]
    assert analyzer("seul") == []
    with pytest.raises(ValueError, match="at least 2 words"):
        Analyzer("pairs", 1, 2)


def test_a_block_is_left_out_below_its_min_rows():
    from dataclasses import replace

    small = replace(SPEC, features=(*SPEC.features, FeatureSpec("word", 3, 3, min_rows=21)))
    names = [name for name, _ in build_vectorizer(small, len(TEXTS)).transformer_list]
    assert len(names) == len(SPEC.features)
    assert len(build_vectorizer(small, 21).transformer_list) == len(SPEC.features) + 1


@pytest.mark.parametrize("cache_size", [1 << 16, 3])
def test_word_cache_changes_no_prediction_and_is_not_saved(cache_size, monkeypatch):
    from ticketbot.ml import codec, linear
    from ticketbot.ml.store import model_state

    monkeypatch.setattr(linear, "WORD_CACHE_SIZE", cache_size)
    model = train(SPEC, TEXTS, LABELS).model
    saved = codec.dumps(model_state(model))
    cold = model.predict_proba_many(TEXTS)
    sizes = [len(block._word_columns) for block in model.blocks]
    assert 0 < max(sizes) <= cache_size  # filled up, and bounded
    np.testing.assert_array_equal(model.predict_proba_many(TEXTS), cold)
    assert codec.dumps(model_state(model)) == saved
    reloaded = linear.classifier_from_state(codec.Schema(codec.loads(saved), "model"))
    np.testing.assert_array_equal(reloaded.predict_proba_many(TEXTS), cold)


def reference_and_compiled(spec: TrainingSpec, labels: list[str]):
    """scikit-learn's own probabilities, and the compiled model's, for the same fitted parts."""
    from sklearn.linear_model import LogisticRegression

    vectorizer = build_vectorizer(spec, len(TEXTS))
    features = vectorizer.fit_transform(TEXTS)
    classifier = build_classifier(spec, len(TEXTS)).fit(features, labels)
    calibrator = LogisticRegression().fit(_scores(classifier, features), labels)
    probes = TEXTS + ["quelque chose de nouveau", "", "🙂", "écran écran écran"]
    expected = calibrator.predict_proba(_scores(classifier, vectorizer.transform(probes)))
    compiled = compile_model(vectorizer, classifier, calibrator)
    assert compiled.classes == list(classifier.classes_)
    return expected, compiled.predict_proba_many(probes)


@pytest.mark.parametrize("model", ["linear_svm", "logistic"])
def test_compiled_model_equals_scikit_learn(model):
    from dataclasses import replace

    expected, actual = reference_and_compiled(replace(SPEC, model=model), LABELS)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_binary_model_compiles():
    expected, actual = reference_and_compiled(SPEC, ["IT"] * 10 + ["other"] * 10)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_train_reports_cross_validation():
    result = train(SPEC, TEXTS, LABELS)
    assert result.cv.folds == 2
    assert 0 <= result.cv.accuracy <= 1
    assert result.rows == 20
    assert result.label_counts["IT"] == 4
    assert result.model.rank("écran noir", top=3)[0][0] in set(LABELS)


@pytest.mark.parametrize(
    ("labels", "message"),
    [(["IT"] * 20, "at least 2 different labels"), (["IT"] * 19 + ["HR"], "too few for: HR")],
)
def test_unusable_label_sets_are_refused(labels, message):
    with pytest.raises(TrainingDataError, match=message):
        train(SPEC, TEXTS, labels)


def test_training_cache_holds_every_row_then_gives_the_small_cache_back():
    from ticketbot.ml import text

    with pytest.raises(RuntimeError), text.training_cache(5000):
        assert text._normalize.cache_info().maxsize == 5000
        assert Analyzer("word", 1, 1)("Écran NOIR") == ["ecran", "noir"]
        assert text._normalize.cache_info().currsize == 1
        raise RuntimeError("training failed")
    assert text._normalize is text.normalize
    assert text.normalize.cache_info().maxsize == 1024
