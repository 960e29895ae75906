"""Opening the database named by a URL, with the settings each engine needs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import peewee
from playhouse import db_url
from playhouse.pool import PooledSqliteDatabase

from ticketbot.api.settings import Settings


class DatabaseConfigError(Exception):
    """The database URL cannot be used; the message says why and what to do."""


def connect_database(settings: Settings) -> peewee.Database:
    """A Peewee database for ``settings.database_url`` (not connected yet).

    SQLite runs in WAL mode with a busy timeout and foreign keys on; both engines go through a
    connection pool, since every request opens and closes its connection (see
    :class:`SqlitePool` for SQLite's reason).
    """
    url = settings.database_url
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return _sqlite(url, settings)
    try:
        import psycopg2  # noqa: F401 - only checking that the driver is there
    except ImportError:
        raise DatabaseConfigError(
            "PostgreSQL needs the psycopg2 driver: pip install 'ticketbot[postgres]'"
        ) from None
    pooled = "postgresql+pool" + url[len(scheme) :]
    extra = {}
    if settings.postgres_random_page_cost:
        # The planner's price of a page read out of order, for this app's sessions only.
        # PostgreSQL's default (4) assumes spinning disks: with it, a search filtered by
        # department and status counted through the department's whole index (77 ms at a
        # million tickets) instead of the search index's matches alone (7 ms).
        given = db_url.parse(pooled).get("options", "")
        cost = f"-c random_page_cost={settings.postgres_random_page_cost:g}"
        extra["options"] = f"{given} {cost}".strip()
    return db_url.connect(
        pooled,
        max_connections=settings.postgres_pool_size,
        stale_timeout=300,
        timeout=30,
        connect_timeout=5,
        **extra,
    )


def _sqlite(url: str, settings: Settings) -> peewee.Database:
    parsed = db_url.parse(url)
    path = parsed.get("database") or ""
    if not path or path == ":memory:":
        raise DatabaseConfigError(
            "an in-memory SQLite database would lose every ticket: give a file, "
            "e.g. sqlite:///tickets.db"
        )
    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return SqlitePool(
        str(Path(path).expanduser()),
        max_connections=None,
        stale_timeout=300,
        # A pooled connection serves one thread at a time, not always the one that opened it.
        check_same_thread=False,
        pragmas={
            "journal_mode": "wal",
            "busy_timeout": settings.sqlite_busy_timeout_ms,
            "foreign_keys": 1,
            "synchronous": settings.sqlite_synchronous,
            "cache_size": -1024 * settings.sqlite_cache_mib,  # negative: in KiB
            "mmap_size": 2**20 * settings.sqlite_mmap_mib,
        },
        timeout=settings.sqlite_busy_timeout_ms / 1000,
        # Take the write lock when a transaction starts, so concurrent writers wait for each
        # other (busy timeout) instead of failing on a read-to-write lock upgrade.
        lock_type="IMMEDIATE",
    )


class SqlitePool(PooledSqliteDatabase):
    """SQLite connections kept open between requests.

    Closing the last connection to a WAL database checkpoints it: about 1 ms per request,
    measured, on a path that takes 3 ms. A pooled connection to a file deleted or replaced
    since it was opened is discarded, so a new one opens the file the path names now.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._files: dict[int, tuple[int, int] | None] = {}

    def _file(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.database)
        except OSError:
            return None
        return (found.st_dev, found.st_ino)

    def _connect(self):
        connection = super()._connect()
        self._files.setdefault(self.conn_key(connection), self._file())
        return connection

    def _is_closed(self, connection) -> bool:
        if super()._is_closed(connection):
            return True
        opened = self._files.get(self.conn_key(connection))
        if opened is None or opened != self._file():
            self._close_raw(connection)
            return True
        return False

    def _close_raw(self, connection) -> None:
        self._files.pop(self.conn_key(connection), None)
        super()._close_raw(connection)


def close_database(database: peewee.Database) -> None:
    """Close every connection of ``database`` (all of a pool's)."""
    if hasattr(database, "close_all"):
        database.close_all()
    elif not database.is_closed():
        database.close()


_PASSWORD = re.compile(r"^(?P<head>[a-zA-Z][\w+.-]*://[^:/@]*:)[^@]*(?P<tail>@)")


def redacted(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***`` (for messages and logs)."""
    return _PASSWORD.sub(r"\g<head>***\g<tail>", url)


def describe(database: peewee.Database) -> str:
    """A human description of where the data lives (no password)."""
    if isinstance(database, peewee.SqliteDatabase):
        return f"SQLite file {database.database}"
    params = database.connect_params
    host = params.get("host", "localhost")
    port = params.get("port", 5432)
    return f"PostgreSQL database {database.database!r} on {host}:{port}"
