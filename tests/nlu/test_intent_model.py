"""The intent model: parse output, manifest, integrity check, retraining when intents change."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support import FAKE_INTENT_PLUGIN, install_fake_plugin
from ticketbot.ml.store import ModelError
from ticketbot.ml.training import CrossValidation
from ticketbot.nlu.loader import load_intent_model, resolve_intent_model, user_models_dir
from ticketbot.nlu.parser import Parser
from ticketbot.nlu.training import choose_threshold
from ticketbot.paths import shipped_model
from ticketbot.plugin_manager import get_plugin_manager


def test_shipped_manifest():
    manifest = json.loads(shipped_model("intent").with_suffix(".json").read_text())
    assert manifest["kind"] == "intent"
    assert manifest["intents"] == {
        "close_ticket": "close_ticket",
        "comment_ticket": "comment_ticket",
        "create_ticket": "create_ticket",
        "delete_ticket": "delete_ticket",
        "out_of_scope": "ticketbot",
        "read_ticket": "read_ticket",
        "reopen_ticket": "reopen_ticket",
    }
    assert 0 < manifest["threshold"] < 1 and 0 <= manifest["off_topic_ceiling"] < 1
    assert manifest["cv"]["folds"] == 5 and manifest["cv"]["macro_f1"] > 0.5
    assert len(manifest["data"]["sha256"]) == 64 and manifest["trained_with"]["scikit-learn"]


def test_shipped_model_matches_the_built_in_plugins(monkeypatch):
    monkeypatch.setenv("TICKETBOT_LOAD_PLUGINS", "-ticketbot_stats")
    choice = resolve_intent_model(get_plugin_manager().intents)
    assert choice.path == shipped_model("intent") and not choice.retrained


def test_parse_output(monkeypatch):
    plugins = get_plugin_manager()
    model, _ = load_intent_model(shipped_model("intent"))
    parsed = Parser.for_plugins(model, plugins).parse("supprime le ticket 123").to_dict()
    assert parsed["intent"] == "delete_ticket"
    assert parsed["entities"] == {"ticket_id": 123}
    assert parsed["language"] == "fr"
    assert len(parsed["ranking"]) == 3 and parsed["ranking"][0]["intent"] == "delete_ticket"
    english = Parser.for_plugins(model, plugins).parse("show ticket 42").to_dict()
    assert (english["intent"], english["language"], english["entities"]) == (
        "read_ticket",
        "en",
        {"ticket_id": 42},
    )


def test_low_confidence_falls_back_but_keeps_the_ranking():
    plugins = get_plugin_manager()
    model, _ = load_intent_model(shipped_model("intent"))
    parser = Parser.for_plugins(model, plugins)
    model.threshold, model.off_topic_ceiling = 1.01, 0.0
    parsed = parser.parse("supprime le ticket 123")
    assert parsed.intent == "out_of_scope"
    assert parsed.ranking[0][0] == "delete_ticket"


def test_threshold_balances_in_scope_and_fallback():
    import numpy as np

    labels = ["a", "b", "out_of_scope"]
    # Confident right answers for in-scope lines; off-topic lines that look like "a" at 0.4.
    probabilities = np.array(
        [[0.9, 0.05, 0.05]] * 4 + [[0.05, 0.9, 0.05]] * 4 + [[0.4, 0.3, 0.3]] * 4
    )
    truth = ["a"] * 4 + ["b"] * 4 + ["out_of_scope"] * 4
    cv = CrossValidation(3, labels, truth, [], 0.0, 0.0, probabilities)
    threshold, figures = choose_threshold(cv)
    assert 0.4 < threshold <= 0.9
    assert figures == {
        "in_scope_accuracy": 1.0,
        "out_of_scope_fallback": 1.0,
        "off_topic_ceiling": 0.0,  # the threshold alone does it: no second rule
    }


def test_a_line_clearly_on_topic_is_acted_on_even_when_two_intents_share_it():
    """In-scope lines split between two intents (0.5 / 0.45) that the threshold alone would
    send to fallback, beside off-topic lines at 0.6: the ceiling on the off-topic
    probability accepts the first without accepting the second."""
    import numpy as np

    labels = ["a", "b", "out_of_scope"]
    probabilities = np.array(
        [[0.9, 0.05, 0.05]] * 4
        + [[0.5, 0.45, 0.05]] * 4
        + [[0.6, 0.1, 0.3]] * 4
        + [[0.05, 0.05, 0.9]] * 4
    )
    truth = ["a"] * 8 + ["out_of_scope"] * 8
    cv = CrossValidation(3, labels, truth, [], 0.0, 0.0, probabilities)
    threshold, figures = choose_threshold(cv)
    assert threshold > 0.6
    assert 0.05 <= figures["off_topic_ceiling"] < 0.3
    assert (figures["in_scope_accuracy"], figures["out_of_scope_fallback"]) == (1.0, 1.0)


def test_tampered_intent_model_is_refused(tmp_path):
    copy = tmp_path / "intent.pkl"
    shutil.copy(shipped_model("intent"), copy)
    shutil.copy(shipped_model("intent").with_suffix(".json"), tmp_path / "intent.json")
    copy.write_bytes(copy.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="SHA-256.*ticketbot train intent"):
        load_intent_model(copy)


def test_new_intents_retrain_into_the_user_directory_and_back(fake_site, monkeypatch):
    shipped_bytes = shipped_model("intent").read_bytes()
    install_fake_plugin(fake_site, "fake_weather", FAKE_INTENT_PLUGIN.format(name="office_weather"))
    first = resolve_intent_model(get_plugin_manager().intents)
    assert first.retrained and first.added == ("office_weather",)
    assert first.path.parent == user_models_dir()
    assert "office_weather" in first.manifest["labels"]
    assert "+office_weather" in first.notice() and "\n" not in first.notice()
    again = resolve_intent_model(get_plugin_manager().intents)
    assert not again.retrained and again.path == first.path
    monkeypatch.setenv("TICKETBOT_LOAD_PLUGINS", "-fake_weather,-ticketbot_stats")
    back = resolve_intent_model(get_plugin_manager().intents)
    assert back.path == shipped_model("intent") and not back.retrained
    monkeypatch.setenv("TICKETBOT_LOAD_PLUGINS", "-read_ticket,-ticketbot_stats")
    fewer = resolve_intent_model(get_plugin_manager().intents)
    assert fewer.retrained and fewer.removed == ("read_ticket",)
    assert "read_ticket" not in fewer.manifest["labels"]
    assert shipped_model("intent").read_bytes() == shipped_bytes


def test_no_intents_means_everything_falls_back(monkeypatch):
    monkeypatch.setenv("TICKETBOT_LOAD_PLUGINS", "entities")
    plugins = get_plugin_manager()
    choice = resolve_intent_model(plugins.intents)
    assert (
        Parser.for_plugins(choice.model, plugins).parse("supprime le ticket 3").intent
        == "out_of_scope"
    )


def test_tampered_shipped_model_is_refused_and_replaced(tmp_path, monkeypatch):
    from ticketbot import trained_models

    shipped = tmp_path / "models"
    shipped.mkdir()
    for name in ("intent.pkl", "intent.json"):
        shutil.copy(trained_models.MODELS_DIR / name, shipped / name)
    (shipped / "intent.pkl").write_bytes((shipped / "intent.pkl").read_bytes() + b"!")
    monkeypatch.setattr(trained_models, "MODELS_DIR", shipped)
    monkeypatch.setenv("TICKETBOT_DATA_DIR", str(tmp_path / "data"))
    choice = resolve_intent_model(get_plugin_manager().intents)
    assert choice.retrained and choice.path.parent == tmp_path / "data" / "models"
    assert "SHA-256" in choice.notice() and "model refused" in choice.notice()
