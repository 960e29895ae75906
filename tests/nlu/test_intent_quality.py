"""The shipped intent model on the held-out utterances (written apart from the training
examples, never used for training): in-scope accuracy >= 0.95, off-topic sent to fallback
>= 0.85, ticket ids extracted exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ticketbot.intents import OUT_OF_SCOPE
from ticketbot.nlu.loader import load_intent_model
from ticketbot.nlu.parser import Parser
from ticketbot.nlu.training import collect_rows
from ticketbot.paths import shipped_model
from ticketbot.plugin_manager import get_plugin_manager

EVAL_FILE = Path(__file__).resolve().parent.parent / "data" / "intent_eval.csv"
BUILT_IN_INTENTS = "create_ticket,read_ticket,delete_ticket,entities,fallback"


@pytest.fixture(scope="module")
def held_out():
    with open(EVAL_FILE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 150
    return rows


@pytest.fixture(scope="module")
def parser():
    model, _ = load_intent_model(shipped_model("intent"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TICKETBOT_LOAD_PLUGINS", BUILT_IN_INTENTS)
        plugins = get_plugin_manager()
    return Parser(model, plugins.entity_extractors)


def test_in_scope_accuracy(held_out, parser):
    in_scope = [r for r in held_out if r["intent"] != OUT_OF_SCOPE]
    wrong = [
        (r["text"], r["intent"], parser.parse(r["text"]).intent)
        for r in in_scope
        if parser.parse(r["text"]).intent != r["intent"]
    ]
    accuracy = 1 - len(wrong) / len(in_scope)
    assert accuracy >= 0.95, wrong


def test_off_topic_goes_to_fallback(held_out, parser):
    off_topic = [r for r in held_out if r["intent"] == OUT_OF_SCOPE]
    acted = [
        (r["text"], parser.parse(r["text"]).intent)
        for r in off_topic
        if parser.parse(r["text"]).intent != OUT_OF_SCOPE
    ]
    assert 1 - len(acted) / len(off_topic) >= 0.85, acted


def test_ticket_ids_are_extracted_exactly(held_out, parser):
    for row in held_out:
        expected = int(row["ticket_id"]) if row["ticket_id"] else None
        assert parser.parse(row["text"]).entities.get("ticket_id") == expected, row["text"]


def test_held_out_set_is_not_in_the_training_data(held_out):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TICKETBOT_LOAD_PLUGINS", BUILT_IN_INTENTS)
        training = {r.text.casefold() for r in collect_rows(get_plugin_manager().intents)}
    assert not [r["text"] for r in held_out if r["text"].casefold() in training]
