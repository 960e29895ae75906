"""Versioned schema migrations, recorded in the ``schema_version`` table.

Version 1 is the schema of release 0.1 (tickets and API keys). Version 2 adds the ticket's
life: status moves, priority, assignee, ``updated_at``, the department predicted at creation
and a revision for ETags, plus comments, the append-only history and the audit of
deletions; every existing ticket gets its "created" event, so histories are complete.
Version 3 adds the learning loop: department corrections (back-filled from the department
changes the history already holds) and the model registry (stored versions and
activations). Version 4 is for a million tickets: ``external_id`` and ``labelled_by`` for
imports, one index per list filter followed by the list's order (instead of one per column),
and the full-text search index (:mod:`ticketbot.api.search`). Version 5 adds the queue
indexes (filters combined, :mod:`ticketbot.api.listing`) and, on SQLite, a search index
whose order is the tickets' creation order. Version 6, on PostgreSQL, keeps the number of
tickets (:mod:`ticketbot.api.counting`); on SQLite it changes nothing. Version 7 stores the
searched text as its words alone (:func:`ticketbot.api.search.document`), which PostgreSQL
indexes without a regular expression; on SQLite it changes nothing.

A migration runs inside one transaction that first takes a lock every process agrees on
(SQLite: the write lock, taken as the transaction starts; PostgreSQL: an advisory lock), then
reads the version again: several processes starting at once migrate once. A database whose
version is newer than this code is refused (:class:`SchemaTooNew`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import peewee
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator
from playhouse.migrate import migrate as apply

from ticketbot.api.counting import create_ticket_count
from ticketbot.api.search import create_search_index, cut_stored_text

if TYPE_CHECKING:
    from ticketbot.api.models import BoundModels

log = logging.getLogger("ticketbot.api")

LATEST = 7
_ADVISORY_LOCK = 0x7469636B  # "tick": the lock every ticketbot process takes to migrate


class SchemaTooNew(Exception):
    """The database was upgraded by a newer ticketbot; the message says what to do."""


def current_version(models: BoundModels) -> int:
    """The schema version of the database: 0 when it is empty, 1 for release 0.1 (which
    recorded no version), else what ``schema_version`` says."""
    database = models.database
    tables = set(database.get_tables())
    if models.schema_version._meta.table_name in tables:
        row = models.schema_version.select().order_by(models.schema_version.id.desc()).first()
        if row is not None:
            return row.version
    return 1 if models.ticket._meta.table_name in tables else 0


def pending(models: BoundModels) -> list[int]:
    """The versions a migration would apply, in order (empty when up to date)."""
    version = current_version(models)
    _refuse_newer(version)
    if version == 0:
        return [LATEST]  # an empty database gets the latest schema at once
    return list(range(version + 1, LATEST + 1))


def _refuse_newer(version: int) -> None:
    if version > LATEST:
        raise SchemaTooNew(
            f"the database is at schema version {version}, newer than this ticketbot "
            f"(version {LATEST}): upgrade ticketbot to use it (it was never changed here)"
        )


def migrate(models: BoundModels) -> int:
    """Bring the database to :data:`LATEST`; returns the version it was at. Idempotent and
    safe to run from several processes at once."""
    database = models.database
    with database.atomic():
        # SQLite: ticketbot's transactions begin IMMEDIATE (ticketbot.api.db), so the write
        # lock is already held. PostgreSQL: an advisory lock, released with the transaction.
        if isinstance(database, peewee.PostgresqlDatabase):
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
        version = current_version(models)
        _refuse_newer(version)
        if version == LATEST:
            # Up to date; a table lost since (dropped, emptied database) comes back empty.
            database.create_tables(models.tables, safe=True)
            create_search_index(database)
            create_ticket_count(database)
            return version
        if version == 0:
            database.create_tables(models.tables, safe=True)
            create_search_index(database)
            create_ticket_count(database)
        else:
            for step in range(version + 1, LATEST + 1):
                _STEPS[step](models)
                log.warning("database schema upgraded from version %s to %s", step - 1, step)
        models.schema_version.delete().execute()
        models.schema_version.create(version=LATEST)
    return version


def _migrator(database: peewee.Database):
    if isinstance(database, peewee.PostgresqlDatabase):
        return PostgresqlMigrator(database)
    return SqliteMigrator(database)


def _COLUMNS_OF_2(ticket):  # noqa: N802 - reads as the constant it stands for
    """The ticket columns of schema version 2 (a migration step must not read later ones)."""
    names = (
        "id", "title", "description", "department", "confidence", "ranking", "needs_review",
        "model_version", "status", "created_at", "created_by", "search_text", "priority",
        "assignee", "updated_at", "predicted_department", "revision",
    )  # fmt: skip
    return [ticket._meta.fields[name] for name in names]


def _to_2(models: BoundModels) -> None:
    """Release 0.1 -> 2: the ticket's life, comments, history and audit."""
    database = models.database
    ticket = models.ticket
    migrator = _migrator(database)
    columns = {column.name for column in database.get_columns(ticket._meta.table_name)}
    fields = ticket._meta.fields
    operations = [
        migrator.add_column(ticket._meta.table_name, name, fields[name])
        for name in ("priority", "assignee", "updated_at", "predicted_department", "revision")
        if name not in columns
    ]
    apply(*operations)
    for name in ("priority", "assignee", "updated_at"):
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "ticket_{name}" ON "ticket" ("{name}")')
    # Release 0.1 never changed a ticket after creating it (nor its department).
    ticket.update(updated_at=ticket.created_at, predicted_department=ticket.department).execute()
    # Only the new tables: the ticket table's indexes of later versions need their columns.
    new = [models.comment, models.event, models.audit, models.health_check, models.schema_version]
    database.create_tables(new, safe=True)
    # Every ticket's history starts with its creation, as the API now records it.
    event = models.event
    names = {
        key.id: key.name for key in models.api_key.select(models.api_key.id, models.api_key.name)
    }
    rows = [
        {
            "ticket": row.id,
            "kind": "created",
            "data": {
                "department": row.department,
                "confidence": row.confidence,
                "ranking": row.ranking,
                "needs_review": row.needs_review,
                "model_version": row.model_version,
            },
            "by": names.get(row.created_by_id),
            "at": row.created_at,
        }
        for row in ticket.select(*_COLUMNS_OF_2(ticket))
    ]
    for start in range(0, len(rows), 500):
        event.insert_many(rows[start : start + 500]).execute()


