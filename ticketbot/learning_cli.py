"""The commands on the API's database beyond keys: ``train department --from-database``,
``models list``, ``models activate``, ``models rollback``, ``report routing`` and ``import``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ticketbot import cli
from ticketbot.cli import EXIT_OK, CommandError


@contextmanager
def registry_of(database_url: str | None) -> Iterator[tuple[Any, Any, Any]]:
    """``(models, registry, settings)`` of the API's database, brought to the latest schema
    (as the API does when it starts)."""
    from ticketbot.api.registry import Registry

    settings = cli._api_settings(database_url=database_url)
    with cli._database_models(database_url) as models:
        with cli._database_errors(settings):
            models.create_tables()
        yield models, Registry(models), settings


def active_classifier(registry: Any, settings: Any) -> Any:
    """The classifier routing now: the active stored version, else the configured default."""
    from ticketbot.api.classifier import DepartmentClassifier

    version = registry.active()
    if version is None:
        return DepartmentClassifier.from_settings(settings)
    return registry.load(version, settings.review_threshold)


# -- train department --from-database ------------------------------------------------------


def run_train_from_database(args: argparse.Namespace) -> int:
    from ticketbot.api.learning import train_from_database
    from ticketbot.api.registry import RegistryError

    with registry_of(args.database_url) as (models, registry, settings):
        active = active_classifier(registry, settings)
        with cli._progress() as progress:
            payload, manifest, _ = train_from_database(
                models,
                active,
                args.data,
                include_confirmed=args.include_confirmed,
                text_column=args.text_column,
                label_column=args.label_column,
                progress=progress,
            )
        try:
            registry.store(payload, manifest)
        except RegistryError as error:
            raise CommandError(str(error)) from None
    if args.json:
        cli._json_line(manifest)
        return EXIT_OK
    data, cv, held = manifest["data"], manifest["cv"], manifest["held_out"]
    sources = ", ".join(f"{count} {name}" for name, count in sorted(data["sources"].items()))
    print(f"trained department model {manifest['version']} (stored in the database)")
    print(f"  rows: {data['rows']} ({sources}); parent {manifest['parent']}")
    confirmed = "included" if data["include_confirmed"] else "left out (--include-confirmed)"
    print(f"  confirmed tickets: {confirmed}")
    print(
        f"  {cv['folds']}-fold cross-validation: accuracy {cv['accuracy']:.4f}, "
        f"macro-F1 {cv['macro_f1']:.4f}"
    )
    compared = held["compared_with"]
    print(
        f"  held-out slice ({held['rows']} rows: {held['rule']}): new {_figure(held['accuracy'])}"
        f", active {compared['version']} {_figure(compared['accuracy'])}; its "
        f"{held['data_rows']} rows from the training file: new {_figure(held['data_accuracy'])}"
        f", active {_figure(compared['data_accuracy'])}"
    )
    print(f"  switch to it: ticketbot models activate {manifest['version']}")
    return EXIT_OK


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


# -- models list / activate / rollback -----------------------------------------------------


def add_model_actions(models: argparse.ArgumentParser) -> None:
    """``models list|activate|rollback`` under the ``models`` command."""
    actions = models.add_subparsers(title="actions", metavar="ACTION")
    database = cli._database_url_option()
    listing = actions.add_parser(
        "list",
        parents=[database],
        help="the department model versions stored in the database, and which one routes",
        description="List the department model versions stored in the API's database: "
        "labels, rows, cross-validated figures, parent, when, and which is active. The "
        "configured default (TICKETBOT_DEPARTMENT_MODEL, else the shipped model) routes "
        "while none is active.",
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)
    activate = actions.add_parser(
        "activate",
        parents=[database],
        help="route new tickets with a stored version (every API process, within seconds)",
        description="Make a stored version the active one. Every API process on the "
        "database switches to it within a few seconds (TICKETBOT_MODEL_POLL_SECONDS), "
        "without a restart. Refused for a version that fails its integrity check, and, "
        "unless --force, for one with other labels than the active model or worse than it "
        "by more than 1 point on its held-out slice.",
    )
    activate.add_argument("version", help="a version from `ticketbot models list`")
    activate.add_argument(
        "--force", action="store_true", help="activate despite other labels or a lower accuracy"
    )
    activate.add_argument("--by", default=None, help="who activates it (recorded)")
    activate.set_defaults(handler=run_activate)
    rollback = actions.add_parser(
        "rollback",
        parents=[database],
        help="go back to the version active before",
        description="Return to the version that was active before the current one, or to "
        "the configured default when none was. Each rollback steps one further back.",
    )
    rollback.add_argument("--by", default=None, help="who rolls back (recorded)")
    rollback.set_defaults(handler=run_rollback)


def run_list(args: argparse.Namespace) -> int:
    with registry_of(args.database_url) as (_, registry, settings):
        manifests = registry.manifests()
        active = registry.active()
        history = registry.history()
    entries = [
        {
            "version": m["version"],
            "active": m["version"] == active,
            "labels": m.get("labels", []),
            "rows": (m.get("data") or {}).get("rows"),
            "sources": (m.get("data") or {}).get("sources"),
            "cv_accuracy": (m.get("cv") or {}).get("accuracy"),
            "cv_macro_f1": (m.get("cv") or {}).get("macro_f1"),
            "held_out": {
                k: (m.get("held_out") or {}).get(k) for k in ("rows", "accuracy", "compared_with")
            },
            "parent": m.get("parent"),
            "trained_at": m.get("trained_at"),
        }
        for m in manifests
    ]
    default = {"path": str(settings.department_model), "active": active is None}
    if args.json:
        cli._json_line({"versions": entries, "default": default, "history": history})
        return EXIT_OK
    mark = "*" if active is None else " "
    print(f"{mark} default: {default['path']} (routes while no version is active)")
    if not entries:
        print("  no version stored yet: ticketbot train department --from-database")
    for entry in entries:
        mark = "*" if entry["active"] else " "
        cv = entry["cv_accuracy"]
        print(
            f"{mark} {entry['version']}  trained {entry['trained_at']}  {entry['rows']} rows  "
            f"CV accuracy {_figure(cv)}  held-out {_figure(entry['held_out']['accuracy'])}  "
            f"parent {entry['parent']}"
        )
        print(f"    labels: {', '.join(entry['labels'])}")
    return EXIT_OK


def run_activate(args: argparse.Namespace) -> int:
    from ticketbot.api.learning import MAX_REGRESSION, compare_on_held_out, worse
    from ticketbot.api.registry import RegistryError
    from ticketbot.ml.store import ModelError

    with registry_of(args.database_url) as (models, registry, settings):
        try:
            candidate = registry.load(args.version, settings.review_threshold)
        except (RegistryError, ModelError) as error:
            raise CommandError(f"{error}; the active model stays") from None
        if registry.active() == candidate.version:
            print(f"{candidate.version} is already active")
            return EXIT_OK
        active = active_classifier(registry, settings)
        if sorted(candidate.labels) != sorted(active.labels) and not args.force:
            raise CommandError(
                f"{candidate.version} routes to {', '.join(candidate.labels)}, the active "
                f"model {active.version} to {', '.join(active.labels)}: existing tickets keep "
                "their departments. Add --force to activate it anyway."
            )
        figures = compare_on_held_out(models, candidate, active)
        if figures["rows"]:
            print(
                f"held-out slice ({figures['rows']} rows): {candidate.version} "
                f"{_figure(figures['candidate'])}, active {active.version} "
                f"{_figure(figures['active'])}; its {figures['data_rows']} rows from the "
                f"training file: {_figure(figures.get('data_candidate'))} against "
                f"{_figure(figures.get('data_active'))}"
            )
        regression = worse(figures)
        if regression and not args.force:
            raise CommandError(
                f"{candidate.version} is worse than the active model by more than "
                f"{MAX_REGRESSION:.0%} on its {regression}; add --force to activate it anyway"
            )
        registry.activate(candidate.version, args.by)
    print(
        f"activated {candidate.version}: every API process on this database routes with it "
        f"within {settings.model_poll_seconds:g} s"
    )
    return EXIT_OK


def run_rollback(args: argparse.Namespace) -> int:
    from ticketbot.api.registry import RegistryError
    from ticketbot.ml.store import ModelError

    with registry_of(args.database_url) as (_, registry, settings):
        try:
            target = registry.rollback_target()
            if target is not None:
                registry.load(target)  # still intact
        except (RegistryError, ModelError) as error:
            raise CommandError(f"{error}; the active model stays") from None
        registry.activate(target, args.by, action="rollback")
    name = target or f"the configured default ({settings.department_model})"
    print(f"rolled back to {name}")
    return EXIT_OK


# -- report routing --------------------------------------------------------------------------


def add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="reports on the API's database",
        description="Reports computed from the API's database.",
    )
    kinds = report.add_subparsers(title="reports", metavar="REPORT")
    routing = kinds.add_parser(
        "routing",
        parents=[cli._database_url_option()],
        help="how routing does: tickets, corrections and review flags",
        description="Per department and per model version, week by week: tickets routed, "
        "the share corrected by agents, the share flagged needs_review, and how many "
        "corrected tickets had been flagged and how many had not.",
    )
    routing.add_argument("--json", action="store_true", help="print JSON")
    routing.add_argument(
        "--plot", type=Path, help="save the weekly share corrected as a PNG (needs matplotlib)"
    )
    routing.set_defaults(handler=run_report_routing)
    report.set_defaults(handler=lambda args: cli._usage(report))


def run_report_routing(args: argparse.Namespace) -> int:
    import importlib.util

    from ticketbot.api.reporting import routing_report

    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise CommandError("--plot needs matplotlib: pip install 'ticketbot[plot]'")
    with registry_of(args.database_url) as (models, _, _settings):
        report = routing_report(models)
    if args.plot:
        from ticketbot.api.reporting import plot_routing

        plot_routing(report, args.plot)
    if args.json:
        cli._json_line(report)
    else:
        _print_routing(report)
    if args.plot:
        print(f"plot saved to {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return EXIT_OK


def _print_routing(report: dict[str, Any]) -> None:
    total = report["total"]
    print(
        f"{total['tickets']} tickets routed, {total['corrected']} corrected "
        f"({_share(total['corrected'], total['tickets'])}), {total['flagged']} flagged "
        f"needs_review ({_share(total['flagged'], total['tickets'])}); corrected tickets "
        f"that had been flagged: {total['corrected_flagged']}, not flagged: "
        f"{total['corrected_not_flagged']}"
    )
    for group in ("departments", "versions"):
        header = "department" if group == "departments" else "model version"
        print()
        print(
            f"{header:<32} {'week':<10} {'tickets':>8} {'corrected':>10} {'flagged':>8} "
            f"{'corr+flag':>9} {'corr,unflag':>11}"
        )
        for row in report[group]:
            print(
                f"{row['key']:<32} {row['week']:<10} {row['tickets']:>8} "
                f"{_share(row['corrected'], row['tickets']):>10} "
                f"{_share(row['flagged'], row['tickets']):>8} {row['corrected_flagged']:>9} "
                f"{row['corrected_not_flagged']:>11}"
            )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


# -- import ----------------------------------------------------------------------------------


def add_import(commands: Any) -> None:
    importing = commands.add_parser(
        "import",
        parents=[cli._database_url_option()],
        help="import tickets from another help desk's CSV export",
        description="Import tickets from a CSV file with a header. Columns title, "
        "description, department, status, created_at (ISO 8601) and external_id are found in "
        "any case; --column maps other names. Rows go in batches, one transaction each: a "
        "re-run skips the tickets already imported (by external_id, or by a digest of the "
        "row when the file has none), so a crashed import is finished by running it again. "
        "Bad rows are reported with their line numbers and skipped.",
    )
    importing.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    how = importing.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--keep-labels",
        action="store_true",
        help="keep the file's departments, recorded as agent-confirmed labels that "
        "`ticketbot train department --from-database` learns from",
    )
    how.add_argument(
        "--route", action="store_true", help="route every ticket with the active model"
    )
    importing.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=NAME",
        help="the file's column for a field, e.g. --column title=Subject (repeatable)",
    )
    importing.add_argument(
        "--batch-size", type=cli._positive_int, default=5000, help="rows per transaction"
    )
    importing.add_argument(
        "--keep-indexes",
        action="store_true",
        help="PostgreSQL: keep every index updated row by row, even for an import larger "
        "than the table (by default those set the list's and search's indexes aside and "
        "build them at the end, which is faster but makes writers wait meanwhile)",
    )
    importing.add_argument("--json", action="store_true", help="print the report as JSON")
    importing.set_defaults(handler=run_import)


def _mapping(pairs: list[str]) -> dict[str, str]:
    from ticketbot.api.importer import FIELDS

    mapping = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        name = name.strip().lower()
        if not sep or not column.strip():
            raise CommandError(f"--column {pair!r}: write FIELD=NAME, e.g. title=Subject")
        if name not in FIELDS:
            raise CommandError(f"--column {pair!r}: the fields are {', '.join(FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def run_import(args: argparse.Namespace) -> int:
    import peewee
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from ticketbot.api.importer import ImportError_, count_rows, import_tickets

    mapping = _mapping(args.column)
    if not args.file.is_file():
        raise CommandError(f"{args.file}: no such file")
    total = count_rows(args.file)
    with registry_of(args.database_url) as (models, registry, settings):
        classifier = None if args.keep_labels else active_classifier(registry, settings)
        display = Progress(
            "importing",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        task = display.add_task("import", total=total)
        try:
            with display:
                report = import_tickets(
                    models,
                    args.file,
                    keep_labels=args.keep_labels,
                    classifier=classifier,
                    mapping=mapping,
                    batch=args.batch_size,
                    progress=lambda done: display.update(task, completed=done),
                    expected_rows=total,
                    keep_indexes=args.keep_indexes,
                    building=lambda: display.console.print(
                        "every row is in; building the indexes set aside (writers wait)..."
                    ),
                )
        except ImportError_ as error:
            raise CommandError(str(error)) from None
        except (OSError, peewee.PeeweeException) as error:
            raise CommandError(
                f"the import stopped: {error}. Every batch written before is kept (one "
                "transaction each); run the same command again to finish: it skips them, and "
                "builds any index a large import set aside"
            ) from None
    result = report.as_dict()
    if args.json:
        cli._json_line(result)
    else:
        rate = result["tickets_per_second"]
        print(
            f"imported {report.imported} tickets from {args.file} in {report.seconds:.1f} s"
            + (f" ({rate:,} per second)" if rate else "")
            + f"; {report.already_there} already there, {len(report.bad)} bad rows skipped"
        )
        for line, problem in report.bad[:20]:
            print(f"  line {line}: {problem}", file=sys.stderr)
        if len(report.bad) > 20:
            print(f"  ... and {len(report.bad) - 20} more (--json lists 100)", file=sys.stderr)
    return EXIT_OK
