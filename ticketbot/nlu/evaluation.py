"""Measuring the understanding of lines the way the bot uses it (fallback included).

One function gives every figure the targets are set on, so that ``ticketbot eval intent``,
the test suite and the benchmarks report the same numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ticketbot.intents import OUT_OF_SCOPE

DESTRUCTIVE_INTENT = "delete_ticket"


def read_utterances(path: str | Path) -> list[dict[str, str]]:
    """The rows of an evaluation CSV (``text,intent`` and optionally ``ticket_id``,
    ``language``, ``category``)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return [row for row in csv.DictReader(handle) if (row.get("text") or "").strip()]


def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def intent_figures(
    parser: Any, rows: Sequence[Mapping[str, str]], intent_column: str = "intent"
) -> dict[str, Any]:
    """Parse every row as the bot would and measure:

    - ``in_scope_accuracy``: lines of an intent understood as that intent (a fallback counts
      as wrong), overall and ``per_intent``;
    - ``out_of_scope_fallback``: off-topic lines sent to the fallback;
    - ``ticket_ids``: lines whose ``ticket_id`` entity is exactly the expected one (none when
      none is expected), and ``spurious_ids``: lines given a ticket id they do not name;
    - ``non_delete_as_delete``: the share of lines that are not deletions but are understood
      as ``delete_ticket`` (the one destructive intent);
    - ``language``: lines whose detected language is the expected one;
    - ``per_category``: accuracy per ``category`` value, when the file has one.
    ``errors`` lists ``(text, expected, understood)`` for the lines understood wrongly, and
    ``predicted`` the intent understood for each row, in order.
    """
    per_intent: dict[str, list[int]] = {}
    per_category: dict[str, list[int]] = {}
    ids = spurious = id_rows = language = language_rows = 0
    delete_wrong = non_delete = 0
    errors, predicted = [], []
    for row in rows:
        expected = row[intent_column]
        parse = parser.parse(row["text"])
        predicted.append(parse.intent)
        right = parse.intent == expected
        tally = per_intent.setdefault(expected, [0, 0])
        tally[0] += right
        tally[1] += 1
        if row.get("category"):
            category = per_category.setdefault(row["category"], [0, 0])
            category[0] += right
            category[1] += 1
        if not right:
            errors.append((row["text"], expected, parse.intent))
        if expected != DESTRUCTIVE_INTENT:
            non_delete += 1
            delete_wrong += parse.intent == DESTRUCTIVE_INTENT
        if "ticket_id" in row:
            id_rows += 1
            want = int(row["ticket_id"]) if (row["ticket_id"] or "").strip() else None
            got = parse.entities.get("ticket_id")
            ids += got == want
            spurious += want is None and got is not None
        if row.get("language"):
            language_rows += 1
            language += parse.language == row["language"]
    in_scope = [v for k, v in per_intent.items() if k != OUT_OF_SCOPE]
    off_topic = per_intent.get(OUT_OF_SCOPE, [0, 0])
    return {
        "rows": len(rows),
        "in_scope_accuracy": _ratio(sum(v[0] for v in in_scope), sum(v[1] for v in in_scope)),
        "out_of_scope_fallback": _ratio(*off_topic),
        "per_intent": {k: _ratio(*v) for k, v in sorted(per_intent.items())},
        "per_category": {k: _ratio(*v) for k, v in sorted(per_category.items())},
        "ticket_ids": _ratio(ids, id_rows),
        "spurious_ids": spurious,
        "non_delete_as_delete": _ratio(delete_wrong, non_delete),
        "language": _ratio(language, language_rows),
        "errors": errors,
        "predicted": predicted,
    }
