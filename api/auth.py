"""Who may do what: bearer API keys and roles.

- ``requester``: creates tickets; reads, lists and deletes only the tickets it created;
- ``agent``: reads and lists all tickets;
- ``admin``: everything, including deleting any ticket.

A requester asking for someone else's ticket gets 404, so ids of other people's tickets are
not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ticketbot.api.keys import Principal
from ticketbot.api.service import Service

bearer = HTTPBearer(
    auto_error=False,
    description="An API key created with `ticketbot keys create`, sent as "
    "`Authorization: Bearer <key>`.",
)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="ticketbot"'}


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's principal; 401 without a valid key.

    Async: a key verified in the last seconds is answered from memory without a trip through
    the thread pool; only a cache miss queries the database (in the pool). It takes the
    service from the request rather than as a dependency of its own: every dependency costs
    FastAPI's resolver about 40 µs a request, measured.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "Send an API key as 'Authorization: Bearer <key>' (create one with "
            "`ticketbot keys create --name NAME --role ROLE`).",
            headers=UNAUTHORIZED_HEADERS,
        )
    service: Service = request.app.state.service
    principal = service.keys.cached(credentials.credentials)
    if principal is None:
        principal = await run_in_threadpool(_verify, service, credentials.credentials)
    if principal is None:
        raise HTTPException(
            401,
            "This API key is unknown or revoked; ask for a new one.",
            headers=UNAUTHORIZED_HEADERS,
        )
    request.state.key_name = principal.name  # for the access log (never the key)
    return principal


def _verify(service: Service, key: str) -> Principal | None:
    service.ensure_schema()
    return service.keys.verify(key)


def require(*roles: str) -> Callable[..., Principal]:
    """A dependency allowing only ``roles`` (403 for other valid keys)."""

    async def allowed(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        principal = await authenticate(request, credentials)  # one dependency, not two
        if principal.role not in roles:
            raise HTTPException(
                403, f"The {principal.role!r} role may not do this (needs: {', '.join(roles)})."
            )
        return principal

    return allowed


Caller = Annotated[Principal, Depends(authenticate)]
CanCreate = Annotated[Principal, Depends(require("requester", "admin"))]
CanDelete = Annotated[Principal, Depends(require("requester", "admin"))]
