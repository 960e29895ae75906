"""The independent scripted conversations (tests/data/independent/) played through the
Python channel against a real API (HTTP, SQLite file) each, checked in the database: tickets
created with the right department and text, deletions only after a clear yes, nothing
created after a cancel."""

from __future__ import annotations

import pytest

from tests.support import REPO, built_in_parser
from ticketbot.testing import load_conversations, run_conversation

INDEPENDENT = REPO / "tests" / "data" / "independent"


@pytest.fixture(scope="module")
def bot_parts():
    return built_in_parser()


@pytest.fixture(scope="module", params=["conversations_test.json", "conversations_dev.json"])
def outcomes(request, bot_parts, tmp_path_factory):
    plugins, parser = bot_parts
    conversations = load_conversations(INDEPENDENT / request.param)
    return [
        run_conversation(c, plugins, parser, tmp_path_factory.mktemp(c.id)) for c in conversations
    ]


def test_task_success_at_least_95_percent(outcomes):
    # Only the ids of failed conversations: the test set's lines stay unseen.
    failed = [o.conversation.id for o in outcomes if not o.ok]
    assert (len(outcomes) - len(failed)) / len(outcomes) >= 0.95, failed


def test_no_ticket_deleted_without_consent(outcomes):
    deleted_without_consent = [
        o.conversation.id
        for o in outcomes
        if o.deleted - set(o.conversation.expect.get("deleted", []))
    ]
    assert deleted_without_consent == []
