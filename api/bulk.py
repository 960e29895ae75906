"""Inserts with prepared statements, for the hot paths (ticket creation, imports).

Peewee's query builder costs more than the database itself on these: building one INSERT
took about 0.3 ms of a 1.2 ms write, while the work is always the same statement. The values
go through the same converters Peewee would apply (dates, JSON), so rows read back alike.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC
from functools import lru_cache
from typing import Any

import peewee

from ticketbot.api.models import JSONTextField, UTCDateTimeField


@lru_cache(maxsize=64)
def _statement(model: type[peewee.Model], names: tuple[str, ...], postgres: bool) -> tuple:
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    convert = tuple(
        f.db_value if isinstance(f, (UTCDateTimeField, JSONTextField)) else None for f in fields
    )
    marks = ", ".join(("%s" if postgres else "?") for _ in fields)
    table = model._meta.table_name
    return f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', columns, convert


def _row(values: dict[str, Any], names: tuple[str, ...], convert: tuple) -> list:
    return [values[n] if c is None else c(values[n]) for c, n in zip(convert, names, strict=True)]


def insert_one(database: peewee.Database, model: type[peewee.Model], values: dict[str, Any]) -> int:
    """Insert one row; returns its id."""
    names = tuple(values)
    postgres = isinstance(database, peewee.PostgresqlDatabase)
    sql, _, convert = _statement(model, names, postgres)
    row = _row(values, names, convert)
    if postgres:
        return database.execute_sql(sql + " RETURNING id", row).fetchone()[0]
    return database.execute_sql(sql, row).lastrowid


def insert_with_child(
    database: peewee.Database,
    model: type[peewee.Model],
    values: dict[str, Any],
    child: type[peewee.Model],
    link: str,
    child_values: dict[str, Any],
) -> int:
    """Insert a row of ``model``, then a row of ``child`` whose ``link`` field points to it
    (a ticket and its first event); returns the first row's id.

    On PostgreSQL both go in with one statement, atomic by itself: outside a transaction it
    takes one round trip where BEGIN, two INSERTs and COMMIT took four. On SQLite, two
    statements, inside the caller's transaction."""
    postgres = isinstance(database, peewee.PostgresqlDatabase)
    if not postgres:
        number = insert_one(database, model, values)
        insert_one(database, child, {link: number, **child_values})
        return number
    names, child_names = tuple(values), tuple(child_values)
    sql, convert, child_convert = _parent_and_child(model, names, child, link, child_names)
    row = _row(values, names, convert) + _row(child_values, child_names, child_convert)
    return database.execute_sql(sql, row).fetchone()[0]


@lru_cache(maxsize=16)
def _parent_and_child(
    model: type[peewee.Model],
    names: tuple[str, ...],
    child: type[peewee.Model],
    link: str,
    child_names: tuple[str, ...],
) -> tuple[str, tuple, tuple]:
    parent_sql, _, convert = _statement(model, names, True)
    _, columns, child_convert = _statement(child, (link, *child_names), True)
    marks = ", ".join("%s" for _ in child_names)
    sql = (
        f"WITH parent AS ({parent_sql} RETURNING id) "
        f'INSERT INTO "{child._meta.table_name}" ({columns}) '
        f'SELECT parent.id, {marks} FROM parent RETURNING "{child._meta.fields[link].column_name}"'
    )
    return sql, convert, child_convert[1:]


def prepare(
    model: type[peewee.Model], names: tuple[str, ...], values: list[dict[str, Any]], postgres: bool
) -> Any:
    """The rows of ``values`` as the database takes them in bulk, without their ids (no
    database needed: an import prepares them in another process): COPY lines for
    PostgreSQL, one JSON array of rows for SQLite."""
    if postgres:
        cells = [
            (name, _by_identity(cell) if document else cell)
            for name, cell, document in _copy_cells(model, names)
        ]
        return [",".join([cell(v[n]) for n, cell in cells]) + "\n" for v in values]
    # Documents and times converted once per object: rows share them (a ticket's created_at
    # is its updated_at).
    memos: dict[Any, Callable[[Any], Any]] = {}
    convert = tuple(
        c and memos.setdefault(c.__func__, _by_identity(c))
        for c in _statement(model, names, postgres)[2]
    )
    return json.dumps([_row(v, names, convert) for v in values], default=str)


