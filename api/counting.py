"""How many tickets there are, without counting them.

PostgreSQL counts a table by walking it (or its smallest index): 120 ms at a million
tickets. A deep ``offset`` page needs that count to walk from the list's nearer end, so on
PostgreSQL the database keeps it: triggers on ``ticket`` (statement-level, over the rows a
statement inserted or deleted, so an import's batch costs one update) add to the table
``ticket_count``. Its rows are slots, one per server process modulo :data:`SLOTS`, so
that concurrent writers seldom wait on each other's row lock; the count is their sum, exact
in every snapshot (the slots change in the same transactions as the tickets).

SQLite needs none of it: its count walks the table's pages, not its rows (a few
milliseconds at a million tickets).
"""

from __future__ import annotations

import peewee

TABLE = "ticket_count"
SLOTS = 16
_TRIGGERS = {
    "insert": ("INSERT", "NEW TABLE AS changed", "count(*)"),
    "delete": ("DELETE", "OLD TABLE AS changed", "-count(*)"),
}


def _is_postgres(database: peewee.Database) -> bool:
    return isinstance(database, peewee.PostgresqlDatabase)


def create_ticket_count(database: peewee.Database) -> None:
    """PostgreSQL: create the count and its triggers if missing. Each time the triggers are
    (re)created, the count starts again from the table's own count, taken under the lock
    that creating a trigger holds (no ticket is written meanwhile). SQLite: nothing."""
    if not _is_postgres(database):
        return
    present = database.execute_sql(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ticket'::regclass "
        "AND tgname LIKE %s AND NOT tgisinternal",
        (f"{TABLE}_%",),
    ).fetchone()[0]
    if present == len(_TRIGGERS) + 1:
        return
    database.execute_sql(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (slot integer PRIMARY KEY, n bigint NOT NULL)"
    )
    for name, (event, table, change) in _TRIGGERS.items():
        database.execute_sql(
            f"CREATE OR REPLACE FUNCTION {TABLE}_{name}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN INSERT INTO {TABLE} AS c (slot, n) SELECT mod(pg_backend_pid(), "
            f"{SLOTS}), {change} FROM changed HAVING count(*) > 0 ON CONFLICT (slot) DO "
            "UPDATE SET n = c.n + excluded.n; RETURN NULL; END $$"
        )
        database.execute_sql(
            f"CREATE OR REPLACE TRIGGER {TABLE}_{name} AFTER {event} ON ticket REFERENCING "
            f"{table} FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{name}()"
        )
    database.execute_sql(
        f"CREATE OR REPLACE FUNCTION {TABLE}_truncate() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN DELETE FROM {TABLE}; RETURN NULL; END $$"
    )
    database.execute_sql(
        f"CREATE OR REPLACE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON ticket "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_truncate()"
    )
    database.execute_sql(f"DELETE FROM {TABLE}")
    database.execute_sql(f"INSERT INTO {TABLE} (slot, n) SELECT 0, count(*) FROM ticket")


def ticket_total(ticket: type[peewee.Model]) -> int:
    """How many tickets the table holds: PostgreSQL's kept count, SQLite's own count."""
    database = ticket._meta.database
    if _is_postgres(database):
        row = database.execute_sql(f"SELECT coalesce(sum(n), 0) FROM {TABLE}").fetchone()
        return int(row[0])
    return ticket.select(peewee.fn.COUNT(peewee.SQL("*"))).scalar()
