"""The shipped intent model on the independent utterances (written by people who never saw
the training data; see tests/data/independent/README.md), held to the targets of the
everyday-language issue."""

from __future__ import annotations

import pytest

from tests.support import REPO, built_in_parser
from ticketbot.intents import OUT_OF_SCOPE
from ticketbot.nlu.evaluation import intent_figures, read_utterances

INDEPENDENT = REPO / "tests" / "data" / "independent"


@pytest.fixture(scope="module")
def parser():
    return built_in_parser()[1]


# The lifecycle sets (comment, close, reopen, read scopes, their near misses) came with the
# lifecycle issue, from two more authors.
SETS = {
    "intents_test.csv": 500,
    "intents_dev.csv": 300,
    "intents_lifecycle_test.csv": 300,
    "intents_lifecycle_dev.csv": 150,
}


# Targets not met yet, with the reason (none today: every target is met by the shipped model;
# issue 12). Strict: the day a target is met, the test fails until its line here is removed.
SHORTFALLS: dict[tuple[str, str], str] = {}


def _expect_shortfall(request, check: str) -> None:
    name = request.node.callspec.params["figures"]
    reason = SHORTFALLS.get((check, name))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(scope="module", params=list(SETS))
def figures(request, parser):
    rows = read_utterances(INDEPENDENT / request.param)
    assert len(rows) >= SETS[request.param]
    figures = intent_figures(parser, rows)
    if request.param.endswith("_test.csv"):
        # The test sets stay unseen: a failure shows figures per category, never the lines
        # (tests/data/independent/README.md).
        figures["errors"] = {k: figures["per_category"][k] for k in figures["per_category"]}
    return figures


def test_in_scope_accuracy_overall_and_per_intent(figures, request):
    _expect_shortfall(request, "in_scope")
    assert figures["in_scope_accuracy"] >= 0.96, figures["errors"]
    for intent, accuracy in figures["per_intent"].items():
        if intent != OUT_OF_SCOPE:
            assert accuracy >= 0.93, (intent, figures["errors"])


def test_off_topic_goes_to_fallback(figures):
    assert figures["out_of_scope_fallback"] >= 0.92, figures["errors"]


def test_ticket_ids_found_and_none_made_up(figures, request):
    _expect_shortfall(request, "ids")
    assert figures["ticket_ids"] >= 0.98
    assert figures["spurious_ids"] == 0


def test_at_most_one_line_in_200_taken_for_a_deletion(figures):
    assert figures["non_delete_as_delete"] <= 1 / 200, figures["errors"]


def test_the_sets_are_mostly_french_with_typos_bare_commands_and_near_misses():
    rows = read_utterances(INDEPENDENT / "intents_test.csv")
    assert len(rows) >= 500
    assert sum(r["language"] == "fr" for r in rows) / len(rows) >= 0.6
    categories = {r["category"] for r in rows}
    assert {"typo_sms", "bare_command", "near_miss"} <= categories
