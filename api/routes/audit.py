"""/audit: the log of deletions, for admins; /me: who the caller's key is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ticketbot.api import lifecycle
from ticketbot.api.auth import Caller, require
from ticketbot.api.errors import problem_responses
from ticketbot.api.keys import Principal
from ticketbot.api.routes.common import Limit, Offset, ServiceDep, known_query_only
from ticketbot.api.schemas import AuditOut, AuditPage, Me

router = APIRouter(dependencies=[Depends(known_query_only)])


@router.get(
    "/me",
    response_model=Me,
    summary="The key you are calling with: its name and role",
    tags=["keys"],
    responses=problem_responses(401, 422, 503),
)
async def whoami(caller: Caller) -> Me:
    """Its name (what `created_by`, `assignee` and `by` show) and role."""
    return Me(name=caller.name, role=caller.role)


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="The audit log of deletions, newest first (admins only)",
    tags=["audit"],
    responses=problem_responses(401, 403, 422, 503),
)
def list_audit(
    service: ServiceDep,
    caller: Annotated[Principal, Depends(require("admin"))],
    ticket: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only the entries of this ticket")
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> AuditPage:
    """Which ticket was deleted, by which key, when. A deleted ticket's content is gone; this
    record of the deletion stays."""
    audit = service.models.audit
    query = audit.select().order_by(audit.at.desc(), audit.id.desc())
    if ticket is not None:
        query = query.where(audit.ticket_number == ticket)
    with service.database.connection_context():
        service.ensure_schema()
        total, rows = lifecycle.page(query, limit, offset)
    return AuditPage(
        items=[
            AuditOut(id=r.id, ticket_id=r.ticket_number, action=r.action, by=r.by, at=r.at)
            for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )
