"""Full-text search of tickets, with each engine's own index.

Semantics, the same on both engines: ``q`` is cut into words (letters and digits; case and
accents ignored), and a ticket matches when each word begins a word of its title or
description ("imprim" finds "L'imprimante du 2e", "vpn erreur" finds "Erreur 809 sur le VPN").

- SQLite: an FTS5 table (``unicode61 remove_diacritics 2``) over the ticket's folded text
  (``search_text``), kept in step with the ticket table by triggers, so it holds every
  ticket, imported or created, and follows updates and deletes.
- PostgreSQL: a GIN index on ``to_tsvector('simple', ...)`` of the same folded text, with its
  punctuation turned to spaces so that both engines cut words alike; queries use prefix
  terms (``word:*``). The text is folded (lowercase, no accents) by ticketbot before it is
  stored, which does what ``unaccent`` would, with no extension to install.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import peewee

from ticketbot.api.models import search_key

_WORDS = re.compile(r"[^\W_]+")
SQLITE_TABLE = "ticket_search"
POSTGRES_DOCUMENT = (
    "to_tsvector('simple', regexp_replace(search_text, '[[:punct:][:space:]]+', ' ', 'g'))"
)
_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TABLE} USING fts5(search_text, "
    "content='ticket', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TABLE}_insert AFTER INSERT ON ticket BEGIN "
    f"INSERT INTO {SQLITE_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TABLE}_delete AFTER DELETE ON ticket BEGIN "
    f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TABLE}_update AFTER UPDATE OF search_text ON ticket "
    f"BEGIN INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {SQLITE_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
)


@contextmanager
def indexed_in_bulk(database: peewee.Database, model: type[peewee.Model], first: int, last: int):
    """Around a bulk insert of the tickets numbered ``first`` to ``last``, inside its
    transaction: on SQLite the insert trigger is set aside and the batch indexed in one
    statement afterwards (about 8 times cheaper than row by row). DDL is transactional in
    SQLite and the transaction holds the write lock, so no other writer ever sees the
    trigger missing; a rollback puts it back. PostgreSQL's index needs nothing."""
    if isinstance(database, peewee.PostgresqlDatabase):
        yield
        return
    database.execute_sql(f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_insert")
    yield
    table = model._meta.table_name
    database.execute_sql(
        f'INSERT INTO {SQLITE_TABLE}(rowid, search_text) SELECT id, search_text FROM "{table}" '
        "WHERE id BETWEEN ? AND ?",
        (first, last),
    )
    database.execute_sql(_SQLITE_DDL[1])


def words(q: str) -> list[str]:
    """The words of a search, folded as the stored text is."""
    return _WORDS.findall(search_key(q))


def create_search_index(database: peewee.Database, *, rebuild: bool = False) -> None:
    """Create the search index if missing; ``rebuild`` fills it from the existing tickets
    (a migration: SQLite's FTS table starts empty, PostgreSQL's index is built at once)."""
    if isinstance(database, peewee.PostgresqlDatabase):
        database.execute_sql(
            f"CREATE INDEX IF NOT EXISTS ticket_search ON ticket USING gin ({POSTGRES_DOCUMENT})"
        )
        return
    for statement in _SQLITE_DDL:
        database.execute_sql(statement)
    if rebuild:
        database.execute_sql(f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('rebuild')")


def matching(ticket: type[peewee.Model], q: str) -> peewee.Expression | None:
    """The condition "each word of ``q`` begins a word of the ticket" (None: no word)."""
    found = words(q)
    if not found:
        return None
    database = ticket._meta.database
    if isinstance(database, peewee.PostgresqlDatabase):
        query = " & ".join(f"{word}:*" for word in found)
        return peewee.SQL(f"{POSTGRES_DOCUMENT} @@ to_tsquery('simple', %s)", (query,))
    query = " ".join(f'"{word}"*' for word in found)
    rows = peewee.SQL(f"(SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH ?)", (query,))
    return ticket.id.in_(rows)