def _to_3(models: BoundModels) -> None:
    """2 -> 3: corrections and the model registry. Every department change an agent made
    since version 2 is in the history: it becomes a correction."""
    models.database.create_tables(
        [models.correction, models.model_version, models.model_activation], safe=True
    )
    event, ticket = models.event, models.ticket
    rows = []
    for row in event.select().where(event.kind == "changed").order_by(event.at, event.id):
        if (row.data or {}).get("field") != "department":
            continue
        current = ticket.select(*_COLUMNS_OF_2(ticket)).where(ticket.id == row.ticket_id).first()
        if current is None:
            continue
        rows.append(
            {
                "ticket": row.ticket_id,
                "predicted_department": current.predicted_department or row.data.get("from"),
                "confidence": current.confidence,
                "model_version": current.model_version,
                "from_department": row.data.get("from"),
                "department": row.data.get("to"),
                "by": row.by,
                "at": row.at,
            }
        )
    for start in range(0, len(rows), 500):
        models.correction.insert_many(rows[start : start + 500]).execute()


# The single-column indexes of versions 1 to 3, replaced by the composite ones of version 4.
_OLD_INDEXES = (
    "ticket_department",
    "ticket_status",
    "ticket_created_at",
    "ticket_created_by_id",
    "ticket_priority",
    "ticket_assignee",
    "ticket_updated_at",
)


def _to_4(models: BoundModels) -> None:
    """3 -> 4: imports' columns, composite list indexes, the full-text search index."""
    database = models.database
    ticket = models.ticket
    migrator = _migrator(database)
    columns = {column.name for column in database.get_columns(ticket._meta.table_name)}
    fields = ticket._meta.fields
    apply(
        *[
            migrator.add_column(ticket._meta.table_name, name, fields[name])
            for name in ("external_id", "labelled_by")
            if name not in columns
        ]
    )
    for name in _OLD_INDEXES:
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    ticket._schema.create_indexes(safe=True)
    # The search index came with version 4; version 5 (the next step) builds its new form.


def _to_5(models: BoundModels) -> None:
    """4 -> 5: the queue indexes (department, assignee or status, then status, priority and
    the list's order); on SQLite, the search index in creation order (rebuilt)."""
    models.ticket._schema.create_indexes(safe=True)
    create_search_index(models.database, rebuild=True)


def _to_6(models: BoundModels) -> None:
    """5 -> 6: PostgreSQL keeps the number of tickets, for deep pages (counted once here)."""
    create_ticket_count(models.database)


def _to_7(models: BoundModels) -> None:
    """6 -> 7: the searched text as its words alone (rewrites PostgreSQL's ticket table)."""
    cut_stored_text(models.database)


_STEPS: dict[int, Callable[[BoundModels], None]] = {
    2: _to_2,
    3: _to_3,
    4: _to_4,
    5: _to_5,
    6: _to_6,
    7: _to_7,
}
