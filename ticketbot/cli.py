"""The ``ticketbot`` command line.

Every sub-command imports what it needs when it runs, so ``ticketbot --help`` and the shell
start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ticketbot

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
DEPARTMENT_MODEL_HELP = (
    "department model file (default: TICKETBOT_DEPARTMENT_MODEL, else the shipped one)"
)
INTENT_MODEL_HELP = (
    "intent model file (default: TICKETBOT_INTENT_MODEL, else the one matching the installed "
    "plugins)"
)


class CommandError(Exception):
    """A command failed for a reason the user can fix; printed without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ticketbot`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args) or EXIT_OK
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - known errors get one clear line, see _explain
        message = _explain(error)
        if message is None:
            raise
        print(f"ticketbot: error: {message}", file=sys.stderr)
        return EXIT_ERROR


def _explain(error: Exception) -> str | None:
    """The message for errors a user can act on; None for bugs (shown with a traceback)."""
    from ticketbot.ml.store import ModelError
    from ticketbot.ml.training import TrainingDataError

    known: tuple[type[Exception], ...] = (CommandError, ModelError, TrainingDataError)
    try:
        from ticketbot.server import ServeError

        known += (ServeError,)
    except ImportError:
        pass
    if isinstance(error, known):
        return str(error)
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return None


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="ticketbot",
        description="Help-desk chatbot: a ticket API with department routing, and a "
        "French/English console bot.",
    )
    parser.add_argument("--version", action="version", version=f"ticketbot {ticketbot.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in (
        _add_shell,
        _add_web,
        _add_serve,
        _add_train,
        _add_classify,
        _add_parse,
        _add_eval,
        _add_plugins,
        _add_models,
        _add_keys,
        _add_db,
        _add_report,
        _add_import,
    ):
        add(commands)
    return parser


def _add_import(commands: Any) -> None:
    from ticketbot.learning_cli import add_import

    add_import(commands)


def _add_report(commands: Any) -> None:
    from ticketbot.learning_cli import add_report

    add_report(commands)


# -- serve -----------------------------------------------------------------------------------


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the ticket API",
        description="Run the ticket API with uvicorn. Settings also come from TICKETBOT_* "
        "environment variables (TICKETBOT_DATABASE_URL, TICKETBOT_REVIEW_THRESHOLD, ...).",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument("--port", type=_port, default=8000, help="port (default: %(default)s)")
    serve.add_argument(
        "--workers", type=_positive_int, default=1, help="worker processes (default: %(default)s)"
    )
    serve.add_argument(
        "--database-url",
        help="sqlite:///path/file.db or postgresql://user@host:5432/db "
        "(default: TICKETBOT_DATABASE_URL, else a SQLite file in your data directory)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from ticketbot.server import serve

    settings = _api_settings(database_url=args.database_url)
    serve(settings, args.host, args.port, args.workers, args.log_level)
    return EXIT_OK


def _api_settings(**overrides: Any) -> Any:
    from pydantic import ValidationError

    from ticketbot.api.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
        )
        raise CommandError(f"invalid settings: {problems}") from None


# -- train -----------------------------------------------------------------------------------


def _add_train(commands: Any) -> None:
    train = commands.add_parser("train", help="train a model", description="Train a model.")
    models = train.add_subparsers(title="models", metavar="MODEL")
    department = models.add_parser(
        "department",
        help="train the department classifier",
        description="Train the department classifier: on the bundled tickets, or with --data on "
        "any CSV and any label set (for example your company's own ticket history). The model "
        "goes to your data directory unless --out says where; point the API at it with "
        "TICKETBOT_DEPARTMENT_MODEL. The shipped model is never overwritten.",
    )
    department.add_argument(
        "--data", type=Path, help="CSV with a header (default: the bundled tickets)"
    )
    department.add_argument(
        "--text-column", default="text", help="column holding the text (default: %(default)s)"
    )
    department.add_argument(
        "--label-column",
        default="label",
        help="column holding the department (default: %(default)s)",
    )
    department.add_argument(
        "--out",
        type=Path,
        help="model file to write (default: models/department.pkl in your data directory)",
    )
    department.add_argument(
        "--from-database",
        action="store_true",
        help="also learn from the API's database: tickets whose department an agent "
        "corrected (the correction wins over older labels of the same text); the new version "
        "is stored in the database's model registry (see `ticketbot models`), compared with "
        "the active model on a held-out slice",
    )
    department.add_argument(
        "--database-url",
        help="with --from-database: the API's database (default: TICKETBOT_DATABASE_URL, "
        "else the SQLite file in your data directory)",
    )
    department.add_argument(
        "--include-confirmed",
        action="store_true",
        help="with --from-database: also learn from tickets resolved or closed without a "
        "department change (recorded in the manifest)",
    )
    department.add_argument(
        "--json", action="store_true", help="with --from-database: print the new manifest"
    )
    department.set_defaults(handler=_run_train_department)
    intent = models.add_parser(
        "intent",
        help="train the intent model",
        description="Train the intent model on the examples of every registered plugin, the "
        "built-in off-topic sentences, and the extra text,label rows of --data if given: "
        "new labels become new intents (lowercase snake_case names, like plugin intents), "
        "and rows labelled out_of_scope join the off-topic sentences. Without --out the model "
        "goes to your data directory, where `ticketbot shell` and `ticketbot parse` find it.",
    )
    intent.add_argument("--data", type=Path, help="CSV of extra examples (columns text,label)")
    intent.add_argument("--text-column", default="text", help="(default: %(default)s)")
    intent.add_argument("--label-column", default="label", help="(default: %(default)s)")
    intent.add_argument("--out", type=Path, help="model file to write")
    intent.set_defaults(handler=_run_train_intent)
    train.set_defaults(handler=lambda args: _usage(train))


def _run_train_department(args: argparse.Namespace) -> int:
    from ticketbot.api.training import train_department
    from ticketbot.paths import data_dir

    if args.from_database:
        if args.out:
            raise CommandError(
                "--from-database stores the new version in the database's model registry; "
                "leave out --out"
            )
        from ticketbot.learning_cli import run_train_from_database

        return run_train_from_database(args)
    for option in ("database_url", "include_confirmed", "json"):
        if getattr(args, option):
            flag = "--" + option.replace("_", "-")
            raise CommandError(f"{flag} goes with --from-database")

    # Never into the installed package: a retrained model goes to the data directory
    # unless --out says where (`make models` rebuilds the repository's own file).
    out = args.out or data_dir() / "models" / "department.pkl"
    with _progress() as progress:
        manifest = train_department(
            args.data,
            out,
            text_column=args.text_column,
            label_column=args.label_column,
            progress=progress,
            warn=_warn,
        )
    _print_training_summary(manifest, out, env_var="TICKETBOT_DEPARTMENT_MODEL")
    return EXIT_OK


def _run_train_intent(args: argparse.Namespace) -> int:
    from ticketbot.nlu.loader import user_model_path
    from ticketbot.nlu.training import collect_rows, extra_rows_from_csv, train_intent_model

    plugins = _load_plugins()
    extra = (
        extra_rows_from_csv(args.data, args.text_column, args.label_column, warn=_warn)
        if args.data
        else []
    )
    rows = collect_rows(plugins.intents, extra)
    out = args.out or user_model_path(rows)
    source = f"registered plugins + {args.data.name}" if args.data else "registered plugins"
    with _progress() as progress:
        manifest = train_intent_model(rows, out, source=source, progress=progress)
    _print_training_summary(manifest, out, env_var="TICKETBOT_INTENT_MODEL")
    cv = manifest["cv"]
    print(
        f"  fallback threshold {manifest['threshold']:.2f}: in-scope accuracy "
        f"{cv['in_scope_accuracy']:.4f}, off-topic sent to fallback "
        f"{cv['out_of_scope_fallback']:.4f}"
    )
    print(f"  intents: {', '.join(n for n in manifest['labels'] if n != 'out_of_scope')}")
    if args.data:
        print(f'  parse with it: ticketbot parse --model {out} "TEXT"')
    return EXIT_OK


def _warn(message: str) -> None:
    print(f"ticketbot: warning: {message}", file=sys.stderr)


def _load_plugins() -> Any:
    """The plugin manager, with one warning line per plugin that failed to load."""
    from ticketbot.plugin_manager import get_plugin_manager

    plugins = get_plugin_manager()
    plugins.intents  # noqa: B018 - registers intents now, so their problems are reported too
    for problem in plugins.problems:
        print(f"ticketbot: warning: {problem}", file=sys.stderr)
    return plugins


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """Yields a ``progress(step, done, total)`` callback shown as a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    display = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = display.add_task("training", total=None)

    def progress(step: str, done: int, total: int) -> None:
        display.update(task, description=step, completed=done, total=total)

    with display:
        yield progress


def _print_training_summary(manifest: dict[str, Any], out: Path | None, env_var: str) -> None:
    from ticketbot.paths import shipped_model

    cv = manifest.get("cv") or {}
    data = manifest["data"]
    path = out or shipped_model(manifest["kind"])
    print(f"trained {manifest['kind']} model {manifest['version']}")
    print(f"  data: {data['source']} ({data['rows']} rows, {len(manifest['labels'])} labels)")
    if cv:
        print(
            f"  {cv['folds']}-fold cross-validation: accuracy {cv['accuracy']:.4f}, "
            f"macro-F1 {cv['macro_f1']:.4f}"
        )
    print(f"  training: {manifest['fit_seconds']:.1f} s, {manifest['features']} features")
    print(f"  saved to {path} (+ {Path(path).with_suffix('.json').name})")
    if out is not None and Path(out).resolve() != shipped_model(manifest["kind"]).resolve():
        print(f"  use it with: {env_var}={path}")


# -- classify --------------------------------------------------------------------------------


def _add_classify(commands: Any) -> None:
    classify = commands.add_parser(
        "classify",
        help="route texts to a department",
        description="Print one JSON object per text: "
        '{"text", "department", "confidence", "ranking", "needs_review", "model_version"}, '
        "exactly as creating a ticket with that text would route it (review threshold from "
        "TICKETBOT_REVIEW_THRESHOLD, else the model's manifest). With no TEXT, reads one "
        "text per line from standard input.",
    )
    classify.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    classify.add_argument("--model", type=Path, help=DEPARTMENT_MODEL_HELP)
    classify.set_defaults(handler=_run_classify)


def _run_classify(args: argparse.Namespace) -> int:
    from ticketbot.api.classifier import DepartmentClassifier

    if args.texts and not any(text.strip() for text in args.texts):
        raise CommandError("nothing to classify: give a non-blank TEXT, or lines on stdin")
    classifier = DepartmentClassifier.from_settings(_api_settings(), args.model)
    for text in _texts(args.texts):
        routing = classifier.route(text)
        _json_line(
            {
                "text": text,
                "department": routing.department,
                "confidence": routing.confidence,
                "ranking": routing.ranking,
                "needs_review": routing.needs_review,
                "model_version": classifier.version,
            }
        )
    return EXIT_OK


def _texts(arguments: list[str]) -> Iterator[str]:
    """The texts given as arguments, else the non-blank lines of standard input."""
    if arguments:
        yield from (text for text in arguments if text.strip())
        return
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\r\n")


def _json_line(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _env_path(name: str) -> Path | None:
    import os

    value = os.environ.get(name)
    return Path(value) if value else None


# -- parse -----------------------------------------------------------------------------------


def _add_parse(commands: Any) -> None:
    parse = commands.add_parser(
        "parse",
        help="show what the bot understands from a line",
        description="Print one JSON object per utterance: "
        '{"text", "intent", "confidence", "ranking", "entities", "language"}; intent is '
        '"out_of_scope" whenever the bot would fall back. With no TEXT, reads one utterance '
        "per line from standard input.",
    )
    parse.add_argument("texts", nargs="*", metavar="TEXT", help="utterances to parse")
    parse.add_argument("--model", type=Path, help=INTENT_MODEL_HELP)
    parse.set_defaults(handler=_run_parse)


def _run_parse(args: argparse.Namespace) -> int:
    if args.texts and not any(text.strip() for text in args.texts):
        raise CommandError("nothing to parse: give a non-blank TEXT, or lines on stdin")
    parser = _intent_parser(args.model or _env_path("TICKETBOT_INTENT_MODEL"))
    for text in _texts(args.texts):
        _json_line(parser.parse(text).to_dict())
    return EXIT_OK


def _intent_parser(explicit: Path | None, plugins: Any = None) -> Any:
    """A parser for the installed plugins (``plugins``, else loaded now); says so on stderr
    if the model had to be retrained."""
    from ticketbot.nlu.loader import resolve_intent_model
    from ticketbot.nlu.parser import Parser

    plugins = plugins or _load_plugins()
    choice = resolve_intent_model(plugins.intents, explicit)
    if choice.notice():
        print(choice.notice(), file=sys.stderr)
    return Parser.for_plugins(choice.model, plugins)


# -- shell -----------------------------------------------------------------------------------


def _add_shell(commands: Any) -> None:
    shell = commands.add_parser(
        "shell",
        help="chat with the bot in the console",
        description="Start the console bot. Without TICKETBOT_API_URL it runs the ticket API "
        "itself on a free local port with the default SQLite database; with it, it talks to "
        "that API (TICKETBOT_API_KEY gives the key).",
    )
    shell.add_argument(
        "--api-url", help="ticket API to use (default: TICKETBOT_API_URL, else an embedded API)"
    )
    shell.add_argument("--model", type=Path, help=INTENT_MODEL_HELP)
    shell.set_defaults(handler=_run_shell)


def _run_shell(args: argparse.Namespace) -> int:
    from ticketbot.shell import run_shell

    return run_shell(api_url=args.api_url, model=args.model)


def _add_web(commands: Any) -> None:
    web = commands.add_parser(
        "web",
        help="the chat page in your browser, on the embedded default",
        description="Run the ticket API on this machine (the default SQLite database, as "
        "`ticketbot shell` does) and open its /chat page signed in as the local user: the URL "
        "it prints carries the local key after '#', which the page keeps for its tab only "
        "(never sent in a URL to the server). /agent is the review queue for agent keys. "
        "Ctrl-C stops it.",
    )
    web.add_argument("--port", type=_port, default=None, help="port (default: a free one)")
    web.add_argument(
        "--no-browser", action="store_true", help="print the URL without opening a browser"
    )
    web.set_defaults(handler=_run_web)


def _run_web(args: argparse.Namespace) -> int:
    import time
    import webbrowser

    from ticketbot.paths import data_dir
    from ticketbot.server import EmbeddedServer

    embedded = EmbeddedServer(_api_settings(), key_file=data_dir() / "api-key")
    embedded.bind(args.port or 0)
    embedded.start()
    if not embedded.wait_ready(timeout=60):
        raise CommandError(f"the ticket API could not start: {embedded.error or 'timed out'}")
    url = f"{embedded.url}/chat#key={embedded.api_key}"
    print(f"ticketbot is at {embedded.url}/chat (agents: {embedded.url}/agent)")
    print(f"open, signed in as the local user: {url}")
    print("Ctrl-C stops it.", flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    try:
        while embedded._thread is not None and embedded._thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        print()
    finally:
        embedded.stop()
    return EXIT_OK


# -- plugins ---------------------------------------------------------------------------------


def _add_plugins(commands: Any) -> None:
    plugins = commands.add_parser(
        "plugins",
        help="list the installed plugins",
        description="List every plugin: name, version, where it comes from (built-in or which "
        "distribution), its intents, entities and hooks. TICKETBOT_LOAD_PLUGINS narrows the list.",
    )
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(handler=_run_plugins)


def _run_plugins(args: argparse.Namespace) -> int:
    plugins = _load_plugins()
    described = plugins.describe()
    if args.json:
        _json_line({"plugins": described, "problems": [str(p) for p in plugins.problems]})
        return EXIT_OK
    from ticketbot.reports import plugins_text

    print(plugins_text(described))
    return EXIT_OK


# -- eval ------------------------------------------------------------------------------------


def _add_eval(commands: Any) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="evaluate a model on labelled data",
        description="Evaluate a model on labelled data.",
    )
    models = evaluate.add_subparsers(title="models", metavar="MODEL")
    department = models.add_parser(
        "department",
        help="evaluate the department classifier",
        description="Accuracy, macro-F1, per-class precision/recall/F1 and the confusion "
        "matrix of the department classifier on a labelled CSV.",
    )
    _add_report_options(
        department,
        label_column="label",
        model_help=DEPARTMENT_MODEL_HELP,
        default_data="the held-out tickets that ship with ticketbot",
    )
    department.set_defaults(handler=_run_eval_department)
    intent = models.add_parser(
        "intent",
        help="evaluate the intent model",
        description="Parse every utterance of a labelled CSV as the bot would (fallback "
        "included) and report accuracy, macro-F1, per-intent figures, the confusion matrix, "
        "in-scope accuracy and the share of out_of_scope lines sent to fallback.",
    )
    _add_report_options(intent, label_column="intent", model_help=INTENT_MODEL_HELP)
    intent.set_defaults(handler=_run_eval_intent)
    conversations = models.add_parser(
        "conversations",
        help="play scripted conversations and check what they leave",
        description="Play each conversation of a JSON file (a list of {id, lines, setup, "
        "expect}; see ticketbot.testing.Conversation) against a fresh embedded API with the "
        "installed plugins, and check the tickets it created, deleted and kept. Prints the "
        "task success rate and what went wrong in the others.",
    )
    conversations.add_argument("--data", type=Path, required=True, help="JSON file")
    conversations.add_argument("--model", type=Path, help=INTENT_MODEL_HELP)
    conversations.add_argument("--json", action="store_true", help="print the report as JSON")
    conversations.add_argument(
        "--transcripts", action="store_true", help="also print the transcript of each failure"
    )
    conversations.set_defaults(handler=_run_eval_conversations)
    evaluate.set_defaults(handler=lambda args: _usage(evaluate))


def _add_report_options(
    parser: argparse.ArgumentParser,
    label_column: str,
    model_help: str,
    default_data: str | None = None,
) -> None:
    if default_data:
        parser.add_argument(
            "--data", type=Path, help=f"labelled CSV with a header (default: {default_data})"
        )
    else:
        parser.add_argument("--data", type=Path, required=True, help="labelled CSV with a header")
    parser.add_argument("--text-column", default="text", help="(default: %(default)s)")
    parser.add_argument("--label-column", default=label_column, help="(default: %(default)s)")
    parser.add_argument("--model", type=Path, help=model_help)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="save the confusion matrix as a picture (needs matplotlib)",
    )


def _run_eval_department(args: argparse.Namespace) -> int:
    from ticketbot.api import HELD_OUT_TICKETS
    from ticketbot.api.classifier import DepartmentClassifier, review_figures
    from ticketbot.ml.evaluation import classification_report
    from ticketbot.ml.training import describe_skipped, read_labelled_rows

    _require_plotting(args)
    args.data = args.data or HELD_OUT_TICKETS
    classifier = DepartmentClassifier.from_settings(_api_settings(), args.model)
    texts, labels, skipped = read_labelled_rows(args.data, args.text_column, args.label_column)
    if skipped:
        _warn(describe_skipped(args.data, skipped))
    if not texts:
        raise CommandError(f"{args.data}: no labelled rows to evaluate")
    routings = [classifier.route(text) for text in texts]
    predicted = [routing.department for routing in routings]
    report = classification_report(
        labels, predicted, labels=sorted(set(classifier.labels) | set(labels))
    )
    report["model_version"] = classifier.version
    report["review"] = review_figures(routings, labels, classifier.review_threshold)
    unknown = sorted(set(labels) - set(classifier.labels))
    if unknown:
        report["unknown_labels"] = unknown
    _finish_eval(report, args, title=f"department model {classifier.version}")
    return EXIT_OK


def _run_eval_intent(args: argparse.Namespace) -> int:
    from ticketbot.ml.evaluation import classification_report
    from ticketbot.nlu.evaluation import intent_figures, read_utterances

    _require_plotting(args)
    parser = _intent_parser(args.model or _env_path("TICKETBOT_INTENT_MODEL"))
    try:
        rows = read_utterances(args.data)
    except FileNotFoundError:
        raise CommandError(f"{args.data}: no such file") from None
    missing = [c for c in (args.text_column, args.label_column) if rows and c not in rows[0]]
    if missing:
        raise CommandError(
            f"{args.data}: no column {', '.join(map(repr, missing))}; name the columns with "
            "--text-column and --label-column"
        )
    rows = [{**row, "text": row[args.text_column]} for row in rows if row.get(args.label_column)]
    if not rows:
        raise CommandError(f"{args.data}: no labelled rows to evaluate")
    figures = intent_figures(parser, rows, intent_column=args.label_column)
    report = classification_report([r[args.label_column] for r in rows], figures.pop("predicted"))
    figures.pop("errors")
    report.update({k: v for k, v in figures.items() if v is not None and k != "rows"})
    report["threshold"] = parser.threshold
    _finish_eval(report, args, title="intent model")
    if not args.json:
        for key, label in (
            ("in_scope_accuracy", "in-scope accuracy"),
            ("out_of_scope_fallback", "off-topic sent to fallback"),
            ("ticket_ids", "ticket ids exactly right"),
            ("non_delete_as_delete", "other lines understood as a deletion"),
            ("language", "language detected right"),
        ):
            if report.get(key) is not None:
                print(f"{label}: {report[key]:.4f}")
        print(f"lines given a ticket id they do not name: {report.get('spurious_ids', 0)}")
        print(f"fallback threshold: {parser.threshold:.2f}")
    return EXIT_OK


def _run_eval_conversations(args: argparse.Namespace) -> int:
    from ticketbot.testing import load_conversations, run_conversation

    try:
        conversations = load_conversations(args.data)
    except KeyError as error:
        raise CommandError(
            f"{args.data}: a conversation has no {error} field; each needs at least "
            '"id" and "lines" (see `ticketbot.testing.Conversation`)'
        ) from None
    except (ValueError, TypeError) as error:
        raise CommandError(f"{args.data}: not a JSON list of conversations ({error})") from None
    plugins = _load_plugins()
    parser = _intent_parser(args.model or _env_path("TICKETBOT_INTENT_MODEL"), plugins)
    outcomes = [run_conversation(c, plugins, parser) for c in conversations]
    failures = [o for o in outcomes if not o.ok]
    report = {
        "conversations": len(outcomes),
        "succeeded": len(outcomes) - len(failures),
        "success_rate": round((len(outcomes) - len(failures)) / max(len(outcomes), 1), 4),
        "failures": [
            {"id": o.conversation.id, "goal": o.conversation.goal, "problems": o.problems}
            | ({"transcript": o.transcript} if args.transcripts else {})
            for o in failures
        ],
    }
    if args.json:
        _json_line(report)
        return EXIT_OK
    print(
        f"{report['succeeded']} of {report['conversations']} conversations did what they "
        f"should (task success {report['success_rate']:.3f})"
    )
    for failure in report["failures"]:
        print(f"- {failure['id']} ({failure['goal']}): {'; '.join(failure['problems'])}")
        if args.transcripts:
            print("  " + failure["transcript"].replace("\n", "\n  "))
    return EXIT_OK


def _require_plotting(args: argparse.Namespace) -> None:
    """Fail at once, before any work, when --plot cannot be honoured."""
    import importlib.util

    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise CommandError("--plot needs matplotlib: pip install 'ticketbot[plot]'")


def _finish_eval(report: dict[str, Any], args: argparse.Namespace, title: str) -> None:
    if args.plot:
        from ticketbot.ml.evaluation import plot_confusion

        try:
            plot_confusion(report, args.plot, title)
        except RuntimeError as error:
            raise CommandError(str(error)) from None
    if args.json:
        _json_line(report)
    else:
        from ticketbot.reports import print_report

        print_report(report, title)
        if args.plot:
            print(f"confusion matrix saved to {args.plot}")


# -- models ----------------------------------------------------------------------------------


def _add_models(commands: Any) -> None:
    models = commands.add_parser(
        "models",
        help="show the models in use; list, activate and roll back stored versions",
        description="Without an action: show each model file in use with the figures of its "
        "manifest. The actions manage the department model versions stored in the API's "
        "database (`ticketbot train department --from-database` makes them).",
    )
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(handler=_run_models)
    from ticketbot.learning_cli import add_model_actions

    add_model_actions(models)


def _run_models(args: argparse.Namespace) -> int:
    entries = [_department_model_entry(), _intent_model_entry()]
    if args.json:
        _json_line({"models": entries})
        return EXIT_OK
    for entry in entries:
        print(f"{entry['kind']}: {entry.get('path') or '-'}")
        if "error" in entry:
            print(f"  refused: {entry['error']}")
            continue
        cv = entry.get("cv") or {}
        print(
            f"  version {entry['version']}, trained {entry['trained_at']} on {entry['rows']} rows"
        )
        print(f"  labels: {', '.join(entry['labels'])}")
        if cv:
            print(
                f"  {cv['folds']}-fold CV accuracy {cv['accuracy']:.4f}, "
                f"macro-F1 {cv['macro_f1']:.4f}"
            )
        if "threshold" in entry:
            print(
                f"  fallback threshold {entry['threshold']:.2f}: in-scope accuracy "
                f"{cv.get('in_scope_accuracy', 0):.4f}, off-topic sent to fallback "
                f"{cv.get('out_of_scope_fallback', 0):.4f}"
            )
        if "review" in entry:
            review = entry["review"]
            print(
                f"  review threshold {review['threshold']:.3f} (TICKETBOT_REVIEW_THRESHOLD "
                f"overrides it): flags {review['cv_tickets_flagged']:.1%} of cross-validated "
                f"tickets and {review['cv_errors_flagged']:.1%} of their routing errors"
            )
    return EXIT_OK


def _manifest_entry(kind: str, path: Path | None, manifest: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "kind": kind,
        "path": str(path) if path else None,
        "version": manifest.get("version"),
        "labels": manifest.get("labels", []),
        "trained_at": manifest.get("trained_at"),
        "rows": (manifest.get("data") or {}).get("rows"),
        "cv": manifest.get("cv"),
        "trained_with": manifest.get("trained_with"),
    }
    if "threshold" in manifest:
        entry["threshold"] = manifest["threshold"]
    if "review" in manifest:
        entry["review"] = manifest["review"]
    return entry


def _department_model_entry() -> dict[str, Any]:
    from ticketbot.ml.store import ModelError, retrain_command, verify_model_file
    from ticketbot.paths import shipped_model

    path = _env_path("TICKETBOT_DEPARTMENT_MODEL") or shipped_model("department")
    try:
        _, manifest = verify_model_file(
            path, kind="department", retrain=retrain_command("department", path)
        )
    except ModelError as error:
        return {"kind": "department", "path": str(path), "error": str(error)}
    return _manifest_entry("department", path, manifest)


def _intent_model_entry() -> dict[str, Any]:
    from ticketbot.ml.store import ModelError
    from ticketbot.nlu.loader import resolve_intent_model

    explicit = _env_path("TICKETBOT_INTENT_MODEL")
    try:
        choice = resolve_intent_model(_load_plugins().intents, explicit, train=False)
    except ModelError as error:
        return {"kind": "intent", "path": str(explicit) if explicit else None, "error": str(error)}
    return _manifest_entry("intent", choice.path, choice.manifest)


# -- keys ------------------------------------------------------------------------------------


def _database_url_option() -> argparse.ArgumentParser:
    """The ``--database-url`` option of the commands that open the API's database."""
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--database-url",
        help="the API's database (default: TICKETBOT_DATABASE_URL, else the SQLite file in "
        "your data directory)",
    )
    return database


def _add_keys(commands: Any) -> None:
    keys = commands.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description="Manage the API keys of a ticket database. Roles: requester (creates "
        "tickets; reads, lists and deletes its own), agent (reads and lists all tickets), "
        "admin (everything).",
    )
    actions = keys.add_subparsers(title="actions", metavar="ACTION")
    database = _database_url_option()
    create = actions.add_parser(
        "create",
        parents=[database],
        help="create a key (printed once)",
        description="Create a key and print it once, alone on its line; only its hash is stored.",
    )
    create.add_argument("--name", required=True, help="who or what uses the key (unique)")
    create.add_argument("--role", required=True, choices=["requester", "agent", "admin"])
    create.set_defaults(handler=_run_keys_create)
    listing = actions.add_parser(
        "list",
        parents=[database],
        help="list keys (never the keys themselves)",
        description="List the keys of the database: name, role, prefix, creation and "
        "revocation dates. The keys themselves are never stored, so never shown.",
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_run_keys_list)
    revoke = actions.add_parser(
        "revoke",
        parents=[database],
        help="revoke a key by name",
        description="Revoke the active key with this name: requests with it get 401 within 5 "
        "seconds on a running server. The key stays listed, with its revocation date.",
    )
    revoke.add_argument("name", help="name of the key to revoke")
    revoke.set_defaults(handler=_run_keys_revoke)
    keys.set_defaults(handler=lambda args: _usage(keys))


@contextmanager
def _database_errors(settings: Any) -> Iterator[None]:
    """Database, schema and key errors as one clear line (a :class:`CommandError`)."""
    import peewee

    from ticketbot.api.db import DatabaseConfigError, redacted
    from ticketbot.api.keys import ApiKeyError
    from ticketbot.api.migrations import SchemaTooNew

    try:
        yield
    except (DatabaseConfigError, ApiKeyError, SchemaTooNew) as error:
        raise CommandError(str(error)) from None
    except peewee.PeeweeException as error:
        raise CommandError(
            f"cannot use the database {redacted(settings.database_url)}: {error}"
        ) from None


@contextmanager
def _key_store(database_url: str | None) -> Iterator[Any]:
    """The key store of the database, with database and key errors as one clear line."""
    from ticketbot.api.keys import open_key_store

    settings = _api_settings(database_url=database_url)
    with _database_errors(settings), open_key_store(settings) as store:
        yield store


def _run_keys_create(args: argparse.Namespace) -> int:
    with _key_store(args.database_url) as store:
        principal, key = store.create(args.name, args.role)
    print(
        f"created {principal.role} key {principal.name!r}; it is shown only once, keep it "
        "secret (send it as 'Authorization: Bearer <key>'):",
        file=sys.stderr,
    )
    print(key)
    return EXIT_OK


def _run_keys_list(args: argparse.Namespace) -> int:
    with _key_store(args.database_url) as store:
        keys = store.list()
    if args.json:
        _json_line({"keys": keys})
        return EXIT_OK
    if not keys:
        print("no keys yet: create one with `ticketbot keys create --name NAME --role ROLE`")
    for key in keys:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "active"
        print(
            f"{key['name']:<24} {key['role']:<10} {key['prefix']}…  "
            f"created {key['created_at']}  {state}"
        )
    return EXIT_OK


def _run_keys_revoke(args: argparse.Namespace) -> int:
    with _key_store(args.database_url) as store:
        store.revoke(args.name)
    print(f"revoked key {args.name!r}")
    return EXIT_OK


# -- db ------------------------------------------------------------------------------------


def _add_db(commands: Any) -> None:
    db = commands.add_parser(
        "db",
        help="show or upgrade the database schema",
        description="The ticket database's schema version. The API upgrades its database by "
        "itself on start; these commands serve those who upgrade by hand.",
    )
    actions = db.add_subparsers(title="actions", metavar="ACTION")
    database = _database_url_option()
    status = actions.add_parser(
        "status",
        parents=[database],
        help="the schema version and the migrations an upgrade would apply",
        description="Print the database's schema version, this ticketbot's, and the "
        "migrations `ticketbot db upgrade` would apply. Changes nothing.",
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_run_db_status)
    upgrade = actions.add_parser(
        "upgrade",
        parents=[database],
        help="apply the pending migrations",
        description="Bring the database to this ticketbot's schema, keeping every ticket and "
        "key. Safe to run while servers start: the migration runs once, under a lock.",
    )
    upgrade.set_defaults(handler=_run_db_upgrade)
    db.set_defaults(handler=lambda args: _usage(db))


@contextmanager
def _database_models(database_url: str | None) -> Iterator[Any]:
    """The bound models of the database, its errors as one clear line."""
    from ticketbot.api.db import close_database, connect_database
    from ticketbot.api.models import bind_models

    settings = _api_settings(database_url=database_url)
    with _database_errors(settings):
        models = bind_models(connect_database(settings))
        try:
            with models.database.connection_context():
                yield models
        finally:
            close_database(models.database)


def _run_db_status(args: argparse.Namespace) -> int:
    from ticketbot.api.migrations import LATEST, current_version, pending

    with _database_models(args.database_url) as models:
        version = current_version(models)
        todo = pending(models)
    if args.json:
        _json_line({"version": version, "latest": LATEST, "pending": todo})
        return EXIT_OK
    state = "empty" if version == 0 else f"at schema version {version}"
    print(f"database {state}; this ticketbot uses version {LATEST}")
    if todo:
        print(f"pending: {', '.join(map(str, todo))} (run `ticketbot db upgrade`)")
    else:
        print("up to date")
    return EXIT_OK


def _run_db_upgrade(args: argparse.Namespace) -> int:
    from ticketbot.api.migrations import LATEST, migrate

    with _database_models(args.database_url) as models:
        before = migrate(models)
    if before == LATEST:
        print(f"already at schema version {LATEST}: nothing to do")
    else:
        print(f"upgraded from schema version {before} to {LATEST}")
    return EXIT_OK


# -- helpers ---------------------------------------------------------------------------------


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _port(value: str) -> int:
    number = _positive_int(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return number


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return number
