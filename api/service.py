"""Per-application state shared by the routes: database, tables, classifier, settings."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import peewee
from fastapi import Request

from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.api.db import SqlitePool
from ticketbot.api.group_commit import GroupCommit
from ticketbot.api.keys import KeyStore
from ticketbot.api.models import BoundModels, missing_table
from ticketbot.api.notify import EventNotifier
from ticketbot.api.observability import Metrics
from ticketbot.api.settings import Settings

log = logging.getLogger("ticketbot.api")
T = TypeVar("T")


@dataclass
class Service:
    """What one API instance works with. Routes get it with :func:`get_service`."""

    settings: Settings
    models: BoundModels
    classifier: DepartmentClassifier
    metrics: Metrics
    notifier: EventNotifier = field(default_factory=lambda: EventNotifier([]))
    keys: KeyStore = field(init=False)
    write_lock: Any = field(init=False)
    group_commit: GroupCommit | None = field(init=False)
    _schema_ready: bool = False
    _schema_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.keys = KeyStore(self.models)
        # SQLite has one writer at a time. Queueing this process's writers on a lock wakes
        # the next one as soon as the write commits, where SQLite's busy handler would make
        # it sleep and retry (up to 100 ms at a time): same work, far shorter tail latency.
        # Other processes (workers) still wait through the busy timeout.
        sqlite = isinstance(self.models.database, peewee.SqliteDatabase)
        self.write_lock = threading.Lock() if sqlite else contextlib.nullcontext()
        # And the tickets created while the writer works go in with the next commit.
        self.group_commit = (
            GroupCommit(self.database, self.write_lock, self.metrics.group_commit.observe)
            if sqlite
            else None
        )

    def write(self, job: Callable[[], T], *, one_statement: bool = False) -> T:
        """``job()`` in a write transaction, committed when it returns; on SQLite, in the
        same transaction as the jobs queued meanwhile (:mod:`ticketbot.api.group_commit`).
        On PostgreSQL, a job that runs ``one_statement`` runs alone (a statement is atomic by
        itself: no BEGIN and COMMIT to wait for). The caller holds a connection
        (``database.connection_context()``)."""
        if self.group_commit is not None:
            return self.group_commit.run(job)
        if one_statement:
            return job()
        with self.database.atomic():
            return job()

    @property
    def database(self) -> peewee.Database:
        """The Peewee database."""
        return self.models.database

    def ensure_schema(self) -> None:
        """Bring the database to the latest schema once (migrations, or the tables of an
        empty database); retried on later requests if the database was down."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                self.models.create_tables()
                self._schema_ready = True

    def schema_lost(self) -> None:
        """A request found a table missing (file deleted, database emptied): the next one
        creates the tables again."""
        if self._schema_ready:
            log.warning("a table of the database is missing: creating them again on next use")
        self._schema_ready = False

    def database_problem(self) -> str | None:
        """What keeps the database from serving, or None: it answers, holds ticketbot's
        tables (created again, and logged, when they are gone) and takes writes (a row
        written and rolled back)."""
        for attempt in range(2):
            try:
                if isinstance(self.database, SqlitePool):
                    # A connection kept open still writes to a file made read-only since:
                    # the probe opens its own, as the next requests' would have to.
                    self.database.close_idle()
                with self.database.connection_context():
                    self._probe()
                return None
            except peewee.PeeweeException as error:
                if attempt == 0 and missing_table(error):
                    try:
                        self._schema_ready = False
                        with self.database.connection_context():
                            self.ensure_schema()
                    except peewee.PeeweeException as again:
                        return _explain(again)
                    log.warning(
                        "the database had lost its tables (file deleted or emptied?): they "
                        "were created again, empty"
                    )
                    continue
                return _explain(error)
        return None

    def _probe(self) -> None:
        """Read both tables and write a row that is rolled back; raises on any failure."""
        models = self.models
        models.ticket.select().limit(1).execute()
        models.api_key.select().limit(1).execute()
        with self.write_lock, self.database.atomic() as transaction:
            models.health_check.create()
            transaction.rollback()

    def try_ensure_schema(self) -> bool:
        """Like :meth:`ensure_schema` but logs instead of raising; True when ready. A
        database newer than this code still raises: the API must not start on it."""
        try:
            self.ensure_schema()
        except peewee.PeeweeException as error:
            log.warning("database not reachable yet (%s); will retry on the next request", error)
            return False
        return True


async def get_service(request: Request) -> Service:
    """FastAPI dependency: the :class:`Service` of the application serving ``request``.

    Async because it does no I/O: a sync dependency would cost a trip through the pool.
    """
    return request.app.state.service


def _explain(error: BaseException) -> str:
    """One line saying what is wrong with the database."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return f"the database is read-only ({text})"
    if "disk is full" in lowered or "no space" in lowered:
        return f"the disk is full ({text})"
    if missing_table(error):
        return f"the database has no ticketbot tables ({text})"
    return f"the database cannot be used ({text})"
