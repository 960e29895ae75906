"""One page of the ticket list: order, keyset cursors, and a total that stays cheap.

Keyset pagination: each page ends with ``next_cursor``, the sort keys of its last ticket
(opaque to clients); ``cursor=`` continues after it with a condition on those keys, which the
list's indexes answer without walking the pages before. New tickets never shift a page the
way they shift ``offset`` pages. ``offset`` still works (its cost grows with the offset).

Equality filters on the small closed sets (status, priority) combine with a department or an
assignee through the queue indexes (:data:`QUEUE_INDEXES`): a page asks one index range per
combination of the values not given ("department=IT&status=open": one range per priority)
and merges them in order, so that every combination of filters walks only its own rows;
``sort=priority`` asks one priority after the other, newest first within each. The total
counts the same ranges.

The total is exact up to :data:`TOTAL_CAP`; above, ``total`` is :data:`TOTAL_CAP` and
``total_exact`` is false: there are at least that many. Counting further costs more than the
page itself (measured: a count to 10,000 took 8 ms where its page took 0.1 ms).
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import math
from dataclasses import dataclass
from datetime import datetime
from itertools import islice, product
from typing import Any

import peewee

from ticketbot.api import lifecycle, search
from ticketbot.api.counting import ticket_total

TOTAL_CAP = 1_000
PRIORITY_RANK = [(name, rank) for rank, name in enumerate(lifecycle.PRIORITIES)]
UNASSIGNED = object()
"""The value of ``assignee`` in the equality filters for "assigned to nobody"."""
# The columns whose every value is known, and the indexes that end with the list's order
# (ticketbot.api.models): a filter missing from an index's leading columns is walked value
# by value when it is one of these.
CLOSED_SETS = {"status": lifecycle.STATUSES, "priority": lifecycle.PRIORITIES}
QUEUE_INDEXES = (
    ("department", "status", "priority"),
    ("assignee", "status", "priority"),
    ("status", "priority"),
)
MAX_RANGES = 16
# Past this offset, one query (its cost grows with the offset anyway; the cursor does not).
MAX_MERGED_OFFSET = 1_000
# PostgreSQL's searches check this many of the newest rows first (see _searched_newest).
WALKED_FIRST = 2_000
MAX_WALKED = 20_000
# How PostgreSQL counts a search with filters (_count_matching): the filters' rows one by
# one up to this many, the search's matches one by one when the filters keep this share.
FEW_ROWS = 5_000
LARGE_SHARE = 0.05


class BadCursor(ValueError):
    """A cursor this API did not give, or given with another sort."""


@dataclass(frozen=True)
class Key:
    """One sort key: its expression, direction, and how to read it from a row."""

    expression: peewee.Node
    descending: bool
    kind: str  # "datetime", "int" or "rank"


def sort_keys(ticket: type[peewee.Model], sort: str) -> list[Key]:
    """The sort keys of ``sort`` (``created_at``, ``-priority``...), the id last: a total
    order. Tickets of equal priority come newest first."""
    name = sort.lstrip("-")
    descending = sort.startswith("-")
    if name == "priority":
        return [
            Key(peewee.Case(ticket.priority, PRIORITY_RANK), descending, "rank"),
            Key(ticket.created_at, True, "datetime"),
            Key(ticket.id, True, "int"),
        ]
    return [Key(getattr(ticket, name), descending, "datetime"), Key(ticket.id, descending, "int")]


def order_by(keys: list[Key]) -> list[peewee.Node]:
    return [k.expression.desc() if k.descending else k.expression.asc() for k in keys]


def _value_of(row: Any, key: Key, sort: str) -> Any:
    if key.kind == "rank":
        return dict(PRIORITY_RANK)[row.priority]
    if key.kind == "int":
        return row.id
    name = "created_at" if sort.lstrip("-") == "priority" else sort.lstrip("-")
    return getattr(row, name).isoformat()


def encode_cursor(row: Any, keys: list[Key], sort: str) -> str:
    """The cursor that continues after ``row``."""
    data = {"sort": sort, "after": [_value_of(row, key, sort) for key in keys]}
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_values(cursor: str, keys: list[Key], sort: str) -> list[Any]:
    """The sort keys' values of the row a cursor names (:class:`BadCursor` if it is none)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        values = data["after"]
        if data["sort"] != sort or len(values) != len(keys):
            raise BadCursor(
                f"this cursor was given for sort={data['sort']}: send the same sort, or start "
                "again without cursor"
            )
        parsed = [_parse(value, key) for value, key in zip(values, keys, strict=True)]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        if isinstance(error, BadCursor):
            raise
        raise BadCursor(
            "cursor is not one this API gave (use the next_cursor of a page, or start again "
            "without cursor)"
        ) from None
    return parsed


