"""Task success of scripted conversations, checked in the database.

Plays every conversation of tests/data/independent/conversations_*.json (written by people
who never saw the training data, each with the outcome it must leave) through the bot's
Python channel, each against a fresh real API (HTTP, SQLite file), with the shipped models
and the built-in plugins, like ``ticketbot eval conversations``. A conversation succeeds when
the tickets it created (department and words), deleted and kept, and whether the user left,
are exactly the expected ones.

    python -m bench.conversations [--no-record]
"""

from __future__ import annotations

import os
import tempfile
import time

from bench.common import BUILT_IN_PLUGINS, REPO, bench_parser, record

SETS = {
    "independent test": REPO / "tests" / "data" / "independent" / "conversations_test.json",
    "independent dev": REPO / "tests" / "data" / "independent" / "conversations_dev.json",
}


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()
    os.environ["TICKETBOT_LOAD_PLUGINS"] = BUILT_IN_PLUGINS
    os.environ["TICKETBOT_DATA_DIR"] = tempfile.mkdtemp(prefix="ticketbot-bench-")

    from ticketbot.nlu.loader import load_intent_model
    from ticketbot.nlu.parser import Parser
    from ticketbot.paths import shipped_model
    from ticketbot.plugin_manager import get_plugin_manager
    from ticketbot.testing import load_conversations, run_conversation

    model, _ = load_intent_model(shipped_model("intent"))
    plugins = get_plugin_manager()
    parse = Parser.for_plugins(model, plugins)
    lines = [
        "| set | conversations | task success (goal >= 0.95) | deletions without consent "
        "(goal 0) | seconds per conversation |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, path in SETS.items():
        conversations = load_conversations(path)
        started = time.perf_counter()
        outcomes = [run_conversation(c, plugins, parse) for c in conversations]
        seconds = (time.perf_counter() - started) / len(outcomes)
        succeeded = sum(o.ok for o in outcomes)
        unwanted = sum(
            bool(o.deleted - set(o.conversation.expect.get("deleted", []))) for o in outcomes
        )
        lines.append(
            f"| {name} | {len(outcomes)} | {succeeded / len(outcomes):.3f} ({succeeded}) "
            f"| {unwanted} | {seconds:.2f} |"
        )
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        record(
            "Scripted conversations",
            "`python -m bench.conversations`: every independent scripted conversation played "
            "through the bot's Python channel against a fresh real API, outcome checked in the "
            "database (tickets created with the expected department and words, deleted, kept; "
            "whether the user left). `make test` plays the same conversations, and 8 of the "
            "test set typed into the real `ticketbot shell` in a pseudo-terminal.\n\n" + body,
        )


if __name__ == "__main__":
    main()
