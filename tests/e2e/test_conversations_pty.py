"""A sample of the independent scripted conversations typed into the real ``ticketbot shell``
in a pseudo-terminal, each line sent only once the shell waits for input; the outcome is
read back from the shell's own database."""

from __future__ import annotations

from pathlib import Path

import pexpect
import pytest

from tests.support import REPO, spawn_shell
from ticketbot.testing import check_outcome, load_conversations, running_api

pytestmark = pytest.mark.e2e
CONVERSATIONS = load_conversations(
    REPO / "tests" / "data" / "independent" / "conversations_test.json"
)
SAMPLE = CONVERSATIONS[::5]  # 8 of the 40, in both languages
# prompt-toolkit switches bracketed paste on each time it starts reading a line: at the
# prompt and at every question. Waiting for it is waiting for the shell to ask for input.
READING = "\x1b[?2004h"


def _setup(conversation, data_dir: Path) -> list[int]:
    """Create the conversation's existing tickets in the shell's database, with its key."""
    with running_api(data_dir) as api:
        return [
            api.create_ticket(t["title"], t.get("description", ""))["id"]
            for t in conversation.setup
        ]


@pytest.mark.parametrize("conversation", SAMPLE, ids=[c.id for c in SAMPLE])
def test_conversation_in_the_real_shell(conversation, tmp_path: Path):
    data_dir = tmp_path / "data"
    setup_ids = _setup(conversation, data_dir)
    child = spawn_shell(data_dir, tmp_path)
    ended = False
    try:
        for line in conversation.lines:
            if child.expect_exact([READING, pexpect.EOF]) == 1:
                ended = True
                break
            child.sendline(line)
        if not ended:
            ended = child.expect_exact([READING, pexpect.EOF]) == 1
        if not ended:
            child.sendeof()  # the user closes the terminal: not a "quit" of the script
            child.expect(pexpect.EOF)
        transcript = child.before or ""
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "Traceback" not in transcript
    with running_api(data_dir) as api:
        tickets = api.list_tickets(limit=100)["items"]
    assert check_outcome(conversation, setup_ids, tickets, ended) == []