def after(keys: list[Key], parsed: list[Any]) -> peewee.Expression:
    """The condition "after the row whose sort keys are ``parsed``" in the order of ``keys``."""
    if len({key.descending for key in keys}) == 1 and not any(k.kind == "rank" for k in keys):
        # One direction: a row-value comparison, which both engines answer as one index
        # range ("(created_at, id) < (?, ?)"), where the expanded OR below makes them walk
        # every page before.
        columns = peewee.Tuple(*[key.expression for key in keys])
        bound = peewee.Tuple(
            *[_db_value(key, value) for key, value in zip(keys, parsed, strict=True)]
        )
        return columns < bound if keys[0].descending else columns > bound
    # (k1, k2, k3) after (v1, v2, v3): k1 past v1, or k1 = v1 and k2 past v2, and so on.
    condition = None
    for index, (key, value) in enumerate(zip(keys, parsed, strict=True)):
        past = key.expression < value if key.descending else key.expression > value
        for previous, earlier in zip(keys[:index], parsed[:index], strict=True):
            past &= previous.expression == earlier
        condition = past if condition is None else condition | past
    assert condition is not None
    return condition


def _db_value(key: Key, value: Any) -> Any:
    """A value as its column stores it (a row value bypasses the field's converter)."""
    converter = getattr(key.expression, "db_value", None)
    return converter(value) if converter is not None else value


