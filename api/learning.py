"""The learning loop: agents' department corrections (and, when asked, confirmed tickets)
retrain the department model, compared with the active one before it may route.

Training rows are the bundled tickets (or a CSV) plus the tickets of the database: a
corrected ticket with the department its last correction gave it, a confirmed one (resolved
or closed with no correction) with its department. The same text met twice keeps the newest
label: a correction wins over the CSV and over older tickets.

A fixed share of the database's tickets (chosen by a hash of their number, so that it stays
the same from one training to the next) is held out, with the bundled held-out tickets (or
the same share of the CSV): the new model never trains on that slice, and it is compared
with the active model on it. ``models activate`` compares them on it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketbot.api import BUNDLED_TICKETS
from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.api.importer import IMPORTED
from ticketbot.api.models import BoundModels
from ticketbot.api.training import DEPARTMENT_SPEC
from ticketbot.ml.store import model_payload
from ticketbot.ml.training import (
    Progress,
    TrainingDataError,
    data_sha256,
    read_labelled_rows,
    train_with_manifest,
)

BUNDLED_HELD_OUT = BUNDLED_TICKETS.with_name("department_eval.csv")
HOLD_OUT_EVERY = 5
"""One row in this many (by hash) is held out: 20%."""
MAX_REGRESSION = 0.01
"""``models activate`` refuses a version worse than the active one by more than this on the
held-out slice, unless forced."""
CONFIRMED_STATUSES = ("resolved", "closed")


@dataclass(frozen=True)
class Example:
    """One labelled text, where it came from (``bundled``/``data``, ``corrections``,
    ``confirmed``) and, for tickets, the ticket number."""

    text: str
    label: str
    source: str
    ticket: int | None = None


def same_text(text: str) -> str:
    """The key under which two texts are the same example (case and spacing aside)."""
    return " ".join(text.casefold().split())


def held_out(key: str) -> bool:
    """True for the rows of the held-out slice (stable: a hash of ``key``)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return digest[0] % HOLD_OUT_EVERY == 0


def ticket_text(title: str, description: str) -> str:
    """The text the router reads for a ticket (as ticket creation does)."""
    return f"{title}\n{description}"


def database_examples(models: BoundModels, include_confirmed: bool) -> list[Example]:
    """The corrected tickets (labelled by their last correction), the imported ones whose
    department was kept, and with ``include_confirmed`` the confirmed ones, oldest first."""
    ticket, correction = models.ticket, models.correction
    last: dict[int, Any] = {}
    for row in correction.select().order_by(correction.at, correction.id):
        last[row.ticket_id] = row
    examples: list[tuple[Any, Example]] = []
    if last:
        corrected = correction.select(correction.ticket).distinct()
        for row in ticket.select(ticket.id, ticket.title, ticket.description).where(
            ticket.id.in_(corrected)
        ):
            fix = last[row.id]
            text = ticket_text(row.title, row.description)
            examples.append((fix.at, Example(text, fix.department, "corrections", row.id)))
    # Departments kept from another help desk by `ticketbot import --keep-labels`: labels
    # agents gave there, learned like corrections.
    imported = ticket.select(
        ticket.id, ticket.title, ticket.description, ticket.department, ticket.created_at
    ).where(ticket.labelled_by == IMPORTED)
    for row in imported.iterator():
        if row.id not in last:
            text = ticket_text(row.title, row.description)
            examples.append((row.created_at, Example(text, row.department, "imported", row.id)))
    if include_confirmed:
        query = ticket.select(
            ticket.id, ticket.title, ticket.description, ticket.department, ticket.updated_at
        ).where(ticket.status.in_(CONFIRMED_STATUSES) & ticket.labelled_by.is_null())
        for row in query:
            if row.id not in last:
                text = ticket_text(row.title, row.description)
                examples.append(
                    (row.updated_at, Example(text, row.department, "confirmed", row.id))
                )
    examples.sort(key=lambda pair: pair[0])
    return [example for _, example in examples]