def only(prepared: Any, keep: list[int]) -> Any:
    """The rows of ``prepared`` at the positions ``keep``."""
    if isinstance(prepared, str):
        rows = json.loads(prepared)
        return json.dumps([rows[i] for i in keep])
    return [prepared[i] for i in keep]


def insert_prepared(
    database: peewee.Database,
    model: type[peewee.Model],
    names: tuple[str, ...],
    prepared: Any,
    numbers: list[int],
) -> None:
    """Insert the rows :func:`prepare` made, numbered ``numbers`` (the column of
    ``names[0]``: the id, or the ticket's id; consecutive on SQLite) in one statement."""
    if isinstance(database, peewee.PostgresqlDatabase):
        _, columns, _ = _statement(model, names, True)
        buffer = io.StringIO()
        buffer.writelines(f"{n},{line}" for n, line in zip(numbers, prepared, strict=True))
        buffer.seek(0)
        table = model._meta.table_name
        database.cursor().copy_expert(
            f"COPY \"{table}\" ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )
        return
    if numbers and numbers[-1] - numbers[0] != len(numbers) - 1:
        raise ValueError("SQLite bulk inserts take consecutive numbers")
    # One statement for the whole batch, which SQLite reads in C: executemany hands the
    # interpreter lock back and forth once per row, and another busy thread made each of
    # those hand-backs wait (an import's lookups took 50 times their own time).
    first = numbers[0] if numbers else 0
    database.execute_sql(_json_statement(model, names), (first, prepared))


@lru_cache(maxsize=64)
def _json_statement(model: type[peewee.Model], names: tuple[str, ...]) -> str:
    """SQLite's INSERT of rows given as one JSON array of arrays, numbered from a first
    number on (``names[0]``'s column)."""
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(fields) - 1))
    table = model._meta.table_name
    return f'INSERT INTO "{table}" ({columns}) SELECT ? + key, {values} FROM json_each(?)'


@lru_cache(maxsize=64)
def _copy_cells(
    model: type[peewee.Model], names: tuple[str, ...]
) -> tuple[tuple[str, Callable[[Any], str], bool], ...]:
    """For each column: its name, the function writing a value in COPY's CSV (chosen once
    per column: an import writes millions of values), and whether its values are JSON
    documents, which rows may share."""
    fields = [model._meta.fields[name] for name in names]
    return tuple(
        (name, _copy_cell(field), isinstance(field, JSONTextField))
        for name, field in zip(names, fields, strict=True)
    )


def _copy_cell(field: peewee.Field) -> Callable[[Any], str]:
    """A value of ``field`` in COPY's CSV: NULL unquoted, every text quoted (so "\\N"
    stays text), times in UTC (a ``timestamp`` column ignores the offset written)."""
    if isinstance(field, UTCDateTimeField):

        def cell(value: Any) -> str:
            return (value if value.tzinfo in (UTC, None) else value.astimezone(UTC)).isoformat()
    elif isinstance(field, JSONTextField):

        def cell(value: Any) -> str:
            return _quoted(json.dumps(value, ensure_ascii=False))
    elif isinstance(field, peewee.BooleanField):

        def cell(value: Any) -> str:
            return "t" if value else "f"
    elif isinstance(field, (peewee.IntegerField, peewee.FloatField, peewee.ForeignKeyField)):
        cell = repr
    else:

        def cell(value: Any) -> str:
            return _quoted(str(value))

    if not field.null:
        return cell
    return lambda value: "\\N" if value is None else cell(value)


def _by_identity(cell: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``cell``, remembering what it wrote for each object during one prepare() call (every
    value stays referenced meanwhile, so no two share an id): the rows of an import share
    their documents (an empty ranking, one event's data per department)."""
    written: dict[int, Any] = {}

    def remembered(value: Any) -> Any:
        text = written.get(id(value))
        if text is None:
            text = written[id(value)] = cell(value)
        return text

    return remembered


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
