"""A ticket's life: status moves, edits under ETags, comments, history and the audit of
deletions. The routes in :mod:`ticketbot.api.routes.tickets` are thin over these functions,
which run in the thread pool inside one database transaction each.

Every change is written with the events that record it in the same transaction, so the
history is complete whatever fails; plugins hear of it only once it has committed
(:mod:`ticketbot.api.notify`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from ticketbot.api.keys import Principal
from ticketbot.api.models import BoundModels, utc_now

STATUSES = ("open", "in_progress", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
# The moves a ticket may make: from each status, the statuses it may go to.
MOVES: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "resolved", "closed"),
    "in_progress": ("open", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": ("open",),
}
# What a requester may do to its own ticket: close it, or reopen it once resolved or closed.
REQUESTER_MOVES: dict[str, tuple[str, ...]] = {
    "open": ("closed",),
    "in_progress": ("closed",),
    "resolved": ("open", "closed"),
    "closed": ("open",),
}
EDITABLE = ("status", "priority", "assignee", "department", "needs_review")
STAFF = ("agent", "admin")


class Refused(Exception):
    """A request the ticket's state or the caller's role does not allow.

    ``status`` is the HTTP status; ``extra`` goes into the problem document (for example the
    moves allowed on a 409).
    """

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


@dataclass(frozen=True)
class Change:
    """One field of a ticket going from one value to another."""

    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "from": self.before, "to": self.after}


@dataclass
class Outcome:
    """What a write did: the ticket as it now is, with its creator's name, and the changes."""

    ticket: Any
    changes: list[Change] = field(default_factory=list)
    comment: Any = None


def not_found(ticket_id: int) -> Refused:
    return Refused(404, f"No ticket {ticket_id}. List tickets with GET /tickets.")


def is_staff(caller: Principal) -> bool:
    return caller.role in STAFF


def ticket_query(models: BoundModels) -> peewee.ModelSelect:
    """Tickets with the name of the key that created each (``creator``)."""
    ticket, api_key = models.ticket, models.api_key
    return (
        ticket.select(ticket, api_key.name.alias("creator"))
        .join(api_key, peewee.JOIN.LEFT_OUTER, on=(ticket.created_by == api_key.id))
        .objects()
    )


def ids_only(query: peewee.ModelSelect, ticket: type[peewee.Model]) -> peewee.ModelSelect:
    """The ids of the tickets ``query`` selects, without its join: joined, SQLite reads each
    row for the join's column instead of walking an index alone (measured at offset 900,000
    of a million: 25 ms, 8 ms without)."""
    ids = ticket.select(ticket.id)
    ids._where = query._where  # peewee's WHERE clause
    return ids


def by_id(query: peewee.ModelSelect, ticket: type[peewee.Model], numbers: list[int]) -> list:
    """The tickets numbered ``numbers`` with the columns of ``query`` (in no set order),
    looked up by id alone: ``query``'s own conditions are dropped, the numbers having been
    chosen with them. (With them, SQLite may walk a filter's index instead of looking the
    ids up: 31 ms instead of 0.3, measured.)"""
    lookup = query.clone()
    lookup._where = None  # peewee's WHERE clause; were it left in place, only slower
    return list(lookup.where(ticket.id.in_(numbers)))


def visible(models: BoundModels, caller: Principal, query: peewee.ModelSelect | None = None):
    """``query`` (default: every ticket) narrowed to what ``caller`` may see: its own for a
    requester, all for agents and admins."""
    ticket = models.ticket
    query = ticket_query(models) if query is None else query
    if caller.role == "requester":
        query = query.where(ticket.created_by == caller.key_id)
    return query


def find(models: BoundModels, caller: Principal, ticket_id: int, *, lock: bool = False):
    """The ticket ``caller`` may see, or :class:`Refused` 404. ``lock``: hold it until the
    transaction ends (PostgreSQL ``FOR UPDATE``; SQLite transactions already hold the write
    lock)."""
    query = visible(models, caller).where(models.ticket.id == ticket_id)
    if lock and isinstance(models.database, peewee.PostgresqlDatabase):
        query = query.for_update(of=models.ticket)
    found = query.first()
    if found is None:
        raise not_found(ticket_id)
    return found


# -- ETags -----------------------------------------------------------------------------------


def etag(ticket: Any) -> str:
    """The strong ETag of a ticket's current state: its number and revision."""
    return f'"{ticket.id}.{ticket.revision}"'