def file_examples(path: Path, source: str, text_column: str, label_column: str) -> list[Example]:
    texts, labels, _ = read_labelled_rows(path, text_column, label_column)
    return [Example(t, label, source) for t, label in zip(texts, labels, strict=True)]


@dataclass
class TrainingSet:
    """What a training from the database learns from and is measured on."""

    train: list[Example]
    held_out: list[Example]
    sources: dict[str, int]
    slice: dict[str, Any]


def training_set(
    models: BoundModels,
    data: Path | None = None,
    *,
    include_confirmed: bool = False,
    text_column: str = "text",
    label_column: str = "label",
) -> TrainingSet:
    """The rows of a training from the database (see the module docstring)."""
    if data is None:
        base = file_examples(BUNDLED_TICKETS, "bundled", "text", "label")
        base_held_out = file_examples(BUNDLED_HELD_OUT, "bundled", "text", "label")
        slice_definition: dict[str, Any] = {"file": BUNDLED_HELD_OUT.name}
    else:
        rows = file_examples(Path(data), "data", text_column, label_column)
        base = [r for r in rows if not held_out(same_text(r.text))]
        base_held_out = [r for r in rows if held_out(same_text(r.text))]
        slice_definition = {
            "file": str(data),
            "share": f"1 in {HOLD_OUT_EVERY} rows, by hash",
            "file_sha256": _file_sha256(Path(data)),
        }
    from_database = database_examples(models, include_confirmed)
    kept = [e for e in from_database if not held_out(f"ticket-{e.ticket}")]
    tickets_held_out = [e for e in from_database if held_out(f"ticket-{e.ticket}")]
    # The newest label of a text wins: the database's after the file's, newest last.
    by_text: dict[str, Example] = {}
    for example in base + kept:
        by_text[same_text(example.text)] = example
    train = list(by_text.values())
    sources: dict[str, int] = {}
    for example in train:
        sources[example.source] = sources.get(example.source, 0) + 1
    slice_definition["tickets"] = sorted(e.ticket for e in tickets_held_out)
    slice_definition["rule"] = (
        f"1 in {HOLD_OUT_EVERY} of the database's tickets (by a hash of their number) and "
        + ("the bundled held-out tickets" if data is None else "of the CSV's rows")
    )
    return TrainingSet(train, base_held_out + tickets_held_out, sources, slice_definition)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def accuracy(classifier: DepartmentClassifier, examples: Sequence[Example]) -> float | None:
    """The share of ``examples`` routed to their label (None for no examples)."""
    if not examples:
        return None
    texts = [e.text for e in examples]
    predicted = classifier.model.predict_proba_many(texts).argmax(axis=1)
    labels = classifier.labels
    return round(
        sum(labels[p] == e.label for p, e in zip(predicted, examples, strict=True)) / len(examples),
        4,
    )


def train_from_database(
    models: BoundModels,
    active: DepartmentClassifier,
    data: Path | None = None,
    *,
    include_confirmed: bool = False,
    text_column: str = "text",
    label_column: str = "label",
    progress: Progress | None = None,
) -> tuple[bytes, dict[str, Any], DepartmentClassifier]:
    """Train a new version; returns its bytes, its complete manifest and the model (to
    store in the registry). The manifest compares it with ``active`` on the held-out slice."""
    rows = training_set(
        models,
        data,
        include_confirmed=include_confirmed,
        text_column=text_column,
        label_column=label_column,
    )
    if not rows.train:
        raise TrainingDataError("no training rows: the data file is empty")
    texts = [e.text for e in rows.train]
    labels = [e.label for e in rows.train]
    source = "bundled tickets" if data is None else Path(data).name
    model, manifest = train_with_manifest(
        DEPARTMENT_SPEC,
        texts,
        labels,
        kind="department",
        source=f"{source} + database",
        progress=progress,
        review=True,
    )
    candidate = DepartmentClassifier(model, manifest)
    manifest["data"]["sources"] = rows.sources
    manifest["data"]["include_confirmed"] = include_confirmed
    manifest["data"]["sha256"] = data_sha256(texts, labels)
    manifest["parent"] = active.version
    data_part = [e for e in rows.held_out if e.source in FILE_SOURCES]
    manifest["held_out"] = {
        **rows.slice,
        "rows": len(rows.held_out),
        "accuracy": accuracy(candidate, rows.held_out),
        "data_rows": len(data_part),
        "data_accuracy": accuracy(candidate, data_part),
        "compared_with": {
            "version": active.version,
            "accuracy": accuracy(active, rows.held_out),
            "data_accuracy": accuracy(active, data_part),
        },
    }
    payload, full = model_payload(model, manifest)
    return payload, full, DepartmentClassifier(model, full)


