"""Importing tickets from another help desk's CSV export.

Columns ``title``, ``description``, ``department``, ``status``, ``created_at`` and
``external_id`` are matched in any case (``mapping`` renames others). Rows go in batches, one
transaction each: a crash leaves no half-written batch, and a re-run skips the tickets already
there (by ``external_id``; a row without one gets a digest of its content as its id, so a
re-run never duplicates it either). Bad rows are reported with their line numbers and skipped.

``keep_labels`` keeps the file's departments and records them as agent-confirmed labels
(``labelled_by = "import"``): the learning loop trains on them. Otherwise every ticket is
routed by the classifier, in batches.

On PostgreSQL, an import of at least :data:`SET_ASIDE_MIN_ROWS` rows into a table holding
fewer tickets than the file (a help desk bringing its history) sets the list's and the
search's indexes aside and builds each once at the end, as PostgreSQL's own advice on
populating a database says: updating a dozen indexes row by row cost more than the rows
themselves. The indexes that find tickets by number and by ``external_id`` stay, so a
re-run still skips what is there. Writers wait while the indexes are built; an import that
stops before leaves them to the next run, or to the API's next start
(:func:`ticketbot.api.migrations.migrate` creates any index that is missing).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ticketbot.api import search
from ticketbot.api.bulk import insert_prepared, only, prepare
from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.api.counting import ticket_total
from ticketbot.api.lifecycle import STATUSES, routing_of
from ticketbot.api.models import (
    BoundModels,
    Ticket,
    TicketEvent,
    utc_now,
)
from ticketbot.api.search import document, indexed_in_bulk

FIELDS = ("title", "description", "department", "status", "created_at", "external_id")
BATCH = 5000
TITLE_MAX, DESCRIPTION_MAX, DEPARTMENT_MAX, EXTERNAL_ID_MAX = 200, 10_000, 100, 200
IMPORTED = "import"
_NO_RANKING: list = []  # the ranking of a ticket whose department was kept (never changed)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_STATUS_WORDS = {s: s for s in STATUSES} | {
    "in progress": "in_progress",
    "in-progress": "in_progress",
    "new": "open",
    "pending": "in_progress",
    "solved": "resolved",
    "done": "resolved",
}


class ImportError_(ValueError):
    """The file cannot be imported at all; the message says what to fix."""


@dataclass
class Report:
    """What an import did: rows read, imported, skipped as already there, bad rows."""

    rows: int = 0
    lines: int = 0  # lines of the file read after the header (a row may span several)
    imported: int = 0
    already_there: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "already_there": self.already_there,
            "bad_rows": len(self.bad),
            "bad": [{"line": line, "problem": problem} for line, problem in self.bad[:100]],
            "seconds": round(self.seconds, 2),
            "tickets_per_second": round(self.imported / self.seconds) if self.seconds else None,
        }


def columns_of(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """The position of each field in ``header`` (names in any case; ``mapping`` gives the
    file's name of a field). :class:`ImportError_` for a missing title or mapped column."""
    folded = {name.strip().casefold(): index for index, name in enumerate(header)}
    found = {}
    for name in FIELDS:
        wanted = mapping.get(name, name).strip().casefold()
        if wanted in folded:
            found[name] = folded[wanted]
        elif name in mapping:
            raise ImportError_(
                f"column {mapping[name]!r} (given for {name}) is not in the file; its columns: "
                f"{', '.join(header)}"
            )
    if "title" not in found:
        raise ImportError_(
            f"the file has no title column (its columns: {', '.join(header)}); name the one "
            "to use with --column title=NAME"
        )
    return found


def parse_time(value: str) -> datetime:
    """A creation date: ISO 8601 (a date alone, or with a time; UTC when no offset)."""
    text = value.strip().replace("/", "-")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"created_at {value!r} is not a date (use ISO 8601, 2024-03-05T14:30)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class Row:
    line: int
    title: str
    description: str
    department: str | None
    status: str
    created_at: datetime
    external_id: str


def parse_row(line: int, cells: list[str], columns: dict[str, int], keep_labels: bool) -> Row:
    """One row of the file as a ticket; ``ValueError`` says what is wrong with it."""

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    title, description = cell("title"), cell("description")
    if not title:
        raise ValueError("no title")
    if len(title) > TITLE_MAX:
        raise ValueError(f"title longer than {TITLE_MAX} characters")
    title = " ".join(title.split())  # one line
    if len(description) > DESCRIPTION_MAX:
        raise ValueError(f"description longer than {DESCRIPTION_MAX} characters")
    if _CONTROL.search(title) or _CONTROL.search(description.replace("\n", "").replace("\t", "")):
        raise ValueError("control characters in the title or description")
    department = cell("department") or None
    if keep_labels and not department:
        raise ValueError("no department (--keep-labels keeps the file's departments)")
    if department and len(department) > DEPARTMENT_MAX:
        raise ValueError(f"department longer than {DEPARTMENT_MAX} characters")
    raw_status = cell("status").casefold()
    status = _STATUS_WORDS.get(raw_status, None) if raw_status else "open"
    if status is None:
        raise ValueError(f"status {cell('status')!r} is not one of {', '.join(STATUSES)}")
    created = cell("created_at")
    created_at = parse_time(created) if created else utc_now()
    external_id = cell("external_id")
    if len(external_id) > EXTERNAL_ID_MAX:
        raise ValueError(f"external_id longer than {EXTERNAL_ID_MAX} characters")
    if not external_id:
        # No id in the file: the content's digest stands for it, so a re-run skips the row.
        digest = hashlib.sha256(f"{title}\n{description}\n{created}".encode()).hexdigest()
        external_id = f"sha256:{digest[:32]}"
    return Row(line, title, description, department, status, created_at, external_id)


def read_rows(
    path: Path, mapping: dict[str, str], keep_labels: bool, report: Report
) -> Iterator[Row]:
    """The file's good rows; bad ones go to ``report.bad``."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - the with below
    except OSError as error:
        raise ImportError_(f"{path}: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportError_(f"{path} is empty") from None
        except (UnicodeDecodeError, csv.Error) as error:
            raise ImportError_(f"{path} is not a UTF-8 CSV file ({error})") from None
        columns = columns_of(header, mapping)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as error:
                report.rows += 1
                report.lines = reader.line_num - 1
                report.bad.append((reader.line_num, f"unreadable ({error})"))
                continue
            report.lines = reader.line_num - 1
            if not any(c.strip() for c in cells):
                continue
            report.rows += 1
            try:
                yield parse_row(reader.line_num, cells, columns, keep_labels)
            except ValueError as error:
                report.bad.append((reader.line_num, str(error)))


def count_rows(path: Path) -> int:
    """Lines of the file after the header: the progress bar counts lines, read as cheaply
    as the file's size (a row whose description holds line breaks spans several)."""
    try:
        with open(path, "rb") as handle:
            return max(0, sum(1 for _ in handle) - 1)
    except OSError:
        return 0


SET_ASIDE_MIN_ROWS = 50_000
BUILD_SESSIONS = 2  # at once, each building one index after another
# Files this big are read in a process of their own (starting one costs about 0.3 s): with
# a thread, the reader and the writer took turns holding the interpreter lock.
PROCESS_MIN_BYTES = 4 * 2**20
TICKET_COLUMNS = (
    "title",
    "description",
    "status",
    "priority",
    "created_at",
    "updated_at",
    "search_text",
    "external_id",
    "revision",
    "department",
    "predicted_department",
    "confidence",
    "ranking",
    "needs_review",
    "model_version",
    "labelled_by",
)
EVENT_COLUMNS = ("kind", "data", "by", "at", "internal")


@dataclass
class Batch:
    """The next rows to write, ready for the database (made where the file is read)."""

    rows_read: int  # rows of the file read so far
    lines_read: int  # lines of the file read so far, after the header (the progress bar's)
    bad: list[tuple[int, str]]  # bad rows found since the last batch
    external_ids: list[str]
    tickets: Any  # bulk.prepare rows, without the id
    events: Any  # bulk.prepare rows, without the ticket's id


def batches(
    path: Path,
    mapping: dict[str, str],
    keep_labels: bool,
    classifier: DepartmentClassifier | None,
    size: int,
    postgres: bool,
) -> Iterator[Batch]:
    """The file's good rows, ``size`` at a time, routed unless ``keep_labels``; the last
    batch may be empty (it carries the last bad rows)."""
    report = Report()
    pending: list[Row] = []
    seen: set[str] = set()
    reported = 0

    def batch() -> Batch:
        nonlocal reported
        values = _values(pending, classifier, keep_labels)
        bad, reported = report.bad[reported:], len(report.bad)
        return Batch(
            report.rows,
            report.lines,
            bad,
            [v["external_id"] for v in values],
            prepare(Ticket, TICKET_COLUMNS, values, postgres),
            prepare(TicketEvent, EVENT_COLUMNS, _events(values), postgres),
        )

    for row in read_rows(Path(path), mapping, keep_labels, report):
        if row.external_id in seen:
            report.bad.append((row.line, f"external_id {row.external_id!r} repeated in the file"))
            continue
        seen.add(row.external_id)
        pending.append(row)
        if len(pending) >= size:
            yield batch()
            pending = []
    yield batch()


_ROUTING = ("department", "confidence", "ranking", "needs_review", "model_version", "labelled_by")
_KEPT = tuple(name for name in _ROUTING if name != "ranking")


def _events(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``created`` event of each imported ticket (its id added when it is written); the
    tickets whose departments were kept share their event's data, one per department."""
    shared: dict[tuple, dict[str, Any]] = {}
    events = []
    for v in values:
        if v["ranking"] is _NO_RANKING:
            kept = tuple(v[name] for name in _KEPT)
            data = shared.get(kept)
            if data is None:
                data = shared[kept] = {name: v[name] for name in _ROUTING}
        else:
            data = {name: v[name] for name in _ROUTING}
        events.append(
            {
                "kind": "created",
                "data": data,
                "by": IMPORTED,
                "at": v["created_at"],
                "internal": False,
            }
        )
    return events


def _read_in_process(path, mapping, keep_labels, size, postgres, out) -> None:
    """A reading process: every batch into ``out``, then None (or the error)."""
    try:
        for batch in batches(path, mapping, keep_labels, None, size, postgres):
            out.put(batch)
        out.put(None)
    except BaseException as error:  # noqa: BLE001 - handed to the writing process
        out.put(error if _picklable(error) else ImportError_(str(error)))


def _picklable(error: BaseException) -> bool:
    import pickle

    try:
        pickle.dumps(error)
    except Exception:  # noqa: BLE001 - any reason
        return False
    return True


@contextlib.contextmanager
def _reader(
    path: Path,
    mapping: dict[str, str],
    keep_labels: bool,
    classifier: DepartmentClassifier | None,
    size: int,
    postgres: bool,
) -> Iterator[Callable[[], Batch | None]]:
    """Where the batches are made while the current one is written: a process for large
    files (the classifier stays here: routed imports use a thread), else a thread. Yields
    the function that gives the next batch (None at the end)."""
    import multiprocessing
    import queue
    import threading

    try:
        large = os.path.getsize(path) >= PROCESS_MIN_BYTES
    except OSError:
        large = False
    if large and classifier is None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded process
        channel = context.Queue(maxsize=2)
        process = context.Process(
            target=_read_in_process,
            args=(path, mapping, keep_labels, size, postgres, channel),
            name="ticketbot-import-reader",
            daemon=True,
        )
        process.start()

        def following() -> Batch | None:
            while True:
                try:
                    item = channel.get(timeout=1)
                except queue.Empty:
                    if process.is_alive():
                        continue
                    try:  # what it put just before it ended
                        item = channel.get(timeout=1)
                    except queue.Empty:
                        raise ImportError_(
                            f"the process reading {path} stopped (exit code "
                            f"{process.exitcode}); run the same command again to finish"
                        ) from None
                return _given(item)

        try:
            yield following
        finally:
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
            channel.close()
        return

    channel = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches(path, mapping, keep_labels, classifier, size, postgres):
                while not stop.is_set():
                    with contextlib.suppress(queue.Full):
                        channel.put(batch, timeout=0.1)
                        break
                if stop.is_set():
                    return
            channel.put(None)
        except BaseException as error:  # noqa: BLE001 - handed to the writing thread
            channel.put(error)

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()

    try:
        yield lambda: _given(channel.get())
    finally:
        stop.set()
        while thread.is_alive():  # let it see the stop, or finish into the queue
            with contextlib.suppress(queue.Empty):
                channel.get(timeout=0.1)


def _given(item: Batch | BaseException | None) -> Batch | None:
    """What a reader handed over: a batch, None at the end, or its error raised here."""
    if isinstance(item, BaseException):
        raise item
    return item


def import_tickets(
    models: BoundModels,
    path: Path,
    *,
    keep_labels: bool,
    classifier: DepartmentClassifier | None = None,
    mapping: dict[str, str] | None = None,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    expected_rows: int | None = None,
    keep_indexes: bool = False,
    building: Callable[[], None] | None = None,
) -> Report:
    """Import ``path`` into the database of ``models``; returns what was done.

    The next batch is read, checked (and routed) while this one is written: the database's
    own work (indexes, search index) runs meanwhile. ``expected_rows`` (about how many rows
    the file holds) lets a large import on PostgreSQL set the indexes aside, unless
    ``keep_indexes``; ``building`` is called before they are built again.
    """
    import time

    import peewee

    if not keep_labels and classifier is None:
        raise ImportError_("routing needs a classifier")
    report = Report()
    started = time.perf_counter()
    postgres = isinstance(models.database, peewee.PostgresqlDatabase)
    aside = postgres and not keep_indexes and _sets_indexes_aside(models, expected_rows or 0)
    with (
        _not_waiting_for_the_disk(models.database) if postgres else contextlib.nullcontext(),
        _reader(Path(path), mapping or {}, keep_labels, classifier, batch, postgres) as following,
    ):
        while (item := following()) is not None:
            report.rows = item.rows_read
            report.bad += item.bad
            _write(models, item, report)
            if progress:
                progress(item.lines_read)
    if aside:
        if building:
            building()
        build_indexes(models)
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _not_waiting_for_the_disk(database: Any) -> Iterator[None]:
    """PostgreSQL: the import's commits do not wait for the disk (``synchronous_commit``
    off, this session only). Each batch is still whole or absent after a crash; a crash of
    the server may take back the last batches committed, which running the same command
    again writes, as after any crash."""
    database.execute_sql("SET synchronous_commit = off")
    try:
        yield
    finally:
        database.execute_sql("RESET synchronous_commit")


def set_aside_indexes(ticket: Any) -> list[str]:
    """The ticket indexes a large import builds at its end: every one but the primary key
    and the unique ``external_id``, the search index included."""
    names = [index._name for index in ticket._meta.fields_to_index() if not index._unique]
    return [*names, search.POSTGRES_INDEX]


def _sets_indexes_aside(models: BoundModels, expected_rows: int) -> bool:
    """Drop the indexes :func:`set_aside_indexes` names when the import is large and the
    table smaller than it (PostgreSQL); True when they were."""
    if expected_rows < SET_ASIDE_MIN_ROWS:
        return False
    database = models.database
    with database.atomic():
        if ticket_total(models.ticket) >= expected_rows:
            return False
        for name in set_aside_indexes(models.ticket):
            database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    return True


def build_indexes(models: BoundModels) -> None:
    """Build the indexes set aside, in two sessions that take them in turn, the search
    index first (the longest: 8.8 s at a million tickets, the others 0.6 to 3.2 s), with no
    parallel workers of PostgreSQL's own (the two sessions fill the cores); then refresh
    the planner's statistics of the table."""
    import queue
    from concurrent.futures import ThreadPoolExecutor

    database, ticket = models.database, models.ticket
    builds: queue.SimpleQueue[Callable[[], Any]] = queue.SimpleQueue()
    builds.put(lambda: search.create_search_index(database))
    for index in ticket._meta.fields_to_index():
        builds.put(lambda index=index: database.execute(ticket._schema._create_index(index)))

    def session() -> None:
        with database.connection_context():
            database.execute_sql("SET max_parallel_maintenance_workers = 0")
            try:
                while True:
                    try:
                        build = builds.get_nowait()
                    except queue.Empty:
                        return
                    build()
            finally:
                database.execute_sql("RESET max_parallel_maintenance_workers")

    with ThreadPoolExecutor(BUILD_SESSIONS, thread_name_prefix="import-index") as pool:
        for built in [pool.submit(session) for _ in range(BUILD_SESSIONS)]:
            built.result()
    database.execute_sql(f'ANALYZE "{ticket._meta.table_name}"')


def _values(
    rows: list[Row], classifier: DepartmentClassifier | None, keep_labels: bool
) -> list[dict[str, Any]]:
    """The ticket rows of a batch (routed unless ``keep_labels``)."""
    routings = (
        None if keep_labels else [classifier.route(f"{r.title}\n{r.description}") for r in rows]  # type: ignore[union-attr]
    )
    values = []
    for index, row in enumerate(rows):
        common = {
            "title": row.title,
            "description": row.description,
            "status": row.status,
            "priority": "normal",
            "created_at": row.created_at,
            "updated_at": row.created_at,
            "search_text": document(row.title, row.description),
            "external_id": row.external_id,
            "revision": 1,
        }
        if routings is None:
            common |= {
                "department": row.department,
                "predicted_department": None,
                "confidence": 1.0,
                "ranking": _NO_RANKING,
                "needs_review": False,
                "model_version": IMPORTED,
                "labelled_by": IMPORTED,
            }
        else:
            routing = routings[index]
            common |= {
                **routing_of(routing),
                "predicted_department": routing.department,
                "labelled_by": None,
            }
        values.append(common)
    return values


def _write(models: BoundModels, batch: Batch, report: Report) -> None:
    """One batch in one transaction: skip what is already there, insert the rest with their
    first history event."""
    ticket, event = models.ticket, models.event
    if not batch.external_ids:
        return
    with models.database.atomic():
        there = existing(models.database, ticket, "external_id", batch.external_ids)
        keep = [i for i, e in enumerate(batch.external_ids) if e not in there]
        report.already_there += len(batch.external_ids) - len(keep)
        if not keep:
            return
        tickets, events = batch.tickets, batch.events
        if len(keep) < len(batch.external_ids):
            tickets, events = only(tickets, keep), only(events, keep)
        numbers = _new_ids(models.database, ticket, len(keep))
        with indexed_in_bulk(models.database, ticket, numbers[0], numbers[-1]):
            insert_prepared(models.database, ticket, ("id", *TICKET_COLUMNS), tickets, numbers)
        insert_prepared(models.database, event, ("ticket", *EVENT_COLUMNS), events, numbers)
        report.imported += len(keep)


def _new_ids(database: Any, model: Any, count: int) -> list[int]:
    """``count`` ticket numbers nobody else gets: PostgreSQL's sequence, or on SQLite the
    numbers after the highest ever given (the transaction holds the write lock)."""
    import peewee

    table = model._meta.table_name
    if isinstance(database, peewee.PostgresqlDatabase):
        # The sequence named once: looked up on each row, it cost 5 times the numbers.
        (sequence,) = database.execute_sql(
            f"SELECT pg_get_serial_sequence('{table}', 'id')"
        ).fetchone()
        cursor = database.execute_sql(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (sequence, count)
        )
        return [row[0] for row in cursor.fetchall()]
    highest = database.execute_sql(
        f'SELECT MAX(n) FROM (SELECT MAX(id) AS n FROM "{table}" UNION ALL '
        f"SELECT seq FROM sqlite_sequence WHERE name = '{table}')"
    ).fetchone()[0]
    start = (highest or 0) + 1
    return list(range(start, start + count))


def existing(database: Any, model: Any, key: str, wanted: list[Any]) -> dict[Any, int]:
    """``{value: id}`` of the rows whose ``key`` column holds one of ``wanted`` (one
    statement: the list goes as one array)."""
    import json

    import peewee

    table, column = model._meta.table_name, model._meta.fields[key].column_name
    if isinstance(database, peewee.PostgresqlDatabase):
        sql = f'SELECT id, "{column}" FROM "{table}" WHERE "{column}" = ANY(%s)'
        cursor = database.execute_sql(sql, (list(wanted),))
    else:
        sql = (
            f'SELECT id, "{column}" FROM "{table}" '
            f'WHERE "{column}" IN (SELECT value FROM json_each(?))'
        )
        cursor = database.execute_sql(sql, (json.dumps(list(wanted)),))
    return {value: number for number, value in cursor.fetchall()}
