"""Intent understanding on independent utterances: accuracy, fallback, ticket ids, latency.

Uses the shipped intent model with the built-in plugins, parsing each line as the bot does
(fallback included), on the independent sets of tests/data/independent/ (written by people
who never saw the training data) and on the older held-out file tests/data/intent_eval.csv
(written by the same hands as the training examples, kept as a regression set). Lines of the
independent sets that also appear, word for word, among the training examples are counted
apart. Latency is one `Parser.parse` call (intent, language, entities) per utterance.

    python -m bench.intent_quality [--no-record]
"""

from __future__ import annotations

import os
import statistics
import time

from bench.common import BUILT_IN_PLUGINS, REPO, bench_parser, percentile, record

SETS = {
    "independent test": REPO / "tests" / "data" / "independent" / "intents_test.csv",
    "independent dev": REPO / "tests" / "data" / "independent" / "intents_dev.csv",
    "lifecycle test": REPO / "tests" / "data" / "independent" / "intents_lifecycle_test.csv",
    "lifecycle dev": REPO / "tests" / "data" / "independent" / "intents_lifecycle_dev.csv",
    "numbers dev": REPO / "tests" / "data" / "independent" / "numbers_dev.csv",
    "SMS comments dev": REPO / "tests" / "data" / "independent" / "sms_comments_dev.csv",
    "comment numbers dev": REPO / "tests" / "data" / "independent" / "comment_numbers_dev.csv",
    "lifecycle numbers dev": REPO / "tests" / "data" / "independent" / "lifecycle_numbers_dev.csv",
    "SMS comments, no colon dev": REPO / "tests" / "data" / "independent" / "comments_sms_dev.csv",
    "comment counts dev": REPO / "tests" / "data" / "independent" / "comment_counts_dev.csv",
    "descriptions dev": REPO / "tests" / "data" / "independent" / "descriptions_dev.csv",
    "reports vs chat dev": REPO / "tests" / "data" / "independent" / "reports_vs_chat_dev.csv",
    "regression (written with the training data)": REPO / "tests" / "data" / "intent_eval.csv",
}


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _compare_linear_models(plugins, rows_of) -> str:
    """The shipped recipe (linear SVM) against logistic regression on the same features and
    rows, each with its fallback threshold chosen by the same rule."""
    from dataclasses import replace

    from ticketbot.ml.training import train
    from ticketbot.nlu.model import IntentModel
    from ticketbot.nlu.parser import Parser
    from ticketbot.nlu.training import INTENT_SPEC, choose_threshold, collect_rows

    rows = collect_rows(plugins.intents)
    texts, labels = [r.text for r in rows], [r.label for r in rows]
    recipes = {
        "linear SVM (shipped)": INTENT_SPEC,
        "logistic regression C=10": replace(INTENT_SPEC, model="logistic", C=10.0),
    }
    lines = [
        "| intent model | independent test: in-scope / fallback | independent dev: in-scope / "
        "fallback | fallback threshold | training time (CV included) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    from ticketbot.nlu.evaluation import intent_figures

    for name, spec in recipes.items():
        started = time.perf_counter()
        result = train(spec, texts, labels)
        seconds = time.perf_counter() - started
        threshold, rule = choose_threshold(result.cv)
        parser = Parser.for_plugins(
            IntentModel(result.model, None, threshold, rule["off_topic_ceiling"]), plugins
        )
        cells = []
        for set_name in ("independent test", "independent dev"):
            f = intent_figures(parser, rows_of[set_name])
            cells.append(f"{f['in_scope_accuracy']:.3f} / {f['out_of_scope_fallback']:.3f}")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {threshold:.2f} | {seconds:.1f} s |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()
    os.environ["TICKETBOT_LOAD_PLUGINS"] = BUILT_IN_PLUGINS

    from ticketbot.intents import OUT_OF_SCOPE
    from ticketbot.nlu.evaluation import intent_figures, read_utterances
    from ticketbot.nlu.loader import load_intent_model
    from ticketbot.nlu.parser import Parser
    from ticketbot.nlu.training import collect_rows
    from ticketbot.paths import shipped_model
    from ticketbot.plugin_manager import get_plugin_manager

    started = time.perf_counter()
    model, manifest = load_intent_model(shipped_model("intent"))
    load_ms = (time.perf_counter() - started) * 1000
    plugins = get_plugin_manager()
    parse = Parser.for_plugins(model, plugins)
    training = {row.text.strip().casefold() for row in collect_rows(plugins.intents)}

    rows_of = {name: read_utterances(path) for name, path in SETS.items()}
    test = rows_of["independent test"]
    unseen = [r for r in test if r["text"].strip().casefold() not in training]
    rows_of["independent test, lines not in the training data"] = unseen
    lifecycle = rows_of["lifecycle test"]
    lifecycle_unseen = [r for r in lifecycle if r["text"].strip().casefold() not in training]
    rows_of["lifecycle test, lines not in the training data"] = lifecycle_unseen
    figures = {name: intent_figures(parse, rows) for name, rows in rows_of.items()}

    lines = [
        "| set | lines | in-scope accuracy (goal >= 0.96) | weakest intent (goal >= 0.93) "
        "| off-topic sent to fallback (goal >= 0.92) | ticket ids exact (goal >= 0.98) "
        "| spurious ids (goal 0) | other lines taken for a deletion (goal <= 0.005) "
        "| language right |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, f in figures.items():
        in_scope = {k: v for k, v in f["per_intent"].items() if k != OUT_OF_SCOPE}
        weakest = min(in_scope, key=in_scope.get)
        lines.append(
            f"| {name} | {f['rows']} | {_cell(f['in_scope_accuracy'])} "
            f"| {weakest} {_cell(in_scope[weakest])} | {_cell(f['out_of_scope_fallback'])} "
            f"| {_cell(f['ticket_ids'])} | {f['spurious_ids']} "
            f"| {_cell(f['non_delete_as_delete'])} | {_cell(f['language'])} |"
        )
    per_intent = figures["independent test"]["per_intent"]
    categories = figures["independent test"]["per_category"]
    detail = (
        "Independent test set, per intent: "
        + ", ".join(f"{k} {v:.3f}" for k, v in per_intent.items())
        + ". Per kind of line: "
        + ", ".join(f"{k} {v:.3f}" for k, v in categories.items())
        + f". {len(test) - len(unseen)} of its {len(test)} lines also appear word for word "
        "among the training examples (short everyday lines written independently by both "
        'sides, such as "nouveau ticket" or "merci"): the "lines not in the training data" '
        f"row leaves them out ({len(lifecycle) - len(lifecycle_unseen)} of the "
        f"{len(lifecycle)} lifecycle test lines)."
    )

    every_line = [r["text"] for rows in rows_of.values() for r in rows]
    latencies = []
    for _ in range(5):
        for text in every_line:
            t = time.perf_counter()
            parse.parse(text)
            latencies.append((time.perf_counter() - t) * 1000)
    started = time.perf_counter()
    for text in every_line * 3:
        parse.parse(text)
    throughput = 3 * len(every_line) / (time.perf_counter() - started)
    speed = (
        "| figure | value |\n| --- | --- |\n"
        f"| fallback threshold (chosen at training) | {manifest['threshold']:.2f} |\n"
        f"| training examples | {manifest['data']['rows']:,} |\n"
        f"| parse latency, one utterance: p50 / p99 (goal p99 < 1 ms) | "
        f"{statistics.median(latencies):.3f} ms / {percentile(latencies, 0.99):.3f} ms |\n"
        f"| batch throughput, one thread | {throughput:,.0f} utterances/s |\n"
        f"| model load (verify, read, check) | {load_ms:.0f} ms |\n"
    )
    comparison = _compare_linear_models(plugins, rows_of)
    body = "\n".join(lines) + "\n\n" + detail + "\n\n" + speed + "\n" + comparison
    print(body)
    if not args.no_record:
        record(
            "Intent understanding",
            "`python -m bench.intent_quality`: shipped intent model, built-in plugins, each "
            "line parsed as the bot does (fallback included). The independent sets were "
            "written by people who saw only a description of the intents "
            "(tests/data/independent/README.md); none of their lines is used for training.\n\n"
            + body,
        )


if __name__ == "__main__":
    main()
