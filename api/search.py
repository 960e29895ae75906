"""Full-text search of tickets, with each engine's own index.

Semantics, the same on both engines: ``q`` is cut into words (letters and digits; case and
accents ignored), and a ticket matches when each word begins a word of its title or
description ("imprim" finds "L'imprimante du 2e", "vpn erreur" finds "Erreur 809 sur le VPN").

- SQLite: a contentless FTS5 table (``unicode61 remove_diacritics 2``) over the ticket's
  folded text (``search_text``), kept in step with the ticket table by triggers, so it holds
  every ticket, imported or created, and follows updates and deletes. Its row numbers are
  in creation order (:data:`ID_BITS`): a newest-first search walks the index from its end
  and stops after a page, however common the words.
- PostgreSQL: a GIN index on a stored generated column, the ``tsvector`` whose lexemes are
  the words of the same folded text; queries use prefix terms (``'word':*``).

The text both engines index (``search_text``) is made by :func:`document`: the title's and
the description's words, folded (lowercase, no accents, which does what ``unaccent`` would,
with no extension to install) and joined by single spaces, so that both engines cut words
alike. Until schema 7 it kept its punctuation, and PostgreSQL's column turned it to spaces
with a regular expression, then parsed it with ``to_tsvector('simple', ...)``: about a third
of an import's time on PostgreSQL (the step to 7 cuts the stored text once).
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from datetime import datetime

import peewee

from ticketbot.api import lifecycle
from ticketbot.api.models import search_key

_WORDS = re.compile(r"[^\W_]+")
SQLITE_TABLE = "ticket_fts"
# The SQLite index's row number for a ticket: its creation second, then its id (31 bits),
# negated, so that the index's own order is newest first ("ORDER BY rowid" walks it and stops
# after a page) and the id reads back from the low bits. Good until 2106 and for ids
# below 2**31.
ID_BITS = 31
ID_MASK = (1 << ID_BITS) - 1
# Negated, so that newest first is the index's ascending order: FTS5 walks a prefix query's
# matches a quarter to a third faster that way (measured at a million tickets).
_SEQ = f"(-((CAST(strftime('%s', {{0}}.created_at) AS INTEGER) << {ID_BITS}) | {{0}}.id))"
# The stored text's words are the lexemes, as they are: no parser, no dictionary (which cost
# an import on PostgreSQL 14 µs a ticket), no positions (no search needs them); queries are
# tsquery values made of the same words (matching()). array_remove: a text that a tool
# stored with two spaces in a row still indexes.
POSTGRES_DOCUMENT = "array_to_tsvector(array_remove(string_to_array(search_text, ' '), ''))"
LONGEST_WORD = 255  # letters; longer runs are not words anyone searches (nor indexable)
# Schema 5 and 6's text kept its punctuation: the step to 7 cuts it as document() does.
_POSTGRES_CUT = (
    "btrim(regexp_replace(regexp_replace(search_text, '[[:punct:][:space:]]+', ' ', 'g'), "
    f"'[^ ]{{{LONGEST_WORD}}}[^ ]+', ' ', 'g'))"  # (PostgreSQL counts to 255 at most)
)
POSTGRES_COLUMN = "search_vector"  # the document, stored (schema 5)
POSTGRES_INDEX = "ticket_search_vector"
# Contentless: the ticket table holds the text; the triggers hand the old text to 'delete'.
_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TABLE} USING fts5(search_text, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TABLE}_insert AFTER INSERT ON ticket BEGIN "
    f"INSERT INTO {SQLITE_TABLE}(rowid, search_text) VALUES ({_SEQ.format('new')}, "
    "new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TABLE}_delete AFTER DELETE ON ticket BEGIN "
    f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, search_text) "
    f"VALUES ('delete', {_SEQ.format('old')}, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TABLE}_update AFTER UPDATE OF search_text, created_at "
    f"ON ticket BEGIN INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, search_text) "
    f"VALUES ('delete', {_SEQ.format('old')}, old.search_text); "
    f"INSERT INTO {SQLITE_TABLE}(rowid, search_text) VALUES ({_SEQ.format('new')}, "
    "new.search_text); END",
)
# Schema version 4's index (an external-content table keyed by the ticket id).
_SQLITE_BEFORE_5 = (
    "DROP TRIGGER IF EXISTS ticket_search_insert",
    "DROP TRIGGER IF EXISTS ticket_search_delete",
    "DROP TRIGGER IF EXISTS ticket_search_update",
    "DROP TABLE IF EXISTS ticket_search",
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
        f"INSERT INTO {SQLITE_TABLE}(rowid, search_text) SELECT {_SEQ.format(table)}, "
        f'search_text FROM "{table}" WHERE id BETWEEN ? AND ? '
        "ORDER BY 1",  # in the index's order: FTS5 appends rows in order fastest
        (first, last),
    )
    database.execute_sql(_SQLITE_DDL[1])


def _alone(character: str) -> str:
    """What :func:`document` makes of one character: folded, or a space between words."""
    return "".join(c if _WORDS.fullmatch(c) else " " for c in search_key(character))


# The characters of nearly every ticket (ASCII, the Latin letters, their combining marks,
# typographic punctuation), each mapped in one str.translate to what document() makes of
# it: folding them does not depend on their neighbours. Half the cost of folding, then
# finding the words (measured on generated tickets), which an import does for every one.
_ONE_BY_ONE = str.maketrans(
    {
        chr(code): _alone(chr(code))
        for code in [
            *range(0x250),
            *range(0x300, 0x370),
            *range(0x1E00, 0x1F00),
            *range(0x2000, 0x2070),
        ]
    }
)


def document(title: str, description: str) -> str:
    """A ticket's ``search_text``: the words of its title and description, folded, one
    space between them (those over :data:`LONGEST_WORD` letters left out)."""
    text = f"{title}\n{description}"
    mapped = text.translate(_ONE_BY_ONE)
    found = mapped.split() if mapped.isascii() else words(text)  # else: another script
    if len(text) > LONGEST_WORD and max(map(len, found), default=0) > LONGEST_WORD:
        found = [word for word in found if len(word) <= LONGEST_WORD]
    return " ".join(found)


def words(q: str) -> list[str]:
    """The words of a search, folded as the stored text is."""
    return _WORDS.findall(search_key(q))


def cut_stored_text(database: peewee.Database) -> None:
    """Schema 6 -> 7 on PostgreSQL: the stored text of the tickets made before loses its
    punctuation as PostgreSQL's document did, and the document becomes the text itself
    (one rewrite of the table, its search index built again). SQLite's index cuts words
    itself: its old texts stay as they are."""
    if not isinstance(database, peewee.PostgresqlDatabase):
        return
    database.execute_sql(
        f"ALTER TABLE ticket DROP COLUMN IF EXISTS {POSTGRES_COLUMN}, "
        f"ALTER COLUMN search_text TYPE text USING {_POSTGRES_CUT}, "
        f"ADD COLUMN {POSTGRES_COLUMN} tsvector GENERATED ALWAYS AS ({POSTGRES_DOCUMENT}) STORED"
    )
    create_search_index(database)


def create_search_index(database: peewee.Database, *, rebuild: bool = False) -> None:
    """Create the search index if missing; ``rebuild`` fills it from the existing tickets
    (a migration: SQLite's FTS table starts empty, PostgreSQL's index is built at once)."""
    if isinstance(database, peewee.PostgresqlDatabase):
        columns = {column.name for column in database.get_columns("ticket")}
        if POSTGRES_COLUMN not in columns:
            # Stored, so that a row's check costs a read, not building its tsvector: a
            # newest-first page walks the created_at index and checks each row. Adding it
            # rewrites the table once (74 s at a million tickets).
            database.execute_sql(
                f"ALTER TABLE ticket ADD COLUMN {POSTGRES_COLUMN} tsvector "
                f"GENERATED ALWAYS AS ({POSTGRES_DOCUMENT}) STORED"
            )
        database.execute_sql(
            f"CREATE INDEX IF NOT EXISTS {POSTGRES_INDEX} ON ticket USING gin ({POSTGRES_COLUMN})"
        )
        database.execute_sql("DROP INDEX IF EXISTS ticket_search")  # schema 4's, on the text
        return
    if rebuild:
        for statement in _SQLITE_BEFORE_5:
            database.execute_sql(statement)
    for statement in _SQLITE_DDL:
        database.execute_sql(statement)
    if rebuild:
        database.execute_sql(f"INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}) VALUES ('delete-all')")
        database.execute_sql(
            f"INSERT INTO {SQLITE_TABLE}(rowid, search_text) SELECT {_SEQ.format('ticket')}, "
            "search_text FROM ticket ORDER BY 1"
        )


def matching(ticket: type[peewee.Model], q: str, whole: bool = False) -> peewee.Expression | None:
    """The condition "each word of ``q`` begins a word of the ticket" (None: no word);
    ``whole``: "is a word of the ticket" (PostgreSQL only: a count's first try)."""
    found = words(q)
    if not found:
        return None
    database = ticket._meta.database
    if isinstance(database, peewee.PostgresqlDatabase):
        # Words are letters and digits: quoted, they are the lexemes they spell.
        query = " & ".join(f"'{word}'" if whole else f"'{word}':*" for word in found)
        return peewee.SQL(f"{POSTGRES_COLUMN} @@ %s::tsquery", (query,))
    rows = peewee.SQL(
        f"(SELECT (-rowid) & {ID_MASK} FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH ?)",
        (_fts_query(found),),
    )
    return ticket.id.in_(rows)


def _fts_query(found: list[str]) -> str:
    return " ".join(f'"{word}"*' for word in found)


def walks_index(ticket: type[peewee.Model]) -> bool:
    """True where the search index is walked in its own order (SQLite), with the filters
    checked row by row: :func:`newest_matching` and :func:`count_matching`."""
    return not isinstance(ticket._meta.database, peewee.PostgresqlDatabase)


def _joined(query: peewee.ModelSelect, ticket: type[peewee.Model], q: str):
    index = peewee.Table(SQLITE_TABLE, ("rowid",), alias="s")
    match = peewee.SQL(f'"s"."{SQLITE_TABLE}" MATCH ?', (_fts_query(words(q)),))
    number = (0 - index.rowid).bin_and(ID_MASK)
    joined = query.join_from(ticket, index, on=(ticket.id == number))
    return joined.where(match), index.rowid


def count_matching(query: peewee.ModelSelect, ticket: type[peewee.Model], q: str, cap: int) -> int:
    """How many tickets of ``query`` match ``q``, counted to ``cap`` at most (SQLite)."""
    joined, _ = _joined(query, ticket, q)
    return joined.order_by().limit(cap).count()


def _second(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _row_number(second: int, number: int = 0) -> int:
    return -((second << ID_BITS) | number)


def newest_matching(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    q: str,
    before: tuple[datetime, int] | None,
    wanted: int,
    count_to: int = 0,
    filtered: bool = False,
) -> tuple[list, int | None]:
    """The ``wanted`` newest tickets of ``query`` that match ``q`` (SQLite), after the
    ``(created_at, id)`` of a cursor if given: the index walked from its newest row, each
    row's filters checked on the way. The index orders a second's tickets by id; those of
    the page's last second are all read, so that the page is in (created_at, id) order.

    With ``count_to`` and no cursor, the matches are also counted up to ``count_to``, in the
    same walk when it can give the page as well (``filtered``: ``query`` has filters few
    tickets may pass). Returns the rows and the count (None without ``count_to``)."""
    joined, row_number = _joined(query, ticket, q)
    if before is not None:
        moment, number = before
        joined = joined.where(
            row_number > _row_number(_second(moment) + 1),
            peewee.Tuple(ticket.created_at, ticket.id)
            < peewee.Tuple(ticket.created_at.db_value(moment), number),
        )
    counted = None
    if count_to and before is None:
        # The count's walk keeps the row numbers (no row built, no date parsed). Without
        # filters it walks in the page's order: its first rows are the page. With filters it
        # walks unordered (twice as fast when few tickets pass them, measured), and holds the
        # page only when it has read every match.
        in_order = not filtered or _few(query, ticket)
        if filtered and in_order:
            # Few tickets pass the filters: the index's matches checked against their ids,
            # in the index's order, without reading a ticket per match ("contrat" in Legal's
            # open tickets at a million: 7 ms, where the walk through the rows took 46).
            walk = _matches_among(query, ticket, q)
        else:
            walk = joined.select(row_number).order_by(*([] if filtered else [row_number]))
        light = sorted((-n for (n,) in walk.limit(count_to).tuples()), reverse=True)
        counted = len(light)
        every_match = counted < count_to
        chosen = light
        if len(light) > wanted:
            # Down to the page's last second, whole (a second's tickets by id).
            last = light[wanted - 1] >> ID_BITS
            chosen = [n for n in light if n >> ID_BITS >= last]
        if every_match or (in_order and chosen[-1] >> ID_BITS != light[-1] >> ID_BITS):
            found = lifecycle.by_id(query, ticket, [n & ID_MASK for n in chosen])
            return _newest(found, wanted), counted
    rows = list(joined.order_by(row_number).limit(wanted))
    if len(rows) == wanted:
        last = rows[-1]
        start = _row_number(_second(last.created_at))
        rows.extend(list(joined.where(row_number <= start, row_number > start - last.id)))
    return _newest(rows, wanted), counted


# Filters that keep at most this many tickets are matched by id (newest_matching).
FEW_TICKETS = 20_000


def _few(query: peewee.ModelSelect, ticket: type[peewee.Model]) -> bool:
    """True when ``query``'s conditions keep at most :data:`FEW_TICKETS` tickets."""
    return lifecycle.ids_only(query, ticket).limit(FEW_TICKETS + 1).count() <= FEW_TICKETS


def _matches_among(query: peewee.ModelSelect, ticket: type[peewee.Model], q: str):
    """The search index's row numbers of the matches of ``q`` among the tickets of
    ``query``, in the index's order (SQLite)."""
    index = peewee.Table(SQLITE_TABLE, ("rowid",))
    match = peewee.SQL(f'"{SQLITE_TABLE}" MATCH ?', (_fts_query(words(q)),))
    number = (0 - index.rowid).bin_and(ID_MASK)
    found = index.select(index.rowid).where(match, number.in_(lifecycle.ids_only(query, ticket)))
    return found.order_by(index.rowid).bind(ticket._meta.database)


def _newest(rows: list, wanted: int) -> list:
    """The first ``wanted`` of ``rows`` in (created_at, id) order, newest first."""
    return sorted(rows, key=lambda row: (row.created_at, row.id), reverse=True)[:wanted]
