"""/tickets: create, list, read, change and delete tickets; their comments and history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from ticketbot.api import lifecycle, listing, search
from ticketbot.api.auth import Caller, CanCreate, CanDelete
from ticketbot.api.bulk import insert_with_child
from ticketbot.api.classifier import Routing
from ticketbot.api.errors import problem_responses
from ticketbot.api.keys import Principal
from ticketbot.api.models import utc_now
from ticketbot.api.routes.common import (
    Limit,
    Offset,
    ServiceDep,
    TicketId,
    comment_out,
    event_out,
    known_query_only,
    publish,
    ticket_out,
)
from ticketbot.api.schemas import (
    FILTER_PATTERN,
    CommentCreate,
    CommentOut,
    CommentPage,
    EventPage,
    Priority,
    Status,
    TicketCreate,
    TicketOut,
    TicketPage,
    TicketPatch,
)
from ticketbot.api.service import Service

router = APIRouter(prefix="/tickets", tags=["tickets"], dependencies=[Depends(known_query_only)])

ETAG_HEADER = {
    "ETag": {
        "description": "The ticket's current version; send it back in If-Match to change it "
        "only if nobody else has",
        "schema": {"type": "string"},
    }
}
Sort = Literal["created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority"]


def _with_etag(response: Response, row) -> TicketOut:
    response.headers["ETag"] = lifecycle.etag(row)
    return ticket_out(row)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketOut,
    summary="Create a ticket; its department is chosen by the classifier",
    responses={201: {"headers": ETAG_HEADER}, **problem_responses(400, 401, 403, 413, 422, 503)},
)
async def create_ticket(
    body: TicketCreate, request: Request, response: Response, caller: CanCreate
) -> TicketOut:
    """Store a new ticket, routed to a department with the classifier's confidence and top 3.

    The ticket is flagged ``needs_review`` when the confidence is below the review threshold
    (chosen when the model was trained, or ``TICKETBOT_REVIEW_THRESHOLD``) or when the text
    has nothing to route ("bonjour", "test").
    """
    # The service from the request, not as a dependency: on the busiest endpoint, each
    # dependency FastAPI resolves costs about 40 µs a request (measured).
    service: Service = request.app.state.service
    # The classifier holds the GIL whichever thread runs it (about 0.2 ms): running it here,
    # on the event loop, saves a thread hand-over; only the database work goes to the pool.
    text = f"{body.title}\n{body.description}"
    routing = service.metrics.route(lambda: service.classifier.route(text))
    ticket = await run_in_threadpool(_store, service, body, routing, caller)
    service.metrics.ticket_created(routing.department, routing.needs_review)
    response.headers["Location"] = f"/tickets/{ticket.id}"
    out = _with_etag(response, ticket)
    publish(service, "created", ticket.id, caller.name, ticket.created_at, ticket=out)
    return out


def _store(service: Service, body: TicketCreate, routing: Routing, caller: Principal):
    """Insert the routed ticket and its first event (runs in the thread pool).

    Everything is computed before the write lock is taken, and both rows go in with prepared
    statements (:mod:`ticketbot.api.bulk`): the lock is held for the database's own work. On
    SQLite, tickets created meanwhile share the transaction (:meth:`Service.write`).
    """
    database = service.database
    models = service.models
    now = utc_now()
    values = {
        "title": body.title,
        "description": body.description,
        **lifecycle.routing_of(routing),
        "predicted_department": routing.department,
        "status": "open",
        "priority": "normal",
        "search_text": search.document(body.title, body.description),
        "created_by": caller.key_id,
        "created_at": now,
        "updated_at": now,
        "revision": 1,
    }
    event = {
        "kind": "created",
        "data": lifecycle.routing_of(routing),
        "by": caller.name,
        "at": now,
        "internal": False,
    }

    def insert() -> int:
        return insert_with_child(database, models.ticket, values, models.event, "ticket", event)

    with database.connection_context():
        service.ensure_schema()
        number = service.write(insert, one_statement=True)  # on PostgreSQL; see insert_with_child
    ticket = models.ticket(id=number, assignee=None, external_id=None, labelled_by=None, **values)
    ticket.creator = caller.name
    return ticket


def _mine(value: str | None, caller: Principal) -> str | None:
    return caller.name if value == "me" else value


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
    status: Annotated[Status | None, Query(description="Only this status")] = None,
    priority: Annotated[Priority | None, Query(description="Only this priority")] = None,
    assignee: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=FILTER_PATTERN,
            description="Only the tickets assigned to this key name; `me` for the caller's, "
            "`none` for unassigned ones",
        ),
    ] = None,
    created_by: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=FILTER_PATTERN,
            description="Only the tickets created by this key name; `me` for the caller's",
        ),
    ] = None,
    needs_review: Annotated[
        bool | None, Query(description="Only the tickets flagged (true) or not (false)")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=FILTER_PATTERN,
            description="Text searched in titles and descriptions (any case, any accents)",
        ),
    ] = None,
    sort: Annotated[
        Sort,
        Query(
            description="Order: created_at, updated_at or priority (low to urgent); a leading "
            "`-` for descending"
        ),
    ] = "-created_at",
    limit: Limit = 20,
    offset: Offset = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=500,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="The next_cursor of the previous page (keyset pagination: same "
            "filters and sort); faster than offset on deep pages",
        ),
    ] = None,
) -> TicketPage:
    """Tickets matching every filter given, one page at a time (newest first by default).

    A requester sees only the tickets it created. ``q`` finds the tickets where each of its
    words begins a word of the title or description (any case, any accents).
    """
    models = service.models
    ticket = models.ticket
    query = lifecycle.visible(models, caller)
    # The equality filters the list's indexes answer (ticketbot.api.listing).
    equal: dict[str, Any] = {}
    if department:
        canonical = {label.lower(): label for label in service.classifier.labels}
        equal["department"] = canonical.get(department.lower(), department)
    if status:
        equal["status"] = status
    if priority:
        equal["priority"] = priority
    if assignee == "none":
        equal["assignee"] = listing.UNASSIGNED
    elif assignee:
        equal["assignee"] = _mine(assignee, caller)
    if created_by:
        api_key = models.api_key
        keys = api_key.select(api_key.id).where(api_key.name == _mine(created_by, caller))
        query = query.where(ticket.created_by.in_(keys))
    if needs_review is not None:
        query = query.where(ticket.needs_review == needs_review)
    text = q if q and q.strip() else None
    if text and not search.words(text):
        # Only punctuation, accents or other marks: nothing left to look for, which would
        # otherwise match every ticket.
        raise HTTPException(422, "q has no word to search for (letters or digits)")
    if cursor and offset:
        raise HTTPException(422, "send cursor or offset, not both")
    with service.database.connection_context():
        service.ensure_schema()
        try:
            found = listing.page(query, ticket, sort, limit, offset, cursor, equal, text)
        except listing.BadCursor as error:
            raise HTTPException(422, str(error)) from None
    return TicketPage(
        items=[ticket_out(row) for row in found.rows],
        total=found.total,
        total_exact=found.total_exact,
        limit=limit,
        offset=offset,
        next_cursor=found.next_cursor,
    )


@router.get(
    "/{ticket_id}",
    response_model=TicketOut,
    summary="Read a ticket",
    responses={
        200: {"headers": ETAG_HEADER},
        304: {"description": "Not modified: the If-None-Match ETag is still current"},
        **problem_responses(401, 404, 422, 503),
    },
)
def read_ticket(
    ticket_id: TicketId,
    request: Request,
    response: Response,
    service: ServiceDep,
    caller: Caller,
) -> TicketOut | Response:
    """One ticket by number; 404 if there is none (or, for a requester, not its own).

    The ``ETag`` header names this version of the ticket: send it as ``If-Match`` with a
    PATCH, or as ``If-None-Match`` here (304 while it has not changed).
    """
    with service.database.connection_context():
        service.ensure_schema()
        found = lifecycle.find(service.models, caller, ticket_id)
    tag = lifecycle.etag(found)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and (
        if_none_match.strip() == "*"
        or tag in {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    ):
        return Response(status_code=304, headers={"ETag": tag})
    return _with_etag(response, found)


@router.patch(
    "/{ticket_id}",
    response_model=TicketOut,
    summary="Change a ticket's status, priority, assignee or department",
    responses={
        200: {"headers": ETAG_HEADER},
        **problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 503),
    },
)
def update_ticket(
    ticket_id: TicketId,
    body: TicketPatch,
    response: Response,
    service: ServiceDep,
    caller: Caller,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=200,
            description="The ETag of the ticket as you last read it: the change applies only "
            "if it is still current (else 412, nothing changed). Without it, the change "
            "applies to whatever the ticket is now.",
        ),
    ] = None,
) -> TicketOut:
    """A JSON merge patch (RFC 7396): the fields given change, the others stay.

    - Agents and admins may change `status`, `priority`, `assignee` (an agent or admin key's
      name, or null), `department` (one of the model's labels; it clears `needs_review`) and
      `needs_review`.
    - A requester may only close its own ticket, or reopen it once resolved or closed (403
      for anything else; 404 for a ticket that is not its own).
    - Status moves: open -> in_progress or resolved; in_progress -> open or resolved;
      resolved -> open; closed -> open; any -> closed. Any other move is 409, with the
      moves allowed (`allowed`).
    - A value equal to the current one changes nothing. Each change is recorded in the
      ticket's history (`GET /tickets/{id}/events`).
    """
    patch = body.model_dump(include=body.model_fields_set)
    labels = list(service.classifier.labels)
    with service.database.connection_context():
        service.ensure_schema()
        with service.write_lock:
            outcome = lifecycle.update(service.models, caller, ticket_id, patch, if_match, labels)
    out = _with_etag(response, outcome.ticket)
    if outcome.changes:
        publish(
            service,
            "updated",
            ticket_id,
            caller.name,
            outcome.ticket.updated_at,
            ticket=out,
            changes=[change.as_dict() for change in outcome.changes],
        )
    return out


@router.delete(
    "/{ticket_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a ticket",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def delete_ticket(ticket_id: TicketId, service: ServiceDep, caller: CanDelete) -> Response:
    """Delete one ticket with its comments and history; 404 if there is none (or, for a
    requester, not its own). The deletion itself (which ticket, by whom, when) stays in the
    audit log (`GET /audit`, admins only)."""
    with service.database.connection_context():
        service.ensure_schema()
        with service.write_lock:
            at = lifecycle.delete(service.models, caller, ticket_id)
    publish(service, "deleted", ticket_id, caller.name, at)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{ticket_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
    summary="Comment on a ticket",
    tags=["comments"],
    responses=problem_responses(400, 401, 403, 404, 413, 422, 503),
)
def add_comment(
    ticket_id: TicketId, body: CommentCreate, service: ServiceDep, caller: Caller
) -> CommentOut:
    """Add a comment. A requester may comment on its own tickets, never internally (403);
    agents and admins on any ticket, internally (`internal: true`, hidden from requesters)
    or not."""
    with service.database.connection_context():
        service.ensure_schema()
        with service.write_lock:
            outcome = lifecycle.comment(service.models, caller, ticket_id, body.body, body.internal)
    out = comment_out(outcome.comment)
    publish(
        service,
        "commented",
        ticket_id,
        caller.name,
        out.created_at,
        ticket=ticket_out(outcome.ticket),
        comment=out,
    )
    return out


@router.get(
    "/{ticket_id}/comments",
    response_model=CommentPage,
    summary="List a ticket's comments, oldest first",
    tags=["comments"],
    responses=problem_responses(401, 404, 422, 503),
)
def list_comments(
    ticket_id: TicketId,
    service: ServiceDep,
    caller: Caller,
    internal: Annotated[
        bool | None,
        Query(description="Only internal notes (true) or only public comments (false)"),
    ] = None,
    sort: Annotated[
        Literal["created_at", "-created_at"],
        Query(description="created_at (oldest first, the default) or -created_at"),
    ] = "created_at",
    limit: Limit = 20,
    offset: Offset = 0,
) -> CommentPage:
    """The comments of a ticket, paginated like the ticket list. Requesters never see
    internal notes."""
    with service.database.connection_context():
        service.ensure_schema()
        query = lifecycle.comments(
            service.models, caller, ticket_id, internal, newest_first=sort.startswith("-")
        )
        total, rows = lifecycle.page(query, limit, offset)
    return CommentPage(
        items=[comment_out(row) for row in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/{ticket_id}/events",
    response_model=EventPage,
    summary="A ticket's history, oldest first",
    tags=["history"],
    responses=problem_responses(401, 404, 422, 503),
)
def list_events(
    ticket_id: TicketId,
    service: ServiceDep,
    caller: Caller,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventPage:
    """The append-only history of a ticket: `created` (with the routing), each `changed`
    field (`field`, `from`, `to`, `by`, `at`) and each comment added (`commented`).
    Requesters see the history of their own tickets, internal notes excepted."""
    with service.database.connection_context():
        service.ensure_schema()
        query = lifecycle.events(service.models, caller, ticket_id)
        total, rows = lifecycle.page(query, limit, offset)
    return EventPage(
        items=[event_out(row) for row in rows], total=total, limit=limit, offset=offset
    )
