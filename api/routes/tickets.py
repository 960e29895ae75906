"""/tickets: create, list, read and delete tickets."""

from __future__ import annotations

from typing import Annotated

import peewee
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from ticketbot.api.auth import Caller, CanCreate, CanDelete
from ticketbot.api.classifier import Routing
from ticketbot.api.errors import problem_responses
from ticketbot.api.keys import Principal
from ticketbot.api.models import search_key
from ticketbot.api.schemas import FILTER_PATTERN, TicketCreate, TicketOut, TicketPage
from ticketbot.api.service import Service, get_service

router = APIRouter(prefix="/tickets", tags=["tickets"])


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


def _not_found(ticket_id: int) -> HTTPException:
    return HTTPException(404, f"No ticket {ticket_id}. List tickets with GET /tickets.")


def _visible(service: Service, caller: Principal) -> peewee.ModelSelect:
    """The tickets ``caller`` may see: its own for a requester, all for agents and admins."""
    ticket = service.models.ticket
    query = ticket.select()
    if caller.role == "requester":
        query = query.where(ticket.created_by == caller.key_id)
    return query


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketOut,
    summary="Create a ticket; its department is chosen by the classifier",
    responses=problem_responses(400, 401, 403, 413, 422, 503),
)
async def create_ticket(
    body: TicketCreate, response: Response, service: ServiceDep, caller: CanCreate
) -> TicketOut:
    """Store a new ticket, routed to a department with the classifier's confidence and top 3.

    The ticket is flagged ``needs_review`` when the confidence is below the review threshold
    (chosen when the model was trained, or ``TICKETBOT_REVIEW_THRESHOLD``) or when the text
    has nothing to route ("bonjour", "test").
    """
    # The classifier holds the GIL whichever thread runs it (about 0.2 ms): running it here,
    # on the event loop, saves a thread hand-over; only the database work goes to the pool.
    text = f"{body.title}\n{body.description}"
    routing = service.metrics.route(lambda: service.classifier.route(text))
    ticket = await run_in_threadpool(_store, service, body, routing, caller)
    service.metrics.ticket_created(routing.department, routing.needs_review)
    response.headers["Location"] = f"/tickets/{ticket.id}"
    return TicketOut.model_validate(ticket)


def _store(service: Service, body: TicketCreate, routing: Routing, caller: Principal):
    """Insert the routed ticket (runs in the thread pool)."""
    database = service.database
    with database.connection_context():
        service.ensure_schema()
        with service.write_lock, database.atomic():
            ticket = service.models.ticket.create(
                title=body.title,
                description=body.description,
                department=routing.department,
                confidence=routing.confidence,
                ranking=routing.ranking,
                needs_review=routing.needs_review,
                model_version=service.classifier.version,
                status="open",
                search_text=search_key(f"{body.title}\n{body.description}"),
                created_by=caller.key_id,
            )
    return ticket


@router.get(
    "",
    response_model=TicketPage,
    summary="List tickets, newest first",
    responses=problem_responses(401, 422, 503),
)
def list_tickets(
    service: ServiceDep,
    caller: Caller,
    department: Annotated[
        str | None,
        Query(
            max_length=100, pattern=FILTER_PATTERN, description="Only this department (any case)"
        ),
    ] = None,
    status: Annotated[
        str | None, Query(max_length=20, pattern=FILTER_PATTERN, description="Only this status")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=FILTER_PATTERN,
            description="Text searched in titles and descriptions (any case, any accents)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31, description="Tickets to skip")] = 0,
) -> TicketPage:
    """Tickets matching every filter given, newest first, one page at a time.

    A requester sees only the tickets it created.
    """
    ticket = service.models.ticket
    query = _visible(service, caller)
    if department:
        canonical = {label.lower(): label for label in service.classifier.labels}
        query = query.where(ticket.department == canonical.get(department.lower(), department))
    if status:
        query = query.where(ticket.status == status)
    if q and q.strip():
        key = search_key(q.strip())
        if not key.strip():
            # Only accents or other combining marks: nothing left to look for, which would
            # otherwise match every ticket.
            raise HTTPException(422, "q has nothing to search for once accents are set aside")
        query = query.where(ticket.search_text.contains(key))
    with service.database.connection_context():
        service.ensure_schema()
        total = query.count()
        rows = list(
            query.order_by(ticket.created_at.desc(), ticket.id.desc()).limit(limit).offset(offset)
        )
    return TicketPage(
        items=[TicketOut.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{ticket_id}",
    response_model=TicketOut,
    summary="Read a ticket",
    responses=problem_responses(401, 404, 422, 503),
)
def read_ticket(ticket_id: TicketId, service: ServiceDep, caller: Caller) -> TicketOut:
    """One ticket by number; 404 if there is none (or, for a requester, not its own)."""
    ticket = service.models.ticket
    with service.database.connection_context():
        service.ensure_schema()
        found = _visible(service, caller).where(ticket.id == ticket_id).first()
    if found is None:
        raise _not_found(ticket_id)
    return TicketOut.model_validate(found)


@router.delete(
    "/{ticket_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a ticket",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def delete_ticket(ticket_id: TicketId, service: ServiceDep, caller: CanDelete) -> Response:
    """Delete one ticket; 404 if there is none (or, for a requester, not its own)."""
    ticket = service.models.ticket
    condition = ticket.id == ticket_id
    if caller.role == "requester":
        condition &= ticket.created_by == caller.key_id
    with service.database.connection_context():
        service.ensure_schema()
        with service.write_lock:
            deleted = ticket.delete().where(condition).execute()
    if not deleted:
        raise _not_found(ticket_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
