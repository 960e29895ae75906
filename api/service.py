"""Per-application state shared by the routes: database, tables, classifier, settings."""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import peewee
from fastapi import Request

from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.api.keys import KeyStore
from ticketbot.api.models import BoundModels
from ticketbot.api.settings import Settings

log = logging.getLogger("ticketbot.api")


@dataclass
class Service:
    """What one API instance works with. Routes get it with :func:`get_service`."""

    settings: Settings
    models: BoundModels
    classifier: DepartmentClassifier
    keys: KeyStore = field(init=False)
    write_lock: Any = field(init=False)
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

    @property
    def database(self) -> peewee.Database:
        """The Peewee database."""
        return self.models.database

    def ensure_schema(self) -> None:
        """Create the tables once; retried on later requests if the database was down."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                self.models.create_tables()
                self._schema_ready = True

    def try_ensure_schema(self) -> bool:
        """Like :meth:`ensure_schema` but logs instead of raising; True when ready."""
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