def held_out_examples(models: BoundModels, manifest: dict[str, Any]) -> list[Example] | None:
    """The held-out slice a version was measured on, rebuilt from its manifest: the held-out
    tickets still in the database with their current label, and the file's rows (None when
    the file is gone or changed)."""
    definition = manifest.get("held_out") or {}
    file = definition.get("file")
    if file is None:
        return None
    if "file_sha256" in definition:
        path = Path(file)
        if not path.is_file() or _file_sha256(path) != definition["file_sha256"]:
            return None
        rows = file_examples(path, "data", "text", "label")
        examples = [r for r in rows if held_out(same_text(r.text))]
    else:
        examples = file_examples(BUNDLED_HELD_OUT, "bundled", "text", "label")
    wanted = set(definition.get("tickets") or ())
    if wanted:
        include_confirmed = bool((manifest.get("data") or {}).get("include_confirmed"))
        examples += [e for e in database_examples(models, include_confirmed) if e.ticket in wanted]
    return examples


FILE_SOURCES = ("bundled", "data")


def compare_on_held_out(
    models: BoundModels, candidate: DepartmentClassifier, active: DepartmentClassifier
) -> dict[str, Any]:
    """Both models on the candidate's held-out slice: ``rows``, ``candidate``, ``active``
    for the whole slice, and ``data_rows``, ``data_candidate``, ``data_active`` for its part
    drawn from the training file (the held-out corrections are the active model's own
    mistakes: on them it is wrong by construction, so the file's part is compared apart).
    Falls back to the figures measured at training when the slice cannot be rebuilt and the
    active version is the one compared then."""
    examples = held_out_examples(models, candidate.manifest)
    recorded = candidate.manifest.get("held_out") or {}
    if examples is None:
        compared = recorded.get("compared_with") or {}
        if compared.get("version") != active.version:
            return {"rows": 0, "candidate": None, "active": None, "data_rows": 0}
        return {
            "rows": recorded.get("rows", 0),
            "candidate": recorded.get("accuracy"),
            "active": compared.get("accuracy"),
            "data_rows": recorded.get("data_rows", 0),
            "data_candidate": recorded.get("data_accuracy"),
            "data_active": compared.get("data_accuracy"),
        }
    data = [e for e in examples if e.source in FILE_SOURCES]
    return {
        "rows": len(examples),
        "candidate": accuracy(candidate, examples),
        "active": accuracy(active, examples),
        "data_rows": len(data),
        "data_candidate": accuracy(candidate, data),
        "data_active": accuracy(active, data),
    }


def worse(figures: dict[str, Any], margin: float = MAX_REGRESSION) -> str | None:
    """Where the candidate is worse than the active model by more than ``margin`` (the
    whole slice or its file part), or None."""
    for part, name in (("", "held-out slice"), ("data_", "part of it from the training file")):
        new, old = figures.get(f"{part}candidate"), figures.get(f"{part}active")
        if new is not None and old is not None and new < old - margin:
            return f"{name}: {new:.4f} against {old:.4f}"
    return None
