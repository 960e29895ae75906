"""Group commit: the writes that wait for SQLite's one writer go in together, in one
transaction, with one commit.

SQLite takes one write transaction at a time, and each commit costs far more than the rows
it holds: every page the rows touched (the table, each of its indexes, the search index) is
written to the write-ahead log again, and with ``synchronous=FULL`` the log is flushed to
the disk. When writers queue, the one whose turn comes writes the rows of every writer
waiting behind it, each in a savepoint of its own (a row that fails is rolled back alone and
fails its own request), and commits once; each request answers only once the commit holding
its row is done, so no request is told its row is stored before it is, whatever the
``synchronous`` setting. Alone, a writer commits its row as before.

This is the *leader and followers* scheme of database group commit (PostgreSQL's
``commit_delay``, MySQL's binary-log group commit), without any waiting: a batch is whatever
queued while the previous transaction ran.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import peewee

T = TypeVar("T")


class _Write(Generic[T]):
    __slots__ = ("job", "done", "result", "error", "alone")

    def __init__(self, job: Callable[[], T]) -> None:
        self.job = job
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None
        # The transaction holding this write failed as a whole (its commit, say): the write
        # is run again by its own thread, alone, so that each request meets its own error.
        self.alone = False


class GroupCommit:
    """Runs write jobs under ``lock`` (the process's SQLite writer lock), those that queue
    meanwhile in one transaction.

    A job runs on the connection of whichever thread leads its batch, so it must use only
    ``database`` (no connection of its own) and leave nothing behind but its rows: it may run
    twice if the first transaction fails as a whole.
    """

    def __init__(
        self,
        database: peewee.Database,
        lock: threading.Lock,
        observe: Callable[[int], None] | None = None,
    ) -> None:
        self._database = database
        self._lock = lock
        # Called with the number of writes of each transaction, once it is over.
        self._observe = observe
        self._queue: list[_Write[Any]] = []
        self._queue_lock = threading.Lock()
        self.transactions = 0
        self.writes = 0

    def run(self, job: Callable[[], T]) -> T:
        """``job()``'s result once the transaction holding it has committed; its exception
        if it failed (its rows rolled back, the other jobs of its batch unharmed)."""
        write: _Write[T] = _Write(job)
        with self._queue_lock:
            self._queue.append(write)
        with self._lock:
            # Only the holder of the lock takes writes off the queue, and it finishes them
            # before letting go: a write not done yet is still queued, and this thread leads.
            if not write.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if write.alone:
            with self._lock, self._database.atomic():
                return job()
        if write.error is not None:
            raise write.error
        return write.result  # type: ignore[return-value]

    def _commit(self, batch: list[_Write[Any]]) -> None:
        try:
            with self._database.atomic():
                if len(batch) == 1:
                    batch[0].result = batch[0].job()
                else:
                    for write in batch:
                        try:
                            with self._database.atomic():  # a savepoint
                                write.result = write.job()
                        except Exception as error:  # noqa: BLE001 - that request's own error
                            write.error = error
        except BaseException as error:
            for write in batch:
                if len(batch) == 1:
                    write.error = error
                elif write.error is None:
                    write.alone = True
            if not isinstance(error, Exception):
                raise
        finally:
            self.transactions += 1
            self.writes += len(batch)
            for write in batch:
                write.done = True
            if self._observe is not None:
                self._observe(len(batch))