def _parse(value: Any, key: Key) -> Any:
    if key.kind == "datetime":
        if not isinstance(value, str):
            raise ValueError("not a date")
        return datetime.fromisoformat(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not a number")
    return value


@dataclass
class Page:
    rows: list[Any]
    total: int
    total_exact: bool
    next_cursor: str | None


def equal_conditions(
    ticket: type[peewee.Model], equal: dict[str, Any], source: Any = None
) -> list[peewee.Node]:
    """The conditions of the equality filters ``equal`` on the ticket's columns, or on those
    of ``source`` (a subquery selecting them)."""

    def column(name: str) -> Any:
        return getattr(ticket, name) if source is None else source.c[name]

    return [
        column(name).is_null() if value is UNASSIGNED else column(name) == value
        for name, value in equal.items()
    ]


def ranges(equal: dict[str, Any]) -> list[dict[str, Any]]:
    """The index ranges that together hold the rows of the equality filters ``equal``, each
    as its own equality filters: several when a queue index covers more of the filters
    than any one-column index, with the closed sets' values it lacks walked one by one."""
    best = None
    for columns in QUEUE_INDEXES:
        if not all(c in equal or c in CLOSED_SETS for c in columns):
            continue
        covered = sum(c in equal for c in columns)
        choices = [[equal[c]] if c in equal else list(CLOSED_SETS[c]) for c in columns]
        count = math.prod(len(values) for values in choices)
        if covered >= 2 and count <= MAX_RANGES and (best is None or (covered, -count) > best[0]):
            best = ((covered, -count), columns, choices)
    if best is None:
        return [equal]
    _, columns, choices = best
    return [{**equal, **dict(zip(columns, values, strict=True))} for values in product(*choices)]


def count(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    equal: dict[str, Any],
    text: str | None = None,
) -> int:
    """How many rows match, counted to :data:`TOTAL_CAP` + 1 at most, range by range."""
    if text and search.walks_index(ticket):
        narrowed = query.where(*equal_conditions(ticket, equal)) if equal else query
        return search.count_matching(narrowed, ticket, text, TOTAL_CAP + 1)
    if text:
        return _count_matching(query, ticket, equal, text)
    total = 0
    for one in ranges(equal):
        narrowed = query.where(*equal_conditions(ticket, one)) if one else query
        total += narrowed.order_by().limit(TOTAL_CAP + 1 - total).count()
        if total > TOTAL_CAP:
            break
    return total


def _count_matching(
    query: peewee.ModelSelect, ticket: type[peewee.Model], equal: dict[str, Any], text: str
) -> int:
    """PostgreSQL: how many rows match the filters and the search, to TOTAL_CAP + 1.

    Without equality filters, one query. With them, the way depends on how many rows the
    filters keep (the planner's estimate; it only chooses the way, the count is exact),
    measured at a million tickets: few (up to :data:`FEW_ROWS`), each checked for the words
    ("contrat" in Legal's open tickets: 1.8 ms, where the planner took 14); a large share
    of the table (:data:`LARGE_SHARE`), the search's matches checked against the filters
    ("vpn" in IT's closed tickets: 6.5 ms instead of 36: the planner read the department's
    whole index to AND it with the matches); in between, the planner's own way (7-15 ms).
    OFFSET 0 keeps the outer conditions out of the inner query.

    Without filters or through the matches, the tickets holding the words whole are
    counted first: they are some of those holding words that begin with them, and their GIN
    entries are read as lists where prefixes make bitmaps, so when they reach the cap the
    count is settled ("paie erreur": 2.6 ms instead of 30)."""
    database = ticket._meta.database
    rows = lifecycle.ids_only(query, ticket)
    filtered = rows.where(*equal_conditions(ticket, equal)) if equal else rows
    estimate = _estimated_rows(filtered) if equal else math.inf
    if equal and estimate <= FEW_ROWS:
        inner = filtered.select(ticket.id, peewee.SQL(search.POSTGRES_COLUMN)).offset(0)
        outer = peewee.Select([inner.alias("filtered")], [peewee.SQL("1")])
        return outer.where(search.matching(ticket, text)).limit(TOTAL_CAP + 1).count(database)
    through_matches = not equal or estimate >= LARGE_SHARE * _table_rows(ticket)

    def counted(whole: bool) -> int:
        matching = search.matching(ticket, text, whole=whole)
        if not equal:
            return rows.where(matching).limit(TOTAL_CAP + 1).count()
        if not through_matches:
            return filtered.where(matching).limit(TOTAL_CAP + 1).count()
        columns = [getattr(ticket, name) for name in equal]
        inner = rows.where(matching).select(ticket.id, *columns).offset(0).alias("matched")
        outer = peewee.Select([inner], [peewee.SQL("1")])
        outer = outer.where(*equal_conditions(ticket, equal, source=inner))
        return outer.limit(TOTAL_CAP + 1).count(database)

    if through_matches and counted(whole=True) > TOTAL_CAP:
        return TOTAL_CAP + 1
    return counted(whole=False)


def _table_rows(ticket: type[peewee.Model]) -> float:
    """PostgreSQL's estimate of the table's rows (kept by VACUUM and ANALYZE)."""
    cursor = ticket._meta.database.execute_sql(
        "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (ticket._meta.table_name,)
    )
    found = cursor.fetchone()
    return max(found[0], 0) if found else 0


def _estimated_rows(query: peewee.ModelSelect) -> float:
    """The planner's estimate of how many rows ``query`` selects (PostgreSQL)."""
    sql, params = query.sql()
    plan = query.model._meta.database.execute_sql(f"EXPLAIN (FORMAT JSON) {sql}", params)
    found = plan.fetchone()[0]
    found = json.loads(found) if isinstance(found, str) else found
    return found[0]["Plan"]["Plan Rows"]


def _newest_first(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    equal: dict[str, Any],
    keys: list[Key],
    condition: peewee.Expression | None,
    wanted: int,
) -> list[Any]:
    """The first ``wanted`` rows in the order of ``keys`` (created_at, id: one direction),
    merged from the ranges of ``equal``."""
    pages = []
    for one in ranges(equal):
        narrowed = query.where(*equal_conditions(ticket, one)) if one else query
        if condition is not None:
            narrowed = narrowed.where(condition)
        pages.append(list(narrowed.order_by(*order_by(keys)).limit(wanted)))
    if len(pages) == 1:
        return pages[0]
    descending = keys[0].descending
    merged = heapq.merge(*pages, key=lambda row: (row.created_at, row.id), reverse=descending)
    return list(islice(merged, wanted))


def _by_priority(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    equal: dict[str, Any],
    keys: list[Key],
    after_values: list[Any] | None,
    wanted: int,
) -> list[Any]:
    """``sort=priority`` or ``-priority``: one priority after the other, newest first in
    each, from where the cursor left off."""
    order = [name for name, _ in PRIORITY_RANK]
    if keys[0].descending:
        order.reverse()
    if "priority" in equal:
        order = [equal["priority"]]
    newest = keys[1:]
    names = dict(enumerate(lifecycle.PRIORITIES))
    rows: list[Any] = []
    for name in order:
        condition = None
        if after_values is not None:
            at = names.get(after_values[0])
            if at not in order or order.index(name) < order.index(at):
                continue  # before the cursor's priority
            if name == at:
                condition = after(newest, after_values[1:])
        rows += _newest_first(
            query, ticket, {**equal, "priority": name}, newest, condition, wanted - len(rows)
        )
        if len(rows) >= wanted:
            break
    return rows


def _deep(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    keys: list[Key],
    offset: int,
    wanted: int,
) -> list[Any]:
    """A deep ``offset`` page: the ids skipped over in the order's index alone, then only
    the page's rows read whole (measured at offset 900,000: 334 ms before, on SQLite).

    A list with no condition at all is walked from its other end when that end is nearer:
    its exact count is cheap (:func:`ticketbot.api.counting.ticket_total`)."""
    ids = lifecycle.ids_only(query, ticket)
    order, skip = keys, offset
    if query._where is None:
        total = ticket_total(ticket)
        if offset >= total:
            return []
        if offset > total // 2:
            order = [Key(k.expression, not k.descending, k.kind) for k in keys]
            last = min(total, offset + wanted)  # one past the page's last row
            skip, wanted = total - last, last - offset
    numbers = [row.id for row in ids.order_by(*order_by(order)).limit(wanted).offset(skip)]
    if order is not keys:
        numbers.reverse()
    return _rows_of(query, ticket, numbers)


def _searched_newest(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    keys: list[Key],
    condition: peewee.Expression | None,
    text: str,
    wanted: int,
) -> tuple[list[Any], int | None]:
    """PostgreSQL: the first ``wanted`` matches of ``text`` in ``keys``' order (created_at,
    id: one direction), and how many rows match in all when that came for free (None when
    the page was found before the last match).

    The newest :data:`WALKED_FIRST` rows of the order's index are checked first, then, when
    they held some matches but too few, as many more rows as those matches say a page needs
    (twice that, when it stays within :data:`MAX_WALKED`); only then does the planner choose
    for the rest, counting its matches as it sorts them. Its estimate of how many tickets
    hold several words assumes them unrelated ("mot passe": 719 estimated, 26,800 found at
    a million tickets), so it sorted every match (110 ms) where the newest 800 rows held a
    page (1 ms)."""
    base = query if condition is None else query.where(condition)
    numbers: list[int] = []
    walked, chunk = 0, WALKED_FIRST
    boundary: list[Any] | None = None
    while chunk:
        start = base if boundary is None else base.where(after(keys, boundary))
        found, last = _walk(start, ticket, keys, text, chunk, wanted - len(numbers))
        numbers += found
        walked += chunk
        if len(numbers) >= wanted:
            return _rows_of(query, ticket, numbers), None
        if last is None:  # every row seen: these are all the matches
            return _rows_of(query, ticket, numbers), len(numbers)
        boundary = last
        needed = (wanted - len(numbers)) * walked / len(numbers) if numbers else math.inf
        again = walked == WALKED_FIRST and 2 * needed <= MAX_WALKED
        chunk = min(int(max(2 * needed, WALKED_FIRST)), MAX_WALKED) if again else 0
    rest = lifecycle.ids_only(
        base.where(search.matching(ticket, text), after(keys, boundary)), ticket
    )
    total = peewee.fn.COUNT(peewee.SQL("*")).over()
    more = list(
        rest.select(ticket.id, total.alias("matches"))
        .order_by(*order_by(keys))
        .limit(wanted - len(numbers))
        .tuples()
    )
    counted = len(numbers) + (more[0][1] if more else 0)
    return _rows_of(query, ticket, numbers + [n for n, _ in more]), counted


def _walk(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    keys: list[Key],
    text: str,
    rows: int,
    wanted: int,
) -> tuple[list[int], list[Any] | None]:
    """The first ``wanted`` matches of ``text`` among the next ``rows`` rows of ``query`` in
    ``keys``' order, and the sort keys of the last of those rows (None: fewer rows)."""
    ids = lifecycle.ids_only(query, ticket).order_by(*order_by(keys))
    recent = (
        ids.select(ticket.id, ticket.created_at, peewee.SQL(search.POSTGRES_COLUMN))
        .limit(rows)
        .alias("recent")
    )
    order = [
        recent.c[k.expression.name].desc() if k.descending else recent.c[k.expression.name]
        for k in keys
    ]
    found = peewee.Select([recent], [recent.c.id]).where(search.matching(ticket, text))
    database = ticket._meta.database
    numbers = [n for (n,) in found.order_by(*order).limit(wanted).tuples().execute(database)]
    if len(numbers) >= wanted:
        return numbers, None
    last = list(ids.select(ticket.created_at, ticket.id).offset(rows - 1).limit(1).tuples())
    return numbers, list(last[0]) if last else None


def _rows_of(query: peewee.ModelSelect, ticket: type[peewee.Model], numbers: list[int]) -> list:
    """The rows of the tickets numbered ``numbers``, in that order."""
    found = {row.id: row for row in lifecycle.by_id(query, ticket, numbers)} if numbers else {}
    return [found[n] for n in numbers if n in found]


def page(
    query: peewee.ModelSelect,
    ticket: type[peewee.Model],
    sort: str,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    equal: dict[str, Any] | None = None,
    text: str | None = None,
) -> Page:
    """One page of ``query`` (already filtered, but for the equality filters ``equal``:
    column -> value, ``UNASSIGNED`` for a null assignee, and the search ``text``) in
    ``sort`` order."""
    equal = equal or {}
    keys = sort_keys(ticket, sort)
    values = cursor_values(cursor, keys, sort) if cursor else None
    wanted = offset + limit + 1
    name = sort.lstrip("-")
    counted = None
    if text and search.walks_index(ticket) and sort == "-created_at" and not offset:
        narrowed = query.where(*equal_conditions(ticket, equal)) if equal else query
        before = (values[0], values[1]) if values is not None else None
        # Filtered: equality filters, or the query's own (a requester's tickets, created_by,
        # needs_review); peewee keeps those in _where.
        filtered = bool(equal) or getattr(query, "_where", None) is not None
        rows, counted = search.newest_matching(
            narrowed, ticket, text, before, wanted, count_to=TOTAL_CAP + 1, filtered=filtered
        )
    elif (
        text and name == "created_at" and not offset and (equal or len(set(search.words(text))) > 1)
    ):
        # PostgreSQL, several words or filters (one word alone: the planner's estimate is
        # right, and the walk only delays the rare words).
        narrowed = query.where(*equal_conditions(ticket, equal)) if equal else query
        condition = after(keys, values) if values is not None else None
        rows, counted = _searched_newest(narrowed, ticket, keys, condition, text, wanted)
        if counted is not None and values is not None:
            counted = None  # the matches after the cursor, not all of them
    elif name == "priority" and not offset and not text:
        rows = _by_priority(query, ticket, equal, keys, values, wanted)
    elif name == "created_at" and offset <= MAX_MERGED_OFFSET and not text:
        condition = after(keys, values) if values is not None else None
        rows = _newest_first(query, ticket, equal, keys, condition, wanted)[offset:]
    else:
        narrowed = query.where(*equal_conditions(ticket, equal)) if equal else query
        if text:
            narrowed = narrowed.where(search.matching(ticket, text))
        if values is not None:
            narrowed = narrowed.where(after(keys, values))
        if offset > MAX_MERGED_OFFSET:
            rows = _deep(narrowed, ticket, keys, offset, limit + 1)
        else:
            rows = list(narrowed.order_by(*order_by(keys)).limit(limit + 1).offset(offset or None))
    if counted is None:
        counted = count(query, ticket, equal, text)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        rows=rows,
        total=min(counted, TOTAL_CAP),
        total_exact=counted <= TOTAL_CAP,
        next_cursor=encode_cursor(rows[-1], keys, sort) if more and rows else None,
    )
