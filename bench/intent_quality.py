"""Intent understanding: accuracy and fallback on the held-out utterances, parse latency.

Uses the shipped intent model with the built-in plugins on tests/data/intent_eval.csv
(written apart from the training examples). Latency is one `Parser.parse` call (intent,
language, entities) per utterance; throughput parses the whole set repeatedly.

    python -m bench.intent_quality [--no-record]
"""

from __future__ import annotations

import csv
import os
import statistics
import time

from bench.common import BUILT_IN_PLUGINS, REPO, bench_parser, percentile, record


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()
    os.environ["TICKETBOT_LOAD_PLUGINS"] = BUILT_IN_PLUGINS

    from ticketbot.intents import OUT_OF_SCOPE
    from ticketbot.nlu.loader import load_intent_model
    from ticketbot.nlu.parser import Parser
    from ticketbot.paths import shipped_model
    from ticketbot.plugin_manager import get_plugin_manager

    started = time.perf_counter()
    model, manifest = load_intent_model(shipped_model("intent"))
    load_ms = (time.perf_counter() - started) * 1000
    parse = Parser(model, get_plugin_manager().entity_extractors).parse
    with open(REPO / "tests" / "data" / "intent_eval.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    results = [parse(r["text"]) for r in rows]
    in_scope = [(r, p) for r, p in zip(rows, results, strict=True) if r["intent"] != OUT_OF_SCOPE]
    off_topic = [(r, p) for r, p in zip(rows, results, strict=True) if r["intent"] == OUT_OF_SCOPE]
    accuracy = sum(p.intent == r["intent"] for r, p in in_scope) / len(in_scope)
    fallback = sum(p.intent == OUT_OF_SCOPE for _, p in off_topic) / len(off_topic)
    ids = sum(
        p.entities.get("ticket_id") == (int(r["ticket_id"]) if r["ticket_id"] else None)
        for r, p in zip(rows, results, strict=True)
    ) / len(rows)
    language = sum(p.language == r["language"] for r, p in zip(rows, results, strict=True)) / len(
        rows
    )

    latencies = []
    for _ in range(20):
        for r in rows:
            t = time.perf_counter()
            parse(r["text"])
            latencies.append((time.perf_counter() - t) * 1000)
    started = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        for r in rows:
            parse(r["text"])
    throughput = repeats * len(rows) / (time.perf_counter() - started)

    table = (
        "| figure | value |\n| --- | --- |\n"
        f"| held-out utterances | {len(rows)} "
        f"({len(in_scope)} in scope, {len(off_topic)} off-topic) |\n"
        f"| in-scope intent accuracy (goal >= 0.95) | {accuracy:.3f} |\n"
        f"| off-topic sent to fallback (goal >= 0.85) | {fallback:.3f} |\n"
        f"| ticket id extracted exactly | {ids:.3f} |\n"
        f"| language detected right | {language:.3f} |\n"
        f"| fallback threshold (chosen at training) | {manifest['threshold']:.2f} |\n"
        f"| parse latency, one utterance: p50 / p99 | {statistics.median(latencies):.3f} ms / "
        f"{percentile(latencies, 0.99):.3f} ms |\n"
        f"| batch throughput, one thread | {throughput:,.0f} utterances/s |\n"
        f"| model load (verify + unpickle) | {load_ms:.0f} ms |\n"
    )
    print(table)
    if not args.no_record:
        record(
            "Intent understanding",
            "`python -m bench.intent_quality`: shipped intent model, built-in plugins, "
            "`tests/data/intent_eval.csv` (never used for training).\n\n" + table,
        )


if __name__ == "__main__":
    main()
