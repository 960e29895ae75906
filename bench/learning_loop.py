"""The learning loop on real tickets: agents' corrections retrain the department router.

../shared/data/it_tickets/train.csv (38,323 IT tickets, 8 labels), shuffled with a fixed
seed. A model trained (by `ticketbot train department`'s code) on the first 1,000 tickets
routes at the start; the rest go through the real API (in-process TestClient with its
lifespan, fresh SQLite file) in batches of 2,000: each ticket is POSTed by a requester, and an
oracle agent PATCHes every misrouted one to its true department (the API records it as a
correction). After each batch the router is retrained from the database
(`ticketbot.api.learning.train_from_database`, the 1,000 start tickets as its CSV), the new
version stored and activated in the registry, and the API switched to it (its model watcher).

Reported per batch: its routing accuracy (every ticket is new to the model routing it),
corrections so far, rows trained, retrain time and the held-out figures of the manifest;
and, for comparison, a reference model trained on 80% of the same tickets and measured on the
other 20% (stratified, random_state=42). Plots the curve into docs/learning_loop.png.

    python -m bench.learning_loop [--no-record] [--batch 2000] [--start 1000] [--limit N]
        [--seed 42] [--plot PATH] [--skip-reference] [--confirm]
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import IT_TICKETS, REPO, bench_parser, record, require

PLOT = REPO / "docs" / "learning_loop.png"
TITLE_CHARS = 80
"""A ticket's title is its text's first line, or its first words up to this many characters."""


@dataclass
class Batch:
    """One batch of the loop: how the active model routed it, and the retrain after it."""

    number: int
    tickets: int
    routed_by: str
    """The model version that routed the batch."""
    correct: int
    corrections: int
    """Corrections recorded in the database so far (this batch's included)."""
    version: str
    """The version trained after the batch (and activated)."""
    rows_trained: int
    sources: dict[str, int]
    retrain_seconds: float
    """``train_from_database``: reading the database, training, measuring."""
    fit_seconds: float
    """Of which fitting the model (5-fold cross-validation included), from the manifest."""
    switch_seconds: float
    """Storing, activating and the API switching to the new version."""
    held_out_rows: int
    held_out_accuracy: float | None
    held_out_active: float | None
    """The model it replaces, on the same held-out slice."""
    cv_accuracy: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.tickets


@dataclass
class LoopResult:
    start_version: str
    start_manifest: dict[str, Any]
    batches: list[Batch] = field(default_factory=list)
    text_mismatches: int = 0
    """Tickets whose stored title + description differ from their text (beyond spacing)."""
    seconds: float = 0.0


def split_ticket(text: str, width: int = TITLE_CHARS) -> tuple[str, str]:
    """``(title, description)`` whose ``title + "\\n" + description`` is ``text`` with one
    space turned into a line break: the first line when it has several (and it fits a
    title), else the words up to ``width`` characters."""
    text = text.strip()
    first, newline, rest = text.partition("\n")
    if newline and first.strip() and len(first) <= 200:
        return first.strip(), rest.strip()
    if len(text) <= width:
        return text, ""
    cut = text.rfind(" ", 0, width + 1)
    if cut <= 0:
        cut = width
    return text[:cut].strip(), text[cut:].strip()


def write_csv(path: Path, texts: Sequence[str], labels: Sequence[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return path


def run_loop(
    texts: Sequence[str],
    labels: Sequence[str],
    workdir: Path,
    *,
    start: int = 1000,
    batch: int = 2000,
    confirm: bool = False,
    progress: Callable[[str], None] | None = None,
) -> LoopResult:
    """Run the learning loop on ``texts``/``labels`` in their order (see the module
    docstring): the first ``start`` train the first model, the rest go through the API in
    batches of ``batch``; the database and models live in ``workdir``.

    With ``confirm``, the agent also resolves every ticket (so the rightly routed ones are
    confirmed) and the retrains include the confirmed tickets."""
    from fastapi.testclient import TestClient

    from ticketbot.api.app import create_app
    from ticketbot.api.learning import same_text, ticket_text, train_from_database
    from ticketbot.api.registry import Registry
    from ticketbot.api.settings import Settings
    from ticketbot.api.training import train_department
    from ticketbot.plugin_manager import get_plugin_manager

    say = progress or (lambda _: None)
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    if not 0 < start < len(texts):
        raise ValueError(f"start ({start}) must leave tickets to route (there are {len(texts)})")
    started = time.perf_counter()
    workdir = Path(workdir)
    start_csv = write_csv(workdir / "start.csv", texts[:start], labels[:start])
    start_model = workdir / "start.pkl"
    start_manifest = train_department(start_csv, start_model)
    say(
        f"start model {start_manifest['version']}: {start} tickets, "
        f"CV accuracy {start_manifest['cv']['accuracy']:.4f}"
    )
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'tickets.db'}",
        department_model=start_model,
        # Switches are made at once by watcher.check(); the poll is only a fallback.
        model_poll_seconds=60,
        access_log=False,
    )
    # No plugin listens to the ticket events: the loop measures ticketbot alone.
    app = create_app(settings, plugins=get_plugin_manager(load_entry_points=False))
    result = LoopResult(start_manifest["version"], start_manifest)
    with TestClient(app) as client:
        service = app.state.service
        registry = Registry(service.models)
        _, requester = service.keys.create("bench-requester", "requester")
        _, agent = service.keys.create("bench-oracle-agent", "agent")
        as_requester = {"Authorization": f"Bearer {requester}"}
        as_agent = {"Authorization": f"Bearer {agent}"}
        if service.classifier.version != start_manifest["version"]:
            raise RuntimeError(f"the API routes with {service.classifier.version}, not the start")
        for number, first in enumerate(range(start, len(texts), batch), 1):
            chunk = range(first, min(first + batch, len(texts)))
            routed_by = service.classifier.version
            correct = 0
            for i in chunk:
                title, description = split_ticket(texts[i])
                created = client.post(
                    "/tickets",
                    json={"title": title, "description": description},
                    headers=as_requester,
                )
                if created.status_code != 201:
                    raise RuntimeError(f"ticket {i} not created: {created.text}")
                ticket = created.json()
                if ticket["model_version"] != routed_by:
                    raise RuntimeError(f"ticket {i} routed by {ticket['model_version']}")
                if same_text(ticket_text(ticket["title"], ticket["description"])) != same_text(
                    texts[i]
                ):
                    result.text_mismatches += 1
                right = ticket["department"] == labels[i]
                correct += right
                patch = {} if right else {"department": labels[i]}
                if confirm:
                    patch["status"] = "resolved"
                if not patch:
                    continue
                fixed = client.patch(f"/tickets/{ticket['id']}", json=patch, headers=as_agent)
                if fixed.status_code != 200 or fixed.json()["department"] != labels[i]:
                    raise RuntimeError(f"ticket {ticket['id']} not corrected: {fixed.text}")
            with service.database.connection_context():
                corrections = service.models.correction.select().count()
                t = time.perf_counter()
                payload, manifest, _ = train_from_database(
                    service.models, service.classifier, data=start_csv, include_confirmed=confirm
                )
                retrain = time.perf_counter() - t
                t = time.perf_counter()
                with service.write_lock:
                    version = registry.store(payload, manifest)
                    registry.activate(version, by="bench-oracle-agent")
            app.state.model_watcher.check()
            switch = time.perf_counter() - t
            if service.classifier.version != version:
                raise RuntimeError(f"the API did not switch to {version}")
            held = manifest["held_out"]
            done = Batch(
                number=number,
                tickets=len(chunk),
                routed_by=routed_by,
                correct=correct,
                corrections=corrections,
                version=version,
                rows_trained=manifest["data"]["rows"],
                sources=dict(manifest["data"]["sources"]),
                retrain_seconds=retrain,
                fit_seconds=manifest["fit_seconds"],
                switch_seconds=switch,
                held_out_rows=held["rows"],
                held_out_accuracy=held["accuracy"],
                held_out_active=held["compared_with"]["accuracy"],
                cv_accuracy=manifest["cv"]["accuracy"],
            )
            result.batches.append(done)
            say(
                f"batch {number}: {done.tickets} tickets, accuracy {done.accuracy:.4f}, "
                f"{corrections} corrections so far, retrained on {done.rows_trained} rows in "
                f"{retrain:.1f} s (fit {done.fit_seconds:.1f} s), "
                f"held-out {_figure(done.held_out_accuracy)} "
                f"(active {_figure(done.held_out_active)})"
            )
    result.seconds = time.perf_counter() - started
    return result


def reference_accuracy(texts: Sequence[str], labels: Sequence[str]) -> tuple[float, float]:
    """``(accuracy, fit seconds)`` of a model trained by the same recipe on a stratified 80%
    of the tickets (random_state=42), measured on the other 20%."""
    from sklearn.model_selection import train_test_split

    from ticketbot.api.training import DEPARTMENT_SPEC
    from ticketbot.ml.training import train

    train_x, test_x, train_y, test_y = train_test_split(
        list(texts), list(labels), test_size=0.2, stratify=list(labels), random_state=42
    )
    started = time.perf_counter()
    model = train(DEPARTMENT_SPEC, train_x, train_y).model
    seconds = time.perf_counter() - started
    predicted = model.predict_proba_many(test_x).argmax(axis=1)
    right = sum(model.classes[p] == t for p, t in zip(predicted, test_y, strict=True))
    return right / len(test_y), seconds


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def table(result: LoopResult, start: int, confirmed: bool = False) -> str:
    """The markdown table of the batches."""
    lines = [
        "| batch | tickets | routing accuracy | corrections so far | rows trained "
        f"(start CSV + corrections{' + confirmed' if confirmed else ''}) | retrain s (fit) "
        "| store + switch s | held-out rows "
        "| held-out accuracy: new / replaced |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    first = start
    for b in result.batches:
        tickets = f"{first + 1:,}-{first + b.tickets:,}"
        first += b.tickets
        parts = [b.sources.get(s, 0) for s in ("data", "corrections", "confirmed")]
        if not parts[2]:
            parts.pop()
        rows = f"{b.rows_trained:,} ({' + '.join(f'{n:,}' for n in parts)})"
        lines.append(
            f"| {b.number} | {tickets} | {b.accuracy:.4f} | {b.corrections:,} | {rows} "
            f"| {b.retrain_seconds:.1f} ({b.fit_seconds:.1f}) | {b.switch_seconds:.2f} "
            f"| {b.held_out_rows:,} "
            f"| {_figure(b.held_out_accuracy)} / {_figure(b.held_out_active)} |"
        )
    return "\n".join(lines)


def plot(result: LoopResult, reference: float | None, path: Path, start: int) -> None:
    """Routing accuracy per batch, the reference as a horizontal line; retrain seconds below.
    (The manifests' held-out figures are left out: their slice changes from one retrain to
    the next, see the table.)"""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    numbers = [b.number for b in result.batches]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot(
        numbers,
        [b.accuracy for b in result.batches],
        marker="o",
        label="routing accuracy of the batch (tickets new to the model)",
    )
    if reference is not None:
        top.axhline(
            reference,
            color="tab:red",
            linestyle="--",
            label=f"reference: trained on 80% of all tickets ({reference:.3f})",
        )
    top.set_ylabel("accuracy")
    top.set_title(
        f"Learning loop: start model on {start:,} tickets, retrained from agents' "
        "corrections after each batch",
        fontsize=10,
    )
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="best")
    bottom.bar(numbers, [b.retrain_seconds for b in result.batches], color="tab:green")
    bottom.set_ylabel("retrain s")
    size = result.batches[0].tickets if result.batches else 0
    bottom.set_xlabel(f"batch ({size:,} tickets each)")
    bottom.set_xticks(numbers)
    bottom.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--batch", type=int, default=2000, help="tickets per batch (2000)")
    parser.add_argument(
        "--start", type=int, default=1000, help="tickets the first model trains on (1000)"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="use only the first N shuffled tickets"
    )
    parser.add_argument("--seed", type=int, default=42, help="shuffle seed (42)")
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help=f"where to draw the curve (default: {PLOT.relative_to(REPO)}, unless --no-record)",
    )
    parser.add_argument(
        "--skip-reference", action="store_true", help="do not train the 80/20 reference"
    )
    parser.add_argument(
        "--confirm",
        action="store_true",
        help="the agent also resolves every ticket, and retrains include confirmed tickets "
        "(recorded as its own section)",
    )
    args = parser.parse_args()
    if args.batch < 1 or args.start < 1:
        parser.error("--batch and --start must be positive")

    from ticketbot.ml.training import read_labelled_csv

    started = time.perf_counter()
    texts, labels = read_labelled_csv(require(IT_TICKETS))
    order = list(range(len(texts)))
    random.Random(args.seed).shuffle(order)
    if args.limit is not None:
        if args.limit <= args.start:
            parser.error(f"--limit must be more than --start ({args.start})")
        order = order[: args.limit]
    texts = [texts[i] for i in order]
    labels = [labels[i] for i in order]

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="learning-loop-") as tmp:
        result = run_loop(
            texts,
            labels,
            Path(tmp),
            start=args.start,
            batch=args.batch,
            confirm=args.confirm,
            progress=say,
        )
    reference, reference_seconds = (None, 0.0)
    if not args.skip_reference:
        reference, reference_seconds = reference_accuracy(texts, labels)
        say(f"reference: {reference:.4f} ({reference_seconds:.1f} s to train)")
    total = time.perf_counter() - started

    batches = result.batches
    retrains = [b.retrain_seconds for b in batches]
    routed = sum(b.tickets for b in batches)
    corrections = batches[-1].corrections if batches else 0
    tail = batches[-3:]
    tail_accuracy = sum(b.correct for b in tail) / sum(b.tickets for b in tail)
    figures = table(result, args.start, args.confirm)
    summary = (
        f"{len(texts):,} tickets (seed {args.seed}): the start model trained on the first "
        f"{args.start:,} (5-fold CV accuracy {result.start_manifest['cv']['accuracy']:.4f}), "
        f"{routed:,} routed through the API in {len(batches)} batches of {args.batch:,}; "
        f"the oracle agent made {corrections:,} corrections "
        f"({corrections / routed:.1%} of the routed tickets). "
        f"Routing accuracy went from {batches[0].accuracy:.4f} (batch 1) to "
        f"{tail_accuracy:.4f} (last {len(tail)} batches)"
        + (
            f"; the reference, trained on 80% of all {len(texts):,} tickets by the same "
            f"recipe and measured on the other 20%, scores {reference:.4f} "
            f"(trained in {reference_seconds:.0f} s)."
            if reference is not None
            else "."
        )
        + f" Retrain: {retrains[0]:.1f} s after batch 1, {retrains[-1]:.1f} s after the last "
        f"(max {max(retrains):.1f} s). "
        f"{result.text_mismatches} tickets stored with another text than their own. "
        f"Whole run: {total / 60:.1f} min (loop {result.seconds / 60:.1f} min)."
    )
    print(figures)
    print()
    print(summary)
    # --confirm records its own section, without a plot of its own unless --plot is given.
    plot_path = args.plot or (None if args.no_record or args.confirm else PLOT)
    if plot_path is not None:
        plot(result, reference, plot_path, args.start)
        print(f"plotted {plot_path}")
    if not args.no_record:
        command = "python -m bench.learning_loop" + (" --confirm" if args.confirm else "")
        mode = (
            "the agent also resolves every ticket, and the retrains include the confirmed "
            "(resolved, uncorrected) tickets"
            if args.confirm
            else "confirmed tickets left out, the default"
        )
        image = "" if args.confirm else "\n\n![learning loop](docs/learning_loop.png)"
        record(
            "Learning loop" + (" with confirmed tickets" if args.confirm else ""),
            f"`{command}`: `../shared/data/it_tickets/train.csv` shuffled (seed {args.seed}); "
            f"a model trained on the first {args.start:,} tickets routes at the start, the "
            "others are POSTed to the real API (in-process TestClient, SQLite file) in "
            f"batches of {args.batch:,}; an oracle agent PATCHes every misrouted ticket to "
            "its true department (a correction), and after each batch `train_from_database` "
            f"retrains from the start tickets plus the corrections ({mode}); the new version "
            "is stored, activated and the API switched to it. Routing accuracy is that of "
            "the model active during the batch, on tickets it never saw. Held-out: the "
            "manifest's slice (1 in 5 start tickets and 1 in 5 of the database's training "
            "tickets, by hash), the new model against the one it replaces; the slice grows "
            "with misrouted (hard) tickets, so its figures fall from row to row and compare "
            "only within a row, and the start model trained on the whole start CSV, its "
            "held-out fifth included, so the first row's 'replaced' figure flatters it. "
            "Times were measured on a shared 2-core machine with other work running: noisy."
            f"\n\n{figures}\n\n{summary}{image}\n",
        )


if __name__ == "__main__":
    main()
