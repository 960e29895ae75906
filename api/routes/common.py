"""What the routes share: path and paging parameters, the unknown-query check, conversions of
rows to response bodies and the publishing of ticket events."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request
from pydantic import BeforeValidator

from ticketbot.api.schemas import CommentOut, EventOut, TicketOut
from ticketbot.api.service import Service, get_service


def _digits_only(value: object) -> object:
    """Ticket numbers in paths are plain digits: "+1", " 1" and "1_0" are not ticket 1 or 10."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("a ticket number is written with digits only, e.g. /tickets/42")
    return value


TicketId = Annotated[
    int,
    Path(ge=1, le=2**63 - 1, description="Ticket number (digits only)"),
    BeforeValidator(_digits_only),
]
ServiceDep = Annotated[Service, Depends(get_service)]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=2**31, description="Items to skip")]


_DECLARED: dict[int, frozenset[str]] = {}


def _declared(route: Any) -> frozenset[str]:
    """The query parameters a route takes, its dependencies' included (computed once)."""
    known = _DECLARED.get(id(route))
    if known is not None:
        return known
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(param.alias for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    _DECLARED[id(route)] = known = frozenset(names)
    return known


async def known_query_only(request: Request) -> None:
    """422 for a query parameter the endpoint does not take: a misspelt filter
    (``?statuss=open``) must not silently answer everything."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    unknown = sorted(set(request.query_params) - _declared(route))
    if unknown:
        known = sorted(_declared(route))
        raise HTTPException(
            422,
            f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; this endpoint takes "
            f"{', '.join(known) if known else 'none'}",
        )


def ticket_out(row: Any) -> TicketOut:
    """The response body of a ticket row (from :func:`ticketbot.api.lifecycle.ticket_query`)."""
    return TicketOut(
        id=row.id,
        title=row.title,
        description=row.description,
        department=row.department,
        predicted_department=row.predicted_department or row.department,
        confidence=row.confidence,
        ranking=row.ranking,
        needs_review=row.needs_review,
        model_version=row.model_version,
        status=row.status,
        priority=row.priority,
        assignee=row.assignee,
        created_by=getattr(row, "creator", None),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def comment_out(row: Any) -> CommentOut:
    return CommentOut(
        id=row.id,
        ticket_id=row.ticket_id,
        body=row.body,
        internal=row.internal,
        author=row.author,
        created_at=row.created_at,
    )


def event_out(row: Any) -> EventOut:
    data = row.data or {}
    common = {"id": row.id, "ticket_id": row.ticket_id, "kind": row.kind, "by": row.by}
    common.update(at=row.at, internal=row.internal)
    if row.kind == "created":
        return EventOut(**common, routing=data)
    if row.kind == "changed":
        return EventOut(**common, field=data["field"], **{"from": data["from"]}, to=data["to"])
    return EventOut(**common, comment_id=data.get("comment_id"))


def publish(
    service: Service,
    kind: str,
    ticket_id: int,
    by: str,
    at: datetime,
    *,
    ticket: TicketOut | None = None,
    changes: list[dict[str, Any]] | None = None,
    comment: CommentOut | None = None,
) -> None:
    """Hand a committed event to the ``ticket_event`` listeners (nothing to do without)."""
    if not service.notifier.active:
        return
    service.notifier.publish(
        {
            # Random, but not os.urandom's (it hands the GIL over: ticketbot.api.observability).
            "id": str(uuid.UUID(int=random.getrandbits(128), version=4)),
            "type": kind,
            "ticket_id": ticket_id,
            "ticket": ticket.model_dump(mode="json") if ticket else None,
            "changes": changes or [],
            "comment": comment.model_dump(mode="json") if comment else None,
            "by": by,
            "at": at.isoformat(),
        }
    )