def matches(header: str, ticket: Any) -> bool:
    """Whether an ``If-Match`` header allows changing ``ticket`` (RFC 9110: ``*`` or a list
    of strong ETags, compared strongly; a weak ``W/`` tag never matches)."""
    header = header.strip()
    if header == "*":
        return True
    current = etag(ticket)
    return any(tag.strip() == current for tag in header.split(","))


# -- creation and deletion -------------------------------------------------------------------


def routing_of(routing: Any) -> dict[str, Any]:
    """The data of a ``created`` event: what the classifier decided (a routing or a ticket)."""
    return {
        "department": routing.department,
        "confidence": routing.confidence,
        "ranking": routing.ranking,
        "needs_review": routing.needs_review,
        "model_version": routing.model_version,
    }


def delete(models: BoundModels, caller: Principal, ticket_id: int) -> datetime:
    """Delete a ticket (its comments and history go with it) and record the deletion in the
    audit log, in one transaction; returns when. 404 when ``caller`` may not see it."""
    ticket = models.ticket
    condition = ticket.id == ticket_id
    if caller.role == "requester":
        condition &= ticket.created_by == caller.key_id
    now = utc_now()
    with models.database.atomic():
        if not ticket.delete().where(condition).execute():
            raise not_found(ticket_id)
        models.audit.create(ticket_number=ticket_id, action="deleted", by=caller.name, at=now)
    return now


# -- edits -----------------------------------------------------------------------------------


def plan(
    current: Any,
    patch: dict[str, Any],
    labels: list[str],
    staff_names: Any,
) -> list[Change]:
    """The changes ``patch`` makes to ``current``, checked against the model's labels, the
    keys and the allowed moves; :class:`Refused` otherwise. (The caller's role is checked
    before, by :func:`update`.)

    ``staff_names(name)`` tells whether ``name`` is an active agent or admin key. Values
    equal to the current ones change nothing (a merge patch is idempotent).
    """
    wanted = with_label(patch, labels)
    assignee = wanted.get("assignee")
    if assignee is not None and assignee != current.assignee and not staff_names(assignee):
        raise Refused(
            422,
            f"assignee must name an active agent or admin key (no such key: {assignee!r}); "
            "see `ticketbot keys list`",
        )
    changes = [
        Change(name, getattr(current, name), wanted[name])
        for name in EDITABLE
        if name in wanted and wanted[name] != getattr(current, name)
    ]
    for change in changes:
        if change.field == "status" and change.after not in MOVES[change.before]:
            allowed = list(MOVES[change.before])
            raise Refused(
                409,
                f"a ticket cannot go from {change.before} to {change.after}; from "
                f"{change.before} it may go to {', '.join(allowed)}",
                current=change.before,
                allowed=allowed,
            )
    # Setting the department is an agent's review of the routing.
    reviewed = any(c.field == "department" for c in changes) and "needs_review" not in wanted
    if reviewed and current.needs_review:
        changes.append(Change("needs_review", True, False))
    return changes


def with_label(patch: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    """``patch`` with its department written as the model's label (any case is accepted);
    :class:`Refused` 422, listing the labels, for a department the model does not know."""
    wanted = dict(patch)
    if wanted.get("department") is not None:
        canonical = {label.lower(): label for label in labels}
        department = canonical.get(wanted["department"].lower())
        if department is None:
            raise Refused(
                422,
                f"department must be one of the department model's labels: "
                f"{', '.join(labels)} (got {wanted['department']!r})",
                labels=labels,
            )
        wanted["department"] = department
    return wanted


def _check_requester(current: Any, patch: dict[str, Any]) -> None:
    others = sorted(set(patch) - {"status"})
    if others:
        raise Refused(
            403,
            f"a requester may only close or reopen its ticket (status), not change "
            f"{', '.join(others)}",
        )
    if "status" not in patch or patch["status"] == current.status:
        return
    allowed = REQUESTER_MOVES[current.status]
    if patch["status"] not in allowed:
        raise Refused(
            403,
            f"a requester may only close its ticket or reopen it once resolved or closed; "
            f"from {current.status} it may go to {', '.join(allowed)}",
            current=current.status,
            allowed=list(allowed),
        )


def update(
    models: BoundModels,
    caller: Principal,
    ticket_id: int,
    patch: dict[str, Any],
    if_match: str | None,
    labels: list[str],
) -> Outcome:
    """Apply a merge patch in one transaction: checks (404, 403, 422 for the department,
    412, 422 for the assignee, 409, in that order), the new values, ``updated_at``, a new
    revision and one event per change."""
    with models.database.atomic():
        current = find(models, caller, ticket_id, lock=True)
        if not is_staff(caller):
            _check_requester(current, patch)
        patch = with_label(patch, labels)  # as the schema says, so before the precondition
        if if_match is not None and not matches(if_match, current):
            raise Refused(
                412,
                f"ticket {ticket_id} changed since you read it (it is now {etag(current)}, "
                f"you sent If-Match: {if_match}); nothing was changed. Read it again "
                "(GET /tickets/{id}) and retry with its new ETag.",
            )
        changes = plan(current, patch, labels, lambda name: _is_staff_key(models, name))
        if not changes:
            return Outcome(current)
        now = utc_now()
        ticket = models.ticket
        values = {getattr(ticket, c.field): c.after for c in changes}
        updated = (
            ticket.update({**values, ticket.updated_at: now, ticket.revision: ticket.revision + 1})
            .where((ticket.id == ticket_id) & (ticket.revision == current.revision))
            .execute()
        )
        if not updated:  # cannot happen under the lock; never overwrite silently
            raise Refused(412, f"ticket {ticket_id} changed meanwhile; read it again and retry")
        models.event.insert_many(
            [
                {
                    "ticket": ticket_id,
                    "kind": "changed",
                    "data": change.as_dict(),
                    "by": caller.name,
                    "at": now,
                    "internal": False,
                }
                for change in changes
            ]
        ).execute()
        for change in changes:
            if change.field == "department":  # only agents and admins may change it
                record_correction(models, current, change, caller.name, now)
        return Outcome(find(models, caller, ticket_id), changes)


def record_correction(models: BoundModels, ticket: Any, change: Change, by: str, at: Any) -> None:
    """An agent's department change as a correction: the learning loop's data."""
    models.correction.create(
        ticket=ticket.id,
        predicted_department=ticket.predicted_department or change.before,
        confidence=ticket.confidence,
        model_version=ticket.model_version,
        from_department=change.before,
        department=change.after,
        by=by,
        at=at,
    )


def _is_staff_key(models: BoundModels, name: str) -> bool:
    api_key = models.api_key
    return (
        api_key.select()
        .where((api_key.name == name) & api_key.role.in_(STAFF) & api_key.revoked_at.is_null())
        .exists()
    )


# -- comments --------------------------------------------------------------------------------


def comment(
    models: BoundModels, caller: Principal, ticket_id: int, body: str, internal: bool
) -> Outcome:
    """Add a comment and its event; the ticket's ``updated_at`` and revision move on."""
    if internal and not is_staff(caller):
        raise Refused(403, "a requester may not write internal notes; send internal: false")
    with models.database.atomic():
        find(models, caller, ticket_id, lock=True)
        now = utc_now()
        row = models.comment.create(
            ticket=ticket_id, body=body, internal=internal, author=caller.name, created_at=now
        )
        ticket = models.ticket
        ticket.update({ticket.updated_at: now, ticket.revision: ticket.revision + 1}).where(
            ticket.id == ticket_id
        ).execute()
        models.event.create(
            ticket=ticket_id,
            kind="commented",
            data={"comment_id": row.id},
            by=caller.name,
            at=now,
            internal=internal,
        )
        return Outcome(find(models, caller, ticket_id), comment=row)


def page(query: peewee.ModelSelect, limit: int, offset: int) -> tuple[int, list[Any]]:
    """``(total, rows)`` of one page of ``query``."""
    return query.count(), list(query.limit(limit).offset(offset))


def comments(
    models: BoundModels,
    caller: Principal,
    ticket_id: int,
    internal: bool | None = None,
    newest_first: bool = False,
):
    """The comments of a ticket ``caller`` may see, oldest first unless ``newest_first`` (no
    internal notes for a requester); ``internal`` narrows to notes (True) or public comments
    (False)."""
    find(models, caller, ticket_id)
    row = models.comment
    query = row.select().where(row.ticket == ticket_id)
    if not is_staff(caller):
        query = query.where(row.internal == False)  # noqa: E712 - a SQL expression
    if internal is not None:
        query = query.where(row.internal == internal)
    if newest_first:
        return query.order_by(row.created_at.desc(), row.id.desc())
    return query.order_by(row.created_at, row.id)


def events(models: BoundModels, caller: Principal, ticket_id: int):
    """The history of a ticket ``caller`` may see, oldest first (no internal notes' events
    for a requester)."""
    find(models, caller, ticket_id)
    event = models.event
    query = event.select().where(event.ticket == ticket_id)
    if not is_staff(caller):
        query = query.where(event.internal == False)  # noqa: E712
    return query.order_by(event.at, event.id)
